// Bundles the three entry points. The CLI and extension run in Node; the webview runs in a browser.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: true, logLevel: 'warning', target: 'es2022' };

const entries = [
  { entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', banner: { js: '#!/usr/bin/env node' } },
  { entryPoints: ['src/node/scan-worker.ts'], outfile: 'dist/scan-worker.js', platform: 'node', format: 'cjs' },
  // The extension in two bundles: what activation needs, and the engine required on first use.
  { entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', external: ['vscode', './extension-engine.js'] },
  { entryPoints: ['src/extension/engine.ts'], outfile: 'dist/extension-engine.js', platform: 'node', format: 'cjs', external: ['vscode'] },
  { entryPoints: ['media/webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife' },
].filter((e) => existsSync(e.entryPoints[0]));

for (const e of entries) {
  const opts = { ...common, ...e };
  if (watch) await (await esbuild.context(opts)).watch();
  else await esbuild.build(opts);
}
