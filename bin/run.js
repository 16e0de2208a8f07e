#!/usr/bin/env node
// `lake --version` is what scripts and CI call most often to check the tool is there: answer it
// without loading oclif (a good part of start-up time).
if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-v')) {
  const {readFileSync} = await import('node:fs')
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`lake/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  // The AWS SDK warns on every start under Node 20; lake supports Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  // git-style `lake -C DIR status`: oclif takes flags only after the command, so move a leading
  // -C/--dir (and its value) behind it.
  const args = process.argv.slice(2)
  const moved = []
  while (args.length > 0) {
    if ((args[0] === '-C' || args[0] === '--dir') && args.length > 1) moved.push(...args.splice(0, 2))
    else if (/^(-C.+|--dir=.*)$/.test(args[0])) moved.push(...args.splice(0, 1))
    else break
  }
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url, args: [...args, ...moved]})
}
