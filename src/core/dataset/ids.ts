// Stable sample ids: random 64-bit, so samples appended on two branches never collide and diff and
// merge can match samples by identity rather than by position.
import {randomBytes} from 'node:crypto'

let pool = Buffer.alloc(0)
let offset = 0

export function newSampleId(): bigint {
  if (offset + 8 > pool.length) {
    pool = randomBytes(8 * 4096)
    offset = 0
  }
  const id = pool.readBigUInt64LE(offset)
  offset += 8
  return id
}

export const formatSampleId = (id: bigint) => id.toString(16).padStart(16, '0')
