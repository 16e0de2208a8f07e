import {Args} from '@oclif/core'
import {LakeCommand} from '../../cli/base.js'
import {remoteRemove} from '../../core/ops/remote.js'

export default class RemoteRemove extends LakeCommand {
  static summary = 'Forget a remote (its data stays where it is).'
  static examples = ['<%= config.bin %> remote remove backup']
  static args = {name: Args.string({required: true})}

  async run() {
    const {args, flags} = await this.parse(RemoteRemove)
    const r = await remoteRemove(await this.openRepo(flags.dir), args.name)
    this.say(`removed remote ${r.name}`)
    return r
  }
}
