import {Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {deleteRows} from '../core/ops/edit.js'
import {UsageError} from '../core/errors.js'

export default class Delete extends LakeCommand {
  static summary = 'Delete rows: the samples at these indices in every tensor (staged); later samples move up.'
  static examples = ['<%= config.bin %> delete --index 7', '<%= config.bin %> delete --index 100:200']
  static flags = {index: Flags.string({char: 'i', required: true, summary: 'I or I:J (half-open)', helpValue: 'I[:J]'})}

  async run() {
    const {flags} = await this.parse(Delete)
    const m = /^(\d+)(?::(\d+))?$/.exec(flags.index)
    if (!m) throw new UsageError(`--index '${flags.index}' is not I or I:J`, {hint: 'e.g. --index 7 or --index 100:200'})
    const start = Number(m[1])
    const end = m[2] === undefined ? start + 1 : Number(m[2])
    const result = await deleteRows(await this.openRepo(flags.dir), start, end)
    this.say(`deleted ${result.deleted} row${result.deleted === 1 ? '' : 's'}`)
    return result
  }
}
