import assert from 'node:assert/strict'
import {crc32} from 'node:zlib'
import sharp from 'sharp'
import {createTensorMeta, decodeImage, decodeSample, encodeSample, imageInfo, parseImageHeader} from '../../src/core/format/index.js'
import {rejectsCode, throwsCode} from './helpers.js'

const red = {create: {width: 7, height: 5, channels: 3 as const, background: '#f00'}}
const translucent = {create: {width: 7, height: 5, channels: 4 as const, background: {r: 1, g: 2, b: 3, alpha: 0.5}}}

async function samples(): Promise<Record<string, Buffer>> {
  return {
    png: await sharp(red).png().toBuffer(),
    pngRgba: await sharp(translucent).png().toBuffer(),
    pngPalette: await sharp(red).png({palette: true}).toBuffer(),
    pngPaletteAlpha: await sharp(translucent).png({palette: true}).toBuffer(),
    pngGray: await sharp(red).toColourspace('b-w').png().toBuffer(),
    pngGrayAlpha: await sharp(translucent).toColourspace('b-w').png().toBuffer(),
    pngInterlaced: await sharp(red).png({progressive: true}).toBuffer(),
    jpeg: await sharp(red).jpeg().toBuffer(),
    jpegGray: await sharp(red).toColourspace('b-w').jpeg().toBuffer(),
    jpegProgressive: await sharp(red).jpeg({progressive: true}).toBuffer(),
    jpegCmyk: await sharp(red).toColourspace('cmyk').jpeg().toBuffer(),
  }
}

/** Rewrites PNG IHDR bytes and, unless told not to, fixes the checksum so only the lie remains. */
function editIhdr(png: Buffer, edit: (ihdr: Buffer) => void, fixCrc = true): Buffer {
  const out = Buffer.from(png)
  edit(out.subarray(16, 29))
  if (fixCrc) out.writeUInt32BE(crc32(out.subarray(12, 29)), 29)
  return out
}

/** Position of the first JPEG SOFn segment's length field. */
function sofAt(jpeg: Buffer): number {
  let pos = 2
  for (;;) {
    const marker = jpeg[pos + 1]
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) return pos + 2
    pos += 2 + jpeg.readUInt16BE(pos + 2)
  }
}

describe('format/image-header', () => {
  let img: Record<string, Buffer>
  before(async () => {
    img = await samples()
  })

  it('reads size and channels of PNG and JPEG files as sharp does', async () => {
    for (const [name, bytes] of Object.entries(img)) {
      const info = imageInfo(bytes)
      const m = await sharp(bytes).metadata()
      assert.deepEqual([info.format, info.width, info.height, info.channels], [m.format, m.width, m.height, m.channels], name)
    }
    assert.equal(imageInfo(img.png).bitDepth, 8)
  })

  it('reads a 16-bit PNG and a large size', async () => {
    const deep = await sharp(red).toColourspace('rgb16').png().toBuffer()
    assert.equal(imageInfo(deep).bitDepth, 16)
    const wide = await sharp({create: {width: 3000, height: 2, channels: 3, background: '#000'}}).jpeg().toBuffer()
    assert.deepEqual([imageInfo(wide).width, imageInfo(wide).height], [3000, 2])
  })

  it('refuses every truncation of a valid file', () => {
    for (const name of ['png', 'jpeg', 'jpegProgressive', 'pngPalette']) {
      const bytes = img[name]
      for (let n = 0; n < bytes.length; n++) {
        assert.equal(typeof parseImageHeader(bytes.subarray(0, n)), 'string', `${name} cut at ${n} of ${bytes.length}`)
      }
    }
    throwsCode(() => imageInfo(img.png.subarray(0, 40)), 'INVALID_VALUE', 'truncated PNG')
    throwsCode(() => imageInfo(img.jpeg.subarray(0, img.jpeg.length - 2)), 'INVALID_VALUE', 'end-of-image')
  })

  it('refuses lying PNG headers', () => {
    const lies: [Buffer, string][] = [
      [editIhdr(img.png, h => h.writeUInt32BE(9, 0), false), 'checksum'],
      [editIhdr(img.png, h => h.writeUInt32BE(0, 0)), 'size 0x5'],
      [editIhdr(img.png, h => h.writeUInt32BE(2 ** 31, 4)), 'impossible size'],
      [editIhdr(img.png, h => (h[9] = 5)), 'colour type 5'],
      [editIhdr(img.png, h => (h[8] = 3)), 'bit depth 3'],
      [editIhdr(img.png, h => (h[12] = 2)), 'interlace'],
      [editIhdr(img.png, h => (h[9] = 3)), 'PLTE'],
    ]
    for (const [bytes, mention] of lies) throwsCode(() => imageInfo(bytes), 'INVALID_VALUE', mention)
    // a chunk whose length runs past the end
    const long = Buffer.from(img.png)
    long.writeUInt32BE(0x7fff0000, 33)
    throwsCode(() => imageInfo(long), 'INVALID_VALUE', 'claims')
    // IHDR not first
    const swapped = Buffer.concat([img.png.subarray(0, 8), Buffer.from('0000000049454e44ae426082', 'hex'), img.png.subarray(8)])
    throwsCode(() => imageInfo(swapped), 'INVALID_VALUE', 'IHDR')
  })

  it('refuses lying JPEG headers', () => {
    const edit = (f: (b: Buffer, sof: number) => void) => {
      const b = Buffer.from(img.jpeg)
      f(b, sofAt(b))
      return b
    }
    throwsCode(() => imageInfo(edit((b, s) => (b[s + 7] = 1))), 'INVALID_VALUE', 'does not match its 1 components')
    throwsCode(() => imageInfo(edit((b, s) => b.writeUInt16BE(0, s + 3))), 'INVALID_VALUE', 'size 7x0')
    throwsCode(() => imageInfo(edit((b, s) => (b[s + 2] = 9))), 'INVALID_VALUE', 'precision 9')
    throwsCode(() => imageInfo(edit((b, s) => b.writeUInt16BE(0xfff0, s))), 'INVALID_VALUE', 'claims')
    throwsCode(() => imageInfo(edit((b, s) => (b[s - 2] = 0x12))), 'INVALID_VALUE', 'marker expected')
    // the scan comes before any frame header when the SOF is relabelled as an APP segment
    throwsCode(() => imageInfo(edit((b, s) => (b[s - 1] = 0xe5))), 'INVALID_VALUE', 'before any frame header')
  })

  it('refuses what is not an image', () => {
    throwsCode(() => imageInfo(Buffer.from('GIF89a......')), 'INVALID_VALUE', 'unknown signature')
    throwsCode(() => imageInfo(new Uint8Array(0)), 'INVALID_VALUE', 'no bytes')
  })
})

describe('format/sample: image', () => {
  let img: Record<string, Buffer>
  before(async () => {
    img = await samples()
  })

  it('stores the file bytes as-is and checks the format against the tensor', () => {
    const any = createTensorMeta('images', {htype: 'image'})
    for (const bytes of Object.values(img)) assert.deepEqual(decodeSample(any, encodeSample(any, bytes, {index: 0})), bytes)
    const jpegOnly = createTensorMeta('images', {htype: 'image', sampleCompression: 'jpeg'})
    encodeSample(jpegOnly, img.jpeg, {index: 0})
    const e = throwsCode(() => encodeSample(jpegOnly, img.png, {index: 3}), 'INVALID_VALUE',
      "tensor 'images' sample 3: expected a JPEG file (sample compression jpeg), got a PNG file")
    assert.match(e.hint!, /sample-compression none/)
    const pngOnly = createTensorMeta('images', {htype: 'image', sampleCompression: 'png'})
    throwsCode(() => encodeSample(pngOnly, img.jpeg, {index: 4}), 'INVALID_VALUE', 'expected a PNG file')
  })

  it('refuses broken or non-image bytes, naming tensor and index', () => {
    const meta = createTensorMeta('images', {htype: 'image'})
    throwsCode(() => encodeSample(meta, img.png.subarray(0, 50), {index: 8, file: 'a/b.png'}), 'INVALID_VALUE',
      "tensor 'images' sample 8 (a/b.png)", '50 bytes', 'truncated PNG')
    throwsCode(() => encodeSample(meta, 'cat.png', {index: 8}), 'INVALID_VALUE', 'PNG or JPEG', '"cat.png"')
  })

  it('decodes to pixels only on request', async () => {
    const png = await decodeImage(img.png)
    assert.deepEqual(png.shape, [5, 7, 3])
    assert.equal(png.data.length, 105)
    assert.deepEqual([...png.data.subarray(0, 6)], [255, 0, 0, 255, 0, 0])
    const jpeg = await decodeImage(img.jpeg)
    assert.deepEqual(jpeg.shape, [5, 7, 3])
    assert.ok(jpeg.data[0] > 240 && jpeg.data[1] < 15, 'red stays red through JPEG')
    assert.deepEqual((await decodeImage(img.pngRgba)).shape, [5, 7, 4])
    await rejectsCode(decodeImage(Buffer.from('nope'), {tensor: 'images', where: {index: 2}}), 'INVALID_VALUE', "tensor 'images' sample 2")
  })
})
