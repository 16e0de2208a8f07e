// Streaming JSON Lines reader: one JSON object per line, blank lines skipped. Each record is
// parsed on its own, so a 1 GB file costs one line of memory at a time.
import {readLines, type LinesOptions} from './lines.js'
import {lineError} from './input.js'

export interface JsonlRow {
  /** 1-based line number of the record. */
  line: number
  record: Record<string, unknown>
}

export async function* readJsonl(file: string, opts: LinesOptions = {}): AsyncGenerator<JsonlRow> {
  for await (const {line, text} of readLines(file, opts)) {
    if (text.trim() === '') continue
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err)
      throw lineError(file, line, `not valid JSON (${detail})`, 'each line must hold one complete JSON object')
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw lineError(file, line, `expected a JSON object, got ${describe(value)}`, 'each line must hold one JSON object such as {"text": "..."}')
    }
    yield {line, record: value as Record<string, unknown>}
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}
