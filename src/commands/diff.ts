import {Args, Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {diff} from '../core/ops/diff.js'
import {UsageError} from '../core/errors.js'

export default class Diff extends LakeCommand {
  static summary = 'Show what changed between versions, per tensor, by sample identity.'
  static description = `No revision: HEAD vs the staged changes. One: REV vs the staged changes. Two: A vs B.
added ranges and updated indices count in B, deleted indices in A; ranges are half-open.`
  static examples = [
    '<%= config.bin %> diff',
    '<%= config.bin %> diff v1 v2 --stat',
    '<%= config.bin %> diff v1 main --json',
    '<%= config.bin %> diff v1 v2 --tensor labels --values',
  ]
  static args = {a: Args.string({description: 'from this revision (default HEAD)'}), b: Args.string({description: 'to this revision (default: the staged changes)'})}
  static flags = {
    stat: Flags.boolean({summary: 'counts only'}),
    tensor: Flags.string({char: 't', summary: 'only this tensor'}),
    values: Flags.boolean({summary: 'show the changed sample values (needs --tensor)'}),
    limit: Flags.integer({min: 1, default: 20, summary: 'with --values: at most N values per kind'}),
  }

  async run() {
    const {args, flags} = await this.parse(Diff)
    if (flags.values && !flags.tensor) throw new UsageError('--values needs --tensor', {hint: 'e.g. lake diff v1 v2 --tensor labels --values'})
    const result = await diff(await this.openRepo(flags.dir), args.a, args.b, {tensor: flags.tensor, values: flags.values, limit: flags.limit})
    this.say(`diff ${result.from?.slice(0, 12) ?? '(empty)'}..${result.to === 'STAGED' ? 'staged' : result.to.slice(0, 12)}`)
    if (result.tensors.length === 0) this.say('no changes')
    for (const t of result.tensors) {
      const added = t.added.reduce((n, [s, e]) => n + e - s, 0)
      const what = t.status === 'added' ? ' (new tensor)' : t.status === 'removed' ? ' (removed)' : t.metaChanged ? ' (meta changed)' : ''
      this.say(`  ${t.name.padEnd(20)} +${added} ~${t.updated.length} -${t.deleted.length}${what}`)
      if (flags.stat) continue
      if (t.added.length) this.say(`    added    ${t.added.slice(0, 8).map(([s, e]) => (e - s === 1 ? `${s}` : `${s}:${e}`)).join(', ')}${t.added.length > 8 ? ', …' : ''}`)
      if (t.updated.length) this.say(`    updated  ${t.updated.slice(0, 12).join(', ')}${t.updated.length > 12 ? ', …' : ''}`)
      if (t.deleted.length) this.say(`    deleted  ${t.deleted.slice(0, 12).join(', ')}${t.deleted.length > 12 ? ', …' : ''}`)
      if (t.values) {
        const show = (v: unknown) => {
          const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v)
          return s.length > 80 ? `${s.slice(0, 80)}…` : s
        }
        for (const v of t.values.added) this.say(`    + [${v.index}] ${show(v.value)}`)
        for (const v of t.values.updated) this.say(`    ~ [${v.index}] ${show(v.old)} → ${show(v.new)}`)
        for (const v of t.values.deleted) this.say(`    - [${v.index}] ${show(v.value)}`)
        if (t.values.truncated) this.say(`    … (more than ${flags.limit} of a kind; raise --limit)`)
      }
    }
    return result
  }
}
