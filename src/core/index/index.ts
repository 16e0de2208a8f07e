// The per-version, per-tensor sample index: position -> (sample id, chunk, offset, length, crc),
// stored as a content-addressed prolly tree whose shape depends only on the sequence of ids.
export type {IndexEntry, NodeIO, NodeRef, TreeParams} from './types.js'
export {DEFAULT_TREE_PARAMS} from './types.js'
export {INDEX_NODE_VERSION, type IndexNode, type LeafNode, type InnerNode} from './node.js'
export {decodeNode} from './decode.js'
export {cachedNodeIO, type NodeCacheOptions} from './cache.js'
export {TreeBuilder, buildIndex, type IndexRoot} from './builder.js'
export {findPositionsById, getEntries, getEntry, indexLength, readEntries, readEntryBatches, readLeafSliceBatches, readLeafSlices, type LeafSlice} from './reader.js'
export {editIndex, type IndexEdits} from './editor.js'
export {diffIndexes, type IndexDiff} from './diff.js'
