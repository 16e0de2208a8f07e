// Tiny input files for CLI tests: PNGs (sharp), CSV, JSONL and NPY, plus an NPY header reader
// to check what `lake export --format npy` wrote.
import sharp from 'sharp'

/** A solid-colour PNG. */
export function png(width: number, height: number, background: string | {r: number; g: number; b: number}): Promise<Buffer> {
  return sharp({create: {width, height, channels: 3, background}}).png().toBuffer()
}

/** CSV text from a header and rows; cells are written as given (quote them yourself if needed). */
export function csv(header: string[], rows: (string | number)[][]): string {
  return [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n'
}

/** JSONL text, one object per line. */
export function jsonl(records: unknown[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n'
}

const TYPED = {
  '<i4': Int32Array,
  '<f4': Float32Array,
  '<f8': Float64Array,
  '|u1': Uint8Array,
  '<i8': BigInt64Array,
} as const

export type NpyDescr = keyof typeof TYPED

/** An NPY 1.0 file as numpy.save writes it (header padded so data starts at a multiple of 64). */
export function npy(descr: NpyDescr, shape: number[], values: number[] | bigint[]): Buffer {
  const Typed = TYPED[descr] as unknown as {new (v: unknown[]): ArrayBufferView}
  const data = new Typed(values as unknown[])
  return npyRaw(`{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`, Buffer.from(data.buffer, data.byteOffset, data.byteLength))
}

/** An NPY 1.0 file with any header text (for malformed cases) and data bytes. */
export function npyRaw(header: string, data: Uint8Array = new Uint8Array(0)): Buffer {
  const unpadded = 10 + header.length + 1
  const padded = header + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n'
  const head = Buffer.alloc(10)
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head)
  head.writeUInt16LE(padded.length, 8)
  return Buffer.concat([head, Buffer.from(padded, 'latin1'), data])
}

/** The header dict of an NPY file (versions 1.0 to 3.0) and where its data starts. */
export function readNpyHeader(bytes: Buffer): {descr: string; fortranOrder: boolean; shape: number[]; dataOffset: number} {
  if (bytes.subarray(0, 6).toString('latin1') !== '\x93NUMPY') throw new Error('not an NPY file')
  const major = bytes[6]
  const length = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8)
  const start = major === 1 ? 10 : 12
  const text = bytes.subarray(start, start + length).toString('latin1')
  const descr = /'descr':\s*'([^']+)'/.exec(text)?.[1]
  const fortran = /'fortran_order':\s*(True|False)/.exec(text)?.[1]
  const shape = /'shape':\s*\(([^)]*)\)/.exec(text)?.[1]
  if (descr === undefined || fortran === undefined || shape === undefined) throw new Error(`bad NPY header: ${text}`)
  return {
    descr,
    fortranOrder: fortran === 'True',
    shape: shape.split(',').map((s) => s.trim()).filter(Boolean).map(Number),
    dataOffset: start + length,
  }
}
