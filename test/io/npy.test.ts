import assert from 'node:assert/strict'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import fc from 'fast-check'
import {readNpyHeader, readNpyRows, writeNpy} from '../../src/core/io/npy.js'
import {ITEM_SIZE, NUMERIC_DTYPES, typedArrayOf, type NumericDtype, type TypedArray} from '../../src/core/io/dtype.js'
import {collect, put, rejectsLake, useTempDir} from './helpers.js'

const FIXTURES = fileURLToPath(new URL('./fixtures/npy/', import.meta.url))
const fixture = (name: string) => join(FIXTURES, `${name}.npy`)

async function values(name: string): Promise<unknown[][]> {
  return (await collect(readNpyRows(fixture(name)))).map((row) => Array.from(row.data as ArrayLike<unknown>))
}

function bytesOf(array: TypedArray): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength)
}

describe('io/npy', () => {
  const tmp = useTempDir()

  describe('reading files numpy wrote', () => {
    it('float32 2x3', async () => {
      const header = await readNpyHeader(fixture('f32_2x3'))
      assert.deepEqual(header, {dtype: 'f32', shape: [2, 3], fortranOrder: false, dataOffset: 128, descr: '<f4', littleEndian: true, version: '1.0'})
      const rows = await collect(readNpyRows(fixture('f32_2x3')))
      assert.deepEqual(rows.map((r) => r.index), [0, 1])
      assert.deepEqual(rows[1].shape, [3])
      assert.ok(rows[0].data instanceof Float32Array)
      assert.deepEqual(rows.map((r) => Array.from(r.data as Float32Array)), [[0, 0.25, 0.5], [0.75, 1, 1.25]])
    })

    it('big-endian ints and floats are swapped to host order', async () => {
      assert.deepEqual(await values('be_i4_5'), [[-2], [-1], [0], [1], [2 ** 31 - 1]])
      assert.deepEqual(await values('be_f8_2x2'), [[1.5, -2.25], [1e300, -0]])
      assert.equal((await readNpyHeader(fixture('be_i4_5'))).littleEndian, false)
    })

    it('bool, uint8, int8, uint16, int64, uint64', async () => {
      assert.deepEqual(await values('bool_4'), [[1], [0], [0], [1]])
      assert.equal((await readNpyHeader(fixture('bool_4'))).dtype, 'bool')
      assert.deepEqual(await values('u8_3x2x2'), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]])
      assert.deepEqual(await values('i8_3'), [[-128], [0], [127]])
      assert.deepEqual(await values('u16_2x2'), [[1, 2], [65535, 0]])
      assert.deepEqual(await values('i64_3'), [[-(2n ** 63n)], [0n], [2n ** 63n - 1n]])
      assert.deepEqual(await values('u64_2'), [[0n], [2n ** 64n - 1n]])
    })

    it('format versions 2.0 and 3.0', async () => {
      assert.equal((await readNpyHeader(fixture('v2_f8_3'))).version, '2.0')
      assert.deepEqual(await values('v2_f8_3'), [[0.5], [1.5], [2.5]])
      assert.equal((await readNpyHeader(fixture('v3_i2_3'))).version, '3.0')
      assert.deepEqual(await values('v3_i2_3'), [[-1], [0], [1]])
    })

    it('empty arrays: no rows, and rows of no values', async () => {
      assert.deepEqual(await values('empty_0x4'), [])
      const rows = await collect(readNpyRows(fixture('zero_width_3x0')))
      assert.deepEqual(rows.map((r) => [r.index, r.shape, r.data.length]), [[0, [0], 0], [1, [0], 0], [2, [0], 0]])
    })

    it('Fortran order is accepted only where it lays bytes out as C order does', async () => {
      // numpy itself writes False for (1, 3); a hand-made header says True.
      const original = await readFile(fixture('fortran_1x3'))
      const file = await put(tmp(), 'f13.npy', Buffer.from(original.toString('latin1').replace("'fortran_order': False", "'fortran_order': True "), 'latin1'))
      assert.equal((await readNpyHeader(file)).fortranOrder, true)
      assert.deepEqual((await collect(readNpyRows(file))).map((r) => Array.from(r.data as Int32Array)), [[0, 1, 2]])
      await rejectsLake(readNpyHeader(fixture('fortran_2x3')), 'BAD_INPUT_FILE', 'fortran_2x3.npy', 'Fortran')
    })

    it('a 0-d array has a header but no rows', async () => {
      assert.deepEqual((await readNpyHeader(fixture('scalar'))).shape, [])
      await rejectsLake(collect(readNpyRows(fixture('scalar'))), 'BAD_INPUT_FILE', 'scalar.npy', 'scalar')
    })

    for (const [name, descr] of [
      ['unicode', "'<U2'"], ['bytes', "'|S2'"], ['object', "'|O'"], ['f16', "'<f2'"], ['complex', "'<c8'"], ['datetime', "'<M8[D]'"],
    ]) {
      it(`refuses dtype ${descr}, naming it`, async () => {
        const err = await rejectsLake(readNpyHeader(fixture(name)), 'BAD_INPUT_FILE', `${name}.npy`, descr, 'not supported')
        assert.ok(err.hint)
      })
    }

    it('refuses structured dtypes', async () => {
      await rejectsLake(readNpyHeader(fixture('structured')), 'BAD_INPUT_FILE', 'structured.npy', 'structured')
    })
  })

  describe('file-level errors', () => {
    it('truncated data', async () => {
      const bytes = await readFile(fixture('f32_2x3'))
      const file = await put(tmp(), 'cut.npy', bytes.subarray(0, bytes.length - 3))
      await rejectsLake(readNpyHeader(file), 'BAD_INPUT_FILE', 'cut.npy', 'truncated')
      await rejectsLake(collect(readNpyRows(file)), 'BAD_INPUT_FILE', 'cut.npy', 'truncated')
    })

    it('truncated header', async () => {
      const bytes = await readFile(fixture('f32_2x3'))
      for (const length of [0, 5, 9, 40]) {
        const file = await put(tmp(), `h${length}.npy`, bytes.subarray(0, length))
        await rejectsLake(readNpyHeader(file), 'BAD_INPUT_FILE', `h${length}.npy`)
      }
    })

    it('trailing bytes', async () => {
      const bytes = await readFile(fixture('f32_2x3'))
      const file = await put(tmp(), 'long.npy', Buffer.concat([bytes, Buffer.from([1, 2])]))
      await rejectsLake(readNpyHeader(file), 'BAD_INPUT_FILE', 'long.npy', '2 unexpected bytes')
    })

    it('not an npy file, unknown version, missing file', async () => {
      await rejectsLake(readNpyHeader(await put(tmp(), 'text.npy', 'hello world, not numpy')), 'BAD_INPUT_FILE', 'text.npy', 'not an NPY file')
      const bytes = Buffer.from(await readFile(fixture('f32_2x3')))
      bytes[6] = 4
      await rejectsLake(readNpyHeader(await put(tmp(), 'v4.npy', bytes)), 'BAD_INPUT_FILE', 'v4.npy', 'version 4.0')
      await rejectsLake(readNpyHeader(join(tmp(), 'none.npy')), 'FILE_NOT_FOUND', 'none.npy')
    })
  })

  describe('writing', () => {
    it('writes the same bytes numpy.save writes', async () => {
      for (const [name, dtype, shape] of [['f32_2x3', 'f32', [2, 3]], ['u8_3x2x2', 'u8', [3, 2, 2]], ['bool_4', 'bool', [4]], ['i64_3', 'i64', [3]], ['empty_0x4', 'f32', [0, 4]]] as const) {
        const original = await readFile(fixture(name))
        const rows = await collect(readNpyRows(fixture(name)))
        const out = join(tmp(), `${name}.npy`)
        await writeNpy(out, dtype, shape, rows.map((r) => r.data))
        assert.ok(original.equals(await readFile(out)), name)
      }
    })

    it('refuses a value count that does not match the shape, leaving no file', async () => {
      const out = join(tmp(), 'bad.npy')
      await rejectsLake(writeNpy(out, 'f32', [2, 2], [new Float32Array(3)]), 'INVALID_VALUE', 'bad.npy', 'needs 4 values, got 3')
      await rejectsLake(writeNpy(out, 'f32', [2, 2], [new Float32Array(3), new Float32Array(3)]), 'INVALID_VALUE', 'bad.npy')
      await rejectsLake(writeNpy(out, 'f32', [2], [new Float64Array(2)]), 'INVALID_VALUE', 'Float64Array')
      await rejectsLake(writeNpy(out, 'str', [1], []), 'INVALID_VALUE', 'str')
      await assert.rejects(readFile(out), {code: 'ENOENT'})
    })

    it('round-trips every dtype and shape, split into any chunks (property)', async () => {
      const dir = tmp()
      let n = 0
      await fc.assert(fc.asyncProperty(
        fc.constantFrom(...NUMERIC_DTYPES),
        fc.array(fc.integer({min: 0, max: 5}), {minLength: 1, maxLength: 4}),
        fc.array(fc.integer({min: 1, max: 7}), {maxLength: 5}),
        fc.integer(),
        async (dtype, shape, cuts, seed) => {
          const total = shape.reduce((a, b) => a * b, 1)
          const data = randomArray(dtype, total, seed)
          const file = join(dir, `p${n++}.npy`)
          await writeNpy(file, dtype, shape, async function* () {
            yield* splitAt(data, cuts)
          }())
          const header = await readNpyHeader(file)
          assert.equal(header.dtype, dtype)
          assert.deepEqual(header.shape, shape)
          assert.equal(header.dataOffset % 64, 0)
          const rows = await collect(readNpyRows(file))
          assert.equal(rows.length, shape[0])
          for (const row of rows) assert.deepEqual(row.shape, shape.slice(1))
          const back = Buffer.concat(rows.map((r) => bytesOf(r.data)))
          assert.ok(back.equals(bytesOf(data)))
        },
      ), {numRuns: 150})
    })

    it('streams rows that straddle read chunks, and rows larger than a chunk', async () => {
      for (const shape of [[3000, 100], [3, 300001]]) {
        const total = shape[0] * shape[1]
        const data = Float64Array.from({length: total}, (_, i) => i * 0.5 - 7)
        const file = join(tmp(), `big-${shape[1]}.npy`)
        await writeNpy(file, 'f64', shape, [data.subarray(0, 12345), data.subarray(12345)])
        let index = 0
        for await (const row of readNpyRows(file)) {
          assert.equal(row.index, index)
          assert.equal(row.data.length, shape[1])
          assert.equal((row.data as Float64Array)[0], index * shape[1] * 0.5 - 7)
          assert.equal((row.data as Float64Array)[shape[1] - 1], ((index + 1) * shape[1] - 1) * 0.5 - 7)
          index++
        }
        assert.equal(index, shape[0])
      }
    })
  })
})

function randomArray(dtype: NumericDtype, length: number, seed: number): TypedArray {
  const bytes = new Uint8Array(length * ITEM_SIZE[dtype])
  let state = seed >>> 0 || 1
  for (let i = 0; i < bytes.length; i++) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    bytes[i] = state & 0xff
  }
  if (dtype === 'bool') for (let i = 0; i < bytes.length; i++) bytes[i] &= 1
  return typedArrayOf(dtype, bytes.buffer)
}

function* splitAt(data: TypedArray, cuts: number[]): Generator<TypedArray> {
  let start = 0
  for (const size of cuts) {
    if (start >= data.length) break
    yield data.subarray(start, start + size)
    start += size
  }
  yield data.subarray(Math.min(start, data.length))
}
