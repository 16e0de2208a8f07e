import {Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {appendValues} from '../core/ops/edit.js'
import {parseJsonValue, readValueFile, valueForTensor} from '../cli/values.js'

export default class Append extends LakeCommand {
  static summary = 'Append one sample to a tensor (staged).'
  static examples = ["<%= config.bin %> append --tensor labels --value 3", "<%= config.bin %> append --tensor captions --value '\"a cat\"'", '<%= config.bin %> append --tensor images --file cat.jpg']
  static flags = {
    tensor: Flags.string({char: 't', required: true, summary: 'tensor name'}),
    value: Flags.string({summary: 'the value as JSON', exactlyOne: ['value', 'file']}),
    file: Flags.string({summary: 'read the value from a file (bytes for image/binary tensors, JSON otherwise)', helpValue: 'FILE'}),
  }

  async run() {
    const {flags} = await this.parse(Append)
    const repo = await this.openRepo(flags.dir)
    const value = flags.file !== undefined ? await readValueFile(repo, flags.tensor, flags.file) : await valueForTensor(repo, flags.tensor, parseJsonValue(flags.value!, '--value'), 0)
    const result = await appendValues(repo, flags.tensor, [value])
    this.say(`appended 1 sample to '${flags.tensor}'`)
    return result
  }
}
