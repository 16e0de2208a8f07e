import {Args, Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {progressBar} from '../cli/progress.js'
import {exportVersion, type ExportFormat} from '../core/ops/export.js'

export default class Export extends LakeCommand {
  static summary = 'Materialize a version as files (byte-identical for data added with --format files).'
  static examples = [
    '<%= config.bin %> export --to out/',
    '<%= config.bin %> export v1 --to out-v1/',
    "<%= config.bin %> export 'main@{2026-11-20T10:00:00Z}' --to snapshot/ --format jsonl",
    '<%= config.bin %> export HEAD --to arrays/ --format npy --tensor embeddings',
  ]
  static args = {rev: Args.string({description: 'revision to export (default HEAD)'})}
  static flags = {
    to: Flags.string({required: true, summary: 'target directory (must be empty unless --force)', helpValue: 'DIR'}),
    format: Flags.string({options: ['files', 'imagefolder', 'csv', 'jsonl', 'npy'], summary: 'default: files if the dataset has path+content tensors, imagefolder for images+labels, else jsonl'}),
    tensor: Flags.string({char: 't', multiple: true, summary: 'export only these tensors (csv, jsonl, npy)'}),
    force: Flags.boolean({char: 'f', summary: 'write into a non-empty directory'}),
  }

  async run() {
    const {args, flags} = await this.parse(Export)
    const bar = progressBar(process.stderr.isTTY === true && !this.jsonEnabled())
    let started = false
    try {
      const result = await exportVersion(await this.openRepo(flags.dir), args.rev ?? 'HEAD', {
        to: flags.to,
        format: flags.format as ExportFormat | undefined,
        force: flags.force,
        tensors: flags.tensor,
        onProgress: (done, total) => {
          if (!started && total > 0) {
            bar.start(total, 'export')
            started = true
          }
          bar.update(done)
        },
      })
      bar.stop()
      this.say(`exported ${result.commit.slice(0, 12)} as ${result.format}: ${result.written} files/rows, ${result.bytes} bytes to ${flags.to}`)
      return {written: result.written, bytes: result.bytes, format: result.format, commit: result.commit}
    } finally {
      bar.stop()
    }
  }
}
