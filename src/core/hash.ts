// The one content hash of the project: sha256, hex. Objects are named by it.
import * as crypto from 'node:crypto'

export const HASH_HEX_LENGTH = 64

// crypto.hash (Node >= 20.12) hashes in one call, without a Hash object per call: most objects
// hashed are index nodes of a few KB, where that object is a good part of the cost.
const oneShot = typeof crypto.hash === 'function' ? crypto.hash : undefined

export function sha256hex(bytes: Uint8Array): string {
  if (oneShot) return oneShot('sha256', bytes, 'hex')
  return crypto.createHash('sha256').update(bytes).digest('hex')
}

export function isHash(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s)
}
