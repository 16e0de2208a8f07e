// Revision grammar of CLI.md, parsed into a small AST (pure; resolution is in resolve.ts):
//   base   := HEAD | <ref name> | <hex prefix ≥ 4> | '' (only before @{N})
//   suffix := ~N | ~ | ^ | ^N | @{N} | @{ISO-8601 time}
import {BadRevisionError} from '../errors.js'

export type RevStep =
  | {kind: 'ancestor'; n: number} // ~N: N-th first parent
  | {kind: 'parent'; n: number} // ^N: N-th parent (^0 = itself)
  | {kind: 'time'; time: number} // @{time}
  | {kind: 'reflog'; n: number} // @{N}

export interface RevisionAst {
  base: string // '' means HEAD via @{N}
  steps: RevStep[]
}

const bad = (rev: string, why: string) =>
  new BadRevisionError(`bad revision '${rev}': ${why}`, {hint: 'revisions: HEAD, a branch or tag, a commit id (≥ 4 hex digits), REV~N, REV^2, REV@{2026-11-20T10:00:00Z}, @{N}'})

export function parseRevision(rev: string): RevisionAst {
  if (rev.length === 0) throw bad(rev, 'empty')
  if (/[\s\0]/.test(rev)) throw bad(rev, 'contains whitespace')
  let i = 0
  // The base runs up to the first suffix operator.
  while (i < rev.length && rev[i] !== '~' && rev[i] !== '^' && !(rev[i] === '@' && rev[i + 1] === '{')) i++
  const base = rev.slice(0, i)
  const steps: RevStep[] = []
  while (i < rev.length) {
    const op = rev[i]
    if (op === '~' || op === '^') {
      let j = i + 1
      while (j < rev.length && rev[j] >= '0' && rev[j] <= '9') j++
      const digits = rev.slice(i + 1, j)
      const n = digits === '' ? 1 : Number(digits)
      if (!Number.isSafeInteger(n)) throw bad(rev, `number too large after '${op}'`)
      steps.push(op === '~' ? {kind: 'ancestor', n} : {kind: 'parent', n})
      i = j
    } else if (op === '@' && rev[i + 1] === '{') {
      const close = rev.indexOf('}', i)
      if (close < 0) throw bad(rev, "missing '}'")
      const inner = rev.slice(i + 2, close)
      if (/^\d+$/.test(inner)) {
        if (base !== '' || steps.length > 0) throw bad(rev, '@{N} (the reflog of HEAD) takes no revision before it')
        steps.push({kind: 'reflog', n: Number(inner)})
      } else {
        steps.push({kind: 'time', time: parseTime(rev, inner)})
      }
      i = close + 1
    } else {
      throw bad(rev, `unexpected '${op}'`)
    }
  }
  if (base === '' && (steps.length === 0 || steps[0].kind !== 'reflog')) {
    if (steps.length > 0 && steps[0].kind === 'time') return {base: 'HEAD', steps}
    throw bad(rev, 'missing a revision before the suffix')
  }
  return {base, steps}
}

function parseTime(rev: string, text: string): number {
  // ISO-8601 only (a date, or a date and time with optional zone); a bare date means midnight UTC.
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    throw bad(rev, `'${text}' is not an ISO-8601 time (e.g. 2026-11-20T10:00:00Z)`)
  }
  const t = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text.replace(' ', 'T'))
  if (Number.isNaN(t)) throw bad(rev, `'${text}' is not a valid time`)
  return t
}

/** Branch and tag names, like git's rules (no ambiguity with the revision operators). */
export function validateRefName(name: string, what: 'branch' | 'tag'): string | null {
  if (name.length === 0 || name.length > 200) return `${what} name must be 1..200 characters`
  if (!/^[A-Za-z0-9._/-]+$/.test(name)) return `${what} name '${name}' may hold only letters, digits, '.', '_', '-', '/'`
  if (name.startsWith('-') || name.startsWith('.') || name.startsWith('/') || name.endsWith('/') || name.endsWith('.') ||
    name.includes('..') || name.includes('//') || name.endsWith('.lock')) return `${what} name '${name}' is not allowed`
  if (name === 'HEAD') return `'HEAD' cannot be a ${what} name`
  return null
}
