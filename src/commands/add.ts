import {Args, Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {progressBar} from '../cli/progress.js'
import {add, type AddFormat} from '../core/ops/add.js'

export default class Add extends LakeCommand {
  static summary = 'Stage data from files: a directory, an image folder, CSV, JSONL or NPY.'
  static description = `files: a directory mirrored by path (tensors path, content); re-adding it updates changed files, appends new ones and deletes removed ones.
imagefolder: DIR/<class>/<image> into images, labels (class names kept) and path.
csv / jsonl: one tensor per column or key, appended row by row; with --key COL, rows whose key exists update that sample.
npy: one tensor, the first axis is the sample axis.`
  static examples = [
    '<%= config.bin %> add photos/ --format imagefolder',
    '<%= config.bin %> add raw/ --format files',
    '<%= config.bin %> add meta.csv',
    '<%= config.bin %> add fixes.csv --key id',
    '<%= config.bin %> add embeddings.npy --tensor emb',
  ]
  static strict = false
  static args = {path: Args.string({required: true, description: 'files or directories to add'})}
  static flags = {
    format: Flags.string({options: ['auto', 'files', 'imagefolder', 'csv', 'jsonl', 'npy'], default: 'auto', summary: 'input format (auto: by extension and layout)'}),
    tensor: Flags.string({char: 't', summary: 'npy: the tensor to fill (default: the file name)'}),
    key: Flags.string({summary: 'csv/jsonl: upsert rows by this column', helpValue: 'COL'}),
    prefix: Flags.string({summary: 'files: store paths under this prefix (re-adding syncs only under it)', helpValue: 'DIR'}),
  }

  async run() {
    const {argv, flags} = await this.parse(Add)
    const bar = progressBar(process.stderr.isTTY === true && !this.jsonEnabled())
    let started = false
    try {
      const result = await add(await this.openRepo(flags.dir), argv as string[], {
        format: flags.format as AddFormat,
        tensor: flags.tensor,
        key: flags.key,
        prefix: flags.prefix,
        onProgress: (rows) => {
          if (!started) {
            bar.start(0, 'add (rows)')
            started = true
          }
          bar.update(rows)
        },
      })
      bar.stop()
      this.say(`staged: +${result.added} ~${result.updated} -${result.deleted} rows (tensors: ${result.tensors.join(', ') || 'none'})`)
      return result
    } finally {
      bar.stop()
    }
  }
}
