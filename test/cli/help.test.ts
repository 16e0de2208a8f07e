// Every command's --help exits 0 and shows at least one example (CLI.md: "--help on every
// command, with at least one example"). Commands are read from src/commands, so a new one is
// covered without editing this file.
import assert from 'node:assert/strict'
import {type CliResult, inParallel, runLakeAsync, useSandbox} from '../helpers/cli.js'
import {commandIdsFromSource} from '../helpers/commands.js'

const IDS = commandIdsFromSource()

describe('cli --help', function () {
  this.timeout(300_000)
  const box = useSandbox('lake-cli-help-')
  const results = new Map<string, CliResult>()

  before(async () => {
    // outside any dataset: help must not need one
    const runs = await inParallel([['--help'], ...IDS.map((id) => [...id.split(':'), '--help'])].map((args) => () => runLakeAsync(args, {cwd: box().dir})))
    results.set('', runs[0])
    IDS.forEach((id, i) => results.set(id, runs[i + 1]))
  })

  for (const id of IDS) {
    const command = `lake ${id.replace(/:/g, ' ')}`
    it(`${command} --help exits 0 and shows an example`, () => {
      const r = results.get(id)!
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stderr, '')
      const examples = r.stdout.split(/^EXAMPLES$/m)[1]
      assert.ok(examples, `no EXAMPLES section:\n${r.stdout}`)
      assert.match(examples, new RegExp(`^\\s+\\$ ${command}\\b`, 'm'), `no example of '${command}':\n${examples}`)
      assert.match(r.stdout, /^USAGE$/m)
    })
  }

  it('lake --help lists every command', () => {
    const r = results.get('')!
    assert.equal(r.code, 0, r.stderr)
    for (const id of IDS) assert.match(r.stdout, new RegExp(`^\\s+${id.split(':')[0]}\\s`, 'm'), `'${id}' is not listed`)
  })
})
