import {Args, Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {transferBar} from '../cli/progress.js'
import {clone} from '../core/ops/clone.js'

export default class Clone extends LakeCommand {
  static summary = 'Copy a dataset from a remote (lazy: sample data is read on demand; --full copies everything).'
  static examples = ['<%= config.bin %> clone s3://my-bucket/datasets/cats', '<%= config.bin %> clone /mnt/nas/cats cats-local --full']
  static args = {url: Args.string({required: true, description: 's3://bucket/prefix, file:///abs/path or /abs/path'}), dir: Args.string({description: 'directory (default: the last part of URL)'})}
  static flags = {full: Flags.boolean({summary: 'copy every object now'})}

  async run() {
    const {args, flags} = await this.parse(Clone)
    const bar = transferBar(this.jsonEnabled(), 'clone')
    try {
      const dir = args.dir && flags.dir ? `${flags.dir}/${args.dir}` : (args.dir ?? flags.dir)
      const r = await clone(args.url, dir, {full: flags.full, onProgress: bar.update})
      bar.stop()
      this.say(`Cloned ${args.url} into ${r.path}${r.branch ? ` (branch ${r.branch} at ${r.head!.slice(0, 12)})` : ' (empty)'}${r.lazy ? '; sample data is read on demand' : ''}`)
      return r
    } finally {
      bar.stop()
    }
  }
}
