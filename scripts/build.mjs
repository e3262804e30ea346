// Bundles the entry points. The CLI and extension run in Node; the webview runs in a browser.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: true, logLevel: 'warning', target: 'es2022' };

// The CLI is a small dispatcher (dist/cli.js) and one bundle per command (dist/cli-<module>.js),
// required only when that command runs: `scan` neither parses nor compiles the walkers, snapshot
// loading or report renderers. Commands are the modules src/cli/main.ts imports with `import()`;
// a single-file bundle of main.ts (as some tests build) still works, esbuild then inlines them.
const CLI_DIR = resolve('src/cli');
const CLI_MAIN = resolve(CLI_DIR, 'main.ts');
// Modules whose identity must be shared across the CLI bundles (main.ts tests `instanceof CliError`).
const CLI_SHARED = ['errors'];
const cliCommands = new Set();
const cliSplit = {
  name: 'cli-split',
  setup(build) {
    build.onResolve({ filter: /^\.\/[\w-]+$/ }, (args) => {
      if (args.resolveDir !== CLI_DIR || args.kind === 'entry-point') return undefined;
      const name = args.path.slice(2);
      if (args.kind === 'dynamic-import' && args.importer === CLI_MAIN) {
        cliCommands.add(name);
        return { path: `./cli-${name}.js`, external: true };
      }
      if (CLI_SHARED.includes(name)) return { path: `./cli-${name}.js`, external: true };
      return undefined;
    });
    // a command bundle started as a program (report's analysis workers re-run their own file) is the CLI
    build.onResolve({ filter: /^\.\/cli\.js$/ }, (args) => ({ path: args.path, external: true }));
  },
};
const commandEntry = (name) => ({
  stdin: {
    contents: `export * from './${name}';\nif (require.main?.filename === __filename) require('./cli.js');\n`,
    resolveDir: CLI_DIR, sourcefile: `cli-${name}.ts`, loader: 'ts',
  },
  outfile: `dist/cli-${name}.js`, platform: 'node', format: 'cjs', plugins: [cliSplit],
});

const entries = [
  // `supported`: the commands' `import()` becomes `require()`, keeping Node's ESM loader out of the run
  { entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', banner: { js: '#!/usr/bin/env node' }, plugins: [cliSplit], supported: { 'dynamic-import': false } },
  { entryPoints: ['src/node/scan-worker.ts'], outfile: 'dist/scan-worker.js', platform: 'node', format: 'cjs' },
  // The extension in two bundles: what activation needs, and the engine required on first use.
  { entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', external: ['vscode', './extension-engine.js'] },
  { entryPoints: ['src/extension/engine.ts'], outfile: 'dist/extension-engine.js', platform: 'node', format: 'cjs', external: ['vscode'] },
  { entryPoints: ['media/webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife' },
].filter((e) => existsSync(e.entryPoints[0]));

async function bundle(opts) {
  if (!watch) return void (await esbuild.build(opts));
  const ctx = await esbuild.context(opts);
  await ctx.rebuild();
  await ctx.watch();
}

for (const e of entries) await bundle({ ...common, ...e });
// the dispatcher's build above found the commands (with --watch, restart after adding one)
if (existsSync(CLI_MAIN)) {
  for (const name of CLI_SHARED) await bundle({ ...common, entryPoints: [`src/cli/${name}.ts`], outfile: `dist/cli-${name}.js`, platform: 'node', format: 'cjs' });
  for (const name of cliCommands) await bundle({ ...common, ...commandEntry(name) });
}
