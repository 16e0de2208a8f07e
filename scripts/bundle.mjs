#!/usr/bin/env node
// Bundles the CLI (src/cli/main.ts as compiled to dist/, oclif, and the pure-JS dependencies) into
// dist/lake.mjs, which bin/run.js starts: one file to compile instead of a few hundred modules to
// resolve. Native addons and the heavy modules lake loads only on demand (the AWS SDK, sharp,
// isomorphic-git, lz4-napi) stay outside and load from node_modules as before.
import {build} from 'esbuild'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
await build({
  entryPoints: [`${root}/dist/cli/main.js`],
  outfile: `${root}/dist/lake.mjs`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['classic-level', 'msgpackr-extract', 'lz4-napi', 'sharp', '@aws-sdk/*', 'isomorphic-git', 'cli-progress'],
  // oclif is CommonJS and calls require(): give the ESM bundle one
  banner: {js: "import {createRequire as __lakeCreateRequire} from 'node:module'; const require = __lakeCreateRequire(import.meta.url);"},
  logLevel: 'warning',
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
})
