import {LakeCommand} from '../../cli/base.js'
import {remoteList} from '../../core/ops/remote.js'

export default class RemoteList extends LakeCommand {
  static summary = 'List remotes.'
  static examples = ['<%= config.bin %> remote list', '<%= config.bin %> remote list --json']

  async run() {
    const {flags} = await this.parse(RemoteList)
    const r = remoteList(await this.openRepo(flags.dir))
    for (const x of r.remotes) this.say(`${x.name}\t${x.url}`)
    return r
  }
}
