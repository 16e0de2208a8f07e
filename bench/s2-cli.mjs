#!/usr/bin/env node
// The peer workload's S2 through the CLI alone (bench/peers/lake.mjs has the whole adapter): on a
// copy of a v1 store, versions v2..v11 as `lake add upd.csv vK/images append.csv --key id`, `lake
// commit`, `lake tag`, each a whole `lake` process, timed per phase. For quick A/B checks of the
// CLI path (and of LAKE_DAEMON=1) without the harness.
//
//   LAKE_ROOT=<checkout or snapshot> node bench/s2-cli.mjs [DATA_DIR] [BASE]
//   DATA_DIR: the harness's data/n20000 (default /work/lake-bench/data/n20000)
//   BASE: a v1 store to copy (default: made once with the S1 commands in $TMPDIR/lake-s2-cli-base)
//   S2_DAEMON=1 runs with LAKE_DAEMON=1 (its own socket directory; the first command starts it)
//   S2_VERSIONS=K  only v2..v(K+1) (default 10)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, round3, run } from './lib.mjs';

const dataDir = path.resolve(process.argv[2] ?? '/work/lake-bench/data/n20000');
const base = path.resolve(process.argv[3] ?? path.join(os.tmpdir(), 'lake-s2-cli-base'));
const plan = JSON.parse(fs.readFileSync(path.join(dataDir, 'expected.json'), 'utf8'));
const versions = plan.versions.slice(1, 1 + Number(process.env.S2_VERSIONS ?? 10));

if (!fs.existsSync(path.join(base, '.lake'))) {
  const v1 = path.join(dataDir, 'v1');
  fs.mkdirSync(base, { recursive: true });
  run(['init', base], { cwd: path.dirname(base) });
  run(['add', path.join(v1, 'images'), '--format', 'files', '--prefix', 'v1'], { cwd: base });
  run(['add', path.join(v1, 'meta.csv')], { cwd: base });
  run(['commit', '-m', 'v1'], { cwd: base });
  run(['tag', 'v1'], { cwd: base });
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-s2-cli-'));
const store = path.join(scratch, 'store');
fs.cpSync(base, store, { recursive: true });
const env = {};
if (process.env.S2_DAEMON === '1') {
  const sockets = path.join(scratch, 'sockets');
  fs.mkdirSync(sockets, { mode: 0o700 });
  Object.assign(env, { LAKE_DAEMON: '1', LAKE_DAEMON_DIR: sockets });
}

// labels as the user knows them, to write "label + 1" rows (as the adapter does)
const labels = new Map();
const readCsv = (file) => fs.readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
for (const [id, label] of readCsv(path.join(dataDir, 'v1', 'meta.csv'))) labels.set(id, Number(label));

const rows = [];
try {
  for (const ver of versions) {
    const K = ver.version;
    const vdir = path.join(dataDir, `v${K}`);
    const t0 = performance.now();
    let upd = 'id,label\n';
    for (const id of fs.readFileSync(path.join(vdir, 'update_ids.txt'), 'utf8').trim().split('\n')) {
      labels.set(id, labels.get(id) + 1);
      upd += `${id},${labels.get(id)}\n`;
    }
    const updFile = path.join(scratch, `upd-v${K}.csv`);
    fs.writeFileSync(updFile, upd);
    const appText = fs.readFileSync(path.join(vdir, 'append.csv'), 'utf8');
    for (const line of appText.trim().split('\n')) { const [id, label] = line.split(','); labels.set(id, Number(label)); }
    const appFile = path.join(scratch, `append-v${K}.csv`);
    fs.writeFileSync(appFile, 'id,label,caption\n' + appText);
    const add = run(['add', updFile, path.join(vdir, 'images'), appFile, '--key', 'id', '--prefix', `v${K}`], { cwd: store, env }).ms;
    const commit = run(['commit', '-m', `v${K}`], { cwd: store, env }).ms;
    const tag = run(['tag', `v${K}`], { cwd: store, env }).ms;
    rows.push({ version: K, ms: performance.now() - t0, add, commit, tag });
  }
} finally {
  for (const f of env.LAKE_DAEMON_DIR ? fs.readdirSync(env.LAKE_DAEMON_DIR) : []) {
    if (f.endsWith('.pid')) try { process.kill(Number(fs.readFileSync(path.join(env.LAKE_DAEMON_DIR, f), 'utf8')), 'SIGTERM'); } catch {}
  }
  fs.rmSync(scratch, { recursive: true, force: true });
}
const med = (k) => round3(median(rows.map((r) => r[k])));
console.log(JSON.stringify({ bench: 's2-cli', daemon: env.LAKE_DAEMON === '1', median_ms: med('ms'), add: med('add'), commit: med('commit'), tag: med('tag'), per_version_ms: rows.map((r) => Math.round(r.ms)) }));
