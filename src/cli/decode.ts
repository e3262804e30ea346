/** `iommu-lens decode "LINE"` and `iommu-lens decode --family F reg=value...` */
import { parseArgs } from './args';
import { CliError } from './errors';
import { scanText } from '../core/logs/scanner';
import { recordToJson, type FaultRecord } from '../core/logs/record';
import { decodeNamedValues, decodeRecordRegisters, registerToText } from '../core/decode/explain';
import type { DecodedRegister } from '../core/decode/register';

const HELP = `usage: iommu-lens decode "LOG LINE(S)" [--json] [--all]
       iommu-lens decode --family FAMILY NAME=VALUE... [--json] [--all]

Decodes a fault print (several lines may be given, separated by newlines) or raw register values.
  --family F   arm-smmu, arm-smmu-v3, intel-vtd, amd-vi, ...
  --all        list every field, set or not
  --json       machine-readable output`;

function recordToText(r: FaultRecord, regs: DecodedRegister[], all: boolean): string {
  const out: string[] = [];
  out.push(`${r.family} ${r.kind}${r.host === 'xen' ? ' (printed by Xen)' : ''}  line ${r.line}${r.endLine ? `–${r.endLine}` : ''}`);
  const ids: [string, unknown][] = [
    ['iommu', r.iommu], ['device', r.device], ['stream ID', r.streamId], ['substream ID', r.substreamId],
    ['PASID', r.pasid], ['domain', r.domain], ['context bank', r.contextBank], ['address', r.iova], ['access', r.access], ['time', r.time],
  ];
  for (const [k, v] of ids) if (v !== undefined) out.push(`  ${k}: ${v}`);
  if (r.reason) out.push(`  reason: ${[r.reason.code !== undefined ? String(r.reason.code) : '', r.reason.name ?? '', r.reason.text ? '— ' + r.reason.text : ''].filter(Boolean).join(' ')}`);
  for (const d of regs) out.push(registerToText(d, { all }).replace(/^/gm, '  '));
  return out.join('\n');
}

export function runDecode(args: string[]): number {
  if (args.includes('--help') || args.includes('-h')) { process.stdout.write(HELP + '\n'); return 0; }
  const a = parseArgs(args, { values: ['family'], bools: ['json', 'all'] }, 'decode');
  const json = a.bools.has('json');
  const all = a.bools.has('all');
  const family = a.flags.get('family')?.[0];
  if (family) {
    const pairs: Record<string, string> = {};
    for (const p of a.positionals) {
      const m = /^([A-Za-z][\w.]*)=(\S+)$/.exec(p);
      if (!m) throw new CliError(`decode: expected NAME=VALUE, got '${p}'`);
      pairs[m[1]!] = m[2]!;
    }
    if (!Object.keys(pairs).length) throw new CliError('decode: --family needs at least one NAME=VALUE');
    const { decoded, unknown } = decodeNamedValues(family, pairs);
    if (!decoded.length && unknown.length) throw new CliError(`decode: no register named ${unknown.join(', ')} is known for family '${family}'`);
    if (json) process.stdout.write(JSON.stringify({ family, registers: decoded }, null, 2) + '\n');
    else process.stdout.write(decoded.map((d) => registerToText(d, { all })).join('\n\n') + '\n');
    if (unknown.length) process.stderr.write(`iommu-lens: decode: not known for ${family}: ${unknown.join(', ')}\n`);
    return 0;
  }
  if (!a.positionals.length) throw new CliError('decode: give a log line, or --family F NAME=VALUE (see iommu-lens decode --help)');
  const records = scanText(a.positionals.join('\n'));
  if (!records.length) {
    process.stderr.write('iommu-lens: decode: no IOMMU fault print recognised in the given text\n');
    return 1;
  }
  for (const r of records) {
    const regs = decodeRecordRegisters(r);
    if (json) process.stdout.write(JSON.stringify({ record: JSON.parse(recordToJson(r)), registers: regs }, null, 2) + '\n');
    else process.stdout.write(recordToText(r, regs, all) + '\n');
  }
  return 0;
}
