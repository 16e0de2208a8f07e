// Values typed at the terminal: JSON text, or a file (raw bytes for image/binary tensors).
import fs from 'node:fs/promises'
import {FileNotFoundError, UsageError} from '../core/errors.js'
import type {Repo} from '../core/repo/repo.js'
import {listTensors} from '../core/ops/edit.js'

export function parseJsonValue(text: string, flag: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new UsageError(`${flag} is not valid JSON: ${text.length > 60 ? text.slice(0, 60) + '…' : text}`, {hint: `quote strings as JSON, e.g. ${flag} '"a cat"'`})
  }
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
