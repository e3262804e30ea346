/** `iommu-lens snapshot info FILE [--json] [--all]`: model, registers, memory sources, sanity findings. */
import { parseArgs } from './args';
import { CliError } from './errors';
import { loadSnapshot, type LoadedSnapshot } from '../node/load-snapshot';
import { ManifestError, SnapshotError } from '../core/snapshot/errors';
import { ELF_MACHINES } from '../core/snapshot/elf';
import { toJson } from './walk';

const HELP = `usage: iommu-lens snapshot info FILE [--json] [--all]

Loads a snapshot manifest (.iommu.json), opens its memory sources and prints the IOMMU model,
features, registers, the physical ranges each source provides, and the configuration sanity
findings. Exit status 1 when the manifest is invalid or a finding is an error.
  --all    list every memory range (default: the first 40 per source)
  --json   machine-readable output`;

const hex = (v: bigint): string => '0x' + v.toString(16);

function size(n: bigint): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Number(n);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

export function snapshotInfoJson(s: LoadedSnapshot): Record<string, unknown> {
  const out: Record<string, unknown> = {
    path: s.path,
    model: s.model,
    features: s.features,
    registers: Object.fromEntries(Object.entries(s.registers).map(([k, v]) => [k, hex(v)])),
  };
  if (s.name !== undefined) out.name = s.name;
  if (s.description !== undefined) out.description = s.description;
  if (s.smmuV2) {
    out.smmuV2 = {
      smr: s.smmuV2.smr.map(hex),
      s2cr: s.smmuV2.s2cr.map(hex),
      contextBanks: Object.fromEntries(Object.entries(s.smmuV2.contextBanks).map(([k, cb]) => [k, Object.fromEntries(Object.entries(cb).map(([rk, rv]) => [rk, hex(rv as bigint)]))])),
    };
  }
  out.sources = s.sources.map((src) => ({
    kind: src.kind,
    file: src.file,
    path: src.path,
    size: src.size,
    ...(src.machine !== undefined ? { machine: ELF_MACHINES[src.machine] ?? src.machine } : {}),
    ...(src.notes ? { notes: src.notes } : {}),
    ranges: src.extents.map((e) => ({ start: hex(e.start), end: hex(e.end), label: e.label })),
  }));
  const ranges = s.memory.ranges();
  out.memory = { ranges: ranges.length, bytes: ranges.reduce((a, r) => a + (r.end - r.start), 0n).toString() };
  out.findings = s.findings;
  return out;
}

function toText(s: LoadedSnapshot, all: boolean): string {
  const out: string[] = [];
  out.push(`snapshot: ${s.path}`);
  if (s.description) out.push(`  ${s.description}`);
  out.push(`model: ${s.model}${s.name ? `  (${s.name})` : ''}`);
  const feats = Object.entries(s.features).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`);
  out.push(`features: ${feats.length ? feats.join(' ') : '(none given)'}`);
  out.push('registers:');
  for (const [k, v] of Object.entries(s.registers)) out.push(`  ${k.padEnd(16)} ${hex(v)}`);
  if (s.smmuV2) {
    s.smmuV2.smr.forEach((v, i) => out.push(`  smr[${i}]`.padEnd(19) + hex(v) + `   s2cr[${i}] ${hex(s.smmuV2!.s2cr[i] ?? 0n)}`));
    if (!s.smmuV2.smr.length) s.smmuV2.s2cr.forEach((v, i) => out.push(`  s2cr[${i}]`.padEnd(19) + hex(v)));
    for (const [k, cb] of Object.entries(s.smmuV2.contextBanks)) {
      out.push(`  context bank ${k}: ${Object.entries(cb).map(([rk, rv]) => `${rk}=${hex(rv as bigint)}`).join(' ')}`);
    }
  }
  out.push('memory sources (first listed wins on overlap):');
  for (const src of s.sources) {
    const total = src.extents.reduce((a, e) => a + (e.end - e.start), 0n);
    const mach = src.machine !== undefined ? `, ${ELF_MACHINES[src.machine] ?? `e_machine ${src.machine}`}` : '';
    out.push(`  ${src.kind} ${src.file}  (${size(BigInt(src.size))} file${mach}; ${src.extents.length} range${src.extents.length === 1 ? '' : 's'}, ${size(total)} of memory)`);
    const shown = all ? src.extents : src.extents.slice(0, 40);
    for (const e of shown) out.push(`    ${hex(e.start).padStart(14)} - ${hex(e.end - 1n).padEnd(14)} ${size(e.end - e.start).padStart(9)}${BigInt(e.fileLength) < e.end - e.start ? `  (${size(BigInt(e.fileLength))} in file, rest zero)` : ''}`);
    if (shown.length < src.extents.length) out.push(`    ... ${src.extents.length - shown.length} more (--all)`);
    if (src.notes?.length) {
      const counts = new Map<string, number>();
      for (const n of src.notes) counts.set(`${n.name}/${n.type}`, (counts.get(`${n.name}/${n.type}`) ?? 0) + 1);
      out.push(`    notes: ${[...counts].map(([k, c]) => `${k}${c > 1 ? ` x${c}` : ''}`).join(', ')}`);
    }
  }
  out.push(s.findings.length ? 'sanity findings:' : 'sanity findings: none');
  for (const f of s.findings) out.push(`  ${f.severity.padEnd(7)} ${f.where}: ${f.message}`);
  return out.join('\n');
}

export function runSnapshot(args: string[]): number {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h') { process.stdout.write(HELP + '\n'); return sub ? 0 : 2; }
  if (sub !== 'info') throw new CliError(`snapshot: unknown subcommand '${sub}' (expected 'info')`);
  if (rest.includes('--help') || rest.includes('-h')) { process.stdout.write(HELP + '\n'); return 0; }
  const a = parseArgs(rest, { bools: ['json', 'all'] }, 'snapshot info');
  if (a.positionals.length !== 1) throw new CliError(`snapshot info: expected one manifest FILE, got ${a.positionals.length}`);
  let s: LoadedSnapshot;
  try {
    s = loadSnapshot(a.positionals[0]!);
  } catch (e) {
    if (e instanceof SnapshotError || e instanceof ManifestError) throw new CliError(e.message, 1);
    throw e;
  }
  try {
    process.stdout.write((a.bools.has('json') ? toJson(snapshotInfoJson(s), 2) : toText(s, a.bools.has('all'))) + '\n');
  } finally {
    s.close();
  }
  return s.findings.some((f) => f.severity === 'error') ? 1 : 0;
}
