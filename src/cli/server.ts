// The resident `lake` process behind LAKE_DAEMON=1 (bin/daemon-client.js is its client; README
// "Many short commands"). Node takes ~120 ms to start on the machines lake is measured on and lake's
// code runs cold in a fresh process, so a script of many short commands (add, commit, tag: a CI
// job's versioning step) spends most of its time starting. The client forwards a command here;
// this process runs it exactly as `bin/run.js` would (the same main(), in the client's working
// directory, environment, argv and umask), streams its stdout and stderr back and ends with its
// exit code. Each command opens and closes what it uses, as in its own process, so other lake
// processes see the same locks and files as before, with one exception: a dataset's event log
// stays open EVENT_LOG_LINGER_MS after a command that used it, for the next command on it.
//
// One command at a time: a client that finds it busy runs the command itself. A client that goes
// away mid-command (Ctrl-C, kill -9) takes this process with it, at the command's next wait for
// I/O (see the 'close' handler), as a killed `lake` would stop: what a command left half done is
// then exactly what a crash leaves (nothing committed is lost; the next command recovers). It
// exits after LAKE_DAEMON_IDLE seconds without a command.
//
// Frames to the client: one byte of type (FRAME, the same in bin/daemon-client.js), a u32
// (big-endian) length, the payload.
import {createServer, connect, type Server, type Socket} from 'node:net'
import {chmodSync, renameSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {closeLingeringEventDb, lingerEventDbs} from '../core/events/db.js'
import {EXTRA_CA_ENV} from '../core/storage/extra-ca.js'
import {dropAllMemoryStores} from '../core/storage/memory.js'
import {main} from './main.js'

// process.exit as it is when this module loads: a command's run replaces it (runRequest)
const exitProcess = process.exit.bind(process)

/**
 * How long the event log of a served command stays open for the next one (events/db.ts
 * lingerEventDbs): longer than the gap between a script's commands (a client's start-up), short
 * enough that a lake process outside this one, waiting for the dataset, hardly notices.
 */
const EVENT_LOG_LINGER_MS = 300

// (bin/daemon-client.js, which cannot load this bundle, has its own copy: keep the two equal)
export const FRAME = {accepted: 0, stdout: 1, stderr: 2, exit: 3, busy: 4} as const

/** What a client sends first: one line of JSON. */
export interface DaemonRequest {
  args: string[]
  cwd: string
  env: Record<string, string>
  umask: number
}

/**
 * Whether a command has loaded the AWS SDK (S3 storage or remotes): the SDK keeps what it read of
 * ~/.aws/config and credentials for the life of the process, so a process that loaded it serves
 * no further command (the next one starts afresh, as a process of its own would read the files).
 */
function awsSdkLoaded(): boolean {
  return Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/node_modules/@aws-sdk/') || path.includes('/node_modules/@smithy/'))
}

export function frame(type: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length)
  out[0] = type
  out.writeUInt32BE(payload.length, 1)
  out.set(payload, 5)
  return out
}

/**
 * Serves commands on the Unix socket `socketPath` until idle for `idleMs`. `root` is the package
 * (as main() takes it), `bin` the path of bin/run.js (the argv[1] commands see). Past `maxRssBytes`
 * after a command it serves no more (a fresh process starts small: a big add's heap stays).
 */
export async function serve(root: string, bin: string, socketPath: string, idleMs: number, maxRssBytes: number): Promise<void> {
  // a script's next command on the same dataset comes a Node start-up (~0.1 s) after the last
  lingerEventDbs(EVENT_LOG_LINGER_MS)
  const server = createServer({allowHalfOpen: false})
  let busy = false
  let idleTimer: NodeJS.Timeout | undefined
  let listening: number | undefined // the inode of our socket file
  const armIdle = () => {
    clearTimeout(idleTimer)
    idleTimer = setTimeout(() => shutDown(0), idleMs)
  }
  const shutDown = (code: number, graceful = true) => {
    server.close()
    // the socket and pid files are ours only while the socket is the one we bound (a process that
    // replaced a stale socket at the same moment as us may hold the name now)
    try {
      if (listening !== undefined && statSync(socketPath).ino === listening) {
        unlinkSync(socketPath)
        unlinkSync(`${socketPath}.pid`)
      }
    } catch {
      // gone already
    }
    // A database the last command left open is closed as a lake process closes it, unless a
    // command is cut short: its process ends at once, as a killed one does (then LevelDB replays
    // its log at the next open, as after any kill)
    if (!graceful) exitProcess(code)
    setTimeout(() => exitProcess(code), 2000).unref()
    void closeLingeringEventDb().finally(() => exitProcess(code))
  }
  // A failure outside any command's promise (a bug): the command under way, if any, fails with
  // it, and this process ends once the client has the news (or after a second).
  process.on('uncaughtException', (error) => {
    if (!current) shutDown(1, false)
    current?.fail(error, () => shutDown(1, false))
    setTimeout(() => shutDown(1, false), 1000).unref()
  })
  let current: {fail(error: unknown, then: () => void): void} | undefined
  // stopped (kill, logout): as a lake process stops, without its socket and pid file left behind
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130], ['SIGHUP', 129]] as const) process.once(signal, () => shutDown(code))

  server.on('connection', (socket) => {
    // A client that has gone (a probe, a client that fell back, one killed) fails our writes to
    // it: that is no failure of this process, nor of the command under way. (Its going away
    // mid-command is seen by the 'close' below.)
    socket.on('error', () => {})
    if (busy) {
      socket.end(frame(FRAME.busy))
      return
    }
    busy = true
    clearTimeout(idleTimer)
    let retiring = false
    readRequest(socket).then(
      async (request) => {
        if (request === undefined) return // the client left before asking
        socket.write(frame(FRAME.accepted))
        // The client is gone (interrupted, killed): stop as a killed lake would. Seen at the
        // command's next wait for I/O, and a command waits for I/O before its commit point (its
        // objects' flush), so one whose client died before that point never lands; a synchronous
        // stretch before it (parsing a big CSV) runs on in vain until then. (A watchdog thread
        // polling the client's pid was tried: it was itself held up for seconds during such
        // stretches, for a reason not found.)
        socket.on('close', () => shutDown(130, false))
        current = {
          fail: (error, then) => {
            socket.removeAllListeners('close')
            socket.end(Buffer.concat([frame(FRAME.stderr, Buffer.from(`error: ${String((error as Error)?.stack ?? error)}\n`)), frame(FRAME.exit, int32(1))]), then)
          },
        }
        const code = await runRequest(request, root, bin, socket)
        current = undefined
        socket.removeAllListeners('close')
        // Past the memory bound, or after the AWS SDK was loaded: serve no more. Stop taking
        // connections first, so that no other command is accepted and then cut short.
        retiring = process.memoryUsage().rss > maxRssBytes || awsSdkLoaded()
        if (retiring) server.close()
        // (written data stays readable by the client after this process exits)
        socket.end(frame(FRAME.exit, int32(code)), () => retiring && shutDown(0))
      },
      () => socket.destroy(),
    ).finally(() => {
      if (retiring) return // busy to the end
      busy = false
      armIdle()
    })
  })

  listening = await listen(server, socketPath)
  // which process serves (for `kill`, and for tests)
  writeFileSync(`${socketPath}.pid`, `${process.pid}\n`, {mode: 0o600})
  armIdle()
}

function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4)
  b.writeInt32BE(n)
  return b
}

/** The first line the client sends, parsed; undefined when it closes first. */
function readRequest(socket: Socket): Promise<DaemonRequest | undefined> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    const onData = (data: Buffer) => {
      const nl = data.indexOf(10)
      if (nl < 0) {
        parts.push(data)
        return
      }
      parts.push(data.subarray(0, nl))
      socket.off('data', onData)
      socket.off('end', onEnd)
      // the client sends nothing more; reading on is how its going away is seen (as 'close')
      socket.on('data', () => {})
      try {
        const request = JSON.parse(Buffer.concat(parts).toString('utf8')) as DaemonRequest
        if (!Array.isArray(request.args) || typeof request.cwd !== 'string' || typeof request.env !== 'object') throw new Error('bad request')
        resolve(request)
      } catch (error) {
        reject(error)
      }
    }
    const onEnd = () => resolve(undefined)
    socket.on('data', onData)
    socket.once('end', onEnd)
    socket.once('error', reject)
  })
}

/**
 * Runs one command as its own process would: argv, working directory, environment and umask are
 * the client's for its duration; stdout and stderr go to the client; process.exit (oclif's error
 * handler calls it) ends the command, not this process. Returns the exit code.
 */
async function runRequest(request: DaemonRequest, root: string, bin: string, socket: Socket): Promise<number> {
  // oclif's flush() leaves a 'drain' listener on stdout each run (it resolves on the write instead):
  // one per command would pile up here
  const drainListeners = (stream: NodeJS.WriteStream) => new Set(stream.listeners('drain'))
  const drainBefore = [drainListeners(process.stdout), drainListeners(process.stderr)] as const
  const saved = {argv: process.argv, env: {...process.env}, cwd: process.cwd(), umask: process.umask(request.umask), exit: process.exit, out: process.stdout.write, err: process.stderr.write}
  let exitCode: number | undefined
  const writer = (type: number) =>
    function write(chunk: string | Uint8Array, encoding?: BufferEncoding | ((error?: Error | null) => void), callback?: (error?: Error | null) => void): boolean {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : chunk
      if (!socket.destroyed) socket.write(frame(type, bytes))
      const done = typeof encoding === 'function' ? encoding : callback
      if (done) process.nextTick(done)
      return true
    }
  try {
    process.chdir(request.cwd)
    for (const key of Object.keys(process.env)) delete process.env[key]
    Object.assign(process.env, request.env)
    // this process started without the command's NODE_EXTRA_CA_CERTS: lake adds them itself (and
    // the variable wins over LAKE_EXTRA_CA_CERTS, as in the launcher)
    if (process.env.NODE_EXTRA_CA_CERTS) process.env[EXTRA_CA_ENV] = process.env.NODE_EXTRA_CA_CERTS
    process.argv = [process.execPath, bin, ...request.args]
    process.exitCode = undefined
    process.exit = ((code?: number) => {
      exitCode ??= code ?? Number(process.exitCode ?? 0)
    }) as typeof process.exit
    process.stdout.write = writer(FRAME.stdout) as typeof process.stdout.write
    process.stderr.write = writer(FRAME.stderr) as typeof process.stderr.write
    await main(request.args, root)
  } catch (error) {
    process.stderr.write(`error: ${(error as Error)?.message ?? String(error)}\n`)
    exitCode ??= 1
  } finally {
    for (const [i, stream] of [process.stdout, process.stderr].entries()) {
      for (const fn of stream.listeners('drain')) if (!drainBefore[i].has(fn)) stream.removeListener('drain', fn as (...args: unknown[]) => void)
    }
    process.stdout.write = saved.out
    process.stderr.write = saved.err
    process.exit = saved.exit
    process.argv = saved.argv
    for (const key of Object.keys(process.env)) delete process.env[key]
    Object.assign(process.env, saved.env)
    process.umask(saved.umask)
    try {
      process.chdir(saved.cwd)
    } catch {
      process.chdir('/')
    }
  }
  // memory:// stores end with their command, as with a process of its own
  dropAllMemoryStores()
  const code = exitCode ?? Number(process.exitCode ?? 0)
  process.exitCode = undefined
  return code
}

/**
 * Listens on `path` and returns the inode of the socket file. A socket file left by a process that
 * died is replaced, a live one is not. The socket is bound under a temporary name, made private,
 * then renamed into place: two processes replacing a stale socket at once never leave one bound
 * to a name the other then removed.
 */
async function listen(server: Server, path: string): Promise<number> {
  if (await answers(path)) throw new Error(`another lake daemon serves ${path}`)
  const temp = `${path}.${process.pid}.tmp`
  try {
    unlinkSync(temp)
  } catch {
    // none
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(temp, () => {
      server.off('error', reject)
      resolve()
    })
  })
  chmodSync(temp, 0o600)
  const ino = statSync(temp).ino
  renameSync(temp, path)
  return ino
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path)
    probe.once('connect', () => {
      probe.destroy()
      resolve(true)
    })
    probe.once('error', () => resolve(false))
  })
}
