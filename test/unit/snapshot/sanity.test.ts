import { describe, expect, it } from 'vitest';
import { sanityChecks, type SanityInput } from '../../../src/core/snapshot/sanity';
import { SparseMemory } from '../../builder/sparse-memory';

function run(i: Partial<SanityInput> & Pick<SanityInput, 'model'>): { where: string; severity: string; message: string }[] {
  return sanityChecks({ features: {}, registers: {}, ...i });
}
const wheres = (i: Parameters<typeof run>[0]) => run(i).map((f) => `${f.severity} ${f.where}`);

describe('sanity checks', () => {
  describe('arm-smmu-v3', () => {
    // the real QEMU snapshot's registers: no finding
    const real = { strtab_base: 0x4000000048388000n, strtab_base_cfg: 0x10210n, cr0: 0xdn, idr0: 0xd40101an, idr1: 0x2730010n, idr5: 0x74n };
    const feats = { sidBits: 16, ssidBits: 0, oas: 44, granules: ['4k', '16k', '64k'] as ('4k' | '16k' | '64k')[], formats: ['aarch64' as const] };

    it('accepts the real QEMU configuration', () => {
      expect(run({ model: 'arm-smmu-v3', registers: real, features: feats })).toEqual([]);
    });

    it('flags a disabled SMMU (CR0.SMMUEN = 0) with the GBPA behaviour', () => {
      const f = run({ model: 'arm-smmu-v3', registers: { ...real, cr0: 0xcn, gbpa: 1n << 20n }, features: feats });
      expect(f).toHaveLength(1);
      expect(f[0]).toMatchObject({ severity: 'warning', where: 'cr0.SMMUEN' });
      expect(f[0]!.message).toMatch(/is aborted \(GBPA\.ABORT = 1\)/);
    });

    it('flags a linear stream table not aligned to its size', () => {
      const f = run({ model: 'arm-smmu-v3', registers: { strtab_base: 0x8000_1000n, strtab_base_cfg: 0x8n } });
      expect(f).toEqual([{ severity: 'warning', where: 'strtab_base', message: 'linear stream table 0x80001000 is not aligned to its size (0x4000 bytes): the SMMU clears ADDR[LOG2SIZE+5:0] and reads 0x80000000' }]);
    });

    it('flags reserved FMT, odd SPLIT, and a 2-level table without ST_LEVEL', () => {
      expect(wheres({ model: 'arm-smmu-v3', registers: { strtab_base: 0x8000_0000n, strtab_base_cfg: 0x20000n } })).toEqual(['error strtab_base_cfg.FMT']);
      expect(wheres({ model: 'arm-smmu-v3', registers: { strtab_base: 0x8000_0000n, strtab_base_cfg: 0x10000n | (7n << 6n) | 16n, idr0: 0n } })).toEqual([
        'error strtab_base_cfg.FMT',
        'warning strtab_base_cfg.SPLIT',
      ]);
    });

    it('flags features that disagree with the ID registers', () => {
      expect(wheres({ model: 'arm-smmu-v3', registers: real, features: { ...feats, oas: 48, ssidBits: 20, granules: ['4k'] } })).toEqual([
        'warning iommu.features.oas',
        'warning iommu.features.granules',
        'warning iommu.features.granules',
        'warning iommu.features.ssidBits',
      ]);
    });

    it('flags a stream table outside the snapshot memory', () => {
      const mem = new SparseMemory();
      mem.alloc(4096);
      const f = run({ model: 'arm-smmu-v3', registers: { strtab_base: 0x9000_0000n, strtab_base_cfg: 0n }, memory: mem });
      expect(f).toEqual([{ severity: 'error', where: 'strtab_base', message: "the stream table at 0x90000000 is not in the snapshot's memory: every walk through it stops there" }]);
    });
  });

  describe('intel-vtd', () => {
    const real = { rtaddr: 0x2629000n, cap: 0xd2008c22260206n, ecap: 0xf00f4an, gsts: 0xc7000000n };
    it('accepts the real QEMU configuration', () => {
      expect(run({ model: 'intel-vtd', registers: real, features: { levels: [3], scalableMode: false, ias: 39 } })).toEqual([]);
    });
    it('flags translation disabled (GSTS.TES = 0)', () => {
      expect(wheres({ model: 'intel-vtd', registers: { ...real, gsts: 0n } })).toEqual(['warning gsts.TES']);
    });
    it('flags scalable mode without ECAP.SMTS, reserved RTADDR bits, and levels SAGAW lacks', () => {
      expect(wheres({ model: 'intel-vtd', registers: { ...real, rtaddr: 0x2629401n }, features: { levels: [4], scalableMode: false } })).toEqual([
        'warning rtaddr',
        'error rtaddr.TTM',
        'warning iommu.features.scalableMode',
        'warning iommu.features.levels',
      ]);
    });
    it('flags abort-DMA mode', () => {
      expect(wheres({ model: 'intel-vtd', registers: { rtaddr: 0x2629800n } })).toEqual(['error rtaddr.TTM']);
    });
  });

  describe('amd-vi', () => {
    it('flags a disabled IOMMU, reserved bits and a small device table', () => {
      const f = run({ model: 'amd-vi', registers: { dev_table_base: 0x1_0000_0e00n | 0x1n, control: 0n } });
      expect(f.map((x) => `${x.severity} ${x.where}`)).toEqual(['warning control.IommuEn', 'warning dev_table_base', 'info dev_table_base.Size']);
      expect(f[2]!.message).toBe('device table holds 256 entries (Size = 1): DeviceIDs from 0x100 up are outside it (ILLEGAL_DEV_TABLE_ENTRY)');
    });
    it('accepts a full-size table', () => {
      expect(run({ model: 'amd-vi', registers: { dev_table_base: 0x1_0000_0000n | 0x1ffn, control: 1n } })).toEqual([]);
    });
  });

  describe('arm-lpae', () => {
    it('checks T0SZ range, granule support, IPS and TTBR alignment', () => {
      // T0SZ=16 4K: start level 0, 4 KiB table; TTBR0 misaligned by 0x800
      expect(run({ model: 'arm-lpae', registers: { tcr: 16n | (1n << 23n) | (5n << 32n), ttbr0: 0x4000_0800n } })).toEqual([
        { severity: 'warning', where: 'ttbr0', message: 'TTBR0 base (start level 0) 0x40000800 is not aligned to the table size (0x1000 bytes): the low bits are ignored, the walk uses 0x40000000' },
      ]);
      expect(wheres({ model: 'arm-lpae', registers: { tcr: 12n | (1n << 23n), ttbr0: 0x4000_0000n } })).toEqual(['error tcr.T0SZ']);
      expect(wheres({ model: 'arm-lpae', features: { granules: ['4k'], oas: 40 }, registers: { tcr: 25n | (1n << 14n) | (1n << 23n) | (5n << 32n), ttbr0: 0x4000_0000n } })).toEqual([
        'error tcr.TG0',
        'warning tcr.IPS',
      ]);
      expect(wheres({ model: 'arm-lpae', features: { ias: 39 }, registers: { tcr: 16n | (1n << 23n), ttbr0: 0x4000_0000n } })).toEqual(['warning tcr.T0SZ']);
    });
    it('checks stage-2 SL0 against T0SZ (concatenation limits)', () => {
      // 4K, SL0=1 (start L1), T0SZ=24: 40-bit IPA, 2 concatenated tables: fine when 8 KiB aligned
      expect(run({ model: 'arm-lpae', registers: { vtcr: 24n | (1n << 6n) | (2n << 16n), vttbr: 0x4000_2000n } })).toEqual([]);
      expect(wheres({ model: 'arm-lpae', registers: { vtcr: 24n | (1n << 6n) | (2n << 16n), vttbr: 0x4000_1000n } })).toEqual(['warning vttbr']);
      // 4K, SL0=0 (start L2), T0SZ=16: 48-bit IPA would need 2^9 tables
      expect(wheres({ model: 'arm-lpae', registers: { vtcr: 16n, vttbr: 0x4000_0000n } })).toEqual(['error vtcr.SL0']);
      expect(wheres({ model: 'arm-lpae', registers: { vtcr: 24n | (3n << 6n), vttbr: 0x4000_0000n } })).toEqual(['error vtcr.SL0']);
    });
  });

  describe('arm-smmu-v2', () => {
    const bank = { sctlr: 1n, cba2r: 1n, cbar: 1n << 16n, tcr: 16n | (1n << 23n), ttbr0: 0x4000_0000n };
    it('flags overlapping valid SMRs and S2CRs pointing at missing banks', () => {
      const f = run({
        model: 'arm-smmu-v2',
        smmuV2: { smr: [(1n << 31n) | 0x10n, (1n << 31n) | (0xfn << 16n) | 0x12n, 0x20n], s2cr: [0n, 1n, 2n], contextBanks: { 0: bank } },
      });
      expect(f.map((x) => `${x.severity} ${x.where}`)).toEqual(['error smr[1]', 'warning s2cr[1].CBNDX']);
      expect(f[0]!.message).toMatch(/SMR 0 and SMR 1 can both match stream IDs/);
    });
    it('names the context bank of a bad TCR and flags a disabled bank', () => {
      expect(wheres({ model: 'arm-smmu-v2', smmuV2: { smr: [], s2cr: [], contextBanks: { 3: { ...bank, sctlr: 0n, tcr: 50n | (1n << 23n) } } } })).toEqual([
        'info contextBanks.3.sctlr.M',
        'error contextBanks.3.tcr.T0SZ',
      ]);
    });
    it('flags a globally bypassed SMMU', () => {
      expect(wheres({ model: 'arm-smmu-v2', registers: { scr0: 1n }, smmuV2: { smr: [], s2cr: [], contextBanks: {} } })).toEqual(['warning scr0.CLIENTPD']);
    });
  });

  describe('arm-v7s', () => {
    it('flags 64-bit table addresses, EAE and misaligned TTBR0', () => {
      expect(wheres({ model: 'arm-v7s', registers: { ttbr0: 0x1_0000_0000n } })).toEqual(['error ttbr0']);
      expect(wheres({ model: 'arm-v7s', registers: { ttbr0: 0x8000_2000n, tcr: 1n << 31n } })).toEqual(['error tcr.EAE', 'warning ttbr0']);
      expect(run({ model: 'arm-v7s', registers: { ttbr0: 0x8000_4000n | 0x4bn } })).toEqual([]);
    });
  });
});
