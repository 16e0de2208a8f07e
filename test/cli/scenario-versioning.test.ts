// One dataset, one session through the real CLI: tensors, small edits, status, commits, log,
// branches, tags, checkout (branch, tag, commit, -b, --force), show, every revision form, config,
// fsck, finding the dataset from elsewhere, and a merge (conflict, --strategy, REV^2). Steps build
// on each other, in order.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import {spawnSync} from 'node:child_process'
import {assertErrorJson, assertRefused, baseEnv, BIN, okJson, Sandbox, sleep, useSandbox, AUTHOR} from '../helpers/cli.js'
import {datasetState} from '../helpers/state.js'

interface LogEntry {
  commit: string
  parents: string[]
  message: string
  author: string
  timestamp: string
  branch: string | null
  code: unknown
}

describe('cli scenario: versioning', function () {
  this.timeout(300_000)
  const box = useSandbox('lake-cli-versioning-')
  // commit ids by name, filled as the scenario goes
  const c: Record<string, string> = {}

  it('init creates a dataset on branch main with nothing committed', () => {
    const init = box().json('init')
    assert.deepEqual(init, {path: box().dir, storage: init.storage, branch: 'main'})
    assert.match(init.storage, /^file:\/\//)
    assert.ok(fs.existsSync(box().path('.lake')))
    assert.deepEqual(box().json('status'), {branch: 'main', head: null, detached: false, changes: [], clean: true})
  })

  it('tensor create and tensor list', () => {
    const labels = box().json('tensor', 'create', 'labels', '--htype', 'class_label', '--class-names', 'cat,dog')
    assert.equal(labels.tensor.name, 'labels')
    assert.equal(labels.tensor.htype, 'class_label')
    assert.deepEqual(labels.tensor.classNames, ['cat', 'dog'])
    assert.match(box().ok('tensor', 'create', 'n', '--htype', 'generic', '--dtype', 'i32').stdout, /created tensor 'n'/)
    assert.deepEqual(box().json('tensor', 'list').tensors, [
      {name: 'labels', htype: 'class_label', dtype: 'i32', length: 0, classNames: ['cat', 'dog']},
      {name: 'n', htype: 'generic', dtype: 'i32', length: 0},
    ])
  })

  it('append stages samples; status lists them; commit records them', async () => {
    box().ok('append', '--tensor', 'labels', '--value', '"cat"')
    box().ok('append', '--tensor', 'labels', '--value', '"dog"')
    assert.deepEqual(box().json('append', '--tensor', 'n', '--value', '10').appended, 1)
    box().ok('append', '-t', 'n', '--value', '20')
    const status = box().json('status')
    assert.equal(status.clean, false)
    assert.deepEqual(status.changes, [
      {tensor: 'labels', added: 2, updated: 0, deleted: 0, created: true},
      {tensor: 'n', added: 2, updated: 0, deleted: 0, created: true},
    ])
    const c1 = box().json('commit', '-m', 'c1')
    assert.deepEqual(c1, {commit: c1.commit, branch: 'main', parents: []})
    assert.match(c1.commit, /^[0-9a-f]{64}$/)
    c.c1 = c1.commit
    await sleep(20)
  })

  it('update and delete (a row, from every tensor) stage changes', async () => {
    assert.equal(box().json('update', '--tensor', 'n', '--index', '1', '--value', '21').updated, 1)
    assert.equal(box().json('delete', '--index', '0').deleted, 1)
    assert.deepEqual(box().json('status').changes, [
      {tensor: 'labels', added: 0, updated: 0, deleted: 1},
      {tensor: 'n', added: 0, updated: 1, deleted: 1},
    ])
    const c2 = box().json('commit', '-m', 'c2')
    assert.deepEqual(c2.parents, [c.c1])
    c.c2 = c2.commit
    const [n, label] = await box().all([['show', 'HEAD:n[0:]', '--json'], ['show', 'HEAD:labels[0]']])
    assert.deepEqual(okJson(n), {tensor: 'n', start: 0, values: [21]})
    assert.equal(label.code, 0, label.stderr)
    assert.equal(label.stdout.trim(), '1 (dog)')
    await sleep(20)
  })

  it('commit with nothing staged is refused; --allow-empty commits anyway', () => {
    const refused = box().run(['commit', '-m', 'c3'])
    assertRefused(refused, 1, ['nothing to commit'], {hint: '--allow-empty'})
    assert.equal(refused.stdout, '')
    const c3 = box().json('commit', '-m', 'c3', '--allow-empty')
    assert.deepEqual(c3.parents, [c.c2])
    c.c3 = c3.commit
  })

  it('log: newest first, --oneline, -n, REV', async () => {
    const [full, oneline, limited, fromRev] = await box().all([
      ['log', '--json'],
      ['log', '--oneline'],
      ['log', '-n', '2', '--json'],
      ['log', 'HEAD~1', '--json'],
    ])
    const commits = okJson<{commits: LogEntry[]}>(full).commits
    assert.deepEqual(commits.map((e) => e.commit), [c.c3, c.c2, c.c1])
    assert.deepEqual(commits.map((e) => e.message), ['c3', 'c2', 'c1'])
    assert.deepEqual(commits.map((e) => e.parents), [[c.c2], [c.c1], []])
    for (const e of commits) {
      assert.equal(e.author, `${AUTHOR.name} <${AUTHOR.email}>`)
      assert.equal(e.branch, 'main')
      assert.equal(e.code, null) // the temp dir is no git repository
      assert.equal(new Date(e.timestamp).toISOString(), e.timestamp)
    }
    assert.ok(commits[0].timestamp > commits[1].timestamp && commits[1].timestamp > commits[2].timestamp, 'timestamps descend')
    assert.equal(oneline.code, 0)
    assert.deepEqual(oneline.stdout.trimEnd().split('\n'), [`${c.c3.slice(0, 12)} c3`, `${c.c2.slice(0, 12)} c2`, `${c.c1.slice(0, 12)} c1`])
    assert.deepEqual(okJson(limited).commits.map((e: LogEntry) => e.commit), [c.c3, c.c2])
    assert.deepEqual(okJson(fromRev).commits.map((e: LogEntry) => e.commit), [c.c2, c.c1])
  })

  it('arguments come from the command line only: text piped to stdin is not taken for a missing REV or tag target', () => {
    // (oclif read a missing positional argument from a piped stdin: `printf x | lake log` used x)
    const piped = (...args: string[]) => {
      const r = spawnSync(process.execPath, [BIN, ...args], {cwd: box().dir, env: baseEnv(), encoding: 'utf8', input: 'HEAD~2\n'})
      assert.equal(r.status, 0, `lake ${args.join(' ')}: ${r.stderr}`)
      return JSON.parse(r.stdout)
    }
    assert.deepEqual(piped('log', '-n', '1', '--json').commits.map((e: LogEntry) => e.commit), [c.c3])
    assert.deepEqual(piped('tag', 'piped', '--json'), {tag: 'piped', commit: c.c3})
    assert.deepEqual(box().json('tag', '-d', 'piped'), {deleted: 'piped', commit: c.c3})
  })

  it('branch and tag: create, list, delete', async () => {
    assert.deepEqual(box().json('branch', 'exp', 'HEAD~1'), {branch: 'exp', commit: c.c2})
    assert.deepEqual(box().json('tag', 'v1', 'HEAD~2'), {tag: 'v1', commit: c.c1})
    assert.deepEqual(box().json('tag', 'tmp'), {tag: 'tmp', commit: c.c3})
    assert.deepEqual(box().json('tag', '-d', 'tmp'), {deleted: 'tmp', commit: c.c3})
    assert.deepEqual(box().json('branch', 'gone'), {branch: 'gone', commit: c.c3})
    assert.deepEqual(box().json('branch', '-d', 'gone'), {deleted: 'gone', commit: c.c3})
    const [branches, tags] = await box().all([['branch', '--json'], ['tag', '--json']])
    assert.deepEqual(okJson(branches).branches, [
      {name: 'exp', commit: c.c2, current: false},
      {name: 'main', commit: c.c3, current: true},
    ])
    assert.deepEqual(okJson(tags).tags, [{name: 'v1', commit: c.c1}])
  })

  it('checkout of a branch: commits land there; log --all shows every branch', async () => {
    assert.deepEqual(box().json('checkout', 'exp'), {head: c.c2, branch: 'exp', detached: false})
    box().ok('append', '-t', 'n', '--value', '99')
    const e1 = box().json('commit', '-m', 'e1')
    assert.deepEqual(e1, {commit: e1.commit, branch: 'exp', parents: [c.c2]})
    c.e1 = e1.commit
    assert.match(box().ok('checkout', 'main').stdout, /Switched to branch 'main'/)
    const [all, main] = await box().all([['log', '--all', '--json'], ['log', '--json']])
    assert.deepEqual(okJson(all).commits.map((e: LogEntry) => e.commit).sort(), [c.c1, c.c2, c.c3, c.e1].sort())
    assert.deepEqual(okJson(main).commits.map((e: LogEntry) => e.commit), [c.c3, c.c2, c.c1])
  })

  it('checkout of a tag or a commit detaches HEAD; writes are refused with a hint', () => {
    assert.deepEqual(box().json('checkout', 'v1'), {head: c.c1, branch: null, detached: true})
    assert.deepEqual(box().json('status'), {branch: null, head: c.c1, detached: true, changes: [], clean: true})
    const append = box().run(['append', '-t', 'n', '--value', '5', '--json'])
    assertRefused(append, 1, ['detached'], {hint: '-b'})
    assertErrorJson(append, 'DETACHED_HEAD')
    assertRefused(box().run(['commit', '-m', 'x', '--allow-empty']), 1, ['detached'], {hint: '-b'})
    assert.deepEqual(box().json('checkout', c.c2), {head: c.c2, branch: null, detached: true})
  })

  it('checkout with staged changes: refused, carried by -b, discarded by --force', async () => {
    box().ok('checkout', 'main')
    box().ok('append', '-t', 'n', '--value', '7')
    const dirty = box().run(['checkout', 'exp', '--json'])
    assertRefused(dirty, 1, ['staged changes'], {hint: '--force'})
    assertErrorJson(dirty, 'DIRTY_STATE')
    assert.deepEqual(box().json('checkout', '-b', 'carry'), {head: c.c3, branch: 'carry', detached: false})
    const carried = box().json('status')
    assert.equal(carried.branch, 'carry')
    assert.deepEqual(carried.changes, [{tensor: 'n', added: 1, updated: 0, deleted: 0}])
    c.k1 = box().json('commit', '-m', 'k1').commit
    box().ok('append', '-t', 'n', '--value', '8')
    assert.deepEqual(box().json('checkout', 'main', '--force'), {head: c.c3, branch: 'main', detached: false})
    const [status, carry] = await box().all([['status', '--json'], ['show', 'carry:n[0:]', '--json']])
    assert.equal(okJson(status).clean, true)
    assert.deepEqual(okJson(carry).values, [21, 7], 'the carried 7 was committed on carry; the discarded 8 is nowhere')
  })

  it('show: a commit, one sample, a range', async () => {
    const [commit, one, range, human] = await box().all([
      ['show', 'HEAD', '--json'],
      ['show', 'v1:labels[1]', '--json'],
      ['show', 'v1:n[0:2]', '--json'],
      ['show', 'v1:labels[0:2]'],
    ])
    const shown = okJson(commit)
    assert.equal(shown.commit, c.c3)
    assert.deepEqual(shown.parents, [c.c2])
    assert.equal(shown.message, 'c3')
    assert.deepEqual(shown.tensors.map((t: {name: string; length: number}) => [t.name, t.length]), [['labels', 1], ['n', 1]])
    assert.deepEqual(okJson(one), {tensor: 'labels', index: 1, value: 1})
    assert.deepEqual(okJson(range), {tensor: 'n', start: 0, values: [10, 20]})
    assert.deepEqual(human.stdout.trimEnd().split('\n'), ['[0] 0 (cat)', '[1] 1 (dog)'])
  })

  it('revisions: full id, hex prefix, ~N, ^, @{time}, @{N}', async () => {
    const log = box().json('log', '--all').commits as LogEntry[]
    const time = (id: string) => Date.parse(log.find((e) => e.commit === id)!.timestamp)
    const iso = (ms: number) => new Date(ms).toISOString()
    // the shortest prefix (at least 4 hex digits) that no other commit shares
    let prefix = c.c1.slice(0, 4)
    while (log.some((e) => e.commit !== c.c1 && e.commit.startsWith(prefix))) prefix = c.c1.slice(0, prefix.length + 1)
    // HEAD's moves, newest first: checkout main --force, commit k1, checkout -b carry, checkout main, checkout c2, checkout v1, ...
    const expected: [string, string][] = [
      [c.c1, c.c1],
      [prefix, c.c1],
      ['main~2', c.c1],
      ['main^', c.c2],
      ['exp~1', c.c2],
      [`main@{${iso(time(c.c2))}}`, c.c2],
      [`main@{${iso(time(c.c2) - 1)}}`, c.c1],
      ['@{0}', c.c3],
      ['@{1}', c.k1],
      ['@{4}', c.c2],
    ]
    const results = await box().all(expected.map(([rev]) => ['show', rev, '--json']))
    expected.forEach(([rev, want], i) => {
      assert.equal(results[i].code, 0, `${rev}: ${results[i].stderr}`)
      assert.equal(results[i].json().commit, want, rev)
    })
    const [notMerge, beforeAll, longReflog] = await box().all([
      ['show', 'main^2', '--json'],
      ['show', `main@{${iso(time(c.c1) - 1)}}`, '--json'],
      ['show', '@{999}', '--json'],
    ])
    assertRefused(notMerge, 1, ["'main^2'"], {hint: true})
    assertErrorJson(notMerge, 'UNKNOWN_REVISION')
    assertRefused(beforeAll, 1, ['main@{'])
    assertErrorJson(beforeAll, 'UNKNOWN_REVISION')
    assertRefused(longReflog, 1, ["'@{999}'"])
    assertErrorJson(longReflog, 'UNKNOWN_REVISION')
  })

  it('config set, get and list', async () => {
    assert.deepEqual(box().json('config', 'user.name', 'Ada Lovelace'), {key: 'user.name', value: 'Ada Lovelace'})
    const [get, list] = await box().all([['config', 'user.name'], ['config', '--list', '--json']])
    assert.equal(get.stdout, 'Ada Lovelace\n')
    assert.deepEqual(okJson(list), {values: {'user.name': 'Ada Lovelace'}})
  })

  it('fsck: the dataset is consistent', () => {
    const report = box().json('fsck')
    assert.equal(report.ok, true)
    assert.deepEqual(report.problems, [])
    assert.ok(report.checked > 0)
  })

  it('the dataset is found from a subdirectory, with -C DIR and with LAKE_DIR', async () => {
    const deep = box().mkdir('sub/deeper')
    const elsewhere = new Sandbox('lake-cli-elsewhere-')
    try {
      const [inSub, withC, withEnv, lost] = await Promise.all([
        box().lakeAsync(['status', '--json'], {cwd: deep}),
        box().lakeAsync(['log', '-C', box().dir, '-n', '1', '--json'], {cwd: elsewhere.dir}),
        box().lakeAsync(['log', '-n', '1', '--json'], {cwd: elsewhere.dir, env: {LAKE_DIR: box().dir}}),
        box().lakeAsync(['status', '--json'], {cwd: elsewhere.dir}),
      ])
      assert.equal(okJson(inSub).head, c.c3)
      assert.equal(okJson(withC).commits[0].commit, c.c3)
      assert.equal(okJson(withEnv).commits[0].commit, c.c3)
      assertRefused(lost, 1, ['not a lake dataset'], {hint: '-C'})
      assertErrorJson(lost, 'NOT_A_DATASET')
    } finally {
      elsewhere.remove()
    }
  })

  it('merge: a conflict is refused and changes nothing; --strategy settles it; REV^2 is the merged side', async () => {
    box().ok('checkout', 'exp')
    box().ok('update', '-t', 'n', '--index', '0', '--value', '1000')
    c.e2 = box().json('commit', '-m', 'e2').commit
    box().ok('checkout', 'main')
    box().ok('update', '-t', 'n', '--index', '0', '--value', '2000')
    c.c4 = box().json('commit', '-m', 'c4').commit
    const before = await datasetState(box().dir)
    const conflict = box().run(['merge', 'exp', '--json'])
    assertRefused(conflict, 1, ["'exp'", 'conflict'], {hint: '--strategy'})
    const report = conflict.json()
    assert.equal(report.error.code, 'MERGE_CONFLICT')
    assert.deepEqual(report.conflicts.map((k: Record<string, unknown>) => [k.tensor, k.index, k.ours, k.theirs]), [['n', 0, 2000, 1000]])
    assert.deepEqual(await datasetState(box().dir), before, 'a refused merge changes nothing')
    const merged = box().json('merge', 'exp', '--strategy', 'theirs', '-m', 'merge exp')
    assert.deepEqual([merged.fastForward, merged.conflicts, merged.resolved], [false, [], 1])
    const [head, second, values, notMerge] = await box().all([
      ['show', 'HEAD', '--json'],
      ['show', 'HEAD^2', '--json'],
      ['show', 'HEAD:n[0:]', '--json'],
      ['show', 'HEAD^1^2', '--json'],
    ])
    assert.deepEqual(okJson(head).parents, [c.c4, c.e2])
    assert.equal(okJson(head).commit, merged.commit)
    assert.equal(okJson(second).commit, c.e2)
    assert.deepEqual(okJson(values).values, [1000, 99], "theirs wins the conflict; exp's appended 99 is kept")
    assertRefused(notMerge, 1, ["'HEAD^1^2'"], {hint: true})
    assertErrorJson(notMerge, 'UNKNOWN_REVISION')
  })

  // CLI.md: "found like git finds a repo ... or -C DIR": git takes -C before the command (oclif
  // does not; bin/run.js moves it behind the command id).
  it('git-style `lake -C DIR <command>` (flag before the command) works', () => {
    const elsewhere = new Sandbox('lake-cli-elsewhere-')
    try {
      const r = box().run(['-C', box().dir, 'status', '--json'], {cwd: elsewhere.dir})
      assert.equal(okJson(r).branch, 'main')
    } finally {
      elsewhere.remove()
    }
  })
})
