#!/usr/bin/env node
// Route-1 integration run: the extension's Mocha suite inside a real VS Code (code-server 4.100.3
// = VS Code 1.100.3, Node extension host), driven by Debian's chromium through playwright-core.
// The suite asks for screenshots through files in a checkpoint folder; they land in test-results/.
//
//   bash scripts/install-code-server.sh   # once: code-server into .vscode-test/code-server, chromium
//   npm run test:integration
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync, readFileSync, copyFileSync, readdirSync, createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PREFIX = join(ROOT, '.vscode-test', 'code-server');
const ENTRY = join(PREFIX, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RESULTS = join(ROOT, 'test-results');
const WORK = join(ROOT, '.vscode-test');
const WORKSPACE = join(WORK, 'workspace');
const CHECKPOINTS = join(WORK, 'checkpoints');
const SHARED = process.env.IOMMU_LENS_SHARED ?? resolve(ROOT, '..', 'shared');
const TIMEOUT_MS = Number(process.env.IOMMU_LENS_IT_TIMEOUT_MS ?? 15 * 60_000);

function fail(msg) {
  console.error(`\nintegration: ${msg}\n`);
  process.exit(2);
}

if (!existsSync(ENTRY)) {
  fail(`code-server 4.100.3 is not installed (expected ${ENTRY}).
Install it once with:

    bash scripts/install-code-server.sh

(apt-get installs the build toolchain, ripgrep and chromium; npm installs code-server into the
git-ignored .vscode-test/code-server; a few minutes, up to ~10 when native modules compile.)
On a machine that can download VS Code, use instead: node test/integration/run-electron.mjs`);
}
if (!existsSync(CHROMIUM)) fail(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH), or run bash scripts/install-code-server.sh`);

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  fail('playwright-core is missing: run npm ci');
}

const t0 = Date.now();
const log = (m) => console.log(`[integration +${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);

// 1. Build the extension, the webview and the test module.
log('building');
let r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
if (r.status !== 0) fail('build failed');
const esbuild = await import('esbuild');
await esbuild.build({
  entryPoints: [join(ROOT, 'test/integration/index.ts')],
  outfile: join(ROOT, 'dist/test/integration.js'),
  bundle: true, platform: 'node', format: 'cjs', target: 'es2022', sourcemap: true,
  external: ['vscode', 'mocha'], logLevel: 'warning',
});

// The grammar, with the TextMate engine of this VS Code build.
r = spawnSync(process.execPath, ['test/integration/grammar-check.mjs'], { cwd: ROOT, stdio: 'inherit' });
const grammarOk = r.status === 0;
// The webview page alone in chromium: hostile text, CSP, failing step, persisted state.
r = spawnSync(process.execPath, ['test/integration/webview-check.mjs'], { cwd: ROOT, stdio: 'inherit' });
const webviewOk = r.status === 0;

// 2. A throw-away workspace with the fixture logs (and the real QEMU snapshot when available).
rmSync(WORKSPACE, { recursive: true, force: true });
rmSync(CHECKPOINTS, { recursive: true, force: true });
mkdirSync(WORKSPACE, { recursive: true });
mkdirSync(CHECKPOINTS, { recursive: true });
mkdirSync(RESULTS, { recursive: true });
for (const f of readdirSync(RESULTS)) if (/\.(png|json|log)$/.test(f)) rmSync(join(RESULTS, f), { force: true });

const mixedSrc = join(ROOT, 'examples', 'mixed-faults.log');
if (!existsSync(mixedSrc)) fail(`missing ${mixedSrc}`);
copyFileSync(mixedSrc, join(WORKSPACE, 'mixed-faults.log'));
// The Kernel Log language by file extension, and by first line for a file without one.
copyFileSync(mixedSrc, join(WORKSPACE, 'mixed-faults.dmesg'));
copyFileSync(mixedSrc, join(WORKSPACE, 'serial-console'));
// A fault storm above the background-scan threshold (4 MiB): read from disk, not from the editor.
{
  const line = (i) => `[ ${(1000 + i / 1000).toFixed(6).padStart(12)}] AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:02:00.0 domain=0x0017 address=0x${(0xbe9f9000 + (i % 4096) * 64).toString(16)} flags=0x0010]\n`;
  const chunks = [];
  for (let i = 0; i < 60_000; i++) chunks.push(line(i));
  writeFileSync(join(WORKSPACE, 'storm.log'), chunks.join(''));
}
const walkLog = 'smmuv3-virt-stream10.log';
copyFileSync(join(ROOT, 'test/fixtures/editor', walkLog), join(WORKSPACE, walkLog));
copyFileSync(join(ROOT, 'test/fixtures/editor/qcom-iommu-stall.log'), join(WORKSPACE, 'qcom-iommu-stall.log'));

let walk = false;
const snapDir = join(SHARED, 'snapshots', 'smmuv3-virt');
const coreDir = join(WORK, 'snapshots', 'smmuv3-virt');
const core = join(coreDir, 'guest.core');
if (existsSync(join(snapDir, 'manifest.iommu.json')) && existsSync(join(snapDir, 'guest.core.zst'))) {
  if (!existsSync(core)) {
    log('decompressing the smmuv3-virt snapshot (zstd)');
    mkdirSync(coreDir, { recursive: true });
    r = spawnSync('zstd', ['-q', '-d', '-f', join(snapDir, 'guest.core.zst'), '-o', core], { stdio: 'inherit' });
    if (r.status !== 0) log('zstd failed (apt-get install zstd): walk tests will be skipped');
  }
  if (existsSync(core)) {
    const manifest = JSON.parse(readFileSync(join(snapDir, 'manifest.iommu.json'), 'utf8'));
    manifest.memory = [{ kind: 'elf', file: core }];
    // NAME.iommu.json beside NAME.log: the extension attaches it by itself.
    writeFileSync(join(WORKSPACE, walkLog.replace(/\.log$/, '.iommu.json')), JSON.stringify(manifest, null, 2));
    walk = true;
  }
} else log(`no snapshot under ${snapDir}: walk tests will be skipped`);
writeFileSync(join(WORKSPACE, '.iommu-lens-test.json'), JSON.stringify({ checkpoints: CHECKPOINTS, walk, mixedLog: 'mixed-faults.log', walkLog }));

// 3. Fresh user data and extensions folders for code-server.
const userData = join(WORK, 'user-data');
const extDir = join(WORK, 'extensions');
rmSync(userData, { recursive: true, force: true });
mkdirSync(join(userData, 'User'), { recursive: true });
mkdirSync(extDir, { recursive: true });
writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify({
  'workbench.colorTheme': 'Default Dark Modern',
  'window.autoDetectColorScheme': true,
  'workbench.preferredDarkColorTheme': 'Default Dark Modern',
  'workbench.preferredLightColorTheme': 'Default Light Modern',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'chat.disableAIFeatures': true,
  'window.commandCenter': false,
  'git.openRepositoryInParentFolders': 'never',
  'git.enabled': false,
}, null, 2));

const port = await new Promise((res) => { const s = createServer(); s.listen(0, 'localhost', () => { const p = s.address().port; s.close(() => res(p)); }); });

// 4. Start code-server.
log(`starting code-server on localhost:${port}`);
const serverLog = createWriteStream(join(RESULTS, 'code-server.log'));
const server = spawn(process.execPath, [ENTRY, '--auth', 'none', '--bind-addr', `localhost:${port}`, '--disable-telemetry',
  '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
  '--user-data-dir', userData, '--extensions-dir', extDir, WORKSPACE], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
server.stdout.pipe(serverLog);
server.stderr.pipe(serverLog);
let serverExited = false;
server.on('exit', (code) => { serverExited = true; log(`code-server exited (${code})`); });
const stopServer = () => { if (!serverExited) server.kill('SIGTERM'); };
process.on('exit', stopServer);

for (let i = 0; ; i++) {
  if (serverExited) fail(`code-server did not start; see ${join(RESULTS, 'code-server.log')}`);
  try {
    const res = await fetch(`http://localhost:${port}/healthz`);
    if (res.ok) break;
  } catch { /* not up yet */ }
  if (i > 240) fail('code-server did not answer /healthz within 60 s');
  await new Promise((res) => setTimeout(res, 250));
}

// 5. Open the workbench with the extension under test and the test module.
const remote = (p) => `vscode-remote://localhost:${port}${p}`;
const payload = [
  ['extensionDevelopmentPath', remote(ROOT)],
  ['extensionTestsPath', remote(join(ROOT, 'dist/test/integration.js'))],
  ['skipWelcome', 'true'],
];
const url = `http://localhost:${port}/?folder=${encodeURIComponent(WORKSPACE)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
const browser = await chromium.launch({
  executablePath: CHROMIUM, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--disable-features=TrackingProtection3pcd'],
});
const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
const output = createWriteStream(join(RESULTS, 'integration-output.log'));
let finish;
const exited = new Promise((res) => (finish = res));
await page.exposeFunction('codeAutomationLog', (type, args) => {
  // The workbench forwards console calls printf-style: format string first.
  const line = format(...(Array.isArray(args) ? args : [args]));
  output.write(line + '\n');
  console.log(line);
});
await page.exposeFunction('codeAutomationExit', (code) => finish(code));
page.on('pageerror', (e) => output.write(`[pageerror] ${e.message}\n`));

// Screenshots on request of the suite (test/integration/suite.ts checkpoint()).
const shots = [];
const shooter = setInterval(async () => {
  for (const f of readdirSync(CHECKPOINTS)) {
    if (!f.endsWith('.request')) continue;
    const name = f.slice(0, -'.request'.length);
    rmSync(join(CHECKPOINTS, f), { force: true });
    if (name.startsWith('scheme-')) {
      // The suite switches light/dark through the OS colour scheme (window.autoDetectColorScheme):
      // in extension-test mode the workbench does not apply workbench.colorTheme changes.
      const scheme = name.slice('scheme-'.length);
      await page.emulateMedia({ colorScheme: scheme === 'light' ? 'light' : 'dark', forcedColors: scheme === 'hc' ? 'active' : 'none' }).catch(() => undefined);
      writeFileSync(join(CHECKPOINTS, `${name}.done`), '');
      continue;
    }
    if (name.startsWith('key-')) {
      await page.keyboard.press(name.slice(4)).catch(() => undefined);
      writeFileSync(join(CHECKPOINTS, `${name}.done`), '');
      continue;
    }
    const file = join(RESULTS, `${name}.png`);
    try {
      await page.screenshot({ path: file });
      shots.push(file);
      log(`screenshot ${file}`);
    } catch (e) {
      log(`screenshot ${name} failed: ${e.message}`);
    }
    writeFileSync(join(CHECKPOINTS, `${name}.done`), '');
  }
}, 250);

log('opening the workbench');
await page.goto(url, { waitUntil: 'commit', timeout: 180_000 });
const timer = new Promise((res) => setTimeout(() => res('timeout'), TIMEOUT_MS));
let code = await Promise.race([exited, timer]);
clearInterval(shooter);
if (code === 'timeout') {
  await page.screenshot({ path: join(RESULTS, 'timeout.png') }).catch(() => undefined);
  log(`no result after ${TIMEOUT_MS / 1000} s (see test-results/timeout.png)`);
  code = 1;
}
await browser.close().catch(() => undefined);
stopServer();

const resultsFile = join(RESULTS, 'integration-results.json');
if (existsSync(resultsFile)) {
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  const count = (s) => results.filter((x) => x.state === s).length;
  log(`${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped (details: test-results/integration-results.json)`);
}
log(`screenshots: ${shots.length ? shots.map((s) => s.slice(ROOT.length + 1)).join(', ') : 'none'}`);
log(`exit code ${code} after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
if (!grammarOk) log('the grammar check failed (see above)');
if (!webviewOk) log('the webview page check failed (see above)');
process.exit(typeof code === 'number' ? (code || (grammarOk && webviewOk ? 0 : 1)) : 1);
