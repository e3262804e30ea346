/** Arm walks through real files: tables written as an ELF core (or raw files) plus a manifest, loaded by the snapshot loader. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSnapshot } from '../../../src/node/load-snapshot';
import { walk } from '../../../src/core/walk/index';
import { SparseMemory } from '../../builder/sparse-memory';
import { writeSnapshot } from '../../builder/snapshot-writer';
import { buildCdTable, buildLpae, buildStreamTable, s2cr, smmuV2S1Bank, smr, writeCd, writeSte, type LpaeLayout } from '../../builder/arm-tables';

const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-arm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Arm snapshots from files', () => {
  it('SMMUv3: ELF core + manifest, 2-level stream table, 16K stage 1', () => {
    const mem = new SparseMemory(0x8000_0000n);
    const layout: LpaeLayout = { stage: 1, granule: 16384, inputBits: 47, startLevel: 1 };
    const t = buildLpae(mem, layout, [
      { iova: 0xffff_c000n, pa: 0x1_2345_4000n, size: 16384n, perms: { read: true, write: true, exec: false, user: true } },
      { iova: 0x4000_0000n, pa: 0x2_0000_0000n, size: 32n << 20n, perms: { read: true, write: false, exec: false, user: true } },
    ]);
    const st = buildStreamTable(mem, 16, true);
    const cdt = buildCdTable(mem, 0, 0);
    writeCd(mem, cdt.cdAddress(0), { t0: t, ipsBits: 44, asid: 7 });
    writeSte(mem, st.steAddress(0x118), { config: 's1', cdPtr: cdt.ptr });
    const path = writeSnapshot(join(dir, 'v3'), {
      model: 'arm-smmu-v3',
      name: 'smmu3.test',
      features: { oas: 44, sidBits: 16 },
      registers: { strtab_base: st.strtabBase, strtab_base_cfg: st.strtabBaseCfg, cr0: 1n },
      memory: mem,
    });
    const snap = loadSnapshot(path);
    try {
      const ok = walk(snap, { iova: 0xffff_d234n, streamId: 0x118, access: 'write' });
      expect(ok).toMatchObject({ result: 'translated', pa: '0x123455234', pageSize: 16384 });
      const blk = walk(snap, { iova: 0x4012_3456n, device: '0000:01:03.0', access: 'write' });
      expect(blk.fault).toMatchObject({ stage: 'permission', level: 2, reason: { name: 'F_PERMISSION', code: 0x13 } });
      expect(blk.culprit?.party).toBeTruthy();
      expect(walk(snap, { iova: 0x1000n, streamId: 0x119 }).fault).toMatchObject({ stage: 'device-entry', reason: { name: 'C_BAD_STE' } });
      expect(walk(snap, { iova: 0x1000n, streamId: 0x318 }).fault).toMatchObject({ stage: 'device-entry', reason: { name: 'C_BAD_STREAMID' } });
    } finally {
      snap.close();
    }
  });

  it('SMMUv2: raw memory files + manifest with SMR/S2CR/context banks', () => {
    const mem = new SparseMemory(0x9000_0000n);
    const layout: LpaeLayout = { stage: 1, granule: 65536, inputBits: 36, startLevel: 2 };
    const t = buildLpae(mem, layout, [{ iova: 0x1_0000n, pa: 0x8_0000_0000n, size: 65536n, perms: { read: true, write: true, exec: false, user: true } }]);
    const path = writeSnapshot(join(dir, 'v2'), {
      model: 'arm-smmu-v2',
      registers: { smr: [smr(0x800, 0x7f)], s2cr: [s2cr('translate', 2)], contextBanks: { 2: { ...smmuV2S1Bank(t, 40, 2) } }, scr0: 1n << 10n },
      memory: mem,
      memoryAs: 'raw',
    });
    const snap = loadSnapshot(path);
    try {
      expect(walk(snap, { iova: 0x1_0abcn, streamId: 0x855 })).toMatchObject({ result: 'translated', pa: '0x800000abc', pageSize: 65536 });
      const miss = walk(snap, { iova: 0x2_0000n, streamId: 0x855 });
      expect(miss.fault).toMatchObject({ stage: 'table-entry', level: 3, reason: { code: 'TF' } });
      expect(walk(snap, { iova: 0x1_0000n, streamId: 0x900 }).fault).toMatchObject({ stage: 'device-entry', reason: { name: 'USF' } });
    } finally {
      snap.close();
    }
  });
});
