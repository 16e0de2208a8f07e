// Power-cut simulation for lake's file writes. While lake runs in-process, every file-system
// mutation under a root is journaled (fs/promises, FileHandle, and fs's descriptor calls — openSync,
// writeSync, fsync, closeSync — and mkdirSync are wrapped): file creation,
// content, fsync, rename, link, unlink, mkdir, rmdir, directory fsync; LevelDB writes are journaled
// as snapshots of its directory taken when each write resolves (LevelDB is native code: its own
// files are not seen one by one; what it wrote with `sync: true` is on disk by then).
// `crashImage(cut)` then builds the directory as a power cut after the first `cut` journal entries
// could leave it, starting from a copy of the root taken before the run:
//  - metadata (a new name, a rename, a link, an unlink, a mkdir) that no fsync of its directory
//    has covered survives or is lost, each at random (independently: no ordering between
//    directories is assumed); a kept operation whose source or parent is gone is dropped, as a
//    file system would never show it;
//  - file content written after the file's last fsync is lost, cut short, or kept, at random;
//  - LevelDB's directory is its snapshot at its last completed write; with a write in flight, the
//    tail of that write may be on disk, cut anywhere (LevelDB must drop a torn record).
// Randomness comes from the caller's seeded PRNG.
import fsSync, {cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync} from 'node:fs'
import fsp from 'node:fs/promises'
import {createRequire, syncBuiltinESMExports} from 'node:module'
import path from 'node:path'

type Entry = {kind: 'file'; ino: number} | {kind: 'dir'; native?: boolean}

type Op =
  | {op: 'create'; path: string; ino: number}
  | {op: 'data'; ino: number; bytes: Buffer}
  | {op: 'fsync'; ino: number; bytes: Buffer}
  | {op: 'mkdir'; path: string; native?: boolean}
  | {op: 'rename'; from: string; to: string}
  | {op: 'link'; from: string; to: string}
  | {op: 'unlink'; path: string}
  | {op: 'rmdir'; path: string}
  | {op: 'dirsync'; dir: string; covers: number}
  | {op: 'db-start'}
  | {op: 'db'; snap: string}

const META = new Set(['create', 'mkdir', 'rename', 'link', 'unlink', 'rmdir'])
const parent = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '')
/** Inode numbers below 0 stand for files that were in the root before the run (content: the copy). */
const S0_INO = -1

export class PowerCutJournal {
  readonly ops: Op[] = []
  private readonly content = new Map<number, Buffer>()
  private nextIno = 1
  private restore: (() => void)[] = []
  private snaps = 0

  /** `root`: what is journaled; `before`: a copy of root made now; `scratch`: where db snapshots go. */
  constructor(readonly root: string, readonly before: string, private readonly scratch: string) {}

  static async start(root: string, scratch: string): Promise<PowerCutJournal> {
    const before = path.join(scratch, 'before')
    mkdirSync(root, {recursive: true})
    cpSync(root, before, {recursive: true})
    const j = new PowerCutJournal(root, before, scratch)
    await j.install()
    return j
  }

  get length(): number {
    return this.ops.length
  }

  private rel(p: unknown): string | null {
    if (typeof p !== 'string' && !(p instanceof URL)) return null
    const abs = path.resolve(p instanceof URL ? p.pathname : p)
    const r = path.relative(this.root, abs)
    return r.startsWith('..') || path.isAbsolute(r) ? null : r.split(path.sep).join('/')
  }

  private create(rel: string): number {
    const ino = this.nextIno++
    this.ops.push({op: 'create', path: rel, ino})
    this.content.set(ino, Buffer.alloc(0))
    return ino
  }

  private setData(ino: number, bytes: Buffer): void {
    this.content.set(ino, bytes)
    this.ops.push({op: 'data', ino, bytes})
  }

  private wrap<T extends object>(owner: T, name: string, make: (original: (...a: any[]) => any) => (...a: any[]) => any): void {
    const original = (owner as any)[name]
    ;(owner as any)[name] = make(original)
    this.restore.push(() => ((owner as any)[name] = original))
  }

  private async install(): Promise<void> {
    const j = this
    const handles = new WeakMap<object, {file?: {rel: string; ino: number}; dir?: string}>()
    const missingDirs = (abs: string): string[] => {
      const out: string[] = []
      for (let d = path.resolve(abs); !existsSync(d); d = path.dirname(d)) out.unshift(d)
      return out
    }

    this.wrap(fsp, 'open', (open) => async function (this: unknown, p: string, flags: string | number = 'r', mode?: number) {
      const rel = j.rel(p)
      const writing = typeof flags === 'number' ? (flags & 3) !== 0 : /[wax+]/.test(flags)
      const h = await open.call(this, p, flags, mode)
      if (rel === null) return h
      if (writing) handles.set(h, {file: {rel, ino: j.create(rel)}})
      else if (statSync(p).isDirectory()) handles.set(h, {dir: rel})
      return h
    })
    this.wrap(fsp, 'writeFile', (writeFile) => async function (this: unknown, p: string, data: any, opts?: any) {
      const rel = j.rel(p)
      const r = await writeFile.call(this, p, data, opts)
      if (rel !== null) j.setData(j.create(rel), Buffer.from(typeof data === 'string' ? Buffer.from(data) : data))
      return r
    })
    this.wrap(fsp, 'rename', (rename) => async function (this: unknown, a: string, b: string) {
      const r = await rename.call(this, a, b)
      const [ra, rb] = [j.rel(a), j.rel(b)]
      if (ra !== null && rb !== null) j.ops.push({op: 'rename', from: ra, to: rb})
      return r
    })
    this.wrap(fsp, 'link', (link) => async function (this: unknown, a: string, b: string) {
      const r = await link.call(this, a, b)
      const [ra, rb] = [j.rel(a), j.rel(b)]
      if (ra !== null && rb !== null) j.ops.push({op: 'link', from: ra, to: rb})
      return r
    })
    this.wrap(fsp, 'unlink', (unlink) => async function (this: unknown, p: string) {
      const r = await unlink.call(this, p)
      const rel = j.rel(p)
      if (rel !== null) j.ops.push({op: 'unlink', path: rel})
      return r
    })
    this.wrap(fsp, 'rmdir', (rmdir) => async function (this: unknown, p: string, o?: any) {
      const r = await rmdir.call(this, p, o)
      const rel = j.rel(p)
      if (rel !== null) j.ops.push({op: 'rmdir', path: rel})
      return r
    })
    const journalMkdirs = (made: string[]) => {
      for (const d of made) {
        const rel = j.rel(d)
        if (rel !== null && rel !== '') j.ops.push({op: 'mkdir', path: rel})
      }
    }
    this.wrap(fsp, 'mkdir', (mkdir) => async function (this: unknown, p: string, o?: any) {
      const made = missingDirs(p)
      const r = await mkdir.call(this, p, o)
      journalMkdirs(made)
      return r
    })
    this.wrap(fsp, 'rm', (rm) => async function (this: unknown, p: string, o?: any) {
      const rel = j.rel(p)
      const doomed: {rel: string; dir: boolean}[] = []
      if (rel !== null && existsSync(p)) {
        const walk = (abs: string, r: string) => {
          if (statSync(abs).isDirectory()) {
            for (const n of readdirSync(abs)) walk(path.join(abs, n), `${r}/${n}`)
            doomed.push({rel: r, dir: true})
          } else doomed.push({rel: r, dir: false})
        }
        walk(path.resolve(p), rel)
      }
      const r = await rm.call(this, p, o)
      for (const d of doomed) j.ops.push(d.dir ? {op: 'rmdir', path: d.rel} : {op: 'unlink', path: d.rel})
      return r
    })

    const probe = await fsp.open(new URL(import.meta.url), 'r')
    const FileHandle = Object.getPrototypeOf(probe)
    await probe.close()
    this.wrap(FileHandle, 'writeFile', (writeFile) => async function (this: object, data: any, opts?: any) {
      const r = await writeFile.call(this, data, opts)
      const t = handles.get(this)?.file
      if (t) j.setData(t.ino, Buffer.from(typeof data === 'string' ? Buffer.from(data) : data))
      return r
    })
    this.wrap(FileHandle, 'write', (write) => async function (this: object, buf: any, ...rest: any[]) {
      const r = await write.call(this, buf, ...rest)
      const t = handles.get(this)?.file
      if (t) {
        // Appends at the end (how lake writes through a handle): the bytes written, in order.
        const bytes = typeof buf === 'string' ? Buffer.from(buf) : Buffer.from(buf.buffer, buf.byteOffset, r.bytesWritten)
        j.setData(t.ino, Buffer.concat([j.content.get(t.ino)!, bytes]))
      }
      return r
    })
    for (const name of ['sync', 'datasync']) {
      this.wrap(FileHandle, name, (sync) => async function (this: object) {
        const t = handles.get(this)
        const covers = j.ops.length
        const bytes = t?.file ? j.content.get(t.file.ino)! : undefined
        const r = await sync.call(this)
        if (t?.file) j.ops.push({op: 'fsync', ino: t.file.ino, bytes: bytes!})
        else if (t?.dir !== undefined) j.ops.push({op: 'dirsync', dir: t.dir, covers})
        return r
      })
    }
    // Descriptors (the file store writes its deferred objects synchronously, fsyncs them later).
    const fds = new Map<number, {rel: string; ino: number}>()
    this.wrap(fsSync, 'openSync', (openSync) => function (this: unknown, p: string, flags: string | number = 'r', mode?: number) {
      const fd = openSync.call(this, p, flags, mode)
      const rel = j.rel(p)
      const writing = typeof flags === 'number' ? (flags & 3) !== 0 : /[wax+]/.test(flags)
      if (rel !== null && writing) fds.set(fd, {rel, ino: j.create(rel)})
      return fd
    })
    this.wrap(fsSync, 'writeSync', (writeSync) => function (this: unknown, fd: number, buf: any, ...rest: any[]) {
      const n = writeSync.call(this, fd, buf, ...rest)
      const t = fds.get(fd)
      if (t) {
        // Appends at the end (how lake writes through a descriptor): the bytes written, in order.
        // only the form lake uses (buffer, offset, length), appending at the end: any other would be journaled wrong
        if (typeof buf === 'string' || (rest.length > 0 && typeof rest[0] !== 'number') || (rest[2] !== undefined && rest[2] !== null)) {
          throw new Error('power-cut journal: only writeSync(fd, buffer[, offset[, length]]) appending is journaled')
        }
        const offset = typeof rest[0] === 'number' ? rest[0] : 0
        const bytes = Buffer.from(buf.buffer, buf.byteOffset + offset, n)
        j.setData(t.ino, Buffer.concat([j.content.get(t.ino)!, bytes]))
      }
      return n
    })
    this.wrap(fsSync, 'fsync', (fsync) => function (this: unknown, fd: number, cb: (err: Error | null) => void) {
      const t = fds.get(fd)
      const bytes = t ? j.content.get(t.ino)! : undefined
      return fsync.call(this, fd, (err: Error | null) => {
        if (!err && t) j.ops.push({op: 'fsync', ino: t.ino, bytes: bytes!})
        cb(err)
      })
    })
    this.wrap(fsSync, 'closeSync', (closeSync) => function (this: unknown, fd: number) {
      fds.delete(fd)
      return closeSync.call(this, fd)
    })
    this.wrap(fsSync, 'mkdirSync', (mkdirSync) => function (this: unknown, p: string, o?: any) {
      const made = missingDirs(p)
      const r = mkdirSync.call(this, p, o)
      journalMkdirs(made)
      return r
    })
    syncBuiltinESMExports()

    // LevelDB: its directory appears (natively) at open; each write is a snapshot.
    const require = createRequire(new URL('../../../package.json', import.meta.url))
    const {ClassicLevel} = require('classic-level')
    this.wrap(ClassicLevel.prototype, '_open', (open) => async function (this: {location: string}, ...a: any[]) {
      const made = missingDirs(this.location)
      const r = await open.apply(this, a)
      for (const d of made) {
        const rel = j.rel(d)
        if (rel !== null && rel !== '') j.ops.push({op: 'mkdir', path: rel, native: d === path.resolve(this.location)})
      }
      j.snapshotDb(this.location)
      return r
    })
    for (const name of ['_put', '_del', '_batch']) {
      this.wrap(ClassicLevel.prototype, name, (write) => async function (this: {location: string}, ...a: any[]) {
        j.ops.push({op: 'db-start'})
        const r = await write.apply(this, a)
        j.snapshotDb(this.location)
        return r
      })
    }
  }

  private snapshotDb(location: string): void {
    const snap = path.join(this.scratch, `db-${++this.snaps}`)
    // LevelDB compacts in a background thread: copy again until the file list held still.
    for (let attempt = 0; ; attempt++) {
      const names = readdirSync(location).sort().join()
      try {
        cpSync(location, snap, {recursive: true})
        if (readdirSync(location).sort().join() === names) break
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 50) throw error
      }
      rmSync(snap, {recursive: true, force: true})
    }
    this.ops.push({op: 'db', snap})
  }

  stop(): void {
    for (const undo of this.restore.reverse()) undo()
    this.restore = []
    syncBuiltinESMExports()
  }

  /** Writes into `out` what the root could hold after a power cut following the first `cut` entries. */
  crashImage(cut: number, out: string, rand: () => number): {metaOps: number; lostMeta: number; tornFiles: number; tornDb: boolean} {
    const ops = this.ops.slice(0, cut)
    // 1. Which metadata operations a directory fsync covered (a rename or link across two
    //    directories needs both).
    const dirsOf = (o: Op): string[] =>
      o.op === 'rename' || o.op === 'link' ? [...new Set([parent(o.from), parent(o.to)])] : 'path' in o ? [parent(o.path)] : []
    const syncedDirs = new Map<number, Set<string>>()
    ops.forEach((o, i) => {
      if (o.op !== 'dirsync') return
      for (let k = 0; k < Math.min(o.covers, i); k++) if (META.has(ops[k].op)) (syncedDirs.get(k) ?? syncedDirs.set(k, new Set()).get(k)!).add(o.dir)
    })
    const durable = (k: number) => dirsOf(ops[k]).every((d) => syncedDirs.get(k)?.has(d))

    // 2. Replay the surviving metadata in order over the tree as it was before.
    const view = new Map<string, Entry | null>()
    const lookup = (p: string): Entry | null => {
      if (p === '') return {kind: 'dir'}
      if (view.has(p)) return view.get(p)!
      const abs = path.join(this.before, p)
      if (!existsSync(abs)) return null
      return statSync(abs).isDirectory() ? {kind: 'dir'} : {kind: 'file', ino: S0_INO}
    }
    const s0Source = new Map<string, string>() // path now → path in the copy, for files moved from before
    const touched = new Set<string>()
    const set = (p: string, e: Entry | null) => {
      view.set(p, e)
      touched.add(p)
    }
    const under = (p: string) => [...new Set([...view.keys(), ...listBefore(this.before, p)])].filter((k) => k.startsWith(`${p}/`))
    let metaOps = 0
    let lostMeta = 0
    ops.forEach((o, i) => {
      if (!META.has(o.op)) return
      metaOps++
      if (!durable(i) && rand() < 0.5) {
        lostMeta++
        return
      }
      switch (o.op) {
        case 'create':
          if (lookup(parent(o.path))?.kind === 'dir') set(o.path, {kind: 'file', ino: o.ino})
          break
        case 'mkdir':
          if (lookup(parent(o.path))?.kind === 'dir' && !lookup(o.path)) set(o.path, {kind: 'dir', native: o.native})
          break
        case 'link': {
          const e = lookup(o.from)
          if (e?.kind === 'file' && lookup(parent(o.to))?.kind === 'dir' && !lookup(o.to)) {
            set(o.to, e)
            if (e.ino === S0_INO) s0Source.set(o.to, s0Source.get(o.from) ?? o.from)
          }
          break
        }
        case 'rename': {
          const e = lookup(o.from)
          if (!e || lookup(parent(o.to))?.kind !== 'dir') break
          if (e.kind === 'dir') {
            for (const k of under(o.from)) {
              const moved = lookup(k)
              const to = o.to + k.slice(o.from.length)
              set(to, moved)
              if (moved?.kind === 'file' && moved.ino === S0_INO) s0Source.set(to, s0Source.get(k) ?? k)
              set(k, null)
            }
          } else if (e.ino === S0_INO) s0Source.set(o.to, s0Source.get(o.from) ?? o.from)
          set(o.to, e)
          set(o.from, null)
          break
        }
        case 'unlink':
          if (lookup(o.path)?.kind === 'file') set(o.path, null)
          break
        case 'rmdir':
          if (lookup(o.path)?.kind === 'dir' && under(o.path).every((k) => !lookup(k))) set(o.path, null)
          break
      }
    })

    // 3. File contents: what the last fsync made durable; anything later is lost, cut, or kept.
    const current = new Map<number, Buffer>()
    const fsynced = new Map<number, Buffer>()
    for (const o of ops) {
      if (o.op === 'data') current.set(o.ino, o.bytes)
      if (o.op === 'fsync') fsynced.set(o.ino, o.bytes)
    }
    let tornFiles = 0
    const contentOf = (ino: number): Buffer => {
      const now = current.get(ino) ?? Buffer.alloc(0)
      const safe = fsynced.get(ino) ?? Buffer.alloc(0)
      if (safe.equals(now)) return now
      tornFiles++
      const r = rand()
      return r < 1 / 3 ? safe : r < 2 / 3 ? now.subarray(0, Math.floor(rand() * now.length)) : now
    }

    // 4. Materialize: the copy from before, then every touched path (parents first, removals deepest first).
    rmSync(out, {recursive: true, force: true})
    cpSync(this.before, out, {recursive: true})
    const paths = [...touched].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1))
    const s0Bytes = new Map<string, Buffer>()
    for (const p of paths) {
      const e = view.get(p)
      if (e?.kind === 'file' && e.ino === S0_INO) s0Bytes.set(p, readBefore(this.before, s0Source.get(p) ?? p))
    }
    for (const p of [...paths].reverse()) if (!view.get(p)) rmSync(path.join(out, p), {recursive: true, force: true})
    let dbDir: string | null = null
    for (const p of paths) {
      const e = view.get(p)
      if (!e) continue
      const abs = path.join(out, p)
      if (e.kind === 'dir') {
        mkdirSync(abs, {recursive: true})
        if (e.native) dbDir = abs
      } else {
        rmSync(abs, {recursive: true, force: true})
        mkdirSync(path.dirname(abs), {recursive: true})
        cpBytes(abs, e.ino === S0_INO ? s0Bytes.get(p)! : contentOf(e.ino))
      }
    }
    // A database that was there before and was not moved: find it where it was.
    dbDir ??= findDb(out)

    // 5. LevelDB: its last completed write, plus maybe a torn tail of the one in flight.
    let tornDb = false
    const lastDb = ops.map((o, i) => [o, i] as const).filter(([o]) => o.op === 'db').pop()
    if (dbDir && lastDb) {
      const snap = (lastDb[0] as {snap: string}).snap
      rmSync(dbDir, {recursive: true, force: true})
      cpSync(snap, dbDir, {recursive: true})
      const inFlight = ops.slice(lastDb[1] + 1).some((o) => o.op === 'db-start')
      const next = this.ops.slice(cut).find((o) => o.op === 'db') as {snap: string} | undefined
      if (inFlight && next) tornDb = tearLogTail(snap, next.snap, dbDir, rand)
    }
    return {metaOps, lostMeta, tornFiles, tornDb}
  }
}

function listBefore(before: string, p: string): string[] {
  const abs = path.join(before, p)
  if (!existsSync(abs) || !statSync(abs).isDirectory()) return []
  return (readdirSync(abs, {recursive: true}) as string[]).map((r) => `${p}/${r.split(path.sep).join('/')}`)
}

function readBefore(before: string, p: string): Buffer {
  return require_fs().readFileSync(path.join(before, p))
}

function cpBytes(abs: string, bytes: Buffer): void {
  require_fs().writeFileSync(abs, bytes)
}

// node:fs synchronous calls, unwrapped (the journal only wraps fs/promises).
let fsMod: typeof import('node:fs') | undefined
function require_fs(): typeof import('node:fs') {
  fsMod ??= createRequire(import.meta.url)('node:fs') as typeof import('node:fs')
  return fsMod
}

function findDb(out: string): string | null {
  for (const name of readdirSync(out)) {
    for (const lake of ['.lake', ...readdirSync(path.join(out, name)).filter((n) => n.startsWith('.lake'))]) {
      const db = path.join(out, name, lake, 'db')
      if (existsSync(db)) return db
    }
  }
  return null
}

/** The in-flight write's bytes in LevelDB's log, cut at a random length (only when the log simply grew). */
function tearLogTail(prev: string, next: string, dbDir: string, rand: () => number): boolean {
  const a = readdirSync(prev).sort()
  const b = readdirSync(next).sort()
  if (a.join() !== b.join()) return false
  const fs = require_fs()
  for (const name of a.filter((n) => n.endsWith('.log'))) {
    const old = fs.readFileSync(path.join(prev, name))
    const now = fs.readFileSync(path.join(next, name))
    if (now.length <= old.length || !now.subarray(0, old.length).equals(old)) continue
    fs.writeFileSync(path.join(dbDir, name), now.subarray(0, old.length + Math.floor(rand() * (now.length - old.length))))
    return true
  }
  return false
}
