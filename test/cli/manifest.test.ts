// oclif.manifest.json is what `lake` reads at start-up instead of loading every command: a stale
// one shows wrong help, or misses a flag or a command. Regenerates it in memory exactly as
// `oclif manifest` does (from the compiled commands in dist/) and compares.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {Plugin} from '@oclif/core'
import {REPO_ROOT} from '../helpers/cli.js'
import {commandIdsFromSource} from '../helpers/commands.js'

type Manifest = {version: string; commands: Record<string, Record<string, unknown>>}

const STALE = "oclif.manifest.json is stale: run 'npm run build' and commit oclif.manifest.json"

describe('oclif.manifest.json is fresh', function () {
  this.timeout(300_000)
  let committed: Manifest
  let fresh: Manifest

  before(async () => {
    committed = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'oclif.manifest.json'), 'utf8'))
    const plugin = new Plugin({errorOnManifestCreate: true, ignoreManifest: true, respectNoCacheDefault: true, root: REPO_ROOT, type: 'core'})
    await plugin.load()
    fresh = JSON.parse(JSON.stringify(plugin.manifest)) as Manifest
  })

  it('lists exactly the commands in src/commands (and dist/ has them all)', () => {
    const ids = commandIdsFromSource()
    assert.deepEqual(Object.keys(committed.commands).sort(), ids, STALE)
    assert.deepEqual(Object.keys(fresh.commands).sort(), ids, "dist/commands differs from src/commands: run 'npm run build'")
  })

  it('src/cli/commands.ts registers every command (explicit discovery and the bundle read it)', async () => {
    const {COMMANDS} = await import('../../src/cli/commands.js')
    assert.deepEqual(Object.keys(COMMANDS).sort(), commandIdsFromSource(), 'add the new command to src/cli/commands.ts')
    assert.ok(fs.existsSync(path.join(REPO_ROOT, 'dist', 'lake.cjs')), "dist/lake.cjs (the bundled CLI bin/run.js starts) is missing: run 'npm run build'")
  })

  it('has the version of package.json', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'))
    assert.equal(committed.version, pkg.version, STALE)
  })

  it('equals a manifest generated now, command by command', () => {
    for (const id of Object.keys(fresh.commands)) {
      const was = committed.commands[id]
      assert.ok(was, `${STALE} (no entry for '${id}')`)
      const now = fresh.commands[id]
      const changed = [...new Set([...Object.keys(was), ...Object.keys(now)])].filter((k) => JSON.stringify(was[k]) !== JSON.stringify(now[k]))
      assert.deepEqual(changed, [], `${STALE} ('${id}' differs in ${changed.join(', ')})`)
    }
    assert.deepEqual(committed, fresh, STALE)
  })
})
