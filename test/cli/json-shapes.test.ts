// Golden tests of every command's `--json` output: one session through the real CLI, then for
// each call (1) stdout is exactly one JSON document and nothing else, (2) its structure (keys and
// value types, ids and times as placeholders) equals test/cli/golden/json-shapes.json, and (3)
// it has every key CLI.md promises. A renamed or removed key fails (2) and (3); a new key fails
// only (2): review it against CLI.md, then regenerate with UPDATE_GOLDEN=1.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import {fileURLToPath} from 'node:url'
import {type CliResult, describeRun, useSandbox} from '../helpers/cli.js'
import {csv} from '../helpers/fixtures.js'
import {missingPaths, shapeOf, type Shape} from '../helpers/shape.js'

const GOLDEN = fileURLToPath(new URL('./golden/json-shapes.json', import.meta.url))

/** [name, args]; a null name is a step of the session whose output is not checked. */
type Step = [name: string | null, args: string[]]

// In order; each group after the first runs concurrently (read-only calls).
const SETUP: Step[] = [
  ['init', ['init']],
  ['add', ['add', 'a.csv']],
  ['tensor create', ['tensor', 'create', 'labels', '--htype', 'class_label', '--class-names', 'cat,dog']],
  ['append', ['append', '-t', 'labels', '--value', '"cat"']],
  ['tensor list', ['tensor', 'list']],
  ['status (staged changes)', ['status']],
  ['commit (root)', ['commit', '-m', 'one']],
  ['update', ['update', '-t', 'id', '--index', '0', '--value', '5']],
  ['delete', ['delete', '--index', '1']],
  ['diff (staged)', ['diff']],
  ['commit', ['commit', '-m', 'two']],
  ['branch (create)', ['branch', 'b1']],
  ['tag (create)', ['tag', 'v1']],
  ['config (set)', ['config', 'user.name', 'Ada']],
]
const READS: Step[] = [
  ['status (clean)', ['status']],
  ['log', ['log']],
  ['branch (list)', ['branch']],
  ['tag (list)', ['tag']],
  ['show REV', ['show', 'HEAD']],
  ['show REV:T[I]', ['show', 'HEAD:name[0]']],
  ['show REV:T[I:J]', ['show', 'HEAD~1:id[0:2]']],
  ['export', ['export', '--to', 'out', '--format', 'jsonl']],
  ['diff A B', ['diff', 'HEAD~1', 'HEAD']],
  ['gc --dry-run', ['gc', '--dry-run', '--prune', 'now']],
  ['fsck', ['fsck']],
  ['config (get)', ['config', 'user.name']],
  ['config --list', ['config', '--list']],
  ['error (refused, exit 1)', ['show', 'nosuch']],
  ['error (usage, exit 2)', ['status', '--bogus']],
]
const MOVES: Step[] = [
  ['checkout (detached)', ['checkout', 'v1']],
  ['status (detached)', ['status']],
  ['checkout (branch)', ['checkout', 'main']],
  ['checkout -b', ['checkout', '-b', 'b2']],
  ['branch -d', ['branch', '-d', 'b1']],
  ['tag -d', ['tag', '-d', 'v1']],
  ['config --unset', ['config', '--unset', 'user.name']],
  // b2 and main change name[0] differently: a conflict, then settled
  [null, ['update', '-t', 'name', '--index', '0', '--value', '"b2"']],
  [null, ['commit', '-m', 'on b2']],
  [null, ['checkout', 'main']],
  [null, ['update', '-t', 'name', '--index', '0', '--value', '"main"']],
  [null, ['commit', '-m', 'on main']],
  ['merge (conflict, exit 1)', ['merge', 'b2']],
  ['merge', ['merge', 'b2', '--strategy', 'ours']],
  ['gc', ['gc', '--prune', 'now']],
]
const EXIT: Record<string, number> = {'error (refused, exit 1)': 1, 'error (usage, exit 2)': 2, 'merge (conflict, exit 1)': 1}

// What CLI.md promises per call ('a[].b': key b in every element of array a).
const CONTRACT: Record<string, string[]> = {
  init: ['path', 'storage', 'branch'],
  'tensor create': ['tensor.name', 'tensor.htype', 'tensor.dtype'],
  'tensor list': ['tensors[].name', 'tensors[].htype', 'tensors[].dtype', 'tensors[].length'],
  add: ['added', 'updated', 'deleted', 'tensors'],
  'status (staged changes)': ['branch', 'head', 'detached', 'changes[].tensor', 'changes[].added', 'changes[].updated', 'changes[].deleted', 'clean'],
  'status (clean)': ['branch', 'head', 'detached', 'changes', 'clean'],
  'status (detached)': ['branch', 'head', 'detached', 'changes', 'clean'],
  'commit (root)': ['commit', 'branch', 'parents'],
  commit: ['commit', 'branch', 'parents'],
  log: ['commits[].commit', 'commits[].parents', 'commits[].message', 'commits[].author', 'commits[].timestamp', 'commits[].branch', 'commits[].code'],
  'checkout (detached)': ['head', 'branch', 'detached'],
  'checkout (branch)': ['head', 'branch', 'detached'],
  'checkout -b': ['head', 'branch', 'detached'],
  'branch (list)': ['branches[].name', 'branches[].commit', 'branches[].current'],
  'tag (list)': ['tags[].name', 'tags[].commit'],
  'show REV': ['commit', 'parents', 'message', 'tensors[].name', 'tensors[].length'],
  'show REV:T[I]': ['tensor', 'index', 'value'],
  'show REV:T[I:J]': ['tensor', 'start', 'values'],
  export: ['written', 'bytes'],
  fsck: ['ok', 'checked', 'problems', 'dangling'],
  'diff (staged)': ['from', 'to', 'tensors[].name', 'tensors[].status', 'tensors[].added', 'tensors[].updated', 'tensors[].deleted'],
  'diff A B': ['from', 'to', 'tensors[].name', 'tensors[].status', 'tensors[].added', 'tensors[].updated', 'tensors[].deleted'],
  'merge (conflict, exit 1)': ['conflicts[].tensor', 'conflicts[].index', 'conflicts[].ours', 'conflicts[].theirs', 'error.code', 'error.message'],
  merge: ['commit', 'fastForward', 'conflicts', 'resolved'],
  gc: ['deleted', 'freedBytes'],
  'gc --dry-run': ['deleted', 'freedBytes'],
  'error (refused, exit 1)': ['error.code', 'error.message'],
  'error (usage, exit 2)': ['error.code', 'error.message'],
}

/** Maps keyed by data (gc's byKind: kind → counts) become the list of their values' shapes. */
function structure(doc: Record<string, unknown>): Shape {
  if (doc.byKind && typeof doc.byKind === 'object') return shapeOf({...doc, byKind: Object.values(doc.byKind)})
  return shapeOf(doc)
}

const ALL = [...SETUP, ...READS, ...MOVES].map(([name]) => name).filter((name): name is string => name !== null)

describe('cli --json shapes (golden)', function () {
  this.timeout(300_000)
  const box = useSandbox('lake-cli-json-')
  const results = new Map<string, CliResult>()
  const withJson = (args: string[]) => [...args, '--json']

  before(async () => {
    box().write('a.csv', csv(['id', 'name'], [[1, 'ann'], [2, 'bob']]))
    const record = (name: string | null, r: CliResult) => {
      if (name !== null) results.set(name, r)
      else assert.equal(r.code, 0, describeRun(r))
    }
    for (const [name, args] of SETUP) record(name, box().run(withJson(args)))
    const reads = await box().all(READS.map(([, args]) => withJson(args)))
    READS.forEach(([name], i) => record(name, reads[i]))
    for (const [name, args] of MOVES) record(name, box().run(withJson(args)))
  })

  it('every call exits as expected and prints exactly one JSON document on stdout', () => {
    for (const name of ALL) {
      const r = results.get(name)!
      assert.equal(r.code, EXIT[name] ?? 0, `${name}: ${describeRun(r)}`)
      assert.ok(r.stdout.startsWith('{') && r.stdout.endsWith('}\n'), `${name}: stdout is not one JSON object:\n${r.stdout}`)
      r.json() // throws on anything before, after or between documents
      // the text scripts and people read: two-space indented, as oclif printed it before lake wrote it itself
      assert.equal(r.stdout, `${JSON.stringify(r.json(), null, 2)}\n`, `${name}: not two-space JSON`)
      // no progress bars or chatter when stderr is no TTY (errors have their lines, checked elsewhere)
      if (r.code === 0) assert.equal(r.stderr, '', `${name}: stderr of a successful call`)
    }
  })

  it('has every key CLI.md promises', () => {
    for (const [name, paths] of Object.entries(CONTRACT)) {
      assert.deepEqual(missingPaths(results.get(name)!.json(), paths), [], `${name}: keys CLI.md promises are missing`)
    }
  })

  it('diff: to is an id or STAGED; merge: a conflict names tensor, index, ours and theirs', () => {
    assert.equal(results.get('diff (staged)')!.json().to, 'STAGED')
    assert.match(results.get('diff A B')!.json().to, /^[0-9a-f]{64}$/)
    assert.deepEqual(results.get('diff A B')!.json().tensors.map((t: {status: string}) => t.status), ['modified', 'modified'])
    const conflict = results.get('merge (conflict, exit 1)')!.json()
    assert.equal(conflict.error.code, 'MERGE_CONFLICT')
    assert.deepEqual(conflict.conflicts.map((k: Record<string, unknown>) => [k.tensor, k.index, k.ours, k.theirs]), [['name', 0, 'main', 'b2']])
    assert.equal(results.get('merge')!.json().resolved, 1)
  })

  it('log code is {sha, dirty} or null; status/checkout branch is a name or null', () => {
    for (const entry of results.get('log')!.json().commits) assert.ok(entry.code === null || (typeof entry.code.sha === 'string' && typeof entry.code.dirty === 'boolean'))
    assert.equal(results.get('status (detached)')!.json().branch, null)
    assert.equal(results.get('checkout (detached)')!.json().branch, null)
  })

  describe('structure equals the golden file', () => {
    const golden: Record<string, Shape> = fs.existsSync(GOLDEN) ? JSON.parse(fs.readFileSync(GOLDEN, 'utf8')) : {}

    after(() => {
      if (!process.env.UPDATE_GOLDEN) return
      const shapes = Object.fromEntries(ALL.map((name) => [name, structure(results.get(name)!.json())]))
      fs.mkdirSync(new URL('./golden/', import.meta.url), {recursive: true})
      fs.writeFileSync(GOLDEN, JSON.stringify(shapes, null, 2) + '\n')
    })

    it('names no call the session does not make', () => {
      assert.deepEqual(Object.keys(golden).filter((name) => !ALL.includes(name)), [])
    })

    for (const name of ALL) {
      it(name, function () {
        if (process.env.UPDATE_GOLDEN) this.skip()
        assert.ok(name in golden, `no golden shape for '${name}' (UPDATE_GOLDEN=1 writes it)`)
        assert.deepEqual(structure(results.get(name)!.json()), golden[name])
      })
    }
  })
})
