// Every command of the CLI by id: oclif's explicit command discovery (package.json oclif.commands)
// and the bundled entry (main.ts) find commands here, so one list is the truth.

import Add from '../commands/add.js'
import Append from '../commands/append.js'
import Branch from '../commands/branch.js'
import Checkout from '../commands/checkout.js'
import Clone from '../commands/clone.js'
import Commit from '../commands/commit.js'
import Config from '../commands/config.js'
import Delete from '../commands/delete.js'
import Diff from '../commands/diff.js'
import Export from '../commands/export.js'
import Fetch from '../commands/fetch.js'
import Fsck from '../commands/fsck.js'
import Gc from '../commands/gc.js'
import Init from '../commands/init.js'
import Log from '../commands/log.js'
import Merge from '../commands/merge.js'
import Pull from '../commands/pull.js'
import Push from '../commands/push.js'
import RemoteAdd from '../commands/remote/add.js'
import RemoteList from '../commands/remote/list.js'
import RemoteRemove from '../commands/remote/remove.js'
import Show from '../commands/show.js'
import Status from '../commands/status.js'
import Tag from '../commands/tag.js'
import TensorCreate from '../commands/tensor/create.js'
import TensorList from '../commands/tensor/list.js'
import Update from '../commands/update.js'

export const COMMANDS = {
  add: Add,
  append: Append,
  branch: Branch,
  checkout: Checkout,
  clone: Clone,
  commit: Commit,
  config: Config,
  delete: Delete,
  diff: Diff,
  export: Export,
  fetch: Fetch,
  fsck: Fsck,
  gc: Gc,
  init: Init,
  log: Log,
  merge: Merge,
  pull: Pull,
  push: Push,
  'remote:add': RemoteAdd,
  'remote:list': RemoteList,
  'remote:remove': RemoteRemove,
  show: Show,
  status: Status,
  tag: Tag,
  'tensor:create': TensorCreate,
  'tensor:list': TensorList,
  update: Update,
}

