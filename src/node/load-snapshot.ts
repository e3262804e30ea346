/**
 * Load a snapshot manifest from disk: validate it, open the memory sources it names (and nothing
 * else), map them lazily, and run the configuration sanity checks.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { Snapshot } from '../core/snapshot/types';
import type { SanityFinding } from '../core/walk/types';
import { parseManifest, type MemorySourceSpec } from '../core/snapshot/manifest';
import { parseElfCore, type MemoryExtent } from '../core/snapshot/elf';
import { SnapshotMemory, type PhysicalMemoryOptions } from '../core/snapshot/physical-memory';
import { sanityChecks } from '../core/snapshot/sanity';
import { SnapshotError } from '../core/snapshot/errors';
import { FileSource } from './file-source';

/** Manifests are small; anything bigger is not a manifest (and must not be read whole). */
const MAX_MANIFEST_BYTES = 16 << 20;

export interface SourceInfo {
  kind: 'elf' | 'raw';
  /** as named in the manifest */
  file: string;
  /** resolved path */
  path: string;
  size: number;
  /** physical ranges this source provides (before overlap resolution) */
  extents: { start: bigint; end: bigint; fileLength: number; label: string }[];
  /** ELF only */
  machine?: number;
  notes?: { name: string; type: number }[];
}

export interface LoadedSnapshot extends Snapshot {
  sources: SourceInfo[];
  /** close the files opened for the memory sources */
  close(): void;
}

function openSource(spec: MemorySourceSpec, manifestDir: string, index: number, manifestName: string): { src: FileSource; path: string } {
  const path = isAbsolute(spec.file) ? spec.file : resolve(manifestDir, spec.file);
  try {
    return { src: new FileSource(spec.file, path), path };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : e instanceof Error ? e.message : String(e);
    const hint = code === 'ENOENT' && spec.file.endsWith('.core') ? ` (compressed? e.g. \`zstd -d ${spec.file}.zst\`)` : '';
    throw new SnapshotError(manifestName, `memory[${index}].file`, `cannot open ${path}: ${why}${hint}`);
  }
}

export function loadSnapshot(manifestPath: string, options: PhysicalMemoryOptions = {}): LoadedSnapshot {
  const name = basename(manifestPath);
  let text: string;
  try {
    const st = statSync(manifestPath);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (st.size > MAX_MANIFEST_BYTES) throw new SnapshotError(manifestPath, undefined, `${st.size} bytes is too large for a snapshot manifest (did you pass the memory file instead of the .iommu.json manifest?)`);
    text = readFileSync(manifestPath, 'utf8');
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    const code = (e as NodeJS.ErrnoException)?.code;
    throw new SnapshotError(manifestPath, undefined, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : e instanceof Error ? e.message : String(e));
  }
  if (text.startsWith('\x7fELF')) throw new SnapshotError(manifestPath, undefined, 'this is an ELF core, not a manifest: write a .iommu.json manifest naming it (see docs/snapshot-format.md)');
  const manifest = parseManifest(text, name);
  const dir = dirname(manifestPath);
  const opened: FileSource[] = [];
  const sources: SourceInfo[] = [];
  const extents: MemoryExtent[][] = [];
  const findings: SanityFinding[] = manifest.warnings.map((w) => ({ severity: 'info', where: 'manifest', message: w }));
  try {
    manifest.memory.forEach((spec, i) => {
      const { src, path } = openSource(spec, dir, i, name);
      opened.push(src);
      if (spec.kind === 'elf') {
        const core = parseElfCore(src);
        extents.push(core.extents);
        sources.push({ kind: 'elf', file: spec.file, path, size: src.size, extents: core.extents.map((e) => ({ start: e.start, end: e.end, fileLength: e.fileLength, label: e.label })), machine: core.machine, notes: core.notes });
        for (const w of core.warnings) findings.push({ severity: 'warning', where: `memory[${i}]`, message: w });
        if (core.extents.length === 0) findings.push({ severity: 'error', where: `memory[${i}]`, message: `${spec.file}: the core has no PT_LOAD segment with data: it provides no memory` });
      } else {
        const base = spec.base!;
        const label = `${spec.file} (raw)`;
        const ext: MemoryExtent = { start: base, end: base + BigInt(src.size), fileOffset: 0, fileLength: src.size, source: src, label };
        if (src.size === 0) findings.push({ severity: 'warning', where: `memory[${i}]`, message: `${spec.file} is empty` });
        extents.push(src.size ? [ext] : []);
        sources.push({ kind: 'raw', file: spec.file, path, size: src.size, extents: src.size ? [{ start: ext.start, end: ext.end, fileLength: src.size, label }] : [] });
      }
    });
  } catch (e) {
    for (const s of opened) s.close();
    throw e;
  }
  const memory = new SnapshotMemory(extents, options);
  const input = { model: manifest.model, features: manifest.features, registers: manifest.registers, memory, ...(manifest.smmuV2 ? { smmuV2: manifest.smmuV2 } : {}) };
  findings.push(...sanityChecks(input));
  const snap: LoadedSnapshot = {
    path: manifestPath,
    model: manifest.model,
    features: manifest.features,
    registers: manifest.registers,
    memory,
    findings,
    sources,
    close: () => {
      for (const s of opened) s.close();
    },
  };
  if (manifest.description !== undefined) snap.description = manifest.description;
  if (manifest.name !== undefined) snap.name = manifest.name;
  if (manifest.smmuV2) snap.smmuV2 = manifest.smmuV2;
  return snap;
}
