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
for (const f of ['smmuv3-virt-stream10.log', 'qcom-iommu-stall.log', 'page-request-trace.log']) copyFileSync(join(ROOT, 'test/fixtures/editor', f), join(workspace, f));
{
  // The same storm log as the code-server route: above the 4 MiB background-scan threshold.
  const line = (i) => `[ ${(1000 + i / 1000).toFixed(6).padStart(12)}] AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:02:00.0 domain=0x0017 address=0x${(0xbe9f9000 + (i % 4096) * 64).toString(16)} flags=0x0010]\n`;
  const chunks = [];
  for (let i = 0; i < 60_000; i++) chunks.push(line(i));
  writeFileSync(join(workspace, 'storm.log'), chunks.join(''));
}
writeFileSync(join(workspace, '.iommu-lens-test.json'), JSON.stringify({ run: 'dev', extensionRoot: ROOT, walk: false, mixedLog: 'mixed-faults.log', walkLog: 'smmuv3-virt-stream10.log', cli: join(ROOT, 'dist', 'cli.js'), node: process.execPath }));

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
