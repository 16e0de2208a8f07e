// LAKE_DAEMON=1 (bin/daemon-client.js, src/cli/server.ts): commands run in a resident lake
// process. Each must behave exactly as in a process of its own (output, errors, exit codes, the
// caller's directory and environment); a busy resident process, a missing or dead one, or an
// unsafe socket directory only mean the command runs by itself; a client killed mid-command stops
// the resident process too (as a killed lake stops), and the dataset is intact after.
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {describeRun, runLake, runLakeAsync, Sandbox, type CliResult} from '../helpers/cli.js'
import {alive, until, useDaemonSandbox} from '../helpers/daemon.js'

describe('LAKE_DAEMON=1: the resident process', function () {
  this.timeout(180_000)
  const d = useDaemonSandbox('lake-daemon-')
  const {env, traced, started} = d
  const daemonPids = () => d.daemonPids()
  let box: Sandbox
  let sockets: string
  let traceFile: string
  beforeEach(() => {
    box = d.box()
    sockets = d.sockets()
    traceFile = d.traceFile()
  })
  /** Files large enough that adding them takes a while. */
  function bigFiles(dir: string, count: number): string {
    const at = box.mkdir(dir)
    for (let i = 0; i < count; i++) fs.writeFileSync(path.join(at, `f${i}.bin`), randomBytes(1 << 20))
    return at
  }

  it('runs each command as its own process would: stdout, stderr, exit code, working directory, environment', async () => {
    const served = box.sub('served')
    const alone = box.sub('alone')
    for (const b of [served, alone]) {
      b.write('a.csv', 'id,label,note\n1,3,x\n2,4,y\n')
      b.write('more.csv', 'id,label,note\n3,5,z\n')
      b.write('upd.csv', 'id,label\n2,9\n')
      b.mkdir('sub')
    }
    await started(served.dir)
    fs.rmSync(traceFile, {force: true})
    // ids and times differ between the two datasets; everything else must not
    const norm = (text: string) => text.replace(/[0-9a-f]{64}/g, '<id>').replace(/\b[0-9a-f]{12}\b/g, '<short>').replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>').replace(/\/(served|alone)\b/g, '/<dir>')
    const steps: {args: string[]; cwd?: string; env?: Record<string, string>}[] = [
      {args: ['init']},
      {args: ['add', 'a.csv', '--json']},
      {args: ['status', '--json']},
      {args: ['commit', '-m', 'one']},
      {args: ['tag', 'v1']},
      {args: ['add', 'more.csv', 'upd.csv', '--key', 'id', '--json']},
      {args: ['add', 'missing.csv']}, // a bad input: exit 1 with error and hint
      {args: ['commit', '--bogus']}, // a usage error: exit 2
      {args: ['frobnicate']}, // no such command: oclif's own error handler, which calls process.exit
      {args: ['commit', '-m', 'two', '--json'], env: {LAKE_AUTHOR_NAME: 'Someone Else'}},
      {args: ['log', '--json']}, // the author of 'two' is the one its command was given
      {args: ['show', 'v1:label[0:2]', '--json']},
      {args: ['show', 'nope:label[0]']},
      {args: ['diff', 'v1', 'HEAD', '--json']},
      {args: ['status'], cwd: 'sub'}, // from a subdirectory: the dataset is found above
      {args: ['-C', '..', 'log', '--oneline'], cwd: 'sub'},
      {args: ['fsck', '--json']},
    ]
    for (const step of steps) {
      const run = (b: Sandbox): CliResult => runLake(step.args, {cwd: step.cwd ? b.path(step.cwd) : b.dir, env: {...env(), ...(b === alone ? {LAKE_DAEMON: '0'} : {}), ...step.env}})
      const a = run(served)
      const b = run(alone)
      const what = `lake ${step.args.join(' ')}`
      assert.equal(a.code, b.code, `${what}: exit codes\n${describeRun(a)}\n${describeRun(b)}`)
      assert.equal(norm(a.stdout), norm(b.stdout), `${what}: stdout`)
      assert.equal(norm(a.stderr), norm(b.stderr), `${what}: stderr`)
    }
    assert.match(runLake(['log', '--json'], {cwd: served.dir, env: env()}).stdout, /Someone Else/)
    // every one of them ran in the resident process
    assert.deepEqual(traced(), [...steps.map(() => 'served'), 'served'])
  })

  it('a reader that stops early (| head) gets what a process of its own gives: exit 0, nothing on stderr', async () => {
    const ds = box.sub('ds')
    await started(ds.dir)
    ds.write('a.csv', `id\n${Array.from({length: 30000}, (_, i) => i).join('\n')}\n`)
    for (const args of [['init'], ['add', 'a.csv'], ['commit', '-m', 'c']]) assert.equal(runLake(args, {cwd: ds.dir, env: env()}).code, 0)
    const {spawnSync} = await import('node:child_process')
    const {baseEnv, BIN} = await import('../helpers/cli.js')
    fs.rmSync(traceFile, {force: true})
    for (const daemon of ['1', '0']) {
      // (more output than a pipe holds: the writer meets the closed pipe)
      const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" show 'HEAD:id[0:30000]' --json | head -c 10 >/dev/null; echo "\${PIPESTATUS[0]}"`], {cwd: ds.dir, env: baseEnv(env({LAKE_DAEMON: daemon})), encoding: 'utf8'})
      assert.equal(r.stdout.trim(), '0', `LAKE_DAEMON=${daemon}: exit code\n${r.stderr}`)
      assert.equal(r.stderr, '', `LAKE_DAEMON=${daemon}: stderr`)
    }
    assert.deepEqual(traced(), ['served'])
  })

  it('a command that used S3 ends the resident process after it (the AWS SDK keeps credentials files read once)', async () => {
    const {freshUrl, s3Env, s3Server} = await import('../remote/helpers.js')
    const s3 = await s3Server()
    const {url} = freshUrl(s3, 'daemon')
    const ds = box.sub('ds')
    const first = await started(ds.dir)
    const call = (...args: string[]) => runLake(args, {cwd: ds.dir, env: {...s3Env(s3), ...env()}})
    ds.write('a.csv', 'id\n1\n')
    for (const args of [['init'], ['add', 'a.csv'], ['commit', '-m', 'c'], ['remote', 'add', 'origin', url]]) assert.equal(call(...args).code, 0)
    assert.ok(alive(first), 'local commands keep it')
    fs.rmSync(traceFile, {force: true})
    const pushed = call('push', '--json')
    assert.equal(pushed.code, 0, describeRun(pushed))
    await until('it to exit after the push', () => !alive(first), 5000)
    assert.deepEqual(traced(), ['served'], 'the push itself was served')
  })

  it("keeps a dataset's event log open a moment between its commands: a process of its own waits that moment, and sees all", async () => {
    const ds = box.sub('ds')
    ds.write('a.csv', 'id,label\n1,3\n')
    await started(ds.dir)
    fs.rmSync(traceFile, {force: true})
    for (const args of [['init'], ['add', 'a.csv'], ['commit', '-m', 'one']]) assert.equal(runLake(args, {cwd: ds.dir, env: env()}).code, 0)
    // at once, outside the resident process: it waits for the event log (LevelDB admits one
    // process), which the resident process lets go within a moment, far within this bound
    const own = {...env(), LAKE_DAEMON: '0', LAKE_LOCK_TIMEOUT: '5'}
    const second = runLake(['commit', '--allow-empty', '-m', 'two', '--json'], {cwd: ds.dir, env: own})
    assert.equal(second.code, 0, describeRun(second))
    const messages = (r: CliResult) => r.json<{commits: {message: string}[]}>().commits.map((c) => c.message)
    assert.deepEqual(messages(runLake(['log', '--json'], {cwd: ds.dir, env: env()})), ['two', 'one'])
    // the dataset removed and made anew at the same path by another process: the next served
    // command reads the new one, never the database it left open
    fs.rmSync(ds.dir, {recursive: true})
    fs.mkdirSync(ds.dir)
    assert.equal(runLake(['init'], {cwd: ds.dir, env: own}).code, 0)
    const fresh = runLake(['status', '--json'], {cwd: ds.dir, env: env()})
    assert.equal(fresh.json<{head: string | null}>().head, null, describeRun(fresh))
    assert.deepEqual(traced(), ['served', 'served', 'served', 'served', 'served'])
  })

  it('a command that finds the resident process busy runs by itself; both succeed', async () => {
    const ds = box.sub('ds')
    await started(ds.dir)
    assert.equal(runLake(['init'], {cwd: ds.dir, env: env()}).code, 0)
    const files = bigFiles('big', 40)
    fs.rmSync(traceFile, {force: true})
    const long = runLakeAsync(['add', files, '--json'], {cwd: ds.dir, env: env()})
    await until('the add to be accepted', () => traced().includes('served'))
    // connections that go at once (a starting resident process's probe, a client that fell
    // back) while it is busy: their failed replies must not fail the command under way
    const {connect} = await import('node:net')
    const socket = path.join(sockets, fs.readdirSync(sockets).find((f) => f.endsWith('.sock'))!)
    for (let i = 0; i < 20; i++) {
      const probe = connect(socket)
      probe.on('error', () => {})
      probe.on('connect', () => probe.destroy())
      await sleep(5)
    }
    const quick = await runLakeAsync(['branch', '--json'], {cwd: ds.dir, env: env()})
    const added = await long
    assert.equal(added.code, 0, describeRun(added))
    assert.equal(added.json().added, 40)
    assert.equal(quick.code, 0, describeRun(quick))
    assert.deepEqual(quick.json(), runLake(['branch', '--json'], {cwd: ds.dir, env: {LAKE_DAEMON: '0'}}).json())
    assert.ok(traced().includes('here: resident process busy'), traced().join('\n'))
  })

  it('a client killed mid-command stops the resident process; the dataset is intact and the next command starts another', async () => {
    const ds = box.sub('ds')
    const first = await started(ds.dir)
    assert.equal(runLake(['init'], {cwd: ds.dir, env: env()}).code, 0)
    ds.write('a.csv', 'id,label\n1,2\n')
    assert.equal(runLake(['add', 'a.csv'], {cwd: ds.dir, env: env()}).code, 0)
    assert.equal(runLake(['commit', '-m', 'kept'], {cwd: ds.dir, env: env()}).code, 0)
    const files = bigFiles('big', 60)
    fs.rmSync(traceFile, {force: true})
    const {spawn} = await import('node:child_process')
    const {baseEnv, BIN} = await import('../helpers/cli.js')
    const child = spawn(process.execPath, [BIN, 'add', files], {cwd: ds.dir, env: baseEnv(env()), stdio: 'ignore'})
    await until('the add to be accepted', () => traced().includes('served'))
    await sleep(100)
    child.kill('SIGKILL')
    await until('the resident process to stop', () => !alive(first), 5000)
    // nothing committed is lost, and the dataset checks clean
    const log = runLake(['log', '--json'], {cwd: ds.dir, env: env()})
    assert.equal(log.code, 0, describeRun(log))
    assert.deepEqual(log.json().commits.map((c: {message: string}) => c.message), ['kept'])
    const fsck = runLake(['fsck', '--json'], {cwd: ds.dir, env: env()})
    assert.equal(fsck.code, 0, describeRun(fsck))
    await until('another resident process', () => daemonPids().length === 1 && daemonPids()[0] !== first)
  })

  it('a resident process killed with -9 leaves a socket that the next one replaces', async () => {
    const ds = box.sub('ds')
    const first = await started(ds.dir)
    process.kill(first, 'SIGKILL')
    await until('it to die', () => !alive(first), 5000)
    assert.equal(fs.readdirSync(sockets).filter((f) => f.endsWith('.sock')).length, 1, 'its socket file is left behind')
    fs.rmSync(traceFile, {force: true})
    assert.equal(runLake(['init'], {cwd: ds.dir, env: env()}).code, 0)
    await until('another resident process', () => daemonPids().length === 1 && daemonPids()[0] !== first && alive(daemonPids()[0]))
    assert.equal(runLake(['status', '--json'], {cwd: ds.dir, env: env()}).code, 0)
    assert.deepEqual(traced(), ['here: no resident process (starting one)', 'served'])
  })

  it('past LAKE_DAEMON_MAX_RSS_MB after a command it serves no more: the command gets its answer, the next starts another', async () => {
    const ds = box.sub('ds')
    const small = env({LAKE_DAEMON_MAX_RSS_MB: '1'}) // every command leaves more than this
    assert.equal(runLake(['init'], {cwd: ds.dir, env: small}).code, 0) // starts one, runs by itself
    await until('the resident process to listen', () => daemonPids().length === 1)
    const pid = daemonPids()[0]
    fs.rmSync(traceFile, {force: true})
    const served = runLake(['status', '--json'], {cwd: ds.dir, env: small})
    assert.equal(served.code, 0, describeRun(served))
    assert.equal(served.json().clean, true)
    await until('it to retire', () => !alive(pid), 5000)
    assert.equal(runLake(['status'], {cwd: ds.dir, env: small}).code, 0)
    assert.deepEqual(traced(), ['served', 'here: no resident process (starting one)'])
  })

  it('stopped with SIGTERM, it removes its socket and pid file', async () => {
    const pid = await started(box.dir)
    process.kill(pid, 'SIGTERM')
    await until('it to exit', () => !alive(pid), 5000)
    assert.deepEqual(fs.readdirSync(sockets), [])
  })

  it('exits after LAKE_DAEMON_IDLE seconds without a command, removing its socket', async () => {
    const r = runLake(['branch'], {cwd: box.dir, env: env({LAKE_DAEMON_IDLE: '1'})})
    assert.equal(r.code, 1, describeRun(r)) // not a dataset: the command's own error
    await until('the resident process to listen', () => daemonPids().length === 1)
    const pid = daemonPids()[0]
    await until('it to exit', () => !alive(pid), 10_000)
    assert.deepEqual(fs.readdirSync(sockets), [])
  })

  it('never uses a socket directory that others may write or a symlink, nor one for help', async () => {
    fs.chmodSync(sockets, 0o777)
    const r = runLake(['init'], {cwd: box.dir, env: env()})
    assert.equal(r.code, 0, describeRun(r))
    assert.deepEqual(fs.readdirSync(sockets), [])
    fs.chmodSync(sockets, 0o700)
    assert.equal(runLake(['--help'], {cwd: box.dir, env: env()}).code, 0)
    // nor a symlink to a directory (another user may have planted it in /tmp)
    const link = path.join(box.dir, 'link')
    fs.symlinkSync(sockets, link)
    assert.equal(runLake(['status'], {cwd: box.dir, env: env({LAKE_DAEMON_DIR: link})}).code, 0)
    assert.deepEqual(fs.readdirSync(sockets), [])
    assert.deepEqual(traced(), ['here: no safe socket directory', 'here: not eligible', 'here: no safe socket directory'])
  })
})
