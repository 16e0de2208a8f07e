// Streaming .npy reading (one sample per index of the first axis) and writing (for export).
// Only the header is ever held whole; rows are cut from the file stream as it arrives.
import {BadInputFileError, InvalidValueError} from '../errors.js'
import {writeAtomic} from './atomic.js'
import {
  HOST_LITTLE_ENDIAN, ITEM_SIZE, isArrayOfDtype, isNumericDtype, swapBytes, typedArrayOf,
  type NpyDtype, type NumericDtype, type TypedArray,
} from './dtype.js'
import {openInput} from './input.js'
import {encodeNpyHeader, readNpyHeader, shapeText} from './npy-header.js'

export {readNpyHeader, type NpyHeader} from './npy-header.js'

export interface NpyRow {
  /** Position along the first axis. */
  index: number
  /** The row's shape: the array's shape without its first axis. */
  shape: number[]
  /** The row's values in C order, host byte order; bool as 0/1 in a Uint8Array. */
  data: TypedArray
}

const READ_CHUNK = 1 << 20

/** The rows of an .npy array along its first axis, streamed with memory bounded by one chunk. */
export async function* readNpyRows(file: string): AsyncGenerator<NpyRow> {
  const header = await readNpyHeader(file)
  const {dtype, shape, dataOffset} = header
  if (shape.length === 0) {
    throw new BadInputFileError(`${file}: holds a single scalar (shape ()), not rows`, {
      hint: 'save a 1-d array, e.g. numpy.save(path, numpy.atleast_1d(x))', data: {file},
    })
  }
  const rows = shape[0]
  const rowShape = shape.slice(1)
  const itemSize = ITEM_SIZE[dtype]
  const rowElements = rowShape.reduce((n, d) => n * d, 1)
  const rowBytes = rowElements * itemSize
  const swap = itemSize > 1 && header.littleEndian !== HOST_LITTLE_ENDIAN
  if (rows === 0) return
  if (rowBytes === 0) {
    for (let index = 0; index < rows; index++) yield {index, shape: rowShape.slice(), data: typedArrayOf(dtype, new ArrayBuffer(0))}
    return
  }

  const {handle} = await openInput(file)
  const end = dataOffset + rows * rowBytes
  const source = handle.createReadStream({start: dataOffset, end: end - 1, highWaterMark: READ_CHUNK})
  const finish = (bytes: Uint8Array, offset: number) => {
    if (swap) swapBytes(bytes, itemSize)
    return typedArrayOf(dtype, bytes.buffer as ArrayBuffer, offset, rowElements)
  }
  // A row split across stream chunks is assembled here; whole rows inside a chunk are copied
  // as one block and handed out as views, so tiny rows do not cost one allocation each.
  let partial: Uint8Array | undefined
  let partialFilled = 0
  let index = 0
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      let offset = 0
      if (partial !== undefined) {
        const take = Math.min(rowBytes - partialFilled, chunk.length)
        partial.set(chunk.subarray(0, take), partialFilled)
        partialFilled += take
        offset = take
        if (partialFilled < rowBytes) continue
        yield {index: index++, shape: rowShape.slice(), data: finish(partial, 0)}
        partial = undefined
      }
      const whole = Math.floor((chunk.length - offset) / rowBytes)
      if (whole > 0) {
        const block = new Uint8Array(whole * rowBytes)
        block.set(chunk.subarray(offset, offset + block.length))
        if (swap) swapBytes(block, itemSize)
        for (let r = 0; r < whole; r++) {
          yield {index: index++, shape: rowShape.slice(), data: typedArrayOf(dtype, block.buffer, r * rowBytes, rowElements)}
        }
        offset += block.length
      }
      if (offset < chunk.length) {
        partial = new Uint8Array(rowBytes)
        partial.set(chunk.subarray(offset))
        partialFilled = chunk.length - offset
      }
    }
  } finally {
    source.destroy()
  }
  // The header check saw the right size; a shortfall here means the file shrank meanwhile.
  if (index < rows) {
    throw new BadInputFileError(`${file}: truncated: expected ${rows} rows of shape ${shapeText(rowShape)}, read ${index}`, {data: {file}})
  }
}

/**
 * Writes an array as .npy (format 1.0, little-endian, C order), atomically. `chunks` hold the
 * values in C order, split anyhow; their total must be exactly shape's product. Returns bytes written.
 */
export async function writeNpy(
  file: string, dtype: NpyDtype, shape: readonly number[],
  chunks: AsyncIterable<TypedArray> | Iterable<TypedArray>,
): Promise<number> {
  if (!isNumericDtype(dtype)) {
    throw new InvalidValueError(`cannot write dtype ${dtype} as .npy`, {hint: 'export text with --format jsonl or csv', data: {file, dtype}})
  }
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new InvalidValueError(`invalid shape [${shape.join(', ')}] for ${file}`, {data: {file}})
  }
  const total = shape.reduce((n, d) => n * d, 1)
  return writeAtomic(file, npyBytes(file, dtype, shape, total, chunks))
}

async function* npyBytes(
  file: string, dtype: NumericDtype, shape: readonly number[], total: number,
  chunks: AsyncIterable<TypedArray> | Iterable<TypedArray>,
): AsyncGenerator<Uint8Array> {
  yield encodeNpyHeader(dtype, shape)
  const itemSize = ITEM_SIZE[dtype]
  let count = 0
  for await (const chunk of chunks) {
    if (!isArrayOfDtype(chunk, dtype)) {
      throw new InvalidValueError(`${file}: values for dtype ${dtype} cannot come in a ${chunk.constructor.name}`, {data: {file, dtype}})
    }
    count += chunk.length
    if (count > total) break
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (HOST_LITTLE_ENDIAN || itemSize === 1) {
      yield bytes
    } else {
      const copy = bytes.slice()
      swapBytes(copy, itemSize)
      yield copy
    }
  }
  if (count !== total) {
    throw new InvalidValueError(`${file}: shape ${shapeText(shape)} needs ${total} values, got ${count > total ? 'more' : count}`, {data: {file}})
  }
}
