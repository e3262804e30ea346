/**
 * The real snapshots in ../shared/snapshots keep their 512 MiB cores zstd-compressed. Tests
 * decompress each once into a cache folder (reused while the .zst is unchanged) next to a copy
 * of the manifest, using the `zstd` command when present and the pure-JS fzstd otherwise.
 * All-zero blocks are skipped so the cached core stays a sparse file.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decompress } from 'fzstd';
import { SHARED } from '../../helpers/corpus';

export const SNAPSHOTS = join(SHARED, 'snapshots');
const CACHE = join(tmpdir(), 'iommu-lens-test-snapshots');

function zstdCommand(src: string, dst: string): boolean {
  const r = spawnSync('zstd', ['-q', '-d', '-f', '--sparse', src, '-o', dst], { stdio: ['ignore', 'ignore', 'pipe'] });
  return !r.error && r.status === 0;
}

function fzstdStream(src: string, dst: string): void {
  const out = openSync(dst, 'w');
  const inp = openSync(src, 'r');
  let pos = 0;
  try {
    const d = new Decompress((chunk: Uint8Array) => {
      const B = 4096;
      for (let i = 0; i < chunk.length; i += B) {
        const part = chunk.subarray(i, Math.min(i + B, chunk.length));
        if (part.some((x) => x !== 0)) writeSync(out, part, 0, part.length, pos + i);
      }
      pos += chunk.length;
    });
    const buf = new Uint8Array(1 << 20);
    for (;;) {
      const n = readSync(inp, buf, 0, buf.length, null);
      if (n <= 0) break;
      d.push(buf.slice(0, n));
    }
    d.push(new Uint8Array(0), true);
    ftruncateSync(out, pos);
  } finally {
    closeSync(inp);
    closeSync(out);
  }
}

/** Manifest path of a real snapshot with its core decompressed next to it. */
export function realSnapshot(name: string): string {
  const srcDir = join(SNAPSHOTS, name);
  const zst = join(srcDir, 'guest.core.zst');
  const dir = join(CACHE, name);
  mkdirSync(dir, { recursive: true });
  const st = statSync(zst);
  const stamp = `${st.size} ${st.mtimeMs}`;
  const marker = join(dir, 'guest.core.stamp');
  const core = join(dir, 'guest.core');
  if (!(existsSync(core) && existsSync(marker) && readFileSync(marker, 'utf8') === stamp)) {
    // test files run in threads of one process: the pid alone does not make the name unique
    const tmp = `${core}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    if (!zstdCommand(zst, tmp)) fzstdStream(zst, tmp);
    renameSync(tmp, core);
    writeFileSync(marker, stamp);
  }
  const manifest = join(dir, 'manifest.iommu.json');
  const tmpManifest = `${manifest}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  copyFileSync(join(srcDir, 'manifest.iommu.json'), tmpManifest);
  renameSync(tmpManifest, manifest);
  return manifest;
}

/** For the fzstd path test: decompress with fzstd regardless of the zstd command. */
export function decompressWithFzstd(src: string, dst: string): void {
  fzstdStream(src, dst);
}

export interface ExpectedLine {
  line: number;
  stream?: string;
  device?: string;
  iova: string;
  expect: 'translated' | 'fault';
  pa?: string;
  stage?: string;
  source: string;
}

export function expectedLines(name: string): ExpectedLine[] {
  return readFileSync(join(SNAPSHOTS, name, 'expected.jsonl'), 'utf8')
    .split('\n')
    .map((l, i) => ({ l, i }))
    .filter(({ l }) => l.trim() !== '')
    .map(({ l, i }) => ({ line: i + 1, ...(JSON.parse(l) as Omit<ExpectedLine, 'line'>) }));
}
