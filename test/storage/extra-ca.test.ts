// useExtraCas (src/core/storage/extra-ca.ts): what NODE_EXTRA_CA_CERTS does in a Node process, done
// by lake after start-up from LAKE_EXTRA_CA_CERTS: every TLS connection made with Node's default
// trust (any client, not only lake's S3 one: the AWS SDK's STS and SSO clients make their own)
// also trusts the file's CAs; one given its own `ca` keeps it. The variable is read per connection.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import https from 'node:https'
import net from 'node:net'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {EXTRA_CA_ENV, useExtraCas} from '../../src/core/storage/extra-ca.js'

const TLS_DIR = fileURLToPath(new URL('../remote/tls/', import.meta.url))
const CA = path.join(TLS_DIR, 'ca.pem')

/** GET / over https with a fresh agent (no pooled connection): the status, or the error's code. */
function get(port: number, options: https.RequestOptions = {}): Promise<number | string> {
  return new Promise((resolve) => {
    const req = https.get({host: '127.0.0.1', port, path: '/', agent: new https.Agent(), ...options}, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
  })
}

describe('storage: extra CAs added after start-up (LAKE_EXTRA_CA_CERTS)', () => {
  let server: https.Server
  let port = 0
  const saved = process.env[EXTRA_CA_ENV]
  before(async () => {
    server = https.createServer({key: fs.readFileSync(path.join(TLS_DIR, 'server-key.pem')), cert: fs.readFileSync(path.join(TLS_DIR, 'server.pem'))}, (_req, res) => res.end('ok'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as net.AddressInfo).port
  })
  after(async () => {
    if (saved === undefined) delete process.env[EXTRA_CA_ENV]
    else process.env[EXTRA_CA_ENV] = saved
    await new Promise((resolve) => server.close(resolve))
  })

  it('any client with default trust gets them while the variable names the file; one with its own ca keeps it', async () => {
    delete process.env[EXTRA_CA_ENV]
    assert.equal(await get(port), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')
    process.env[EXTRA_CA_ENV] = CA
    await useExtraCas()
    assert.equal(await get(port), 200)
    assert.equal(await get(port), 200, 'the shared context, second time')
    // options that make a context of its own (ciphers): the CAs are added to it as well
    assert.equal(await get(port, {ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384'}), 200)
    // a client's own ca is all it trusts, as with NODE_EXTRA_CA_CERTS
    const other = fs.readFileSync(path.join(TLS_DIR, 'server.pem'), 'utf8') // not a CA
    assert.equal(await get(port, {ca: other}), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')
    assert.equal(await get(port, {ca: fs.readFileSync(CA, 'utf8')}), 200)
    // the variable unset (a later command of the resident process): default trust again
    delete process.env[EXTRA_CA_ENV]
    assert.equal(await get(port), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')
  })

  it('a file that cannot be read is ignored with the warning Node gives', async () => {
    const missing = path.join(TLS_DIR, 'no-such-ca.pem')
    process.env[EXTRA_CA_ENV] = missing
    const warnings: string[] = []
    const onWarning = (w: Error) => warnings.push(w.message)
    process.on('warning', onWarning)
    try {
      await useExtraCas()
      assert.equal(await get(port), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')
      await new Promise((resolve) => setImmediate(resolve))
      assert.ok(warnings.some((w) => w.startsWith(`Ignoring extra certs from \`${missing}\``)), warnings.join('\n'))
    } finally {
      process.off('warning', onWarning)
      delete process.env[EXTRA_CA_ENV]
    }
  })
})
