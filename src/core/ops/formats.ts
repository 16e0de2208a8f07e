// Small helpers shared by import and export.
import {detectImageFormat} from '../format/image-header.js'

export function imageExtension(bytes: Uint8Array): string {
  const f = detectImageFormat(bytes)
  return f === 'jpeg' ? 'jpg' : f ?? 'bin'
}
