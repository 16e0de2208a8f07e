#!/usr/bin/env node
// `npm run bench` (= build + this): the scaling figures of ../shared/BENCH.md §2. Every figure is
// a JSON line {"bench": name, "n": ..., "ms": ..., ...}; every target is a ratio line
// {"bench": "ratio", "name", "ratio", "target", "met"} measured in this same run.
//
//   timetravel  histories of BENCH_COMMITS_SMALL (20) and BENCH_COMMITS (2000) commits, built
//               in-process; whole `lake` processes: show HEAD~(C - C/20):label[0] (HEAD~19 / HEAD~1900),
//               checkout main@{time of commit 5 / 50} and back, log -n 10. Target 2000/20 ≤ 1.5.
//   commit      BENCH_SMALL (10k) and BENCH_BIG (1M) rows of (id i32, label i32, 64-byte text),
//               built in-process; change 100 labels + commit: CLI `lake add upd.csv --key id` +
//               `lake commit`, and in-process update ×100 + commit. Target 1M/10k ≤ 1.5.
//   diffmerge   on the same two datasets (built here when run alone): B = A + 50 label updates
//               + 50 appended rows; `lake diff A B --json` (whole process) and the diff op
//               in-process (dist/core/ops/diff.js; cold = first call on a fresh Repo, warm =
//               index nodes cached); counts verified. Then a branch `other` at B, 50 updates +
//               25 appends on each side (disjoint rows); per merge a fresh branch at ours,
//               `lake merge other --no-ff --json` (whole process) and the merge op in-process
//               (dist/core/ops/merge.js, cold and warm); merged length and values verified;
//               objects read/written per in-process op reported. Target 1M/10k ≤ 1.5.
//   startup     `lake --version`, `lake status` (in the BENCH_BIG dataset) vs `node -e 0`.
//               Target ≤ 1.5 × node + 150 ms.
//   memory      `lake add` of BENCH_MEM_MB MB of incompressible 1 MB files, commit, a full scan
//               through the library and `lake export`: peak RSS of each process (VmHWM: see
//               maxrss.mjs for why not process.resourceUsage().maxRSS in a child).
//               Target ≤ 300 MB.
//
// Env: BENCH_ONLY=timetravel,commit,diffmerge,startup,memory  BENCH_REPEAT (5)  BENCH_COMMITS (2000)
//      BENCH_COMMITS_SMALL (20)  BENCH_SMALL (10000)  BENCH_BIG (1000000)  BENCH_MEM_MB (2000)
//      BENCH_TMP (scratch dir, default $TMPDIR/lake-bench-<pid>, deleted after unless BENCH_KEEP=1)
//      BENCH_OUT (also append the JSON lines to this file)  LAKE_ROOT (the lake checkout measured)
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { benchDir, lakeRoot, loadLake, makeOut, median, medianRun, round3, run } from './lib.mjs';

const env = process.env;
const num = (name, dflt) => (env[name] ? Number(env[name]) : dflt);
const cfg = {
  repeat: num('BENCH_REPEAT', 5),
  commitsSmall: num('BENCH_COMMITS_SMALL', 20),
  commits: num('BENCH_COMMITS', 2000),
  small: num('BENCH_SMALL', 10_000),
  big: num('BENCH_BIG', 1_000_000),
  memMb: num('BENCH_MEM_MB', 2000),
  only: (env.BENCH_ONLY ?? 'timetravel,commit,diffmerge,startup,memory').split(',').map((s) => s.trim()).filter(Boolean),
  tmp: path.resolve(env.BENCH_TMP ?? path.join(os.tmpdir(), `lake-bench-${process.pid}`)),
  keep: env.BENCH_KEEP === '1',
};
const out = makeOut(env.BENCH_OUT);
const ratios = [];
function ratio(name, value, target, met, extra = {}) {
  const line = { bench: 'ratio', name, ratio: round3(value), target, met, ...extra };
  ratios.push(line);
  out(line);
}
const section = async (name, fn) => {
  if (!cfg.only.includes(name)) return;
  const t0 = performance.now();
  try { await fn(); } catch (e) { out({ bench: name, ok: false, error: String(e?.stack ?? e).slice(0, 1500) }); }
  console.error(`bench: ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
};

fs.mkdirSync(cfg.tmp, { recursive: true });
const gitRev = (() => {
  const snap = path.join(lakeRoot, 'SNAPSHOT'); // written when LAKE_ROOT is a copy of a build
  if (fs.existsSync(snap)) return fs.readFileSync(snap, 'utf8').split('\n')[0].trim();
  try { return execFileSync('git', ['-C', lakeRoot, 'describe', '--always', '--dirty'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return 'unknown'; } })();
out({
  bench: 'meta', date: new Date().toISOString(), lake_root: lakeRoot, git: gitRev,
  lake_version: run(['--version'], { cwd: cfg.tmp }).stdout.trim(),
  node: process.version, cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, mem_gib: Math.round(os.totalmem() / 2 ** 30),
  loadavg: os.loadavg().map(round3), config: { ...cfg, only: cfg.only.join(',') },
});

// --- timetravel ----------------------------------------------------------------------------------
async function buildHistory(dir, commits) {
  const { Dataset } = await loadLake();
  fs.rmSync(dir, { recursive: true, force: true });
  const t0 = performance.now();
  const ds = await Dataset.init(dir);
  await ds.createTensor('label', { htype: 'generic', dtype: 'i32' });
  for (let i = 0; i < commits; i++) {
    await ds.append('label', [i]);
    await ds.commit(`c${i + 1}`);
  }
  const buildMs = performance.now() - t0;
  const log = (await ds.log({ limit: commits })).commits; // newest first
  await ds.close();
  if (log.length !== commits) throw new Error(`history of ${dir}: log has ${log.length} commits, expected ${commits}`);
  return { buildMs, oldestFirst: [...log].reverse() };
}

/** Builds a history and returns what the timed commands need (and what they must answer). */
async function prepareHistory(commits, k) {
  const dir = path.join(cfg.tmp, `history-${commits}`);
  const { buildMs, oldestFirst } = await buildHistory(dir, commits);
  out({ bench: 'timetravel.build', n: commits, ms: buildMs, per_commit_ms: buildMs / commits, method: 'in-process: append 1 sample + commit, ×n' });
  const back = commits - commits / 20; // HEAD~1900 of 2000, HEAD~19 of 20
  // main@{time of commit k}: the expected answer is the newest commit at or before that instant.
  const ts = oldestFirst[k - 1].timestamp;
  const expected = [...oldestFirst].reverse().find((c) => Date.parse(c.timestamp) <= Date.parse(ts)).commit;
  return { n: commits, k, dir, back, ts, expected, ms: { show: [], checkout: [], checkout_back: [], log: [], resolve_ancestor: [], resolve_time: [] } };
}

/** One repetition of every timed command on one history (whole processes, then in-process). */
async function timeTravelRep(h) {
  const s = run(['show', `HEAD~${h.back}:label[0]`], { cwd: h.dir, json: true });
  if (s.json.value !== 0) throw new Error(`show HEAD~${h.back}:label[0] = ${JSON.stringify(s.json.value)}, expected 0`);
  h.ms.show.push(s.ms);
  const c = run(['checkout', `main@{${h.ts}}`], { cwd: h.dir, json: true });
  if (c.json.head !== h.expected) throw new Error(`checkout main@{${h.ts}} went to ${c.json.head}, expected ${h.expected}`);
  h.ms.checkout.push(c.ms);
  h.ms.checkout_back.push(run(['checkout', 'main'], { cwd: h.dir, json: true }).ms);
  const l = run(['log', '-n', '10'], { cwd: h.dir, json: true });
  if (l.json.commits.length !== 10) throw new Error('log -n 10 did not list 10 commits');
  h.ms.log.push(l.ms);
  // In-process resolution alone (no process start), for diagnosis.
  const { Dataset } = await loadLake();
  for (let i = 0; i < 3; i++) { // cheap, and noisier than whole processes: 3 per rep
    for (const [name, rev] of [['resolve_ancestor', `HEAD~${h.back}`], ['resolve_time', `main@{${h.ts}}`]]) {
      const t0 = performance.now();
      const ds = await Dataset.open(h.dir);
      await ds.resolve(rev);
      h.ms[name].push(performance.now() - t0);
      await ds.close();
    }
  }
}

function reportHistory(h) {
  const cmds = {
    show: `lake show HEAD~${h.back}:label[0] --json`,
    checkout: `lake checkout 'main@{<time of commit ${h.k}>}' --json`,
    checkout_back: 'lake checkout main --json',
    log: 'lake log -n 10 --json',
    resolve_ancestor: `in-process: Dataset.open + resolve('HEAD~${h.back}')`,
    resolve_time: `in-process: Dataset.open + resolve('main@{<time of commit ${h.k}>}')`,
  };
  const med = {};
  for (const [k, ms] of Object.entries(h.ms)) {
    med[k] = median(ms);
    out({ bench: k.startsWith('resolve') ? `timetravel.inproc.${k}` : `timetravel.${k}`, n: h.n, ms: med[k], runs_ms: ms.map(round3), cmd: cmds[k] });
  }
  return med;
}

await section('timetravel', async () => {
  // checkout main@{time of commit k}: commit 5 of 20, commit 50 of 2000 (BENCH.md). Both
  // histories are built first, then measured rep by rep, alternating, so that a change in machine
  // load during the run falls on both sides of the ratio alike.
  const hs = await prepareHistory(cfg.commitsSmall, Math.min(5, cfg.commitsSmall));
  const hb = await prepareHistory(cfg.commits, Math.min(50, cfg.commits));
  for (let r = 0; r < cfg.repeat; r++) for (const h of [hs, hb]) await timeTravelRep(h);
  const small = reportHistory(hs);
  const big = reportHistory(hb);
  if (!cfg.keep) for (const h of [hs, hb]) fs.rmSync(h.dir, { recursive: true, force: true });
  for (const k of Object.keys(small)) {
    const r = big[k] / small[k];
    const gated = !k.startsWith('resolve');
    ratio(`timetravel.${k}`, r, gated ? '≤ 1.5' : 'info', gated ? r <= 1.5 : null, { n_big: cfg.commits, n_small: cfg.commitsSmall, ms_big: round3(big[k]), ms_small: round3(small[k]) });
  }
});

// --- commit cost -------------------------------------------------------------------------------
const TEXT = (i) => `text of sample ${i} `.padEnd(64, 'x');

async function buildRows(dir, n) {
  const { Dataset } = await loadLake();
  fs.rmSync(dir, { recursive: true, force: true });
  const t0 = performance.now();
  const ds = await Dataset.init(dir);
  await ds.createTensor('id', { htype: 'generic', dtype: 'i32' });
  await ds.createTensor('label', { htype: 'generic', dtype: 'i32' });
  await ds.createTensor('text', { htype: 'text' });
  const B = 100_000;
  for (let s = 0; s < n; s += B) {
    const e = Math.min(n, s + B);
    const ids = [];
    const labels = [];
    const texts = [];
    for (let i = s; i < e; i++) { ids.push(i); labels.push(i % 1000); texts.push(TEXT(i)); }
    await ds.append('id', ids);
    await ds.append('label', labels);
    await ds.append('text', texts);
  }
  await ds.commit(`base: ${n} rows`);
  const ms = performance.now() - t0;
  await ds.close();
  return ms;
}

/** 100 distinct row ids for repetition `rep`, spread over [0, n). */
function pickIds(n, rep, k = 100) {
  const ids = new Set();
  let x = 0x9e3779b9 ^ (rep * 7919);
  while (ids.size < k) {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    ids.add(x % n);
  }
  return [...ids].sort((a, b) => a - b);
}

const datasets = {}; // n -> dir (kept for the startup section)

async function prepareRows(n) {
  const dir = path.join(cfg.tmp, `rows-${n}`);
  const buildMs = await buildRows(dir, n);
  datasets[n] = dir;
  out({ bench: 'commit.build', n, ms: buildMs, rows_per_s: Math.round(n / (buildMs / 1000)), method: 'in-process: 3 tensors (id i32, label i32, text 64 B), append in batches of 100k, one commit' });
  return { n, dir, ms: { cli: [], cli_add: [], cli_commit: [], inproc: [], inproc_update: [], inproc_commit: [] } };
}

/** One repetition on one dataset: 100 labels changed + commit, by the CLI and in-process. */
async function commitRep(d, r) {
  // CLI: lake add upd.csv --key id + lake commit, whole processes.
  const ids = pickIds(d.n, r);
  const csv = path.join(cfg.tmp, `upd-${d.n}-${r}.csv`);
  fs.writeFileSync(csv, 'id,label\n' + ids.map((id) => `${id},${(id % 1000) + 1 + r}`).join('\n') + '\n');
  const a = run(['add', csv, '--key', 'id'], { cwd: d.dir, json: true });
  if (a.json.updated !== 100 || a.json.added !== 0) throw new Error(`add --key id: ${JSON.stringify(a.json)}`);
  const c = run(['commit', '-m', `cli update ${r}`], { cwd: d.dir, json: true });
  d.ms.cli_add.push(a.ms);
  d.ms.cli_commit.push(c.ms);
  d.ms.cli.push(a.ms + c.ms);
  // In-process: update ×100 + commit.
  const { Dataset } = await loadLake();
  const ids2 = pickIds(d.n, 1000 + r);
  const ds = await Dataset.open(d.dir);
  const t0 = performance.now();
  for (const id of ids2) await ds.update('label', id, -1 - r);
  const t1 = performance.now();
  await ds.commit(`in-process update ${r}`);
  const t2 = performance.now();
  await ds.close();
  d.ms.inproc_update.push(t1 - t0);
  d.ms.inproc_commit.push(t2 - t1);
  d.ms.inproc.push(t2 - t0);
}

function reportRows(d) {
  const med = {};
  for (const [k, ms] of Object.entries(d.ms)) if (ms.length) med[k] = median(ms);
  out({ bench: 'commit.cli', n: d.n, ms: med.cli, add_ms: med.cli_add, commit_ms: med.cli_commit, runs_ms: d.ms.cli.map(round3), cmd: 'lake add upd.csv --key id (100 rows id,label) + lake commit' });
  out({ bench: 'commit.inproc', n: d.n, ms: med.inproc, update_ms: med.inproc_update, commit_ms: med.inproc_commit, per_update_ms: med.inproc_update / 100, runs_ms: d.ms.inproc.map(round3), method: 'in-process: dataset.update(label, i, v) ×100 + dataset.commit' });
  return med;
}

await section('commit', async () => {
  const ds = await prepareRows(cfg.small);
  const db = await prepareRows(cfg.big);
  for (let r = 0; r < cfg.repeat; r++) for (const d of [ds, db]) await commitRep(d, r);
  const small = reportRows(ds);
  const big = reportRows(db);
  for (const k of Object.keys(small)) {
    if (!(k in big)) continue;
    const gated = k === 'cli' || k === 'inproc';
    const r = big[k] / small[k];
    ratio(`commit.${k}`, r, gated ? '≤ 1.5' : 'info', gated ? r <= 1.5 : null, { n_big: cfg.big, n_small: cfg.small, ms_big: round3(big[k]), ms_small: round3(small[k]) });
  }
});

// --- diff and merge cost ----------------------------------------------------------------------
// Two versions 100 samples apart on the commit section's datasets (or fresh ones when run alone).
// diff: A = HEAD, B = A + 50 label updates + 50 appended rows. merge: a branch `other` at B; ours
// (main) and theirs (other) each update 50 labels and append 25 rows, on disjoint rows; every rep
// merges `other` into a fresh branch at ours, once by the CLI and twice in-process.
const DM_UPD = 50; // label updates for diff B; also per merge side
const DM_APP = 50; // rows appended for diff B (merge: DM_APP / 2 per side)

async function loadOps() {
  const f = (p) => import(pathToFileURL(path.join(lakeRoot, 'dist', ...p.split('/'))).href);
  const [{ Repo }, { diff }, { merge }] = await Promise.all([f('core/repo/repo.js'), f('core/ops/diff.js'), f('core/ops/merge.js')]);
  return { Repo, diff, merge };
}

/**
 * Setup only (untimed): label updates as one staged change through the op the library's update
 * uses (dist/core/ops/stage.js), instead of one stage cycle per Dataset.update (~80-200 ms each).
 * Falls back to Dataset.update when this build lacks those modules.
 */
async function updateLabels(ds, dir, pairs) {
  let batch = null;
  try {
    const f = (p) => import(pathToFileURL(path.join(lakeRoot, 'dist', ...p.split('/'))).href);
    const [{ stageChange }, { encodeSample }, { Repo }] = await Promise.all([f('core/ops/stage.js'), f('core/format/sample.js'), f('core/repo/repo.js')]);
    if (typeof stageChange === 'function' && typeof encodeSample === 'function') batch = { stageChange, encodeSample, Repo };
  } catch { /* older or newer layout: one update at a time */ }
  if (!batch) {
    for (const [i, v] of pairs) await ds.update('label', i, v);
    return;
  }
  const repo = await batch.Repo.open(dir);
  try {
    await batch.stageChange(repo, 'samples.update', async (b) => {
      for (const [i, v] of pairs) await b.update('label', i, batch.encodeSample(b.meta('label'), v, { index: i }));
    });
  } finally { await repo.close(); }
}

async function appendRows(ds, from, count, label) {
  const ids = Array.from({ length: count }, (_, k) => from + k);
  await ds.append('id', ids);
  await ds.append('label', ids.map((id, k) => label(id, k)));
  await ds.append('text', ids.map(TEXT));
}

async function prepareDiffMerge(n) {
  let dir = datasets[n];
  if (!dir) {
    dir = path.join(cfg.tmp, `rows-${n}`);
    const ms = await buildRows(dir, n);
    datasets[n] = dir;
    out({ bench: 'commit.build', n, ms, rows_per_s: Math.round(n / (ms / 1000)), method: 'in-process (diffmerge run alone): 3 tensors, append in batches of 100k, one commit' });
  }
  const { Dataset } = await loadLake();
  const t0 = performance.now();
  const ds = await Dataset.open(dir);
  const len = (await ds.version('HEAD')).length('label');
  if (len !== n) throw new Error(`rows-${n}: label length ${len}, expected ${n}`);
  // diff: A = HEAD; B = A + 50 label updates + 50 appended rows.
  const picks = pickIds(n, 7777, DM_UPD * 3); // 150 distinct rows: 50 for B, 50 ours, 50 theirs
  const pick = (k) => picks.filter((_, i) => i % 3 === k);
  const updB = pick(0);
  await ds.tag('dA');
  await updateLabels(ds, dir, updB.map((i) => [i, 100_000 + i]));
  await appendRows(ds, n, DM_APP, (id) => 100_000 + id);
  await ds.commit(`diff B: ${DM_UPD} label updates + ${DM_APP} rows`);
  await ds.tag('dB');
  // merge: base = B, branch `other`; each side 50 updates + 25 appends, disjoint rows.
  const base = n + DM_APP;
  const half = DM_APP / 2;
  const ours = { upd: pick(1), label: (i) => 200_000 + i, from: base };
  const theirs = { upd: pick(2), label: (i) => 300_000 + i, from: base + half };
  await ds.createBranch('other');
  await updateLabels(ds, dir, ours.upd.map((i) => [i, ours.label(i)]));
  await appendRows(ds, ours.from, half, (id) => ours.label(id));
  await ds.commit('ours: 50 updates + 25 rows');
  await ds.tag('mO');
  await ds.checkout('other');
  await updateLabels(ds, dir, theirs.upd.map((i) => [i, theirs.label(i)]));
  await appendRows(ds, theirs.from, half, (id) => theirs.label(id));
  await ds.commit('theirs: 50 updates + 25 rows');
  await ds.checkout('main');
  await ds.close();
  out({ bench: 'diffmerge.prepare', n, ms: performance.now() - t0, method: `in-process: tag dA; ${DM_UPD} label updates (one staged change) + append ${DM_APP} rows + commit, tag dB; branch other; ${DM_UPD} updates + ${half} rows + commit on main (tag mO) and on other` });
  return {
    n, dir, updB, ours, theirs, base, half, reps: 0,
    ms: { diff_cli: [], diff_cold: [], diff_warm: [], diff_open_close: [], merge_cli: [], merge_cold: [], merge_warm: [] },
    count: { diff_cold: [], merge_cold: [], merge_warm: [] },
  };
}

/** The diff of dA..dB must be: label +[n, n+50) ~updB; id and text +[n, n+50); nothing else. */
function checkDiff(d, res, what) {
  const byName = Object.fromEntries(res.tensors.map((t) => [t.name, t]));
  const names = Object.keys(byName).sort().join(',');
  const want = JSON.stringify([[d.n, d.n + DM_APP]]);
  const bad = [];
  if (names !== 'id,label,text') bad.push(`tensors ${names}`);
  for (const name of ['id', 'label', 'text']) {
    const t = byName[name];
    if (!t) continue;
    if (JSON.stringify(t.added) !== want) bad.push(`${name}.added ${JSON.stringify(t.added)}`);
    if (t.deleted.length) bad.push(`${name}.deleted ${t.deleted.length}`);
    const upd = name === 'label' ? d.updB : [];
    if (JSON.stringify(t.updated) !== JSON.stringify(upd)) bad.push(`${name}.updated ${t.updated.length} (expected ${upd.length})`);
  }
  if (bad.length) throw new Error(`${what} at n=${d.n}: ${bad.join('; ')}`);
}

/** After merging `other` into a branch at mO: length base + 50, both sides' values. */
async function checkMerge(d, Dataset, what) {
  const ds = await Dataset.open(d.dir);
  try {
    const v = await ds.version('HEAD');
    const want = d.base + 2 * d.half;
    for (const t of ['id', 'label', 'text']) if (v.length(t) !== want) throw new Error(`${what} at n=${d.n}: ${t} length ${v.length(t)}, expected ${want}`);
    const probes = [];
    for (const side of [d.ours, d.theirs]) {
      for (const i of [side.upd[0], side.upd[side.upd.length - 1]]) probes.push(['label', i, side.label(i)]);
      probes.push(['label', side.from, side.label(side.from)], ['id', side.from + d.half - 1, side.from + d.half - 1]);
    }
    probes.push(['label', d.updB[0], 100_000 + d.updB[0]], ['text', d.theirs.from, TEXT(d.theirs.from)], ['id', d.n - 1, d.n - 1]);
    for (const [t, i, expect] of probes) {
      const got = await v.read(t, i);
      if (got !== expect && Number(got) !== expect) throw new Error(`${what} at n=${d.n}: ${t}[${i}] = ${JSON.stringify(got)}, expected ${JSON.stringify(expect)}`);
    }
    return probes.length;
  } finally { await ds.close(); }
}

/**
 * Counts the object reads and writes (index nodes, roots, commits; chunks read whole) a Repo
 * makes; for diagnosis. Index nodes are read with getUnverified (the index re-hashes them).
 */
function countObjects(repo) {
  const c = { read: 0, written: 0 };
  const get = repo.objects.get.bind(repo.objects);
  const put = repo.objects.put.bind(repo.objects);
  repo.objects.get = (...a) => { c.read++; return get(...a); };
  const getUnverified = repo.objects.getUnverified?.bind(repo.objects);
  if (getUnverified) repo.objects.getUnverified = (...a) => { c.read++; return getUnverified(...a); };
  repo.objects.put = (...a) => { c.written++; return put(...a); };
  return c;
}

async function diffMergeRep(d, r) {
  const { Dataset } = await loadLake();
  const ops = await loadOps();
  const lap = async (k, fn) => { const t0 = performance.now(); const res = await fn(); d.ms[k].push(performance.now() - t0); return res; };
  // diff: one whole process; then in-process on a fresh Repo: the first call (cold: index nodes read
  // from disk) and two more on the same Repo (warm: nodes in its cache).
  const df = run(['diff', 'dA', 'dB'], { cwd: d.dir, json: true });
  checkDiff(d, df.json, 'lake diff dA dB');
  d.ms.diff_cli.push(df.ms);
  for (let i = 0; i < 3; i++) { // in-process is cheap and noisier than whole processes: 3 per rep
    let t0 = performance.now();
    const repo = await ops.Repo.open(d.dir);
    const openMs = performance.now() - t0;
    try {
      const cnt = countObjects(repo);
      checkDiff(d, await lap('diff_cold', () => ops.diff(repo, 'dA', 'dB')), 'in-process diff (cold)');
      d.count.diff_cold.push({ ...cnt });
      for (let j = 0; j < 2; j++) checkDiff(d, await lap('diff_warm', () => ops.diff(repo, 'dA', 'dB')), 'in-process diff (warm)');
    } finally {
      t0 = performance.now();
      await repo.close();
      d.ms.diff_open_close.push(openMs + performance.now() - t0);
    }
  }
  // merge: a fresh branch at ours (untimed) before each merge; by the CLI, then in-process on two
  // fresh Repos, each a cold then a warm merge. Rounds after the first build index nodes that
  // already exist (same content): those are touched (utimes), not rewritten and fsynced.
  const onFreshBranch = async (name) => {
    const ds = await Dataset.open(d.dir);
    try { await ds.checkout('mO', { newBranch: name }); } finally { await ds.close(); }
  };
  await onFreshBranch(`mc${r}`);
  const m = run(['merge', 'other', '--no-ff'], { cwd: d.dir, json: true });
  if (m.json.fastForward || m.json.upToDate || m.json.conflicts.length) throw new Error(`lake merge other --no-ff: ${m.stdout.slice(0, 300)}`);
  d.ms.merge_cli.push(m.ms);
  d.probes = await checkMerge(d, Dataset, 'lake merge');
  for (let i = 0; i < 2; i++) {
    const rp = await ops.Repo.open(d.dir);
    try {
      const cnt = countObjects(rp);
      for (const k of ['merge_cold', 'merge_warm']) {
        await onFreshBranch(`mi-${k.slice(6)}-${r}-${i}`);
        const before = { ...cnt };
        const res = await lap(k, () => ops.merge(rp, 'other', { noFf: true }));
        if (res.fastForward || res.upToDate || res.conflicts.length) throw new Error(`in-process merge: ${JSON.stringify(res).slice(0, 300)}`);
        d.count[k].push({ read: cnt.read - before.read, written: cnt.written - before.written });
        await checkMerge(d, Dataset, `in-process merge (${k.slice(6)})`);
      }
    } finally { await rp.close(); }
  }
  d.reps++;
}

function reportDiffMerge(d) {
  const med = {};
  for (const [k, ms] of Object.entries(d.ms)) med[k] = median(ms);
  const cmds = {
    diff_cli: `lake diff dA dB --json (${DM_UPD} label updates + ${DM_APP} rows apart), whole process`,
    diff_cold: "in-process: dist/core/ops/diff.js diff(repo, 'dA', 'dB'), first call on a fresh Repo (index nodes read from disk), 3 per rep",
    diff_warm: 'in-process: the same diff twice more on that Repo (index nodes cached)',
    diff_open_close: 'in-process: Repo.open + Repo.close around them',
    merge_cli: `lake merge other --no-ff --json, whole process (each side ${DM_UPD} updates + ${d.half} rows, disjoint)`,
    merge_cold: "in-process: dist/core/ops/merge.js merge(repo, 'other', {noFf: true}), first call on a fresh Repo, 2 per rep",
    merge_warm: 'in-process: the same merge again (into another fresh branch at ours) on that Repo',
  };
  for (const [k, ms] of Object.entries(d.ms)) {
    const [op, ...rest] = k.split('_');
    const cnt = d.count[k];
    const objs = cnt?.length ? { objects_read: median(cnt.map((c) => c.read)), objects_written: median(cnt.map((c) => c.written)) } : {};
    out({ bench: `${op}.${rest.join('_')}`, n: d.n, ms: med[k], runs_ms: ms.map(round3), ...objs, cmd: cmds[k], ...(op === 'merge' ? { verified_values: d.probes } : { verified: 'counts' }) });
  }
  return med;
}

await section('diffmerge', async () => {
  const ds = await prepareDiffMerge(cfg.small);
  const db = await prepareDiffMerge(cfg.big);
  for (let r = 0; r < cfg.repeat; r++) for (const d of [ds, db]) await diffMergeRep(d, r);
  const small = reportDiffMerge(ds);
  const big = reportDiffMerge(db);
  for (const k of Object.keys(small)) {
    const [op, ...rest] = k.split('_');
    const gated = k !== 'diff_open_close';
    const r = big[k] / small[k];
    ratio(`${op}.${rest.join('_')}`, r, gated ? '≤ 1.5' : 'info', gated ? r <= 1.5 : null, { n_big: cfg.big, n_small: cfg.small, ms_big: round3(big[k]), ms_small: round3(small[k]) });
  }
  // Leave both datasets on main, clean (the startup section runs `lake status` in the big one).
  const { Dataset } = await loadLake();
  for (const d of [ds, db]) { const h = await Dataset.open(d.dir); await h.checkout('main'); await h.close(); }
});

// --- start-up ------------------------------------------------------------------------------------
await section('startup', async () => {
  let dir = datasets[cfg.big];
  let n = cfg.big;
  if (!dir) { // run alone: build the big dataset here
    dir = path.join(cfg.tmp, `rows-${cfg.big}`);
    const ms = await buildRows(dir, cfg.big);
    out({ bench: 'commit.build', n: cfg.big, ms });
    datasets[cfg.big] = dir;
  }
  const st = run(['status'], { cwd: dir, json: true });
  if (!st.json.clean) throw new Error('status: the dataset is not clean');
  const times = Math.max(cfg.repeat * 2, 10);
  const t = { node: [], version: [], status: [] };
  run(['-e', '0'], { raw: true, cwd: dir });
  run(['--version'], { cwd: dir });
  for (let i = 0; i < times; i++) { // interleaved, so drift in machine load hits all three alike
    t.node.push(run(['-e', '0'], { raw: true, cwd: dir }).ms);
    t.version.push(run(['--version'], { cwd: dir }).ms);
    t.status.push(run(['status'], { cwd: dir, json: true }).ms);
  }
  const nodeMs = median(t.node);
  const limit = 1.5 * nodeMs + 150;
  out({ bench: 'startup.node', n, ms: nodeMs, runs_ms: t.node.map(round3), cmd: 'node -e 0' });
  for (const k of ['version', 'status']) {
    const ms = median(t[k]);
    out({ bench: `startup.${k}`, n, ms, runs_ms: t[k].map(round3), cmd: k === 'version' ? 'lake --version' : `lake status --json (${n} samples)` });
    ratio(`startup.${k}`, ms / limit, '≤ 1 (ms ÷ (1.5 × node + 150 ms))', ms <= limit, { ms: round3(ms), node_ms: round3(nodeMs), limit_ms: round3(limit), vs_node: round3(ms / nodeMs) });
  }
});

// --- memory --------------------------------------------------------------------------------------
await section('memory', async () => {
  const src = path.join(cfg.tmp, 'mem-src');
  const dir = path.join(cfg.tmp, 'mem-ds');
  const exp = path.join(cfg.tmp, 'mem-export');
  for (const d of [src, dir, exp]) fs.rmSync(d, { recursive: true, force: true });
  const FILE = 1 << 20;
  const files = cfg.memMb;
  const t0 = performance.now();
  const key = crypto.createHash('sha256').update('lake-bench-mem').digest().subarray(0, 16);
  for (let i = 0; i < files; i++) {
    const sub = path.join(src, String(Math.floor(i / 100)).padStart(3, '0'));
    if (i % 100 === 0) fs.mkdirSync(sub, { recursive: true });
    const iv = Buffer.alloc(16);
    iv.writeUInt32BE(i, 0);
    const c = crypto.createCipheriv('aes-128-ctr', key, iv);
    fs.writeFileSync(path.join(sub, `${String(i).padStart(6, '0')}.bin`), Buffer.concat([c.update(Buffer.alloc(FILE)), c.final()]));
  }
  const total = files * FILE;
  out({ bench: 'memory.generate', files, bytes: total, ms: performance.now() - t0 });
  try {
    run(['init', dir], { cwd: cfg.tmp });
    const a = run(['add', src, '--format', 'files'], { cwd: dir, json: true, rss: true });
    if (a.json.added !== files) throw new Error(`add: ${JSON.stringify(a.json)}`);
    const rssMb = (kb) => round3(kb / 1024);
    out({ bench: 'memory.add', n: files, bytes: total, ms: a.ms, mb_per_s: round3(total / 1e6 / (a.ms / 1000)), max_rss_mb: rssMb(a.maxRssKb), cmd: `lake add <${files} × 1 MB files> --format files` });
    ratio('memory.add', a.maxRssKb / 1024 / 300, '≤ 1 (max RSS ÷ 300 MB)', a.maxRssKb / 1024 <= 300, { max_rss_mb: rssMb(a.maxRssKb) });
    const c = run(['commit', '-m', 'mem'], { cwd: dir, json: true, rss: true });
    out({ bench: 'memory.commit', n: files, ms: c.ms, max_rss_mb: rssMb(c.maxRssKb), cmd: 'lake commit' });
    const du = Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
    out({ bench: 'memory.store', n: files, bytes: du, ratio_to_logical: round3(du / total) });

    const s = run([path.join(benchDir, 'scan.mjs'), dir, 'content'], { raw: true, cwd: dir });
    const scan = JSON.parse(s.stdout);
    if (scan.bytes !== total || scan.rows !== files) throw new Error(`scan: ${s.stdout}`);
    out({ bench: 'memory.scan', n: files, bytes: total, ms: scan.ms, mb_per_s: round3(total / 1e6 / (scan.ms / 1000)), max_rss_mb: rssMb(scan.maxRssKb), method: 'child process: library streamBytes("content") at HEAD' });
    ratio('memory.scan', scan.maxRssKb / 1024 / 300, '≤ 1 (max RSS ÷ 300 MB)', scan.maxRssKb / 1024 <= 300, { max_rss_mb: rssMb(scan.maxRssKb) });

    const e = run(['export', '--to', exp], { cwd: dir, json: true, rss: true });
    if (e.json.bytes !== total) throw new Error(`export: ${e.stdout}`);
    out({ bench: 'memory.export', n: files, bytes: total, ms: e.ms, mb_per_s: round3(total / 1e6 / (e.ms / 1000)), max_rss_mb: rssMb(e.maxRssKb), cmd: 'lake export --to DIR' });
    ratio('memory.export', e.maxRssKb / 1024 / 300, '≤ 1 (max RSS ÷ 300 MB)', e.maxRssKb / 1024 <= 300, { max_rss_mb: rssMb(e.maxRssKb) });
  } finally {
    if (!cfg.keep) for (const d of [src, dir, exp]) fs.rmSync(d, { recursive: true, force: true });
  }
});

out({ bench: 'summary', ratios: ratios.map(({ name, ratio: r, target, met }) => ({ name, ratio: r, target, met })) });
if (!cfg.keep) fs.rmSync(cfg.tmp, { recursive: true, force: true });
