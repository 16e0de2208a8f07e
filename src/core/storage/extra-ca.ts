// Extra certificate authorities (a company's TLS proxy, a private S3 endpoint) that lake adds itself,
// read only when a TLS connection is about to be made.
//
// Why not leave them to Node: a Node process started with NODE_EXTRA_CA_CERTS parses its whole root
// store and the file before the first line of JavaScript, TLS or not: ~50 ms of every start here
// (bench: `node -e 0` 0.11 s with it, 0.06 s without). Most lake commands never open a TLS
// connection, so the `lake` launcher (bin/run.js's shell line) moves the variable to
// LAKE_EXTRA_CA_CERTS, and so does the resident process (src/cli/server.ts) for a command whose
// environment names one: that process was started without it.
//
// What Node does with the variable is add the CAs to the store every TLS context starts from (one
// given its own `ca` aside). Node 20 has no call to change that store after start-up, so
// useExtraCas() does the same where every TLS connection of this process gets its context:
// tls.createSecureContext, wrapped to add the CAs to each context made without a `ca` of its own.
// So they reach every client the AWS SDK makes (S3, and STS and SSO for credentials), and a context
// keeps the store it would have had otherwise (Node's bundled roots, or OpenSSL's with
// --use-openssl-ca), as with NODE_EXTRA_CA_CERTS. bin/run.js puts NODE_EXTRA_CA_CERTS back into
// process.env for the processes lake starts (a credential_process, git).
import fs from 'node:fs'
import type tls from 'node:tls'

/** The environment variable naming a PEM file of CAs this process must add itself. */
export const EXTRA_CA_ENV = 'LAKE_EXTRA_CA_CERTS'

const pems = new Map<string, string | undefined>()
let installed = false
/**
 * The options tls.createSecureContext reads: a context made with none of them set is the same for
 * every connection, so one is made per file and shared (adding a system bundle of ~150 CAs costs
 * ~30 ms, which a context per connection would pay again and again).
 */
const CONTEXT_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'ciphers', 'ecdhCurve', 'dhparam', 'secureOptions', 'secureProtocol', 'minVersion', 'maxVersion', 'honorCipherOrder', 'crl', 'sigalgs', 'privateKeyEngine', 'privateKeyIdentifier', 'clientCertEngine', 'ticketKeys', 'sessionTimeout', 'sessionIdContext', 'allowPartialTrustChain'] as const
const shared = new Map<string, tls.SecureContext>()

/**
 * From now on, every TLS context made without its own `ca` also trusts the CAs in the file that
 * $LAKE_EXTRA_CA_CERTS names when the context is made (read once per file; the variable is read
 * each time, as a command served by the resident process brings its own environment). An
 * unreadable file is ignored with a warning, as Node itself does with NODE_EXTRA_CA_CERTS.
 * Call it before the first TLS connection; a no-op while the variable is unset.
 */
export async function useExtraCas(): Promise<void> {
  if (installed || !process.env[EXTRA_CA_ENV]) return
  installed = true
  // (imported here: node:tls costs every command that never opens a TLS connection)
  const {default: tlsModule} = await import('node:tls')
  const original = tlsModule.createSecureContext
  const withExtra = (options: tls.SecureContextOptions | undefined, pem: string) => {
    const context = original(options)
    ;(context.context as {addCACert(pem: string): void}).addCACert(pem)
    return context
  }
  tlsModule.createSecureContext = function createSecureContext(options?: tls.SecureContextOptions): tls.SecureContext {
    const file = process.env[EXTRA_CA_ENV]
    const pem = options?.ca === undefined ? extraPem(file) : undefined
    if (pem === undefined) return original(options)
    const plain = CONTEXT_OPTIONS.every((k) => (options as Record<string, unknown> | undefined)?.[k] === undefined)
    if (!plain) return withExtra(options, pem)
    let context = shared.get(file!)
    if (context === undefined) shared.set(file!, (context = withExtra(undefined, pem)))
    return context
  }
}

function extraPem(file: string | undefined): string | undefined {
  if (!file) return undefined
  if (pems.has(file)) return pems.get(file)
  let pem: string | undefined
  try {
    pem = fs.readFileSync(file, 'utf8')
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it')
  } catch (error) {
    pem = undefined
    process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(error as Error).message}`)
  }
  pems.set(file, pem)
  return pem
}
