// A decoder of the LZ4 block format in plain JavaScript, for small payloads: loading the native
// lz4-napi addon costs ~15 ms per process (dlopen), far more than decoding a label chunk of a few
// KB here. Large payloads still go to the native decoder (faster per byte). Every read is bounds
// checked: hostile bytes give an Error with a message, never out-of-range writes or a hang.

/** Decodes one LZ4 block into exactly `size` bytes; throws Error naming what was wrong. */
export function decodeLz4Block(src: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size)
  const end = src.length
  let s = 0
  let d = 0
  while (s < end) {
    const token = src[s++]
    let literals = token >>> 4
    if (literals === 15) {
      let b: number
      do {
        if (s >= end) throw new Error('truncated literal length')
        b = src[s++]
        literals += b
      } while (b === 255)
    }
    if (s + literals > end) throw new Error(`literal run of ${literals} bytes passes the end of the input`)
    if (d + literals > size) throw new Error(`literal run of ${literals} bytes passes the ${size}-byte output`)
    if (literals > 16) out.set(src.subarray(s, s + literals), d)
    else for (let i = 0; i < literals; i++) out[d + i] = src[s + i]
    s += literals
    d += literals
    if (s === end) break // the last sequence is literals only
    if (s + 2 > end) throw new Error('truncated match offset')
    const offset = src[s] | (src[s + 1] << 8)
    s += 2
    if (offset === 0 || offset > d) throw new Error(`match offset ${offset} points before the start of the output`)
    let match = token & 15
    if (match === 15) {
      let b: number
      do {
        if (s >= end) throw new Error('truncated match length')
        b = src[s++]
        match += b
      } while (b === 255)
    }
    match += 4
    if (d + match > size) throw new Error(`match of ${match} bytes passes the ${size}-byte output`)
    const from = d - offset
    if (match <= 32) {
      // byte by byte: a match may overlap the bytes it is producing (offset < length repeats them)
      for (let f = from, stop = d + match; d < stop; ) out[d++] = out[f++]
    } else {
      // long matches (runs in label and id chunks) natively: out[d + i] = out[from + i], copied in
      // spans that only read bytes already written, doubling (a short offset repeats a pattern)
      for (let done = 0; done < match; ) {
        const n = Math.min(match - done, offset + done)
        out.copyWithin(d + done, from, from + n)
        done += n
      }
      d += match
    }
  }
  if (d !== size) throw new Error(`decoded ${d} bytes, expected ${size}`)
  return out
}

// The encoder's limits, from the LZ4 block format: the last match starts at least 12 bytes before
// the end, the last 5 bytes are literals, a match is at least 4 bytes and at most 65535 back.
const MF_LIMIT = 12
const LAST_LITERALS = 5
const MIN_MATCH = 4
const MAX_OFFSET = 65535
const HASH_LOG = 14
// lz4's search acceleration: after 2^SKIP_TRIGGER positions without a match the encoder steps 2
// bytes, after as many more 3, and so on (reset at each match). Incompressible data (images,
// random bytes) is then passed over in a fraction of the time, which is what a probe of such a
// chunk costs (chunk.ts lz4IfItPays); compressible data finds its matches as before.
const SKIP_TRIGGER = 6

/**
 * Encodes `src` as one LZ4 block (greedy, one hash table of 4-byte sequences, lz4's search
 * acceleration: its fast level),
 * for small payloads, where loading the native addon would cost more than the compression. Any
 * LZ4 decoder reads it (lz4-napi's, decodeLz4Block); the bytes need not equal lz4-napi's.
 */
export function encodeLz4Block(src: Uint8Array): Uint8Array {
  const n = src.length
  const out = new Uint8Array(n + Math.ceil(n / 255) + 16) // LZ4_compressBound
  const table = new Int32Array(1 << HASH_LOG).fill(-1)
  const read32 = (i: number) => src[i] | (src[i + 1] << 8) | (src[i + 2] << 16) | (src[i + 3] << 24)
  let d = 0
  let anchor = 0
  let misses = 1 << SKIP_TRIGGER
  const writeLength = (rest: number) => {
    for (; rest >= 255; rest -= 255) out[d++] = 255
    out[d++] = rest
  }
  for (let s = 0; s <= n - MF_LIMIT; ) {
    const seq = read32(s)
    const h = Math.imul(seq, 2654435761) >>> (32 - HASH_LOG)
    let ref = table[h]
    table[h] = s
    if (ref < 0 || s - ref > MAX_OFFSET || read32(ref) !== seq) {
      s += misses++ >> SKIP_TRIGGER
      continue
    }
    misses = 1 << SKIP_TRIGGER
    let e = s + MIN_MATCH
    for (let f = ref + MIN_MATCH; e < n - LAST_LITERALS && src[e] === src[f]; ) e++, f++
    while (s > anchor && ref > 0 && src[s - 1] === src[ref - 1]) s--, ref-- // extend backwards
    const literals = s - anchor
    const match = e - s - MIN_MATCH
    out[d++] = (Math.min(literals, 15) << 4) | Math.min(match, 15)
    if (literals >= 15) writeLength(literals - 15)
    out.set(src.subarray(anchor, s), d)
    d += literals
    const offset = s - ref
    out[d++] = offset & 255
    out[d++] = offset >>> 8
    if (match >= 15) writeLength(match - 15)
    anchor = s = e
    if (e - 2 <= n - MF_LIMIT) table[Math.imul(read32(e - 2), 2654435761) >>> (32 - HASH_LOG)] = e - 2
  }
  const literals = n - anchor
  out[d++] = Math.min(literals, 15) << 4
  if (literals >= 15) writeLength(literals - 15)
  out.set(src.subarray(anchor), d)
  d += literals
  return out.subarray(0, d)
}
