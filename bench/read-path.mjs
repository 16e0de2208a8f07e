#!/usr/bin/env node
// The in-process read path of the peer workload (bench/peers/lake.mjs S4, S5, S6) against a ready
// store, each beside the plain-file read of the same data measured in the same run, so a figure
// survives a shared, noisy machine as a ratio. Reads only; the store is never written.
//
//   node bench/read-path.mjs --store DIR [--data DIR] [--git DIR] [--reps 5] [--only s4,s5,s6]
//
//   --store  a lake store of the peer workload (e.g. a copy of ../lake-bench/data/n20000/stores/lake)
//   --data   the workload's data dir (expected.json, v1/meta.csv); default ../lake-bench/data/n20000
//   --git    the git peer's checkout (images/ = the head's image files); default <data>/stores/git
//   LAKE_ROOT the lake checkout whose dist/index.js is measured (default: this checkout)
//
// S4: each rep is a fresh process (module code cold, as the adapter's first call), then a second
// Dataset.open in the same process (warm); plain: readFileSync(v1/meta.csv) + parse the labels.
// S5: a fresh process, 1000 readBytes at head each timed alone; plain: readFileSync of the same
// ids' files. S6: 3 scans in a fresh process (each on a new Dataset), beside 3 plain scans
// (readFileSync of the head's 22000 image files) and 3 of the chunk files, each in a process of
// its own, the kinds taking turns.
import fs from 'node:fs'
import path from 'node:path'
import {spawnSync} from 'node:child_process'
import {parseArgs} from 'node:util'
import {fileURLToPath, pathToFileURL} from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const {values: a, positionals} = parseArgs({
  allowPositionals: true,
  options: {
    store: {type: 'string'},
    data: {type: 'string', default: path.resolve(here, '../../lake-bench/data/n20000')},
    git: {type: 'string'},
    reps: {type: 'string', default: '5'},
    only: {type: 'string', default: 's4,s5,s6'},
    kind: {type: 'string', default: ''},
  },
})
const lakeRoot = path.resolve(process.env.LAKE_ROOT ?? path.join(here, '..'))
const data = path.resolve(a.data)
const gitDir = path.resolve(a.git ?? path.join(data, 'stores', 'git'))
const plan = JSON.parse(fs.readFileSync(path.join(data, 'expected.json'), 'utf8'))
const exp = plan.expected
const lib = () => import(pathToFileURL(path.join(lakeRoot, 'dist', 'index.js')).href)
const W = () => import(pathToFileURL(path.resolve(here, '../../shared/peers/lib/workload.mjs')).href)

const r3 = (x) => Math.round(x * 1000) / 1000
const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]
const pct = (xs, p) => {
  const s = [...xs].sort((x, y) => x - y)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]
}
const mbps = (bytes, ms) => r3(bytes / 1e6 / (ms / 1000))

// --- children: one measurement each, in a fresh process ----------------------------------------
const child = positionals[0]
if (child) {
  const store = path.resolve(a.store)
  const out = await ({s4: s4Child, s5: s5Child, s6: s6Child})[child](store)
  process.stdout.write(JSON.stringify(out))
  process.exit(0)
}

async function s4Child(store) {
  const {labelDigest} = await W()
  const t00 = performance.now()
  const {Dataset} = await lib()
  const importMs = performance.now() - t00
  const run = async () => {
    const t0 = performance.now()
    const ds = await Dataset.open(store)
    const v = await ds.version('v1')
    const t1 = performance.now()
    const labs = Int32Array.from(await v.column('label'))
    const t2 = performance.now()
    await ds.close()
    if (labelDigest(labs) !== exp.v1LabelDigest) throw new Error('S4: wrong labels')
    return {ms: t2 - t0, openMs: t1 - t0}
  }
  const cold = await run()
  const warm = await run()
  // plain: the labels of v1 from the csv git keeps (what `git show v1:meta.csv | cut` reads)
  const t0 = performance.now()
  const text = fs.readFileSync(path.join(data, 'v1', 'meta.csv'), 'latin1')
  const labs = new Int32Array(exp.v1Rows)
  let at = text.indexOf('\n') + 1
  while (at < text.length) {
    const c1 = text.indexOf(',', at)
    const c2 = text.indexOf(',', c1 + 1)
    labs[Number(text.slice(at, c1))] = Number(text.slice(c1 + 1, c2))
    const nl = text.indexOf('\n', c2)
    at = nl < 0 ? text.length : nl + 1
  }
  const plainMs = performance.now() - t0
  if (labelDigest(labs) !== exp.v1LabelDigest) throw new Error('S4 plain: wrong labels')
  return {importMs, cold, warm, plainMs}
}

async function s5Child(store) {
  const {imageBytes, imageName} = await W()
  const {Dataset} = await lib()
  const ds = await Dataset.open(store)
  const v = await ds.version('HEAD')
  const lat = []
  const got = []
  for (const id of exp.s5Ids) {
    const t0 = performance.now()
    const b = await v.readBytes('content', id)
    lat.push(performance.now() - t0)
    got.push([id, b])
  }
  await ds.close()
  const plain = []
  for (const id of exp.s5Ids) {
    const t0 = performance.now()
    fs.readFileSync(path.join(gitDir, 'images', imageName(id)))
    plain.push(performance.now() - t0)
  }
  let bad = 0
  for (const [id, b] of got) if (!Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(imageBytes(plan.seed, id))) bad++
  if (bad) throw new Error(`S5: ${bad} wrong reads`)
  const slow = lat.map((ms, i) => [ms, i]).sort((p, q) => q[0] - p[0]).slice(0, 12).map(([ms, i]) => `#${i}:${r3(ms)}`)
  return {lat, plain, slow}
}

// one process per kind of scan (lake, the plain files, the chunk files), as the peer harness runs
// each peer: in one process, whichever ran first would leave the allocator warm for the others
async function s6Child(store) {
  const kind = a.kind
  const imagesDir = path.join(gitDir, 'images')
  const chunkFiles = []
  const walk = (d) => {
    for (const e of fs.readdirSync(d, {withFileTypes: true})) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (fs.statSync(p).size > 1 << 20) chunkFiles.push(p)
    }
  }
  if (kind === 'chunks') walk(path.join(store, '.lake', 'objects'))
  const {Dataset} = kind === 'lake' ? await lib() : {}
  const runs = []
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now()
    let bytes = 0
    let rows = 0
    if (kind === 'lake') {
      const ds = await Dataset.open(store)
      const v = await ds.version('HEAD')
      for await (const s of v.streamBytes('content')) {
        bytes += s.bytes.byteLength
        rows++
      }
      await ds.close()
      if (bytes !== exp.headImageBytes || rows !== exp.headRows) throw new Error(`S6: ${rows} rows, ${bytes} bytes`)
    } else if (kind === 'files') {
      for (const name of fs.readdirSync(imagesDir)) bytes += fs.readFileSync(path.join(imagesDir, name)).length
    } else {
      for (const f of chunkFiles) bytes += fs.readFileSync(f).length
    }
    runs.push(performance.now() - t0)
  }
  return {bytes: exp.headImageBytes, runs}
}

// --- parent: runs the children, prints ratios --------------------------------------------------
function runChild(name, kind = '') {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), name, '--store', a.store, '--data', data, '--git', gitDir, '--kind', kind], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    env: process.env,
  })
  if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`)
  return JSON.parse(r.stdout)
}

if (!a.store) {
  console.error('usage: node bench/read-path.mjs --store DIR [--data DIR] [--git DIR] [--reps N] [--only s4,s5,s6]')
  process.exit(2)
}
const only = new Set(a.only.split(','))
const reps = Number(a.reps)
console.log(`lake ${lakeRoot}  store ${a.store}  reps ${reps}`)
if (only.has('s4')) {
  const rs = Array.from({length: reps}, () => runChild('s4'))
  const m = (f) => r3(median(rs.map(f)))
  console.log(
    `S4 cold ${m((r) => r.cold.ms)} ms (open+version ${m((r) => r.cold.openMs)}; import ${m((r) => r.importMs)})  ` +
      `warm ${m((r) => r.warm.ms)} ms (open+version ${m((r) => r.warm.openMs)})  plain csv ${m((r) => r.plainMs)} ms  ` +
      `ratio cold/plain ${r3(median(rs.map((r) => r.cold.ms / r.plainMs)))} warm/plain ${r3(median(rs.map((r) => r.warm.ms / r.plainMs)))}`,
  )
  console.log(`   cold runs ${rs.map((r) => r3(r.cold.ms)).join(' ')}  warm runs ${rs.map((r) => r3(r.warm.ms)).join(' ')}`)
}
if (only.has('s5')) {
  const rs = Array.from({length: Math.max(1, Math.ceil(reps / 2))}, () => runChild('s5'))
  for (const r of rs) {
    console.log(
      `S5 lake p50 ${r3(pct(r.lat, 50))} p99 ${r3(pct(r.lat, 99))} max ${r3(Math.max(...r.lat))} first ${r3(r.lat[0])}  ` +
        `plain p50 ${r3(pct(r.plain, 50))} p99 ${r3(pct(r.plain, 99))}  slowest ${r.slow.join(' ')}`,
    )
  }
}
if (only.has('s6')) {
  const rs = {lake: [], files: [], chunks: []}
  for (let r = 0; r < Math.max(1, Math.ceil(reps / 2)); r++) for (const kind of Object.keys(rs)) rs[kind].push(runChild('s6', kind))
  const bytes = exp.headImageBytes
  const first = (kind) => median(rs[kind].map((x) => x.runs[0]))
  const best = (kind) => median(rs[kind].map((x) => Math.min(...x.runs)))
  for (const kind of Object.keys(rs)) console.log(`S6 ${kind.padEnd(6)} MB/s per process (first best): ${rs[kind].map((x) => `${mbps(bytes, x.runs[0])} ${mbps(bytes, Math.min(...x.runs))}`).join(' | ')}`)
  console.log(`S6 median over processes: lake first ${mbps(bytes, first('lake'))} best ${mbps(bytes, best('lake'))} MB/s; plain files first ${mbps(bytes, first('files'))} best ${mbps(bytes, best('files'))}; ` +
    `ratio lake/files first ${r3(first('files') / first('lake'))} best ${r3(best('files') / best('lake'))}; lake/chunk files best ${r3(best('chunks') / best('lake'))}`)
}
