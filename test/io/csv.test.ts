import assert from 'node:assert/strict'
import fc from 'fast-check'
import {join} from 'node:path'
import {csvHeader, readCsv} from '../../src/core/io/csv.js'
import {collect, put, rejectsLake, useTempDir} from './helpers.js'

describe('io/csv', () => {
  const tmp = useTempDir()

  it('reads rows keyed by the header, with their line numbers', async () => {
    const file = await put(tmp(), 'data.csv', 'name,label\ncat,0\ndog,1\n')
    const rows = await collect(readCsv(file))
    assert.deepEqual(rows, [
      {line: 2, record: {name: 'cat', label: '0'}},
      {line: 3, record: {name: 'dog', label: '1'}},
    ])
  })

  it('handles quotes, delimiters and newlines inside quotes, and reports where records start', async () => {
    const file = await put(tmp(), 'q.csv', 'id,text\n1,"a, ""quoted"" b"\n2,"line one\nline two"\n3,plain\n')
    const rows = await collect(readCsv(file))
    assert.deepEqual(rows.map((r) => r.line), [2, 3, 5])
    assert.equal(rows[0].record.text, 'a, "quoted" b')
    assert.equal(rows[1].record.text, 'line one\nline two')
    assert.equal(rows[2].record.text, 'plain')
  })

  it('strips a BOM, accepts CRLF, skips blank lines and keeps line numbers true', async () => {
    const file = await put(tmp(), 'bom.csv', '\uFEFFa,b\r\n1,2\r\n\r\n\r\n3,"x\r\ny"\r\n')
    assert.deepEqual(await csvHeader(file), ['a', 'b'])
    const rows = await collect(readCsv(file))
    assert.deepEqual(rows, [{line: 2, record: {a: '1', b: '2'}}, {line: 5, record: {a: '3', b: 'x\r\ny'}}])
  })

  it('accepts a last line without a newline and a header-only file', async () => {
    const dir = tmp()
    assert.deepEqual(await collect(readCsv(await put(dir, 'a.csv', 'a\n1'))), [{line: 2, record: {a: '1'}}])
    assert.deepEqual(await collect(readCsv(await put(dir, 'b.csv', 'a,b\n'))), [])
  })

  it('keeps a column named __proto__ as data', async () => {
    const file = await put(tmp(), 'p.csv', '__proto__,x\nevil,1\n')
    const [row] = await collect(readCsv(file))
    assert.equal(Object.getPrototypeOf(row.record), Object.prototype)
    assert.equal(row.record['__proto__'], 'evil')
  })

  it('uses another delimiter when asked', async () => {
    const file = await put(tmp(), 't.csv', 'a\tb\n1\t2,3\n')
    assert.deepEqual(await collect(readCsv(file, {delimiter: '\t'})), [{line: 2, record: {a: '1', b: '2,3'}}])
  })

  it('csvHeader reads only the header', async () => {
    // The body is broken; csvHeader must not get that far.
    const file = await put(tmp(), 'h.csv', 'x,y,z\n1,"open\n')
    assert.deepEqual(await csvHeader(file), ['x', 'y', 'z'])
  })

  it('keeps line numbers true across many stream chunks', async () => {
    // Every third record spans two lines, every fifth is followed by a blank line.
    let text = 'id,text\n'
    const starts: number[] = []
    let line = 2
    for (let i = 0; i < 20000; i++) {
      starts.push(line)
      text += i % 3 === 0 ? `${i},"two\nlines"\n` : `${i},one line\n`
      line += i % 3 === 0 ? 2 : 1
      if (i % 5 === 0) {
        text += '\n'
        line++
      }
    }
    const file = await put(tmp(), 'many.csv', text)
    let i = 0
    for await (const row of readCsv(file)) {
      assert.equal(row.line, starts[i], `record ${i}`)
      assert.equal(row.record.id, String(i))
      i++
    }
    assert.equal(i, 20000)
  })

  it('stops early without leaking when the consumer breaks', async () => {
    const file = await put(tmp(), 'big.csv', 'n\n' + Array.from({length: 10000}, (_, i) => i).join('\n'))
    for await (const row of readCsv(file)) {
      assert.equal(row.record.n, '0')
      break
    }
  })

  it('small plain files split directly give what csv-parse gives: the same header, rows, lines and errors', async () => {
    const dir = tmp()
    let n = 0
    const piece = fc.constantFrom('a', 'b', '1', ' ', ',', ',', '\n', '\n', '\n\n', '"', '\r\n', '\t', '\uFEFF', 'é', '__proto__')
    const outcome = async (file: string, plain: boolean) => {
      const settle = async <T>(p: Promise<T>) => p.then((value) => ({value}), (err) => ({error: (err as Error).message}))
      // the header alone (csvHeader reads only the start of a plain file) and every row
      const maxRecordBytes = n % 2 ? 12 + (n % 3) * 40 : undefined
      const rows = await settle(collect(readCsv(file, {plain, maxRecordBytes})))
      // csvHeader need not read past the header (see 'csvHeader reads only the header'): its
      // answer is compared where the whole file is good
      return {rows, ...('value' in rows ? {header: await settle(csvHeader(file, {plain, maxRecordBytes}))} : {})}
    }
    await fc.assert(
      fc.asyncProperty(fc.array(piece, {maxLength: 40}), fc.boolean(), async (pieces, bom) => {
        const file = await put(dir, `p${n++}.csv`, (bom ? '\uFEFF' : '') + pieces.join(''))
        assert.deepEqual(await outcome(file, true), await outcome(file, false))
      }),
      {numRuns: 300},
    )
  })

  describe('errors name the file and the line', () => {
    it('ragged row', async () => {
      const file = await put(tmp(), 'data.csv', 'a,b,c\n1,2,3\n4,5,6\n7,8\n')
      const err = await rejectsLake(collect(readCsv(file)), 'BAD_INPUT_FILE', 'data.csv line 4', 'expected 3 columns, got 2')
      assert.deepEqual(err.data, {file, line: 4})
      assert.ok(err.hint)
    })

    it('too many fields', async () => {
      const file = await put(tmp(), 'data.csv', 'a,b\n1,2,3\n')
      await rejectsLake(collect(readCsv(file)), 'BAD_INPUT_FILE', 'data.csv line 2', 'expected 2 columns, got 3')
    })

    it('ragged row after blank lines and a multi-line record', async () => {
      const file = await put(tmp(), 'data.csv', 'a,b\n1,"x\ny"\n\n\n9\n')
      await rejectsLake(collect(readCsv(file)), 'BAD_INPUT_FILE', 'data.csv line 6', 'expected 2 columns, got 1')
    })

    it('unterminated quoted field, reported where its record starts', async () => {
      const file = await put(tmp(), 'data.csv', 'a,b\n1,2\n3,4\n5,6\n6,7\n\n7,"never closed\n8,9\n10,11\n')
      await rejectsLake(collect(readCsv(file)), 'BAD_INPUT_FILE', 'data.csv line 7', 'unterminated quoted field')
    })

    it('character after a closing quote', async () => {
      const file = await put(tmp(), 'data.csv', 'a,b\n1,"2"x\n')
      await rejectsLake(collect(readCsv(file)), 'BAD_INPUT_FILE', 'data.csv line 2', 'closing quote')
    })

    it('quote inside an unquoted field', async () => {
      const file = await put(tmp(), 'data.csv', 'a,b\n1,2\n3,x"y\n')
      await rejectsLake(collect(readCsv(file)), 'BAD_INPUT_FILE', 'data.csv line 3', 'quote inside an unquoted field')
    })

    it('record over the size limit (an open quote swallowing the file)', async () => {
      const file = await put(tmp(), 'data.csv', 'a,b\n1,"' + 'x'.repeat(5000) + '\n')
      await rejectsLake(collect(readCsv(file, {maxRecordBytes: 1000})), 'BAD_INPUT_FILE', 'data.csv line 2', 'longer than 1000')
    })

    it('empty header name', async () => {
      const file = await put(tmp(), 'data.csv', 'a,,c\n1,2,3\n')
      await rejectsLake(collect(readCsv(file)), 'BAD_INPUT_FILE', 'data.csv line 1', 'column 2', 'empty name')
    })

    it('duplicate column names', async () => {
      const file = await put(tmp(), 'data.csv', '\n\nid,x,id\n1,2,3\n')
      await rejectsLake(csvHeader(file), 'BAD_INPUT_FILE', 'data.csv line 3', "duplicate column name 'id'")
    })

    it('empty file', async () => {
      const file = await put(tmp(), 'data.csv', '')
      await rejectsLake(collect(readCsv(file)), 'BAD_INPUT_FILE', 'data.csv', 'empty')
      await rejectsLake(csvHeader(file), 'BAD_INPUT_FILE', 'data.csv', 'empty')
    })

    it('missing file and directory', async () => {
      await rejectsLake(collect(readCsv(join(tmp(), 'nope.csv'))), 'FILE_NOT_FOUND', 'nope.csv')
      await rejectsLake(collect(readCsv(tmp())), 'BAD_INPUT_FILE', tmp())
    })

    it('bad delimiter is a usage error', async () => {
      const file = await put(tmp(), 'data.csv', 'a\n')
      await rejectsLake(collect(readCsv(file, {delimiter: '"'})), 'USAGE')
    })
  })
})
