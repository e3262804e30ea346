#!/usr/bin/env node
// Tokenises the example log with syntaxes/kernel-log.tmLanguage.json using the TextMate engine of
// the installed code-server (vscode-textmate + vscode-oniguruma, as VS Code 1.100.3 runs them)
// and checks the scopes of known tokens. The web workbench offers no API to read tokens, so this
// runs beside the integration suite (scripts/integration.mjs calls it) rather than inside it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LIB = join(ROOT, '.vscode-test/code-server/node_modules/code-server/lib/vscode/node_modules');
const require = createRequire(import.meta.url);
const tm = require(join(LIB, 'vscode-textmate/release/main.js'));
const onig = require(join(LIB, 'vscode-oniguruma/release/main.js'));

await onig.loadWASM(readFileSync(join(LIB, 'vscode-oniguruma/release/onig.wasm')).buffer);
const registry = new tm.Registry({
  onigLib: Promise.resolve({ createOnigScanner: (p) => new onig.OnigScanner(p), createOnigString: (s) => new onig.OnigString(s) }),
  loadGrammar: async () => tm.parseRawGrammar(readFileSync(join(ROOT, 'syntaxes/kernel-log.tmLanguage.json'), 'utf8'), 'kernel-log.tmLanguage.json'),
});
const grammar = await registry.loadGrammar('text.kernel-log');
const lines = readFileSync(join(ROOT, 'examples/mixed-faults.log'), 'utf8').split('\n');
const tokens = new Map();
let state = tm.INITIAL;
for (const line of lines) {
  const r = grammar.tokenizeLine(line, state);
  state = r.ruleStack;
  for (const t of r.tokens) {
    const text = line.slice(t.startIndex, t.endIndex);
    if (!tokens.has(text)) tokens.set(text, t.scopes.join(' '));
  }
}
const expect = [
  ['[  182.241811]', 'comment.other.timestamp.kernel-log'],
  ['0000:00:02.0', 'constant.other.pci-address.kernel-log'],
  ['0x7f3a1000', 'constant.numeric.hex.kernel-log'],
  ['Unhandled context fault', 'invalid.illegal.fault.kernel-log'],
  ['IO_PAGE_FAULT', 'invalid.illegal.fault.kernel-log'],
  ['[DMA Read NO_PASID]', 'invalid.illegal.fault.kernel-log'],
  ['PTE Read access is not set', 'invalid.illegal.fault.kernel-log'],
  ['fsynr', 'variable.parameter.name.kernel-log'],
  ['XEN', 'keyword.other.xen.kernel-log'],
  ['AMD-Vi', 'entity.name.type.iommu.kernel-log'],
  ['DMAR', 'entity.name.type.iommu.kernel-log'],
];
let bad = 0;
for (const [text, scope] of expect) {
  const got = tokens.get(text) ?? '(no such token)';
  if (!got.split(' ').includes(scope)) { bad++; console.error(`grammar: "${text}" has scopes "${got}", expected ${scope}`); }
}
console.log(`grammar: ${expect.length - bad}/${expect.length} token scopes as expected`);
process.exit(bad ? 1 : 0);
