// Format-level readers and writers for `lake add` and `lake export`. They know files, not
// tensors: the operations above map rows and files onto a dataset's tensors.
export {readCsv, csvHeader, type CsvOptions, type CsvRow} from './csv.js'
export {readJsonl, type JsonlRow} from './jsonl.js'
export {readLines, type LinesOptions, type TextLine} from './lines.js'
export {readNpyRows, writeNpy, type NpyRow} from './npy.js'
export {readNpyHeader, decodeNpyHeader, encodeNpyHeader, npyDescr, type NpyHeader} from './npy-header.js'
export {
  ITEM_SIZE, NUMERIC_DTYPES, isNumericDtype, typedArrayOf,
  type NpyDtype, type NumericDtype, type TypedArray,
} from './dtype.js'
export {walkFiles, writeFileUnder, ensureEmptyTarget, SKIPPED_NAMES, type WalkedFile} from './files.js'
export {safeJoin, checkRelPath} from './paths.js'
export {writeAtomic, type ByteSource} from './atomic.js'
export {walkImageFolder, imageFolderClasses, isImageName, IMAGE_EXTENSIONS, type ImageFile} from './imagefolder.js'
export {detectFormat, isImageFolderLayout, INPUT_FORMATS, type InputFormat} from './detect.js'
