// Two clones pushing diverging commits at the same moment, several rounds: the remote branch moves
// by compare-and-swap, so exactly one push wins each round and the other is told the remote moved
// (REMOTE_MOVED, hint: pull); after the loser pulls and pushes, both commits are on the remote. At
// the end every dataset fscks clean, and a fresh full clone holds exactly the final HEAD.
import assert from 'node:assert/strict'
import {describeRun, readTree, useSandbox, type CliResult} from '../helpers/cli.js'
import {csv} from '../helpers/fixtures.js'
import {assertFsckClean, freshUrl, Lake, remoteBranch, s3Env, s3Server} from './helpers.js'

const ROUNDS = 3

describe('remote: two clones pushing at once', function () {
  this.timeout(180_000)
  const box = useSandbox('lake-remote-race-')

  it(`${ROUNDS} rounds of concurrent pushes: one wins, the other gets REMOTE_MOVED, then pull + push keeps both`, async () => {
    const s3 = await s3Server()
    const {url, prefix} = freshUrl(s3, 'race')
    const env = s3Env(s3)
    const root = new Lake(box().dir, env)
    const seed = root.at('seed')
    const expected = Array.from({length: 2 * ROUNDS + 2}, (_, i) => `l${i}`)

    seed.ok('init')
    seed.write('d.csv', csv(['id', 'label'], expected.map((l, i) => [i, l])))
    seed.ok('add', 'd.csv')
    const base = seed.json('commit', '-m', 'base').commit
    seed.ok('remote', 'add', 'origin', url)
    seed.ok('push')
    const [cx, cy] = await Promise.all([root.jsonAsync('clone', url, 'x'), root.jsonAsync('clone', url, 'y')])
    assert.equal(cx.head, base)
    assert.equal(cy.head, base)
    const x = root.at('x')
    const y = root.at('y')

    const pushed: string[] = [base]
    let behind: Lake | null = null
    for (let round = 0; round < ROUNDS; round++) {
      // Each side changes its own sample and commits (the previous winner pulls first).
      const side = async (d: Lake, index: number, value: string): Promise<string> => {
        if (d === behind) assert.equal((await d.jsonAsync('pull')).fastForward, true)
        await d.jsonAsync('update', '--tensor', 'label', '--index', String(index), '--value', JSON.stringify(value))
        return (await d.jsonAsync('commit', '-m', `${value}`)).commit
      }
      const [commitX, commitY] = await Promise.all([side(x, 2 * round, `x${round}`), side(y, 2 * round + 1, `y${round}`)])
      expected[2 * round] = `x${round}`
      expected[2 * round + 1] = `y${round}`

      // Both push at once.
      const results: CliResult[] = await Promise.all([x.async(['push', '--json']), y.async(['push', '--json'])])
      const winners = results.filter((r) => r.code === 0)
      assert.equal(winners.length, 1, `round ${round}: exactly one push wins\n${results.map(describeRun).join('\n')}`)
      const lost = results.find((r) => r.code !== 0)!
      assert.equal(lost.code, 1, describeRun(lost))
      assert.equal(lost.json().error.code, 'REMOTE_MOVED', describeRun(lost))
      assert.ok(lost.error, `an error: line\n${lost.stderr}`)
      assert.match(lost.hint ?? '', /pull/, `a hint: to pull\n${lost.stderr}`)
      const [winner, loser] = results[0].code === 0 ? [x, y] : [y, x]
      const [winnerCommit, loserCommit] = winner === x ? [commitX, commitY] : [commitY, commitX]
      // The remote names the winner's commit: nothing of the losing push is visible.
      assert.equal(await remoteBranch(s3, prefix), winnerCommit)

      const pulled = await loser.jsonAsync('pull')
      assert.equal(pulled.fastForward, false, `round ${round}: the loser merges`)
      assert.deepEqual(pulled.conflicts, [])
      const again = await loser.jsonAsync('push')
      assert.equal(again.old, winnerCommit)
      assert.equal(await remoteBranch(s3, prefix), pulled.commit)
      pushed.push(winnerCommit, loserCommit, pulled.commit)
      behind = winner
    }
    assert.equal((await behind!.jsonAsync('pull')).fastForward, true)

    // The branch moved only by conditional PUTs: one per successful push (the seed's, then the
    // winner's and the loser's second one each round); a losing push either never wrote the ref
    // (it saw the winner's commit first: not a fast-forward) or had its If-Match refused (412).
    const refPuts = (await s3.requests(`${prefix}refs/heads/main`)).filter((r) => r.method === 'PUT')
    assert.ok(refPuts.every((r) => r.ifMatch !== undefined || r.ifNoneMatch === '*'), 'every ref write is conditional')
    assert.equal(refPuts.filter((r) => r.status === 200).length, 1 + 2 * ROUNDS)
    assert.ok(refPuts.every((r) => r.status === 200 || r.status === 412), refPuts.map((r) => r.status).join())
    const casLost = refPuts.filter((r) => r.status === 412).length
    if (process.env.LAKE_TEST_VERBOSE) console.log(`  losing pushes refused by the CAS itself: ${casLost} of ${ROUNDS}`)

    // A fresh full clone: every commit pushed is there, and HEAD reads back exactly.
    const full = await root.jsonAsync('clone', url, 'z', '--full')
    const z = root.at('z')
    assert.equal(full.lazy, false)
    assert.equal(full.head, await remoteBranch(s3, prefix))
    const [logZ, labelsX, labelsY, labelsZ, exportX, exportZ] = await Promise.all([
      z.jsonAsync('log'),
      x.jsonAsync('show', 'HEAD:label[0:]'),
      y.jsonAsync('show', 'HEAD:label[0:]'),
      z.jsonAsync('show', 'HEAD:label[0:]'),
      x.jsonAsync('export', '--to', 'out', '--format', 'csv'),
      z.jsonAsync('export', '--to', 'out', '--format', 'csv'),
    ])
    const inLog = new Set(logZ.commits.map((c: {commit: string}) => c.commit))
    for (const id of pushed) assert.ok(inLog.has(id), `commit ${id} is on the remote`)
    assert.equal(logZ.commits.length, 1 + 3 * ROUNDS)
    for (const labels of [labelsX, labelsY, labelsZ]) assert.deepEqual(labels.values, expected)
    assert.equal(exportZ.commit, full.head)
    assert.equal(exportX.commit, full.head)
    assert.deepEqual(readTree(z.path('out')), readTree(x.path('out')))

    await assertFsckClean(seed, x, y, z)
  })
})
