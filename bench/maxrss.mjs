// Preload (`node --import bench/maxrss.mjs ...`): at exit, writes this process's peak RSS (KiB)
// to $LAKE_BENCH_RSS_FILE. Used to measure whole `lake` commands without changing them.
//
// The peak is VmHWM from /proc/self/status, not process.resourceUsage().maxRSS: on Linux,
// ru_maxrss survives fork + exec, so a child spawned by a big parent (bench/run.mjs after it built
// a 1M-row dataset in-process) reports at least the parent's RSS at spawn time. VmHWM belongs to
// the new address space. maxRSS is the fallback where /proc is missing.
import fs from 'node:fs';

/** Peak resident set size of this process in KiB. */
export function peakRssKb() {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS;
}

const file = process.env.LAKE_BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try { fs.writeFileSync(file, String(peakRssKb())); } catch { /* best effort */ }
  });
}
