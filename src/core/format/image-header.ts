// Image headers, read without decoding pixels: PNG's IHDR chunk and JPEG's SOFn frame header.
// Both walks also check the file's structure (chunk/segment lengths fit the file, an end marker
// exists), so a truncated or lying file is refused when it is added, not when it is trained on.
import {crc32} from 'node:zlib'
import {InvalidValueError} from '../errors.js'

export type ImageFormat = 'jpeg' | 'png'
export interface ImageInfo {
  format: ImageFormat
  width: number
  height: number
  /** Channels as stored in the file: PNG gray 1, gray+alpha 2, RGB or palette 3, RGBA 4 (tRNS
   * transparency counts as alpha); JPEG components (1 gray, 3 YCbCr, 4 CMYK). */
  channels: number
  bitDepth: number
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
const MAX_DIMENSION = 0x7fffffff

export function detectImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png'
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg'
  return undefined
}

/** The header of a PNG or JPEG file, or a sentence saying why the bytes are not a valid one. */
export function parseImageHeader(bytes: Uint8Array): ImageInfo | string {
  const format = detectImageFormat(bytes)
  if (format === 'png') return parsePng(bytes)
  if (format === 'jpeg') return parseJpeg(bytes)
  return bytes.length === 0 ? 'no bytes' : 'neither a PNG nor a JPEG file (unknown signature)'
}

/** The header of a PNG or JPEG file; throws InvalidValueError for anything else. */
export function imageInfo(bytes: Uint8Array): ImageInfo {
  const info = parseImageHeader(bytes)
  if (typeof info === 'string') {
    throw new InvalidValueError(`not a valid image: ${info}`, {hint: 'images must be complete PNG or JPEG files'})
  }
  return info
}

// colour type -> [allowed bit depths, channels without tRNS]
const PNG_COLOR_TYPES: Record<number, [number[], number]> = {
  0: [[1, 2, 4, 8, 16], 1],
  2: [[8, 16], 3],
  3: [[1, 2, 4, 8], 3],
  4: [[8, 16], 2],
  6: [[8, 16], 4],
}

function parsePng(b: Uint8Array): ImageInfo | string {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const type = (at: number) => String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3])
  let pos = 8
  let header: (ImageInfo & {colorType: number}) | undefined
  let hasPalette = false
  let hasTransparency = false
  let dataChunks = 0
  for (;;) {
    if (pos + 12 > b.length) return `truncated PNG: ${header ? 'no IEND chunk' : 'no IHDR chunk'} before the end of the file`
    const length = view.getUint32(pos)
    const name = type(pos + 4)
    if (length > MAX_DIMENSION || pos + 12 + length > b.length) {
      return `truncated PNG: chunk ${JSON.stringify(name)} at byte ${pos} claims ${length} bytes, ${Math.max(0, b.length - pos - 12)} remain`
    }
    if (!header) {
      if (name !== 'IHDR' || length !== 13) return `PNG must start with a 13-byte IHDR chunk, found ${JSON.stringify(name)} of ${length} bytes`
      const stored = view.getUint32(pos + 8 + length)
      if (crc32(b.subarray(pos + 4, pos + 8 + length)) !== stored) return 'PNG IHDR checksum mismatch (corrupt or edited header)'
      const ihdr = parseIhdr(view, pos + 8)
      if (typeof ihdr === 'string') return ihdr
      header = ihdr
    } else if (name === 'PLTE') hasPalette = true
    else if (name === 'tRNS') hasTransparency = true
    else if (name === 'IDAT') dataChunks++
    else if (name === 'IEND') break
    pos += 12 + length
  }
  if (!header) return 'PNG has no IHDR chunk'
  if (dataChunks === 0) return 'PNG has no IDAT (pixel data) chunk'
  const {colorType, ...info} = header
  if (colorType === 3 && !hasPalette) return 'PNG palette image without a PLTE chunk'
  // tRNS adds an alpha channel to gray, RGB and palette images, as decoders report it
  if (hasTransparency && (colorType === 0 || colorType === 2 || colorType === 3)) info.channels += 1
  return info
}

function parseIhdr(view: DataView, at: number): (ImageInfo & {colorType: number}) | string {
  const width = view.getUint32(at)
  const height = view.getUint32(at + 4)
  const bitDepth = view.getUint8(at + 8)
  const colorType = view.getUint8(at + 9)
  if (width < 1 || width > MAX_DIMENSION || height < 1 || height > MAX_DIMENSION) {
    return `PNG IHDR claims an impossible size ${width}x${height}`
  }
  const rule = PNG_COLOR_TYPES[colorType]
  if (!rule) return `PNG IHDR has unknown colour type ${colorType}`
  if (!rule[0].includes(bitDepth)) return `PNG IHDR has bit depth ${bitDepth}, invalid for colour type ${colorType}`
  if (view.getUint8(at + 10) !== 0 || view.getUint8(at + 11) !== 0 || view.getUint8(at + 12) > 1) {
    return 'PNG IHDR has unknown compression, filter or interlace method'
  }
  return {format: 'png', width, height, channels: rule[1], bitDepth, colorType}
}

// SOF0-3, 5-7, 9-11, 13-15: every start-of-frame marker (C4 DHT, C8 JPG and CC DAC are not)
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc

function parseJpeg(b: Uint8Array): ImageInfo | string {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  let pos = 2
  let info: ImageInfo | undefined
  for (;;) {
    if (pos >= b.length) return `truncated JPEG: ${info ? 'no scan (SOS)' : 'no frame header (SOFn)'} before the end of the file`
    if (b[pos] !== 0xff) return `JPEG marker expected at byte ${pos}, found 0x${b[pos].toString(16).padStart(2, '0')}`
    while (pos < b.length && b[pos] === 0xff) pos++ // fill bytes may pad any marker
    if (pos >= b.length) return 'truncated JPEG: file ends inside a marker'
    const marker = b[pos++]
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue // standalone markers
    if (marker === 0xd8 || marker === 0xd9) return `JPEG has an unexpected ${marker === 0xd8 ? 'SOI' : 'EOI'} marker at byte ${pos - 2} before its scan`
    if (pos + 2 > b.length) return 'truncated JPEG: file ends inside a segment length'
    const length = view.getUint16(pos)
    if (length < 2 || pos + length > b.length) {
      return `truncated JPEG: segment 0x${marker.toString(16)} at byte ${pos - 2} claims ${length} bytes, ${b.length - pos} remain`
    }
    if (isSof(marker)) {
      if (info) return 'JPEG has more than one frame header (SOFn)'
      const frame = parseSof(view, pos, length)
      if (typeof frame === 'string') return frame
      info = frame
    } else if (marker === 0xda) {
      if (!info) return 'JPEG scan (SOS) before any frame header (SOFn)'
      // entropy-coded data runs to the end; a complete file closes with EOI (FF D9) after it
      const rest = Buffer.from(b.buffer, b.byteOffset + pos + length, b.length - pos - length)
      if (rest.lastIndexOf(EOI) < 0) return 'truncated JPEG: no end-of-image marker (FF D9) after the scan'
      return info
    }
    pos += length
  }
}

const EOI = Buffer.from([0xff, 0xd9])

function parseSof(view: DataView, at: number, length: number): ImageInfo | string {
  if (length < 8) return `JPEG frame header of ${length} bytes is too short`
  const precision = view.getUint8(at + 2)
  const height = view.getUint16(at + 3)
  const width = view.getUint16(at + 5)
  const components = view.getUint8(at + 7)
  if (length !== 8 + 3 * components) {
    return `JPEG frame header length ${length} does not match its ${components} components (expected ${8 + 3 * components})`
  }
  if (components < 1 || components > 4) return `JPEG frame header has ${components} components, expected 1 to 4`
  if (![8, 12, 16].includes(precision)) return `JPEG frame header has sample precision ${precision}, expected 8, 12 or 16`
  if (width === 0 || height === 0) return `JPEG frame header claims size ${width}x${height} (a zero height defined later by DNL is not supported)`
  return {format: 'jpeg', width, height, channels: components, bitDepth: precision}
}
