#!/usr/bin/env node
// The scaling plots of BENCH.md §2 as one SVG: time vs N (10k, 100k, 1M rows) for commit and
// diff, and time vs history length (20, 200, 2000 commits) for time travel. Runs bench/run.mjs
// twice (small/big = 10k/100k with 20/200 commits, then 10k/1M with 20/2000 commits), keeps every
// JSON line in OUT.jsonl, and draws OUT.svg from them (log-log axes; a flat line is cost that
// does not grow with the dataset).
//   node bench/scaling.mjs OUT            (writes OUT.jsonl and OUT.svg; ~10 min here)
//   node bench/scaling.mjs --plot OUT     (only redraws OUT.svg from OUT.jsonl)
// Env passes through to run.mjs (BENCH_REPEAT, LAKE_ROOT, BENCH_TMP).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const plotOnly = args[0] === '--plot';
const out = path.resolve(plotOnly ? args[1] : args[0] ?? '');
if (!out || out === path.resolve('')) { console.error('usage: scaling.mjs [--plot] OUT'); process.exit(2); }
const jsonl = `${out}.jsonl`;

if (!plotOnly) {
  fs.rmSync(jsonl, { force: true });
  const passes = [
    { BENCH_SMALL: '10000', BENCH_BIG: '100000', BENCH_COMMITS_SMALL: '20', BENCH_COMMITS: '200' },
    { BENCH_SMALL: '10000', BENCH_BIG: '1000000', BENCH_COMMITS_SMALL: '20', BENCH_COMMITS: '2000' },
  ];
  for (const pass of passes) {
    const r = spawnSync(process.execPath, [path.join(here, 'run.mjs')], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, ...pass, BENCH_ONLY: 'timetravel,commit,diffmerge', BENCH_OUT: jsonl },
    });
    if (r.status !== 0) { console.error(`run.mjs failed (${JSON.stringify(pass)})`); process.exit(1); }
  }
}

// --- read: the median of every (bench, n) seen, later lines winning ------------------------------
const lines = fs.readFileSync(jsonl, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const meta = lines.find((l) => l.bench === 'meta');
const points = (bench) => {
  const byN = new Map();
  for (const l of lines) if (l.bench === bench && typeof l.ms === 'number') byN.set(l.n, l.ms);
  return [...byN].sort((a, b) => a[0] - b[0]);
};
const panels = [
  {
    title: 'Commit 100 changed labels', x: 'rows (N)', series: [
      { name: 'CLI: lake add --key + lake commit', pts: points('commit.cli') },
      { name: 'library: update ×100 + commit', pts: points('commit.inproc') },
    ],
  },
  {
    title: 'Diff two versions 100 rows apart', x: 'rows (N)', series: [
      { name: 'CLI: lake diff A B --json', pts: points('diff.cli') },
      { name: 'library: diff, cold Repo', pts: points('diff.cold') },
      { name: 'library: diff, warm', pts: points('diff.warm') },
    ],
  },
  {
    title: 'Time travel', x: 'commits in history', series: [
      { name: 'lake show HEAD~(95%):label[0]', pts: points('timetravel.show') },
      { name: "lake checkout 'main@{time}'", pts: points('timetravel.checkout') },
      { name: 'library: open + resolve main@{time}', pts: points('timetravel.inproc.resolve_time') },
    ],
  },
];

// --- draw -----------------------------------------------------------------------------------------
const W = 330, H = 260, M = { l: 52, r: 12, t: 34, b: 92 };
const colors = ['#1f77b4', '#d62728', '#2ca02c'];
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (v) => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : `${v}`);
const ms = (v) => (v >= 1000 ? `${(v / 1000).toFixed(v >= 10000 ? 0 : 1)} s` : `${v >= 10 ? Math.round(v) : v.toFixed(1)} ms`);
let svg = '';
panels.forEach((p, i) => {
  const all = p.series.flatMap((s) => s.pts);
  if (all.length === 0) return;
  const xs = all.map(([x]) => x), ys = all.map(([, y]) => y);
  const x0 = Math.log10(Math.min(...xs)), x1 = Math.log10(Math.max(...xs));
  const y0 = Math.floor(Math.log10(Math.min(...ys))), y1 = Math.ceil(Math.log10(Math.max(...ys)));
  const ox = i * W;
  const px = (x) => ox + M.l + ((Math.log10(x) - x0) / (x1 - x0 || 1)) * (W - M.l - M.r);
  const py = (y) => H - M.b - ((Math.log10(y) - y0) / (y1 - y0 || 1)) * (H - M.t - M.b);
  svg += `<text x="${ox + W / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`;
  svg += `<line x1="${ox + M.l}" y1="${H - M.b}" x2="${ox + W - M.r}" y2="${H - M.b}" stroke="#333"/><line x1="${ox + M.l}" y1="${M.t}" x2="${ox + M.l}" y2="${H - M.b}" stroke="#333"/>`;
  for (let e = y0; e <= y1; e++) {
    const y = py(10 ** e);
    svg += `<line x1="${ox + M.l}" y1="${y}" x2="${ox + W - M.r}" y2="${y}" stroke="#ddd"/><text x="${ox + M.l - 4}" y="${y + 4}" text-anchor="end" font-size="10">${ms(10 ** e)}</text>`;
  }
  for (const x of [...new Set(xs)]) svg += `<text x="${px(x)}" y="${H - M.b + 14}" text-anchor="middle" font-size="10">${fmt(x)}</text>`;
  svg += `<text x="${ox + (W + M.l) / 2}" y="${H - M.b + 28}" text-anchor="middle" font-size="11">${esc(p.x)}</text>`;
  p.series.forEach((s, k) => {
    if (s.pts.length === 0) return;
    svg += `<polyline fill="none" stroke="${colors[k]}" stroke-width="2" points="${s.pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`;
    for (const [x, y] of s.pts) svg += `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${colors[k]}"><title>${esc(s.name)}: ${fmt(x)} → ${ms(y)}</title></circle>`;
    svg += `<rect x="${ox + M.l}" y="${H - M.b + 38 + k * 15}" width="10" height="3" fill="${colors[k]}"/><text x="${ox + M.l + 14}" y="${H - M.b + 43 + k * 15}" font-size="10">${esc(s.name)}</text>`;
  });
});
const caption = meta ? `lake ${meta.git} · ${meta.date.slice(0, 10)} · ${meta.cpus} × ${meta.cpu_model} · load ${meta.loadavg?.[0]} · medians (log-log)` : '';
svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W * panels.length}" height="${H + 16}" font-family="sans-serif" font-size="12">${svg}<text x="6" y="${H + 10}" font-size="10" fill="#555">${esc(caption)}</text></svg>\n`;
fs.writeFileSync(`${out}.svg`, svg);
console.error(`wrote ${out}.svg from ${jsonl}`);
