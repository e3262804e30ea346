/**
 * Every line of ../shared/snapshots/<name>/expected.jsonl through walk(): QEMU's own translations
 * and an independent walker's answers for two real machines (QEMU + Linux 6.1). Nothing is
 * skipped: a model without a walker fails here, saying so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SNAPSHOTS, decompressWithFzstd, expectedLines, realSnapshot } from './real-snapshot-cache';
import { loadSnapshot, type LoadedSnapshot } from '../../../src/node/load-snapshot';
import { walk, WALKERS } from '../../../src/core/walk/index';
import type { WalkRequest } from '../../../src/core/walk/types';

const NAMES = ['smmuv3-virt', 'vtd-q35-legacy'];

describe('real snapshots', () => {
  it('the shared snapshots folder is present', () => {
    expect(existsSync(SNAPSHOTS), `${SNAPSHOTS} not found (CI keeps ../shared beside the repo)`).toBe(true);
    for (const n of NAMES) expect(existsSync(join(SNAPSHOTS, n, 'expected.jsonl')), n).toBe(true);
  });

  for (const name of NAMES) {
    describe(name, () => {
      let snap: LoadedSnapshot;
      beforeAll(() => {
        snap = loadSnapshot(realSnapshot(name));
      }, 120_000);
      afterAll(() => snap?.close());

      it('loads with no sanity error and one ELF source covering guest RAM', () => {
        expect(snap.findings.filter((f) => f.severity === 'error')).toEqual([]);
        expect(snap.sources).toHaveLength(1);
        expect(snap.sources[0]!.kind).toBe('elf');
        const bytes = snap.memory.ranges().reduce((a, r) => a + (r.end - r.start), 0n);
        expect(bytes).toBeGreaterThanOrEqual(512n << 20n);
      });

      it('has a walker for its model', () => {
        expect(WALKERS[snap.model], `no walker registered for ${snap.model} in src/core/walk/index.ts`).toBeDefined();
      });

      it('matches every line of expected.jsonl', () => {
        const lines = expectedLines(name);
        expect(lines.length).toBeGreaterThan(500);
        const mismatches: string[] = [];
        let translated = 0;
        let faults = 0;
        for (const e of lines) {
          const req: WalkRequest = { iova: BigInt(e.iova) };
          if (e.stream !== undefined) req.streamId = Number(BigInt(e.stream));
          if (e.device !== undefined) req.device = e.device;
          const r = walk(snap, req);
          const who = `expected.jsonl:${e.line} ${e.stream !== undefined ? `stream ${e.stream}` : `device ${e.device}`} iova ${e.iova} (${e.source})`;
          if (e.expect === 'translated') {
            translated++;
            if (r.result !== 'translated' || r.pa !== e.pa) {
              mismatches.push(`${who}: expected pa ${e.pa}, got ${r.result === 'translated' ? `pa ${r.pa}` : `fault ${r.fault?.stage} ${r.fault?.reason.name}: ${r.fault?.reason.text}`}`);
            }
          } else {
            faults++;
            if (r.result !== 'fault' || r.fault?.stage !== e.stage) {
              mismatches.push(`${who}: expected fault at ${e.stage}, got ${r.result === 'fault' ? `fault at ${r.fault?.stage} (${r.fault?.reason.name})` : `translated to ${r.pa}`}`);
            } else if (!r.culprit) {
              mismatches.push(`${who}: fault without a culprit`);
            }
          }
        }
        expect(mismatches.slice(0, 25), `${mismatches.length} of ${lines.length} lines differ`).toEqual([]);
        expect(translated + faults).toBe(lines.length);
        expect(faults).toBeGreaterThan(10);
      });
    });
  }

  it('the fzstd fallback decompresses what the zstd command compressed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-fzstd-'));
    try {
      const raw = new Uint8Array(3 * 4096 + 123);
      for (let i = 0; i < raw.length; i += 7) raw[i] = (i * 31) & 0xff;
      raw.fill(0, 4096, 8192); // a zero block: written as a hole
      writeFileSync(join(dir, 'a.bin'), raw);
      const z = spawnSync('zstd', ['-q', join(dir, 'a.bin'), '-o', join(dir, 'a.bin.zst')]);
      if (z.error || z.status !== 0) {
        // no zstd command: the real snapshots above were decompressed by fzstd already
        expect(existsSync(join(SNAPSHOTS, 'smmuv3-virt', 'guest.core.zst'))).toBe(true);
        return;
      }
      decompressWithFzstd(join(dir, 'a.bin.zst'), join(dir, 'b.bin'));
      expect(new Uint8Array(readFileSync(join(dir, 'b.bin')))).toEqual(raw);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
