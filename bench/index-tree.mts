// Micro-benchmark of the sample index (build/get/edit/diff at 1M entries): npx tsx bench/index-tree.mts
// Timings of the sample index at 1M entries (default params, in-memory NodeIO). Not a test:
// run with `npx tsx test/index/bench.mts`; prints JSON lines (move to bench/ when it exists).
import {randomBytes} from 'node:crypto'
import {buildIndex, cachedNodeIO, diffIndexes, editIndex, getEntries, getEntry, type IndexEntry} from '../src/core/index/index.js'
import {MemoryNodeIO, location, makeEntry, treeDepth} from '../test/index/helpers.js'

const N = Number(process.env.N ?? 1_000_000)
const CHUNK = 'c'.repeat(64)

function* entries(n: number): Generator<IndexEntry> {
  const ids = randomBytes(8 * n)
  for (let i = 0; i < n; i++) {
    yield {id: ids.readBigUInt64LE(8 * i), chunk: CHUNK.slice(0, 60) + String(1000 + (i >> 10)).slice(-4), offset: (i & 1023) * 4096, length: 4096, crc: i >>> 0}
  }
}

const report = (name: string, fields: Record<string, unknown>) => console.log(JSON.stringify({bench: `index.${name}`, ...fields}))
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6

const io = new MemoryNodeIO()
let t0 = process.hrtime.bigint()
const heap0 = process.memoryUsage().heapUsed
const base = await buildIndex(io, entries(N))
report('build', {entries: N, ms: ms(t0), nodes: io.writes, bytes: [...io.objects.values()].reduce((s, b) => s + b.length, 0), depth: await treeDepth(io, base.root), heapGrowthMB: (process.memoryUsage().heapUsed - heap0) / 2 ** 20})

io.resetCounts()
t0 = process.hrtime.bigint()
const probes = 1000
for (let p = 0; p < probes; p++) await getEntry(io, base.root, Math.floor(Math.random() * N))
report('getEntry.uncached', {ms: ms(t0) / probes, readsPerCall: io.reads / probes})

const cached = cachedNodeIO(io)
for (let p = 0; p < probes; p++) await getEntry(cached, base.root, Math.floor(Math.random() * N))
io.resetCounts()
t0 = process.hrtime.bigint()
for (let p = 0; p < probes; p++) await getEntry(cached, base.root, Math.floor(Math.random() * N))
report('getEntry.cached', {ms: ms(t0) / probes, readsPerCall: io.reads / probes})

t0 = process.hrtime.bigint()
const all = await getEntries(io, base.root, 0, N)
report('scan', {entries: all.length, ms: ms(t0)})

for (const k of [1, 100, 1000]) {
  const positions = Array.from({length: k}, () => Math.floor(Math.random() * N))
  const updates = new Map(positions.slice(0, k >> 1).map(p => [p, location(makeEntry(p, 1))]))
  const deletes = positions.slice(k >> 1)
  io.resetCounts()
  t0 = process.hrtime.bigint()
  const edited = await editIndex(io, base.root, {updates, deletes})
  report('edit', {of: N, k, ms: ms(t0), reads: io.reads, writes: io.writes})
  io.resetCounts()
  t0 = process.hrtime.bigint()
  const diff = await diffIndexes(io, base.root, edited.root)
  report('diff', {of: N, k, ms: ms(t0), reads: io.reads, changes: diff.updated.length + diff.deleted.length + diff.added.length})
}

io.resetCounts()
t0 = process.hrtime.bigint()
await editIndex(io, base.root, {appends: [...entries(1000)]})
report('append', {of: N, k: 1000, ms: ms(t0), reads: io.reads, writes: io.writes})
