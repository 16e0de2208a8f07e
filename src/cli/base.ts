// The one place that maps errors to exit codes and `error:` / `hint:` lines, and the flags every
// command shares (-C DIR, --json). Commands stay thin: parse, call one core op, render.
import {Command, Flags} from '@oclif/core'
import {LakeError} from '../core/errors.js'
import {Repo} from '../core/repo/repo.js'

export abstract class LakeCommand extends Command {
  static enableJsonFlag = true
  static baseFlags = {
    dir: Flags.string({char: 'C', summary: 'Run as if lake was started in DIR (default: $LAKE_DIR or the current directory).', helpValue: 'DIR'}),
  }

  private repoPromise?: Promise<Repo>

  /** Opens the dataset found from -C / LAKE_DIR / the working directory. */
  protected openRepo(dir: string | undefined): Promise<Repo> {
    this.repoPromise ??= Repo.open(dir)
    return this.repoPromise
  }

  /**
   * --json output. oclif's logJson tokenizes the text to colour it (ten regexes and an environment
   * lookup a token): ~140 ms for the 20k values of `lake show v1:label[0:20000]`. Without a theme
   * it colours nothing, and the text is JSON.stringify's: written directly.
   */
  override logJson(json: unknown): void {
    if (this.config.theme?.json !== undefined) return super.logJson(json)
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }

  /**
   * A positional argument never comes from stdin. oclif reads a missing one from a piped stdin (for
   * up to 10 ms, or until it closes): `printf x | lake log` took x as the revision, and a `lake`
   * call inside a shell `while read` loop ate the loop's input. git takes its arguments from argv only.
   */
  protected override async init(): Promise<void> {
    for (const arg of Object.values(this.ctor.args ?? {})) arg.ignoreStdin = true
    await super.init()
  }

  /** Human output: only when --json is off. */
  protected say(text: string): void {
    if (!this.jsonEnabled()) this.log(text)
  }

  protected async finally(err: Error | undefined): Promise<void> {
    if (this.repoPromise) await (await this.repoPromise.catch(() => undefined))?.close()
    await super.finally(err)
  }

  protected toErrorJson(err: unknown): unknown {
    const e = err as LakeError & {oclif?: {exit?: number}}
    // A refused merge (merge, pull) reports its conflicts as CLI.md shapes them.
    const conflicts = e instanceof LakeError && e.code === 'MERGE_CONFLICT' ? {conflicts: e.data?.conflicts ?? []} : {}
    return {...conflicts, error: {code: e.code ?? (e.oclif?.exit === 2 ? 'USAGE' : 'INTERNAL'), message: plain(e.message), ...(e.hint ? {hint: e.hint} : {})}}
  }

  protected async catch(err: Error & {oclif?: {exit?: number}; exitCode?: number}): Promise<void> {
    let exit = 1
    let hint: string | undefined
    if (err instanceof LakeError) {
      exit = err.exit
      hint = err.hint
    } else if (err.oclif?.exit !== undefined) {
      // oclif's parser errors (unknown flag, missing argument) are usage errors.
      exit = err.oclif.exit === 0 ? 0 : 2
      if (exit === 0) return
      hint = `see 'lake ${this.id?.replace(/:/g, ' ') ?? ''} --help'`
    } else if (process.env.LAKE_DEBUG) {
      this.logToStderr(err.stack ?? String(err))
    }
    process.exitCode = exit
    const json = this.jsonEnabled() ? this.toErrorJson(err) : undefined
    if (json !== undefined) this.logJson(json)
    // Straight to stderr: oclif's logToStderr is silent under --json, and CLI.md wants the
    // error and hint lines there with --json too.
    process.stderr.write(`error: ${plain(err.message)}\n`)
    if (hint) process.stderr.write(`hint: ${hint}\n`)
  }
}

// oclif decorates some parser messages with colors and multiple lines; keep one plain line.
function plain(message: string): string {
  // eslint-disable-next-line no-control-regex
  return message.replace(/\u001b\[[0-9;]*m/g, '').split('\n').filter((l) => l.trim() !== '' && !/^See more help/.test(l.trim())).join('; ')
}
