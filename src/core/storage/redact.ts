// Storage URLs appear in messages, config and `remote list`; credentials written into one
// (s3://KEY:SECRET@bucket) must appear in none of them.

/** `url` with any user:password@ part replaced by ***@. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^/?#]*@/, '$1***@')
}
