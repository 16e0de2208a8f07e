// Family 3 through the real CLI (fewer cases: each call costs a Node start-up): hostile
// revisions, tensor names, flag values, config values and input files on a dataset with
// history. Every call runs with --json, so a crash cannot hide behind an `error:` line: a
// failure must exit 1 or 2 with an `error:` line, a lake error code (never INTERNAL) and no
// stack trace, and leave the dataset exactly as it was.
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {describeRun, Sandbox} from '../../helpers/cli.js'
import {csv, jsonl} from '../../helpers/fixtures.js'
import {datasetState, type DatasetState} from '../../helpers/state.js'
import {FULL, runs, seed} from '../knobs.js'
import {Tally} from './check.js'
import {csvFile, jsonlFile, npyFile} from './inputs.js'

const SEED = seed()
const tally = new Tally()

const hostileText = fc.oneof(
  fc.constantFrom('', ' ', '-', '--', '-x', '--json', '..', '../x', '/etc/passwd', 'C:\\x', 'a\u0000b', '\u202e', 'é', '💥', 'x'.repeat(300), 'constructor', '__proto__',
    'HEAD', 'main', 'v1', 'HEAD~1', 'HEAD~99', 'HEAD^2', '@{0}', '@{99}', 'main@{2000-01-01}', 'main@{nope}', 'HEAD:id[0]', 'HEAD:id[0:99]', 'HEAD:nope[0]', ':id[0]', 'HEAD:id[-1]', 'HEAD:id[x]'),
  fc.string({maxLength: 12}),
  fc.stringMatching(/^[0-9a-f]{4,10}$/),
)
const jsonText = fc.oneof(fc.jsonValue({maxDepth: 2}).map((v) => JSON.stringify(v)), fc.constantFrom('1', '"cat"', '[1,2,3]', '9007199254740993', '"\\ud800"', 'nan', '{', '1e400'), fc.string({maxLength: 8}))
const number = fc.oneof(fc.constantFrom('0', '1', '-1', '99999999999999999999', '1.5', 'x', '', '0x10', '1e3'), fc.nat({max: 20}).map(String))

/** One hostile command line (files are written by the case itself). */
const command: fc.Arbitrary<string[] | {file: Uint8Array; ext: string; format: string}> = fc.oneof(
  fc.tuple(fc.constantFrom('show', 'log', 'checkout', 'merge', 'diff'), hostileText).map(([c, r]) => [c, r]),
  fc.tuple(hostileText, hostileText).map(([a, b]) => ['diff', a, b]),
  fc.tuple(hostileText, fc.constantFrom('generic', 'text', 'class_label', 'nope', ''), hostileText).map(([n, h, d]) => ['tensor', 'create', n, '--htype', h, '--dtype', d]),
  fc.tuple(hostileText, hostileText).map(([n, c]) => ['tensor', 'create', n, '--htype', 'class_label', '--class-names', c]),
  fc.tuple(fc.constantFrom('id', 'name', 'label', 'nope'), jsonText).map(([t, v]) => ['append', '-t', t, '--value', v]),
  fc.tuple(fc.constantFrom('id', 'name', 'label'), number, jsonText).map(([t, i, v]) => ['update', '-t', t, '--index', i, '--value', v]),
  number.map((i) => ['delete', '--index', i]),
  fc.tuple(number, number).map(([a, b]) => ['delete', '--index', `${a}:${b}`]),
  fc.tuple(fc.constantFrom('branch', 'tag'), hostileText).map(([c, n]) => [c, n]),
  fc.tuple(fc.constantFrom('branch', 'tag'), fc.constantFrom('-d', '--delete'), hostileText).map(([c, d, n]) => [c, d, n]),
  number.map((n) => ['log', '-n', n]),
  fc.tuple(fc.constantFrom('chunk.size', 'cache.size', 'user.name', 'nope', ''), hostileText).map(([k, v]) => ['config', k, v]),
  fc.tuple(hostileText, fc.constantFrom('jsonl', 'csv', 'npy', 'files', 'x')).map(([r, f]) => ['export', r, '--to', 'out', '--format', f]),
  fc.tuple(hostileText, hostileText).map(([a, b]) => ['remote', 'add', a, b]),
  fc.tuple(fc.constantFrom('add', 'status', 'commit', 'gc', 'fsck'), fc.constantFrom('--bogus', '-m', '--format', '--grace')).map(([c, f]) => [c, f]),
  fc.record({file: csvFile, ext: fc.constant('.csv'), format: fc.constant('csv')}),
  fc.record({file: jsonlFile, ext: fc.constant('.jsonl'), format: fc.constant('jsonl')}),
  fc.record({file: npyFile, ext: fc.constant('.npy'), format: fc.constant('npy')}),
)

describe('torture 3: hostile CLI calls', function () {
  this.timeout(FULL ? 0 : 60_000)
  let box: Sandbox
  let known: DatasetState

  before(async () => {
    box = new Sandbox('lake-hostile-cli-')
    box.ok('init')
    box.write('a.csv', csv(['id', 'name', 'label'], [[1, 'one', 'cat'], [2, 'two', 'dog']]))
    box.write('b.jsonl', jsonl([{id: 3, name: 'three', label: 'cat'}]))
    box.ok('add', 'a.csv')
    box.ok('commit', '-m', 'first')
    box.ok('tag', 'v1')
    box.ok('add', 'b.jsonl')
    box.ok('commit', '-m', 'second')
    known = await datasetState(box.dir)
  })
  after(() => {
    box.remove()
    console.log(tally.report('hostile CLI', SEED))
  })

  it('every call exits 0, or 1/2 with an error line and a lake error code; a refusal changes nothing', async () => {
    let n = 0
    await fc.assert(fc.asyncProperty(command, async (cmd) => {
      let args: string[]
      // No process can receive a NUL byte in its arguments: the OS cuts there; drop them.
      if (Array.isArray(cmd)) args = cmd.map((a) => a.replace(/\0/g, ''))
      else {
        const name = `in-${n++}${cmd.ext}`
        box.write(name, cmd.file)
        args = ['add', name, '--format', cmd.format]
      }
      const r = box.run([...args, '--json'])
      assert.ok([0, 1, 2].includes(r.code), describeRun(r))
      assert.doesNotMatch(r.stderr, /^\s+at \S+ \(|TypeError|RangeError|ReferenceError|Unhandled|node:internal/m, describeRun(r))
      tally.count(`lake ${args[0]}`, r.code !== 0)
      if (r.code !== 0) {
        assert.ok(r.error !== undefined && r.error.trim() !== '', `no error line: ${describeRun(r)}`)
        // After a '--' the trailing --json is an argument, not the flag: no JSON to check then.
        if (!args.includes('--')) {
          const doc = r.json<{error?: {code?: string}}>()
          assert.ok(doc.error?.code && doc.error.code !== 'INTERNAL', `error code ${doc.error?.code}: ${describeRun(r)}`)
        }
        assert.deepEqual(await datasetState(box.dir), known, `refused call changed the dataset: ${describeRun(r)}`)
      } else {
        known = await datasetState(box.dir)
      }
      box.rm('out')
    }), {seed: SEED, numRuns: runs('HOSTILE_CLI', 6, 400), endOnFailure: true})
  })
})
