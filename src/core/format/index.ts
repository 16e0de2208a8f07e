// The tensor storage format: what other layers import. It knows tensors, samples and chunks,
// nothing of versions, indexes or storage.
export {
  createTensorMeta, withClassNames, classIndex, parseTensorMeta, validateTensorName, htypeDefaults,
  HTYPES, DEFAULT_MAX_CHUNK_BYTES, MAX_MAX_CHUNK_BYTES, MAX_RANK,
  type TensorMeta, type TensorMetaOptions, type Htype, type Dtype, type SampleCompression, type ChunkCompression,
} from './tensor-meta.js'
export {DTYPES, type TypedArray} from './dtype.js'
export {
  encodeSample, decodeSample, decodeSampleArray, isNumericHtype,
  type SampleValue, type SampleInput, type SampleWhere, type JsonValue, type NdArrayLike, type NestedArray, type Scalar,
} from './sample.js'
export {sampleToJson, valueFromJson} from './sample-json.js'
export {imageInfo, parseImageHeader, detectImageFormat, type ImageInfo, type ImageFormat} from './image-header.js'
export {decodeImage, type DecodedImage} from './image-decode.js'
export {
  ChunkBuilder, encodeChunk, parseChunkHeader, chunkPayload, sampleFromChunk, sampleFromPayload, rawSampleByteRange,
  CHUNK_HEADER_BYTES, CHUNK_FORMAT_VERSION, CHUNK_MAGIC, CHUNK_CODEC_RAW, CHUNK_CODEC_LZ4,
  type ChunkCodec, type SamplePosition,
} from './chunk.js'
export {inferCsvColumn, inferJsonKey, parseCell, type InferredSpec} from './infer.js'
