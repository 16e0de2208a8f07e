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
//               `lake commit`, and in-process update ×100 + commit; `lake diff` if it exists.
//               Target 1M/10k ≤ 1.5.
//   startup     `lake --version`, `lake status` (in the BENCH_BIG dataset) vs `node -e 0`.
//               Target ≤ 1.5 × node + 150 ms.
//   memory      `lake add` of BENCH_MEM_MB MB of incompressible 1 MB files, commit, a full scan
//               through the library and `lake export`: peak RSS (process.resourceUsage().maxRSS).
//               Target ≤ 300 MB.
//
// Env: BENCH_ONLY=timetravel,commit,startup,memory  BENCH_REPEAT (5)  BENCH_COMMITS (2000)
//      BENCH_COMMITS_SMALL (20)  BENCH_SMALL (10000)  BENCH_BIG (1000000)  BENCH_MEM_MB (2000)
//      BENCH_TMP (scratch dir, default $TMPDIR/lake-bench-<pid>, deleted after unless BENCH_KEEP=1)
//      BENCH_OUT (also append the JSON lines to this file)  LAKE_ROOT (the lake checkout measured)
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
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
  only: (env.BENCH_ONLY ?? 'timetravel,commit,startup,memory').split(',').map((s) => s.trim()).filter(Boolean),
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
  return { n, dir, ms: { cli: [], cli_add: [], cli_commit: [], inproc: [], inproc_update: [], inproc_commit: [], diff: [] } };
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
  // lake diff of two versions 100 samples apart, if this build has it.
  if (d.diffSupported !== false) {
    const df = run(['diff', 'HEAD~1', 'HEAD'], { cwd: d.dir, json: true, check: false });
    if (df.status === 0) d.ms.diff.push(df.ms);
    else {
      d.diffSupported = false;
      d.diffNote = `lake diff exited ${df.status}: ${(df.stderr || df.stdout).trim().split('\n')[0].slice(0, 160)}`;
    }
  }
}

function reportRows(d) {
  const med = {};
  for (const [k, ms] of Object.entries(d.ms)) if (ms.length) med[k] = median(ms);
  out({ bench: 'commit.cli', n: d.n, ms: med.cli, add_ms: med.cli_add, commit_ms: med.cli_commit, runs_ms: d.ms.cli.map(round3), cmd: 'lake add upd.csv --key id (100 rows id,label) + lake commit' });
  out({ bench: 'commit.inproc', n: d.n, ms: med.inproc, update_ms: med.inproc_update, commit_ms: med.inproc_commit, per_update_ms: med.inproc_update / 100, runs_ms: d.ms.inproc.map(round3), method: 'in-process: dataset.update(label, i, v) ×100 + dataset.commit' });
  if (d.diffSupported === false) out({ bench: 'diff.cli', n: d.n, supported: false, note: d.diffNote });
  else out({ bench: 'diff.cli', n: d.n, ms: med.diff, runs_ms: d.ms.diff.map(round3), cmd: 'lake diff HEAD~1 HEAD --json (100 labels apart)' });
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
    const gated = k === 'cli' || k === 'inproc' || k === 'diff';
    const r = big[k] / small[k];
    ratio(`commit.${k}`, r, gated ? '≤ 1.5' : 'info', gated ? r <= 1.5 : null, { n_big: cfg.big, n_small: cfg.small, ms_big: round3(big[k]), ms_small: round3(small[k]) });
  }
  if (!('diff' in small)) out({ bench: 'ratio', name: 'commit.diff', ratio: null, target: '≤ 1.5', met: null, note: 'lake diff not available' });
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
