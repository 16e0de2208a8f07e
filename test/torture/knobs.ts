// The campaign's shared knobs: how big a run is and which seed drives it.
// `npm test` runs the quick subset; `npm run torture` sets LAKE_TORTURE=full.

/** True when the full campaign runs (`npm run torture`). */
export const FULL = process.env.LAKE_TORTURE === 'full'

/** `quick` in npm test, `full` in the campaign; an env override (e.g. LAKE_TORTURE_CRASH=50) wins. */
export function runs(name: string, quick: number, full: number): number {
  const override = process.env[`LAKE_TORTURE_${name.toUpperCase()}`]
  if (override !== undefined && /^\d+$/.test(override)) return Number(override)
  return FULL ? full : quick
}

/** The seed of this run: LAKE_TORTURE_SEED, or a fresh one (printed by the harness that uses it). */
export function seed(): number {
  const s = process.env.LAKE_TORTURE_SEED
  if (s !== undefined && /^\d+$/.test(s)) return Number(s)
  return Math.floor(Math.random() * 2 ** 31)
}

/** A small deterministic PRNG (mulberry32): the same seed gives the same sequence. */
export {prng} from '../crash/cli.js'
