/**
 * Manifest + opened sources -> Snapshot, independent of where the bytes come from: the Node
 * loader opens files, a browser or webview host can hand in Uint8Arrays (BytesSource).
 */
import type { ByteSource } from './memory';
import type { Snapshot } from './types';
import type { SanityFinding } from '../walk/types';
import type { MemorySourceSpec, SnapshotManifest } from './manifest';
import { parseElfCore, type MemoryExtent } from './elf';
import { SnapshotMemory, type PhysicalMemoryOptions } from './physical-memory';
import { sanityChecks } from './sanity';

export interface SourceInfo {
  kind: 'elf' | 'raw';
  /** as named in the manifest */
  file: string;
  /** where it was opened from (resolved path), when known */
  path?: string;
  size: number;
  /** physical ranges this source provides (before overlap resolution) */
  extents: { start: bigint; end: bigint; fileLength: number; label: string }[];
  /** ELF only */
  machine?: number;
  notes?: { name: string; type: number }[];
}

export interface AssembledSnapshot extends Snapshot {
  sources: SourceInfo[];
}

/**
 * `open(spec, index)` returns the bytes of memory[index]; it may throw (the caller's error names
 * the file). ELF header problems throw SnapshotError naming the source and offset.
 */
export function assembleSnapshot(
  manifest: SnapshotManifest,
  manifestPath: string,
  open: (spec: MemorySourceSpec, index: number) => { source: ByteSource; path?: string },
  options: PhysicalMemoryOptions = {},
): AssembledSnapshot {
  const sources: SourceInfo[] = [];
  const extents: MemoryExtent[][] = [];
  const findings: SanityFinding[] = manifest.warnings.map((w) => ({ severity: 'info', where: 'manifest', message: w }));
  manifest.memory.forEach((spec, i) => {
    const { source: src, path } = open(spec, i);
    const info: SourceInfo = { kind: spec.kind, file: spec.file, size: src.size, extents: [] };
    if (path !== undefined) info.path = path;
    if (spec.kind === 'elf') {
      const core = parseElfCore(src);
      extents.push(core.extents);
      info.extents = core.extents.map((e) => ({ start: e.start, end: e.end, fileLength: e.fileLength, label: e.label }));
      info.machine = core.machine;
      info.notes = core.notes;
      for (const w of core.warnings) findings.push({ severity: 'warning', where: `memory[${i}]`, message: w });
      if (core.extents.length === 0) findings.push({ severity: 'error', where: `memory[${i}]`, message: `${spec.file}: the core has no PT_LOAD segment with data: it provides no memory` });
    } else {
      const base = spec.base!;
      const label = `${spec.file} (raw)`;
      if (src.size === 0) {
        findings.push({ severity: 'warning', where: `memory[${i}]`, message: `${spec.file} is empty` });
        extents.push([]);
      } else {
        const ext: MemoryExtent = { start: base, end: base + BigInt(src.size), fileOffset: 0, fileLength: src.size, source: src, label };
        extents.push([ext]);
        info.extents = [{ start: ext.start, end: ext.end, fileLength: src.size, label }];
      }
    }
    sources.push(info);
  });
  const memory = new SnapshotMemory(extents, options);
  findings.push(
    ...sanityChecks({ model: manifest.model, features: manifest.features, registers: manifest.registers, memory, ...(manifest.smmuV2 ? { smmuV2: manifest.smmuV2 } : {}) }),
  );
  const snap: AssembledSnapshot = {
    path: manifestPath,
    model: manifest.model,
    features: manifest.features,
    registers: manifest.registers,
    memory,
    findings,
    sources,
  };
  if (manifest.description !== undefined) snap.description = manifest.description;
  if (manifest.name !== undefined) snap.name = manifest.name;
  if (manifest.smmuV2) snap.smmuV2 = manifest.smmuV2;
  return snap;
}
