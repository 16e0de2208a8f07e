#!/usr/bin/env node
// Draws the peer run as an SVG: for each step, how many times better (right of 1×) or worse
// (left) lake is than LanceDB and than git, on a log scale. Same-run figures only.
//   node bench/peers/plot.mjs RESULTS_DIR N OUT.svg
import fs from 'node:fs';
import path from 'node:path';

const [dir, nArg, outFile] = process.argv.slice(2);
if (!dir || !outFile) { console.error('usage: plot.mjs RESULTS_DIR N OUT.svg'); process.exit(2); }
const N = Number(nArg);
const P = {};
for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.json'))) {
  for (const l of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
    if (!l.trim()) continue;
    const o = JSON.parse(l);
    if (o.n === N) (P[o.peer] ??= {})[o.step] = o;
  }
}
const { lake, lancedb, git } = P;
// "advantage" = how many times better lake is (>1 better): peer/lake for times and sizes, lake/peer for rates
const steps = [
  ['S1 ingest (MB/s)', (p) => p.S1?.mb_per_s, 'rate'],
  ['S2 one version (median)', (p) => p.S2?.median_ms, 'time'],
  // lake with its resident process (LAKE_DAEMON=1) against the peers' own S2
  ['S2, LAKE_DAEMON=1', (p) => (p === lake ? p.S2_daemon?.median_ms : p.S2?.median_ms), 'time'],
  ['S3 store bytes', (p) => p.S3?.ratio, 'time'],
  ['S4 labels at v1', (p) => p.S4?.wall_ms, 'time'],
  ['S5 read p50', (p) => p.S5?.p50_ms, 'time'],
  ['S5 read p99', (p) => p.S5?.p99_ms, 'time'],
  ['S6 scan (MB/s)', (p) => p.S6?.mb_per_s, 'rate'],
];
const adv = (peer, get, kind) => {
  const a = get(lake);
  const b = get(peer);
  if (a == null || b == null) return null;
  return kind === 'rate' ? a / b : b / a;
};
const W = 760, rowH = 44, top = 50, left = 190, right = 30;
const H = top + steps.length * rowH + 50;
const lo = Math.log10(1 / 100), hi = Math.log10(100);
const x = (v) => left + ((Math.log10(Math.min(100, Math.max(0.01, v))) - lo) / (hi - lo)) * (W - left - right);
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">\n`;
svg += `<rect width="100%" height="100%" fill="white"/>\n`;
svg += `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">lake vs LanceDB and git, N = ${N}, same run (log scale; right of 1× = lake better)</text>\n`;
for (const t of [0.01, 0.1, 1, 10, 100]) {
  svg += `<line x1="${x(t)}" x2="${x(t)}" y1="${top - 8}" y2="${H - 40}" stroke="${t === 1 ? '#333' : '#ddd'}"/>\n`;
  svg += `<text x="${x(t)}" y="${H - 25}" text-anchor="middle">${t}×</text>\n`;
}
steps.forEach(([label, get, kind], i) => {
  const y = top + i * rowH;
  svg += `<text x="${left - 8}" y="${y + 20}" text-anchor="end">${esc(label)}</text>\n`;
  [[lancedb, '#4a7bd0', 'LanceDB'], [git, '#e08a3c', 'git']].forEach(([peer, color], j) => {
    const v = peer ? adv(peer, get, kind) : null;
    const yy = y + 6 + j * 16;
    if (v == null) return;
    const x0 = x(1), x1 = x(v);
    svg += `<rect x="${Math.min(x0, x1)}" y="${yy}" width="${Math.max(1, Math.abs(x1 - x0))}" height="13" fill="${color}"/>\n`;
    svg += `<text x="${x1 + (v >= 1 ? 4 : -4)}" y="${yy + 11}" text-anchor="${v >= 1 ? 'start' : 'end'}" font-size="11">${v >= 10 ? v.toFixed(1) : v.toPrecision(2)}×</text>\n`;
  });
});
svg += `<rect x="${left}" y="${H - 14}" width="12" height="10" fill="#4a7bd0"/><text x="${left + 16}" y="${H - 5}">vs LanceDB</text>\n`;
svg += `<rect x="${left + 110}" y="${H - 14}" width="12" height="10" fill="#e08a3c"/><text x="${left + 126}" y="${H - 5}">vs git</text>\n`;
svg += '</svg>\n';
fs.mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
fs.writeFileSync(outFile, svg);
console.log(`wrote ${outFile}`);
