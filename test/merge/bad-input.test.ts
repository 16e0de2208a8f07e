// Refusals of `lake merge` and `lake diff` through the real CLI: unknown revisions (exit 1, naming
// the revision), merging a branch into itself (SELF_MERGE), unrelated histories
// (UNRELATED_HISTORIES; --allow-unrelated merges them), staged changes (DIRTY_STATE), detached HEAD
// (DETACHED_HEAD), a conflict (MERGE_CONFLICT with the conflicts), usage errors (exit 2). Each
// leaves what `status --json` and `log --json --all` print (and the refs and event log) unchanged.
// History is made through the library; every refusal runs the CLI. Build first: npm run build.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import {Dataset} from '../../src/index.js'
import {Repo} from '../../src/core/repo/repo.js'
import {remoteAdd} from '../../src/core/ops/remote.js'
import {push} from '../../src/core/ops/push.js'
import {fetchRemote} from '../../src/core/ops/fetch.js'
import {assertErrorJson, assertRefused, describeRun, useSandbox, type CliResult} from '../helpers/cli.js'
import {datasetState} from '../helpers/state.js'
import {materialize} from './helpers.js'

describe('lake merge / lake diff: bad input changes nothing', function () {
  this.timeout(120_000)
  const box = useSandbox('lake-merge-bad-')
  const dir = () => box().path('ds')

  before(async () => {
    // Another dataset, pushed to a path and fetched as other/main: a history unrelated to ours.
    const theirs = await Dataset.init(box().path('other'))
    await theirs.createTensor('x', {htype: 'text'})
    await theirs.append('x', ['o1'])
    await theirs.createTensor('y', {htype: 'generic', dtype: 'i32'})
    await theirs.append('y', [5])
    await theirs.commit('other')
    await theirs.close()
    const ds = await Dataset.init(dir())
    await ds.createTensor('x', {htype: 'text'})
    await ds.append('x', ['a', 'b', 'c'])
    await ds.commit('c1')
    await ds.tag('v1')
    await ds.checkout('HEAD', {newBranch: 'feature'})
    await ds.update('x', 1, 'B-feature')
    await ds.commit('f1')
    await ds.checkout('main')
    await ds.update('x', 1, 'B-main')
    await ds.commit('c2')
    await ds.close()
    const other = await Repo.open(box().path('other'))
    await remoteAdd(other, 'origin', box().path('remote'))
    await push(other)
    await other.close()
    const repo = await Repo.open(dir())
    await remoteAdd(repo, 'other', box().path('remote'))
    await fetchRemote(repo, 'other')
    await repo.close()
  })

  /** Runs the calls (concurrently: refusals change nothing) and asserts the state is as before. */
  async function refused(calls: string[][]): Promise<CliResult[]> {
    const before = await datasetState(dir())
    const results = await box().all(calls, {cwd: dir()})
    assert.deepEqual(await datasetState(dir()), before, 'a refused command changes nothing')
    return results
  }

  it('unknown revisions: exit 1 naming the revision (diff with one or two, merge)', async () => {
    const rs = await refused([
      ['diff', 'nope'],
      ['diff', 'v1', 'no-such-branch', '--json'],
      ['diff', 'deadbeef', 'v1'],
      ['merge', 'nope', '--json'],
      ['merge', 'v1~5'],
    ])
    assertRefused(rs[0], 1, ['nope'])
    assertRefused(rs[1], 1, ['no-such-branch'])
    assert.equal(assertErrorJson(rs[1], 'UNKNOWN_REVISION').code, 'UNKNOWN_REVISION')
    assertRefused(rs[2], 1, ['deadbeef'])
    assertRefused(rs[3], 1, ['nope'])
    assertErrorJson(rs[3], 'UNKNOWN_REVISION')
    assertRefused(rs[4], 1, ['v1~5'])
  })

  it('merging a branch into itself: SELF_MERGE', async () => {
    const rs = await refused([['merge', 'main', '--json'], ['merge', 'HEAD', '--json']])
    for (const [r, rev] of [[rs[0], 'main'], [rs[1], 'HEAD']] as const) {
      assertRefused(r, 1, [`'${rev}'`], {hint: true})
      assertErrorJson(r, 'SELF_MERGE')
    }
  })

  it('unrelated histories: UNRELATED_HISTORIES with a hint; usage errors exit 2', async () => {
    const rs = await refused([
      ['merge', 'other/main', '--json'],
      ['merge', 'feature', '--strategy', 'banana'],
      ['merge'],
      ['merge', 'feature', '--no-such-flag'],
    ])
    assertRefused(rs[0], 1, ["'other/main'"], {hint: '--allow-unrelated'})
    assertErrorJson(rs[0], 'UNRELATED_HISTORIES')
    assertRefused(rs[1], 2, ['banana'])
    assertRefused(rs[2], 2, [])
    assertRefused(rs[3], 2, ['no-such-flag'])
  })

  it('a conflict: exit 1, the conflicts in --json, each on stderr without --json', async () => {
    const [json, human] = await refused([['merge', 'feature', '--json'], ['merge', 'feature']])
    assertRefused(json, 1, ["'feature'", '1 conflict'], {hint: '--strategy'})
    const doc = json.json()
    assert.deepEqual(doc.conflicts, [{tensor: 'x', index: 1, kind: 'both-changed', ours: 'B-main', theirs: 'B-feature'}])
    assert.equal(doc.error.code, 'MERGE_CONFLICT')
    assertRefused(human, 1, ["'feature'"])
    assert.ok(human.stderr.includes('conflict: x[1] both-changed: ours "B-main", theirs "B-feature"'), human.stderr)
  })

  it('staged changes: DIRTY_STATE, and the staged changes stay', async () => {
    const ds = await Dataset.open(dir())
    await ds.append('x', ['staged'])
    await ds.close()
    const [r] = await refused([['merge', 'feature', '--strategy', 'ours', '--json']])
    assertRefused(r, 1, ['staged'], {hint: true})
    assertErrorJson(r, 'DIRTY_STATE')
    const after = await Dataset.open(dir())
    assert.equal((await after.status()).clean, false)
    await after.reset()
    await after.close()
  })

  it('detached HEAD: DETACHED_HEAD', async () => {
    const ds = await Dataset.open(dir())
    await ds.checkout('v1')
    await ds.close()
    const [r] = await refused([['merge', 'feature', '--json']])
    assertRefused(r, 1, ['detached'], {hint: true})
    assertErrorJson(r, 'DETACHED_HEAD')
    const back = await Dataset.open(dir())
    await back.checkout('main')
    await back.close()
  })

  it('--allow-unrelated merges the unrelated history as if from an empty dataset', async () => {
    const r = box().run(['merge', 'other/main', '--allow-unrelated', '--json'], {cwd: dir()})
    assert.equal(r.code, 0, describeRun(r))
    const doc = r.json()
    assert.deepEqual([doc.fastForward, doc.conflicts, doc.resolved], [false, [], 0])
    const ds = await Dataset.open(dir())
    try {
      assert.deepEqual(await materialize(ds), {x: ['a', 'B-main', 'c', 'o1'], y: [5]})
      assert.equal(await ds.resolve('HEAD^2'), await ds.resolve('other/main'))
      assert.ok((await ds.fsck()).ok)
    } finally {
      await ds.close()
    }
    assert.ok(fs.existsSync(box().path('remote')))
  })
})
