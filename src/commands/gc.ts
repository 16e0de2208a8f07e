import {Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {gc, parseGrace} from '../core/ops/gc.js'

export default class Gc extends LakeCommand {
  static summary = 'Delete objects that no branch, tag, reflog entry or staged state reaches.'
  static description = 'Objects younger than the grace period (default 1h) are kept, so a concurrent add in another process never loses its new objects.'
  static examples = ['<%= config.bin %> gc --dry-run', '<%= config.bin %> gc', '<%= config.bin %> gc --prune=now']
  static flags = {
    'dry-run': Flags.boolean({char: 'n', summary: 'only report what would be deleted'}),
    prune: Flags.string({default: '1h', summary: "grace period: keep unreachable objects younger than this ('now', 30m, 1h, 2d)"}),
  }

  async run() {
    const {flags} = await this.parse(Gc)
    const r = await gc(await this.openRepo(flags.dir), {dryRun: flags['dry-run'], graceMs: parseGrace(flags.prune)})
    const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`
    if (r.deferredBy) this.say(`other commands are writing (${r.deferredBy.join(', ')}): nothing deleted; run gc again when they are done`)
    this.say(`${r.dryRun ? 'would delete' : 'deleted'} ${r.deleted} objects, ${mb(r.freedBytes)}`)
    for (const [kind, k] of Object.entries(r.byKind)) this.say(`  ${kind.padEnd(12)} ${String(k.objects).padStart(8)} objects ${mb(k.bytes).padStart(12)}`)
    if (r.keptYoung.objects) this.say(`kept ${r.keptYoung.objects} unreachable objects younger than ${flags.prune} (${mb(r.keptYoung.bytes)})`)
    return r
  }
}
