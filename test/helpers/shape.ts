// The structure of a JSON document with its volatile values replaced by their kind, for golden
// comparisons of `--json` output: ids → '<id>', ISO times → '<timestamp>', other leaves → their
// type; an array → the distinct shapes of its elements; object keys sorted.
export type Shape = string | Shape[] | {[key: string]: Shape}

const ID = /^[0-9a-f]{64}$/
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

export function shapeOf(value: unknown): Shape {
  if (value === null) return 'null'
  if (Array.isArray(value)) {
    const seen = new Map<string, Shape>()
    for (const item of value) {
      const s = shapeOf(item)
      seen.set(JSON.stringify(s), s)
    }
    return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s)
  }
  if (typeof value === 'object') {
    const out: {[key: string]: Shape} = {}
    for (const key of Object.keys(value as object).sort()) out[key] = shapeOf((value as Record<string, unknown>)[key])
    return out
  }
  if (typeof value === 'string') return ID.test(value) ? '<id>' : TIMESTAMP.test(value) ? '<timestamp>' : 'string'
  return typeof value
}

/**
 * Paths (like 'changes[].tensor') that are missing from `value`: a `[]` step checks every
 * element, and fails on an empty array (nothing shows the key is there).
 */
export function missingPaths(value: unknown, paths: string[]): string[] {
  return paths.filter((p) => !has(value, p.split('.')))
}

function has(value: unknown, steps: string[]): boolean {
  if (steps.length === 0) return true
  const [step, ...rest] = steps
  const isArray = step.endsWith('[]')
  const key = isArray ? step.slice(0, -2) : step
  if (value === null || typeof value !== 'object' || !(key in value)) return false
  const inner = (value as Record<string, unknown>)[key]
  if (!isArray) return has(inner, rest)
  return Array.isArray(inner) && inner.length > 0 && inner.every((item) => has(item, rest))
}
