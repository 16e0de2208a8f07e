import fs from 'node:fs/promises'
import {Args, Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {parseSampleSpec, showCommit, showSamples} from '../core/ops/show.js'
import {UsageError} from '../core/errors.js'

export default class Show extends LakeCommand {
  static summary = 'Show a commit, or sample values at any revision.'
  static examples = [
    '<%= config.bin %> show HEAD',
    "<%= config.bin %> show 'v1:labels[0]'",
    "<%= config.bin %> show 'main~2:captions[10:20]' --json",
    "<%= config.bin %> show 'HEAD:images[3]' --out cat.jpg",
  ]
  static args = {target: Args.string({required: true, description: 'REV, REV:TENSOR[I] or REV:TENSOR[I:J]'})}
  static flags = {out: Flags.string({char: 'o', summary: 'write the raw bytes of one sample to FILE', helpValue: 'FILE'})}

  async run() {
    const {args, flags} = await this.parse(Show)
    const repo = await this.openRepo(flags.dir)
    const spec = parseSampleSpec(args.target)
    if (!spec) {
      if (flags.out) throw new UsageError('--out needs one sample: REV:TENSOR[I]')
      const c = await showCommit(repo, args.target)
      this.say(`commit ${c.commit}\nAuthor: ${c.author}\nDate:   ${c.timestamp}\n\n    ${c.message}\n`)
      for (const t of c.tensors) this.say(`  ${t.name.padEnd(20)} ${t.htype.padEnd(12)} ${t.length}`)
      return c
    }
    const {json, read, meta} = await showSamples(repo, spec)
    const human = (v: unknown) => render(v, meta.classNames)
    if (flags.out) {
      if (read.raw.length !== 1) throw new UsageError('--out writes one sample: use REV:TENSOR[I]')
      await fs.writeFile(flags.out, read.raw[0])
      this.say(`wrote ${read.raw[0].byteLength} bytes to ${flags.out}`)
      return json
    }
    if ('value' in json) this.say(human(json.value))
    else json.values.forEach((v, i) => this.say(`[${json.start + i}] ${human(v)}`))
    return json
  }
}

function render(v: unknown, classNames?: string[]): string {
  if (typeof v === 'number' && classNames?.[v] !== undefined) return `${v} (${classNames[v]})`
  const s = typeof v === 'string' ? v : JSON.stringify(v)
  return s.length > 200 ? `${s.slice(0, 200)}… (${s.length} chars)` : s
}
