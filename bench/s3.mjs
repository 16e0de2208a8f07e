#!/usr/bin/env node
// `npm run bench:s3` (= build + `node --import tsx bench/s3.mjs`): S1 (ingest), S5 (1000 random
// image reads, p50/p99) and S6 (full image scan, MB/s) of the peer workload's v1 (../shared/peers,
// N samples of a 24 KiB image + label + caption) against a local S3 server, beside the same steps
// on local disk in the same run. The server is s3rver in a child process, started the way the
// tests start it (test/helpers/s3.ts: its store corrections included); lake talks to s3rver
// directly (S3_VIA_PROXY=1: through the tests' conditional-write proxy, one more hop and a HEAD
// per conditional PUT).
//
// Three datasets, each measured cold and warm:
//   local   `lake init DIR` (objects in .lake/objects on the local disk)
//   s3      `lake init DIR --storage s3://bucket/s3ds` (objects on S3 behind the disk cache
//           .lake/cache; cold = cache emptied before the step, warm = as the cold step left it)
//   lazy    `lake push` of the local dataset to s3://bucket/pushed, then `lake clone` (lazy:
//           objects read on demand and kept in .lake/objects; cold = a fresh clone)
// In-memory caches are always cold (a fresh Dataset.open per measurement); the OS page cache
// stays warm (drop_caches is not allowed here), for local disk and for s3rver's files alike.
//
// s3rver is a JS server writing one file per object (plus metadata files); its own cost is
// separated two ways: the CPU time of the server process during each step (server_cpu_s, from
// /proc), and "server" lines: plain HTTP GETs/PUTs of 4 MiB objects straight to s3rver (no SDK,
// no lake), one at a time and 16 at once: the most this server gives any client.
//
// Env: N (20000); DATA (default /work/lake-bench/data/n<N>, else ../shared/peers/data/n<N>; made
// with gen.mjs if absent); BENCH_TMP (stores and s3rver's files, default $TMPDIR/lake-s3bench-<pid>,
// deleted after unless BENCH_KEEP=1); BENCH_OUT (also append the JSON lines there); LAKE_ROOT
// (the build measured); S3_VIA_PROXY=1.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { benchDir, lakeRoot, loadLake, makeOut, round3, run } from './lib.mjs';

const env = process.env;
const N = Number(env.N ?? 20000);
const tmp = path.resolve(env.BENCH_TMP ?? path.join(os.tmpdir(), `lake-s3bench-${process.pid}`));
const out = makeOut(env.BENCH_OUT);
const IMAGE_BYTES = 24576;
const MiB = 1024 * 1024;

// --- the workload -------------------------------------------------------------------------------
const peersDir = [env.PEERS_DIR, path.resolve(benchDir, '../../shared/peers'), '/work/peers-copy'].find((d) => d && fs.existsSync(path.join(d, 'lib', 'workload.mjs')));
if (!peersDir) throw new Error('cannot find the peer harness (../shared/peers); set PEERS_DIR');
const W = await import(pathToFileURL(path.join(peersDir, 'lib', 'workload.mjs')).href);
const dataDir = path.resolve(env.DATA ?? [`/work/lake-bench/data/n${N}`, path.join(peersDir, 'data', `n${N}`)].find((d) => fs.existsSync(path.join(d, 'expected.json'))) ?? path.join(tmp, `data-n${N}`));
if (!fs.existsSync(path.join(dataDir, 'expected.json'))) execFileSync(process.execPath, [path.join(peersDir, 'gen.mjs'), '--n', String(N), '--out', dataDir], { stdio: 'inherit' });
const plan = JSON.parse(fs.readFileSync(path.join(dataDir, 'expected.json'), 'utf8'));
if (plan.n !== N) throw new Error(`${dataDir} holds N=${plan.n}, not ${N}`);
const exp = plan.expected;
// The peer workload's S5 ids are positions in head (v11); only v1 is ingested here: id mod N.
const positions = exp.s5Ids.map((id) => id % N);
const v1ImageBytes = N * IMAGE_BYTES;

// --- the S3 server ------------------------------------------------------------------------------
fs.mkdirSync(tmp, { recursive: true });
// s3rver's files on the same disk as the local dataset (the tests' default is a RAM disk).
env.LAKE_TEST_TMP = tmp;
env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { S3TestServer } = await import('../test/helpers/s3.ts');
const s3 = new S3TestServer();
await s3.start();
const endpoint = env.S3_VIA_PROXY === '1' ? s3.endpoint : s3.rawEndpoint;
const s3Env = { LAKE_S3_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey, AWS_REGION: 'us-east-1' };
Object.assign(env, s3Env); // the in-process library reads the same environment
const serverPid = s3.child.pid;

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
/** CPU seconds (user + system) of a process so far; `children` adds its waited-for children's. */
function cpuOf(pid, children = false) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  // after the ')': state is field 3 of stat(5), so utime (14) is index 11 here
  const ticks = Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
  return ticks / CLK_TCK;
}
/** Runs `fn`, returning its result with the wall time and the CPU of lake (this process and the CLI children) and of the server. */
async function measured(fn) {
  const server0 = cpuOf(serverPid);
  const client0 = cpuOf(process.pid, true);
  const t0 = performance.now();
  const result = await fn();
  const ms = performance.now() - t0;
  return { ...result, ms, server_cpu_s: round3(cpuOf(serverPid) - server0), lake_cpu_s: round3(cpuOf(process.pid, true) - client0) };
}

const host = { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, mem_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version, load: os.loadavg().map(round3) };
const commit = (() => {
  const snap = path.join(lakeRoot, 'SNAPSHOT');
  if (fs.existsSync(snap)) return fs.readFileSync(snap, 'utf8').split('\n')[0];
  try { return execFileSync('git', ['-C', lakeRoot, 'describe', '--always', '--dirty'], { encoding: 'utf8' }).trim(); } catch { return 'unknown'; }
})();
out({ bench: 's3', step: 'meta', n: N, date: new Date().toISOString(), lake: commit, lake_root: lakeRoot, data: dataDir, tmp, endpoint: env.S3_VIA_PROXY === '1' ? 'proxy → s3rver' : 's3rver direct', host });

const lake = (argv, cwd, extra = {}) => run(argv, { cwd, json: true, env: { ...s3Env, ...extra } });
const bucketUrl = (name) => `s3://${s3.bucket}/${name}`;

// --- S1: ingest v1 ------------------------------------------------------------------------------
function ingest(dir, storage) {
  const v1 = path.join(dataDir, 'v1');
  const phases = {};
  phases.init = lake(['init', dir, ...(storage ? ['--storage', storage] : [])], tmp).ms;
  phases.add_images = lake(['add', path.join(v1, 'images'), '--format', 'files', '--prefix', 'v1'], dir).ms;
  phases.add_csv = lake(['add', path.join(v1, 'meta.csv')], dir).ms;
  phases.commit = lake(['commit', '-m', 'v1'], dir).ms;
  phases.tag = lake(['tag', 'v1'], dir).ms;
  return { phases_ms: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round3(v)])) };
}

// --- S5 / S6 through the library ---------------------------------------------------------------
async function s5(dir) {
  const { Dataset } = await loadLake();
  const ds = await Dataset.open(dir);
  const v = await ds.version('v1');
  const lat = [];
  const got = [];
  for (const pos of positions) {
    const t0 = performance.now();
    const bytes = await v.readBytes('content', pos);
    lat.push(performance.now() - t0);
    got.push([pos, bytes]);
  }
  await ds.close();
  let bad = 0;
  for (const [pos, b] of got) if (!Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(W.imageBytes(plan.seed, pos))) bad++;
  const sorted = [...lat].sort((a, b) => a - b);
  return { reads: lat.length, verified: bad === 0, p50_ms: round3(W.percentile(sorted, 50)), p99_ms: round3(W.percentile(sorted, 99)), mean_ms: round3(lat.reduce((a, b) => a + b, 0) / lat.length), max_ms: round3(sorted.at(-1)) };
}

async function s6(dir) {
  const { Dataset } = await loadLake();
  const ds = await Dataset.open(dir);
  const v = await ds.version('v1');
  let bytes = 0;
  let rows = 0;
  let spot = null;
  const t0 = performance.now();
  for await (const s of v.streamBytes('content')) {
    bytes += s.bytes.byteLength;
    if (s.index === 12345 % N) spot = Buffer.from(s.bytes);
    rows++;
  }
  const ms = performance.now() - t0;
  await ds.close();
  const verified = rows === N && bytes === v1ImageBytes && spot !== null && spot.equals(W.imageBytes(plan.seed, 12345 % N));
  return { rows, bytes, verified, scan_ms: round3(ms), mb_per_s: round3(bytes / 1e6 / (ms / 1000)) };
}

const emit = (backend, step, cache, r) => {
  const { ms, ...rest } = r;
  out({ bench: 's3', step, backend, cache, n: N, wall_ms: round3(ms), ...(step === 'S1' ? { mb_per_s: round3(exp.v1LogicalBytes / 1e6 / (ms / 1000)) } : {}), ...rest });
  return r;
};
const rm = (p) => fs.rmSync(p, { recursive: true, force: true });
const figures = {};
const keep = (key, r) => (figures[key] = r);

try {
  // local disk
  const localDir = path.join(tmp, 'local');
  keep('local S1', emit('local', 'S1', '-', await measured(async () => ingest(localDir))));
  keep('local S5 cold', emit('local', 'S5', 'cold', await measured(() => s5(localDir))));
  keep('local S5 warm', emit('local', 'S5', 'warm', await measured(() => s5(localDir))));
  keep('local S6 cold', emit('local', 'S6', 'cold', await measured(() => s6(localDir))));
  keep('local S6 warm', emit('local', 'S6', 'warm', await measured(() => s6(localDir))));

  // a dataset on S3 (init --storage), read through the disk cache
  const s3Dir = path.join(tmp, 's3ds');
  const cache = path.join(s3Dir, '.lake', 'cache');
  keep('s3 S1', emit('s3', 'S1', '-', await measured(async () => ingest(s3Dir, bucketUrl('s3ds')))));
  rm(cache); // S1 wrote through to the cache
  keep('s3 S5 cold', emit('s3', 'S5', 'cold', await measured(() => s5(s3Dir))));
  keep('s3 S5 warm', emit('s3', 'S5', 'warm', await measured(() => s5(s3Dir))));
  rm(cache);
  keep('s3 S6 cold', emit('s3', 'S6', 'cold', await measured(() => s6(s3Dir))));
  keep('s3 S6 warm', emit('s3', 'S6', 'warm', await measured(() => s6(s3Dir))));

  // push the local dataset, then lazy clones of it
  const pushUrl = bucketUrl('pushed');
  lake(['remote', 'add', 'origin', pushUrl], localDir);
  const pushed = await measured(async () => lake(['push', '--tags'], localDir).json);
  keep('push', emit('lazy', 'push', '-', { ms: pushed.ms, objects: pushed.objects, bytes: pushed.bytes, mb_per_s: round3(pushed.bytes / 1e6 / (pushed.ms / 1000)), server_cpu_s: pushed.server_cpu_s, lake_cpu_s: pushed.lake_cpu_s }));
  const cloneFresh = async (name) => {
    const dir = path.join(tmp, name);
    rm(dir);
    const r = await measured(async () => lake(['clone', pushUrl, dir], tmp).json);
    return { dir, ms: r.ms, objects: r.objects };
  };
  const c1 = await cloneFresh('lazy1');
  emit('lazy', 'clone', '-', { ms: c1.ms, objects: c1.objects });
  keep('lazy S5 cold', emit('lazy', 'S5', 'cold', await measured(() => s5(c1.dir))));
  keep('lazy S5 warm', emit('lazy', 'S5', 'warm', await measured(() => s5(c1.dir))));
  const c2 = await cloneFresh('lazy2');
  keep('lazy S6 cold', emit('lazy', 'S6', 'cold', await measured(() => s6(c2.dir))));
  keep('lazy S6 warm', emit('lazy', 'S6', 'warm', await measured(() => s6(c2.dir))));

  // the server alone: plain HTTP to s3rver, 4 MiB objects, no SDK and no lake
  const chunks = await largestObjects('pushed/objects/', 16);
  const get = (key) => httpRequest('GET', key);
  const put = (key, body) => httpRequest('PUT', key, body);
  const payload = crypto.randomBytes(4 * MiB);
  const seqGet = await measured(async () => { let b = 0; for (const k of chunks) b += await get(k); return { bytes: b }; });
  const parGet = await measured(async () => ({ bytes: (await Promise.all(chunks.map(get))).reduce((a, b) => a + b, 0) }));
  const seqPut = await measured(async () => { for (let i = 0; i < 16; i++) await put(`scratch/seq-${i}`, payload); return { bytes: 16 * payload.length }; });
  const parPut = await measured(async () => { await Promise.all(Array.from({ length: 16 }, (_, i) => put(`scratch/par-${i}`, payload))); return { bytes: 16 * payload.length }; });
  for (const [name, r] of [['GET 1 at a time', seqGet], ['GET 16 at once', parGet], ['PUT 1 at a time', seqPut], ['PUT 16 at once', parPut]]) {
    keep(`server ${name}`, emit('server', name, '-', { ...r, mb_per_s: round3(r.bytes / 1e6 / (r.ms / 1000)) }));
  }

  // ratios: S3 (and lazy clone) ÷ local disk, same run
  const r = (a, b, f) => round3(f(figures[a]) / f(figures[b]));
  const ms = (x) => x.ms;
  const p50 = (x) => x.p50_ms;
  const p99 = (x) => x.p99_ms;
  const mbs = (x) => x.mb_per_s;
  out({ bench: 's3', step: 'ratios', n: N,
    S1_time_s3_over_local: r('s3 S1', 'local S1', ms),
    S5_p50_s3_cold: r('s3 S5 cold', 'local S5 cold', p50), S5_p99_s3_cold: r('s3 S5 cold', 'local S5 cold', p99),
    S5_p50_s3_warm: r('s3 S5 warm', 'local S5 warm', p50), S5_p99_s3_warm: r('s3 S5 warm', 'local S5 warm', p99),
    S5_p50_lazy_cold: r('lazy S5 cold', 'local S5 cold', p50), S5_p99_lazy_cold: r('lazy S5 cold', 'local S5 cold', p99),
    S5_p50_lazy_warm: r('lazy S5 warm', 'local S5 warm', p50), S5_p99_lazy_warm: r('lazy S5 warm', 'local S5 warm', p99),
    S6_mbps_s3_cold: r('s3 S6 cold', 'local S6 cold', mbs), S6_mbps_s3_warm: r('s3 S6 warm', 'local S6 warm', mbs),
    S6_mbps_lazy_cold: r('lazy S6 cold', 'local S6 cold', mbs), S6_mbps_lazy_warm: r('lazy S6 warm', 'local S6 warm', mbs),
    S6_s3_cold_over_server_get16: r('s3 S6 cold', 'server GET 16 at once', mbs),
    S1_s3_over_server_put16: round3(figures['s3 S1'].ms / 1000 / (exp.v1LogicalBytes / 1e6 / figures['server PUT 16 at once'].mb_per_s)),
  });
} finally {
  await s3.stop();
  if (env.BENCH_KEEP !== '1') rm(tmp);
}

/** The `count` largest objects under `prefix` (chunks), straight from s3rver's listing. */
async function largestObjects(prefix, count) {
  const { S3Store } = await import('../src/core/storage/s3.ts');
  const store = new S3Store(`s3://${s3.bucket}`, s3.storeOptions({ raw: true }));
  const all = [];
  for await (const o of store.list(prefix)) all.push(o);
  await store.close();
  return all.sort((a, b) => b.size - a.size).slice(0, count).map((o) => o.key);
}

/** One unsigned request to s3rver (it accepts anonymous requests); resolves to the bytes received. */
function httpRequest(method, key, body) {
  const url = new URL(`${s3.rawEndpoint}/${s3.bucket}/${key}`);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: body ? { 'content-length': body.length } : {} }, (res) => {
      let n = 0;
      res.on('data', (d) => (n += d.length));
      res.on('end', () => (res.statusCode >= 300 ? reject(new Error(`${method} ${key}: HTTP ${res.statusCode}`)) : resolve(n)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
