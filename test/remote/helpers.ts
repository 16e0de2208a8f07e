// Shared by the remote scenario tests: one S3 test server (s3rver behind the conditional-write
// proxy, test/helpers/s3.ts) for the whole run, started on first use and stopped after all tests,
// and a small handle for running the real CLI in one directory with the S3 environment.
import {createServer} from 'node:net'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {S3Store} from '../../src/core/storage/s3.js'
import {describeRun, runLake, runLakeAsync, type CliResult} from '../helpers/cli.js'
import {S3TestServer, type ProxiedRequest} from '../helpers/s3.js'
import {datasetState} from '../helpers/state.js'

let server: S3TestServer | undefined
let starting: Promise<S3TestServer> | undefined

/** The run's S3 server (started on first call). */
export function s3Server(): Promise<S3TestServer> {
  starting ??= (async () => {
    const s3 = new S3TestServer()
    await s3.start()
    server = s3
    return s3
  })()
  return starting
}

// A root-level hook: stops the server, if one was started, once every test file has run.
after(async () => {
  await server?.stop()
})

let prefixes = 0
/** A fresh s3:// location in the test bucket, so scenarios never see each other's keys. */
export function freshUrl(s3: S3TestServer, name: string): {url: string; prefix: string} {
  const prefix = `${name}-${process.pid}-${++prefixes}`
  return {url: `s3://${s3.bucket}/${prefix}`, prefix: `${prefix}/`}
}

/** What the CLI needs to reach the server: the endpoint and the credentials s3rver accepts. */
export function s3Env(s3: S3TestServer): Record<string, string> {
  return {
    LAKE_S3_ENDPOINT: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    AWS_REGION: 'us-east-1',
  }
}

/** Keys under `prefix` of the bucket (e.g. 'x/objects/'), listed in-process. */
export async function listKeys(s3: S3TestServer, prefix: string): Promise<string[]> {
  const store = new S3Store(`s3://${s3.bucket}`, s3.storeOptions())
  try {
    const keys: string[] = []
    for await (const {key} of store.list(prefix)) keys.push(key)
    return keys
  } finally {
    await store.close()
  }
}

/** GETs (whole or ranged) of object keys under `prefix`, as the proxy saw them. */
export async function objectGets(s3: S3TestServer, prefix: string): Promise<ProxiedRequest[]> {
  return (await s3.requests(`${prefix}objects/`)).filter((r) => r.method === 'GET')
}

/** The real CLI run in one directory with a fixed extra environment. */
export class Lake {
  constructor(readonly cwd: string, readonly env: Record<string, string | undefined> = {}) {
    fs.mkdirSync(cwd, {recursive: true})
  }

  /** Another directory, same environment. */
  at(rel: string): Lake {
    return new Lake(path.resolve(this.cwd, rel), this.env)
  }

  path(...parts: string[]): string {
    return path.join(this.cwd, ...parts)
  }

  write(rel: string, content: string | Uint8Array): void {
    fs.mkdirSync(path.dirname(this.path(rel)), {recursive: true})
    fs.writeFileSync(this.path(rel), content)
  }

  run(args: string[], env: Record<string, string | undefined> = {}): CliResult {
    return runLake(args, {cwd: this.cwd, env: {...this.env, ...env}})
  }

  async(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
    return runLakeAsync(args, {cwd: this.cwd, env: {...this.env, ...env}})
  }

  ok(...args: string[]): CliResult {
    const r = this.run(args)
    assert.equal(r.code, 0, describeRun(r))
    return r
  }

  json<T = any>(...args: string[]): T {
    return this.ok(...args, '--json').json<T>()
  }

  /** `lake ARGS --json` without blocking; must exit 0. */
  async jsonAsync<T = any>(...args: string[]): Promise<T> {
    const r = await this.async([...args, '--json'])
    assert.equal(r.code, 0, describeRun(r))
    return r.json<T>()
  }
}

/** Runs steps concurrently, each must succeed; results in order. */
export function both<T>(...steps: Promise<T>[]): Promise<T[]> {
  return Promise.all(steps)
}

/** status, log and refs of a dataset (not the event log's tip: a fetch may append to it). */
export async function visibleState(dir: string): Promise<{status: string; log: string; refs: unknown}> {
  const s = await datasetState(dir)
  const rest = JSON.parse(s.rest) as {branches: unknown; tags: unknown; config: unknown}
  return {status: s.status, log: s.log, refs: {branches: rest.branches, tags: rest.tags, config: rest.config}}
}

/** `lake fsck --json` must report no problems. */
export async function assertFsckClean(...datasets: Lake[]): Promise<void> {
  const results = await Promise.all(datasets.map((d) => d.async(['fsck', '--json'])))
  results.forEach((r, i) => {
    assert.equal(r.code, 0, `fsck in ${datasets[i].cwd}: ${describeRun(r)}`)
    const doc = r.json<{ok: boolean; problems: unknown[]; checked: number}>()
    assert.deepEqual(doc.problems, [], `fsck in ${datasets[i].cwd}`)
    assert.equal(doc.ok, true)
  })
}

/** The commit a branch names on the remote at `prefix` (read in-process), or null. */
export async function remoteBranch(s3: S3TestServer, prefix: string, branch = 'main'): Promise<string | null> {
  const store = new S3Store(`s3://${s3.bucket}`, s3.storeOptions())
  try {
    const key = `${prefix}refs/heads/${branch}`
    return (await store.exists(key)) ? new TextDecoder().decode(await store.get(key)).trim() : null
  } finally {
    await store.close()
  }
}

/** A port nothing listens on: bound by us, then closed. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as {port: number}
  await new Promise((resolve) => server.close(resolve))
  return port
}
