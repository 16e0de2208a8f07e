#!/usr/bin/env node
// S4 or S7 of the peer workload in fresh processes, builds alternated run by run (the machine is
// shared and noisy: only builds measured in the same minutes compare), medians per build.
//   node bench/ab-fresh.mjs s4|s7|s7h STORE RUNS ROOT [ROOT...]   (ROOT: a checkout or snapshot with dist/)
// s4:  Dataset.open + version('v1') + column('label') (open, column, wall = both), then the same on a
//      second Dataset (second), cpu = the process's user+sys time for the first
// s7:  Repo.open + diff v1 v11 + close, the first in the process (wall), then again (second)
// s7h: S7 as bench/peers/lake.mjs measures it in-process: one diff to warm the code, then 15 times
//      Repo.open + diff + close (open) and a diff on the warm Repo (inproc); medians per process
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [mode, store, runs, ...roots] = process.argv.slice(2);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

if (process.env.AB_CHILD) {
  const root = roots[0];
  const load = (p) => import(pathToFileURL(path.join(root, 'dist', p)).href);
  const out = {};
  if (mode === 's4') {
    const { Dataset } = await load('index.js');
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const ds = await Dataset.open(store);
    const v = await ds.version('v1');
    const t1 = performance.now();
    const labels = await v.column('label');
    const t2 = performance.now();
    const cpu = process.cpuUsage(c0);
    await ds.close();
    const t3 = performance.now();
    const again = await Dataset.open(store);
    await (await again.version('v1')).column('label');
    const t4 = performance.now();
    await again.close();
    Object.assign(out, { open: t1 - t0, column: t2 - t1, wall: t2 - t0, second: t4 - t3, cpu: (cpu.user + cpu.system) / 1000, rows: labels.length });
  } else {
    const { Repo } = await load('core/repo/repo.js');
    const { diff } = await load('core/ops/diff.js');
    const once = async () => {
      const t = performance.now();
      const repo = await Repo.open(store);
      await diff(repo, 'v1', 'v11');
      await repo.close();
      return performance.now() - t;
    };
    if (mode === 's7') Object.assign(out, { wall: await once(), second: await once() });
    else {
      const warm = await Repo.open(store);
      await diff(warm, 'v1', 'v11');
      const open = [];
      const inproc = [];
      for (let r = 0; r < 15; r++) {
        open.push(await once());
        const t = performance.now();
        await diff(warm, 'v1', 'v11');
        inproc.push(performance.now() - t);
      }
      await warm.close();
      Object.assign(out, { open: median(open), inproc: median(inproc) });
    }
  }
  console.log(JSON.stringify(out));
} else {
  if (!['s4', 's7', 's7h'].includes(mode) || !store || !(Number(runs) > 0) || roots.length === 0) {
    console.error('usage: node bench/ab-fresh.mjs s4|s7|s7h STORE RUNS ROOT [ROOT...]');
    process.exit(2);
  }
  const rows = roots.map(() => []);
  for (let r = 0; r < Number(runs); r++) {
    for (const [i, root] of roots.entries()) {
      const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), mode, store, runs, path.resolve(root)], { env: { ...process.env, AB_CHILD: '1' }, encoding: 'utf8' });
      if (child.status !== 0) throw new Error(child.stderr);
      rows[i].push(JSON.parse(child.stdout));
    }
  }
  for (const [i, root] of roots.entries()) {
    const keys = Object.keys(rows[i][0]).filter((k) => k !== 'rows');
    console.log(JSON.stringify({ root, mode, runs: rows[i].length, median: Object.fromEntries(keys.map((k) => [k, Math.round(median(rows[i].map((x) => x[k])) * 10) / 10])) }));
  }
}
