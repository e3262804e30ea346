/**
 * Load a snapshot manifest from disk: validate it, open the memory files it names (and nothing
 * else) for lazy ranged reads, and run the configuration sanity checks.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { parseManifest, type MemorySourceSpec } from '../core/snapshot/manifest';
import { assembleSnapshot, type AssembledSnapshot } from '../core/snapshot/assemble';
import type { PhysicalMemoryOptions } from '../core/snapshot/physical-memory';
import { SnapshotError } from '../core/snapshot/errors';
import { FileSource } from './file-source';

export type { SourceInfo } from '../core/snapshot/assemble';

/** Manifests are small; anything bigger is not a manifest (and must not be read whole). */
const MAX_MANIFEST_BYTES = 16 << 20;

export interface LoadedSnapshot extends AssembledSnapshot {
  /** close the files opened for the memory sources */
  close(): void;
}

function openSource(spec: MemorySourceSpec, manifestDir: string, index: number, manifestName: string): { source: FileSource; path: string } {
  const path = isAbsolute(spec.file) ? spec.file : resolve(manifestDir, spec.file);
  try {
    return { source: new FileSource(spec.file, path), path };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : e instanceof Error ? e.message : String(e);
    const hint = code === 'ENOENT' && spec.file.endsWith('.core') ? ` (compressed? e.g. \`zstd -d ${spec.file}.zst\`)` : '';
    throw new SnapshotError(manifestName, `memory[${index}].file`, `cannot open ${path}: ${why}${hint}`);
  }
}

function readManifest(manifestPath: string): string {
  try {
    const st = statSync(manifestPath);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (st.size > MAX_MANIFEST_BYTES) throw new SnapshotError(manifestPath, undefined, `${st.size} bytes is too large for a snapshot manifest (did you pass the memory file instead of the .iommu.json manifest?)`);
    return readFileSync(manifestPath, 'utf8');
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    const code = (e as NodeJS.ErrnoException)?.code;
    throw new SnapshotError(manifestPath, undefined, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : e instanceof Error ? e.message : String(e));
  }
}

export function loadSnapshot(manifestPath: string, options: PhysicalMemoryOptions = {}): LoadedSnapshot {
  const name = basename(manifestPath);
  const text = readManifest(manifestPath);
  if (text.startsWith('\x7fELF')) throw new SnapshotError(manifestPath, undefined, 'this is an ELF core, not a manifest: write a .iommu.json manifest naming it (see docs/snapshot-format.md)');
  const manifest = parseManifest(text, name);
  const dir = dirname(manifestPath);
  const opened: FileSource[] = [];
  const close = (): void => {
    for (const s of opened) s.close();
  };
  try {
    const snap = assembleSnapshot(
      manifest,
      manifestPath,
      (spec, i) => {
        const o = openSource(spec, dir, i, name);
        opened.push(o.source);
        return o;
      },
      options,
    );
    return Object.assign(snap, { close });
  } catch (e) {
    close();
    throw e;
  }
}
