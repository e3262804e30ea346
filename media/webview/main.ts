/**
 * The "Fault Details" page. Everything shown comes from logs and snapshots written by strangers,
 * so the page is built with createElement/textContent only: no innerHTML, no markup from data.
 */
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { FaultDetails, FromWebview, SourceLine, ToWebview, WalkView } from '../../src/core/protocol';
import type { DecodedRegister } from '../../src/core/decode/register';
import type { WalkStep } from '../../src/core/walk/types';

interface VsCodeApi {
  postMessage(m: FromWebview): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;

interface PageState {
  details: FaultDetails;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, opts: { cls?: string; text?: string; title?: string } = {}, ...kids: (Node | string | undefined)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (opts.cls) e.className = opts.cls;
  if (opts.text !== undefined) e.textContent = opts.text;
  if (opts.title) e.title = opts.title;
  for (const k of kids) if (k !== undefined) e.append(k);
  return e;
}

function custom(tag: string, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
}

function theme(): string {
  const c = document.body.classList;
  for (const t of ['vscode-high-contrast-light', 'vscode-high-contrast', 'vscode-dark', 'vscode-light']) if (c.contains(t)) return t;
  return 'unknown';
}

function lineLink(uri: string | undefined, l: SourceLine): HTMLElement {
  const row = el('li', { cls: 'logline' });
  if (uri) {
    const a = el('a', { cls: 'lineno', text: String(l.line), title: `Show line ${l.line} in the log` });
    a.href = '#';
    a.addEventListener('click', (ev) => { ev.preventDefault(); vscode.postMessage({ type: 'revealLine', uri, line: l.line }); });
    row.append(a);
  } else row.append(el('span', { cls: 'lineno', text: String(l.line) }));
  row.append(el('code', { text: l.text }));
  return row;
}

function keyValueTable(rows: [string, string][]): HTMLTableElement {
  const t = el('table', { cls: 'kv' });
  for (const [k, v] of rows) t.append(el('tr', {}, el('th', { text: k }), el('td', {}, el('code', { text: v }))));
  return t;
}

function registerSection(d: DecodedRegister): HTMLElement {
  const shown = d.fields.filter((f) => f.active || f.valueName !== undefined);
  const table = el('table', { cls: 'fields' });
  table.append(el('tr', {}, el('th', { text: 'field' }), el('th', { text: 'bits' }), el('th', { text: 'value' }), el('th', { text: 'meaning' })));
  for (const f of shown) {
    const tr = el('tr', { cls: f.reserved && f.active ? 'reserved' : f.active ? 'active' : '' },
      el('td', { text: f.name, title: f.title }), el('td', { cls: 'bits', text: f.bits }),
      el('td', {}, el('code', { text: f.value }), f.valueName ? ` ${f.valueName}` : undefined),
      el('td', { text: f.meaning + (f.reserved && f.active ? ' (reserved bits set)' : '') }));
    table.append(tr);
  }
  const body = el('div', { cls: 'register' });
  if (d.summary) body.append(el('p', { cls: 'summary', text: d.summary }));
  body.append(shown.length ? table : el('p', { cls: 'muted', text: 'no field set' }));
  const hidden = d.fields.length - shown.length;
  if (hidden > 0) body.append(el('p', { cls: 'muted', text: `${hidden} clear field${hidden === 1 ? '' : 's'} not shown` }));
  return custom('vscode-collapsible', { heading: `${d.name} = ${d.value}`, description: d.title, open: '' }, body);
}

function decodedText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function stepCard(s: WalkStep, i: number): HTMLElement {
  const card = el('li', { cls: s.ok ? 'step' : 'step failing' });
  card.dataset['index'] = String(i);
  const head = el('div', { cls: 'step-head' },
    el('span', { cls: 'step-no', text: String(i + 1) }),
    el('span', { cls: 'structure', text: s.structure }),
    s.level !== undefined ? el('span', { cls: 'level', text: `level ${s.level}` }) : undefined,
    s.stage ? el('span', { cls: 'level', text: s.stage }) : undefined,
    el('span', { cls: s.ok ? 'verdict ok' : 'verdict bad', text: s.ok ? 'ok' : 'FAILS HERE' }));
  card.append(head);
  const rows: [string, string][] = [];
  if (s.address) rows.push(['read at', s.address]);
  if (s.value) rows.push(['value', s.value]);
  if (rows.length) card.append(keyValueTable(rows));
  if (s.decoded && Object.keys(s.decoded).length) {
    const dl = el('div', { cls: 'decoded' });
    for (const [k, v] of Object.entries(s.decoded)) dl.append(el('span', { cls: 'pair' }, el('span', { cls: 'k', text: k }), '=', el('span', { cls: 'v', text: decodedText(v) })));
    card.append(dl);
  }
  if (s.rule) card.append(el('p', { cls: 'rule', text: s.rule }));
  return card;
}

function walkSection(w: WalkView): { node: HTMLElement; steps: number; failing?: number } {
  const box = el('section', { cls: 'walk' }, el('h2', { text: 'Page walk' }));
  const req = w.request;
  const reqBits = [`IOVA ${req.iova}`, req.streamId !== undefined ? `stream ${req.streamId}` : '', req.device ? `device ${req.device}` : '',
    req.pasid !== undefined ? `PASID ${req.pasid}` : '', req.contextBank !== undefined ? `context bank ${req.contextBank}` : '', req.access ?? ''].filter(Boolean);
  box.append(el('p', { cls: 'request', text: `${reqBits.join(' · ')} — snapshot ${w.snapshot}` }));
  if (w.error) {
    box.append(el('p', { cls: 'error', text: `The walk could not run: ${w.error}` }));
    return { node: box, steps: 0 };
  }
  const r = w.result!;
  const outcome = r.result === 'translated'
    ? `Translates to ${r.pa ?? '?'}${r.pageSize ? ` (${r.pageSize} byte page)` : ''}${r.permissions ? `, ${['read', 'write', 'exec'].filter((p) => r.permissions![p as 'read']).join('+') || 'no access'}` : ''}`
    : `Fails at ${r.fault?.stage ?? '?'}${r.fault?.level !== undefined ? ` level ${r.fault.level}` : ''}: ${r.fault ? `${r.fault.reason.name} — ${r.fault.reason.text}` : ''}`;
  box.append(el('p', { cls: r.result === 'translated' ? 'outcome ok' : 'outcome bad', text: outcome }));
  const chain = el('ol', { cls: 'chain' });
  let failing: number | undefined;
  r.steps.forEach((s, i) => {
    if (!s.ok && failing === undefined) failing = i;
    chain.append(stepCard(s, i));
  });
  if (r.result === 'translated' && r.pa) chain.append(el('li', { cls: 'step final' }, el('div', { cls: 'step-head' }, el('span', { cls: 'structure', text: `physical address ${r.pa}` }))));
  box.append(chain);
  if (r.culprit) {
    box.append(el('div', { cls: `culprit ${r.culprit.confidence}` },
      el('h3', { text: 'Suspected culprit' }),
      el('p', {}, el('strong', { text: r.culprit.party }), custom('vscode-badge', {}, `${r.culprit.confidence} confidence`)),
      el('p', { text: r.culprit.why })));
  }
  if (r.findings?.length) {
    const ul = el('ul', { cls: 'findings' });
    for (const f of r.findings) ul.append(el('li', { cls: f.severity, text: `${f.severity}: ${f.where} — ${f.message}` }));
    box.append(el('h3', { text: 'Configuration findings' }), ul);
  }
  const again = custom('vscode-button', { secondary: '' }, 'Walk again');
  again.addEventListener('click', () => vscode.postMessage({ type: 'walkAgain' }));
  box.append(again);
  return { node: box, steps: r.steps.length, ...(failing !== undefined ? { failing } : {}) };
}

function render(d: FaultDetails): void {
  app.replaceChildren();
  const head = el('header', {}, el('h1', { text: d.title }));
  const rec = d.record;
  if (rec) {
    const badges = el('div', { cls: 'badges' }, custom('vscode-badge', {}, rec.family), custom('vscode-badge', {}, rec.kind));
    if (d.groupCount && d.groupCount > 1) badges.append(custom('vscode-badge', { variant: 'counter' }, `${d.groupCount}× in this log`));
    head.append(badges);
    if (rec.reason) head.append(el('p', { cls: 'reason', text: [rec.reason.name, rec.reason.code !== undefined && String(rec.reason.code) !== rec.reason.name ? `(code ${rec.reason.code})` : '', rec.reason.text].filter(Boolean).join(' ') }));
  }
  app.append(head);
  if (rec) {
    const rows: [string, string][] = [];
    const push = (k: string, v: unknown) => { if (v !== undefined && v !== '') rows.push([k, String(v)]); };
    push('IOMMU', rec.iommu); push('device', rec.device); push('stream', rec.streamId); push('substream', rec.substreamId);
    push('PASID', rec.pasid); push('domain', rec.domain); push('context bank', rec.contextBank); push('address', rec.iova);
    push('access', rec.access); push('time', rec.time !== undefined ? `${rec.time} s` : undefined);
    if (rows.length) app.append(keyValueTable(rows));
  }
  let steps = 0;
  let failing: number | undefined;
  if (d.walk) {
    const w = walkSection(d.walk);
    steps = w.steps;
    failing = w.failing;
    app.append(w.node);
  }
  if (d.registers.length) {
    const sec = el('section', { cls: 'registers' }, el('h2', { text: 'Registers' }));
    for (const r of d.registers) sec.append(registerSection(r));
    app.append(sec);
  } else if (rec?.registers && Object.keys(rec.registers).length) {
    app.append(el('section', {}, el('h2', { text: 'Registers' }), keyValueTable(Object.entries(rec.registers))));
  }
  if (d.lines.length) {
    const ul = el('ul', { cls: 'lines' });
    for (const l of d.lines) ul.append(lineLink(d.uri, l));
    app.append(el('section', {}, el('h2', { text: 'Log lines' }), ul));
  }
  if (d.related?.length) {
    const ul = el('ul', { cls: 'lines' });
    for (const l of d.related) ul.append(lineLink(d.uri, l));
    app.append(el('section', {}, el('h2', { text: `Same fault elsewhere in the log${d.groupCount ? ` (${d.groupCount} in all)` : ''}` }), ul));
  }
  // The failing step is what the user came for: bring it into view on long walks.
  document.querySelector('li.step.failing')?.scrollIntoView({ block: 'center' });
  const msg: FromWebview = { type: 'rendered', title: d.title, steps, registers: d.registers.length, theme: theme() };
  if (failing !== undefined) msg.failingStep = failing;
  vscode.postMessage(msg);
}

window.addEventListener('message', (ev: MessageEvent<unknown>) => {
  const m = ev.data as ToWebview | undefined;
  if (!m || typeof m !== 'object' || m.type !== 'show' || !m.details) return;
  const state: PageState = { details: m.details };
  vscode.setState(state);
  render(m.details);
});

const saved = vscode.getState() as PageState | undefined;
if (saved?.details) render(saved.details);
vscode.postMessage({ type: 'ready', hasState: !!saved?.details });
