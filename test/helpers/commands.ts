// The command ids lake has, read from the source tree (src/commands/<topic>/<name>.ts → 'topic:name'),
// so tests over "every command" pick up a new command without being edited.
import fs from 'node:fs'
import path from 'node:path'
import {REPO_ROOT} from './cli.js'

export const COMMANDS_DIR = path.join(REPO_ROOT, 'src', 'commands')

export function commandIdsFromSource(): string[] {
  return (fs.readdirSync(COMMANDS_DIR, {recursive: true}) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3).split(path.sep).filter((part) => part !== 'index').join(':'))
    .sort()
}
