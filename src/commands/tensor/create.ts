import {Args, Flags} from '@oclif/core'
import {LakeCommand} from '../../cli/base.js'
import {createTensor} from '../../core/ops/edit.js'
import {HTYPES} from '../../core/format/tensor-meta.js'

export default class TensorCreate extends LakeCommand {
  static summary = 'Create a tensor (staged until the next commit).'
  static examples = [
    '<%= config.bin %> tensor create images --htype image --sample-compression jpeg',
    '<%= config.bin %> tensor create labels --htype class_label --class-names cat,dog',
    '<%= config.bin %> tensor create emb --htype embedding --dtype f32',
  ]
  static args = {name: Args.string({required: true, description: 'tensor name'})}
  static flags = {
    htype: Flags.string({required: true, options: [...HTYPES], summary: 'what the tensor holds'}),
    dtype: Flags.string({summary: 'element type: u8..u64, i8..i64, f32, f64, bool, str'}),
    'sample-compression': Flags.string({summary: 'images: jpeg, png or none (any)'}),
    'chunk-compression': Flags.string({summary: 'lz4 or none'}),
    'class-names': Flags.string({summary: 'class_label: comma-separated class names'}),
  }

  async run() {
    const {args, flags} = await this.parse(TensorCreate)
    const repo = await this.openRepo(flags.dir)
    const result = await createTensor(repo, args.name, {
      htype: flags.htype,
      dtype: flags.dtype,
      sampleCompression: flags['sample-compression'],
      chunkCompression: flags['chunk-compression'],
      classNames: flags['class-names']?.split(',').map((s) => s.trim()).filter(Boolean),
    })
    this.say(`created tensor '${args.name}' (${result.tensor.htype}, ${result.tensor.dtype})`)
    return result
  }
}
