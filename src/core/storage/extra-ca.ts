// Extra certificate authorities (a company's TLS proxy, a private S3 endpoint) that lake itself adds
// to its S3 connections, read only when one is made.
//
// Why not leave them to Node: a Node process started with NODE_EXTRA_CA_CERTS parses its whole root
// store and the file before the first line of JavaScript, TLS or not: ~50 ms of every start here
// (bench: `node -e 0` 0.11 s with it, 0.06 s without). Most lake commands never open a TLS
// connection, so the `lake` launcher (bin/run.js's shell line) moves the variable to
// LAKE_EXTRA_CA_CERTS, and so does the resident process (src/cli/server.ts) for a command whose
// environment names one: that process was started without it.
import fs from 'node:fs'
import type tls from 'node:tls'

/** The environment variable naming a PEM file of CAs this process must add itself. */
export const EXTRA_CA_ENV = 'LAKE_EXTRA_CA_CERTS'

const contexts = new Map<string, Promise<tls.SecureContext | undefined>>()

/**
 * A TLS context that trusts Node's bundled roots plus the CAs in $LAKE_EXTRA_CA_CERTS, for an
 * https agent's `secureContext` (made once per file: it parses a few hundred certificates); undefined
 * when the variable is unset, and then Node's default context applies. An unreadable file is
 * ignored with a warning, as Node itself does with NODE_EXTRA_CA_CERTS.
 */
export async function extraCaContext(env: NodeJS.ProcessEnv = process.env): Promise<tls.SecureContext | undefined> {
  const file = env[EXTRA_CA_ENV]
  if (!file) return undefined
  let context = contexts.get(file)
  if (context === undefined) contexts.set(file, (context = load(file)))
  return context
}

async function load(file: string): Promise<tls.SecureContext | undefined> {
  // (imported here: node:tls costs every command that never opens a TLS connection)
  const {default: tls} = await import('node:tls')
  try {
    const pem = fs.readFileSync(file, 'utf8')
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it')
    return tls.createSecureContext({ca: [...tls.rootCertificates, pem]})
  } catch (error) {
    process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(error as Error).message}`)
    return undefined
  }
}
