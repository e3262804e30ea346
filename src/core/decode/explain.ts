/**
 * Full decode of a fault record: every raw register in the record decoded against its
 * description. Shared by the CLI's `decode`, the hover and the details webview.
 */
import type { FaultRecord } from '../logs/record';
import { decodeRegister, type DecodedRegister } from './register';
import { registersOfFamily } from './registers';
import { parseHex } from '../logs/normalize';

export function decodeRecordRegisters(r: FaultRecord): DecodedRegister[] {
  const out: DecodedRegister[] = [];
  const descs = registersOfFamily(r.family);
  for (const [key, raw] of Object.entries(r.registers ?? {})) {
    const d = descs.get(key);
    const v = parseHex(raw);
    if (d && v !== undefined) out.push(decodeRegister(d, v));
  }
  // A printed reason code (VT-d "[fault reason 0x06]") is a field, not a register: decode it
  // against the family's 'reason' code table when it has one and no register carried it.
  const rd = descs.get('reason');
  const code = r.reason?.code;
  if (rd && typeof code === 'number' && Number.isInteger(code) && code >= 0 && !(r.registers && 'reason' in r.registers)) {
    out.push(decodeRegister(rd, BigInt(code)));
  }
  return out;
}

/** Decode loose `name=value` pairs for a family (the CLI's `decode --family F fsr=0x402`). */
export function decodeNamedValues(family: string, pairs: Record<string, string>): { decoded: DecodedRegister[]; unknown: string[] } {
  const descs = registersOfFamily(family);
  const decoded: DecodedRegister[] = [];
  const unknown: string[] = [];
  for (const [k, raw] of Object.entries(pairs)) {
    const d = descs.get(k.toLowerCase());
    const v = parseHex(raw) ?? (/^\d+$/.test(raw) ? BigInt(raw) : undefined);
    if (!d || v === undefined) { unknown.push(k); continue; }
    decoded.push(decodeRegister(d, v));
  }
  return { decoded, unknown };
}

/** Plain-text table of a decoded register (CLI). */
export function registerToText(d: DecodedRegister, opts: { all?: boolean } = {}): string {
  const lines = [`${d.name} = ${d.value}  ${d.title}${d.summary ? `  [${d.summary}]` : ''}`];
  const rows = d.fields.filter((f) => opts.all || f.active || f.valueName !== undefined);
  const w = Math.max(4, ...rows.map((f) => f.name.length));
  const wb = Math.max(4, ...rows.map((f) => f.bits.length));
  for (const f of rows) {
    const name = f.valueName ? `${f.value} ${f.valueName}` : f.value;
    lines.push(`  ${f.name.padEnd(w)}  [${f.bits.padStart(wb)}]  ${name.padEnd(10)}  ${f.meaning}${f.reserved && f.active ? '  (reserved bits set!)' : ''}`);
  }
  return lines.join('\n');
}

/** Markdown table of a decoded register (hover, report). Text is escaped for Markdown. */
export function registerToMarkdown(d: DecodedRegister): string {
  const esc = (s: string) => s.replace(/[\\`*_{}[\]()#+!|<>]/g, (c) => '\\' + c);
  const rows = d.fields.filter((f) => f.active || f.valueName !== undefined);
  const head = `**${esc(d.name)}** \`${d.value}\` — ${esc(d.title)}`;
  if (!rows.length) return head + '\n\n_no field set_';
  return [head, '', '| field | bits | value | meaning |', '|---|---|---|---|',
    ...rows.map((f) => `| ${esc(f.name)} | ${f.bits} | \`${f.value}\`${f.valueName ? ' ' + esc(f.valueName) : ''} | ${esc(f.meaning)} |`)].join('\n');
}
