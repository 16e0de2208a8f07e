// The client side of LAKE_DAEMON=1 (src/cli/server.ts is the resident process; README "Many short
// commands"): hands the command to a warm lake process of this very build, for this user, and
// relays what it writes and its exit code. Anything that stops that (no resident process yet, one
// busy with another command, a socket directory that is not safely ours) runs the command here,
// as without LAKE_DAEMON; a missing resident process is started for the next command.
//
// Kept small and CommonJS: this is what every command loads first.
'use strict'
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

// the frame types of src/cli/server.ts (its FRAME: keep the two equal)
const FRAME = {accepted: 0, stdout: 1, stderr: 2, exit: 3, busy: 4}
const SERVE = '__lake-serve'
// Variables read once, when a module loads (debug output, colour support, Node's own options and
// locale), not when a command runs: a resident process serves only clients that agree with it on
// all of them (they are part of its socket's name), and starts with these and little else.
const LOAD_TIME = /^(DEBUG|NODE_OPTIONS|NODE_DEBUG|NODE_PATH|FORCE_COLOR|NO_COLOR|TERM|COLORTERM|CI|LANG|LANGUAGE|LC_[A-Z]+|OCLIF_[A-Z_]+)$/
const loadTimeEnv = () => Object.keys(process.env).filter((k) => LOAD_TIME.test(k)).sort().map((k) => [k, process.env[k]])

/** FNV-1a, 32 bits, as hex: a short stable name (no crypto module to load). */
function fnv1a(text) {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h.toString(16).padStart(8, '0')
}

/**
 * The socket of the resident process for this build of lake (its bundle's size and mtime), this
 * Node and this package directory, in a directory only this user can use; undefined when there
 * is no bundle, the directory is not safe, or the path is too long for a socket.
 */
function socketFor(root) {
  let bundle
  try {
    bundle = fs.statSync(path.join(root, 'dist', 'lake.cjs'))
  } catch {
    return undefined
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined
  const dir = process.env.LAKE_DAEMON_DIR || path.join(os.tmpdir(), `lake-daemon-${uid ?? 'user'}`)
  try {
    fs.mkdirSync(dir, {recursive: true, mode: 0o700})
    const st = fs.lstatSync(dir)
    // a symlink, another user's directory, or one others may write: never talk through it
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) return undefined
  } catch {
    return undefined
  }
  const key = `${root}\0${bundle.size}\0${bundle.mtimeMs}\0${process.version}\0${process.arch}\0${JSON.stringify(loadTimeEnv())}`
  const socket = path.join(dir, `${fnv1a(key)}.sock`)
  // a Unix socket's path has a length limit (104 bytes on macOS, 108 on Linux)
  return Buffer.byteLength(socket) <= 100 ? socket : undefined
}

/**
 * Whether a command may run in the resident process: not help, not with stdout or stderr on a
 * terminal (colours and progress bars follow the terminal), not one that names this process's
 * own standard input or descriptors as a file.
 */
function eligible(args) {
  // (Unix sockets; Windows would need named pipes)
  if (process.platform === 'win32') return false
  if (args.length === 0 || args[0] === 'help' || args[0] === SERVE) return false
  if (process.stderr.isTTY || process.stdout.isTTY) return false
  for (const arg of args) {
    if (arg === '--help' || arg === '-h') return false
    if (/\/dev\/(std(in|out|err)|fd\/)|\/proc\/self\//.test(arg)) return false
  }
  return true
}

/** Starts the resident process for `socket`, detached; it serves from the next command on. */
function startServer(root, socket) {
  const {spawn} = require('node:child_process')
  try {
    // its own environment is only what it needs to start: each command brings its own
    const env = Object.fromEntries(loadTimeEnv())
    for (const k of ['PATH', 'HOME', 'TMPDIR', 'LAKE_DAEMON_IDLE', 'LAKE_DAEMON_MAX_RSS_MB']) if (process.env[k] !== undefined) env[k] = process.env[k]
    spawn(process.execPath, [path.join(root, 'bin', 'run.js'), SERVE, socket], {detached: true, stdio: 'ignore', cwd: path.dirname(socket), env}).unref()
  } catch {
    // no resident process: every command runs in its own, as without LAKE_DAEMON
  }
}

/** LAKE_DAEMON_TRACE=FILE: one line per command, where it ran and why (to debug, and for tests). */
function trace(what) {
  const file = process.env.LAKE_DAEMON_TRACE
  if (file) fs.appendFileSync(file, `${what}\n`)
}

/** Runs `args` in the resident process if it can, else calls runHere(). */
function run(args, root, runHere) {
  if (!eligible(args)) {
    trace('here: not eligible')
    return runHere()
  }
  let cwd
  try {
    cwd = process.cwd()
  } catch {
    trace('here: no working directory')
    return runHere() // (deleted under us: the command says what that means, as by itself)
  }
  const socket = socketFor(root)
  if (socket === undefined) {
    trace('here: no safe socket directory')
    return runHere()
  }
  // A reader that stops early (`lake log | head -1`): what follows is dropped, as oclif does in a
  // process of its own, and the exit code stays the command's.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error) => {
      if (error && error.code !== 'EPIPE') throw error
    })
  }
  const conn = net.connect(socket)
  let accepted = false
  let finished = false
  let pending = Buffer.alloc(0)
  let fellBack = false
  const fallBack = (start, why) => {
    if (fellBack) return
    fellBack = true
    trace(`here: ${why}`)
    conn.destroy()
    if (start) startServer(root, socket)
    runHere()
  }
  conn.once('error', () => {
    if (!accepted) fallBack(true, 'no resident process (starting one)')
  })
  conn.on('connect', () => conn.write(`${JSON.stringify({args, cwd, env: process.env, umask: process.umask()})}\n`))
  conn.on('data', (data) => {
    pending = pending.length === 0 ? data : Buffer.concat([pending, data])
    while (pending.length >= 5) {
      const length = pending.readUInt32BE(1)
      if (pending.length < 5 + length) break
      const type = pending[0]
      const payload = pending.subarray(5, 5 + length)
      pending = pending.subarray(5 + length)
      if (type === FRAME.busy && !accepted) return fallBack(false, 'resident process busy')
      if (type === FRAME.accepted) {
        accepted = true
        trace('served')
      }
      else if (type === FRAME.stdout) process.stdout.write(payload)
      else if (type === FRAME.stderr) process.stderr.write(payload)
      else if (type === FRAME.exit) {
        finished = true
        process.exitCode = payload.readInt32BE(0)
        conn.end()
      }
    }
  })
  conn.on('close', () => {
    if (!accepted) return fallBack(false, 'refused') // before running anything (no-op when fallen back already)
    if (!finished) {
      process.stderr.write('error: the resident lake process stopped before the command finished\nhint: run the command again (it is safe: a command stopped midway is recovered like a crash); set LAKE_DAEMON=0 to run without it\n')
      process.exitCode = 1
    }
  })
  // Interrupted or terminated: leave at once; the resident process, seeing this connection close,
  // stops too (as the command would have in a process of its own).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      conn.destroy()
      process.exit(128 + os.constants.signals[signal])
    })
  }
}

module.exports = {run, SERVE}
