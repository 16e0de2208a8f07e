// `lake show REV` (a commit and its tensors) and `lake show REV:TENSOR[I]` / `[I:J]` (samples).
import type {Repo} from '../repo/repo.js'
import {BadRevisionError, IndexOutOfRangeError} from '../errors.js'
import {decodeSample, type SampleValue} from '../format/sample.js'
import {sampleToJson} from '../format/sample-json.js'
import type {VersionRoot} from '../dataset/version-root.js'
import {resolve} from './state.js'
import {commitSummary} from '../version/commit.js'

export interface OpenVersion {
  commit: string
  root: VersionRoot
}

export async function openVersion(repo: Repo, rev: string): Promise<OpenVersion> {
  const commit = await resolve(repo, rev)
  const c = await repo.data.getCommit(commit)
  return {commit, root: await repo.data.getRoot(c.root)}
}

export async function showCommit(repo: Repo, rev: string) {
  const id = await resolve(repo, rev)
  const c = await repo.data.getCommit(id)
  const root = await repo.data.getRoot(c.root)
  return {
    ...commitSummary(id, c),
    code: c.code, // with the branch the code was on
    root: c.root,
    tensors: Object.entries(root.tensors)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, t]) => ({name, htype: t.meta.htype, dtype: t.meta.dtype, length: t.length})),
  }
}

export interface SampleSpec {
  rev: string
  tensor: string
  start: number
  /** Exclusive; undefined for a single index. */
  end?: number
}

/** Parses REV:TENSOR[I] and REV:TENSOR[I:J] (I or J may be omitted in a range; REV defaults to HEAD). */
export function parseSampleSpec(spec: string): SampleSpec | null {
  const m = /^(.*):([A-Za-z_][A-Za-z0-9_.-]*)\[(-?\d*)(:(-?\d*))?\]$/.exec(spec)
  if (!m) {
    if (/\[.*\]$/.test(spec)) {
      throw new BadRevisionError(`cannot read '${spec}'`, {hint: 'write REV:TENSOR[I] or REV:TENSOR[I:J], e.g. HEAD:label[0:10]'})
    }
    return null
  }
  const [, rev, tensor, a, isRange, b] = m
  if (!isRange && a === '') throw new BadRevisionError(`'${spec}' has no index`, {hint: 'e.g. HEAD:label[0]'})
  return {rev: rev || 'HEAD', tensor, start: a === '' ? 0 : Number(a), end: isRange ? (b === '' ? Infinity : Number(b)) : undefined}
}

export async function readSamples(repo: Repo, spec: SampleSpec): Promise<{tensor: string; start: number; values: SampleValue[]; raw: Uint8Array[]}> {
  const {root} = await openVersion(repo, spec.rev)
  const t = repo.data.tensor(root, spec.tensor)
  const start = spec.start < 0 ? t.length + spec.start : spec.start
  // Name the index as typed (-5, not the -4 it counts to from the end).
  const typed = `${spec.start}${spec.end === undefined ? '' : `:${spec.end === Infinity ? '' : spec.end}`}`
  const hint = t.length ? `valid indices: 0..${t.length - 1}, or -${t.length}..-1 from the end` : `tensor '${spec.tensor}' is empty`
  if (spec.end === undefined) {
    if (start < 0 || start >= t.length) throw new IndexOutOfRangeError(`index ${typed} is out of range for tensor '${spec.tensor}' (length ${t.length})`, {hint})
    const entry = await repo.data.entry(t, start)
    const bytes = await repo.data.sampleBytes(t.meta, entry)
    return {tensor: spec.tensor, start, values: [decodeSample(t.meta, bytes)], raw: [bytes]}
  }
  const end = spec.end === Infinity ? t.length : spec.end < 0 ? t.length + spec.end : spec.end
  if (start < 0 || end > t.length || start > end) {
    throw new IndexOutOfRangeError(`range ${typed} is out of range for tensor '${spec.tensor}' (length ${t.length})`, {hint})
  }
  const values: SampleValue[] = []
  const raw: Uint8Array[] = []
  for await (const {bytes} of repo.data.readRange(t, start, end)) {
    values.push(decodeSample(t.meta, bytes))
    raw.push(bytes)
  }
  return {tensor: spec.tensor, start, values, raw}
}

export async function showSamples(repo: Repo, spec: SampleSpec) {
  const {root} = await openVersion(repo, spec.rev)
  const meta = repo.data.tensor(root, spec.tensor).meta
  const read = await readSamples(repo, spec)
  if (spec.end === undefined) {
    return {json: {tensor: read.tensor, index: read.start, value: sampleToJson(meta, read.values[0])}, read, meta}
  }
  return {json: {tensor: read.tensor, start: read.start, values: read.values.map((v) => sampleToJson(meta, v))}, read, meta}
}
