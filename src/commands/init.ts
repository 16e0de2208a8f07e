import {Args, Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {Repo} from '../core/repo/repo.js'
import {startDir} from '../core/repo/locate.js'

export default class Init extends LakeCommand {
  static summary = 'Create a dataset.'
  static description = 'Creates .lake/ in DIR (default: the current directory). Objects live inside .lake/ unless --storage names another store.'
  static examples = ['<%= config.bin %> init', '<%= config.bin %> init data/cats', '<%= config.bin %> init --storage file:///mnt/lake-objects']
  static args = {dir: Args.string({description: 'directory to create the dataset in'})}
  static flags = {storage: Flags.string({summary: 'where objects live: file:///abs/path, s3://bucket/prefix, memory://name', helpValue: 'URL'})}

  async run() {
    const {args, flags} = await this.parse(Init)
    const dir = args.dir ? startDir(flags.dir ? `${flags.dir}/${args.dir}` : args.dir) : startDir(flags.dir)
    const repo = await Repo.init(dir, {storage: flags.storage})
    await repo.close()
    const result = {path: repo.root, storage: repo.storageUrl, branch: 'main'}
    this.say(`Initialized empty lake dataset in ${repo.root}/.lake (branch main)`)
    return result
  }
}
