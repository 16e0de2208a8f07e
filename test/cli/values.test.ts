// Values typed at the terminal (--value is JSON) must arrive exactly or be refused: never silently
// changed. i64/u64 are where JSON numbers and the dtype part ways (beyond 2^53).
import assert from 'node:assert/strict'
import {okJson, useSandbox, type CliResult} from '../helpers/cli.js'

const BIG = '9007199254740993' // 2^53 + 1: a JSON number parses to 2^53

describe('cli values: 64-bit integers typed with --value', function () {
  this.timeout(60_000)
  const box = useSandbox('lake-cli-values-')
  let asNumber: CliResult
  let asString: CliResult
  let shown: CliResult

  before(async () => {
    box().ok('init')
    box().ok('tensor', 'create', 'big', '--htype', 'generic', '--dtype', 'i64')
    box().ok('append', '-t', 'big', '--value', '1')
    box().ok('commit', '-m', 'one')
    ;[asNumber, asString, shown] = [
      box().run(['append', '-t', 'big', '--value', BIG, '--json']),
      box().run(['append', '-t', 'big', '--value', `"${BIG}"`, '--json']),
      box().run(['show', 'HEAD:big[0]', '--json']),
    ]
    box().run(['commit', '-m', 'two'])
  })

  it('show --json prints an i64 within 2^53 as a number', () => {
    assert.deepEqual(okJson(shown), {tensor: 'big', index: 0, value: 1})
  })

  // `lake append -t big --value 9007199254740993` exits 0 and stores 9007199254740992:
  // JSON.parse rounds the number before the i64 encoder sees it.
  it('BUG: an i64 beyond 2^53 typed as a JSON number is stored exactly or refused, never rounded', async () => {
    if (asNumber.code !== 0) return // refused: fine
    const stored = box().json('show', 'HEAD:big[0:]').values
    assert.ok(stored.includes(BIG), `stored ${JSON.stringify(stored)} for --value ${BIG}`)
  })

  // show --json prints an i64 beyond 2^53 as a decimal string; append refuses that string back
  // ("expected an integer (dtype i64), got \"9007199254740993\""), so no exact way in remains.
  it('BUG: the decimal string show --json prints for a large i64 is accepted by append', () => {
    assert.equal(asString.code, 0, asString.stderr)
  })
})
