/**
 * Entry point of the integration suite inside a real VS Code extension host: the
 * `run(): Promise<void>` contract shared by @vscode/test-electron (run-electron.mjs) and the
 * code-server route (scripts/integration.mjs). Mocha is loaded from node_modules at run time.
 */
import Mocha from 'mocha';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { registerSuite } from './suite';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: 'spec' });
  // Define describe/it on the global object, then let the suite register its tests.
  mocha.suite.emit('pre-require', globalThis, 'integration', mocha);
  registerSuite();
  const resultsDir = process.env['IOMMU_LENS_RESULTS'];
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
      if (!resultsDir) return;
      try {
        mkdirSync(resultsDir, { recursive: true });
        writeFileSync(join(resultsDir, 'integration-results.json'), JSON.stringify(results, null, 2) + '\n');
      } catch { /* results file is a convenience; the exit code is what counts */ }
    });
  });
}
