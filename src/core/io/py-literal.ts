// A parser for the small subset of Python literal syntax that an NPY header uses: dicts, tuples,
// lists, strings, ints, True/False/None. NumPy writes the header with repr() and reads it with
// ast.literal_eval; this is the same idea without evaluating anything. A tokenizer walks the
// characters, a recursive-descent parser builds values; malformed input throws PyLiteralError
// with the offset, which the caller turns into an error naming the file.

export type PyValue =
  | {kind: 'dict'; entries: Array<[PyValue, PyValue]>}
  | {kind: 'tuple'; items: PyValue[]}
  | {kind: 'list'; items: PyValue[]}
  | {kind: 'str'; value: string}
  | {kind: 'int'; value: bigint}
  | {kind: 'bool'; value: boolean}
  | {kind: 'none'}

export class PyLiteralError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at offset ${offset}`)
  }
}

// Deep nesting is never legitimate in a header; the cap keeps hostile input off the JS stack.
const MAX_DEPTH = 32

type Token =
  | {type: 'punct'; char: string; offset: number}
  | {type: 'str'; value: string; offset: number}
  | {type: 'int'; value: bigint; offset: number}
  | {type: 'name'; value: string; offset: number}
  | {type: 'end'; offset: number}

const PUNCTUATION = '{}()[]:,'

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v'
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9'
}
function isNameChar(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || isDigit(c)
}

class Tokenizer {
  private pos = 0
  constructor(private readonly text: string) {}

  next(): Token {
    const {text} = this
    while (this.pos < text.length && isSpace(text[this.pos])) this.pos++
    const offset = this.pos
    if (offset >= text.length) return {type: 'end', offset}
    const c = text[offset]
    if (PUNCTUATION.includes(c)) {
      this.pos++
      return {type: 'punct', char: c, offset}
    }
    if (c === '\'' || c === '"') return {type: 'str', value: this.string(c), offset}
    if (isDigit(c) || c === '-' || c === '+') return {type: 'int', value: this.int(), offset}
    if (isNameChar(c)) {
      while (this.pos < text.length && isNameChar(text[this.pos])) this.pos++
      const name = text.slice(offset, this.pos)
      // u'...' is how Python 2 wrote unicode strings; the prefix changes nothing here.
      if ((name === 'u' || name === 'U') && (text[this.pos] === '\'' || text[this.pos] === '"')) {
        return {type: 'str', value: this.string(text[this.pos]), offset}
      }
      return {type: 'name', value: name, offset}
    }
    throw new PyLiteralError(`unexpected character ${JSON.stringify(c)}`, offset)
  }

  private int(): bigint {
    const {text} = this
    const start = this.pos
    if (text[this.pos] === '-' || text[this.pos] === '+') this.pos++
    const digitsStart = this.pos
    while (this.pos < text.length && isDigit(text[this.pos])) this.pos++
    if (this.pos === digitsStart) throw new PyLiteralError('expected digits', this.pos)
    const value = BigInt(text.slice(start, this.pos))
    // Python 2 wrote longs with an L suffix: (3L, 4L).
    if (text[this.pos] === 'L' || text[this.pos] === 'l') this.pos++
    if (this.pos < text.length && isNameChar(text[this.pos])) {
      throw new PyLiteralError('unexpected character in a number', this.pos)
    }
    return value
  }

  private string(quote: string): string {
    const {text} = this
    const start = this.pos
    this.pos++ // opening quote
    let out = ''
    for (;;) {
      if (this.pos >= text.length) throw new PyLiteralError('unterminated string', start)
      const c = text[this.pos++]
      if (c === quote) return out
      if (c === '\n') throw new PyLiteralError('newline inside a string', this.pos - 1)
      if (c !== '\\') {
        out += c
        continue
      }
      out += this.escape()
    }
  }

  private escape(): string {
    const {text} = this
    const at = this.pos - 1
    if (this.pos >= text.length) throw new PyLiteralError('unterminated string', at)
    const c = text[this.pos++]
    const simple: Record<string, string> = {'\\': '\\', '\'': '\'', '"': '"', n: '\n', r: '\r', t: '\t', '0': '\0', a: '\x07', b: '\b', f: '\f', v: '\v'}
    if (Object.hasOwn(simple, c)) return simple[c]
    const hexDigits = c === 'x' ? 2 : c === 'u' ? 4 : c === 'U' ? 8 : 0
    if (hexDigits === 0) return '\\' + c // Python keeps unknown escapes verbatim
    const hex = text.slice(this.pos, this.pos + hexDigits)
    if (hex.length !== hexDigits || ![...hex].every((h) => '0123456789abcdefABCDEF'.includes(h))) {
      throw new PyLiteralError('bad escape sequence', at)
    }
    this.pos += hexDigits
    const code = Number.parseInt(hex, 16)
    if (code > 0x10ffff) throw new PyLiteralError('bad escape sequence', at)
    return String.fromCodePoint(code)
  }
}

class Parser {
  private token: Token
  constructor(private readonly tokens: Tokenizer) {
    this.token = tokens.next()
  }

  parseAll(): PyValue {
    const value = this.value(0)
    if (this.token.type !== 'end') throw new PyLiteralError('unexpected text after the value', this.token.offset)
    return value
  }

  private advance(): Token {
    const current = this.token
    this.token = this.tokens.next()
    return current
  }

  private isPunct(char: string): boolean {
    return this.token.type === 'punct' && this.token.char === char
  }

  private value(depth: number): PyValue {
    if (depth > MAX_DEPTH) throw new PyLiteralError('nested too deeply', this.token.offset)
    const token = this.advance()
    switch (token.type) {
      case 'str': return {kind: 'str', value: token.value}
      case 'int': return {kind: 'int', value: token.value}
      case 'name':
        if (token.value === 'True') return {kind: 'bool', value: true}
        if (token.value === 'False') return {kind: 'bool', value: false}
        if (token.value === 'None') return {kind: 'none'}
        throw new PyLiteralError(`unexpected name ${token.value}`, token.offset)
      case 'punct':
        if (token.char === '{') return this.dict(depth)
        if (token.char === '(') return this.sequence('tuple', ')', depth)
        if (token.char === '[') return this.sequence('list', ']', depth)
        throw new PyLiteralError(`unexpected ${JSON.stringify(token.char)}`, token.offset)
      case 'end':
        throw new PyLiteralError('unexpected end of text', token.offset)
    }
  }

  private dict(depth: number): PyValue {
    const entries: Array<[PyValue, PyValue]> = []
    while (!this.isPunct('}')) {
      const key = this.value(depth + 1)
      this.expect(':')
      entries.push([key, this.value(depth + 1)])
      if (!this.isPunct(',')) break
      this.advance()
    }
    this.expect('}')
    return {kind: 'dict', entries}
  }

  // (x) is just x in Python; only (x,) and () are tuples.
  private sequence(kind: 'tuple' | 'list', close: string, depth: number): PyValue {
    const items: PyValue[] = []
    let sawComma = false
    while (!this.isPunct(close)) {
      items.push(this.value(depth + 1))
      if (!this.isPunct(',')) break
      sawComma = true
      this.advance()
    }
    this.expect(close)
    if (kind === 'tuple' && items.length === 1 && !sawComma) return items[0]
    return {kind, items}
  }

  private expect(char: string): void {
    if (!this.isPunct(char)) throw new PyLiteralError(`expected ${JSON.stringify(char)}`, this.token.offset)
    this.advance()
  }
}

/** Parses one Python literal (with surrounding whitespace) or throws PyLiteralError. */
export function parsePyLiteral(text: string): PyValue {
  return new Parser(new Tokenizer(text)).parseAll()
}

/** The repr() Python gives a str, for error messages and headers. */
export function pyRepr(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll('\'', '\\\'')}'`
}
