// A line splitter over a file stream with a bound on line length. readline would do the
// splitting, but it buffers a line of any length: a binary file mistaken for JSONL is one
// multi-gigabyte "line". Here a line over the limit is an error naming where it started.
import {openInput, lineError, fsError} from './input.js'

export interface LinesOptions {
  /** Longest line accepted, in bytes; default 64 MiB. */
  maxLineBytes?: number
}

export interface TextLine {
  /** 1-based line number. */
  line: number
  text: string
}

const DEFAULT_MAX_LINE = 64 * 1024 * 1024
const NEWLINE = 0x0a
const CARRIAGE_RETURN = 0x0d

/** Lines of a UTF-8 file, split on \n (a trailing \r is dropped); a leading BOM is removed. */
export async function* readLines(file: string, opts: LinesOptions = {}): AsyncGenerator<TextLine> {
  const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE
  // fatal: a byte sequence that is not UTF-8 is an error, not silently U+FFFD. ignoreBOM keeps
  // a BOM in the text; only the one opening the file is dropped below.
  const decoder = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true})
  const {handle} = await openInput(file)
  const source = handle.createReadStream({highWaterMark: 1 << 16})
  let pending: Buffer[] = []
  let pendingBytes = 0
  let line = 0
  const decode = (bytes: Buffer): string => {
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN ? bytes.length - 1 : bytes.length
    let text: string
    try {
      text = decoder.decode(bytes.subarray(0, end))
    } catch {
      throw lineError(file, line, 'not valid UTF-8', 'save the file as UTF-8')
    }
    return line === 1 && text.startsWith('\uFEFF') ? text.slice(1) : text
  }
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      let start = 0
      for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
        line++
        checkLength(pendingBytes + nl - start)
        const bytes = pending.length === 0 ? chunk.subarray(start, nl) : Buffer.concat([...pending, chunk.subarray(start, nl)])
        pending = []
        pendingBytes = 0
        yield {line, text: decode(bytes)}
        start = nl + 1
      }
      if (start < chunk.length) {
        pending.push(chunk.subarray(start))
        pendingBytes += chunk.length - start
        checkLength(pendingBytes, line + 1)
      }
    }
    if (pendingBytes > 0) {
      line++
      yield {line, text: decode(Buffer.concat(pending))}
    }
  } catch (err) {
    throw fsError(err, file)
  } finally {
    source.destroy()
  }

  function checkLength(bytes: number, at = line): void {
    if (bytes > maxLineBytes) {
      throw lineError(file, at, `line longer than ${maxLineBytes} bytes`, 'is this really a line-oriented text file?')
    }
  }
}
