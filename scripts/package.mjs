#!/usr/bin/env node
// Builds the extension and packs it into iommu-lens-<version>.vsix with @vscode/vsce.
// Dependencies are bundled by esbuild, so vsce runs with --no-dependencies; .vscodeignore keeps
// everything but the bundles, the manifest, the grammar and the icons out.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run(process.execPath, ['scripts/build.mjs']);
for (const f of ['dist/extension.js', 'dist/webview.js']) if (!existsSync(join(ROOT, f))) { console.error(`missing ${f} after the build`); process.exit(1); }
const out = process.argv[2] ?? `${pkg.name}-${pkg.version}.vsix`;
const vsce = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
const args = [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out];
if (!existsSync(join(ROOT, 'LICENSE'))) args.push('--skip-license');
run(process.execPath, args);
console.log(`${out}: ${(statSync(resolve(ROOT, out)).size / 1024).toFixed(0)} KiB`);
