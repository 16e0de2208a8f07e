// What "no crash" means for family 3: a hostile input either works or fails with a lake error
// class (stable code, a message); a TypeError, RangeError or anything else that escaped is a crash.
import assert from 'node:assert/strict'
import {LakeError} from '../../../src/core/errors.js'

/** Asserts `err` is a LakeError with a code and a non-empty one-line-able message. */
export function assertLakeError(err: unknown, what: string): asserts err is LakeError {
  if (!(err instanceof LakeError)) {
    const shown = err instanceof Error ? err.stack ?? err.message : String(err)
    assert.fail(`${what}: crashed with a non-lake error:\n${shown}`)
  }
  assert.match(err.code, /^[A-Z_]+$/, `${what}: error code ${JSON.stringify(err.code)}`)
  assert.ok(typeof err.message === 'string' && err.message.trim() !== '', `${what}: ${err.code} without a message`)
}

export type Outcome<T> = {ok: true; value: T} | {ok: false; error: LakeError}

/** Runs fn; a LakeError becomes {ok: false}, anything else thrown fails the test. */
export function attempt<T>(what: string, fn: () => T): Outcome<T> {
  try {
    return {ok: true, value: fn()}
  } catch (err) {
    assertLakeError(err, what)
    return {ok: false, error: err}
  }
}

export async function attemptAsync<T>(what: string, fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return {ok: true, value: await fn()}
  } catch (err) {
    assertLakeError(err, what)
    return {ok: false, error: err}
  }
}

/** Cases run per target, summed over the file and printed once (the figures of docs/RELIABILITY.md). */
export class Tally {
  private readonly counts = new Map<string, {cases: number; refused: number}>()

  count(target: string, refused: boolean): void {
    const c = this.counts.get(target) ?? {cases: 0, refused: 0}
    c.cases++
    if (refused) c.refused++
    this.counts.set(target, c)
  }

  get total(): number {
    let n = 0
    for (const c of this.counts.values()) n += c.cases
    return n
  }

  report(family: string, seed: number): string {
    const lines = [...this.counts].map(([t, c]) => `  ${t}: ${c.cases} cases, ${c.refused} refused`)
    return `${family}: ${this.total} cases (seed ${seed})\n${lines.join('\n')}`
  }
}

const HEX = '0123456789abcdef'
/** A well-formed object hash made of a repeated hex digit: distinct, valid, recognisable. */
export const fakeHash = (i: number) => HEX[i % 16].repeat(64)
