/**
 * Entry point of the integration suite inside a real VS Code extension host: the
 * `run(): Promise<void>` contract shared by @vscode/test-electron (run-electron.mjs) and the
 * code-server route (scripts/integration.mjs). Mocha is loaded from node_modules at run time.
 */
import Mocha from 'mocha';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { registerSuite } from './suite';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: 'spec' });
  // Define describe/it on the global object, then let the suite register its tests.
  mocha.suite.emit('pre-require', globalThis, 'integration', mocha);
  registerSuite();
  // A file (code-server route) or a folder (test-electron route) for the per-test results.
  const resultsFile = process.env['IOMMU_LENS_RESULTS_FILE']
    ?? (process.env['IOMMU_LENS_RESULTS'] ? join(process.env['IOMMU_LENS_RESULTS'], 'integration-results.json') : undefined);
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      if (failures > 0) reject(new Error(`${failures} integration test${failures === 1 ? '' : 's'} failed`));
      else resolve();
    });
    const results: { title: string; state: string; ms?: number; error?: string }[] = [];
    runner.on('pass', (t) => results.push({ title: t.fullTitle(), state: 'passed', ...(t.duration !== undefined ? { ms: t.duration } : {}) }));
    runner.on('fail', (t, err: Error) => results.push({ title: t.fullTitle(), state: 'failed', error: String(err?.stack ?? err) }));
    runner.on('pending', (t) => results.push({ title: t.fullTitle(), state: 'skipped' }));
    runner.on('end', () => {
      if (!resultsFile) return;
      try {
        mkdirSync(dirname(resultsFile), { recursive: true });
        writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
      } catch { /* results file is a convenience; the exit code is what counts */ }
    });
  });
}
