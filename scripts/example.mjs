// First quick-start command: show IOMMU Lens on the bundled example.
// Opens examples/ in VS Code with the extension loaded when an editor is available, and always
// prints the CLI summary of the example log (that is all it does on a machine without an editor).
import { spawnSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const log = resolve(root, 'examples/mixed-faults.log');
const has = (cmd) => spawnSync('bash', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

spawnSync('node', [resolve(root, 'dist/cli.js'), 'scan', log], { stdio: 'inherit' });

if (process.env.CI || process.argv.includes('--no-editor')) process.exit(0);
if (has('code')) {
  spawn('code', ['--extensionDevelopmentPath', root, resolve(root, 'examples'), log], { stdio: 'ignore', detached: true }).unref();
  console.log('\nOpened examples/ in VS Code with IOMMU Lens loaded (hover a fault line; see the IOMMU Faults view).');
} else {
  const cs = resolve(root, '.vscode-test/code-server/node_modules/code-server/out/node/entry.js');
  if (existsSync(cs)) {
    // code-server loads a development extension from the workbench URL's payload (as the tests do).
    const port = 8181;
    const payload = encodeURIComponent(JSON.stringify([['extensionDevelopmentPath', `vscode-remote://localhost:${port}${root}`]]));
    console.log(`\nStarting code-server: open http://localhost:${port}/?folder=${resolve(root, 'examples')}&payload=${payload}  (Ctrl-C to stop)`);
    spawnSync('node', [cs, '--auth', 'none', '--bind-addr', `localhost:${port}`, '--disable-telemetry',
      '--extensions-dir', resolve(root, '.vscode-test/example-ext'), '--user-data-dir', resolve(root, '.vscode-test/example-user'), resolve(root, 'examples')], { stdio: 'inherit' });
  } else {
    console.log('\nhint: no VS Code found (`code` not on PATH); install the VSIX from `npm run package`, or `bash scripts/install-code-server.sh` for a browser editor.');
  }
}
