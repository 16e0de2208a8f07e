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
    // byte by byte: a match may overlap the bytes it is producing (offset < length repeats them)
    for (let from = d - offset, stop = d + match; d < stop; ) out[d++] = out[from++]
  }
  if (d !== size) throw new Error(`decoded ${d} bytes, expected ${size}`)
  return out
}
