/**
 * `iommu-lens walk SNAPSHOT --iova ADDR [--stream N | --device BDF] [--pasid N] [--context-bank N]
 *  [--access read|write|exec] [--json]`, with repeated --iova and --batch FILE (DESIGN.md contract).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from './args';
import { CliError, fileError } from './errors';
import { flushOut, writeOut } from './output';
import { loadSnapshot, type LoadedSnapshot } from '../node/load-snapshot';
import { walk } from '../core/walk/index';
import type { Access, WalkRequest, WalkResult } from '../core/walk/types';
import { normalizeBdf, parseHex } from '../core/logs/normalize';
import { ManifestError, SnapshotError } from '../core/snapshot/errors';

const HELP = `usage: iommu-lens walk SNAPSHOT --iova ADDR [--iova ADDR...] [options]
       iommu-lens walk SNAPSHOT --batch FILE [options]

Walks the IOMMU translation of each address through the snapshot's tables (SNAPSHOT is a
.iommu.json manifest, see docs/snapshot-format.md) and prints every structure read.
  --iova ADDR          input address (hex, 0x optional); may be repeated
  --stream N           SMMU stream ID / requester ID (0x-hex or decimal)
  --device BDF         PCI device DDDD:BB:DD.F (VT-d, AMD-Vi)
  --pasid N            PASID / substream ID
  --context-bank N     SMMUv2 context bank (when no stream mapping should be used)
  --access A           read, write or exec: also check permissions for that access
  --batch FILE         one request per line ('-' reads stdin): ADDR [stream=N|device=BDF] [pasid=N] [access=A]
                       [context-bank=N]; '#' starts a comment; options above are defaults
  --faulted            the addresses are known to have faulted (sharpens the culprit)
  --fail-on-fault      exit 1 when any walk ends in a fault
  --json               JSON: one object, or NDJSON (one per request, with "request") for several`;

export interface CliRequest {
  req: WalkRequest;
  /** echo for NDJSON, with the contract's names */
  echo: Record<string, string | number>;
}

function parseNumber(s: string, what: string): number {
  const t = s.trim();
  let v: number | undefined;
  if (/^0x[0-9a-f]{1,8}$/i.test(t)) v = Number.parseInt(t.slice(2), 16);
  else if (/^[0-9]{1,10}$/.test(t)) v = Number.parseInt(t, 10);
  if (v === undefined || v > 0xffff_ffff) throw new CliError(`walk: ${what}: expected a number (decimal or 0x-hex), got '${s}'`);
  return v;
}

function parseAddr(s: string, what: string): bigint {
  const v = parseHex(s);
  if (v === undefined || v >> 64n !== 0n) throw new CliError(`walk: ${what}: expected a hex address like 0xffeb4206, got '${s}'`);
  return v;
}

function parseAccess(s: string, what: string): Access {
  if (s === 'read' || s === 'write' || s === 'exec') return s;
  throw new CliError(`walk: ${what}: expected read, write or exec, got '${s}'`);
}

interface Defaults {
  stream?: number;
  device?: string;
  pasid?: number;
  contextBank?: number;
  access?: Access;
}

function makeRequest(iova: bigint, d: Defaults): CliRequest {
  const req: WalkRequest = { iova };
  const echo: Record<string, string | number> = { iova: '0x' + iova.toString(16) };
  if (d.stream !== undefined) { req.streamId = d.stream; echo.stream = '0x' + d.stream.toString(16); }
  if (d.device !== undefined) { req.device = d.device; echo.device = d.device; }
  if (d.pasid !== undefined) { req.pasid = d.pasid; echo.pasid = d.pasid; }
  if (d.contextBank !== undefined) { req.contextBank = d.contextBank; echo.contextBank = d.contextBank; }
  if (d.access !== undefined) { req.access = d.access; echo.access = d.access; }
  return { req, echo };
}

function parseDevice(s: string, what: string): string {
  const b = normalizeBdf(s);
  if (!b) throw new CliError(`walk: ${what}: expected a PCI address like 0000:00:03.0, got '${s}'`);
  return b;
}

/** One batch line: `ADDR [stream=N|device=BDF] [pasid=N] [access=A] [context-bank=N]`. */
export function parseBatchLine(line: string, where: string, defaults: Defaults): CliRequest | undefined {
  const text = line.replace(/#.*$/, '').trim();
  if (!text) return undefined;
  const [addr, ...rest] = text.split(/\s+/);
  const d: Defaults = { ...defaults };
  for (const kv of rest) {
    const m = /^([a-z-]{1,16})=(\S{1,64})$/.exec(kv);
    if (!m) throw new CliError(`walk: ${where}: expected KEY=VALUE (stream, device, pasid, access, context-bank), got '${kv}'`);
    const [, k, v] = m;
    if (k === 'stream' || k === 'sid') { d.stream = parseNumber(v!, `${where}: stream`); delete d.device; }
    else if (k === 'device' || k === 'bdf') { d.device = parseDevice(v!, `${where}: device`); delete d.stream; }
    else if (k === 'pasid' || k === 'ssid') d.pasid = parseNumber(v!, `${where}: pasid`);
    else if (k === 'access') d.access = parseAccess(v!, `${where}: access`);
    else if (k === 'context-bank' || k === 'cb') d.contextBank = parseNumber(v!, `${where}: context-bank`);
    else throw new CliError(`walk: ${where}: unknown key '${k}' (stream, device, pasid, access, context-bank)`);
  }
  return makeRequest(parseAddr(addr!, `${where}: address`), d);
}

/** JSON with bigints as hex strings: decoded fields may carry raw 64-bit values. */
export function toJson(v: unknown, indent?: number): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? '0x' + x.toString(16) : x), indent);
}

function short(v: unknown): string {
  if (typeof v === 'bigint') return '0x' + v.toString(16);
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return toJson(v);
}

function decodedSummary(d: Record<string, unknown> | undefined, max = 100): string {
  if (!d) return '';
  const s = Object.entries(d).map(([k, v]) => `${k}=${short(v)}`).join(' ');
  return s.length > max ? s.slice(0, max - 3) + '...' : s;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function resultToText(r: WalkResult, echo: Record<string, string | number>): string {
  const out: string[] = [];
  out.push(`walk ${Object.entries(echo).map(([k, v]) => (k === 'iova' ? String(v) : `${k}=${v}`)).join(' ')}`);
  const rows = r.steps.map((s, i) => [
    String(i + 1),
    s.ok ? 'ok' : 'FAIL',
    (s.stage ? `[${s.stage}] ` : '') + s.structure,
    s.level !== undefined ? String(s.level) : '',
    s.address ?? '',
    // wide entries (STE, CD: 512 bits) show their low end, where the fields a walk uses live
    s.value && s.value.length > 34 ? '…' + s.value.slice(-33) : (s.value ?? ''),
    decodedSummary(s.decoded),
  ]);
  const head = ['#', '', 'structure', 'lvl', 'address', 'value', 'decoded'];
  const widths = head.map((h, c) => Math.min(c === 5 ? 34 : 40, Math.max(h.length, ...rows.map((row) => row[c]!.length))));
  if (rows.length) {
    out.push('  ' + head.map((h, c) => pad(h, widths[c]!)).join('  ').trimEnd());
    for (const [i, row] of rows.entries()) {
      out.push('  ' + row.map((x, c) => (c === row.length - 1 ? x : pad(x, widths[c]!))).join('  ').trimEnd());
      const rule = r.steps[i]!.rule;
      if (rule && !r.steps[i]!.ok) out.push(`      rule: ${rule}`);
    }
  } else {
    out.push('  (no structure read)');
  }
  if (r.result === 'translated') {
    const p = r.permissions;
    const perms = p ? `${p.read ? 'r' : '-'}${p.write ? 'w' : '-'}${p.exec ? 'x' : '-'}${p.user === undefined ? '' : p.user ? ' user' : ' priv'}` : '';
    out.push(`result: translated -> ${r.pa}${r.pageSize ? `  (${r.pageSize >= 1 << 20 ? `${r.pageSize / (1 << 20)} MiB` : `${r.pageSize / 1024} KiB`} page)` : ''}${perms ? `  ${perms}` : ''}`);
  } else if (r.fault) {
    const f = r.fault;
    out.push(`result: fault at ${f.stage}${f.level !== undefined ? ` level ${f.level}` : ''}: ${f.reason.code !== undefined ? `${typeof f.reason.code === 'number' ? '0x' + f.reason.code.toString(16) : f.reason.code} ` : ''}${f.reason.name} — ${f.reason.text}`);
  }
  if (r.culprit) {
    out.push(`suspected culprit (${r.culprit.confidence} confidence): ${r.culprit.party}`);
    out.push(`  why: ${r.culprit.why}`);
  }
  for (const f of r.findings ?? []) out.push(`  ${f.severity}: ${f.where}: ${f.message}`);
  return out.join('\n');
}

export async function runWalk(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) { process.stdout.write(HELP + '\n'); return 0; }
  const a = parseArgs(args, { values: ['iova', 'stream', 'device', 'pasid', 'context-bank', 'access', 'batch'], bools: ['json', 'faulted', 'fail-on-fault'] }, 'walk');
  if (a.positionals.length !== 1) throw new CliError(`walk: expected one SNAPSHOT manifest, got ${a.positionals.length} (see 'iommu-lens walk --help')`);
  const one = (k: string): string | undefined => {
    const v = a.flags.get(k);
    if (v && v.length > 1) throw new CliError(`walk: --${k} given ${v.length} times`);
    return v?.[0];
  };
  const d: Defaults = {};
  const stream = one('stream');
  const device = one('device');
  if (stream !== undefined && device !== undefined) throw new CliError('walk: give --stream or --device, not both');
  if (stream !== undefined) d.stream = parseNumber(stream, '--stream');
  if (device !== undefined) d.device = parseDevice(device, '--device');
  const pasid = one('pasid');
  if (pasid !== undefined) d.pasid = parseNumber(pasid, '--pasid');
  const cb = one('context-bank');
  if (cb !== undefined) d.contextBank = parseNumber(cb, '--context-bank');
  const access = one('access');
  if (access !== undefined) d.access = parseAccess(access, '--access');

  const requests: CliRequest[] = (a.flags.get('iova') ?? []).map((s) => makeRequest(parseAddr(s, '--iova'), d));
  for (const file of a.flags.get('batch') ?? []) {
    let text: string;
    try {
      // '-': requests piped in, e.g. from `iommu-lens scan --json | jq`
      text = readFileSync(file === '-' ? 0 : file, 'utf8');
    } catch (e) {
      throw fileError(file, e);
    }
    text.split(/\r?\n/).forEach((line, i) => {
      const r = parseBatchLine(line, `${file}:${i + 1}`, d);
      if (r) requests.push(r);
    });
  }
  if (!requests.length) throw new CliError('walk: give at least one --iova ADDR or --batch FILE');

  let snap: LoadedSnapshot;
  try {
    snap = loadSnapshot(a.positionals[0]!);
  } catch (e) {
    if (e instanceof SnapshotError || e instanceof ManifestError) throw new CliError(e.message, 1);
    throw e;
  }
  const json = a.bools.has('json');
  const faulted = a.bools.has('faulted');
  let faults = 0;
  try {
    if (!json) {
      const errors = snap.findings.filter((f) => f.severity === 'error');
      for (const f of errors) process.stderr.write(`iommu-lens: snapshot: ${f.where}: ${f.message}\n`);
    }
    requests.forEach((r, i) => {
      const res = walk(snap, r.req, faulted ? { faulted: true } : {});
      if (res.result === 'fault') faults++;
      if (json) writeOut(requests.length > 1 ? toJson({ request: r.echo, ...res }) + '\n' : toJson(res, 2) + '\n');
      else writeOut((i ? '\n' : '') + resultToText(res, r.echo) + '\n');
    });
  } finally {
    snap.close();
  }
  await flushOut();
  return faults && a.bools.has('fail-on-fault') ? 1 : 0;
}
