#!/usr/bin/env node
// S4 of the peer workload alone, in a fresh process each time (as the adapter's first library call):
// Dataset.open + version('v1') + column('label'), then the same on a second open Dataset.
//   LAKE_ROOT=<checkout or snapshot> node bench/s4-fresh.mjs STORE [RUNS]
// (STORE: e.g. one kept by `S2_KEEP=1 node bench/s2-lib.mjs`)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const lakeRoot = path.resolve(process.env.LAKE_ROOT ?? path.join(here, '..'));
const [store, runs = '5'] = process.argv.slice(2);
if (process.env.S4_CHILD) {
  const { Dataset } = await import(pathToFileURL(path.join(lakeRoot, 'dist', 'index.js')).href);
  const t0 = performance.now();
  const ds = await Dataset.open(store);
  const v = await ds.version('v1');
  const t1 = performance.now();
  const labels = await v.column('label');
  const t2 = performance.now();
  await ds.close();
  const t3 = performance.now();
  const ds2 = await Dataset.open(store);
  await (await ds2.version('v1')).column('label');
  const t4 = performance.now();
  await ds2.close();
  console.log(JSON.stringify({ open_ms: t1 - t0, column_ms: t2 - t1, wall_ms: t2 - t0, second_ms: t4 - t3, rows: labels.length }));
} else {
  const rows = [];
  for (let i = 0; i < Number(runs); i++) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), store], { env: { ...process.env, S4_CHILD: '1' }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    rows.push(JSON.parse(r.stdout));
  }
  const med = (k) => { const s = rows.map((r) => r[k]).sort((a, b) => a - b); return Math.round(s[s.length >> 1] * 10) / 10; };
  console.log(JSON.stringify({ lakeRoot, store, runs: rows.length, median: { open_ms: med('open_ms'), column_ms: med('column_ms'), wall_ms: med('wall_ms'), second_ms: med('second_ms') } }));
}
