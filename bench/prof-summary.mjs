#!/usr/bin/env node
// Summarizes V8 .cpuprofile files (from `node --cpu-prof --cpu-prof-dir DIR ...`): the top
// functions by self time, and self time grouped by file/package, so a profile can be quoted in a
// report without opening DevTools.
//   node bench/prof-summary.mjs DIR_OR_FILE... [--top 25]
import fs from 'node:fs';
import path from 'node:path';

const argv = process.argv.slice(2);
let top = 25;
const inputs = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--top') top = Number(argv[++i]);
  else inputs.push(argv[i]);
}
const files = inputs.flatMap((p) => (fs.statSync(p).isDirectory()
  ? fs.readdirSync(p).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(p, f))
  : [p]));

const shortUrl = (url) => {
  if (!url) return '(native)';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + 'node_modules/'.length).split('/');
    return `npm:${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const d = u.indexOf('/dist/');
  if (d >= 0) return u.slice(d + 1);
  if (u.startsWith('node:')) return u;
  return u.split('/').slice(-2).join('/');
};

for (const file of files) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  // timeDeltas[i] is the time before samples[i]
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  }
  const total = (prof.endTime - prof.startTime) / 1000;
  const fn = new Map();
  const byFile = new Map();
  for (const [id, us] of self) {
    const n = byId.get(id);
    const cf = n.callFrame;
    const name = cf.functionName || '(anonymous)';
    const loc = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${name} ${loc}`.trim();
    fn.set(key, (fn.get(key) ?? 0) + us);
    const fk = ['(idle)', '(program)', '(garbage collector)'].includes(name) ? name : shortUrl(cf.url);
    byFile.set(fk, (byFile.get(fk) ?? 0) + us);
  }
  const fmt = (us) => `${(us / 1000).toFixed(1).padStart(8)} ms ${((us / 1000 / total) * 100).toFixed(1).padStart(5)}%`;
  console.log(`\n== ${path.basename(file)}: ${total.toFixed(0)} ms wall, ${prof.samples.length} samples`);
  console.log('-- self time by file/package');
  for (const [k, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${fmt(us)}  ${k}`);
  console.log(`-- top ${top} functions by self time`);
  for (const [k, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${fmt(us)}  ${k}`);
}
