#!/bin/sh
':' //; [ -z "${NODE_EXTRA_CA_CERTS-}" ] || { LAKE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS; export LAKE_EXTRA_CA_CERTS; unset NODE_EXTRA_CA_CERTS; }; exec node "$0" "$@"
// The two lines above are the `lake` launcher, read by sh; Node reads them as a string and a
// comment. Node started with NODE_EXTRA_CA_CERTS parses its whole root store before any
// JavaScript runs (~50 ms of every command here), although most lake commands never open a TLS
// connection: the launcher hands the file to lake as LAKE_EXTRA_CA_CERTS instead (NODE_ wins over
// a LAKE_ set too), and lake adds those CAs when it makes a TLS connection
// (src/core/storage/extra-ca.ts). Not for Windows: npm's shim there would run /bin/sh.
// CommonJS (bin/package.json): an ES module entry costs Node's ESM loader, and each builtin an ES
// module imports gets a facade that reads every export (node:fs's getters load streams): ~15 ms
// of each process.
'use strict'
// the processes lake starts (a credential_process, git) get the variable back
if (process.env.LAKE_EXTRA_CA_CERTS && !process.env.NODE_EXTRA_CA_CERTS) process.env.NODE_EXTRA_CA_CERTS = process.env.LAKE_EXTRA_CA_CERTS
// `lake --version` is what scripts and CI call most often to check the tool is there: answer it
// without loading oclif (a good part of start-up time).
if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-v')) {
  const pkg = JSON.parse(require('node:fs').readFileSync(require('node:path').join(__dirname, '..', 'package.json'), 'utf8'))
  process.stdout.write(`lake/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  // The AWS SDK warns on every start under Node 20; lake supports Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  // Start-up costs a short process does not earn back: msgpackr's native string extractor (a
  // dlopen, ~10 ms; its JavaScript reader gives the same values) and oclif's check of Node's
  // version against its own engines (loads semver and a package.json; npm checks lake's engines).
  process.env.MSGPACKR_NATIVE_ACCELERATION_DISABLED ??= 'true'
  process.env.OCLIF_DISABLE_ENGINE_WARNING ??= 'true'
  // git-style `lake -C DIR status`: oclif takes flags only after the command, so move a leading
  // -C/--dir (and its value) behind it.
  const args = process.argv.slice(2)
  const moved = []
  while (args.length > 0) {
    if ((args[0] === '-C' || args[0] === '--dir') && args.length > 1) moved.push(...args.splice(0, 2))
    else if (/^(-C.+|--dir=.*)$/.test(args[0])) moved.push(...args.splice(0, 1))
    else break
  }
  // dist/lake.cjs (npm run build bundles it) starts ~150 ms faster than oclif from node_modules.
  // LAKE_NO_BUNDLE=1 runs the unbundled modules (to compare, or to debug with source maps);
  // LAKE_NO_CODE_CACHE=1 the bundle without its code cache.
  const {join} = require('node:path')
  const root = join(__dirname, '..')
  const runHere = () => {
    const bundle = process.env.LAKE_NO_BUNDLE ? undefined : require('./bundle.js').loadBundle(join(root, 'dist'), {useCache: !process.env.LAKE_NO_CODE_CACHE})
    if (bundle) bundle.exports.main([...args, ...moved], root)
    else {
      // oclif finds the package from the directory it is given (not bin/, which has a package.json)
      import('@oclif/core').then(({execute}) => execute({dir: root, args: [...args, ...moved]}))
    }
  }
  if (args[0] === '__lake-serve' && args.length === 2) {
    // the resident process of LAKE_DAEMON=1 (src/cli/server.ts), started by bin/daemon-client.js
    const bundle = require('./bundle.js').loadBundle(join(root, 'dist'), {useCache: true})
    const positive = (name, otherwise) => {
      const value = Number(process.env[name] ?? otherwise)
      return Number.isFinite(value) && value > 0 ? value : otherwise
    }
    const idleMs = positive('LAKE_DAEMON_IDLE', 60) * 1000
    const maxRssBytes = positive('LAKE_DAEMON_MAX_RSS_MB', 1024) * 1024 * 1024
    bundle.exports.serve(root, __filename, args[1], idleMs, maxRssBytes).catch(() => process.exit(1))
  } else if (process.env.LAKE_DAEMON === '1' && !process.env.LAKE_NO_BUNDLE) {
    require('./daemon-client.js').run([...args, ...moved], root, runHere)
  } else runHere()
}
