// Pixels, only when asked: stored images stay JPEG/PNG bytes, and sharp (native, heavy to load)
// is imported on first use so reading labels or text never pays for it.
import {InvalidValueError} from '../errors.js'
import {wherePrefix, type SampleWhere} from './messages.js'

export interface DecodedImage {
  /** [height, width, channels] */
  shape: [number, number, number]
  /** row-major interleaved 8-bit pixels */
  data: Uint8Array
}

/**
 * Decodes JPEG/PNG bytes to 8-bit pixels with sharp's defaults (so CMYK comes out as RGB and
 * 16-bit PNGs are scaled to 8 bits); `imageInfo().channels` describes the file, this the pixels.
 */
export async function decodeImage(bytes: Uint8Array, context?: {tensor: string; where?: SampleWhere}): Promise<DecodedImage> {
  const {default: sharp} = await import('sharp')
  try {
    const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const {data, info} = await sharp(input).raw({depth: 'uchar'}).toBuffer({resolveWithObject: true})
    return {shape: [info.height, info.width, info.channels], data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength)}
  } catch (e) {
    const prefix = context ? `${wherePrefix(context.tensor, context.where)}: ` : ''
    throw new InvalidValueError(`${prefix}image cannot be decoded: ${(e as Error).message}`, {
      hint: 'the stored bytes are not a complete JPEG or PNG image',
      data: context ? {tensor: context.tensor, index: context.where?.index} : {},
    })
  }
}
