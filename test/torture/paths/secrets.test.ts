// Family 6, secrets: credentials never appear in what lake prints (stdout, stderr, --json, error
// and hint lines) or keeps (.lake: config, objects, the LevelDB event log and its projections, the
// S3 cache), whether they come from the environment (AWS_SECRET_ACCESS_KEY, AWS_ACCESS_KEY_ID,
// AWS_SESSION_TOKEN), are written into an s3:// or endpoint URL, or are wrong and refused by the
// server. Runs the real CLI against a real S3 server (test/helpers/s3.ts); each run draws fresh
// secret strings, so a leak cannot hide behind a coincidence.
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {describeRun, runLake, type CliResult} from '../../helpers/cli.js'
import {csv} from '../../helpers/fixtures.js'
import {S3TestServer} from '../../helpers/s3.js'
import {withEventDb} from '../../../src/core/events/db.js'
import {readEvents} from '../../../src/core/events/log.js'
import {PROJECTION_NAMES} from '../../../src/core/events/projections.js'
import {FULL, runs} from '../knobs.js'

const token = (prefix: string) => `${prefix}${randomBytes(9).toString('hex')}`

describe('torture 6: secrets', function () {
  this.timeout(FULL ? 0 : 60_000)
  let s3: S3TestServer
  let box: string
  const secrets: string[] = []
  const calls: CliResult[] = []
  const figures = {calls: 0, datasetsScanned: 0, filesScanned: 0, eventsScanned: 0, leaks: 0}

  before(async () => {
    s3 = new S3TestServer()
    await s3.start()
    box = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'lake-secrets-')))
    fs.writeFileSync(path.join(box, 'data.csv'), csv(['id', 'name'], [[1, 'one'], [2, 'two']]))
  })
  after(async () => {
    await s3.stop()
    fs.rmSync(box, {recursive: true, force: true})
    console.log(`secrets: ${JSON.stringify(figures)}`)
  })

  /** The S3 environment with valid credentials plus a session token (s3rver ignores it). */
  const goodEnv = (sessionToken: string) => ({
    LAKE_S3_ENDPOINT: s3.endpoint, AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey, AWS_SESSION_TOKEN: sessionToken,
  })

  function lake(cwd: string, args: string[], env: Record<string, string>): CliResult {
    const r = runLake(args, {cwd, env})
    calls.push(r)
    figures.calls++
    assert.doesNotMatch(r.stderr, /^\s+at |TypeError|RangeError/m, describeRun(r))
    return r
  }

  function assertNoSecret(where: string, text: string): void {
    for (const secret of secrets) {
      if (text.includes(secret)) {
        figures.leaks++
        assert.fail(`${where} holds the secret ${secret}:\n${text.slice(Math.max(0, text.indexOf(secret) - 300), text.indexOf(secret) + 100)}`)
      }
    }
  }

  /** Every file under .lake (bytes), every event record and projection entry (decoded). */
  async function scanDataset(dir: string): Promise<void> {
    const lakeDir = path.join(dir, '.lake')
    if (!fs.existsSync(lakeDir)) return
    figures.datasetsScanned++
    for (const rel of fs.readdirSync(lakeDir, {recursive: true}) as string[]) {
      const file = path.join(lakeDir, rel)
      if (!fs.lstatSync(file).isFile()) continue
      figures.filesScanned++
      assertNoSecret(file, fs.readFileSync(file).toString('latin1'))
    }
    // LevelDB compresses its tables: read the log and projections back through LevelDB.
    await withEventDb(path.join(lakeDir, 'db'), async (db) => {
      for await (const {record} of readEvents(db)) {
        figures.eventsScanned++
        assertNoSecret(`event #${record.seq}`, JSON.stringify(record))
      }
      for (const name of PROJECTION_NAMES) {
        for await (const [key, value] of db[name].iterator()) assertNoSecret(`projection ${name}/${key}`, key + Buffer.from(value).toString('latin1'))
      }
    })
  }

  it('credentials from the environment, in URLs, and refused by the server never leak', async () => {
    const rounds = runs('SECRETS', 1, 5)
    for (let round = 0; round < rounds; round++) {
      const sessionToken = token('LakeToken')
      const wrongSecret = token('LakeWrongSecret')
      const wrongKeyId = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`
      const urlSecret = token('LakeUrlSecret')
      const endpointSecret = token('LakeEndpointSecret')
      secrets.push(sessionToken, wrongSecret, wrongKeyId, urlSecret, endpointSecret)
      // The valid credentials are secrets too: none of lake's output may carry them.
      if (!secrets.includes(s3.credentials.secretAccessKey)) secrets.push(s3.credentials.secretAccessKey)
      const env = goodEnv(sessionToken)
      const url = `s3://${s3.bucket}/secrets-${process.pid}-${round}`
      const dir = (name: string) => path.join(box, `${name}-${round}`)

      // A dataset on S3, used and cloned with good credentials and a session token.
      fs.mkdirSync(dir('a'))
      lake(dir('a'), ['init', '--storage', url, '--json'], env)
      lake(dir('a'), ['add', path.join(box, 'data.csv'), '--json'], env)
      lake(dir('a'), ['commit', '-m', 'first', '--json'], env)
      // npm test runs the first few of each list; the campaign all of them, several rounds.
      const some = <T>(xs: T[], quick: number) => (FULL ? xs : xs.slice(0, quick))
      for (const args of some([['log', '--json'], ['fsck', '--json'], ['status', '--json'], ['remote', 'list', '--json'], ['show', 'HEAD', '--json'], ['config', '--list', '--json']], 2)) lake(dir('a'), args, env)
      lake(box, ['clone', url, dir('b'), '--json'], env)
      if (FULL) lake(dir('b'), ['show', 'HEAD:name[0]', '--json'], env)
      if (FULL) lake(dir('b'), ['pull', '--json'], env)

      // Wrong credentials: the server refuses (s3rver checks no signature, so the proxy answers
      // as AWS would); the refusal names no credential.
      const wrong = {...env, AWS_SECRET_ACCESS_KEY: wrongSecret}
      const refusedWith = async (code: string, dirName: string, args: string[], callEnv: Record<string, string>) => {
        await s3.injectFault({}, {status: 403, code})
        return lake(dirName, args, callEnv)
      }
      // An error S3 lake does not know, whose text (as a hostile or chatty server could send)
      // carries the key id and a signature: passed through, scrubbed. The code is spliced into the
      // proxy's XML answer to get that text in.
      const chatty = `TeapotError</Code><Message>key ${wrongKeyId} secret ${wrongSecret} X-Amz-Signature=${token('sig')}</Message><Code>TeapotError`
      const refused = FULL ? [
        await refusedWith('SignatureDoesNotMatch', box, ['clone', url, dir('c'), '--json'], wrong),
        await refusedWith('InvalidAccessKeyId', dir('a'), ['fetch', '--json'], {...env, AWS_ACCESS_KEY_ID: wrongKeyId}),
        await refusedWith('AccessDenied', dir('b'), ['push', '--json'], wrong),
        await (async () => {
          await s3.injectFault({}, {status: 400, code: chatty})
          return lake(box, ['clone', url, dir('k'), '--json'], wrong)
        })(),
        lake(box, ['clone', `s3://no-such-bucket-${round}x/p`, dir('d'), '--json'], wrong),
      ] : [await refusedWith('SignatureDoesNotMatch', box, ['clone', url, dir('c'), '--json'], wrong)]
      for (const r of refused) assert.equal(r.code, 1, describeRun(r))

      // Credentials written into URLs are refused without being echoed, and stored nowhere.
      const inUrl = some<[string, string[]]>([
        [box, ['clone', `s3://${wrongKeyId}:${urlSecret}@${s3.bucket}/x`, dir('e'), '--json']],
        [dir('a'), ['remote', 'add', 'leaky', `s3://user:${urlSecret}@${s3.bucket}/x`, '--json']],
        [box, ['init', dir('g'), '--storage', `bogus://user:${urlSecret}@host/x`, '--json']],
        [box, ['init', dir('f'), '--storage', `s3://user:${urlSecret}@${s3.bucket}/x`, '--json']],
        [box, ['init', dir('h'), '--storage', `file://user:${urlSecret}@/tmp/x`, '--json']],
        [box, ['clone', `s3://user:${urlSecret}@bad_bucket/x`, dir('i'), '--json']],
      ], 3).map(([cwd, args]) => lake(cwd, args, env))
      for (const r of inUrl) assert.ok(r.code === 1 || r.code === 2, describeRun(r))

      // An endpoint URL with credentials in it (unreachable): messages name it without them.
      const endpointEnv = {...env, LAKE_S3_ENDPOINT: `http://user:${endpointSecret}@127.0.0.1:9`}
      assert.equal(lake(box, ['clone', url, dir('j'), '--json'], endpointEnv).code, 1)

      for (const r of calls) assertNoSecret(`'lake ${r.args.join(' ')}' output`, r.stdout + r.stderr)
      for (const name of fs.readdirSync(box)) if (name.endsWith(`-${round}`)) await scanDataset(path.join(box, name))
    }
  })
})
