// Running the real `lake` CLI (bin/run.js, which runs dist/) as a child process on a fresh temp
// directory, the way a user or a script does: through its launcher line, as the installed `lake`
// command runs (node is the one on PATH). Build first: `npm run build`.
//
// Each call costs a Node start-up (~0.3 s), so tests combine steps into scenarios, and calls that
// do not depend on each other can run concurrently with lakeAsync().
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const BIN = path.join(REPO_ROOT, 'bin', 'run.js')

/** The identity and limits every call runs with: results do not depend on the machine. */
export const AUTHOR = {name: 'Test Author', email: 'test@example.com'}

export interface LakeCall {
  /** Working directory (default: the sandbox's directory). */
  cwd?: string
  /** Added to (or, with undefined, removed from) the environment. */
  env?: Record<string, string | undefined>
}

export interface CliResult {
  args: string[]
  code: number
  stdout: string
  stderr: string
  /** stdout parsed as exactly one JSON document (throws, naming the output, if it is not). */
  json<T = any>(): T
  /** The text after `error: ` on stderr, if there is such a line. */
  error: string | undefined
  /** The text after `hint: ` on stderr, if there is such a line. */
  hint: string | undefined
}

export function baseEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env}
  // Nothing from the developer's shell may point the CLI at another dataset or change its output.
  for (const name of Object.keys(env)) if (name.startsWith('LAKE_') || name.startsWith('AWS_')) delete env[name]
  Object.assign(env, {
    LAKE_AUTHOR_NAME: AUTHOR.name,
    LAKE_AUTHOR_EMAIL: AUTHOR.email,
    LAKE_LOCK_TIMEOUT: '20',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    // The temp dir is no git repository; stop a search for one at its parent all the same.
    GIT_CEILING_DIRECTORIES: os.tmpdir(),
    // the launcher runs the `node` on PATH: the one running the tests
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
  })
  // LAKE_TEST_DAEMON=1: every CLI call goes through the resident process (npm run test:daemon)
  // (LAKE_TEST_DAEMON_TRACE=FILE: where each call ran, LAKE_DAEMON_TRACE's lines)
  if (process.env.LAKE_TEST_DAEMON === '1') {
    Object.assign(env, {LAKE_DAEMON: '1', LAKE_DAEMON_DIR: daemonDir(), LAKE_DAEMON_IDLE: '30'})
    env.LAKE_DAEMON_TRACE = process.env.LAKE_TEST_DAEMON_TRACE ?? path.join(daemonDir(), 'trace')
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return env
}

let testDaemonDir: string | undefined
/**
 * One socket directory for the test run's resident processes (LAKE_TEST_DAEMON=1). At exit, the run
 * fails if no call was served by one: the suites would pass as well with every command run by itself.
 */
function daemonDir(): string {
  // (one per run even if this module is loaded twice, e.g. under two URLs: one tally, not two)
  const shared = globalThis as {lakeTestDaemonDir?: string}
  testDaemonDir ??= shared.lakeTestDaemonDir
  if (testDaemonDir === undefined) {
    const dir = (testDaemonDir = shared.lakeTestDaemonDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-test-daemon-')))
    fs.chmodSync(dir, 0o700)
    // (only in mocha's own process: a helper process of a test that loads this module is no run)
    if (!/mocha/.test(process.argv[1] ?? '')) return dir
    process.on('exit', () => {
      const trace = process.env.LAKE_TEST_DAEMON_TRACE ?? path.join(dir, 'trace')
      const lines = fs.existsSync(trace) ? fs.readFileSync(trace, 'utf8').trim().split('\n') : []
      const served = lines.filter((l) => l === 'served').length
      console.error(`LAKE_TEST_DAEMON: ${served} of ${lines.length} CLI calls served by a resident process`)
      if (served === 0) process.exitCode = 1
      for (const f of fs.readdirSync(dir)) if (f.endsWith('.sock.pid')) try { process.kill(Number(fs.readFileSync(path.join(dir, f), 'utf8')), 'SIGTERM') } catch {}
    })
  }
  return testDaemonDir
}

function result(args: string[], code: number | null, signal: string | null, stdout: string, stderr: string): CliResult {
  const line = (prefix: string) => stderr.split('\n').find((l) => l.startsWith(prefix))?.slice(prefix.length)
  return {
    args,
    code: code ?? (signal ? 128 : -1),
    stdout,
    stderr,
    json<T>(): T {
      try {
        return JSON.parse(stdout) as T
      } catch (err) {
        throw new Error(`stdout of 'lake ${args.join(' ')}' is not one JSON document (${(err as Error).message}):\n${stdout}\nstderr:\n${stderr}`)
      }
    },
    error: line('error: '),
    hint: line('hint: '),
  }
}

/** How many CLI processes this test run started (printed at exit with LAKE_TEST_STATS=1). */
export const stats = {calls: 0}
if (process.env.LAKE_TEST_STATS) process.on('exit', () => console.error(`lake CLI calls: ${stats.calls}`))

/** Runs `lake ARGS` synchronously. */
export function runLake(args: string[], call: LakeCall & {cwd: string}): CliResult {
  stats.calls++
  const r = spawnSync(BIN, args, {cwd: call.cwd, env: baseEnv(call.env), encoding: 'utf8', timeout: 120_000})
  return result(args, r.status, r.signal, r.stdout, r.stderr)
}

/** Runs `lake ARGS` without blocking: independent calls can overlap. */
export function runLakeAsync(args: string[], call: LakeCall & {cwd: string}): Promise<CliResult> {
  stats.calls++
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, {cwd: call.cwd, env: baseEnv(call.env)})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve(result(args, code, signal, stdout, stderr)))
  })
}

/** Runs async jobs at most `limit` at a time (a few: the machine has few cores). */
export async function inParallel<T>(jobs: (() => Promise<T>)[], limit = 4): Promise<T[]> {
  const out: T[] = new Array(jobs.length)
  let next = 0
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++
      out[i] = await jobs[i]()
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, jobs.length)}, worker))
  return out
}

export const describeRun = (r: CliResult) => `'lake ${r.args.join(' ')}' exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`

/** A temp directory to run lake in; removed by remove(). */
export class Sandbox {
  readonly dir: string

  /** A new temp directory, or (with `dir`) a view of an existing directory. */
  constructor(prefix = 'lake-cli-', dir?: string) {
    // realpath: on some systems tmpdir is a symlink, and lake reports resolved paths.
    this.dir = dir ?? fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)))
  }

  /** The same sandbox with commands run in (and paths relative to) the subdirectory `rel`, created if missing. */
  sub(rel: string): Sandbox {
    return new Sandbox(undefined, this.mkdir(rel))
  }

  path(...parts: string[]): string {
    return path.join(this.dir, ...parts)
  }

  /** Runs lake in the sandbox (or call.cwd); never throws on a non-zero exit. */
  run(args: string[], call: LakeCall = {}): CliResult {
    return runLake(args, {...call, cwd: call.cwd ?? this.dir})
  }

  lake(...args: string[]): CliResult {
    return this.run(args)
  }

  lakeAsync(args: string[], call: LakeCall = {}): Promise<CliResult> {
    return runLakeAsync(args, {...call, cwd: call.cwd ?? this.dir})
  }

  /** Runs independent calls concurrently (a few at a time); results in call order. */
  all(calls: string[][], call: LakeCall = {}): Promise<CliResult[]> {
    return inParallel(calls.map((args) => () => this.lakeAsync(args, call)))
  }

  /** Runs lake, which must exit 0; returns the result. */
  ok(...args: string[]): CliResult {
    const r = this.run(args)
    assert.equal(r.code, 0, describeRun(r))
    return r
  }

  /** Runs `lake ARGS --json`, which must exit 0 and print one JSON document; returns it. */
  json<T = any>(...args: string[]): T {
    return this.ok(...args, '--json').json<T>()
  }

  /** Runs lake, which must exit with `code`; returns the result. */
  fails(code: number, ...args: string[]): CliResult {
    const r = this.run(args)
    assert.equal(r.code, code, describeRun(r))
    return r
  }

  write(rel: string, content: string | Uint8Array): string {
    const file = this.path(rel)
    fs.mkdirSync(path.dirname(file), {recursive: true})
    fs.writeFileSync(file, content)
    return file
  }

  read(rel: string): Buffer {
    return fs.readFileSync(this.path(rel))
  }

  mkdir(rel: string): string {
    const dir = this.path(rel)
    fs.mkdirSync(dir, {recursive: true})
    return dir
  }

  rm(rel: string): void {
    fs.rmSync(this.path(rel), {recursive: true, force: true})
  }

  remove(): void {
    fs.rmSync(this.dir, {recursive: true, force: true})
  }
}

/**
 * One sandbox for a whole describe block (mocha before/after): scenario steps build on each
 * other. Call the returned function inside a test or hook.
 */
export function useSandbox(prefix?: string): () => Sandbox {
  let box: Sandbox | undefined
  before(() => {
    box = new Sandbox(prefix)
  })
  after(() => {
    box?.remove()
  })
  return () => {
    assert.ok(box, 'sandbox used outside a test')
    return box
  }
}

/** A fresh sandbox for every test of the block. */
export function useFreshSandbox(prefix?: string): () => Sandbox {
  let box: Sandbox | undefined
  beforeEach(() => {
    box = new Sandbox(prefix)
  })
  afterEach(() => {
    box?.remove()
  })
  return () => {
    assert.ok(box, 'sandbox used outside a test')
    return box
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Asserts exit 0 and returns the parsed JSON document of a --json call. */
export function okJson<T = any>(r: CliResult): T {
  assert.equal(r.code, 0, describeRun(r))
  return r.json<T>()
}

/** Asserts a refusal: exit code, an `error:` line containing every part, and a hint if asked. */
export function assertRefused(r: CliResult, code: 1 | 2, parts: string[], opts: {hint?: boolean | string} = {}): void {
  assert.equal(r.code, code, describeRun(r))
  assert.ok(r.error !== undefined, `no 'error:' line on stderr:\n${r.stderr}`)
  for (const part of parts) assert.ok(r.error.includes(part), `error line ${JSON.stringify(r.error)} does not name ${JSON.stringify(part)}`)
  if (opts.hint) {
    assert.ok(r.hint !== undefined, `no 'hint:' line on stderr:\n${r.stderr}`)
    if (typeof opts.hint === 'string') assert.ok(r.hint.includes(opts.hint), `hint ${JSON.stringify(r.hint)} lacks ${JSON.stringify(opts.hint)}`)
  }
}

/** Asserts that a --json call printed exactly `{"error": {"code", "message"[, "hint"]}}` with `code`. */
export function assertErrorJson(r: CliResult, code: string): {code: string; message: string; hint?: string} {
  const doc = r.json<{error: {code: string; message: string; hint?: string}}>()
  assert.deepEqual(Object.keys(doc), ['error'], r.stdout)
  const keys = Object.keys(doc.error).sort()
  assert.ok(keys.join() === 'code,message' || keys.join() === 'code,hint,message', `error keys: ${keys}`)
  assert.equal(doc.error.code, code, r.stdout)
  assert.equal(typeof doc.error.message, 'string')
  // The JSON message is the error line's message.
  if (r.error !== undefined) assert.equal(doc.error.message, r.error)
  return doc.error
}

/** Every file under `dir` (relative "/"-paths, sorted) with its bytes; directories are implied. */
export function readTree(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {}
  for (const rel of (fs.readdirSync(dir, {recursive: true}) as string[]).sort()) {
    const abs = path.join(dir, rel)
    if (fs.statSync(abs).isFile()) out[rel.split(path.sep).join('/')] = fs.readFileSync(abs)
  }
  return out
}
