/**
 * Writes a test snapshot folder: physical memory (a SparseMemory) as an ELF core or raw files,
 * plus a manifest in the iommu-lens-snapshot v1 format. Register values may be given as bigint
 * or hex strings; they are written as hex strings as the format requires.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SparseMemory } from './sparse-memory';
import { writeElfCore, type ElfCoreOptions } from './elf-writer';
import type { IommuFeatures, IommuModel } from '../../src/core/snapshot/types';

type Reg = bigint | string;

export interface SnapshotSpec {
  model: IommuModel;
  name?: string;
  description?: string;
  features?: IommuFeatures;
  /** flat registers; for arm-smmu-v2 also `smr`, `s2cr` arrays and `contextBanks` */
  registers: Record<string, Reg | Reg[] | Record<string, Record<string, Reg>>>;
  memory: SparseMemory;
  /** 'elf' (default): one core; 'raw': one file per contiguous run of pages */
  memoryAs?: 'elf' | 'raw';
  elf?: ElfCoreOptions & { zeroTail?: boolean };
  /** manifest file name (default snapshot.iommu.json) */
  manifestName?: string;
}

const hex = (v: Reg): string => (typeof v === 'bigint' ? '0x' + v.toString(16) : v);

function regsToJson(regs: SnapshotSpec['registers']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(regs)) {
    if (Array.isArray(v)) out[k] = v.map(hex);
    else if (typeof v === 'object') {
      const banks: Record<string, Record<string, string>> = {};
      for (const [bk, bv] of Object.entries(v)) banks[bk] = Object.fromEntries(Object.entries(bv).map(([rk, rv]) => [rk, hex(rv)]));
      out[k] = banks;
    } else out[k] = hex(v);
  }
  return out;
}

/** Runs of consecutive pages as raw files: [{base, bytes}] */
export function rawRuns(mem: SparseMemory): { base: bigint; bytes: Uint8Array }[] {
  const keys = [...mem.pages.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const runs: { base: bigint; pages: Uint8Array[] }[] = [];
  for (const k of keys) {
    const last = runs[runs.length - 1];
    if (last && last.base + BigInt(last.pages.length) * 4096n === k) last.pages.push(mem.pages.get(k)!);
    else runs.push({ base: k, pages: [mem.pages.get(k)!] });
  }
  return runs.map((r) => {
    const bytes = new Uint8Array(r.pages.length * 4096);
    r.pages.forEach((p, i) => bytes.set(p, i * 4096));
    return { base: r.base, bytes };
  });
}

/** The manifest object, without writing anything (tests mutate it to check validation). */
export function manifestJson(spec: SnapshotSpec, memory: { kind: 'elf' | 'raw'; file: string; base?: string }[]): Record<string, unknown> {
  const m: Record<string, unknown> = { format: 'iommu-lens-snapshot', version: 1 };
  if (spec.description) m.description = spec.description;
  const iommu: Record<string, unknown> = { model: spec.model };
  if (spec.name) iommu.name = spec.name;
  if (spec.features) iommu.features = spec.features;
  m.iommu = iommu;
  m.registers = regsToJson(spec.registers);
  m.memory = memory;
  return m;
}

/** Write the snapshot into `dir` (created if needed); returns the manifest path. */
export function writeSnapshot(dir: string, spec: SnapshotSpec): string {
  mkdirSync(dir, { recursive: true });
  const memory: { kind: 'elf' | 'raw'; file: string; base?: string }[] = [];
  if ((spec.memoryAs ?? 'elf') === 'elf') {
    writeElfCore(join(dir, 'memory.core'), spec.memory, spec.elf ?? {});
    memory.push({ kind: 'elf', file: 'memory.core' });
  } else {
    for (const r of rawRuns(spec.memory)) {
      const file = `mem-${r.base.toString(16)}.bin`;
      writeFileSync(join(dir, file), r.bytes);
      memory.push({ kind: 'raw', file, base: '0x' + r.base.toString(16) });
    }
  }
  const path = join(dir, spec.manifestName ?? 'snapshot.iommu.json');
  writeFileSync(path, JSON.stringify(manifestJson(spec, memory), null, 2) + '\n');
  return path;
}
