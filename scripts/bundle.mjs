#!/usr/bin/env node
// Bundles the CLI (src/cli/main.ts as compiled to dist/, oclif, and the pure-JS dependencies) into
// dist/lake.cjs, which bin/run.js starts: one file to compile instead of a few hundred modules to
// resolve. Native addons and the heavy modules lake loads only on demand (the AWS SDK, sharp,
// isomorphic-git, lz4-napi) stay outside and load from node_modules as before.
//
// Then it makes dist/lake.cache, V8's code cache of the bundle: bin/run.js hands it to
// vm.Script, which then skips parsing and compiling the start-up path (~30–40 ms of a ~250 ms
// process). It is CommonJS for that reason: vm.Script takes a code cache, an ES module cannot on
// Node 20. The cache is made after running `lake init` in one process (scripts/code-cache.mjs),
// so that it holds the shared start-up path compiled lazily, not only the top level; not more
// (a cache of every everyday command was slower for each of them). V8 refuses a cache made by another V8 version or flags, and bin/run.js then
// compiles as if there were none.
import {build} from 'esbuild'
import {spawnSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {dirname} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

// classic-level's JavaScript (and abstract-level's, ~25 ms of module loading) goes in the bundle,
// so the code cache covers it; only its binding.js, which finds the native addon next to itself,
// stays in node_modules.
const nativeBindingsOutside = {
  name: 'native-bindings-outside',
  setup(b) {
    b.onResolve({filter: /^\.\/binding(\.js)?$/}, (args) =>
      /[\\/]node_modules[\\/]classic-level[\\/]/.test(args.importer) ? {path: 'classic-level/binding.js', external: true} : undefined,
    )
  },
}

// oclif requires at its top level libraries that only some runs use (help rendering, globbing
// for commands lake lists explicitly, rc-file search, spinners, stdin reading, …). In its files,
// each of those requires becomes a stand-in that loads the library at the first property read;
// oclif's compiled code reaches a required module only through property reads (`(0, x.f)(…)`,
// `x.default`), so it behaves the same.
const OCLIF_LAZY = ['ansis', 'wrap-ansi', 'indent-string', 'ejs', 'clean-stack', 'widest-line', 'tinyglobby', 'string-width', 'minimatch', 'lilconfig', 'cli-spinners', 'node:readline', 'node:perf_hooks', 'node:child_process']
const lazyOclifRequires = {
  name: 'lazy-oclif-requires',
  setup(b) {
    const topLevelRequire = new RegExp(`^const (\\w+) = ((?:__importDefault\\()?require\\("(?:${OCLIF_LAZY.join('|')})"\\)\\)?);$`, 'gm')
    b.onLoad({filter: /[\\/]node_modules[\\/]@oclif[\\/]core[\\/]lib[\\/].*\.js$/}, async (args) => {
      const source = await readFile(args.path, 'utf8')
      let lazy = false
      const contents = source.replace(topLevelRequire, (_, name, expr) => {
        lazy = true
        return `const ${name} = __lakeLazy(() => ${expr});`
      })
      return lazy ? {contents: `${contents}\n${LAZY_HELPER}`, loader: 'js'} : undefined
    })
  },
}
const LAZY_HELPER = `function __lakeLazy(load) {
  let m
  const get = () => (m ??= load())
  return new Proxy({}, {
    get: (_, k) => get()[k],
    has: (_, k) => k in get(),
    ownKeys: () => Reflect.ownKeys(get()),
    getOwnPropertyDescriptor: (_, k) => {
      const d = Reflect.getOwnPropertyDescriptor(get(), k)
      if (d) d.configurable = true
      return d
    },
  })
}`

// The bundle's COMMANDS: src/cli/commands.ts (the one list; oclif's explicit discovery imports it
// whole) rewritten so that each command's module, and what only it imports, is initialised when
// oclif asks for that command: a process runs the top level of one command's code, not of all 27
// (esbuild turns a require() of a bundled ES module into a call of its lazy initialiser).
const lazyCommands = {
  name: 'lazy-commands',
  setup(b) {
    b.onLoad({filter: /[\\/]dist[\\/]cli[\\/]commands\.js$/}, async (args) => {
      const source = await readFile(args.path, 'utf8')
      const modules = new Map([...source.matchAll(/^import (\w+) from '([^']+)';$/gm)].map((m) => [m[1], m[2]]))
      const list = source.slice(source.indexOf('export const COMMANDS = {'))
      const entries = [...list.matchAll(/^\s+(?:'([^']+)'|(\w+)): (\w+),$/gm)].map((m) => [m[1] ?? m[2], m[3]])
      if (entries.length === 0 || entries.length !== modules.size || entries.some(([, name]) => !modules.has(name))) {
        throw new Error(`scripts/bundle.mjs: cannot read the command list of ${args.path}`)
      }
      const getters = entries.map(([id, name]) => `Object.defineProperty(COMMANDS, ${JSON.stringify(id)}, {enumerable: true, get: () => require(${JSON.stringify(modules.get(name))}).default})`)
      return {loader: 'js', resolveDir: dirname(args.path), contents: `export const COMMANDS = {}\n${getters.join('\n')}\n`}
    })
  },
}

await build({
  entryPoints: [`${root}/dist/cli/main.js`],
  outfile: `${root}/dist/lake.cjs`,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['msgpackr-extract', 'lz4-napi', 'sharp', '@aws-sdk/*', 'isomorphic-git', 'cli-progress'],
  plugins: [nativeBindingsOutside, lazyOclifRequires, lazyCommands],
  // the sources are ES modules: give their import.meta.url its CommonJS equivalent
  define: {'import.meta.url': '__lakeImportMetaUrl'},
  // import() of an external becomes require(): a vm.Script has no module loader of its own, and
  // every external ships CommonJS
  supported: {'dynamic-import': false},
  // The file is the function Node would wrap a CommonJS module in (bin/bundle.js runs it as
  // such): handing V8 the file's text as it is saves a copy of it at every start.
  banner: {js: "(function (exports, require, module, __filename, __dirname) {const __lakeImportMetaUrl = require('node:url').pathToFileURL(__filename).href;"},
  footer: {js: '\n})'},
  logLevel: 'warning',
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
})
rmSync(`${root}/dist/lake.mjs`, {force: true}) // the ESM bundle of earlier builds
rmSync(`${root}/dist/lake.cache`, {force: true})
const made = spawnSync(process.execPath, [`${root}/scripts/code-cache.mjs`], {stdio: 'inherit'})
if (made.status !== 0) console.warn('warning: no code cache made (dist/lake.cache); the CLI works without it, a little slower to start')
