// `lake diff` through the real CLI: no argument (HEAD vs staged), one (REV vs staged), two, and two
// versions on branches that are not ancestors of each other, in both directions; the exact --json
// documents of CLI.md (half-open `added` ranges in B, `updated` in B, `deleted` in A, only changed
// tensors, tensor added/removed); --stat; --tensor T --values (old and new values), --limit. The
// history is made through the library (fast); every diff runs the CLI. Build first: npm run build.
import assert from 'node:assert/strict'
import {Dataset} from '../../src/index.js'
import {assertRefused, useSandbox} from '../helpers/cli.js'

describe('lake diff (CLI)', function () {
  this.timeout(60_000)
  const box = useSandbox('lake-diff-cli-')
  const ids: Record<string, string> = {}

  before(async () => {
    const ds = await Dataset.init(box().dir)
    try {
      await ds.createTensor('labels', {htype: 'generic', dtype: 'i32'})
      await ds.createTensor('text', {htype: 'text'})
      await ds.append('labels', [10, 11, 12, 13, 14])
      await ds.append('text', ['t0', 't1', 't2', 't3', 't4'])
      ids.v1 = (await ds.commit('v1')).commit
      await ds.tag('v1')
      await ds.update('labels', 1, 21)
      await ds.deleteRows(3, 4)
      await ds.append('labels', [15, 16])
      await ds.createTensor('extra', {htype: 'json'})
      await ds.append('extra', [{k: 1}])
      ids.v2 = (await ds.commit('v2')).commit
      await ds.tag('v2')
      // side, from v1: not an ancestor of main, nor main of side.
      await ds.createBranch('side', 'v1')
      await ds.checkout('side')
      await ds.append('labels', [99])
      await ds.update('text', 2, 'T2')
      ids.side = (await ds.commit('s1')).commit
      await ds.checkout('main')
    } finally {
      await ds.close()
    }
  })

  const tensor = (name: string, status: string, added: number[][], updated: number[], deleted: number[]) => ({name, status, added, updated, deleted, metaChanged: false})

  it('A B: the exact --json document; only changed tensors; a new tensor is "added"', () => {
    const d = box().json('diff', 'v1', 'v2')
    assert.deepEqual(d, {
      from: ids.v1,
      to: ids.v2,
      tensors: [tensor('extra', 'added', [[0, 1]], [], []), tensor('labels', 'modified', [[4, 6]], [1], [3]), tensor('text', 'modified', [], [], [3])],
    })
    // Backwards: the tensor is "removed", added and deleted swap sides.
    assert.deepEqual(box().json('diff', 'v2', 'v1').tensors, [
      tensor('extra', 'removed', [], [], [0]),
      tensor('labels', 'modified', [[3, 4]], [1], [4, 5]),
      tensor('text', 'modified', [[3, 4]], [], []),
    ])
    assert.deepEqual(box().json('diff', 'v1', 'v1'), {from: ids.v1, to: ids.v1, tensors: []})
  })

  it('across branches that are not ancestors of each other, both ways, with --values', async () => {
    assert.deepEqual(box().json('diff', 'main', 'side'), {
      from: ids.v2,
      to: ids.side,
      tensors: [tensor('extra', 'removed', [], [], [0]), tensor('labels', 'modified', [[3, 4], [5, 6]], [1], [4, 5]), tensor('text', 'modified', [[3, 4]], [2], [])],
    })
    const [back, values] = await box().all([
      ['diff', 'side', 'main', '--json'],
      ['diff', 'main', 'side', '--tensor', 'labels', '--values', '--json'],
    ])
    assert.deepEqual(back.json().tensors, [
      tensor('extra', 'added', [[0, 1]], [], []),
      tensor('labels', 'modified', [[4, 6]], [1], [3, 5]),
      tensor('text', 'modified', [], [2], [3]),
    ])
    assert.deepEqual(values.json().tensors, [{
      ...tensor('labels', 'modified', [[3, 4], [5, 6]], [1], [4, 5]),
      values: {
        added: [{index: 3, value: 13}, {index: 5, value: 99}],
        updated: [{index: 1, old: 21, new: 11}],
        deleted: [{index: 4, value: 15}, {index: 5, value: 16}],
        truncated: false,
      },
    }])
  })

  it('--tensor X --values: old and new values (json tensor too); --limit truncates', async () => {
    const [labels, extra, limited, text] = await box().all([
      ['diff', 'v1', 'v2', '--tensor', 'labels', '--values', '--json'],
      ['diff', 'v1', 'v2', '--tensor', 'extra', '--values', '--json'],
      ['diff', 'v1', 'v2', '--tensor', 'labels', '--values', '--limit', '1', '--json'],
      ['diff', 'v1', 'v2', '--tensor', 'labels', '--values'],
    ])
    assert.deepEqual(labels.json().tensors[0].values, {
      added: [{index: 4, value: 15}, {index: 5, value: 16}],
      updated: [{index: 1, old: 11, new: 21}],
      deleted: [{index: 3, value: 13}],
      truncated: false,
    })
    assert.deepEqual(extra.json().tensors, [{...tensor('extra', 'added', [[0, 1]], [], []), values: {added: [{index: 0, value: {k: 1}}], updated: [], deleted: [], truncated: false}}])
    assert.deepEqual(limited.json().tensors[0].values, {added: [{index: 4, value: 15}], updated: [{index: 1, old: 11, new: 21}], deleted: [{index: 3, value: 13}], truncated: true})
    assert.equal(text.code, 0, text.stderr)
    for (const line of ['+ [4] 15', '+ [5] 16', '~ [1] 11 → 21', '- [3] 13']) assert.ok(text.stdout.includes(line), `human output lacks ${JSON.stringify(line)}:\n${text.stdout}`)
  })

  it('--stat: counts per tensor, no positions; without it the positions are listed', async () => {
    const [stat, full] = await box().all([['diff', 'v1', 'v2', '--stat'], ['diff', 'v1', 'v2']])
    assert.equal(stat.code, 0, stat.stderr)
    const lines = stat.stdout.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' '))
    assert.deepEqual(lines.slice(1), ['extra +1 ~0 -0 (new tensor)', 'labels +2 ~1 -1', 'text +0 ~0 -1'])
    assert.match(lines[0], new RegExp(`^diff ${ids.v1.slice(0, 12)}\\.\\.${ids.v2.slice(0, 12)}$`))
    assert.equal(full.code, 0, full.stderr)
    const detail = full.stdout.split('\n').map((l) => l.trim().replace(/\s+/g, ' '))
    for (const line of ['added 0', 'added 4:6', 'updated 1', 'deleted 3']) assert.ok(detail.includes(line), `lacks ${JSON.stringify(line)}:\n${full.stdout}`)
    // --stat --json is the same document as --json.
    assert.deepEqual(box().json('diff', 'v1', 'v2', '--stat'), box().json('diff', 'v1', 'v2'))
  })

  it('no argument: HEAD vs staged; one argument: REV vs staged; nothing staged: no tensors', async () => {
    assert.deepEqual(box().json('diff'), {from: ids.v2, to: 'STAGED', tensors: []})
    const clean = box().ok('diff')
    assert.match(clean.stdout, /no changes/)
    const ds = await Dataset.open(box().dir)
    try {
      await ds.update('text', 0, 'T0')
      await ds.append('text', ['t5'])
    } finally {
      await ds.close()
    }
    const [none, one, values] = await box().all([
      ['diff', '--json'],
      ['diff', 'v1', '--json'],
      ['diff', 'HEAD', '--tensor', 'text', '--values', '--json'],
    ])
    assert.deepEqual(none.json(), {from: ids.v2, to: 'STAGED', tensors: [tensor('text', 'modified', [[4, 5]], [0], [])]})
    assert.deepEqual(one.json(), {
      from: ids.v1,
      to: 'STAGED',
      tensors: [tensor('extra', 'added', [[0, 1]], [], []), tensor('labels', 'modified', [[4, 6]], [1], [3]), tensor('text', 'modified', [[4, 5]], [0], [3])],
    })
    assert.deepEqual(values.json().tensors[0].values, {added: [{index: 4, value: 't5'}], updated: [{index: 0, old: 't0', new: 'T0'}], deleted: [], truncated: false})
    const ds2 = await Dataset.open(box().dir)
    await ds2.reset()
    await ds2.close()
  })

  it('refuses --values without --tensor (usage, exit 2) and an unknown tensor (exit 1)', async () => {
    const [noTensor, unknown] = await box().all([['diff', 'v1', 'v2', '--values'], ['diff', 'v1', 'v2', '--tensor', 'nope', '--json']])
    assertRefused(noTensor, 2, ['--values needs --tensor'], {hint: true})
    assertRefused(unknown, 1, ["'nope'"])
    assert.equal(unknown.json().error.code, 'UNKNOWN_TENSOR')
  })
})
