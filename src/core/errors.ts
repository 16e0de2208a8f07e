// Every error a user can meet: a class with a stable `code` (tests and --json assert on it),
// a message naming the thing that was wrong, an optional hint, and the CLI exit code it maps to.

export class LakeError extends Error {
  readonly code: string
  readonly hint?: string
  /** 1 = refused/failed for a reason the user can fix; 2 = usage error. */
  readonly exit: 1 | 2
  readonly data?: Record<string, unknown>

  constructor(code: string, message: string, opts: {hint?: string; exit?: 1 | 2; data?: Record<string, unknown>} = {}) {
    super(message)
    this.name = new.target.name
    this.code = code
    this.hint = opts.hint
    this.exit = opts.exit ?? 1
    this.data = opts.data
  }
}

const define = (code: string, exit: 1 | 2 = 1) =>
  class extends LakeError {
    static readonly code = code
    constructor(message: string, opts: {hint?: string; data?: Record<string, unknown>} = {}) {
      super(code, message, {...opts, exit})
    }
  }

// storage
export class ObjectNotFoundError extends define('OBJECT_NOT_FOUND') {}
export class CorruptObjectError extends define('CORRUPT_OBJECT') {}
export class StorageError extends define('STORAGE_ERROR') {}
export class PreconditionFailedError extends define('PRECONDITION_FAILED') {}
// repository
export class NotADatasetError extends define('NOT_A_DATASET') {}
export class DatasetExistsError extends define('DATASET_EXISTS') {}
export class LockTimeoutError extends define('LOCK_TIMEOUT') {}
export class FormatVersionError extends define('FORMAT_VERSION') {}
export class ConfigError extends define('BAD_CONFIG') {}
// data and format
export class UnknownTensorError extends define('UNKNOWN_TENSOR') {}
export class TensorExistsError extends define('TENSOR_EXISTS') {}
export class InvalidValueError extends define('INVALID_VALUE') {}
export class IndexOutOfRangeError extends define('INDEX_OUT_OF_RANGE') {}
export class InvalidTensorSpecError extends define('INVALID_TENSOR_SPEC') {}
// import / export
export class BadInputFileError extends define('BAD_INPUT_FILE') {}
export class FileNotFoundError extends define('FILE_NOT_FOUND') {}
export class UnsafePathError extends define('UNSAFE_PATH') {}
export class TargetNotEmptyError extends define('TARGET_NOT_EMPTY') {}
// versions
export class UnknownRevisionError extends define('UNKNOWN_REVISION') {}
export class AmbiguousRevisionError extends define('AMBIGUOUS_REVISION') {}
export class BadRevisionError extends define('BAD_REVISION') {}
export class DetachedHeadError extends define('DETACHED_HEAD') {}
export class NothingToCommitError extends define('NOTHING_TO_COMMIT') {}
export class DirtyStateError extends define('DIRTY_STATE') {}
export class RefExistsError extends define('REF_EXISTS') {}
export class UnknownRefError extends define('UNKNOWN_REF') {}
export class ConcurrentChangeError extends define('CONCURRENT_CHANGE') {}
export class MergeConflictError extends define('MERGE_CONFLICT') {}
export class UnrelatedHistoriesError extends define('UNRELATED_HISTORIES') {}
export class SelfMergeError extends define('SELF_MERGE') {}
// remotes
export class UnknownRemoteError extends define('UNKNOWN_REMOTE') {}
export class RemoteExistsError extends define('REMOTE_EXISTS') {}
export class RemoteMovedError extends define('REMOTE_MOVED') {}
export class NotARemoteDatasetError extends define('NOT_A_REMOTE_DATASET') {}
// usage
export class UsageError extends define('USAGE', 2) {}
