#!/usr/bin/env node
// The 60-second tour (README step 1): builds a small image dataset with labels and captions in a
// temp dir, commits twice, branches, travels back by tag and by @{date}, exports the past version.
// Prints every `lake` command and its output as it goes.
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import sharp from 'sharp'

const LAKE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'run.js')
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-quickstart-'))
const CLASSES = {cat: '#e07a5f', dog: '#3d405b', bird: '#81b29a'}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function lake(...args) {
  console.log(`\n$ lake ${args.map((a) => (/[\s'"{}@*]/.test(a) ? `'${a}'` : a)).join(' ')}`)
  const r = spawnSync(process.execPath, [LAKE, ...args], {cwd: work, encoding: 'utf8', env: {...process.env, LAKE_AUTHOR_NAME: 'Quick Start', LAKE_AUTHOR_EMAIL: 'quickstart@example.com'}})
  const out = (r.stdout + r.stderr).trimEnd()
  if (out) console.log(out.split('\n').map((l) => `  ${l}`).join('\n'))
  if (r.status !== 0) {
    console.error(`quickstart: 'lake ${args.join(' ')}' exited ${r.status}`)
    process.exit(1)
  }
  return r.stdout
}

async function makeImages(dir, perClass, offset) {
  const captions = []
  for (const [cls, color] of Object.entries(CLASSES)) {
    fs.mkdirSync(path.join(dir, cls), {recursive: true})
    for (let i = 0; i < perClass; i++) {
      const n = offset + i
      const png = await sharp({create: {width: 32, height: 32, channels: 3, background: color}})
        .composite([{input: Buffer.from(`<svg width="32" height="32"><rect x="${n % 24}" y="${(n * 7) % 24}" width="8" height="8" fill="white"/></svg>`), top: 0, left: 0}])
        .png()
        .toBuffer()
      const name = `${cls}_${String(n).padStart(4, '0')}.png`
      fs.writeFileSync(path.join(dir, cls, name), png)
      captions.push({path: `${cls}/${name}`, caption: `a ${['small', 'large', 'sleepy', 'curious'][n % 4]} ${cls} number ${n}`})
    }
  }
  // imagefolder imports in path order; captions.csv follows the same order so rows line up.
  captions.sort((a, b) => (a.path < b.path ? -1 : 1))
  return captions
}

console.log(`lake quick start in ${work}`)
const v1 = await makeImages(path.join(work, 'photos'), 100, 0)
fs.writeFileSync(path.join(work, 'captions.csv'), 'caption\n' + v1.map((c) => c.caption).join('\n') + '\n')

lake('init')
lake('add', 'photos', '--format', 'imagefolder')
lake('add', 'captions.csv')
lake('status')
lake('commit', '-m', 'v1: 300 images of cats, dogs and birds with captions')
lake('tag', 'v1')
await sleep(1100)
const between = new Date().toISOString()
await sleep(1100)

const more = await makeImages(path.join(work, 'more'), 20, 100)
fs.writeFileSync(path.join(work, 'more-captions.csv'), 'caption\n' + more.map((c) => c.caption).join('\n') + '\n')
lake('add', 'more', '--format', 'imagefolder')
lake('add', 'more-captions.csv')
lake('update', '--tensor', 'labels', '--index', '0', '--value', '"dog"')
lake('commit', '-m', 'v2: 60 more images, one label fixed')
lake('branch', 'experiment')
lake('log', '--oneline')
lake('show', 'v1')
lake('show', 'v1:labels[0:3]')
lake('show', 'HEAD:labels[0:3]')
lake('show', `main@{${between}}:caption[0]`)
lake('checkout', 'v1')
lake('status')
lake('checkout', 'main')
lake('export', 'v1', '--to', 'export-v1')
lake('fsck')
const exported = fs.readdirSync(path.join(work, 'export-v1'), {recursive: true}).filter((f) => f.endsWith('.png')).length
console.log(`\nexport-v1 holds ${exported} images (v1 had 300); the dataset stays in ${work}`)
if (exported !== 300) process.exit(1)
