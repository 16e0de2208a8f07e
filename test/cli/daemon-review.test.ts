// Cases from an independent review of LAKE_DAEMON=1 (at 80656f4): each states a claim of README
// "Many short commands" / docs/ARCHITECTURE.md that the first version of the resident process
// broke (every one failed there): output and exit code when the reader stops early, variables read
// at module load, AWS credentials files, memory:// stores, a killed client, a deleted working
// directory, a symlinked or too long socket path.
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {baseEnv, BIN, describeRun, runLake, runLakeAsync, Sandbox} from '../helpers/cli.js'
import {alive, killQuietly, until, useDaemonSandbox} from '../helpers/daemon.js'

describe('LAKE_DAEMON=1: a served command behaves as in its own process (review cases)', function () {
  this.timeout(180_000)
  const d = useDaemonSandbox('lake-daemon-review-')
  const {env, alone, started} = d
  const daemonPids = (dir?: string) => d.daemonPids(dir)
  let box: Sandbox
  let sockets: string
  beforeEach(() => {
    box = d.box()
    sockets = d.sockets()
  })
  function csv(file: string, rows: number): void {
    const lines = ['id,label']
    for (let i = 0; i < rows; i++) lines.push(`${i},${i % 7}`)
    fs.writeFileSync(file, `${lines.join('\n')}\n`)
  }
  /** Runs lake with its stdout read until the first chunk, then closed (as `| head -c 10` does). */
  function closingStdoutEarly(args: string[], cwd: string, e: Record<string, string | undefined>): Promise<{code: number | null; stderr: string}> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], {cwd, env: baseEnv(e), stdio: ['ignore', 'pipe', 'pipe']})
      let stderr = ''
      child.stderr.on('data', (d) => (stderr += d))
      child.stdout.once('data', () => child.stdout.destroy())
      child.on('close', (code) => resolve({code, stderr}))
    })
  }

  it('stdout closed early (`lake show ... | head -c 10`): exit 0 and no EPIPE stack, as by itself', async () => {
    box.write('a.csv', '')
    csv(box.path('a.csv'), 30_000)
    for (const args of [['init'], ['add', 'a.csv'], ['commit', '-m', 'one']]) assert.equal(runLake(args, {cwd: box.dir, env: alone()}).code, 0)
    await started(box.dir)
    const args = ['show', 'HEAD:label[0:30000]', '--json'] // ~200 KB: more than a pipe holds
    // the client relays the output in several writes: the one after head is gone fails (most runs)
    for (let i = 0; i < 15; i++) {
      const own = await closingStdoutEarly(args, box.dir, alone())
      assert.equal(own.code, 0, own.stderr)
      const served = await closingStdoutEarly(args, box.dir, env())
      assert.doesNotMatch(served.stderr, /EPIPE|Unhandled 'error' event/)
      assert.equal(served.code, own.code, served.stderr)
    }
  })

  it('DEBUG given to the command that started the resident process does not leak into later commands', async () => {
    await started(box.dir, {DEBUG: '*'})
    const own = runLake(['branch'], {cwd: box.dir, env: alone()})
    const served = runLake(['branch'], {cwd: box.dir, env: env()})
    assert.equal(served.stderr, own.stderr) // served: ~30 lines of oclif:* debug output
  })

  it('FORCE_COLOR of a served command is honoured (colour support is not decided once per resident process)', async () => {
    await started(box.dir)
    runLake(['frobnicate'], {cwd: box.dir, env: env()}) // the first served command
    const colour = {NO_COLOR: undefined, FORCE_COLOR: '3'}
    const own = runLake(['frobnicate'], {cwd: box.dir, env: alone(colour)})
    assert.match(own.stderr, /\u001b\[/) // by itself: coloured
    const served = runLake(['frobnicate'], {cwd: box.dir, env: env(colour)})
    assert.equal(served.stderr, own.stderr)
  })

  it('a rotated key in the AWS shared credentials file is used by the next command', async () => {
    const seen: string[] = []
    const server = http.createServer((req, res) => {
      seen.push(/Credential=([A-Z0-9]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '?')
      res.writeHead(403, {'content-type': 'application/xml'})
      res.end('<?xml version="1.0"?><Error><Code>InvalidAccessKeyId</Code><Message>no</Message></Error>')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const port = (server.address() as {port: number}).port
      const creds = box.path('credentials')
      const aws = {LAKE_S3_ENDPOINT: `http://127.0.0.1:${port}`, AWS_SHARED_CREDENTIALS_FILE: creds, AWS_CONFIG_FILE: box.path('config'), AWS_REGION: 'us-east-1'}
      fs.writeFileSync(box.path('config'), '')
      fs.writeFileSync(creds, '[default]\naws_access_key_id = AKIAOLDKEY\naws_secret_access_key = a\n')
      await started(box.dir, aws)
      // async: the S3 stand-in answers from this process
      await runLakeAsync(['clone', 's3://bkt/ds', 'c1'], {cwd: box.dir, env: env(aws)})
      fs.writeFileSync(creds, '[default]\naws_access_key_id = AKIANEWKEY\naws_secret_access_key = b\n')
      const served = await runLakeAsync(['clone', 's3://bkt/ds', 'c2'], {cwd: box.dir, env: env(aws)})
      assert.equal(served.code, 1, describeRun(served))
      assert.equal(seen.at(-1), 'AKIANEWKEY', `keys sent: ${seen.join(' ')}`)
    } finally {
      server.close()
    }
  })

  it('a memory:// store is gone when its command ends, as it is by itself', async () => {
    await started(box.dir)
    for (const [b, e] of [[box.sub('own'), alone()], [box.sub('served'), env()]] as const) {
      b.write('a.csv', 'id,label\n1,2\n')
      for (const args of [['init', '--storage', `memory://review-${path.basename(b.dir)}`], ['add', 'a.csv'], ['commit', '-m', 'x']]) assert.equal(runLake(args, {cwd: b.dir, env: e}).code, 0)
    }
    const own = runLake(['show', 'HEAD:label[0]', '--json'], {cwd: box.path('own'), env: alone()})
    const served = runLake(['show', 'HEAD:label[0]', '--json'], {cwd: box.path('served'), env: env()})
    assert.equal(own.code, 1, describeRun(own)) // OBJECT_NOT_FOUND: the objects died with `commit`'s process
    assert.equal(served.code, own.code, describeRun(served)) // served: 0, the value is read back
  })

  it('a client killed mid-command (a long add): the command never lands, and the resident process exits', async () => {
    const lines = ['id,a,b,c']
    for (let i = 0; i < 1_500_000; i++) lines.push(`${i},${i % 97},${(i * 7) % 1000},${i % 3}`)
    fs.writeFileSync(box.path('big.csv'), `${lines.join('\n')}\n`)
    const pid = await started(box.dir)
    assert.equal(runLake(['init'], {cwd: box.dir, env: env()}).code, 0)
    const child = spawn(process.execPath, [BIN, 'add', 'big.csv'], {cwd: box.dir, env: baseEnv(env()), stdio: 'ignore'})
    await sleep(4000) // well inside the add (it takes ~30 s here), before its commit point
    child.kill('SIGKILL')
    await until('the resident process to stop', () => !alive(pid), 20_000)
    const status = runLake(['status', '--json'], {cwd: box.dir, env: alone()})
    assert.equal(status.code, 0, describeRun(status))
    assert.equal(status.json().clean, true, `nothing of the killed add is staged: ${status.stdout}`)
  })

  it('a command run from a deleted working directory with -C works as by itself', async () => {
    assert.equal(runLake(['init'], {cwd: box.dir, env: alone()}).code, 0)
    await started(box.dir)
    const gone = box.mkdir('gone')
    const script = `cd ${JSON.stringify(gone)} && rmdir ${JSON.stringify(gone)} && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} -C ${JSON.stringify(box.dir)} status`
    const run = (e: Record<string, string | undefined>) => spawnSync('sh', ['-c', script], {env: baseEnv(e), encoding: 'utf8'})
    const own = run(alone())
    box.mkdir('gone')
    const served = run(env())
    assert.equal(own.status, 0, own.stderr)
    assert.equal(served.status, own.status, served.stderr) // served: uncaught ENOENT uv_cwd in bin/daemon-client.js
  })

  it('never talks through a socket directory that is a symlink (another user can swap it between the check and connect)', async () => {
    const real = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-daemon-review-real-'))
    fs.chmodSync(real, 0o700)
    const link = path.join(sockets, 'link')
    fs.symlinkSync(real, link)
    try {
      const trace = box.path('trace')
      runLake(['branch'], {cwd: box.dir, env: env({LAKE_DAEMON_DIR: link, LAKE_DAEMON_TRACE: trace})})
      await sleep(1500)
      for (const pid of daemonPids(real)) killQuietly(pid)
      assert.deepEqual(fs.readFileSync(trace, 'utf8').trim().split('\n'), ['here: no safe socket directory'])
    } finally {
      fs.rmSync(real, {recursive: true, force: true})
    }
  })

  it('a socket path longer than sun_path (108 bytes on Linux, 104 on macOS) is never bound outside the private directory', async () => {
    const long = path.join(sockets, 'd'.repeat(110))
    fs.mkdirSync(long, {mode: 0o700})
    const trace = box.path('trace')
    runLake(['branch'], {cwd: box.dir, env: env({LAKE_DAEMON_DIR: long, LAKE_DAEMON_TRACE: trace})})
    await sleep(1500)
    for (const pid of daemonPids(long)) killQuietly(pid)
    // libuv truncates the path: the socket is bound in the parent directory, which the 0700 check never looked at
    const outside = fs.readdirSync(sockets).filter((f) => fs.lstatSync(path.join(sockets, f)).isSocket())
    assert.deepEqual(outside, [])
  })

})
