#!/usr/bin/env node
// Route 3: the same suite (dist/test/integration.js, `run(): Promise<void>`) in desktop VS Code
// through @vscode/test-electron, for machines that can download VS Code (or have one installed:
// set VSCODE_EXECUTABLE). On headless Linux run it under Xvfb: `xvfb-run -a node test/integration/run-electron.mjs`.
// Screenshots are taken only by the code-server driver (scripts/integration.mjs).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
if (r.status !== 0) process.exit(1);
const esbuild = await import('esbuild');
await esbuild.build({
  entryPoints: [join(ROOT, 'test/integration/index.ts')], outfile: join(ROOT, 'dist/test/integration.js'),
  bundle: true, platform: 'node', format: 'cjs', target: 'es2022', sourcemap: true, external: ['vscode', 'mocha'], logLevel: 'warning',
});

// Same workspace layout as the code-server route, without the snapshot (its walk test is skipped).
const workspace = join(ROOT, '.vscode-test', 'workspace-electron');
rmSync(workspace, { recursive: true, force: true });
mkdirSync(workspace, { recursive: true });
copyFileSync(join(ROOT, 'examples', 'mixed-faults.log'), join(workspace, 'mixed-faults.log'));
copyFileSync(join(ROOT, 'test/fixtures/editor/smmuv3-virt-stream10.log'), join(workspace, 'smmuv3-virt-stream10.log'));
writeFileSync(join(workspace, '.iommu-lens-test.json'), JSON.stringify({ walk: false, mixedLog: 'mixed-faults.log', walkLog: 'smmuv3-virt-stream10.log' }));

try {
  await runTests({
    version: '1.100.3',
    ...(process.env.VSCODE_EXECUTABLE ? { vscodeExecutablePath: process.env.VSCODE_EXECUTABLE } : {}),
    extensionDevelopmentPath: ROOT,
    extensionTestsPath: join(ROOT, 'dist/test/integration.js'),
    extensionTestsEnv: { IOMMU_LENS_RESULTS: join(ROOT, 'test-results') },
    launchArgs: [workspace, '--disable-extensions', '--skip-welcome', '--skip-release-notes', '--disable-workspace-trust'],
  });
} catch (e) {
  console.error(`integration tests failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
