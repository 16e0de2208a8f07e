// Helpers shared by bench/run.mjs and its child scripts: whole-process `lake` runs, timing,
// statistics, and JSON-lines output.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const benchDir = path.dirname(fileURLToPath(import.meta.url));
/** The lake checkout measured: LAKE_ROOT (e.g. a snapshot of dist/), else this repo. */
export const lakeRoot = path.resolve(process.env.LAKE_ROOT ?? path.join(benchDir, '..'));
export const LAKE_BIN = path.join(lakeRoot, 'bin', 'run.js');
export const MAXRSS_PRELOAD = path.join(benchDir, 'maxrss.mjs');

export const cliEnv = { ...process.env, LAKE_AUTHOR_NAME: 'bench', LAKE_AUTHOR_EMAIL: 'bench@localhost' };
delete cliEnv.LAKE_DIR;

export const round3 = (x) => Math.round(x * 1000) / 1000;
export function median(a) {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function loadLake() {
  return import(pathToFileURL(path.join(lakeRoot, 'dist', 'index.js')).href);
}

/**
 * One whole process: `bin/run.js ...argv` as the installed `lake` command runs (its sh launcher
 * line, then node), `node [nodeArgs] bin/run.js ...argv` when there are node flags (or rss: a
 * preload), or `node ...argv` with raw: true.
 * Returns {ms, status, stdout, stderr, json, maxRssKb}. maxRssKb comes from a preload that
 * writes the peak RSS (VmHWM; see maxrss.mjs) at exit (when opts.rss is set).
 */
export function run(argv, opts = {}) {
  const { cwd, raw = false, json = false, rss = false, check = true, nodeArgs = [], timeoutMs = 30 * 60_000 } = opts;
  const env = { ...cliEnv, ...(opts.env ?? {}) };
  let rssFile;
  const pre = [];
  if (rss) {
    rssFile = path.join(fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'lake-rss-')), 'rss');
    env.LAKE_BENCH_RSS_FILE = rssFile;
    pre.push('--import', pathToFileURL(MAXRSS_PRELOAD).href);
  }
  const full = raw ? [...pre, ...nodeArgs, ...argv] : [...pre, ...nodeArgs, LAKE_BIN, ...argv, ...(json ? ['--json'] : [])];
  const launcher = !raw && full[0] === LAKE_BIN;
  const t0 = performance.now();
  const r = launcher
    ? spawnSync(LAKE_BIN, full.slice(1), { cwd, env, encoding: 'utf8', maxBuffer: 1 << 30, timeout: timeoutMs })
    : spawnSync(process.execPath, full, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 30, timeout: timeoutMs });
  const ms = performance.now() - t0;
  if (r.error) throw new Error(`${argv.join(' ')}: ${r.error.message}`);
  const out = { ms, status: r.status, stdout: r.stdout, stderr: r.stderr, json: null, maxRssKb: null };
  if (rssFile) {
    try { out.maxRssKb = Number(fs.readFileSync(rssFile, 'utf8')); } catch { /* process died before exit */ }
    fs.rmSync(path.dirname(rssFile), { recursive: true, force: true });
  }
  if (check && r.status !== 0) throw new Error(`${raw ? 'node' : 'lake'} ${argv.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim().slice(0, 600)}`);
  if (json && r.status === 0) out.json = JSON.parse(r.stdout);
  return out;
}

/** Median of `times` whole-process runs of the same command (after `warmup` untimed runs). */
export function medianRun(argv, opts = {}, times = 5, warmup = 0) {
  for (let i = 0; i < warmup; i++) run(argv, opts);
  const ms = [];
  let last;
  for (let i = 0; i < times; i++) {
    last = run(argv, opts);
    ms.push(last.ms);
  }
  return { ms: median(ms), all: ms.map(round3), last };
}

export function makeOut(file) {
  if (file) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  return function out(obj) {
    const line = JSON.stringify(obj, (_, v) => (typeof v === 'number' && !Number.isInteger(v) ? round3(v) : v));
    console.log(line);
    if (file) fs.appendFileSync(file, line + '\n');
  };
}
