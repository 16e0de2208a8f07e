// Child of bench/run.mjs (memory bench): streams every sample of one tensor at a revision through
// the library and prints {"rows","bytes","ms","maxRssKb"} (peak RSS: VmHWM, see maxrss.mjs).
//   node bench/scan.mjs DATASET_DIR [TENSOR=content] [REV=HEAD]
import { loadLake } from './lib.mjs';
import { peakRssKb } from './maxrss.mjs';

const [dir, tensor = 'content', rev = 'HEAD'] = process.argv.slice(2);
const { Dataset } = await loadLake();
const t0 = performance.now();
const ds = await Dataset.open(dir);
const v = await ds.version(rev);
let rows = 0;
let bytes = 0;
for await (const s of v.streamBytes(tensor)) {
  rows++;
  bytes += s.bytes.byteLength;
}
const ms = performance.now() - t0;
await ds.close();
console.log(JSON.stringify({ rows, bytes, ms, maxRssKb: peakRssKb() }));
