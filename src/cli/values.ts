// Values typed at the terminal: JSON text, or a file (raw bytes for image/binary tensors).
import fs from 'node:fs/promises'
import {FileNotFoundError, UsageError} from '../core/errors.js'
import type {Repo} from '../core/repo/repo.js'
import {listTensors} from '../core/ops/edit.js'
import {valueFromJson} from '../core/format/sample-json.js'
import {readStaged} from '../core/version/source.js'

export function parseJsonValue(text: string, flag: string): unknown {
  // A lone integer beyond 2^53 would be rounded by JSON.parse: keep it exact.
  if (/^\s*-?\d+\s*$/.test(text) && !Number.isSafeInteger(Number(text))) return BigInt(text.trim())
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new UsageError(`${flag} is not valid JSON: ${text.length > 60 ? text.slice(0, 60) + '…' : text}`, {hint: `quote strings as JSON, e.g. ${flag} '"a cat"'`})
  }
  refuseRoundedIntegers(value, flag)
  return value
}

/** JSON numbers beyond 2^53 lose digits in JavaScript: refuse them rather than store a rounded value. */
export function refuseRoundedIntegers(value: unknown, where: string): void {
  const visit = (v: unknown): void => {
    if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) {
      throw new UsageError(`${where} holds an integer beyond 2^53 that JSON cannot carry exactly (${v})`, {hint: 'write it as a decimal string, e.g. "9007199254740993"'})
    }
    if (Array.isArray(v)) v.forEach(visit)
    else if (v && typeof v === 'object') Object.values(v).forEach(visit)
  }
  visit(value)
}

/** A value typed as JSON for a tensor: decimal strings for 64-bit integers, base64 for bytes (as show --json prints them). */
export async function valueForTensor(repo: Repo, tensor: string, value: unknown, index: number): Promise<unknown> {
  const meta = (await repo.data.getRoot(await stagedRoot(repo))).tensors[tensor]?.meta
  return meta ? valueFromJson(meta, value, {index}) : value
}

async function stagedRoot(repo: Repo): Promise<string> {
  return repo.withDb(async (db) => (await readStaged(db))!.root)
}

export async function readValueFile(repo: Repo, tensor: string, file: string): Promise<unknown> {
  let bytes: Buffer
  try {
    bytes = await fs.readFile(file)
  } catch {
    throw new FileNotFoundError(`cannot read file '${file}'`)
  }
  const meta = (await listTensors(repo)).tensors.find((t) => t.name === tensor)
  if (meta && (meta.htype === 'image' || meta.htype === 'binary')) return bytes
  if (meta?.htype === 'text') return bytes.toString('utf8')
  return parseJsonValue(bytes.toString('utf8'), `file '${file}'`)
}
