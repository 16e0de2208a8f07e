// Everything a refused command must leave as it was, read in-process (no CLI start-up per case):
// what `lake status --json` and `lake log --all --json` print, the event log's tip (no event
// appended), refs and settings. Serialized the way --json prints, so equal strings mean
// byte-identical output.
import {Repo} from '../../src/core/repo/repo.js'
import {status} from '../../src/core/ops/status.js'
import {log} from '../../src/core/ops/log.js'
import {listBranches, listTags} from '../../src/core/ops/refs.js'
import {readTip} from '../../src/core/events/log.js'

export interface DatasetState {
  status: string
  log: string
  rest: string
}

export async function datasetState(dir: string): Promise<DatasetState> {
  const repo = await Repo.open(dir)
  try {
    const show = (value: unknown) => JSON.stringify(value, null, 2)
    const [st, history, branches, tags, tip] = [await status(repo), await log(repo, {all: true}), await listBranches(repo), await listTags(repo), await repo.withDb(readTip)]
    return {status: show(st), log: show(history), rest: show({branches, tags, tip, config: repo.config})}
  } finally {
    await repo.close()
  }
}
