// The proxy in front of s3rver (see s3.ts): forwards every request unchanged, but enforces
// If-None-Match / If-Match on writes the way AWS does and makes each key's reads and writes
// mutually atomic, which s3rver alone does not; it also logs requests and injects faults.
import http from 'node:http'

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

/** What a fault does to a matching request: answer an error without forwarding, or forward it and drop the answer. */
export type Fault = {status: number; code: string} | 'drop-response'

/** Which request a fault hits (all given fields must match). */
export interface FaultMatch {
  method?: string
  keyEndsWith?: string
  /** A substring of the query string ('uploadId', 'x-id=PutObject'). */
  query?: string
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
    if (fault !== undefined && fault !== 'drop-response') return drainThen(req, () => sendError(res, fault.status, fault.code, entry.key))

    const lockMode = entry.key === '' ? null : lockModeOf(entry.method, url.searchParams)
    let closed = false
    res.on('close', () => (closed = true))
    const release = lockMode === null ? () => {} : await this.lock(`${entry.bucket}/${entry.key}`, lockMode === 'write')
    // The lock is held until the client has the whole answer (or is gone).
    if (closed) return release()
    res.on('close', release)
    try {
      if (lockMode === 'write' && (entry.ifMatch !== undefined || entry.ifNoneMatch !== undefined)) {
        const refusal = await this.checkCondition(url.pathname, entry)
        if (refusal) return drainThen(req, () => sendError(res, refusal.status, refusal.code, entry.key))
      }
      this.forward(req, res, fault === 'drop-response')
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

  private forward(req: http.IncomingMessage, res: http.ServerResponse, dropResponse: boolean): void {
    // Headers go through unchanged, Host included: the client's signature covers them.
    const upstream = http.request({...this.target, agent: this.agent, method: req.method, path: req.url, headers: req.headers}, answer => {
      if (dropResponse) {
        // The server did the work; the client never hears of it (a lost response, as in a network fault).
        answer.resume()
        answer.on('end', () => res.destroy())
        return
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('socket', socket => socket.setNoDelay(true))
    upstream.on('error', err => res.destroy(err))
    req.pipe(upstream)
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
