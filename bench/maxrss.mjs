// Preload (`node --import bench/maxrss.mjs ...`): at exit, writes this process's peak RSS
// (process.resourceUsage().maxRSS, KiB) to $LAKE_BENCH_RSS_FILE. Used to measure whole `lake`
// commands without changing them.
import fs from 'node:fs';

const file = process.env.LAKE_BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try { fs.writeFileSync(file, String(process.resourceUsage().maxRSS)); } catch { /* best effort */ }
  });
}
