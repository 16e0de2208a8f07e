// Family 3, hostile parameters, in-process: revision strings (parsed and resolved on a dataset
// with history, branches and tags), sample specs (REV:T[I:J]), tensor specs (name, htype, dtype,
// compressions, class names), values typed as JSON for --value, indices, and .lake/config.json
// files. Each either works or fails with a lake error; a refused edit changes nothing.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import {Repo} from '../../../src/core/repo/repo.js'
import {resolve} from '../../../src/core/ops/state.js'
import {parseRevision} from '../../../src/core/version/revision.js'
import {parseSampleSpec, readSamples, showCommit} from '../../../src/core/ops/show.js'
import {appendValues, createTensor, deleteRows, updateValue} from '../../../src/core/ops/edit.js'
import {resetStaged} from '../../../src/core/ops/checkout.js'
import {commit} from '../../../src/core/ops/commit.js'
import {createBranch, createTag} from '../../../src/core/ops/refs.js'
import {status} from '../../../src/core/ops/status.js'
import {log} from '../../../src/core/ops/log.js'
import {parseJsonValue, valueForTensor} from '../../../src/cli/values.js'
import {isHash} from '../../../src/core/hash.js'
import {datasetState, type DatasetState} from '../../helpers/state.js'
import {FULL, runs, seed} from '../knobs.js'
import {attempt, attemptAsync, Tally} from './check.js'
import {hostileValue} from './mutate.js'

const SEED = seed()
const tally = new Tally()

const TENSORS = ['id', 'name', 'label', 'emb', 'img', 'doc', 'flag', 'big']

describe('torture 3: hostile parameters', function () {
  this.timeout(FULL ? 0 : 60_000)
  let root: string
  let dir: string
  let commits: string[] = []
  let repo: Repo
  const opts = (quick: number, full: number) => ({seed: SEED, numRuns: runs('HOSTILE', quick, full), endOnFailure: true})

  before(async () => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'lake-hostile-params-')))
    dir = path.join(root, 'ds')
    repo = await Repo.init(dir)
    await createTensor(repo, 'id', {htype: 'generic', dtype: 'i32'})
    await createTensor(repo, 'name', {htype: 'text'})
    await createTensor(repo, 'label', {htype: 'class_label', classNames: ['cat', 'dog']})
    await createTensor(repo, 'emb', {htype: 'embedding'})
    await createTensor(repo, 'img', {htype: 'image', sampleCompression: 'png'})
    await createTensor(repo, 'doc', {htype: 'json'})
    await createTensor(repo, 'flag', {htype: 'generic', dtype: 'bool'})
    await createTensor(repo, 'big', {htype: 'generic', dtype: 'i64'})
    for (let i = 0; i < 4; i++) {
      await appendValues(repo, 'id', [i, i + 10])
      await appendValues(repo, 'name', [`n${i}`, `m${i}`])
      commits.push((await commit(repo, {message: `c${i}`})).commit)
      if (i === 1) await createTag(repo, 'v1')
      if (i === 2) await createBranch(repo, 'side')
    }
  })
  after(async () => {
    await repo.close()
    fs.rmSync(root, {recursive: true, force: true})
    console.log(tally.report('hostile parameters', SEED))
  })

  const number = fc.oneof(fc.constantFrom('', '0', '1', '2', '3', '5', '100', '9007199254740993', '99999999999999999999', '-1', '01'), fc.nat().map(String))
  const time = fc.constantFrom('2026-01-01', '2000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '0000-01-01', '2026-02-30', '2026-13-01', '2026-01-01T25:00', 'yesterday', '', '1', '2026-01-01 10:00:00+05:30', '+275760-09-13')
  const revision = fc.oneof(
    {weight: 4, arbitrary: fc.tuple(
      fc.oneof(fc.constantFrom('HEAD', 'main', 'side', 'v1', '', '@', 'nosuch', 'HEAD~', 'origin/main', '.', '..', '-x', 'main.lock', 'a'.repeat(300)),
        fc.tuple(fc.constantFrom(...[0, 1, 2, 3]), fc.integer({min: 1, max: 64})).map(([i, n]) => 'commit:' + i + ':' + n),
        fc.stringMatching(/^[0-9a-f]{1,12}$/)),
      fc.array(fc.oneof(
        number.map((n) => `~${n}`), number.map((n) => `^${n}`), number.map((n) => `@{${n}}`), time.map((t) => `@{${t}}`),
        fc.constantFrom('@{', '}', '~~', '^^', '@', ':', '[0]', '@{-1}', '@{1}@{2}')), {maxLength: 3}),
    ).map(([base, steps]) => base + steps.join(''))},
    {weight: 1, arbitrary: fc.string({maxLength: 16})},
    {weight: 1, arbitrary: fc.string({unit: 'binary', maxLength: 8})},
  )
  const realRev = (rev: string) => rev.replace(/^commit:(\d):(\d+)/, (_, i, n) => commits[Number(i)].slice(0, Number(n)))

  it('revision strings: a commit that exists, or a lake error', async () => {
    await fc.assert(fc.asyncProperty(revision, async (raw) => {
      const rev = realRev(raw)
      attempt('parseRevision', () => parseRevision(rev))
      const r = await attemptAsync(`resolve ${JSON.stringify(rev)}`, () => resolve(repo, rev))
      tally.count('revisions', !r.ok)
      if (r.ok) {
        assert.ok(isHash(r.value), `resolved to ${r.value}`)
        await repo.data.getCommit(r.value)
      }
    }), opts(100, 2000))
  })

  it('sample specs REV:T[I:J]: samples, or a lake error', async () => {
    const spec = fc.tuple(fc.oneof({weight: 3, arbitrary: fc.constantFrom('HEAD', 'main', 'v1', 'side', '', 'HEAD~1')}, revision), fc.constantFrom(...TENSORS, 'nope', 'constructor', '__proto__', ''), number, fc.constantFrom('', ':'), number)
      .map(([rev, t, a, colon, b]) => `${realRev(rev)}:${t}[${a}${colon}${colon ? b : ''}]`)
    await fc.assert(fc.asyncProperty(fc.oneof({weight: 4, arbitrary: spec}, fc.string({maxLength: 20})), async (text) => {
      const parsed = attempt('parseSampleSpec', () => parseSampleSpec(text))
      let refused = !parsed.ok
      if (parsed.ok && parsed.value) {
        const r = await attemptAsync(`show ${text}`, () => readSamples(repo, parsed.value!))
        refused = !r.ok
      } else if (parsed.ok) {
        refused = !(await attemptAsync(`show ${text}`, () => showCommit(repo, text))).ok
      }
      tally.count('sample specs', refused)
    }), opts(60, 1500))
  })

  /** An edit: applied (then reset), or refused with nothing changed. */
  let known: DatasetState | undefined
  async function editCase(target: string, what: string, edit: () => Promise<unknown>): Promise<void> {
    const before = (known ??= await datasetState(dir))
    const r = await attemptAsync(what, edit)
    tally.count(target, !r.ok)
    if (r.ok) await resetStaged(repo)
    const after = await datasetState(dir)
    if (!r.ok) assert.deepEqual(after, before, `refused ${what} changed the dataset`)
    known = after
  }

  it('tensor specs (name, htype, dtype, compressions, class names): created, or refused with nothing changed', async () => {
    const word = (xs: string[]) => fc.oneof({weight: 3, arbitrary: fc.constantFrom(...xs)}, fc.string({maxLength: 8}))
    const spec = fc.record({
      name: fc.oneof({weight: 2, arbitrary: fc.constantFrom('fresh', 'fresh2', 'x.y-z', 'constructor')}, fc.constantFrom('fresh', 'id', 'constructor', '__proto__', 'toString', '_x', '1x', 'a b', 'a/b', '..', 'é', 'x'.repeat(129), 'ok.name-1', ''), fc.string({maxLength: 10})),
      htype: fc.constantFrom('text', 'generic', 'class_label').chain((h) => fc.oneof({weight: 3, arbitrary: fc.constant(h)}, word(['generic', 'class_label', 'text', 'json', 'image', 'bbox', 'embedding', 'binary']))),
      dtype: fc.option(word(['u8', 'i32', 'i64', 'f32', 'f64', 'bool', 'str', 'f16', 'u128'])),
      sampleCompression: fc.option(word(['none', 'png', 'jpeg', 'lz4'])),
      chunkCompression: fc.option(word(['none', 'lz4', 'zstd'])),
      classNames: fc.option(fc.array(fc.oneof(fc.constantFrom('cat', 'cat', '', ','), fc.string({maxLength: 4})), {maxLength: 4})),
    }, {requiredKeys: ['name', 'htype']})
    await fc.assert(fc.asyncProperty(spec, async (s) => {
      const {name, ...o} = s
      const clean = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null)) as {htype: string}
      await editCase('tensor specs', `tensor create ${JSON.stringify(s)}`, () => createTensor(repo, name, clean))
    }), opts(15, 800))
  })

  const jsonText = fc.oneof(
    fc.jsonValue({maxDepth: 3}).map((v) => JSON.stringify(v)),
    fc.constantFrom('1', '1.5', '-1', '"cat"', '"bird"', '[1,2,3]', '[[1,2,3]]', '[1,"x",3]', 'true', 'null', '{}', '"\\ud800"', '9007199254740993', '-9223372036854775809',
      '18446744073709551616', '[9007199254740993]', '"9223372036854775807"', '1e400', '"aGVsbG8="', '"not base64!"', '[]', '[[]]', '{"a":[1,{"b":2}]}', ''),
    fc.string({maxLength: 12}),
  )

  it('--value JSON into every tensor type (append, update): staged, or refused with nothing changed', async () => {
    const index = fc.oneof(fc.constantFrom(0, 1, 7, 8, -1, 2 ** 31, 2 ** 53, Number.NaN, 0.5), fc.nat({max: 10}))
    await fc.assert(fc.asyncProperty(fc.constantFrom(...TENSORS, 'nope'), jsonText, fc.boolean(), index, async (tensor, text, isUpdate, i) => {
      await editCase('--value', `${isUpdate ? 'update' : 'append'} -t ${tensor} --value ${text}`, async () => {
        const value = await valueForTensor(repo, tensor, parseJsonValue(text, '--value'), isUpdate ? i : 0)
        return isUpdate ? updateValue(repo, tensor, i, value) : appendValues(repo, tensor, [value])
      })
    }), opts(20, 1200))
  })

  it('any JS value into every tensor type (the library API): staged, or refused with nothing changed', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...TENSORS), hostileValue, async (tensor, value) => {
      await editCase('library values', `append -t ${tensor}`, () => appendValues(repo, tensor, [value]))
    }), opts(15, 800))
  })

  it('row ranges for delete: staged, or refused with nothing changed', async () => {
    const bound = fc.oneof(fc.integer({min: -2, max: 10}), fc.constantFrom(2 ** 53, Number.NaN, 1.5, Number.POSITIVE_INFINITY))
    await fc.assert(fc.asyncProperty(bound, bound, async (a, b) => {
      await editCase('delete ranges', `delete ${a}:${b}`, () => deleteRows(repo, a, b))
    }), opts(10, 300))
  })

  it('.lake/config.json files: the dataset opens and reads, or a lake error (never a crash)', async () => {
    const configFile = path.join(dir, '.lake', 'config.json')
    const original = fs.readFileSync(configFile, 'utf8')
    const good = JSON.parse(original) as Record<string, unknown>
    const field = fc.constantFrom('formatVersion', 'storage', 'values', 'remotes', 'objectsFrom', 'extra')
    const value = fc.oneof(hostileValue.filter((v) => typeof v !== 'bigint'), fc.constantFrom(
      'local', 's3://bucket/p', '/tmp/x', 'file:///nonexistent-lake', 'memory://m', 'relative', 'bogus://x', 0, 2, 1, {}, [], null,
      {'chunk.size': 'abc'}, {'chunk.size': '1'}, {'cache.size': '-5'}, {'user.name': 5}, {origin: 5}, {origin: 'relative/path'}, {origin: 's3://Bad_Bucket'}, 'origin'))
    const text = fc.oneof(
      {weight: 5, arbitrary: fc.array(fc.tuple(field, value, fc.boolean()), {minLength: 1, maxLength: 3}).map((edits) => {
        const cfg: Record<string, unknown> = structuredClone(good)
        for (const [k, v, remove] of edits) {
          if (remove) delete cfg[k]
          else cfg[k] = v
        }
        return JSON.stringify(cfg, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))
      })},
      fc.constantFrom('', '{', 'null', '[]', '"x"', '{"formatVersion": 1}', original.slice(0, 20)),
      fc.string({maxLength: 30}),
    )
    try {
      await fc.assert(fc.asyncProperty(text, async (t) => {
        fs.writeFileSync(configFile, t)
        const opened = await attemptAsync(`open with config ${t}`, () => Repo.open(dir))
        let refused = !opened.ok
        if (opened.ok) {
          try {
            const steps = [() => status(opened.value), () => log(opened.value, {all: true}), () => opened.value.author()]
            for (const step of steps) refused = !(await attemptAsync(`read with config ${t}`, step)).ok || refused
            refused = !(await attemptAsync(`append with config ${t}`, () => appendValues(opened.value, 'name', ['x']))).ok || refused
          } finally {
            await opened.value.close()
          }
        }
        tally.count('config files', refused)
        fs.writeFileSync(configFile, original)
        await resetStaged(repo)
      }), opts(15, 800))
    } finally {
      fs.writeFileSync(configFile, original)
    }
  })
})
