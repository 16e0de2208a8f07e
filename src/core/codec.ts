// The one structured encoder of the project: msgpackr, with settings fixed here so that the same
// value always encodes to the same bytes (objects are named by the hash of their encoding).
import {Packr} from 'msgpackr'

const packr = new Packr({useRecords: false, variableMapSize: true, int64AsType: 'bigint', mapsAsObjects: true})

export function encode(value: unknown): Buffer {
  return packr.pack(value)
}

export function decode<T = unknown>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T
}
