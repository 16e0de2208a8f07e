// Streaming CSV reader: the first record names the columns, every later record becomes one
// {column: value} row. csv-parse does the tokenizing; this file owns what a user sees when the
// input is wrong: the file name, the line where the bad record starts, and what to do about it.
// Nothing is relaxed: a ragged row or a stray quote stops the import instead of guessing.
import {parse, CsvError, type InfoRecord} from 'csv-parse'
import {lineError, openInput, readInputHead} from './input.js'
import {BadInputFileError, UsageError} from '../errors.js'

export interface CsvOptions {
  /** Field separator; default ','. */
  delimiter?: string
  /**
   * Longest record accepted, in characters. Bounds memory when a quote is never closed (the rest
   * of the file would otherwise become one field). Default 64 MiB.
   */
  maxRecordBytes?: number
  /** Split small plain files directly (default true); false always runs csv-parse (tests compare the two). */
  plain?: boolean
}

export interface CsvRow {
  /** 1-based line where the record starts (a quoted field may span several lines). */
  line: number
  record: Record<string, string>
}

const DEFAULT_MAX_RECORD = 64 * 1024 * 1024
const QUOTE_HINT = 'a quoted field must end with a closing quote; write a literal quote inside it as ""'

/** Rows of `file` as {column: value}, streamed. Blank lines are skipped. */
export async function* readCsv(file: string, opts: CsvOptions = {}): AsyncGenerator<CsvRow> {
  let columns: string[] | undefined
  let hasProtoColumn = false
  for await (const {line, fields} of csvRecords(file, opts)) {
    if (columns === undefined) {
      columns = checkHeader(file, line, fields)
      hasProtoColumn = columns.includes('__proto__')
      continue
    }
    yield {line, record: hasProtoColumn ? Object.fromEntries(columns.map((name, i) => [name, fields[i]])) : toRecord(columns, fields)}
  }
  if (columns === undefined) throw emptyFile(file)
}

/** The column names of `file` (its first record), read without scanning the rest. */
export async function csvHeader(file: string, opts: CsvOptions = {}): Promise<string[]> {
  const delimiter = checkDelimiter(opts.delimiter)
  if (opts.plain !== false && (opts.maxRecordBytes ?? DEFAULT_MAX_RECORD) >= HEADER_PROBE) {
    // a plain first line is the header: the first 64 KiB answer, not the whole file
    const head = readInputHead(file, HEADER_PROBE).bytes
    const firstLine = plainFirstLine(head.toString('utf8'))
    if (firstLine) return checkHeader(file, firstLine.line, firstLine.text.split(delimiter))
  }
  for await (const {line, fields} of csvRecords(file, opts)) {
    return checkHeader(file, line, fields)
  }
  throw emptyFile(file)
}

// Plain assignment is the fast path; it would set the prototype for a column named "__proto__",
// which is why readCsv uses Object.fromEntries (own properties only) when there is one.
function toRecord(columns: string[], fields: string[]): Record<string, string> {
  const record: Record<string, string> = {}
  for (let i = 0; i < columns.length; i++) record[columns[i]] = fields[i]
  return record
}

function emptyFile(file: string): BadInputFileError {
  return new BadInputFileError(`${file}: empty file, expected a header row naming the columns`, {data: {file}})
}

function checkHeader(file: string, line: number, names: string[]): string[] {
  const seen = new Map<string, number>()
  names.forEach((name, i) => {
    if (name.trim() === '') {
      throw lineError(file, line, `column ${i + 1} of the header has an empty name`, 'give every column a name in the first row')
    }
    const first = seen.get(name)
    if (first !== undefined) {
      throw lineError(file, line, `duplicate column name '${name}' (columns ${first + 1} and ${i + 1})`, 'column names must be unique')
    }
    seen.set(name, i)
  })
  return names
}

export interface RawRecord {
  line: number
  fields: string[]
}

function checkDelimiter(delimiter = ','): string {
  if (delimiter === '' || delimiter.includes('"') || delimiter.includes('\n') || delimiter.includes('\r')) {
    throw new UsageError(`invalid CSV delimiter ${JSON.stringify(delimiter)}`)
  }
  return delimiter
}

async function* csvRecords(file: string, opts: CsvOptions): AsyncGenerator<RawRecord> {
  const maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD
  const delimiter = checkDelimiter(opts.delimiter)
  // A small plain file (no quotes, \n line ends, every row as wide as the header) is split
  // directly: csv-parse tokenizes character by character, which in a short-lived process (its code
  // not yet optimized) costs ~1 µs a character, several times the import it feeds.
  // (a file no longer than maxRecordBytes cannot hold a record over it)
  if (opts.plain !== false) {
    const {bytes, whole} = readInputHead(file, Math.min(PLAIN_MAX, maxRecordBytes), {wholeOnly: true})
    const records = whole ? plainRecords(bytes.toString('utf8'), delimiter) : undefined
    if (records) {
      yield* records
      return
    }
  }
  const {handle} = await openInput(file)
  // anything else, errors included, goes through csv-parse (its messages, its line numbers)
  const source = handle.createReadStream({start: 0})
  // csv-parse reports the line where a record ends; the start is one past the previous record's
  // end, plus the blank lines skipped in between (counted in empty_lines). on_record runs in
  // parse order, before the consumer sees anything, so an error knows the last good record.
  const position = {prevEnd: 0, prevEmpty: 0, expected: 0}
  const parser = parse({
    bom: true,
    delimiter,
    skip_empty_lines: true,
    max_record_size: maxRecordBytes,
    on_record: (fields: string[], context: InfoRecord) => {
      const line = position.prevEnd + 1 + (context.empty_lines - position.prevEmpty)
      position.prevEnd = context.lines
      position.prevEmpty = context.empty_lines
      if (position.expected === 0) position.expected = fields.length
      // csv-parse's typing wants a string[] back; any value is passed through as the record.
      return {line, fields} as unknown as string[]
    },
  })
  // pipe() does not forward read errors; destroying the parser with them ends the loop below.
  source.on('error', (err) => parser.destroy(err))
  source.pipe(parser)
  try {
    yield* parser as AsyncIterable<RawRecord>
  } catch (err) {
    throw csvError(err, file, position, maxRecordBytes)
  } finally {
    source.destroy()
    parser.destroy()
  }
}

const PLAIN_MAX = 4 * 1024 * 1024
/** What csvHeader reads to find a plain first line. */
const HEADER_PROBE = 64 * 1024

/**
 * The first non-empty line of `head` and its 1-based number, when it is plain (no quote, no \r)
 * and ends inside `head` (so that it is the whole line); undefined otherwise.
 */
function plainFirstLine(head: string): {line: number; text: string} | undefined {
  if (head.charCodeAt(0) === 0xfeff) head = head.slice(1) // bom: true
  let start = 0
  for (let line = 1; ; line++) {
    const end = head.indexOf('\n', start)
    if (end < 0) return undefined
    const text = head.slice(start, end)
    if (text.includes('"') || text.includes('\r')) return undefined
    if (text.length > 0) return {line, text}
    start = end + 1
  }
}

/**
 * The records csv-parse would give for `text`, when the text is plain: no quote, no \r, and every
 * record as wide as the first; undefined otherwise (then csv-parse reads the file, and reports
 * what is wrong).
 */
export function plainRecords(text: string, delimiter: string): RawRecord[] | undefined {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1) // bom: true
  if (text.includes('"') || text.includes('\r')) return undefined
  const lines = text.split('\n')
  const out: RawRecord[] = []
  let width = -1
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (line.length === 0) continue // skip_empty_lines (and the end of the last line)
    const fields = line.split(delimiter)
    if (width === -1) width = fields.length
    else if (fields.length !== width) return undefined
    out.push({line: i + 1, fields})
  }
  return out
}

function csvError(err: unknown, file: string, pos: {prevEnd: number; prevEmpty: number; expected: number}, max: number) {
  if (!(err instanceof CsvError)) {
    const detail = err instanceof Error ? err.message : String(err)
    return new BadInputFileError(`${file}: cannot read: ${detail}`, {data: {file}})
  }
  const info = err as CsvError & {lines?: number; empty_lines?: number; record?: string[]}
  const start = pos.prevEnd + 1 + ((info.empty_lines ?? pos.prevEmpty) - pos.prevEmpty)
  const at = info.lines ?? start
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return lineError(file, start, 'unterminated quoted field', QUOTE_HINT)
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return lineError(file, at, 'unexpected character after a closing quote', QUOTE_HINT)
    case 'INVALID_OPENING_QUOTE':
      return lineError(file, at, 'quote inside an unquoted field', 'quote the whole field and double the inner quote: "say ""hi"""')
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
    case 'CSV_RECORD_INCONSISTENT_COLUMNS':
      return lineError(file, start, `expected ${pos.expected} columns, got ${info.record?.length ?? '?'}`,
        'every row needs one value per header column; quote values that contain the delimiter')
    case 'CSV_MAX_RECORD_SIZE':
      return lineError(file, start, `record longer than ${max} characters`,
        'a quote left open makes the rest of the file one field: check the quotes from this line on')
    default:
      return lineError(file, at, err.message)
  }
}
