import {Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {updateValue} from '../core/ops/edit.js'
import {parseJsonValue, readValueFile, valueForTensor} from '../cli/values.js'

export default class Update extends LakeCommand {
  static summary = 'Replace one sample of a tensor (staged).'
  static examples = ['<%= config.bin %> update --tensor labels --index 12 --value 4', '<%= config.bin %> update --tensor images --index 0 --file fixed.png']
  static flags = {
    tensor: Flags.string({char: 't', required: true, summary: 'tensor name'}),
    index: Flags.integer({char: 'i', required: true, min: 0, summary: 'sample index'}),
    value: Flags.string({summary: 'the new value as JSON', exactlyOne: ['value', 'file']}),
    file: Flags.string({summary: 'read the value from a file', helpValue: 'FILE'}),
  }

  async run() {
    const {flags} = await this.parse(Update)
    const repo = await this.openRepo(flags.dir)
    const value = flags.file !== undefined ? await readValueFile(repo, flags.tensor, flags.file) : await valueForTensor(repo, flags.tensor, parseJsonValue(flags.value!, '--value'), flags.index)
    const result = await updateValue(repo, flags.tensor, flags.index, value)
    this.say(`updated '${flags.tensor}'[${flags.index}]`)
    return result
  }
}
