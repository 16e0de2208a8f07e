// Family 6, paths: files-mode export and import never touch anything outside their target,
// whatever the stored names ('../', absolute, Windows-style '..\x' and 'C:\x', NUL, names of only
// dots) or the symlinks already in the target or in the imported tree say. In-process, seeded:
//  - export of stored hostile paths: either every file lands at its place inside the target, or
//    the export is refused with a lake error and the target stays empty; nothing outside changes;
//  - export --force into a target holding symlinks (to outside dirs and files, inside, broken):
//    written without following or replacing any link, or refused with the target as it was;
//  - import (add --format files, with --prefix) of trees with hostile names and symlinks: stored
//    names are all safe to export again, no byte from outside the tree is stored, or the add is
//    refused with nothing changed.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import {Repo} from '../../../src/core/repo/repo.js'
import {appendValues, createTensor} from '../../../src/core/ops/edit.js'
import {commit} from '../../../src/core/ops/commit.js'
import {exportVersion} from '../../../src/core/ops/export.js'
import {add} from '../../../src/core/ops/add.js'
import {resetStaged} from '../../../src/core/ops/checkout.js'
import {checkRelPath} from '../../../src/core/io/paths.js'
import {datasetState, type DatasetState} from '../../helpers/state.js'
import {FULL, runs, seed} from '../knobs.js'
import {attempt, attemptAsync, Tally} from '../hostile/check.js'

const SEED = seed()
const tally = new Tally()
const SENTINEL = 'OUTSIDE-SENTINEL-'

interface Entry {
  kind: 'file' | 'dir' | 'link'
  content?: string
  target?: string
}

/** Everything under `dir`, symlinks as links (never followed). */
function snapshot(dir: string, skip: (rel: string) => boolean = () => false): Record<string, Entry> {
  const out: Record<string, Entry> = {}
  const visit = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name
      if (skip(r)) continue
      const abs = path.join(dir, r)
      const st = fs.lstatSync(abs)
      if (st.isSymbolicLink()) out[r] = {kind: 'link', target: fs.readlinkSync(abs)}
      else if (st.isDirectory()) {
        out[r] = {kind: 'dir'}
        visit(r)
      } else out[r] = {kind: 'file', content: fs.readFileSync(abs, 'latin1')}
    }
  }
  visit('')
  return out
}

const safe = (p: string) => attempt('checkRelPath', () => checkRelPath(p)).ok

describe('torture 6: paths', function () {
  this.timeout(FULL ? 0 : 60_000)
  let box: string
  /** Targets sit five levels down, so that up to four '..' still land inside the box. */
  let deep: string
  let outside: string
  let ds: string
  let repo: Repo
  const opts = (quick: number, full: number) => ({seed: SEED, numRuns: runs('PATHS', quick, full), endOnFailure: true})

  before(async () => {
    box = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'lake-paths-')))
    deep = path.join(box, 'a', 'b', 'c', 'd')
    outside = path.join(box, 'outside')
    fs.mkdirSync(deep, {recursive: true})
    fs.mkdirSync(path.join(outside, 'dir'), {recursive: true})
    fs.writeFileSync(path.join(outside, 'file'), SENTINEL + 'file')
    fs.writeFileSync(path.join(outside, 'dir', 'inner'), SENTINEL + 'inner')
    ds = path.join(os.tmpdir(), `lake-paths-ds-${process.pid}-${Date.now()}`)
    repo = await Repo.init(ds)
    await createTensor(repo, 'path', {htype: 'text'})
    await createTensor(repo, 'content', {htype: 'binary'})
  })
  after(async () => {
    await repo.close()
    fs.rmSync(box, {recursive: true, force: true})
    fs.rmSync(ds, {recursive: true, force: true})
    console.log(tally.report('paths', SEED))
  })

  const segment = fc.oneof(
    {weight: 4, arbitrary: fc.constantFrom('a', 'b', 'dir', 'file.txt', 'x.', 'x ', ' x', '-x', 'é', '.hidden', '.lake', '.git', 'outside', 'con', 'nul.txt')},
    {weight: 3, arbitrary: fc.constantFrom('..', '.', '', '...', '. .', '.. ', '..\\x', 'a\\..\\..\\x', 'C:', 'C:\\x', 'c:x', '\\\\srv\\share', 'a\u0000b', 'a\nb', '%2e%2e', '\u2025', 'x:stream')},
    {weight: 1, arbitrary: fc.string({maxLength: 4})},
  )
  const storedPath = fc.oneof(
    {weight: 4, arbitrary: fc.array(segment, {minLength: 1, maxLength: 5}).map((s) => s.join('/'))},
    {weight: 1, arbitrary: fc.array(segment, {minLength: 1, maxLength: 3}).map((s) => s.join('\\'))},
    {weight: 1, arbitrary: fc.constantFrom('/outside/file', 'OUTSIDE/file', 'OUTSIDE/dir/new', 'file:///x', '~/x', '//x')},
  ).map((p) => p.replace('OUTSIDE', outside))

  it('export of hostile stored paths: all inside the target, or refused with nothing written anywhere', async () => {
    let n = 0
    await fc.assert(fc.asyncProperty(fc.array(storedPath, {minLength: 1, maxLength: 4}), async (paths) => {
      const before = snapshot(box)
      await appendValues(repo, 'path', paths)
      await appendValues(repo, 'content', paths.map((p, i) => Buffer.from(`content ${i} of ${p}`)))
      await commit(repo, {message: `case ${n}`})
      const target = path.join(deep, `t${n++}`)
      const r = await attemptAsync(`export of ${JSON.stringify(paths)}`, () => exportVersion(repo, 'HEAD', {to: target, format: 'files'}))
      tally.count('export stored paths', !r.ok)
      // Outside the target: exactly as before.
      assert.deepEqual(snapshot(box, (rel) => rel === path.relative(box, target) || rel.startsWith(path.relative(box, target) + '/')), before, `export of ${JSON.stringify(paths)} wrote outside its target`)
      const all = await allStored()
      const unique = new Set(all.map(([p]) => p)).size === all.length
      if (r.ok) {
        assert.ok(unique, `a repeated path was exported (one file over the other): ${JSON.stringify(paths)}`)
        assert.ok(all.every(([p]) => safe(p)), `an unsafe path was exported: ${JSON.stringify(paths)}`)
        const written = snapshot(target)
        for (const [p, content] of all) assert.equal(written[p]?.content, content, `${p} exported`)
      } else {
        assert.ok(all.some(([p]) => !safe(p)) || !unique || r.error.code !== 'UNSAFE_PATH', `refused although every path is safe: ${r.error.message}`)
        assert.deepEqual(fs.existsSync(target) ? fs.readdirSync(target) : [], [], 'a refused export left files in the target')
      }
      // Each case starts from a dataset holding only its own rows.
      const rows = all.length
      await deleteAll(rows)
      fs.rmSync(target, {recursive: true, force: true})
    }), opts(12, 500))
  })

  /** [path, content] of every row at HEAD's staged state. */
  async function allStored(): Promise<[string, string][]> {
    const root = await repo.data.getRoot((await repo.withDb(async (db) => (await (await import('../../../src/core/version/source.js')).readStaged(db))!)).root)
    const out: [string, string][] = []
    const t = root.tensors
    const paths: string[] = []
    for await (const {bytes} of repo.data.readRange(t.path, 0, t.path.length)) paths.push(Buffer.from(bytes).toString('utf8'))
    let i = 0
    for await (const {bytes} of repo.data.readRange(t.content, 0, t.content.length)) out.push([paths[i++], Buffer.from(bytes).toString('latin1')])
    return out
  }

  async function deleteAll(rows: number): Promise<void> {
    const {deleteRows} = await import('../../../src/core/ops/edit.js')
    if (rows > 0) await deleteRows(repo, 0, rows)
    await commit(repo, {message: 'clear'})
  }

  it('export --force into a target holding symlinks: never follows or replaces a link; refused leaves it as it was', async () => {
    const linkTarget = fc.constantFrom(path.join(outside, 'dir'), path.join(outside, 'file'), path.join(outside, 'missing'), 'sub', 'f', '.', '..', '../../..')
    const preset = fc.dictionary(fc.constantFrom('sub', 'f', 'g', 'sub/f', 'deeper'), fc.oneof(
      {weight: 2, arbitrary: linkTarget.map((target) => ({kind: 'link' as const, target}))},
      fc.constant({kind: 'dir' as const}),
      fc.constant({kind: 'file' as const, content: 'preset'}),
    ), {minKeys: 1, maxKeys: 4})
    const stored = fc.uniqueArray(fc.constantFrom('sub/x', 'sub/f', 'f', 'g', 'deeper/a/b', 'sub', 'h'), {minLength: 1, maxLength: 4})
    let n = 0
    await fc.assert(fc.asyncProperty(preset, stored, async (entries, paths) => {
      const target = path.join(deep, `s${n++}`)
      fs.mkdirSync(target)
      for (const [rel, e] of Object.entries(entries).sort(([a], [b]) => a.length - b.length)) {
        const abs = path.join(target, rel)
        if (fs.existsSync(path.dirname(abs)) && fs.lstatSync(path.dirname(abs)).isDirectory() && !fs.existsSync(abs)) {
          if (e.kind === 'link') fs.symlinkSync(e.target!, abs)
          else if (e.kind === 'dir') fs.mkdirSync(abs)
          else fs.writeFileSync(abs, e.content!)
        }
      }
      const before = snapshot(box)
      await appendValues(repo, 'path', paths)
      await appendValues(repo, 'content', paths.map((p) => Buffer.from(`new ${p}`)))
      await commit(repo, {message: `symlink case ${n}`})
      const r = await attemptAsync(`export --force of ${JSON.stringify(paths)} over ${JSON.stringify(entries)}`, () => exportVersion(repo, 'HEAD', {to: target, format: 'files', force: true}))
      tally.count('export over symlinks', !r.ok)
      const after = snapshot(box)
      for (const [rel, e] of Object.entries(before)) {
        const inTarget = rel.startsWith(path.relative(box, target) + '/')
        if (!inTarget) assert.deepEqual(after[rel], e, `${rel} outside the target changed`)
        // A link in the target is never replaced or written through.
        else if (e.kind === 'link') assert.deepEqual(after[rel], e, `link ${rel} was replaced`)
      }
      for (const rel of Object.keys(after)) if (!rel.startsWith(path.relative(box, target) + '/') && rel !== path.relative(box, target)) assert.ok(before[rel], `${rel} appeared outside the target`)
      if (!r.ok) assert.deepEqual(after, before, 'a refused export changed something')
      await deleteAll(paths.length)
      fs.rmSync(target, {recursive: true, force: true})
    }), opts(10, 300))
  })

  it('import of trees with hostile names and symlinks (and --prefix): safe stored names, nothing from outside, or refused with nothing changed', async () => {
    const name = fc.oneof(
      {weight: 3, arbitrary: fc.constantFrom('a', 'b.txt', 'x.', 'x ', '...', '. .', '..\\x', 'C:\\x', 'a\\b', 'a\nb', '-x', '.hidden', 'é', '\u2025')},
      {weight: 1, arbitrary: fc.string({minLength: 1, maxLength: 5}).filter((s) => !s.includes('/') && !s.includes('\0') && s !== '.' && s !== '..')},
    )
    const node: fc.Arbitrary<[string, Entry][]> = fc.array(fc.tuple(name, fc.oneof(
      {weight: 3, arbitrary: fc.constant({kind: 'file' as const, content: 'inside'})},
      fc.constant({kind: 'dir' as const}),
      fc.constantFrom<Entry>(
        {kind: 'link', target: path.join(outside, 'file')}, {kind: 'link', target: path.join(outside, 'dir')}, {kind: 'link', target: '../../outside/file'},
        {kind: 'link', target: 'missing'}, {kind: 'link', target: '.'}, {kind: 'link', target: '..'}, {kind: 'link', target: 'a'}),
    )), {minLength: 1, maxLength: 5})
    const prefix = fc.option(fc.constantFrom('data', 'data/', '../x', '/abs', 'a\\b', '..', '.', 'a//b', 'x.', '...', 'C:'))
    let n = 0
    let known: DatasetState | undefined
    await fc.assert(fc.asyncProperty(node, node, prefix, fc.boolean(), async (top, nested, pfx, singleFile) => {
      const tree = path.join(deep, `in${n++}`)
      fs.mkdirSync(path.join(tree, 'sub'), {recursive: true})
      const place = (dir: string, entries: [string, Entry][]) => {
        for (const [nm, e] of entries) {
          const abs = path.join(dir, nm)
          if (fs.existsSync(abs) || fs.lstatSync(dir, {throwIfNoEntry: false}) === undefined) continue
          try {
            if (e.kind === 'link') fs.symlinkSync(e.target!, abs)
            else if (e.kind === 'dir') fs.mkdirSync(abs)
            else fs.writeFileSync(abs, `${e.content}:${nm}`)
          } catch {
            // a name the file system refuses is simply not part of this tree
          }
        }
      }
      place(tree, top)
      place(path.join(tree, 'sub'), nested)
      const input = singleFile ? (fs.readdirSync(tree).map((f) => path.join(tree, f)).find((f) => fs.lstatSync(f).isFile()) ?? tree) : tree
      const before = (known ??= await datasetState(ds))
      const r = await attemptAsync(`add ${input} --prefix ${pfx}`, () => add(repo, [input], {format: 'files', ...(pfx === null ? {} : {prefix: pfx})}))
      tally.count('import trees', !r.ok)
      if (r.ok) {
        const stored = await allStored()
        for (const [p, content] of stored) {
          assert.ok(safe(p), `import stored the unsafe path ${JSON.stringify(p)}`)
          assert.ok(!content.includes(SENTINEL), `import stored bytes from outside the tree (${p})`)
        }
        await resetStaged(repo)
        known = await datasetState(ds)
      } else {
        const after = await datasetState(ds)
        assert.deepEqual(after, before, 'a refused import changed the dataset')
      }
      fs.rmSync(tree, {recursive: true, force: true})
    }), opts(10, 500))
  })
})
