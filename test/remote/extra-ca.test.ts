// NODE_EXTRA_CA_CERTS, as lake honours it: the `lake` launcher (bin/run.js's shell line) keeps Node
// from parsing the file at every start, and lake adds the CAs itself to its S3 connections
// (src/core/storage/extra-ca.ts). The S3 server is the run's s3rver behind a TLS front whose
// certificate only test/remote/tls/ca.pem vouches for (valid until 2126; 127.0.0.1 and localhost).
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import tls from 'node:tls'
import {fileURLToPath} from 'node:url'
import {BIN, baseEnv, describeRun, useSandbox} from '../helpers/cli.js'
import {useDaemonSandbox} from '../helpers/daemon.js'
import {csv} from '../helpers/fixtures.js'
import {freshUrl, Lake, remoteBranch, s3Env, s3Server} from './helpers.js'

const TLS_DIR = fileURLToPath(new URL('./tls/', import.meta.url))
const CA = path.join(TLS_DIR, 'ca.pem')
const NODE_WARNING = /Ignoring extra certs from/

/** `node bin/run.js ARGS`: Node started on lake's entry itself, not through the launcher. */
function nodeDirect(args: string[], cwd: string, env: Record<string, string | undefined>): Promise<{code: number | null; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {cwd, env: baseEnv(env), stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, stderr}))
  })
}

describe('remote: extra CA certificates (NODE_EXTRA_CA_CERTS)', function () {
  this.timeout(180_000)
  const box = useSandbox('lake-extra-ca-')
  let front: tls.Server
  let httpsEndpoint = ''

  before(async () => {
    const s3 = await s3Server()
    const target = new URL(s3.endpoint)
    front = tls.createServer({key: fs.readFileSync(path.join(TLS_DIR, 'server-key.pem')), cert: fs.readFileSync(path.join(TLS_DIR, 'server.pem'))}, (client) => {
      const upstream = net.connect(Number(target.port), target.hostname)
      client.pipe(upstream).pipe(client)
      client.on('error', () => upstream.destroy())
      upstream.on('error', () => client.destroy())
    })
    front.on('tlsClientError', () => {}) // a client that rejects the certificate hangs up
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve))
    httpsEndpoint = `https://127.0.0.1:${(front.address() as net.AddressInfo).port}`
  })
  after(async () => {
    await new Promise((resolve) => front?.close(resolve))
  })

  // (commands that reach the TLS front run without blocking: it lives in this process)
  async function httpsEnv(extra: Record<string, string | undefined> = {}) {
    return {...s3Env(await s3Server()), LAKE_S3_ENDPOINT: httpsEndpoint, ...extra}
  }

  /** A dataset with one commit, in a fresh directory. */
  function seeded(dir: string, env: Record<string, string | undefined>): Lake {
    const lake = new Lake(dir, env)
    lake.write('d.csv', csv(['id', 'label'], [[1, 'a'], [2, 'b']]))
    lake.ok('init')
    lake.ok('add', 'd.csv')
    lake.ok('commit', '-m', 'first')
    return lake
  }

  it('the launcher keeps Node from reading the file at start: a local command never touches it', () => {
    const lake = seeded(box().path('local'), {})
    const env = {NODE_EXTRA_CA_CERTS: path.join(box().path('no-such-dir'), 'ca.pem')}
    const launched = lake.run(['status'], env)
    assert.equal(launched.code, 0, describeRun(launched))
    assert.doesNotMatch(launched.stderr, NODE_WARNING)
    // the same command with Node started on bin/run.js directly: Node reads the file at once
    const direct = spawnSync(process.execPath, [BIN, 'status'], {cwd: lake.cwd, env: baseEnv(env), encoding: 'utf8'})
    assert.equal(direct.status, 0, direct.stderr)
    assert.match(direct.stderr, NODE_WARNING)
  })

  it('push and clone over https trust the CA it names, through the launcher and through node directly', async () => {
    const s3 = await s3Server()
    const lake = seeded(box().path('tls'), await httpsEnv())
    const {url, prefix} = freshUrl(s3, 'tls')

    // without the CA, the certificate is refused and nothing is pushed
    lake.ok('remote', 'add', 'origin', url)
    const refused = await lake.async(['push', 'origin', '--json'])
    assert.notEqual(refused.code, 0, describeRun(refused))
    assert.match(refused.stderr, /^error: .*the TLS certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/m, describeRun(refused))
    assert.match(refused.stderr, /^hint: .*NODE_EXTRA_CA_CERTS/m)
    assert.equal(await remoteBranch(s3, prefix), null)

    const pushed = await lake.async(['push', 'origin', '--json'], {NODE_EXTRA_CA_CERTS: CA})
    assert.equal(pushed.code, 0, describeRun(pushed))
    const head = lake.json<{head: string}>('status').head
    assert.equal(await remoteBranch(s3, prefix), head)

    // Node started on bin/run.js itself loads the file; lake's own context then adds the same CAs
    const direct = await nodeDirect(['clone', url, 'copy', '--json'], lake.cwd, {...(await httpsEnv()), NODE_EXTRA_CA_CERTS: CA})
    assert.equal(direct.code, 0, direct.stderr)
    const copy = lake.at('copy')
    assert.equal(copy.json<{head: string}>('status').head, head)
    // (a clone reads sample data on demand: over https, with the CA from the copy's command)
    const shown = await copy.async(['show', 'HEAD:label[0:2]', '--json'], {NODE_EXTRA_CA_CERTS: CA})
    assert.equal(shown.code, 0, describeRun(shown))
    assert.deepEqual(shown.json<{values: unknown[]}>().values, ['a', 'b'])
  })

  it('an unreadable file is ignored with Node\'s warning, and the connection then fails as without it', async () => {
    const lake = seeded(box().path('bad-file'), await httpsEnv())
    const {url} = freshUrl(await s3Server(), 'tls-bad')
    lake.ok('remote', 'add', 'origin', url)
    const r = await lake.async(['push', 'origin'], {NODE_EXTRA_CA_CERTS: box().path('missing.pem')})
    assert.notEqual(r.code, 0, describeRun(r))
    assert.match(r.stderr, /Ignoring extra certs from `.*missing\.pem`/)
    assert.match(r.stderr, /is not trusted/)
  })

  describe('through the resident process (LAKE_DAEMON=1), which starts without the variable', () => {
    const daemon = useDaemonSandbox('lake-extra-ca-daemon-')

    it('a served push trusts the CA its own command names', async () => {
      const s3 = await s3Server()
      const env = {...(await httpsEnv()), ...daemon.env()}
      const lake = seeded(daemon.box().path('served'), env)
      await daemon.started(lake.cwd, env)
      const {url, prefix} = freshUrl(s3, 'tls-served')
      lake.ok('remote', 'add', 'origin', url)
      const pushed = await lake.async(['push', 'origin', '--json'], {NODE_EXTRA_CA_CERTS: CA})
      assert.equal(pushed.code, 0, describeRun(pushed))
      assert.equal(daemon.traced().at(-1), 'served', 'the push was not served by the resident process')
      assert.equal(await remoteBranch(s3, prefix), lake.json<{head: string}>('status').head)
    })
  })
})
