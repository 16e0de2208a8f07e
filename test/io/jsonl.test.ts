import assert from 'node:assert/strict'
import {join} from 'node:path'
import {readJsonl} from '../../src/core/io/jsonl.js'
import {readLines} from '../../src/core/io/lines.js'
import {collect, put, rejectsLake, useTempDir} from './helpers.js'

describe('io/jsonl', () => {
  const tmp = useTempDir()

  it('reads one object per line, skipping blank lines, keeping line numbers', async () => {
    const file = await put(tmp(), 'data.jsonl', '{"a": 1}\n\n   \n{"a": 2, "b": [1, "x"]}\r\n{"a": null}')
    assert.deepEqual(await collect(readJsonl(file)), [
      {line: 1, record: {a: 1}},
      {line: 4, record: {a: 2, b: [1, 'x']}},
      {line: 5, record: {a: null}},
    ])
  })

  it('strips a BOM on the first line and reads UTF-8 split across stream chunks', async () => {
    // 70 000 two-byte characters put chunk boundaries (64 KiB) in the middle of characters.
    const text = 'é'.repeat(70000)
    const file = await put(tmp(), 'u.jsonl', '\uFEFF' + JSON.stringify({text}) + '\n' + JSON.stringify({text: 'ü'}) + '\n')
    const rows = await collect(readJsonl(file))
    assert.equal(rows.length, 2)
    assert.equal(rows[0].record.text, text)
    assert.deepEqual(rows[1], {line: 2, record: {text: 'ü'}})
  })

  it('counts lines across many chunks', async () => {
    const lines = Array.from({length: 30000}, (_, i) => JSON.stringify({i, pad: 'x'.repeat(i % 50)}))
    const file = await put(tmp(), 'many.jsonl', lines.join('\n') + '\n')
    let expected = 0
    for await (const {line, record} of readJsonl(file)) {
      assert.equal(line, expected + 1)
      assert.equal(record.i, expected)
      expected++
    }
    assert.equal(expected, 30000)
  })

  it('an empty file yields nothing', async () => {
    assert.deepEqual(await collect(readJsonl(await put(tmp(), 'e.jsonl', ''))), [])
  })

  describe('errors name the file and the line', () => {
    it('invalid JSON', async () => {
      const file = await put(tmp(), 'data.jsonl', '{"a": 1}\n{"a": 2}\n{"a": \n')
      const err = await rejectsLake(collect(readJsonl(file)), 'BAD_INPUT_FILE', 'data.jsonl line 3', 'not valid JSON')
      assert.deepEqual(err.data, {file, line: 3})
    })

    for (const [value, what] of [['[1, 2]', 'an array'], ['42', 'a number'], ['"s"', 'a string'], ['null', 'null'], ['true', 'a boolean']]) {
      it(`a line holding ${what}`, async () => {
        const file = await put(tmp(), 'data.jsonl', `{"ok": 1}\n\n${value}\n`)
        await rejectsLake(collect(readJsonl(file)), 'BAD_INPUT_FILE', 'data.jsonl line 3', `expected a JSON object, got ${what}`)
      })
    }

    it('invalid UTF-8', async () => {
      const file = await put(tmp(), 'data.jsonl', Buffer.concat([Buffer.from('{"a": 1}\n{"a": "'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]))
      await rejectsLake(collect(readJsonl(file)), 'BAD_INPUT_FILE', 'data.jsonl line 2', 'UTF-8')
    })

    it('a line over the length limit', async () => {
      const file = await put(tmp(), 'data.jsonl', '{"a": 1}\n' + 'x'.repeat(200000))
      await rejectsLake(collect(readJsonl(file, {maxLineBytes: 100000})), 'BAD_INPUT_FILE', 'data.jsonl line 2', 'longer than 100000 bytes')
    })

    it('missing file', async () => {
      await rejectsLake(collect(readJsonl(join(tmp(), 'missing.jsonl'))), 'FILE_NOT_FOUND', 'missing.jsonl')
    })
  })

  it('readLines keeps a BOM that is not at the start of the file', async () => {
    const file = await put(tmp(), 'b.txt', '\uFEFFone\n\uFEFFtwo')
    assert.deepEqual(await collect(readLines(file)), [{line: 1, text: 'one'}, {line: 2, text: '\uFEFFtwo'}])
  })
})
