// The one content hash of the project: sha256, hex. Objects are named by it.
import {createHash} from 'node:crypto'

export const HASH_HEX_LENGTH = 64

export function sha256hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export function isHash(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s)
}
