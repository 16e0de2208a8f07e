// What the json htype accepts: exactly the values JSON can represent and give back unchanged.
// JSON.stringify would silently turn undefined, functions and NaN into nothing or null, and throw
// on bigint; refusing them up front keeps "what you stored is what you read" true (except -0,
// which JSON writes as 0: refusing it would surprise more than the change does).
import {invalidValue, type SampleWhere} from './messages.js'

export type JsonValue = null | boolean | number | string | JsonValue[] | {[key: string]: JsonValue}

// a lone surrogate cannot be written as UTF-8; TextEncoder would replace it with U+FFFD
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

export const isWellFormedString = (s: string): boolean => !LONE_SURROGATE.test(s)

export function checkJsonValue(tensor: string, where: SampleWhere | undefined, value: unknown): asserts value is JsonValue {
  const path: (number | string)[] = []
  const onPath = new Set<object>()
  const fail = (v: unknown, expected = 'a JSON value (null, boolean, finite number, string, array or plain object)') =>
    invalidValue(tensor, where, expected, v, {path, hint: 'json samples must survive JSON.stringify/JSON.parse unchanged'})
  const visit = (v: unknown): void => {
    switch (typeof v) {
      case 'boolean': return
      case 'string':
        if (!isWellFormedString(v)) throw fail(v, 'a well-formed Unicode string (no lone surrogates)')
        return
      case 'number':
        if (!Number.isFinite(v)) throw fail(v, 'a finite number (JSON has no NaN or Infinity)')
        return
      case 'object': {
        if (v === null) return
        if (onPath.has(v)) throw fail(v, 'a value without circular references')
        const proto = Object.getPrototypeOf(v)
        if (Array.isArray(v)) {
          onPath.add(v)
          for (let i = 0; i < v.length; i++) {
            path.push(i)
            // a hole reads as undefined and is refused like one
            visit(v[i])
            path.pop()
          }
          onPath.delete(v)
          return
        }
        if (proto !== Object.prototype && proto !== null) throw fail(v)
        if (Object.getOwnPropertySymbols(v).length > 0) throw fail(v, 'an object without symbol keys')
        onPath.add(v)
        for (const [k, x] of Object.entries(v)) {
          path.push(k)
          if (!isWellFormedString(k)) throw fail(k, 'a well-formed Unicode key (no lone surrogates)')
          visit(x)
          path.pop()
        }
        onPath.delete(v)
        return
      }
      default:
        throw fail(v)
    }
  }
  visit(value)
}
