import {Args, Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {CONFIG_KEYS} from '../core/repo/config.js'
import {ConfigError, UsageError} from '../core/errors.js'

export default class Config extends LakeCommand {
  static summary = 'Get or set dataset settings (user.name, user.email, chunk.size).'
  static examples = ["<%= config.bin %> config user.name 'Ada Lovelace'", '<%= config.bin %> config user.name', '<%= config.bin %> config --list', '<%= config.bin %> config --unset chunk.size']
  static args = {key: Args.string({description: 'setting name'}), value: Args.string({description: 'new value'})}
  static flags = {list: Flags.boolean({char: 'l', summary: 'list all settings'}), unset: Flags.boolean({summary: 'remove the setting'})}

  async run() {
    const {args, flags} = await this.parse(Config)
    const repo = await this.openRepo(flags.dir)
    if (flags.list || !args.key) {
      for (const [k, v] of Object.entries(repo.config.values)) this.say(`${k}=${v}`)
      return {values: repo.config.values}
    }
    const spec = CONFIG_KEYS[args.key]
    if (!spec) throw new UsageError(`unknown setting '${args.key}'`, {hint: `settings: ${Object.keys(CONFIG_KEYS).join(', ')}`})
    if (flags.unset) {
      await repo.setConfig(args.key, null)
      return {key: args.key, value: null}
    }
    if (args.value === undefined) {
      const value = repo.config.values[args.key] ?? null
      if (value === null) throw new ConfigError(`'${args.key}' is not set`)
      this.say(value)
      return {key: args.key, value}
    }
    const bad = spec.check?.(args.value)
    if (bad) throw new UsageError(`bad value for ${args.key}: ${bad}`)
    await repo.setConfig(args.key, args.value)
    return {key: args.key, value: args.value}
  }
}
