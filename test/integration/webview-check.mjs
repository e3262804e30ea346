#!/usr/bin/env node
// The Fault Details page outside VS Code (Debian chromium + playwright-core): a fake
// acquireVsCodeApi, a page built like the host's (strict CSP, nonce'd script), and details full of
// hostile log text. Checks that nothing from the data runs or becomes markup, that the failing
// step is marked, and that the page redraws itself from its persisted state after a reload.
import { readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(join(ROOT, 'dist/webview.js'))) { console.error('webview: run npm run build first'); process.exit(2); }
if (!existsSync(CHROMIUM)) { console.error(`webview: no chromium at ${CHROMIUM}`); process.exit(2); }

const nonce = 'n0nce' + Date.now();
const html = `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src http://localhost:*; script-src 'nonce-${nonce}'">
<link rel="stylesheet" href="/style.css"></head>
<body class="vscode-dark"><main id="app"></main>
<script nonce="${nonce}">
  window.__posted = [];
  const saved = sessionStorage.getItem('state');
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(m),
    getState: () => (saved ? JSON.parse(saved) : undefined),
    setState: (s) => sessionStorage.setItem('state', JSON.stringify(s)),
  });
</script>
<script nonce="${nonce}" src="/webview.js"></script></body></html>`;
const server = createServer((req, res) => {
  if (req.url === '/') { res.setHeader('content-type', 'text/html'); res.end(html); return; }
  if (req.url === '/webview.js') { res.setHeader('content-type', 'text/javascript'); res.end(readFileSync(join(ROOT, 'dist/webview.js'))); return; }
  if (req.url === '/style.css') { res.setHeader('content-type', 'text/css'); res.end(readFileSync(join(ROOT, 'media/webview/style.css'))); return; }
  res.statusCode = 404; res.end();
});
await new Promise((r) => server.listen(0, 'localhost', r));
const url = `http://localhost:${server.address().port}/`;

const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
const details = {
  title: `arm-smmu context-fault ${evil}`,
  uri: 'file:///tmp/x.log',
  record: { line: 3, family: 'arm-smmu', kind: 'context-fault', iommu: evil, iova: '0x1000', reason: { name: 'TF', text: evil } },
  registers: [{ id: 'arm-smmu.fsr', name: 'CB_FSR', title: evil, value: '0x402', summary: 'TF', fields: [{ name: 'TF', bits: '1', title: 't', value: '1', meaning: evil, active: true }] }],
  lines: [{ line: 3, text: `arm-smmu ${evil}: Unhandled context fault` }],
  walk: { snapshot: 's.iommu.json', request: { iova: '0x1000' }, result: { result: 'fault', steps: [
    { structure: 'STE', address: '0x10', value: '0x1', ok: true, rule: evil },
    { structure: 'PTE', level: 3, address: '0x20', value: '0x0', ok: false, decoded: { valid: false, note: evil } },
  ], fault: { stage: 'table-entry', level: 3, reason: { name: 'F_TRANSLATION', text: evil } }, culprit: { party: evil, confidence: 'medium', why: evil } } },
};

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
let failures = 0;
const check = (ok, what) => { if (!ok) { failures++; console.error(`webview: FAIL ${what}`); } };
try {
  const page = await browser.newPage();
  const cspErrors = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text()); });
  await page.goto(url);
  await page.waitForFunction(() => window.__posted.some((m) => m.type === 'ready'));
  await page.evaluate((d) => window.postMessage({ type: 'show', details: d }, '*'), details);
  await page.waitForFunction(() => window.__posted.some((m) => m.type === 'rendered'));
  const rendered = await page.evaluate(() => window.__posted.find((m) => m.type === 'rendered'));
  check(rendered.steps === 2 && rendered.failingStep === 1, `rendered message ${JSON.stringify(rendered)}`);
  check(rendered.theme === 'vscode-dark', 'theme class');
  check(await page.evaluate(() => window.__pwned === undefined), 'data ran as script');
  check(await page.evaluate(() => document.querySelectorAll('#app img, #app script').length === 0), 'data became markup');
  check((await page.textContent('h1')).includes('<img src=x'), 'title shown as text');
  check(await page.evaluate(() => document.querySelector('li.step.failing .structure')?.textContent === 'PTE'), 'failing step marked');
  check((await page.textContent('.culprit')).includes('<script>'), 'culprit shown as text');
  await page.click('a.lineno');
  check(await page.evaluate(() => window.__posted.some((m) => m.type === 'revealLine' && m.line === 3 && m.uri === 'file:///tmp/x.log')), 'log line link posts revealLine');
  // Reload: the page draws the same details from its persisted state, unasked.
  await page.reload();
  await page.waitForFunction(() => window.__posted.some((m) => m.type === 'rendered'));
  const ready = await page.evaluate(() => window.__posted.find((m) => m.type === 'ready'));
  check(ready.hasState === true, 'state restored after reload');
  check((await page.textContent('h1')).startsWith('arm-smmu context-fault'), 'same page after reload');
  check(cspErrors.length === 0, `CSP violations: ${cspErrors.join(' | ')}`);
} finally {
  await browser.close();
  server.close();
}
console.log(`webview: ${failures ? `${failures} check(s) failed` : 'all checks passed'}`);
process.exit(failures ? 1 : 0);
