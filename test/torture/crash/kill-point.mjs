// Preloaded into a `lake` process (node --import) by the crash harness: kill -9 at an exact point.
// Every file-system mutation lake makes (fs/promises: open for writing, write, fsync, rename,
// link, unlink, mkdir, rmdir, rm, utimes; fs: openSync for writing, writeSync, fsync, mkdirSync,
// renameSync, unlinkSync, writeFileSync) and every LevelDB open/write/batch is a point before the
// call and a point after it resolves. With LAKE_KILL_AT=k the process SIGKILLs itself at the k-th
// point: the same moment a `kill -9` from outside could land, but chosen by seed instead of by
// timer, so the harness reaches the narrow windows (between a rename and its directory fsync,
// just before or after the commit's event batch) that wall-clock kills rarely hit.
// With LAKE_KILL_COUNT=<file> the process writes the number of points it passed at exit (the
// harness calibrates k from it). Plain .mjs: the CLI runs without tsx.
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import {createRequire, syncBuiltinESMExports} from 'node:module'

const killAt = Number(process.env.LAKE_KILL_AT ?? 0)
const writeCountFile = fs.writeFileSync // taken before the wrapping below: the count is no point
const countFile = process.env.LAKE_KILL_COUNT
let points = 0

function point() {
  points++
  if (points === killAt) process.kill(process.pid, 'SIGKILL')
}

function around(owner, name, when = () => true) {
  const original = owner[name]
  if (typeof original !== 'function') return
  owner[name] = function (...args) {
    if (!when(args)) return original.apply(this, args)
    point()
    const result = original.apply(this, args)
    return result && typeof result.then === 'function' ? result.then((v) => (point(), v)) : (point(), result)
  }
}

// Reads do not count: only what can leave something behind on disk.
const writesFlags = (args) => {
  const flags = args[1] ?? 'r'
  return typeof flags === 'number' ? (flags & 3) !== 0 : /[wax+]/.test(flags)
}
around(fsp, 'open', writesFlags)
for (const name of ['writeFile', 'appendFile', 'rename', 'link', 'unlink', 'mkdir', 'rmdir', 'rm', 'utimes', 'copyFile', 'truncate']) around(fsp, name)

// FileHandle has no public constructor: reach its prototype through a handle.
const handle = await fsp.open(new URL(import.meta.url), 'r')
const FileHandle = Object.getPrototypeOf(handle)
await handle.close()
for (const name of ['write', 'writeFile', 'sync', 'datasync', 'truncate']) around(FileHandle, name)

// The same through descriptors: the file store writes a command's objects with openSync/writeSync
// and fsyncs them with fs.fsync at the flush (a point when it starts and one when it completes).
around(fs, 'openSync', writesFlags)
for (const name of ['writeSync', 'mkdirSync', 'renameSync', 'unlinkSync', 'writeFileSync']) around(fs, name)
const fsyncWithCallback = fs.fsync
fs.fsync = function (fd, callback) {
  point()
  return fsyncWithCallback.call(this, fd, (err) => {
    point()
    callback(err)
  })
}

syncBuiltinESMExports()

// LevelDB (classic-level, resolved from the repository's node_modules like lake's own import).
try {
  const require = createRequire(new URL('../../../package.json', import.meta.url))
  const {ClassicLevel} = require('classic-level')
  for (const name of ['_open', '_put', '_del', '_batch']) around(ClassicLevel.prototype, name)
} catch {
  // no LevelDB module: file points only
}

if (countFile) process.on('exit', () => writeCountFile(countFile, String(points)))
