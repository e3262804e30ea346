#!/usr/bin/env node
// Route-1 integration run: the extension's Mocha suite inside a real VS Code (code-server 4.100.3
// = VS Code 1.100.3, Node extension host), driven by Debian's chromium through playwright-core.
// The suite asks for screenshots through files in a checkpoint folder; they land in test-results/.
//
// Two runs of the same suite:
//   dev   the extension loaded from this folder (extensionDevelopmentPath)
//   vsix  the packaged VSIX (npm run package) installed with code-server's --install-extension
//         into a throw-away extensions folder; no development path, so the workbench loads only
//         the installed copy
// Screenshots are named dev-*.png and vsix-*.png after the run that took them.
//
//   bash scripts/install-code-server.sh   # once: code-server into .vscode-test/code-server, chromium
//   npm run test:integration              # both runs; `-- --dev` or `-- --vsix` for one
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync, readFileSync, copyFileSync, readdirSync, createWriteStream, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import { gzipSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PREFIX = join(ROOT, '.vscode-test', 'code-server');
const ENTRY = join(PREFIX, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RESULTS = join(ROOT, 'test-results');
const WORK = join(ROOT, '.vscode-test');
const WORKSPACE = join(WORK, 'workspace');
const SHARED = process.env.IOMMU_LENS_SHARED ?? resolve(ROOT, '..', 'shared');
const TIMEOUT_MS = Number(process.env.IOMMU_LENS_IT_TIMEOUT_MS ?? 15 * 60_000);
const VSIX_LIMIT = 1024 * 1024;
// The hover benchmark's log: above VS Code's 50 MB extension-sync limit on purpose.
const BIG_MB = Number(process.env.IOMMU_LENS_BIG_LOG_MB ?? 100);

const argv = process.argv.slice(2);
const RUNS = argv.includes('--dev') || argv.includes('--vsix')
  ? ['dev', 'vsix'].filter((r) => argv.includes(`--${r}`))
  : ['dev', 'vsix'];

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

// The packaged extension, built the way users get it.
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const VSIX = join(WORK, `${pkg.name}-${pkg.version}.vsix`);
let vsixSize = 0;
if (RUNS.includes('vsix')) {
  log('packaging the VSIX');
  rmSync(VSIX, { force: true });
  r = spawnSync(process.execPath, ['scripts/package.mjs', VSIX], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(VSIX)) fail('npm run package failed');
  vsixSize = statSync(VSIX).size;
  log(`VSIX ${VSIX.slice(ROOT.length + 1)}: ${vsixSize} bytes (${(vsixSize / 1024).toFixed(0)} KiB, limit 1024 KiB)`);
}

// The grammar, with the TextMate engine of this VS Code build.
r = spawnSync(process.execPath, ['test/integration/grammar-check.mjs'], { cwd: ROOT, stdio: 'inherit' });
const grammarOk = r.status === 0;
// The webview page alone in chromium: hostile text, CSP, failing step, persisted state.
r = spawnSync(process.execPath, ['test/integration/webview-check.mjs'], { cwd: ROOT, stdio: 'inherit' });
const webviewOk = r.status === 0;

// 2. A throw-away workspace with the fixture logs (and the real QEMU snapshot when available).
mkdirSync(WORKSPACE, { recursive: true });
for (const f of readdirSync(WORKSPACE)) if (!f.startsWith('big-')) rmSync(join(WORKSPACE, f), { recursive: true, force: true });
mkdirSync(RESULTS, { recursive: true });
for (const f of readdirSync(RESULTS)) {
  if (/\.(png|json|log)$/.test(f) && (RUNS.length === 2 || RUNS.some((run) => f.startsWith(`${run}-`)))) rmSync(join(RESULTS, f), { force: true });
}

const mixedSrc = join(ROOT, 'examples', 'mixed-faults.log');
if (!existsSync(mixedSrc)) fail(`missing ${mixedSrc}`);
copyFileSync(mixedSrc, join(WORKSPACE, 'mixed-faults.log'));
// The Kernel Log language by file extension, and by first line for a file without one.
copyFileSync(mixedSrc, join(WORKSPACE, 'mixed-faults.dmesg'));
copyFileSync(mixedSrc, join(WORKSPACE, 'serial-console'));
// The example as a rotated, gzip-compressed log (kern.log.2.gz): scanned and shown decompressed.
writeFileSync(join(WORKSPACE, 'kern.log.2.gz'), gzipSync(readFileSync(mixedSrc)));
// A fault storm above the background-scan threshold (4 MiB): read from disk, not from the editor.
{
  const line = (i) => `[ ${(1000 + i / 1000).toFixed(6).padStart(12)}] AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:02:00.0 domain=0x0017 address=0x${(0xbe9f9000 + (i % 4096) * 64).toString(16)} flags=0x0010]\n`;
  const chunks = [];
  for (let i = 0; i < 60_000; i++) chunks.push(line(i));
  writeFileSync(join(WORKSPACE, 'storm.log'), chunks.join(''));
}
// The hover benchmark's log: bench/gen-logs.mjs's deterministic mixed log (~4.5 % fault prints).
let bigLog;
if (BIG_MB > 0) {
  const { ensureLogs } = await import(join(ROOT, 'bench', 'gen-logs.mjs'));
  const genDir = join(WORK, 'big-logs');
  const tg = Date.now();
  const { mixed } = await ensureLogs(genDir, BIG_MB, 0);
  bigLog = `big-${BIG_MB}m.log`;
  const dest = join(WORKSPACE, bigLog);
  if (!existsSync(dest) || statSync(dest).size !== statSync(mixed).size) copyFileSync(mixed, dest);
  log(`${bigLog}: ${(statSync(dest).size / 1048576).toFixed(1)} MiB (${Date.now() - tg} ms to generate or reuse)`);
}
// The example log with its own snapshot beside it (NAME.iommu.json beside NAME.log is attached
// by the extension), as a user who opens examples/ gets them.
copyFileSync(mixedSrc, join(WORKSPACE, 'example-host.log'));
copyFileSync(join(ROOT, 'examples', 'mixed-faults.iommu.json'), join(WORKSPACE, 'example-host.iommu.json'));
for (const f of readdirSync(join(ROOT, 'examples'))) if (f.endsWith('.bin')) copyFileSync(join(ROOT, 'examples', f), join(WORKSPACE, f));
const walkLog = 'smmuv3-virt-stream10.log';
copyFileSync(join(ROOT, 'test/fixtures/editor', walkLog), join(WORKSPACE, walkLog));
for (const f of ['qcom-iommu-stall.log', 'page-request-trace.log']) copyFileSync(join(ROOT, 'test/fixtures/editor', f), join(WORKSPACE, f));

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

const freePort = () => new Promise((res) => { const s = createServer(); s.listen(0, 'localhost', () => { const p = s.address().port; s.close(() => res(p)); }); });

const USER_SETTINGS = {
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
  // The 100 MB log opens without the "large file" confirmation.
  'workbench.editorLargeFileConfirmation': 1024,
};

function harness() {
  const dir = join(WORK, 'vsix-harness');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({
    name: 'iommu-lens-vsix-harness', publisher: 'iommu-lens-test', version: '0.0.0',
    description: 'Empty development extension: lets the workbench run the suite against the installed VSIX.',
    engines: { vscode: pkg.engines.vscode },
  }, null, 2));
  return dir;
}

/** One run of the suite in a fresh code-server; resolves with its summary. */
async function runSuite(run) {
  const checkpoints = join(WORK, `checkpoints-${run}`);
  const userData = join(WORK, `user-data-${run}`);
  const extDir = join(WORK, `extensions-${run}`);
  for (const d of [checkpoints, userData, extDir]) rmSync(d, { recursive: true, force: true });
  mkdirSync(checkpoints, { recursive: true });
  mkdirSync(join(userData, 'User'), { recursive: true });
  mkdirSync(extDir, { recursive: true });
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
  const resultsFile = join(RESULTS, `${run}-integration-results.json`);

  if (run === 'vsix') {
    log(`[vsix] installing ${VSIX.slice(ROOT.length + 1)} into ${extDir.slice(ROOT.length + 1)}`);
    const inst = spawnSync(process.execPath, [ENTRY, '--user-data-dir', userData, '--extensions-dir', extDir, '--install-extension', VSIX],
      { cwd: ROOT, encoding: 'utf8' });
    process.stdout.write(inst.stdout ?? '');
    process.stderr.write(inst.stderr ?? '');
    const installed = existsSync(extDir) ? readdirSync(extDir).filter((d) => d.startsWith(`${pkg.publisher}.${pkg.name}`)) : [];
    if (inst.status !== 0 || installed.length !== 1) return { run, code: 1, error: `--install-extension failed (status ${inst.status}, found ${installed.join(', ') || 'nothing'})` };
  }

  writeFileSync(join(WORKSPACE, '.iommu-lens-test.json'), JSON.stringify({
    run, checkpoints, walk, mixedLog: 'mixed-faults.log', walkLog,
    ...(bigLog ? { bigLog } : {}),
    // Where the extension under test must have been loaded from.
    extensionRoot: run === 'vsix' ? extDir : ROOT,
    ...(run === 'vsix' ? { vsixBytes: vsixSize } : {}),
    cli: join(ROOT, 'dist', 'cli.js'), node: process.execPath,
  }));

  const port = await freePort();
  log(`[${run}] starting code-server on localhost:${port}`);
  const serverLog = createWriteStream(join(RESULTS, `${run}-code-server.log`));
  const server = spawn(process.execPath, [ENTRY, '--auth', 'none', '--bind-addr', `localhost:${port}`, '--disable-telemetry',
    '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    '--user-data-dir', userData, '--extensions-dir', extDir, WORKSPACE],
  { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, IOMMU_LENS_RESULTS_FILE: resultsFile } });
  server.stdout.pipe(serverLog);
  server.stderr.pipe(serverLog);
  let serverExited = false;
  const serverDone = new Promise((res) => server.on('exit', (code) => { serverExited = true; log(`[${run}] code-server exited (${code})`); res(); }));
  const stopServer = () => { if (!serverExited) server.kill('SIGTERM'); };
  process.on('exit', stopServer);

  try {
    for (let i = 0; ; i++) {
      if (serverExited) return { run, code: 1, error: `code-server did not start; see test-results/${run}-code-server.log` };
      try {
        const res = await fetch(`http://localhost:${port}/healthz`);
        if (res.ok) break;
      } catch { /* not up yet */ }
      if (i > 240) return { run, code: 1, error: 'code-server did not answer /healthz within 60 s' };
      await new Promise((res) => setTimeout(res, 250));
    }

    // The workbench with the test module; in the dev run also the extension under development.
    const remote = (p) => `vscode-remote://localhost:${port}${p}`;
    // The workbench runs extensionTestsPath only in extension-development mode, so the vsix run
    // names an empty harness extension (no code) as the development one; the extension under test
    // is then the installed copy, which test 1 of the suite checks by its path.
    const payload = [
      ['extensionDevelopmentPath', remote(run === 'dev' ? ROOT : harness())],
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
    const output = createWriteStream(join(RESULTS, `${run}-integration-output.log`));
    const measures = [];
    let finish;
    const exited = new Promise((res) => (finish = res));
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      // The workbench forwards console calls printf-style: format string first.
      const line = format(...(Array.isArray(args) ? args : [args]));
      output.write(line + '\n');
      console.log(line);
      if (line.startsWith('[iommu-lens] ')) measures.push(line.slice('[iommu-lens] '.length));
    });
    await page.exposeFunction('codeAutomationExit', (code) => finish(code));
    page.on('pageerror', (e) => output.write(`[pageerror] ${e.message}\n`));

    // Screenshots and key presses on request of the suite (test/integration/suite.ts checkpoint()).
    const shots = [];
    let busy = false;
    const shooter = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        for (const f of readdirSync(checkpoints)) {
          if (!f.endsWith('.request')) continue;
          const name = f.slice(0, -'.request'.length);
          rmSync(join(checkpoints, f), { force: true });
          if (name.startsWith('scheme-')) {
            // The suite switches light/dark through the OS colour scheme (window.autoDetectColorScheme):
            // in extension-test mode the workbench does not apply workbench.colorTheme changes.
            const scheme = name.slice('scheme-'.length);
            await page.emulateMedia({ colorScheme: scheme === 'light' ? 'light' : 'dark', forcedColors: scheme === 'hc' ? 'active' : 'none' }).catch(() => undefined);
          } else if (name.startsWith('key-')) {
            await page.keyboard.press(name.slice(4)).catch(() => undefined);
          } else {
            const file = join(RESULTS, `${run}-${name}.png`);
            try {
              await page.screenshot({ path: file });
              shots.push(file);
              log(`[${run}] screenshot ${file.slice(ROOT.length + 1)}`);
            } catch (e) {
              log(`[${run}] screenshot ${name} failed: ${e.message}`);
            }
          }
          writeFileSync(join(checkpoints, `${name}.done`), '');
        }
      } finally {
        busy = false;
      }
    }, 250);

    log(`[${run}] opening the workbench`);
    await page.goto(url, { waitUntil: 'commit', timeout: 180_000 });
    const timer = new Promise((res) => setTimeout(() => res('timeout'), TIMEOUT_MS));
    let code = await Promise.race([exited, timer]);
    clearInterval(shooter);
    if (code === 'timeout') {
      await page.screenshot({ path: join(RESULTS, `${run}-timeout.png`) }).catch(() => undefined);
      log(`[${run}] no result after ${TIMEOUT_MS / 1000} s (see test-results/${run}-timeout.png)`);
      code = 1;
    }
    await browser.close().catch(() => undefined);

    let counts;
    if (existsSync(resultsFile)) {
      const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
      const count = (s) => results.filter((x) => x.state === s).length;
      counts = { passed: count('passed'), failed: count('failed'), skipped: count('skipped') };
    }
    return { run, code: typeof code === 'number' ? code : 1, counts, shots, measures };
  } finally {
    stopServer();
    const killer = setTimeout(() => { if (!serverExited) server.kill('SIGKILL'); }, 10_000);
    await serverDone;
    clearTimeout(killer);
  }
}

const summaries = [];
for (const run of RUNS) summaries.push(await runSuite(run));

console.log('');
log('summary');
for (const s of summaries) {
  const what = s.run === 'dev' ? 'development folder (extensionDevelopmentPath)' : 'packaged VSIX installed with --install-extension';
  const counts = s.counts ? `${s.counts.passed} passed, ${s.counts.failed} failed, ${s.counts.skipped} skipped` : 'no results file';
  console.log(`  ${s.run} run (${what}): ${s.code === 0 ? 'PASSED' : 'FAILED'} — ${counts}${s.error ? ` — ${s.error}` : ''}`);
  for (const m of s.measures ?? []) console.log(`    ${m}`);
  if (s.shots?.length) console.log(`    screenshots: ${s.shots.map((f) => f.slice(ROOT.length + 1)).join(', ')}`);
}
if (RUNS.includes('vsix')) console.log(`  VSIX size: ${vsixSize} bytes (${(vsixSize / 1024).toFixed(0)} KiB; limit ${VSIX_LIMIT / 1024} KiB)${vsixSize > VSIX_LIMIT ? ' — TOO LARGE' : ''}`);
if (!grammarOk) console.log('  the grammar check failed (see above)');
if (!webviewOk) console.log('  the webview page check failed (see above)');
const ok = summaries.every((s) => s.code === 0) && grammarOk && webviewOk && vsixSize <= VSIX_LIMIT;
log(`${ok ? 'all passed' : 'FAILED'} after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
process.exit(ok ? 0 : 1);
