// .lake/config.json is read synchronously on every open (repo/config.ts); what it refuses, and how,
// must not change: unreadable, not JSON, malformed, or from a newer lake.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Dataset} from '../../src/index.js'

describe('reading .lake/config.json on open', () => {
  let dir: string
  let config: string
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-config-'))
    await (await Dataset.init(dir)).close()
    config = path.join(dir, '.lake', 'config.json')
  })
  after(() => fs.rmSync(dir, {recursive: true, force: true}))

  it('opens with a valid config and refuses damaged ones with BAD_CONFIG or FORMAT_VERSION', async () => {
    const good = fs.readFileSync(config, 'utf8')
    await (await Dataset.open(dir)).close()
    const cases: [string, string][] = [
      ['{"formatVersion": 1, "storage": ', 'BAD_CONFIG'],
      ['{"storage": "local", "values": {}}', 'BAD_CONFIG'],
      [JSON.stringify({...JSON.parse(good), formatVersion: 99}), 'FORMAT_VERSION'],
    ]
    try {
      for (const [text, code] of cases) {
        fs.writeFileSync(config, text)
        await assert.rejects(Dataset.open(dir), (e: {code?: string}) => e.code === code, text)
      }
      fs.rmSync(config)
      fs.mkdirSync(config) // there, but not a readable file
      await assert.rejects(Dataset.open(dir), (e: {code?: string}) => e.code === 'BAD_CONFIG')
      fs.rmdirSync(config)
    } finally {
      fs.writeFileSync(config, good)
    }
  })
})
