#!/usr/bin/env node
// Prints the lake column of a peer run as ratios against LanceDB, git and the physical limit
// (BENCH.md §1: quote ratios measured in the same run, not absolute times), as a markdown table.
//   node bench/peers/ratios.mjs RESULTS_DIR [N]      (RESULTS_DIR = $WORK/results)
import fs from 'node:fs';
import path from 'node:path';

const [dir, nArg] = process.argv.slice(2);
if (!dir) { console.error('usage: ratios.mjs RESULTS_DIR [N]'); process.exit(2); }
const lines = {};
for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.json'))) {
  for (const l of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
    if (!l.trim()) continue;
    const o = JSON.parse(l);
    ((lines[o.n] ??= {})[o.peer] ??= {})[o.step] = o;
  }
}
const N = Number(nArg ?? Math.max(...Object.keys(lines).map(Number)));
const P = lines[N];
if (!P?.lake) { console.error(`no lake results for N=${N}`); process.exit(1); }
const { lake, lancedb = {}, git = {}, physical = {} } = P;
const r = (a, b) => (a == null || b == null ? null : a / b);
const fx = (x) => (x == null ? '—' : `${x.toFixed(x < 10 ? 2 : 1)}×`);
const ms = (x) => (x == null ? '—' : x < 1000 ? `${x.toFixed(x < 10 ? 2 : 0)} ms` : `${(x / 1000).toFixed(2)} s`);
const mbs = (x) => (x == null ? '—' : `${x.toFixed(0)} MB/s`);
const yes = (b) => (b == null ? '—' : b ? '**met**' : '**missed**');

const rows = [];
const L = lake;
// S1: throughput, higher is better: lake ÷ other
rows.push(['S1 ingest v1 (CLI)', `${ms(L.S1?.wall_ms)} (${mbs(L.S1?.mb_per_s)})`,
  fx(r(L.S1?.mb_per_s, lancedb.S1?.mb_per_s)), fx(r(L.S1?.mb_per_s, git.S1?.mb_per_s)),
  `${fx(r(L.S1?.mb_per_s, physical.write_fsync?.mb_per_s))} of write+fsync`, '≥ 2× LanceDB MB/s', yes(r(L.S1?.mb_per_s, lancedb.S1?.mb_per_s) >= 2)]);
// S2: time, lower is better: lake ÷ other
rows.push(['S2 one version, median (CLI)', ms(L.S2?.median_ms), fx(r(L.S2?.median_ms, lancedb.S2?.median_ms)), fx(r(L.S2?.median_ms, git.S2?.median_ms)), '—',
  'CLI ≤ git (≤ 1.0× git)', yes(r(L.S2?.median_ms, git.S2?.median_ms) <= 1)]);
if (L.S2_daemon) rows.push(['S2 one version, median (CLI, LAKE_DAEMON=1)', ms(L.S2_daemon.median_ms), fx(r(L.S2_daemon.median_ms, lancedb.S2?.median_ms)), fx(r(L.S2_daemon.median_ms, git.S2?.median_ms)), '—',
  'CLI ≤ git (≤ 1.0× git)', yes(r(L.S2_daemon.median_ms, git.S2?.median_ms) <= 1)]);
if (L.S1_lib) rows.push(['S1 ingest v1 (library, in-process)', `${ms(L.S1_lib.wall_ms)} (${mbs(L.S1_lib.mb_per_s)})`, fx(r(L.S1_lib.mb_per_s, lancedb.S1?.mb_per_s)), fx(r(L.S1_lib.mb_per_s, git.S1?.mb_per_s)), '—', '(info)', '—']);
if (L.S2_lib) rows.push(['S2 one version, median (library, in-process)', ms(L.S2_lib.median_ms), fx(r(L.S2_lib.median_ms, lancedb.S2?.median_ms)), fx(r(L.S2_lib.median_ms, git.S2?.median_ms)), '—',
  '≤ LanceDB in-process', yes(r(L.S2_lib.median_ms, lancedb.S2?.median_ms) <= 1)]);
rows.push(['S3 store ÷ head logical bytes', L.S3 ? `${L.S3.ratio.toFixed(3)}` : '—', fx(r(L.S3?.ratio, lancedb.S3?.ratio)), fx(r(L.S3?.ratio, git.S3?.ratio)),
  `${fx(L.S3?.ratio)} of 1.000`, '≤ 1.02', yes(L.S3?.ratio <= 1.02)]);
rows.push(['S4 open v1 + all labels (in-process)', ms(L.S4?.wall_ms), fx(r(L.S4?.wall_ms, lancedb.S4?.wall_ms)), fx(r(L.S4?.wall_ms, git.S4?.wall_ms)), '—',
  `≤ 20 ms (${fx(r(L.S4?.wall_ms, 20))} of it)`, yes(L.S4?.wall_ms <= 20)]);
rows.push(['S5 random read p50 (in-process)', ms(L.S5?.p50_ms), fx(r(L.S5?.p50_ms, lancedb.S5?.p50_ms)), fx(r(L.S5?.p50_ms, git.S5?.p50_ms)), '—',
  `≤ 0.2 ms (${fx(r(L.S5?.p50_ms, 0.2))} of it)`, yes(L.S5?.p50_ms <= 0.2)]);
rows.push(['S5 random read p99 (in-process)', ms(L.S5?.p99_ms), fx(r(L.S5?.p99_ms, lancedb.S5?.p99_ms)), fx(r(L.S5?.p99_ms, git.S5?.p99_ms)), '—',
  `≤ 1 ms (${fx(r(L.S5?.p99_ms, 1))} of it)`, yes(L.S5?.p99_ms <= 1)]);
if (L.S5?.second_pass_p99_ms !== undefined) {
  rows.push(['S5 random read p99, second pass (page cache warm)', ms(L.S5.second_pass_p99_ms), '—', '—', '—', '(info)', '—']);
}
rows.push(['S6 full image scan, first run (in-process)', mbs(L.S6?.mb_per_s), fx(r(L.S6?.mb_per_s, lancedb.S6?.mb_per_s)), fx(r(L.S6?.mb_per_s, git.S6?.mb_per_s)),
  `${fx(r(L.S6?.mb_per_s, physical.read_warm?.mb_per_s))} of warm read`, '≥ 1 GB/s and ≥ git', yes(L.S6?.mb_per_s >= 1000 && L.S6?.mb_per_s >= git.S6?.mb_per_s)]);
if (L.S6?.views_first_mb_per_s) {
  rows.push(['S6 full image scan with views, first run (in-process)', mbs(L.S6.views_first_mb_per_s), fx(r(L.S6.views_first_mb_per_s, lancedb.S6?.mb_per_s)), fx(r(L.S6.views_first_mb_per_s, git.S6?.mb_per_s)),
    `${fx(r(L.S6.views_first_mb_per_s, physical.read_warm?.mb_per_s))} of warm read`, '≥ 1 GB/s and ≥ git', yes(L.S6.views_first_mb_per_s >= 1000 && L.S6.views_first_mb_per_s >= git.S6?.mb_per_s)]);
}
rows.push(['S6 full image scan, best of 3', mbs(L.S6?.best_mb_per_s), fx(r(L.S6?.best_mb_per_s, lancedb.S6?.best_mb_per_s)), fx(r(L.S6?.best_mb_per_s, git.S6?.best_mb_per_s)),
  `${fx(r(L.S6?.best_mb_per_s, physical.read_warm?.best_mb_per_s))} of warm read`, '(info)', '—']);
rows.push(['S7 diff v1..v11', L.S7?.supported ? ms(L.S7.wall_ms) : 'no diff', '—', L.S7?.supported ? fx(r(L.S7.wall_ms, git.S7?.wall_ms)) : '—', '—', '≤ 20 ms, cost ∝ change',
  L.S7?.supported ? yes(L.S7.wall_ms <= 20) : '**missed** (no `lake diff`)']);
// S7 in-process extras (adapter fields inproc_ms / inproc_open_ms: the same diff through dist/core/ops/diff.js)
if (L.S7?.inproc_ms != null) {
  rows.push(['S7 diff, in-process on an open Repo (median)', ms(L.S7.inproc_ms), '—', fx(r(L.S7.inproc_ms, git.S7?.wall_ms)), '—', '≤ 20 ms', yes(L.S7.inproc_ms <= 20)]);
  rows.push(['S7 diff, in-process Repo.open + diff + close (median)', ms(L.S7.inproc_open_ms), '—', fx(r(L.S7.inproc_open_ms, git.S7?.wall_ms)), '—', '≤ 20 ms', yes(L.S7.inproc_open_ms <= 20)]);
}

console.log(`N = ${N}. Ratios are lake ÷ peer for times and sizes (below 1 = lake better), and lake ÷ peer for throughput (above 1 = lake better).\n`);
console.log('| step | lake | ÷ LanceDB | ÷ git | vs physical limit | target | |');
console.log('|---|---|---|---|---|---|---|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
