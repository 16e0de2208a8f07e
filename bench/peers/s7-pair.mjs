#!/usr/bin/env node
// S7 side by side, on the stores a peer run left behind: `git diff --numstat v1 v11` in the git
// store, `lake diff v1 v11 --json` (whole process) and the same diff in-process through
// dist/core/ops/diff.js, alternated rep by rep so that machine load falls on all of them alike.
// The harness's own S7 is one timed run per peer; this gives medians and ratios vs git.
//
//   node bench/peers/s7-pair.mjs DATA_DIR [REPS]     (DATA_DIR = $WORK/data/n<N>; REPS 11)
// Env: LAKE_ROOT (the build measured, default this checkout), S7_OUT (append the JSON lines).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [dataArg, repsArg] = process.argv.slice(2);
if (!dataArg) { console.error('usage: s7-pair.mjs DATA_DIR [REPS]'); process.exit(2); }
const data = path.resolve(dataArg);
const reps = Number(repsArg ?? 11);
const lakeRoot = path.resolve(process.env.LAKE_ROOT ?? path.join(here, '..', '..'));
const gitStore = path.join(data, 'stores', 'git');
const lakeStore = path.join(data, 'stores', 'lake');
const exp = JSON.parse(fs.readFileSync(path.join(data, 'expected.json'), 'utf8')).expected;
const env = { ...process.env, LAKE_AUTHOR_NAME: 'bench', LAKE_AUTHOR_EMAIL: 'bench@localhost' };
delete env.LAKE_DIR;

const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const r3 = (x) => Math.round(x * 1000) / 1000;
const outFile = process.env.S7_OUT;
const out = (o) => { const l = JSON.stringify(o); console.log(l); if (outFile) fs.appendFileSync(outFile, l + '\n'); };

function timed(cmd, args, cwd) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || '').slice(0, 300)}`);
  return { ms, stdout: r.stdout };
}
const lakeCounts = (tensors) => {
  const n = (t) => (t ? t.updated.length + t.added.reduce((s, [x, y]) => s + (y - x), 0) : 0);
  return { rows: n(tensors.find((t) => t.name === 'label')), files: n(tensors.find((t) => t.name === 'content')) };
};
function gitCounts(numstat) {
  let rows = 0;
  let files = 0;
  for (const line of numstat.split('\n')) {
    const [added, , file] = line.split('\t');
    if (file === 'meta.csv') rows = Number(added);
    else if (file?.startsWith('images/')) files++;
  }
  return { rows, files };
}
const check = (what, c) => {
  if (c.rows !== exp.diffChangedRows || c.files !== exp.diffAddedRows) throw new Error(`${what}: ${c.rows} rows / ${c.files} files, expected ${exp.diffChangedRows} / ${exp.diffAddedRows}`);
};

const { diff } = await import(pathToFileURL(path.join(lakeRoot, 'dist', 'core', 'ops', 'diff.js')).href);
const { Repo } = await import(pathToFileURL(path.join(lakeRoot, 'dist', 'core', 'repo', 'repo.js')).href);
const t = { git: [], lake_cli: [], lake_inproc_open: [], lake_inproc: [] };
const warm = await Repo.open(lakeStore);
check('in-process warm-up', lakeCounts((await diff(warm, 'v1', 'v11')).tensors));
for (let r = 0; r < reps; r++) {
  const g = timed('git', ['-C', gitStore, 'diff', '--numstat', 'v1', 'v11'], gitStore);
  check('git diff --numstat', gitCounts(g.stdout));
  t.git.push(g.ms);
  const l = timed(process.execPath, [path.join(lakeRoot, 'bin', 'run.js'), 'diff', 'v1', 'v11', '--json'], lakeStore);
  check('lake diff', lakeCounts(JSON.parse(l.stdout).tensors));
  t.lake_cli.push(l.ms);
  for (let i = 0; i < 3; i++) { // in-process is cheap and noisier: 3 of each per rep
    let t0 = performance.now();
    const repo = await Repo.open(lakeStore);
    const d1 = await diff(repo, 'v1', 'v11');
    await repo.close();
    t.lake_inproc_open.push(performance.now() - t0);
    t0 = performance.now();
    const d2 = await diff(warm, 'v1', 'v11');
    t.lake_inproc.push(performance.now() - t0);
    check('in-process diff', lakeCounts(d1.tensors));
    check('in-process diff', lakeCounts(d2.tensors));
  }
}
await warm.close();
const snap = path.join(lakeRoot, 'SNAPSHOT');
out({ bench: 's7-pair', date: new Date().toISOString(), data, reps, lake_root: lakeRoot, build: fs.existsSync(snap) ? fs.readFileSync(snap, 'utf8').trim() : null, loadavg: (await import('node:os')).loadavg().map(r3) });
const cmds = {
  git: 'git diff --numstat v1 v11 (whole process)',
  lake_cli: 'lake diff v1 v11 --json (whole process)',
  lake_inproc_open: 'in-process: Repo.open + dist/core/ops/diff.js diff(repo, v1, v11) + close',
  lake_inproc: 'in-process: diff(repo, v1, v11) on an open Repo',
};
const med = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
for (const [k, v] of Object.entries(t)) out({ bench: `s7.${k}`, ms: r3(med[k]), min_ms: r3(Math.min(...v)), runs_ms: v.map(r3), cmd: cmds[k], changed_rows: exp.diffChangedRows, changed_files: exp.diffAddedRows });
for (const k of ['lake_cli', 'lake_inproc_open', 'lake_inproc']) {
  out({ bench: 'ratio', name: `s7.${k}_vs_git`, ratio: r3(med[k] / med.git), ms: r3(med[k]), git_ms: r3(med.git), target_ms: 20, met_20ms: med[k] <= 20 });
}
