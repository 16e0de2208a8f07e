import {LakeCommand} from '../../cli/base.js'
import {listTensors} from '../../core/ops/edit.js'

export default class TensorList extends LakeCommand {
  static summary = 'List the tensors of the staged state (HEAD plus staged changes).'
  static examples = ['<%= config.bin %> tensor list', '<%= config.bin %> tensor list --json']

  async run() {
    const {flags} = await this.parse(TensorList)
    const result = await listTensors(await this.openRepo(flags.dir))
    if (result.tensors.length === 0) this.say('no tensors')
    for (const t of result.tensors) this.say(`${t.name.padEnd(20)} ${t.htype.padEnd(12)} ${t.dtype.padEnd(4)} ${t.length}`)
    return result
  }
}
