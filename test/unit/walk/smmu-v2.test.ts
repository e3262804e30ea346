import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { walkSmmuV2 } from '../../../src/core/walk/smmu-v2';
import type { Snapshot, SmmuV2Registers } from '../../../src/core/snapshot/types';
import type { WalkResult } from '../../../src/core/walk/types';
import { SparseMemory } from '../../builder/sparse-memory';
import {
  type ArmMapping,
  type GranuleSize,
  type LpaeLayout,
  buildLpae,
  buildV7s,
  geometry,
  leafLevelOf,
  leafLevels,
  s1StartLevelFor,
  s2cr,
  smmuV2S1Bank,
  smmuV2S2Bank,
  smr,
  ttbrFor,
} from '../../builder/arm-tables';
import { findMapping, hex, invalidLevel, mappingsArb, s1Allowed, s2Allowed } from './arm-oracle';

const GRANULES: GranuleSize[] = [4096, 16384, 65536];

function snapOf(mem: SparseMemory, v2: SmmuV2Registers, registers: Record<string, bigint> = { scr0: 1n << 10n }): Snapshot {
  return { path: 'test', model: 'arm-smmu-v2', features: {}, registers, smmuV2: v2, memory: mem, findings: [] };
}

const FSR: Record<string, string> = { translation: 'TF', af: 'AFF', perm: 'PF' };

function expectLeaf(r: WalkResult, list: ArmMapping[], a: bigint, stage: 1 | 2, start: number, g: GranuleSize, access: 'read' | 'write' | undefined): ArmMapping | undefined {
  const m = findMapping(list, a);
  if (!m) {
    expect(r.fault, JSON.stringify(r.steps.at(-1))).toMatchObject({ stage: 'table-entry', level: invalidLevel(list, a, start, g), reason: { code: FSR.translation, name: 'TF' } });
    return undefined;
  }
  const level = leafLevelOf(m.size, g);
  if (m.afClear) {
    expect(r.fault).toMatchObject({ stage: 'table-entry', level, reason: { name: FSR.af } });
    return undefined;
  }
  if (access && !(stage === 1 ? s1Allowed(m.perms, access, false) : s2Allowed(m.perms, access))) {
    expect(r.fault).toMatchObject({ stage: 'permission', level, reason: { name: FSR.perm } });
    return undefined;
  }
  return m;
}

interface BankSpec {
  kind: 's1' | 's2';
  granule: GranuleSize;
  inputBits: number;
  mappings: ArmMapping[];
}

const bankArb: fc.Arbitrary<BankSpec> = fc
  .record({ kind: fc.constantFrom<'s1' | 's2'>('s1', 's2'), granule: fc.constantFrom(...GRANULES), inputBits: fc.integer({ min: 32, max: 40 }) })
  .chain((b) => {
    const start = b.kind === 's1' ? s1StartLevelFor(b.inputBits, b.granule) : startFor(b);
    const lv = leafLevels(b.granule);
    return mappingsArb({ granule: b.granule, inputBits: b.inputBits, minLevel: Math.max(start, Math.min(...lv)), leafLevels: lv, oaBits: 40, stage: b.kind === 's1' ? 1 : 2, withAfClear: true, max: 6 }).map((mappings) => ({ ...b, mappings }));
  });

/** a stage-2 start level that resolves 1..s+4 bits (possibly concatenated) */
function startFor(b: { granule: GranuleSize; inputBits: number }): number {
  const { s, shift } = geometry(b.granule);
  for (let l = 0; l <= 3; l++) {
    const bits = b.inputBits - shift(l);
    if (bits >= 1 && bits <= s + (b.granule === 4096 && l === 0 ? 0 : 4)) return l;
  }
  throw new Error('no start level');
}

describe('SMMUv2 (differential: SMR/S2CR routing, S1 and S2 context banks)', () => {
  it('answers like the stream map and the mapping lists', () => {
    fc.assert(
      fc.property(
        fc.array(bankArb, { minLength: 1, maxLength: 3 }),
        fc.uniqueArray(fc.record({ id: fc.integer({ min: 0, max: 0x7fff }), mask: fc.constantFrom(0, 1, 3, 0xf0), type: fc.constantFrom<'translate' | 'bypass' | 'fault'>('translate', 'translate', 'translate', 'bypass', 'fault'), bank: fc.nat() }), { selector: (x) => x.id, minLength: 1, maxLength: 5 }),
        fc.array(fc.record({ pick: fc.nat(), sidNoise: fc.integer({ min: 0, max: 0xff }), randomSid: fc.boolean(), inside: fc.boolean(), off: fc.bigInt({ min: 0n, max: 1n << 40n }), any: fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), access: fc.constantFrom<'read' | 'write' | undefined>('read', 'write', undefined) }), { minLength: 1, maxLength: 10 }),
        (banks, smrs, queries) => {
          const mem = new SparseMemory();
          const v2: SmmuV2Registers = { smr: [], s2cr: [], contextBanks: {} };
          const starts: number[] = [];
          banks.forEach((b, i) => {
            const start = b.kind === 's1' ? s1StartLevelFor(b.inputBits, b.granule) : startFor(b);
            starts.push(start);
            const t = buildLpae(mem, { stage: b.kind === 's1' ? 1 : 2, granule: b.granule, inputBits: b.inputBits, startLevel: start }, b.mappings);
            v2.contextBanks[i] = b.kind === 's1' ? smmuV2S1Bank(t, 40, i) : smmuV2S2Bank(t, 40, i + 1);
          });
          for (const s of smrs) {
            v2.smr.push(smr(s.id, s.mask));
            v2.s2cr.push(s2cr(s.type, s.bank % banks.length));
          }
          const snap = snapOf(mem, v2);
          for (const q of queries) {
            const base = smrs[q.pick % smrs.length]!;
            const sid = q.randomSid ? (base.id ^ q.sidNoise) & 0x7fff : base.id;
            const match = smrs.findIndex((s) => (sid & ~s.mask) === (s.id & ~s.mask));
            const bankIdx = match >= 0 ? smrs[match]!.bank % banks.length : -1;
            const b = banks[bankIdx];
            const m0 = b && q.inside && b.mappings.length ? b.mappings[q.pick % b.mappings.length] : undefined;
            const a = m0 ? m0.iova + (q.off % m0.size) : b ? q.any & ((1n << BigInt(b.inputBits)) - 1n) : q.any;
            const r = walkSmmuV2(snap, { iova: a, streamId: sid, access: q.access });
            if (match < 0) {
              expect(r.fault).toMatchObject({ stage: 'device-entry', reason: { code: 'GFSR.USF' } });
              continue;
            }
            const type = smrs[match]!.type;
            if (type === 'bypass') {
              expect(r).toMatchObject({ result: 'translated', pa: hex(a) });
              continue;
            }
            if (type === 'fault') {
              expect(r.fault).toMatchObject({ stage: 'device-entry', reason: { name: 'S2CR_FAULT' } });
              continue;
            }
            const m = expectLeaf(r, b!.mappings, a, b!.kind === 's1' ? 1 : 2, starts[bankIdx]!, b!.granule, q.access);
            if (m) {
              expect(r.result).toBe('translated');
              expect(r.pa).toBe(hex(m.pa + (a - m.iova)));
              expect(BigInt(r.pageSize!)).toBe(m.size);
            }
          }
        },
      ),
      { numRuns: 80 },
    );
  });
});

describe('SMMUv2 single cases', () => {
  const perms = { read: true, write: true, exec: false, user: true };

  it('nested context bank (CBAR.TYPE=3, stage-2 bank in CBAR[15:8]) translates through both stages', () => {
    const mem = new SparseMemory();
    const l1: LpaeLayout = { stage: 1, granule: 4096, inputBits: 39, startLevel: 1 };
    const t1 = buildLpae(mem, l1, [{ iova: 0x1000n, pa: 0x8000_2000n, size: 4096n, perms }]);
    const l2: LpaeLayout = { stage: 2, granule: 65536, inputBits: 40, startLevel: 2 };
    const t2 = buildLpae(mem, l2, [
      { iova: 0x8000_0000n, pa: 0x1_2000_0000n, size: 0x2000_0000n, perms: { read: true, write: true, exec: false } },
      { iova: 0x4000_0000n, pa: 0x4000_0000n, size: 0x2000_0000n, perms: { read: true, write: false, exec: false } },
    ]);
    const s1 = smmuV2S1Bank(t1, 40, 1);
    s1.cbar = (3n << 16n) | (5n << 8n);
    const v2: SmmuV2Registers = { smr: [smr(0x42, 0)], s2cr: [s2cr('translate', 0)], contextBanks: { 0: s1, 5: smmuV2S2Bank(t2, 40, 2) } };
    const snap = snapOf(mem, v2);
    const r = walkSmmuV2(snap, { iova: 0x1234n, streamId: 0x42, access: 'write' });
    expect(r).toMatchObject({ result: 'translated', pa: '0x120002234', pageSize: 4096 });
    expect(r.steps.filter((s) => s.stage === 'stage 2').length).toBeGreaterThan(3);
    // stage-2 write permission applies to the final IPA, the table fetches only read
    v2.contextBanks[5] = smmuV2S2Bank(buildLpae(mem, l2, [{ iova: 0x4000_0000n, pa: 0x4000_0000n, size: 0x2000_0000n, perms: { read: true, write: false, exec: false } }, { iova: 0x8000_0000n, pa: 0x1_2000_0000n, size: 0x2000_0000n, perms: { read: true, write: false, exec: false } }]), 40, 2);
    const pf = walkSmmuV2(snap, { iova: 0x1234n, streamId: 0x42, access: 'write' });
    expect(pf.fault).toMatchObject({ stage: 'permission', reason: { name: 'PF' } });
    expect(pf.fault?.reason.text).toMatch(/context bank 5/);
  });

  it('unmatched stream with USFCFG=0 bypasses; SCTLR.M=0 bypasses with a warning; missing bank is configuration', () => {
    const mem = new SparseMemory();
    const t = buildLpae(mem, { stage: 1, granule: 4096, inputBits: 32, startLevel: 1 }, [{ iova: 0n, pa: 0x10_0000n, size: 4096n, perms }]);
    const bank = smmuV2S1Bank(t, 40, 0);
    const v2: SmmuV2Registers = { smr: [smr(1, 0), smr(2, 0)], s2cr: [s2cr('translate', 0), s2cr('translate', 7)], contextBanks: { 0: bank } };
    expect(walkSmmuV2(snapOf(mem, v2, { scr0: 0n }), { iova: 0x55n, streamId: 9 })).toMatchObject({ result: 'translated', pa: '0x55' });
    expect(walkSmmuV2(snapOf(mem, v2), { iova: 0x55n, streamId: 2 }).fault?.stage).toBe('configuration');
    expect(walkSmmuV2(snapOf(mem, v2), { iova: 0x55n, streamId: 1 }).pa).toBe('0x100055');
    const byDevice = walkSmmuV2(snapOf(mem, v2), { iova: 0x55n, device: '0000:00:00.1' });
    expect(byDevice.pa).toBe('0x100055');
    expect(byDevice.findings?.[0]?.message).toMatch(/requester ID 0x1/);
    bank.sctlr = 0n;
    const off = walkSmmuV2(snapOf(mem, v2), { iova: 0x55n, streamId: 1 });
    expect(off).toMatchObject({ result: 'translated', pa: '0x55' });
    expect(off.findings?.[0]?.message).toMatch(/SCTLR.M=0/);
  });

  it('table-root fault when TTBR0 points outside the snapshot (EF), context bank chosen directly', () => {
    const mem = new SparseMemory();
    const t = buildLpae(mem, { stage: 1, granule: 4096, inputBits: 32, startLevel: 1 }, []);
    const bank = smmuV2S1Bank(t, 40, 0);
    bank.ttbr0 = ttbrFor(0x80_0000_0000n);
    const r = walkSmmuV2(snapOf(mem, { smr: [], s2cr: [], contextBanks: { 3: bank } }), { iova: 0x1000n, contextBank: 3 });
    expect(r.fault).toMatchObject({ stage: 'table-root', level: 1, reason: { code: 'EF', name: 'EF' } });
  });

  it('AArch32 short-descriptor context (VA64=0, EAE=0) walks v7s tables', () => {
    const mem = new SparseMemory();
    const l1 = buildV7s(mem, [
      { iova: 0x10_0000n, pa: 0x8010_0000n, size: 1n << 20n, perms },
      { iova: 0x20_3000n, pa: 0x9000_3000n, size: 4096n, perms: { read: true, write: false, exec: false, user: true } },
    ]);
    const bank = { sctlr: 0x5n, tcr: 0n, tcr2: 0n, ttbr0: l1, ttbr1: 0n, mair0: 0n, mair1: 0n, cbar: 1n << 16n, cba2r: 0n };
    const snap = snapOf(mem, { smr: [smr(4, 0)], s2cr: [s2cr('translate', 0)], contextBanks: { 0: bank } });
    expect(walkSmmuV2(snap, { iova: 0x12_3456n, streamId: 4 })).toMatchObject({ result: 'translated', pa: '0x80123456', pageSize: 1 << 20 });
    expect(walkSmmuV2(snap, { iova: 0x20_3010n, streamId: 4, access: 'write' }).fault).toMatchObject({ stage: 'permission', level: 2, reason: { name: 'PF' } });
    expect(walkSmmuV2(snap, { iova: 0x30_0000n, streamId: 4 }).fault).toMatchObject({ stage: 'table-entry', level: 1, reason: { name: 'TF' } });
  });

  it('AArch32 LPAE context (VA64=0, TTBCR.EAE=1): 4K long-descriptor tables from level 1, 32-bit input', () => {
    const mem = new SparseMemory();
    const t = buildLpae(mem, { stage: 1, granule: 4096, inputBits: 32, startLevel: 1 }, [
      { iova: 0xc000_0000n, pa: 0x80_4000_0000n, size: 1n << 30n, perms },
      { iova: 0x1000n, pa: 0x2000n, size: 4096n, perms: { read: true, write: false, exec: false, user: true } },
    ]);
    const bank = { ...smmuV2S1Bank(t, 40, 0), tcr: 1n << 31n, cba2r: 0n };
    const snap = snapOf(mem, { smr: [smr(9, 0)], s2cr: [s2cr('translate', 0)], contextBanks: { 0: bank } });
    expect(walkSmmuV2(snap, { iova: 0xc123_4567n, streamId: 9 })).toMatchObject({ result: 'translated', pa: '0x8041234567', pageSize: 1 << 30 });
    expect(walkSmmuV2(snap, { iova: 0x1010n, streamId: 9, access: 'write' }).fault).toMatchObject({ stage: 'permission', level: 3, reason: { name: 'PF' } });
    expect(walkSmmuV2(snap, { iova: 0x1_0000_0000n, streamId: 9 }).fault).toMatchObject({ reason: { name: 'TF' } });
  });

  it('stream indexing without SMRs, extended 16-bit stream IDs (EXIDS, validity in S2CR.EXIDVALID), conflicting SMRs', () => {
    const mem = new SparseMemory();
    const t = buildLpae(mem, { stage: 1, granule: 4096, inputBits: 32, startLevel: 1 }, [{ iova: 0n, pa: 0x77_0000n, size: 4096n, perms }]);
    const bank = smmuV2S1Bank(t, 40, 0);
    const indexed = snapOf(mem, { smr: [], s2cr: [s2cr('fault', 0), s2cr('translate', 0)], contextBanks: { 0: bank } });
    expect(walkSmmuV2(indexed, { iova: 0x10n, streamId: 1 }).pa).toBe('0x770010');
    expect(walkSmmuV2(indexed, { iova: 0x10n, streamId: 0 }).fault?.reason.name).toBe('S2CR_FAULT');
    expect(walkSmmuV2(indexed, { iova: 0x10n, streamId: 2 }).fault?.reason.name).toBe('USF');
    // EXIDS: ID 0xc123 uses bit 15, which a 15-bit SMR cannot hold; bit 31 is MASK[15], not VALID
    const ext = snapOf(mem, { smr: [0xc123n], s2cr: [s2cr('translate', 0) | (1n << 10n)], contextBanks: { 0: bank } }, { scr0: (1n << 10n) | (1n << 3n), idr0: 1n << 8n });
    expect(walkSmmuV2(ext, { iova: 0x20n, streamId: 0xc123 }).pa).toBe('0x770020');
    expect(walkSmmuV2(ext, { iova: 0x20n, streamId: 0x4123 }).fault?.reason.name).toBe('USF');
    const noValid = snapOf(mem, { smr: [0xc123n], s2cr: [s2cr('translate', 0)], contextBanks: { 0: bank } }, { scr0: (1n << 10n) | (1n << 3n), idr0: 1n << 8n });
    expect(walkSmmuV2(noValid, { iova: 0x20n, streamId: 0xc123 }).fault?.reason.name).toBe('USF');
    const conflict = walkSmmuV2(snapOf(mem, { smr: [smr(0x10, 0xf), smr(0x11, 0)], s2cr: [s2cr('translate', 0), s2cr('bypass', 0)], contextBanks: { 0: bank } }), { iova: 0x30n, streamId: 0x11 });
    expect(conflict.pa).toBe('0x770030');
    expect(conflict.findings?.some((f) => /SMCF/.test(f.message))).toBe(true);
  });
});
