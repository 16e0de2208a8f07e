// .lake/config.json: the dataset's format version, where its objects live, and `lake config`
// values (user.name, chunk size, ...). Written atomically (temp + rename).
import fs from 'node:fs/promises'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {ConfigError, FormatVersionError} from '../errors.js'
import {fsyncDir} from '../storage/fs-sync.js'

// 2: local objects may lie in packs (.lake/.lake-packs/, docs/FORMAT.md); datasets of format 1 are
// read, and written without packs
export const REPO_FORMAT_VERSION = 2

export interface RepoConfig {
  formatVersion: number
  /** 'local' = objects inside .lake/; otherwise a store URL. */
  storage: string
  values: Record<string, string>
  /** Remotes by name → URL (s3://bucket/prefix, file:///abs/path, /abs/path). */
  remotes?: Record<string, string>
  /** A lazy clone reads objects it does not have from this remote (and keeps what it read). */
  objectsFrom?: string
}

/** Keys `lake config` accepts, with a check of their values. */
export const CONFIG_KEYS: Record<string, {describe: string; check?: (v: string) => string | null}> = {
  'user.name': {describe: 'author name recorded in commits'},
  'user.email': {describe: 'author email recorded in commits'},
  'cache.size': {
    describe: 'bytes of remote objects kept in the local disk cache .lake/cache (default 10 GiB)',
    check: (v) => (/^\d+$/.test(v) && Number(v) >= 1 << 20 ? null : 'expected an integer number of bytes, at least 1048576'),
  },
  'chunk.size': {
    describe: 'target chunk size in bytes for new tensors (default 4194304)',
    check: (v) => (/^\d+$/.test(v) && Number(v) >= 1024 && Number(v) <= 1 << 30 ? null : 'expected an integer number of bytes between 1024 and 1073741824'),
  },
}

export async function readConfig(lakeDir: string): Promise<RepoConfig> {
  const file = path.join(lakeDir, 'config.json')
  let text: string
  try {
    // synchronously: a few hundred bytes, where the thread pool's open/stat/read/close round trips
    // cost more than the read (every command and Dataset.open reads it first)
    text = readFileSync(file, 'utf8')
  } catch {
    throw new ConfigError(`cannot read ${file}`, {hint: 'the dataset is damaged or was not fully created; run lake init again in a new directory'})
  }
  let raw: RepoConfig
  try {
    raw = JSON.parse(text)
  } catch {
    throw new ConfigError(`${file} is not valid JSON`)
  }
  if (typeof raw?.formatVersion !== 'number' || typeof raw.storage !== 'string') throw new ConfigError(`${file} is malformed`)
  if (raw.formatVersion > REPO_FORMAT_VERSION) {
    throw new FormatVersionError(`this dataset has format version ${raw.formatVersion}; this lake reads up to ${REPO_FORMAT_VERSION}`, {hint: 'upgrade lake'})
  }
  raw.values ??= {}
  return raw
}

export async function writeConfig(lakeDir: string, config: RepoConfig): Promise<void> {
  const file = path.join(lakeDir, 'config.json')
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`
  // fsync the file before the rename and the directory after: config.json says where the objects
  // live, and a power cut must leave the old file or the new one, never an empty one.
  const handle = await fs.open(tmp, 'w')
  try {
    await handle.writeFile(JSON.stringify(config, null, 2) + '\n')
    await handle.sync()
  } finally {
    await handle.close()
  }
  await fs.rename(tmp, file)
  await fsyncDir(lakeDir)
}
