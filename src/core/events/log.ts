// The append-only, hash-chained event log. Appending a record (with the projection updates it
// implies, in one atomic LevelDB batch) is the commit point of every operation: objects are
// written before, so a crash before the append leaves only unreachable objects.
import {decode, encode} from '../codec.js'
import {CorruptObjectError, FormatVersionError} from '../errors.js'
import {sha256hex} from '../hash.js'
import type {EventDb} from './db.js'
import {seqKey} from './db.js'
import {applyRecord, PROJECTION_NAMES, ProjectionTx, type Tip} from './projections.js'
import {EVENT_FORMAT_VERSION, recordProblem, type EventBody, type EventRecord} from './records.js'

export async function readTip(db: EventDb): Promise<Tip> {
  const bytes = await db.state.get('tip')
  return bytes ? decode<Tip>(bytes) : {seq: 0, hash: ''}
}

const REBUILD_HINT = "the dataset's event log (.lake/db) is damaged: run 'lake fsck' to see what is affected"

export function decodeRecord(bytes: Uint8Array, where: string): EventRecord {
  let record: EventRecord
  try {
    record = decode<EventRecord>(bytes)
  } catch {
    throw new CorruptObjectError(`event ${where} cannot be decoded`, {hint: REBUILD_HINT})
  }
  if (typeof record !== 'object' || record === null || typeof record.seq !== 'number' || typeof record.type !== 'string') {
    throw new CorruptObjectError(`event ${where} is malformed`, {hint: REBUILD_HINT})
  }
  if (typeof record.v !== 'number' || record.v > EVENT_FORMAT_VERSION) {
    throw new FormatVersionError(`event ${where} has format version ${String(record.v)}; this lake reads up to ${EVENT_FORMAT_VERSION}`, {
      hint: 'upgrade lake',
    })
  }
  const problem = recordProblem(record as unknown as Record<string, unknown>)
  if (problem) throw new CorruptObjectError(`event ${where} is malformed: ${problem}`, {hint: REBUILD_HINT})
  return record
}

/**
 * Appends records in one atomic batch together with their projection updates.
 * `sync` makes the batch durable before returning (commits, ref moves).
 */
export async function appendEvents(db: EventDb, bodies: EventBody[], opts: {sync?: boolean; time?: number} = {}): Promise<EventRecord[]> {
  await db.beforeAppend?.()
  const tip = await readTip(db)
  const tx = new ProjectionTx(db)
  const ops: {type: 'put'; sublevel: typeof db.log; key: string; value: Uint8Array}[] = []
  const records: EventRecord[] = []
  let {seq, hash} = tip
  for (const body of bodies) {
    seq += 1
    const record = {v: EVENT_FORMAT_VERSION, seq, time: opts.time ?? Date.now(), prev: hash, ...body} as EventRecord
    const bytes = encode(record)
    hash = sha256hex(bytes)
    ops.push({type: 'put', sublevel: db.log, key: seqKey(seq), value: bytes})
    await applyRecord(tx, record)
    records.push(record)
  }
  tx.put('state', 'tip', {seq, hash} satisfies Tip)
  await db.level.batch([...ops, ...tx.operations()] as never, {sync: opts.sync ?? true})
  return records
}

export async function* readEvents(db: EventDb, fromSeq = 1): AsyncGenerator<{record: EventRecord; bytes: Uint8Array}> {
  for await (const [key, bytes] of db.log.iterator({gte: seqKey(fromSeq)})) {
    yield {record: decodeRecord(bytes, `#${parseInt(key, 16)}`), bytes}
  }
}

/** Checks sequence numbers are contiguous and every record names its predecessor's hash. */
export async function verifyChain(db: EventDb): Promise<{checked: number; problems: {object: string; problem: string}[]}> {
  const problems: {object: string; problem: string}[] = []
  let expectSeq = 1
  let prevHash = ''
  let checked = 0
  try {
    for await (const {record, bytes} of readEvents(db)) {
      checked++
      if (record.seq !== expectSeq) problems.push({object: `event#${record.seq}`, problem: `expected sequence ${expectSeq}`})
      if (record.prev !== prevHash) problems.push({object: `event#${record.seq}`, problem: 'hash chain broken: prev does not match the previous record'})
      prevHash = sha256hex(bytes)
      expectSeq = record.seq + 1
    }
  } catch (error) {
    problems.push({object: `event#${expectSeq}`, problem: (error as Error).message})
  }
  const tip = await readTip(db)
  if (tip.seq !== expectSeq - 1 || tip.hash !== prevHash) problems.push({object: 'event-log', problem: 'tip does not match the last record'})
  return {checked, problems}
}

/** The projections the whole log implies (a fresh replay through applyRecord), and its tip. */
async function replayLog(db: EventDb): Promise<ProjectionTx> {
  const tx = new ProjectionTx(db, true)
  let tip: Tip = {seq: 0, hash: ''}
  for await (const {record, bytes} of readEvents(db)) {
    await applyRecord(tx, record)
    tip = {seq: record.seq, hash: sha256hex(bytes)}
  }
  tx.put('state', 'tip', tip)
  return tx
}

/**
 * Replays the whole log through applyRecord and replaces every projection with the result in one
 * atomic batch: a crash during a rebuild leaves the old projections, never none.
 */
export async function rebuildProjections(db: EventDb): Promise<number> {
  const tx = await replayLog(db)
  const writes = tx.operations()
  const written = new Set(tx.writes().map((w) => `${w.sub}\0${w.key}`))
  const deletes = []
  for (const name of PROJECTION_NAMES) {
    // Keys the replay does not write again (e.g. a ref deleted by a later event) go in the same batch.
    for (const key of await db[name].keys().all()) if (!written.has(`${name}\0${key}`)) deletes.push({type: 'del' as const, sublevel: db[name], key})
  }
  await db.level.batch([...deletes, ...writes] as never, {sync: true})
  return (await readTip(db)).seq
}

/**
 * Compares every stored projection entry (refs, HEAD, the staged state, reflog, commit graph)
 * with what a replay of the log gives: LevelDB does not checksum reads, so a damaged table block
 * could otherwise hand back a wrong ref unnoticed. A damaged log is verifyChain's to report.
 */
export async function verifyProjections(db: EventDb): Promise<{object: string; problem: string}[]> {
  let tx: ProjectionTx
  try {
    tx = await replayLog(db)
  } catch {
    return []
  }
  const expected = new Map<string, Uint8Array>()
  for (const w of tx.writes()) if (w.value !== null && !(w.sub === 'state' && w.key === 'tip')) expected.set(`${w.sub}/${w.key}`, w.value)
  const problems: {object: string; problem: string}[] = []
  for (const name of PROJECTION_NAMES) {
    for await (const [key, value] of db[name].iterator()) {
      const id = `${name}/${key}`
      if (id === 'state/tip') continue // verifyChain checks the tip against the last record
      const want = expected.get(id)
      expected.delete(id)
      if (want === undefined) problems.push({object: `projection ${id}`, problem: 'stored, but no event implies it'})
      else if (!Buffer.from(want).equals(value)) problems.push({object: `projection ${id}`, problem: 'differs from what the event log implies'})
    }
  }
  for (const id of expected.keys()) problems.push({object: `projection ${id}`, problem: 'missing, although the event log implies it'})
  return problems
}
