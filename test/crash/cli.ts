// Running the real `lake` CLI (bin/run.js → dist/) from tests, a seeded PRNG, and directory
// snapshots. Shared by test/crash and test/concurrency. Needs `npm run build` first.
import {spawn, type ChildProcess} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, rmSync} from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))

let bin = path.join(REPO_ROOT, 'bin', 'run.js')
let snapshot: Promise<void> | undefined

/**
 * Checks dist/ is built, and runs the CLI from a private copy of it (bin, dist, package.json,
 * manifest; node_modules linked), so a `npm run build` running beside the tests cannot swap
 * files under a spawned command. LAKE_TEST_CLI_SNAPSHOT=0 runs bin/run.js in place.
 */
export function requireBuild(): Promise<void> {
  if (!existsSync(path.join(REPO_ROOT, 'dist', 'commands'))) throw new Error("these tests run the built CLI: run 'npm run build' first")
  if (process.env.LAKE_TEST_CLI_SNAPSHOT === '0') return Promise.resolve()
  snapshot ??= (async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lake-cli-'))
    process.on('exit', () => rmSync(dir, {recursive: true, force: true}))
    for (const name of ['bin', 'dist', 'package.json', 'oclif.manifest.json']) {
      await fs.cp(path.join(REPO_ROOT, name), path.join(dir, name), {recursive: true})
    }
    await fs.symlink(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'))
    bin = path.join(dir, 'bin', 'run.js')
  })()
  return snapshot
}

export interface LakeRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  ms: number
  /** stdout parsed as JSON when it is JSON. */
  json?: any
}

export interface LakeOptions {
  cwd?: string
  env?: Record<string, string>
}

const baseEnv = (extra: Record<string, string> = {}) => ({
  ...process.env,
  LAKE_AUTHOR_NAME: 'test',
  LAKE_AUTHOR_EMAIL: 'test@example.com',
  NO_COLOR: '1',
  ...extra,
})

/** Starts `lake ARGS`; `done` settles when it exits (killed or not). */
export function startLake(args: string[], opts: LakeOptions = {}): {child: ChildProcess; done: Promise<LakeRun>} {
  const started = performance.now()
  const child = spawn(process.execPath, [bin, ...args], {cwd: opts.cwd, env: baseEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const done = new Promise<LakeRun>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      let json: unknown
      try {
        json = stdout.trim() ? JSON.parse(stdout) : undefined
      } catch {
        json = undefined
      }
      resolve({code, signal, stdout, stderr, ms: performance.now() - started, json})
    })
  })
  return {child, done}
}

export const lake = (args: string[], opts: LakeOptions = {}) => startLake(args, opts).done

/** Runs `lake ARGS` and insists on exit 0. */
export async function lakeOk(args: string[], opts: LakeOptions = {}): Promise<LakeRun> {
  const r = await lake(args, opts)
  if (r.code !== 0) throw new Error(`lake ${args.join(' ')} exited ${r.code ?? r.signal}:\n${r.stderr}${r.stdout}`)
  return r
}

/** mulberry32: a tiny seeded PRNG, so a failing trial reruns with LAKE_TEST_SEED. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const testSeed = () => (process.env.LAKE_TEST_SEED ? Number(process.env.LAKE_TEST_SEED) : Math.floor(Math.random() * 2 ** 31))

/** relative path (with '/') → sha256 of the content, for every file under dir. */
export async function snapshotDir(dir: string, opts: {dirs?: boolean} = {}): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (d: string) => {
    for (const e of await fs.readdir(d, {withFileTypes: true})) {
      const full = path.join(d, e.name)
      // with `dirs`, directories are entries too: an empty directory left behind shows
      if (e.isDirectory() && opts.dirs) out.set(path.relative(dir, full).split(path.sep).join('/') + '/', 'dir')
      if (e.isDirectory()) await walk(full)
      else out.set(path.relative(dir, full).split(path.sep).join('/'), createHash('sha256').update(await fs.readFile(full)).digest('hex'))
    }
  }
  await walk(dir)
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)))
}
