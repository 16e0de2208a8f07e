import {Args} from '@oclif/core'
import {LakeCommand} from '../../cli/base.js'
import {remoteAdd} from '../../core/ops/remote.js'

export default class RemoteAdd extends LakeCommand {
  static summary = 'Name another location of this dataset (S3 or a path).'
  static examples = ['<%= config.bin %> remote add origin s3://my-bucket/datasets/cats', '<%= config.bin %> remote add backup /mnt/nas/cats']
  static args = {name: Args.string({required: true}), url: Args.string({required: true, description: 's3://bucket/prefix, file:///abs/path or /abs/path'})}

  async run() {
    const {args, flags} = await this.parse(RemoteAdd)
    const r = await remoteAdd(await this.openRepo(flags.dir), args.name, args.url)
    this.say(`added remote ${r.name} → ${r.url}`)
    return r
  }
}
