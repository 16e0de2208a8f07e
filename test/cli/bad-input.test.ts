// Bad input through the real CLI. Every case checks: the exit code (1 refused, 2 usage), an
// `error:` line on stderr naming the thing (file and line, tensor, index, revision...), a `hint:`
// line where one helps, `{"error": {"code", "message"}}` with the stable code on stdout under
// --json, and that the dataset is exactly as before: what `status --json` and `log --all --json`
// print, the event log's tip, refs and settings.
//
// Speed: the dataset is prepared once; each case runs on its own copy, a few cases at a time,
// and the state is read in-process (checked once to print the same bytes as the CLI).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {assertErrorJson, assertRefused, type CliResult, inParallel, runLakeAsync, useSandbox, type Sandbox} from '../helpers/cli.js'
import {csv, jsonl, npy, npyRaw} from '../helpers/fixtures.js'
import {datasetState, type DatasetState} from '../helpers/state.js'
import {editInPlace, storedObjects} from '../helpers/object-files.js'

interface Case {
  name: string
  args: string[]
  exit: 1 | 2
  code: string
  /** Text the error line must contain. */
  names: string[]
  /** A hint line is required (containing this text, if a string). */
  hint?: boolean | string
  /** Extra checks in the case's directory. */
  also?: (dir: string) => void
}

const notCreated = (rel: string) => (dir: string) => assert.ok(!fs.existsSync(path.join(dir, rel)), `${rel} was created by a refused command`)

const CASES: Case[] = [
  // CSV
  {name: 'csv: unterminated quote names file and line', args: ['add', 'quote.csv'], exit: 1, code: 'BAD_INPUT_FILE', names: ['quote.csv', 'line 2'], hint: true},
  {name: 'csv: ragged row names file and line', args: ['add', 'ragged.csv'], exit: 1, code: 'BAD_INPUT_FILE', names: ['ragged.csv', 'line 3'], hint: true},
  {name: 'csv: a cell of the wrong type for an existing tensor names file, line and tensor', args: ['add', 'badtype.csv'], exit: 1, code: 'INVALID_VALUE', names: ['badtype.csv', 'line 3', "'id'"]},
  {name: 'csv: a good file then a bad one stages nothing of the good one', args: ['add', 'more.csv', 'ragged.csv'], exit: 1, code: 'BAD_INPUT_FILE', names: ['ragged.csv', 'line 3'], hint: true},
  {name: 'csv: --key names a column the file lacks', args: ['add', 'more.csv', '--key', 'nope'], exit: 1, code: 'BAD_INPUT_FILE', names: ['more.csv', "'nope'"], hint: 'columns'},
  {name: '--key with only a files input is a usage error', args: ['add', 'tree', '--format', 'files', '--key', 'id'], exit: 2, code: 'USAGE', names: ['--key', 'csv'], hint: 'matched by path'},
  {name: '--key with an npy input beside a csv is a usage error', args: ['add', 'more.csv', 'emb.npy', '--key', 'id'], exit: 2, code: 'USAGE', names: ['--key'], hint: 'npy'},
  // JSONL
  {name: 'jsonl: malformed line names file and line', args: ['add', 'bad.jsonl'], exit: 1, code: 'BAD_INPUT_FILE', names: ['bad.jsonl', 'line 2'], hint: true},
  {name: 'jsonl: a line that is not an object names file and line', args: ['add', 'notobject.jsonl'], exit: 1, code: 'BAD_INPUT_FILE', names: ['notobject.jsonl', 'line 2'], hint: true},
  {name: 'jsonl: a value of the wrong type names file, line and tensor', args: ['add', 'badtype.jsonl'], exit: 1, code: 'INVALID_VALUE', names: ['badtype.jsonl', 'line 2', "'id'"]},
  // NPY
  {name: 'npy: malformed header', args: ['add', 'badheader.npy'], exit: 1, code: 'BAD_INPUT_FILE', names: ['badheader.npy', 'header'], hint: true},
  {name: "npy: unsupported dtype '<U8'", args: ['add', 'unicode.npy'], exit: 1, code: 'BAD_INPUT_FILE', names: ['unicode.npy', '<U8'], hint: true},
  {name: 'npy: object arrays are refused', args: ['add', 'object.npy'], exit: 1, code: 'BAD_INPUT_FILE', names: ['object.npy', '|O'], hint: true},
  {name: 'npy: truncated data', args: ['add', 'truncated.npy'], exit: 1, code: 'BAD_INPUT_FILE', names: ['truncated.npy', 'truncated'], hint: true},
  // values typed at the terminal
  {name: 'value: a string into an i32 tensor', args: ['append', '-t', 'id', '--value', '"x"'], exit: 1, code: 'INVALID_VALUE', names: ["'id'", 'i32']},
  {name: 'value: a fraction into an i32 tensor (update)', args: ['update', '-t', 'id', '--index', '0', '--value', '1.5'], exit: 1, code: 'INVALID_VALUE', names: ["'id'", 'i32']},
  {name: 'value: a 3-d array into a tensor of rank 1', args: ['append', '-t', 'emb', '--value', '[[[1]]]'], exit: 1, code: 'INVALID_VALUE', names: ["'emb'", 'rank is 1']},
  {name: 'value: a class name the tensor does not know', args: ['append', '-t', 'labels', '--value', '"bird"'], exit: 1, code: 'INVALID_VALUE', names: ["'labels'", 'bird'], hint: 'cat'},
  {name: 'value: not JSON is a usage error', args: ['append', '-t', 'id', '--value', 'notjson'], exit: 2, code: 'USAGE', names: ['--value', 'JSON'], hint: true},
  // unknown tensor
  {name: 'unknown tensor: append', args: ['append', '-t', 'nope', '--value', '1'], exit: 1, code: 'UNKNOWN_TENSOR', names: ["'nope'"], hint: 'id'},
  {name: 'unknown tensor: show', args: ['show', 'HEAD:nope[0]'], exit: 1, code: 'UNKNOWN_TENSOR', names: ["'nope'"], hint: true},
  {name: 'unknown tensor: export --tensor (no directory made)', args: ['export', '--to', 'out-nope', '--format', 'npy', '--tensor', 'nope'], exit: 1, code: 'UNKNOWN_TENSOR', names: ["'nope'"], also: notCreated('out-nope')},
  // index out of range
  {name: 'index out of range: update', args: ['update', '-t', 'id', '--index', '9', '--value', '1'], exit: 1, code: 'INDEX_OUT_OF_RANGE', names: ['9', "'id'"], hint: true},
  {name: 'index out of range: delete', args: ['delete', '--index', '9'], exit: 1, code: 'INDEX_OUT_OF_RANGE', names: ['9'], hint: true},
  {name: 'index out of range: delete I:J', args: ['delete', '--index', '1:9'], exit: 1, code: 'INDEX_OUT_OF_RANGE', names: ['1:9'], hint: true},
  {name: 'index out of range: show', args: ['show', 'HEAD:id[9]'], exit: 1, code: 'INDEX_OUT_OF_RANGE', names: ['9', "'id'"], hint: true},
  {name: 'index out of range: show I:J', args: ['show', 'HEAD:id[0:9]'], exit: 1, code: 'INDEX_OUT_OF_RANGE', names: ['0:9', "'id'"], hint: true},
  {name: 'index out of range: show names a negative index as typed', args: ['show', 'HEAD:id[-5]'], exit: 1, code: 'INDEX_OUT_OF_RANGE', names: ['-5', "'id'"], hint: true},
  {name: 'index: delete --index that is not I or I:J is a usage error', args: ['delete', '--index', 'x'], exit: 2, code: 'USAGE', names: ["'x'"], hint: true},
  // revisions
  {name: 'unknown revision: show', args: ['show', 'nosuch'], exit: 1, code: 'UNKNOWN_REVISION', names: ["'nosuch'"], hint: true},
  {name: 'unknown revision: a hex prefix no commit has', args: ['show', 'abcdef0123'], exit: 1, code: 'UNKNOWN_REVISION', names: ["'abcdef0123'"], hint: true},
  {name: 'unknown revision: log REV~N', args: ['log', 'nosuch~1'], exit: 1, code: 'UNKNOWN_REVISION', names: ["'nosuch~1'"], hint: true},
  {name: 'unknown revision: HEAD~N past the root', args: ['show', 'HEAD~5'], exit: 1, code: 'UNKNOWN_REVISION', names: ["'HEAD~5'"], hint: true},
  {name: 'unknown revision: checkout', args: ['checkout', 'nosuch'], exit: 1, code: 'UNKNOWN_REVISION', names: ["'nosuch'"], hint: true},
  {name: 'unknown revision: export (no directory made)', args: ['export', 'nosuch', '--to', 'out-rev'], exit: 1, code: 'UNKNOWN_REVISION', names: ["'nosuch'"], hint: true, also: notCreated('out-rev')},
  {name: 'unknown revision: branch NAME START', args: ['branch', 'b', 'nosuch'], exit: 1, code: 'UNKNOWN_REVISION', names: ["'nosuch'"], hint: true},
  {name: 'bad revision: @{time} that is not ISO-8601', args: ['show', 'HEAD@{not-a-time}'], exit: 1, code: 'BAD_REVISION', names: ['not-a-time'], hint: true},
  // the dataset itself
  {name: 'init where a dataset exists', args: ['init'], exit: 1, code: 'DATASET_EXISTS', names: ['already exists'], hint: true},
  {name: 'init --storage with an unknown scheme (nothing made)', args: ['init', 'fresh', '--storage', 'bogus://x'], exit: 2, code: 'USAGE', names: ['bogus://x'], hint: 'file:///', also: notCreated('fresh/.lake')},
  {name: 'init --storage with a relative file URL (nothing made)', args: ['init', 'fresh', '--storage', 'file://relative/objects'], exit: 1, code: 'STORAGE_ERROR', names: ['file://relative/objects'], hint: 'file:///', also: notCreated('fresh/.lake')},
  // files mode: paths
  {name: 'files: --prefix ../x escapes', args: ['add', 'tree', '--format', 'files', '--prefix', '../x'], exit: 1, code: 'UNSAFE_PATH', names: ['../x'], hint: true},
  {name: 'files: a symlink pointing outside the added directory', args: ['add', 'tree-link', '--format', 'files'], exit: 1, code: 'UNSAFE_PATH', names: ['link', 'outside'], hint: true},
  {name: 'missing file', args: ['add', 'missing.csv'], exit: 1, code: 'FILE_NOT_FOUND', names: ['missing.csv']},
  {name: 'missing file after a good one stages nothing', args: ['add', 'more.csv', 'missing.csv'], exit: 1, code: 'FILE_NOT_FOUND', names: ['missing.csv']},
  {name: 'a file whose format cannot be told', args: ['add', 'notes.txt'], exit: 1, code: 'BAD_INPUT_FILE', names: ['notes.txt'], hint: '--format'},
  // usage errors
  {name: 'usage: unknown flag', args: ['status', '--bogus'], exit: 2, code: 'USAGE', names: ['--bogus'], hint: 'lake status --help'},
  {name: 'usage: missing required flag (commit -m)', args: ['commit'], exit: 2, code: 'USAGE', names: ['message'], hint: 'lake commit --help'},
  {name: 'usage: missing required flag (update --index)', args: ['update', '-t', 'id', '--value', '1'], exit: 2, code: 'USAGE', names: ['index'], hint: true},
  {name: 'usage: neither --value nor --file', args: ['append', '-t', 'id'], exit: 2, code: 'USAGE', names: ['--value'], hint: true},
  {name: 'usage: missing argument (tensor create NAME)', args: ['tensor', 'create', '--htype', 'text'], exit: 2, code: 'USAGE', names: ['name'], hint: 'lake tensor create --help'},
  {name: 'usage: a value not among the options', args: ['tensor', 'create', 'x', '--htype', 'nope'], exit: 2, code: 'USAGE', names: ['--htype', 'nope'], hint: true},
]

// Writes on a detached HEAD (the dataset's copy is checked out at its commit first).
const DETACHED: Case[] = [
  {name: 'detached HEAD: append', args: ['append', '-t', 'id', '--value', '3'], exit: 1, code: 'DETACHED_HEAD', names: ['detached'], hint: '-b'},
  {name: 'detached HEAD: delete', args: ['delete', '--index', '0'], exit: 1, code: 'DETACHED_HEAD', names: ['detached'], hint: '-b'},
  {name: 'detached HEAD: add', args: ['add', 'more.csv'], exit: 1, code: 'DETACHED_HEAD', names: ['detached'], hint: '-b'},
  {name: 'detached HEAD: commit --allow-empty', args: ['commit', '-m', 'x', '--allow-empty'], exit: 1, code: 'DETACHED_HEAD', names: ['detached'], hint: '-b'},
]

async function writeInputs(base: Sandbox): Promise<void> {
  base.write('people.csv', csv(['id', 'name'], [[1, 'ann'], [2, 'bob']]))
  base.write('more.csv', csv(['id', 'name'], [[3, 'cy'], [4, 'dee'], [5, 'ed']]))
  base.write('emb.npy', npy('<f4', [2, 2], [0, 1, 2, 3]))
  base.write('quote.csv', 'id,name\n3,"cy\n4,dee\n')
  base.write('ragged.csv', 'id,name\n3,cy\n4\n5,ed\n')
  base.write('badtype.csv', 'id,name\n3,cy\nabc,zed\n')
  base.write('bad.jsonl', '{"id": 3, "name": "cy"}\n{"id": 4,\n{"id": 5, "name": "ed"}\n')
  base.write('notobject.jsonl', '{"id": 3, "name": "cy"}\n42\n')
  base.write('badtype.jsonl', jsonl([{id: 3, name: 'cy'}, {id: 'x', name: 'zed'}]))
  base.write('badheader.npy', npyRaw("{'descr': '<f4', 'fortran_order': False, 'shape': (2,", new Uint8Array(8)))
  base.write('unicode.npy', npyRaw("{'descr': '<U8', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(64)))
  base.write('object.npy', npyRaw("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(16)))
  base.write('truncated.npy', npyRaw("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", new Uint8Array(8)))
  base.write('notes.txt', 'hello\n')
  base.write('tree/ok.txt', 'ok\n')
  base.write('outside.txt', 'secret\n')
  base.write('tree-link/ok.txt', 'ok\n')
  fs.symlinkSync('../outside.txt', base.path('tree-link/link'))
}

interface Outcome {
  result: CliResult
  after: DatasetState
  dir: string
}

/** Runs every case on its own copy of `base`, a few at a time; then reads each copy's state. */
async function runCases(box: Sandbox, base: string, cases: Case[], group: string): Promise<Map<string, Outcome>> {
  const outcomes = await inParallel(cases.map((c, i) => async (): Promise<Outcome> => {
    const dir = box.path(`${group}-${i}`)
    fs.cpSync(base, dir, {recursive: true, verbatimSymlinks: true})
    const result = await runLakeAsync([...c.args, '--json'], {cwd: dir})
    return {result, after: await datasetState(dir), dir}
  }))
  return new Map(cases.map((c, i) => [c.name, outcomes[i]]))
}

function checkCase(c: Case, outcome: Outcome | undefined, before: DatasetState | undefined): void {
  assert.ok(outcome && before, 'the case did not run (see the before hook)')
  const r = outcome.result
  assertRefused(r, c.exit, c.names, {hint: c.hint})
  assertErrorJson(r, c.code)
  assert.equal(outcome.after.status, before.status, 'status --json changed')
  assert.equal(outcome.after.log, before.log, 'log --json changed')
  assert.equal(outcome.after.rest, before.rest, 'refs, the event log or settings changed')
  c.also?.(outcome.dir)
}

describe('cli bad input: refused, named, hinted, nothing changed', function () {
  this.timeout(300_000)
  const box = useSandbox('lake-cli-bad-')
  let base: Sandbox
  let detachedBase: Sandbox
  let baseState: DatasetState | undefined
  let detachedState: DatasetState | undefined
  let outcomes = new Map<string, Outcome>()
  let cliBytes: {status: string; log: string; detachedStatus: string} | undefined

  // the dataset: tensors id (i32), name (text), labels (class_label cat, dog) and emb (f32, rank 1
  // from emb.npy); one commit; then a copy with HEAD detached at it
  before(async () => {
    base = box().sub('base')
    await writeInputs(base)
    base.ok('init')
    base.ok('add', 'people.csv', 'emb.npy')
    base.ok('tensor', 'create', 'labels', '--htype', 'class_label', '--class-names', 'cat,dog')
    base.ok('commit', '-m', 'base')
    fs.cpSync(base.dir, box().path('detached'), {recursive: true, verbatimSymlinks: true})
    detachedBase = box().sub('detached')
    assert.equal(detachedBase.json('checkout', 'HEAD').detached, true)
    const [status, log, detachedStatus] = await Promise.all([
      base.lakeAsync(['status', '--json']),
      base.lakeAsync(['log', '--all', '--json']),
      detachedBase.lakeAsync(['status', '--json']),
    ])
    cliBytes = {status: status.stdout, log: log.stdout, detachedStatus: detachedStatus.stdout}
    baseState = await datasetState(base.dir)
    detachedState = await datasetState(detachedBase.dir)
    outcomes = await runCases(box(), base.dir, CASES, 'case')
    for (const [name, outcome] of await runCases(box(), detachedBase.dir, DETACHED, 'detached-case')) outcomes.set(name, outcome)
  })

  it('the in-process state reads print the same bytes as `status --json` and `log --all --json`', () => {
    assert.ok(cliBytes && baseState && detachedState)
    assert.equal(cliBytes.status, baseState.status + '\n')
    assert.equal(cliBytes.log, baseState.log + '\n')
    assert.equal(cliBytes.detachedStatus, detachedState.status + '\n')
  })

  it('fsck of a corrupt object: exit 1, the report (and only it) on stdout, the object named', async () => {
    const dir = box().path('corrupt')
    fs.cpSync(base.dir, dir, {recursive: true, verbatimSymlinks: true})
    const head = JSON.parse(cliBytes!.status).head as string
    // its last byte flipped where it lies (a commit: inside a pack, whose index and other objects stay intact)
    const commit = storedObjects(dir).get(head)
    assert.ok(commit, `HEAD's commit ${head} is stored`)
    editInPlace(commit, (bytes) => void (bytes[bytes.length - 1] ^= 0xff))
    const r = await runLakeAsync(['fsck', '--json'], {cwd: dir})
    assertRefused(r, 1, ['fsck found 1 problem'], {hint: true})
    const report = r.json()
    assert.deepEqual(Object.keys(report).sort(), ['checked', 'dangling', 'ok', 'problems'])
    assert.equal(report.ok, false)
    assert.deepEqual(report.problems.map((p: {object: string}) => p.object), [head])
    assert.match(report.problems[0].problem, /corrupt/)
  })

  describe('export of a stored path that escapes (a dataset from anyone: path typed with append)', () => {
    let dir: string
    let r: CliResult

    before(async () => {
      dir = box().path('escape/ds')
      fs.cpSync(base.dir, dir, {recursive: true, verbatimSymlinks: true})
      const run = async (...args: string[]) => {
        const res = await runLakeAsync(args, {cwd: dir})
        assert.equal(res.code, 0, res.stderr)
      }
      await run('add', 'tree', '--format', 'files')
      await run('append', '-t', 'path', '--value', '"../evil.txt"')
      await run('append', '-t', 'content', '--file', 'people.csv')
      await run('commit', '-m', 'a path that leaves the export directory')
      r = await runLakeAsync(['export', '--to', 'out', '--format', 'files', '--json'], {cwd: dir})
    })

    it('is refused (UNSAFE_PATH, the path named) and writes nothing outside the target', () => {
      assertRefused(r, 1, ['../evil.txt'], {hint: true})
      assertErrorJson(r, 'UNSAFE_PATH')
      assert.ok(!fs.existsSync(path.join(dir, 'evil.txt')))
    })

    // CLI.md: "A refused or failed command changes nothing". The export writes the safe files
    // (tree/ok.txt) before it meets the bad path, and leaves them there.
    it('a refused export leaves no half-written export behind', () => {
      const left = fs.existsSync(path.join(dir, 'out')) ? fs.readdirSync(path.join(dir, 'out'), {recursive: true}) : []
      assert.deepEqual(left, [], 'files of the refused export were left in out/')
    })
  })

  for (const c of CASES) it(c.name, () => checkCase(c, outcomes.get(c.name), baseState))
  for (const c of DETACHED) it(c.name, () => checkCase(c, outcomes.get(c.name), detachedState))
})
