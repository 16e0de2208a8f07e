// The proxy in front of s3rver (see s3.ts): forwards every request unchanged, but enforces
// If-None-Match / If-Match on writes the way AWS does and makes each key's reads and writes
// mutually atomic, which s3rver alone does not; it also logs requests and injects faults: one-shot
// faults a test aims at one request, and seeded random "chaos" (test/torture/s3-faults) that
// answers 5xx, holds answers past the client's timeout, resets connections and cuts bodies short.
import http from 'node:http'
import {prng} from '../crash/cli.js'

export interface ProxiedRequest {
  method: string
  bucket: string
  key: string
  query: string
  range?: string
  ifMatch?: string
  ifNoneMatch?: string
  /** Status the client got (undefined until answered; 0 when the proxy dropped the connection). */
  status?: number
}

/**
 * What a fault does to a matching request: answer an error without forwarding, forward it and
 * drop the answer, or forward it and cut the answer's body after half its bytes.
 */
export type Fault = {status: number; code: string} | 'drop-response' | 'truncate-body'

/** Which request a fault hits (all given fields must match). */
export interface FaultMatch {
  method?: string
  keyEndsWith?: string
  /** A substring of the query string ('uploadId', 'x-id=PutObject'). */
  query?: string
}

/** The kinds of random fault chaos injects. */
export const CHAOS_KINDS = ['status-5xx', 'slow', 'reset', 'reset-after-work', 'truncated-body'] as const
export type ChaosKind = (typeof CHAOS_KINDS)[number]

/**
 * Seeded random faults: each request whose key starts with `prefix` meets one with probability
 * `rate`, its kind drawn by `weights`. The k-th such request's fate depends only on the seed (the
 * order requests arrive in may vary between runs, as concurrent requests race).
 *  - status-5xx: 500 InternalError or 503 SlowDown, not forwarded;
 *  - slow: the request is held `slowMs` (past the client's timeout), then done all the same, so
 *    a write the client gave up on lands late, as a slow server's does;
 *  - reset: the connection is closed before the request is forwarded;
 *  - reset-after-work: forwarded, and the connection closed before the answer (the work is done,
 *    the client never hears of it);
 *  - truncated-body: forwarded; the answer's headers (with its full Content-Length) and half its
 *    body are sent, then the connection is closed (an answer without a body is reset instead).
 */
export interface Chaos {
  seed: number
  rate: number
  prefix: string
  slowMs: number
  weights?: Partial<Record<ChaosKind, number>>
}

/** What chaos did: faults by kind, and each fault's request. */
export interface ChaosReport {
  requests: number
  injected: Record<ChaosKind, number>
  faults: Array<{kind: ChaosKind; method: string; key: string; query: string}>
}


function emptyReport(): ChaosReport {
  return {requests: 0, injected: Object.fromEntries(CHAOS_KINDS.map(k => [k, 0])) as Record<ChaosKind, number>, faults: []}
}

function matches(m: FaultMatch, r: ProxiedRequest): boolean {
  return (m.method === undefined || m.method === r.method) && (m.keyEndsWith === undefined || r.key.endsWith(m.keyEndsWith)) && (m.query === undefined || r.query.includes(m.query))
}

interface Target {
  host: string
  port: number
}

/** A readers/writer lock: many readers or one writer, granted in arrival order. */
class RwLock {
  private readers = 0
  private writing = false
  private readonly queue: Array<{write: boolean; grant: () => void}> = []

  acquire(write: boolean): Promise<() => void> {
    return new Promise(resolve => {
      this.queue.push({write, grant: () => resolve(once(() => this.release(write)))})
      this.pump()
    })
  }

  get idle(): boolean {
    return !this.writing && this.readers === 0 && this.queue.length === 0
  }

  private release(write: boolean): void {
    if (write) this.writing = false
    else this.readers--
    this.pump()
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.writing) {
      const next = this.queue[0]
      if (next.write && this.readers > 0) return
      this.queue.shift()
      if (next.write) this.writing = true
      else this.readers++
      next.grant()
    }
  }
}

export class CasProxy {
  readonly requests: ProxiedRequest[] = []
  private readonly faults: Array<{match: FaultMatch; fault: Fault}> = []
  /** Chaos plans by prefix (several tests' prefixes may have their own at once). */
  private readonly chaos = new Map<string, {plan: Chaos; rng: () => number; report: ChaosReport}>()
  private readonly locks = new Map<string, RwLock>()
  private readonly agent = new http.Agent({keepAlive: true})
  private readonly server = http.createServer({noDelay: true}, (req, res) => void this.handle(req, res))

  constructor(private readonly target: Target) {}

  async listen(): Promise<number> {
    await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve))
    return (this.server.address() as {port: number}).port
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise(resolve => this.server.close(resolve))
    this.agent.destroy()
  }

  /** The next request matching `match` meets `fault` (once). */
  injectFault(match: FaultMatch, fault: Fault): void {
    this.faults.push({match, fault})
  }

  /** Starts random faults on requests under plan.prefix (replacing a plan for that prefix). */
  startChaos(plan: Chaos): void {
    this.chaos.set(plan.prefix, {plan, rng: prng(plan.seed), report: emptyReport()})
  }

  /** Stops the faults under `prefix`; returns what they did. */
  stopChaos(prefix: string): ChaosReport {
    const report = this.chaos.get(prefix)?.report ?? emptyReport()
    this.chaos.delete(prefix)
    return report
  }

  private chaosFor(key: string): {plan: Chaos; rng: () => number; report: ChaosReport} | undefined {
    for (const [prefix, chaos] of this.chaos) if (key.startsWith(prefix)) return chaos
    return undefined
  }

  private drawChaos(entry: ProxiedRequest): ChaosKind | undefined {
    const chaos = this.chaosFor(entry.key)
    if (!chaos) return undefined
    const {plan, rng, report} = chaos
    report.requests++
    if (rng() >= plan.rate) return undefined
    const weights = CHAOS_KINDS.map(k => plan.weights?.[k] ?? 1)
    let pick = rng() * weights.reduce((a, b) => a + b, 0)
    let kind: ChaosKind = CHAOS_KINDS[CHAOS_KINDS.length - 1]
    for (let i = 0; i < CHAOS_KINDS.length; i++) {
      if ((pick -= weights[i]) < 0) {
        kind = CHAOS_KINDS[i]
        break
      }
    }
    // A cut body needs a body: other answers are reset after the work instead.
    if (kind === 'truncated-body' && entry.method !== 'GET') kind = 'reset-after-work'
    report.injected[kind]++
    report.faults.push({kind, method: entry.method, key: entry.key, query: entry.query})
    return kind
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://proxy')
    const [bucket = '', ...rest] = url.pathname.slice(1).split('/')
    const entry: ProxiedRequest = {
      method: req.method ?? 'GET',
      bucket: decodeURIComponent(bucket),
      key: decodeURIComponent(rest.join('/')),
      query: url.search,
      range: header(req, 'range'),
      ifMatch: header(req, 'if-match'),
      ifNoneMatch: header(req, 'if-none-match'),
    }
    this.requests.push(entry)
    res.on('close', () => (entry.status ??= res.headersSent ? res.statusCode : 0))
    const faultAt = this.faults.findIndex(f => matches(f.match, entry))
    const fault = faultAt >= 0 ? this.faults.splice(faultAt, 1)[0].fault : undefined
    if (typeof fault === 'object') return drainThen(req, () => sendError(res, fault.status, fault.code, entry.key))
    const chaos = fault === undefined ? this.drawChaos(entry) : undefined
    if (chaos === 'status-5xx') {
      const [status, code] = this.chaosFor(entry.key)!.rng() < 0.5 ? [500, 'InternalError'] : [503, 'SlowDown']
      return drainThen(req, () => sendError(res, status, code, entry.key))
    }
    if (chaos === 'reset') return void req.socket.destroy()

    let closed = false
    res.on('close', () => (closed = true))
    // A slow answer: the whole request is read, held past the client's timeout, and done anyway.
    let body: Buffer | undefined
    if (chaos === 'slow') {
      body = await readAll(req)
      // a client that gave up mid-upload sent no whole request: nothing to do late
      if (req.headers['content-length'] !== undefined && body.length !== Number(req.headers['content-length'])) return void res.destroy()
      await new Promise(resolve => setTimeout(resolve, this.chaosFor(entry.key)?.plan.slowMs ?? 0))
    }
    const lockMode = entry.key === '' ? null : lockModeOf(entry.method, url.searchParams)
    const release = once(lockMode === null ? () => {} : await this.lock(`${entry.bucket}/${entry.key}`, lockMode === 'write'))
    // The lock is held until the client has the whole answer or is gone; a request whose client
    // left early but is done all the same (slow) holds it until the server answered.
    if (closed && body === undefined) return release()
    if (!closed) res.on('close', release)
    const refuse = (status: number, code: string) => (body !== undefined ? sendError(res, status, code, entry.key) : drainThen(req, () => sendError(res, status, code, entry.key)))
    try {
      if (lockMode === 'write' && (entry.ifMatch !== undefined || entry.ifNoneMatch !== undefined)) {
        const refusal = await this.checkCondition(url.pathname, entry)
        if (refusal) {
          if (closed) release()
          return refuse(refusal.status, refusal.code)
        }
      }
      const mode = fault === 'drop-response' || chaos === 'reset-after-work' ? 'drop' : fault === 'truncate-body' || chaos === 'truncated-body' ? 'truncate' : 'whole'
      this.forward(req, res, mode, body, release)
    } catch (err) {
      release()
      res.destroy(err as Error)
    }
  }

  private async lock(key: string, write: boolean): Promise<() => void> {
    let lock = this.locks.get(key)
    if (!lock) this.locks.set(key, (lock = new RwLock()))
    const release = await lock.acquire(write)
    return () => {
      release()
      if (lock.idle) this.locks.delete(key)
    }
  }

  private async checkCondition(path: string, entry: ProxiedRequest): Promise<{status: number; code: string} | null> {
    const current = await this.headEtag(path)
    if (entry.ifNoneMatch === '*' && current !== null) return {status: 412, code: 'PreconditionFailed'}
    if (entry.ifMatch !== undefined) {
      if (current === null) return {status: 404, code: 'NoSuchKey'}
      if (stripQuotes(entry.ifMatch) !== current) return {status: 412, code: 'PreconditionFailed'}
    }
    return null
  }

  /** The object's etag straight from s3rver (anonymous requests need no signature there). */
  private headEtag(path: string): Promise<string | null> {
    return new Promise((resolve, reject) => {
      const req = http.request({...this.target, agent: this.agent, method: 'HEAD', path}, res => {
        res.resume()
        if (res.statusCode === 404) resolve(null)
        else if (res.statusCode === 200) resolve(stripQuotes(String(res.headers.etag ?? '')))
        else reject(new Error(`proxy: HEAD ${path} answered ${res.statusCode}`))
      })
      req.on('error', reject)
      req.end()
    })
  }

  /**
   * Sends the request on to s3rver (`body`: already read) and its answer back: whole, dropped
   * (the server did the work; the client never hears of it, as when a network fails), or cut
   * after half its body. `done` runs when the server has answered, for a client that is gone.
   */
  private forward(req: http.IncomingMessage, res: http.ServerResponse, mode: 'whole' | 'drop' | 'truncate', body: Buffer | undefined, done: () => void): void {
    // Headers go through unchanged, Host included: the client's signature covers them.
    const upstream = http.request({...this.target, agent: this.agent, method: req.method, path: req.url, headers: req.headers}, answer => {
      if (mode === 'drop' || res.destroyed || res.writableEnded) {
        answer.resume()
        answer.on('end', () => {
          res.destroy()
          done()
        })
        return
      }
      const length = Number(answer.headers['content-length'] ?? 0)
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      if (mode === 'truncate') {
        // the cut comes once the first half has reached the client (headers included)
        let left = Math.floor(length / 2)
        const cut = () => res.destroy()
        answer.on('data', (data: Buffer) => {
          if (left <= 0) return
          const part = data.subarray(0, left)
          left -= part.length
          if (left > 0) res.write(part)
          else res.write(part, cut)
        })
        answer.on('end', () => left > 0 && res.write(Buffer.alloc(0), cut))
        return
      }
      answer.pipe(res)
    })
    upstream.on('socket', socket => socket.setNoDelay(true))
    upstream.on('error', err => {
      res.destroy(err)
      done()
    })
    if (body !== undefined) upstream.end(body)
    else req.pipe(upstream)
  }
}

function lockModeOf(method: string, query: URLSearchParams): 'read' | 'write' | null {
  // Any read of a key (the SDK adds ?x-id=GetObject; subresources are rare and harmless to lock).
  if (method === 'GET' || method === 'HEAD') return 'read'
  // Parts of a multipart upload are not the object; completing the upload writes it.
  if (method === 'PUT') return query.has('partNumber') ? null : 'write'
  if (method === 'POST') return query.has('uploadId') ? 'write' : null
  if (method === 'DELETE') return query.has('uploadId') ? null : 'write'
  return null
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

function stripQuotes(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1')
}

function once(fn: () => void): () => void {
  let done = false
  return () => {
    if (!done) (done = true), fn()
  }
}

function readAll(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise(resolve => {
    const parts: Buffer[] = []
    req.on('data', (d: Buffer) => parts.push(d))
    // a client that gives up mid-upload: what arrived is all there is
    req.on('end', () => resolve(Buffer.concat(parts)))
    req.on('close', () => resolve(Buffer.concat(parts)))
  })
}

/** Reads the request body to its end first, so the client is not cut off mid-upload. */
function drainThen(req: http.IncomingMessage, fn: () => void): void {
  req.on('end', fn)
  req.resume()
}

function sendError(res: http.ServerResponse, status: number, code: string, key: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${code} (lake test proxy)</Message><Key>${escapeXml(key)}</Key><RequestId>lake-test-proxy</RequestId></Error>`
  res.writeHead(status, {'content-type': 'application/xml', 'content-length': Buffer.byteLength(body)})
  res.end(body)
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, c => `&#${c.charCodeAt(0)};`)
}
