#!/usr/bin/env node
// The peer workload's S1_lib + S2_lib steps alone (bench/peers/lake.mjs has the whole adapter):
// in-process ingest of v1, then versions v2..v11 as one Dataset.batch each, timed per phase.
// For quick A/B checks of the write path without the harness.
//
//   LAKE_ROOT=<checkout or snapshot> node bench/s2-lib.mjs [DATA_DIR] [STORE]
//   (DATA_DIR: the harness's data/n20000, default /work/lake-bench/data/n20000)
//   S2_PROF=FILE.cpuprofile  profiles the S2 versions only (summarize with bench/prof-summary.mjs)
//   S2_VERSIONS=K  only v2..v(K+1) (default 10); S2_KEEP=1 keeps the store
//   S2_FRESH=1: add, commit and tag each on a Dataset of its own (open, op, close), as the
//   resident process of LAKE_DAEMON=1 runs three commands, instead of one Dataset.batch
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const lakeRoot = path.resolve(process.env.LAKE_ROOT ?? path.join(here, '..'));
const dataDir = path.resolve(process.argv[2] ?? '/work/lake-bench/data/n20000');
const store = path.resolve(process.argv[3] ?? path.join(os.tmpdir(), 'lake-s2-lib'));
const plan = JSON.parse(fs.readFileSync(path.join(dataDir, 'expected.json'), 'utf8'));
const { Dataset } = await import(pathToFileURL(path.join(lakeRoot, 'dist', 'index.js')).href);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-s2-lib-'));
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };

fs.rmSync(store, { recursive: true, force: true });
const v1 = path.join(dataDir, 'v1');
let t0 = performance.now();
const ds = await Dataset.init(store);
await ds.add([path.join(v1, 'images')], { format: 'files', prefix: 'v1' });
await ds.add([path.join(v1, 'meta.csv')]);
await ds.commit('v1');
await ds.tag('v1');
const s1 = performance.now() - t0;
const labels = new Int32Array(plan.expected.headRows);
labels.set(await (await ds.version('v1')).column('label'));
const rows = [];
let session;
if (process.env.S2_PROF) {
  const { Session } = await import('node:inspector/promises');
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
}
for (const ver of plan.versions.slice(1, 1 + Number(process.env.S2_VERSIONS ?? 10))) {
  const K = ver.version;
  const vdir = path.join(dataDir, `v${K}`);
  const t = {};
  let t1 = performance.now();
  const start = t1;
  const ids = fs.readFileSync(path.join(vdir, 'update_ids.txt'), 'utf8').trim().split('\n').map(Number);
  let upd = 'id,label\n';
  for (const id of ids) { labels[id] += 1; upd += `${id},${labels[id]}\n`; }
  const updFile = path.join(scratch, `upd-v${K}.csv`);
  fs.writeFileSync(updFile, upd);
  const appText = fs.readFileSync(path.join(vdir, 'append.csv'), 'utf8');
  const appFile = path.join(scratch, `append-v${K}.csv`);
  fs.writeFileSync(appFile, 'id,label,caption\n' + appText);
  t.files = performance.now() - t1;
  const steps = async (within) => {
    t1 = performance.now();
    await within((d) => d.add([updFile, path.join(vdir, 'images'), appFile], { key: 'id', prefix: `v${K}` }));
    t.add = performance.now() - t1; t1 = performance.now();
    await within((d) => d.commit(`v${K}`));
    t.commit = performance.now() - t1; t1 = performance.now();
    await within((d) => d.tag(`v${K}`));
    t.tag = performance.now() - t1;
  };
  if (process.env.S2_FRESH === '1') {
    await steps(async (op) => {
      const own = await Dataset.open(store);
      try { await op(own); } finally { await own.close(); }
    });
  } else if (process.env.S2_FRESH === 'db') await steps((op) => op(ds)); // (one Dataset, no batch)
  else await ds.batch((d) => steps((op) => op(d)));
  t.total = performance.now() - start;
  rows.push(t);
}
if (session) {
  const { profile } = await session.post('Profiler.stop');
  fs.writeFileSync(process.env.S2_PROF, JSON.stringify(profile));
}
await ds.close();
const keys = Object.keys(rows[0]);
const med = Object.fromEntries(keys.map((k) => [k, Math.round(median(rows.map((r) => r[k])) * 10) / 10]));
console.log(JSON.stringify({ lakeRoot, s1_ms: Math.round(s1), s2_median_ms: med, s2_totals: rows.map((r) => Math.round(r.total)) }));
fs.rmSync(scratch, { recursive: true, force: true });
if (!process.env.S2_KEEP) fs.rmSync(store, { recursive: true, force: true });
