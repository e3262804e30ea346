import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { walkSmmuV3 } from '../../../src/core/walk/smmu-v3';
import type { Snapshot } from '../../../src/core/snapshot/types';
import type { WalkResult } from '../../../src/core/walk/types';
import { SparseMemory } from '../../builder/sparse-memory';
import {
  type ArmMapping,
  type GranuleSize,
  type LpaeLayout,
  buildCdTable,
  buildLpae,
  buildStreamTable,
  geometry,
  leafLevelOf,
  leafLevels,
  s1StartLevelFor,
  writeCd,
  writeSte,
} from '../../builder/arm-tables';
import { findMapping, hex, invalidLevel, mappingsArb, s1Allowed, s2Allowed, s2LayoutArb } from './arm-oracle';

const GRANULES: GranuleSize[] = [4096, 16384, 65536];

function snapOf(mem: SparseMemory, registers: Record<string, bigint>): Snapshot {
  return { path: 'test', model: 'arm-smmu-v3', features: { oas: 44 }, registers, memory: mem, findings: [] };
}

const EVENT = { C_BAD_STREAMID: 2, F_STE_FETCH: 3, C_BAD_STE: 4, F_STREAM_DISABLED: 6, C_BAD_SUBSTREAMID: 8, F_CD_FETCH: 9, C_BAD_CD: 10, F_WALK_EABT: 11, F_TRANSLATION: 0x10, F_ADDR_SIZE: 0x11, F_ACCESS: 0x12, F_PERMISSION: 0x13 } as const;

function expectEvent(r: WalkResult, name: keyof typeof EVENT, stage: string, level?: number): void {
  expect(r.result, JSON.stringify(r)).toBe('fault');
  expect(r.fault?.reason.name).toBe(name);
  expect(r.fault?.reason.code).toBe(EVENT[name]);
  expect(r.fault?.stage).toBe(stage);
  if (level !== undefined) expect(r.fault?.level).toBe(level);
}

/** Expected answer of one translation stage for `a` from its mapping list. */
function expectWalk(r: WalkResult, list: ArmMapping[], a: bigint, stage: 1 | 2, start: number, g: GranuleSize, access: 'read' | 'write' | undefined): ArmMapping | undefined {
  const m = findMapping(list, a);
  if (!m) {
    expectEvent(r, 'F_TRANSLATION', 'table-entry', invalidLevel(list, a, start, g));
    return undefined;
  }
  if (m.afClear) {
    expectEvent(r, 'F_ACCESS', 'table-entry', leafLevelOf(m.size, g));
    return undefined;
  }
  if (access && !(stage === 1 ? s1Allowed(m.perms, access, false) : s2Allowed(m.perms, access))) {
    expectEvent(r, 'F_PERMISSION', 'permission', leafLevelOf(m.size, g));
    return undefined;
  }
  return m;
}

interface StreamSpec {
  sid: number;
  granule: GranuleSize;
  tsz: number;
  mappings: ArmMapping[];
  s1CdMax: number;
  cdFmt: 0 | 1 | 2;
  /** SSIDs that get a valid CD (all share the same tables) */
  ssids: number[];
}

const streamArb: fc.Arbitrary<StreamSpec> = fc
  .record({ sid: fc.integer({ min: 0, max: 255 }), granule: fc.constantFrom(...GRANULES), tsz: fc.integer({ min: 16, max: 39 }), s1CdMax: fc.constantFrom(0, 0, 3, 7, 12), cdFmt: fc.constantFrom<0 | 1 | 2>(0, 1, 2), ssidSeeds: fc.array(fc.nat(5000), { maxLength: 4 }) })
  .chain((s) => {
    const inputBits = 64 - s.tsz;
    const start = s1StartLevelFor(inputBits, s.granule);
    const lv = leafLevels(s.granule);
    return mappingsArb({ granule: s.granule, inputBits, minLevel: Math.max(start, Math.min(...lv)), leafLevels: lv, oaBits: 44, stage: 1, withAfClear: true, max: 6 }).map((mappings) => ({
      sid: s.sid,
      granule: s.granule,
      tsz: s.tsz,
      mappings,
      s1CdMax: s.s1CdMax,
      cdFmt: s.cdFmt,
      ssids: s.s1CdMax === 0 ? [0] : [0, ...s.ssidSeeds.map((x) => x % 2 ** s.s1CdMax)],
    }));
  });

describe('SMMUv3 stage 1 (differential: stream table, CDs by SSID, page tables)', () => {
  for (const twoLevel of [false, true]) {
    it(`${twoLevel ? '2-level' : 'linear'} stream table`, () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(streamArb, { selector: (s) => s.sid, minLength: 1, maxLength: 4 }),
          fc.array(fc.record({ pick: fc.nat(), sidAny: fc.integer({ min: 0, max: 300 }), useAny: fc.boolean(), inside: fc.boolean(), off: fc.bigInt({ min: 0n, max: 1n << 40n }), any: fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }), pasid: fc.option(fc.nat(5000), { nil: undefined }), access: fc.constantFrom<'read' | 'write' | undefined>('read', 'write', undefined) }), { minLength: 1, maxLength: 10 }),
          (streams, queries) => {
            const mem = new SparseMemory();
            const split = 6;
            const st = buildStreamTable(mem, 8, twoLevel, split);
            for (const s of streams) {
              const layout: LpaeLayout = { stage: 1, granule: s.granule, inputBits: 64 - s.tsz, startLevel: s1StartLevelFor(64 - s.tsz, s.granule) };
              const t = buildLpae(mem, layout, s.mappings);
              const cdt = buildCdTable(mem, s.s1CdMax, s.s1CdMax ? s.cdFmt : 0);
              for (const ssid of s.ssids) writeCd(mem, cdt.cdAddress(ssid), { t0: t, ipsBits: 44, asid: s.sid + 1 });
              writeSte(mem, st.steAddress(s.sid), { config: 's1', cdPtr: cdt.ptr, s1Fmt: s.s1CdMax ? s.cdFmt : 0, s1CdMax: s.s1CdMax, s1Dss: 2 });
            }
            const snap = snapOf(mem, { strtab_base: st.strtabBase, strtab_base_cfg: st.strtabBaseCfg, cr0: 1n, idr1: (16n << 6n) | 16n });
            for (const q of queries) {
              const s = q.useAny ? streams.find((x) => x.sid === q.sidAny) : streams[q.pick % streams.length]!;
              const sid = s ? s.sid : q.sidAny;
              const m0 = s && q.inside && s.mappings.length ? s.mappings[q.pick % s.mappings.length] : undefined;
              const a = m0 ? m0.iova + (q.off % m0.size) : s ? q.any & ((1n << BigInt(64 - s.tsz)) - 1n) : q.any;
              const r = walkSmmuV3(snap, { iova: a, streamId: sid, pasid: q.pasid, access: q.access });
              if (!s) {
                if (sid >= 256) expectEvent(r, 'C_BAD_STREAMID', 'device-entry');
                else if (twoLevel && !streams.some((x) => x.sid >> split === sid >> split)) expectEvent(r, 'C_BAD_STREAMID', 'device-entry');
                else expectEvent(r, 'C_BAD_STE', 'device-entry');
                continue;
              }
              if (q.pasid !== undefined) {
                if (s.s1CdMax === 0 || q.pasid >= 2 ** s.s1CdMax) {
                  expectEvent(r, 'C_BAD_SUBSTREAMID', 'pasid-entry');
                  continue;
                }
                if (!s.ssids.includes(q.pasid)) {
                  const leafBits = s.cdFmt === 1 ? 6 : 10;
                  const l1Present = s.ssids.some((x) => x >> leafBits === q.pasid! >> leafBits);
                  if (s.cdFmt !== 0 && !l1Present) expectEvent(r, 'C_BAD_SUBSTREAMID', 'pasid-entry');
                  else expectEvent(r, 'C_BAD_CD', 'pasid-entry');
                  continue;
                }
              }
              const start = s1StartLevelFor(64 - s.tsz, s.granule);
              const m = expectWalk(r, s.mappings, a, 1, start, s.granule, q.access);
              if (m) {
                expect(r.result).toBe('translated');
                expect(r.pa).toBe(hex(m.pa + (a - m.iova)));
                expect(BigInt(r.pageSize!)).toBe(m.size);
              }
            }
          },
        ),
        { numRuns: 60 },
      );
    });
  }
});

describe('SMMUv3 stage 2 and nested', () => {
  it('stage-2 only STE and nested STE (CD and stage-1 tables at IPAs) answer like the mapping lists', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...GRANULES),
        s2LayoutArb(34, 2),
        mappingsArb({ granule: 4096, inputBits: 39, minLevel: 1, leafLevels: [1, 2, 3], oaBits: 33, stage: 1, withAfClear: true, max: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.bigInt({ min: 0n, max: 1n << 40n }), fc.boolean(), fc.boolean()), { maxLength: 6 }),
        fc.array(fc.record({ pick: fc.nat(), off: fc.bigInt({ min: 0n, max: 1n << 40n }), inside: fc.boolean(), any: fc.bigInt({ min: 0n, max: (1n << 39n) - 1n }), access: fc.constantFrom<'read' | 'write' | undefined>('read', 'write', undefined) }), { minLength: 1, maxLength: 8 }),
        (g1, s2layout, s1list, cover, queries) => {
          const g2 = s2layout.granule;
          const mem = new SparseMemory();
          const OFF = 0x2000_0000n;
          const s1layout: LpaeLayout = { stage: 1, granule: g1, inputBits: 39, startLevel: s1StartLevelFor(39, g1) };
          // restate the stage-1 list for this granule: keep sizes that are leaves of g1
          const l1list = s1list.filter((m) => leafLevelOf(m.size, g1) !== undefined && leafLevels(g1).includes(leafLevelOf(m.size, g1)!));
          const t1 = buildLpae(mem, s1layout, l1list, (pa) => pa + OFF);
          const cdPa = mem.alloc(64, 64);
          writeCd(mem, cdPa, { t0: t1, ipsBits: 40, asid: 1 }, t1.root + OFF);
          const { shift } = geometry(g2);
          const blk = 1n << BigInt(shift(2));
          const end = mem.alloc(0, 1) + 0x10_0000n;
          const s2list: ArmMapping[] = [];
          for (let pa = 0x4000_0000n & ~(blk - 1n); pa < end; pa += blk) s2list.push({ iova: pa + OFF, pa, size: blk, perms: { read: true, write: true, exec: false } });
          const page = 1n << BigInt(shift(3));
          for (const [i, off, w, af] of cover) {
            if (!l1list.length) break;
            const m = l1list[i % l1list.length]!;
            const ipa = (m.pa + (off % m.size)) & ~(page - 1n);
            const c: ArmMapping = { iova: ipa, pa: 0x8_0000_0000n + ipa, size: page, perms: { read: true, write: w, exec: false } };
            if (af && i % 3 === 0) c.afClear = true;
            if (!s2list.some((x) => x.iova < c.iova + c.size && c.iova < x.iova + x.size)) s2list.push(c);
          }
          const t2 = buildLpae(mem, s2layout, s2list);
          const st = buildStreamTable(mem, 6, false);
          const s2spec = { tables: t2, psBits: 44, vmid: 3 };
          writeSte(mem, st.steAddress(1), { config: 's2', s2: s2spec });
          writeSte(mem, st.steAddress(2), { config: 'nested', cdPtr: cdPa + OFF, s2: s2spec });
          const snap = snapOf(mem, { strtab_base: st.strtabBase, strtab_base_cfg: st.strtabBaseCfg });
          for (const q of queries) {
            // stage 2 only: the address is an IPA
            const m2q = q.inside && s2list.length ? s2list[q.pick % s2list.length]! : undefined;
            const ipa = m2q ? m2q.iova + (q.off % m2q.size) : q.any;
            const r2 = walkSmmuV3(snap, { iova: ipa, streamId: 1, access: q.access });
            const m2 = expectWalk(r2, s2list, ipa, 2, s2layout.startLevel, g2, q.access);
            if (m2) expect(r2.pa).toBe(hex(m2.pa + (ipa - m2.iova)));
            // nested
            const m1q = q.inside && l1list.length ? l1list[q.pick % l1list.length]! : undefined;
            const va = m1q ? m1q.iova + (q.off % m1q.size) : q.any;
            const r = walkSmmuV3(snap, { iova: va, streamId: 2, access: q.access });
            const m1 = findMapping(l1list, va);
            if (!m1 || m1.afClear || (q.access && !s1Allowed(m1.perms, q.access, false))) {
              expectWalk(r, l1list, va, 1, s1layout.startLevel, g1, q.access);
              expect(r.fault?.reason.text).toMatch(/S2=0/);
              continue;
            }
            const ipa2 = m1.pa + (va - m1.iova);
            const mm = expectWalk(r, s2list, ipa2, 2, s2layout.startLevel, g2, q.access);
            if (!mm) {
              expect(r.fault?.reason.text).toMatch(/S2=1, CLASS=IN/);
              continue;
            }
            expect(r.result).toBe('translated');
            expect(r.pa).toBe(hex(mm.pa + (ipa2 - mm.iova)));
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('SMMUv3 configuration faults land on the right stage', () => {
  function base() {
    const mem = new SparseMemory();
    const layout: LpaeLayout = { stage: 1, granule: 4096, inputBits: 48, startLevel: 0 };
    const t = buildLpae(mem, layout, [{ iova: 0x1000n, pa: 0x5000n, size: 4096n, perms: { read: true, write: false, exec: false, user: true } }]);
    const st = buildStreamTable(mem, 8, true);
    return { mem, t, st };
  }

  it('bad STE (V=0, reserved S2TG) is C_BAD_STE at device-entry; abort STE terminates without event', () => {
    const { mem, st } = base();
    writeSte(mem, st.steAddress(3), { config: 's1', valid: false, cdPtr: 0x1000n });
    writeSte(mem, st.steAddress(4), { config: 'abort' });
    const snap = snapOf(mem, { strtab_base: st.strtabBase, strtab_base_cfg: st.strtabBaseCfg });
    expectEvent(walkSmmuV3(snap, { iova: 0x1000n, streamId: 3 }), 'C_BAD_STE', 'device-entry');
    const ab = walkSmmuV3(snap, { iova: 0x1000n, streamId: 4 });
    expect(ab.fault).toMatchObject({ stage: 'device-entry', reason: { name: 'STE_ABORT' } });
    expect(ab.fault?.reason.code).toBeUndefined();
    // S2TG = 3 (reserved)
    const at = st.steAddress(5);
    writeSte(mem, at, { config: 's2' });
    mem.write64(at + 16n, (3n << 46n) | (1n << 51n) | (24n << 32n));
    expectEvent(walkSmmuV3(snap, { iova: 0x1000n, streamId: 5 }), 'C_BAD_STE', 'device-entry');
    // bypass STE passes the address through
    writeSte(mem, st.steAddress(6), { config: 'bypass' });
    expect(walkSmmuV3(snap, { iova: 0x1234n, streamId: 6 })).toMatchObject({ result: 'translated', pa: '0x1234' });
  });

  it('STE or L1STD outside the snapshot is F_STE_FETCH', () => {
    const mem = new SparseMemory();
    const snap = snapOf(mem, { strtab_base: 0x9_0000_0000n, strtab_base_cfg: 8n });
    expectEvent(walkSmmuV3(snap, { iova: 0n, streamId: 1 }), 'F_STE_FETCH', 'device-entry');
    const snap2 = snapOf(mem, { strtab_base: 0x9_0000_0000n, strtab_base_cfg: 8n | (8n << 6n) | (1n << 16n) });
    expectEvent(walkSmmuV3(snap2, { iova: 0n, streamId: 1 }), 'F_STE_FETCH', 'device-entry');
  });

  it('bad CD, CD fetch failure, SSID beyond S1CDMax, S1DSS terminate', () => {
    const { mem, t, st } = base();
    const cd = mem.alloc(64 * 8, 512);
    writeCd(mem, cd, { t0: t, ipsBits: 44, asid: 1, valid: false });
    writeSte(mem, st.steAddress(1), { config: 's1', cdPtr: cd });
    writeSte(mem, st.steAddress(2), { config: 's1', cdPtr: 0x7_0000_0000n });
    writeSte(mem, st.steAddress(3), { config: 's1', cdPtr: cd, s1CdMax: 3, s1Dss: 0 });
    const snap = snapOf(mem, { strtab_base: st.strtabBase, strtab_base_cfg: st.strtabBaseCfg });
    expectEvent(walkSmmuV3(snap, { iova: 0x1000n, streamId: 1 }), 'C_BAD_CD', 'pasid-entry');
    expectEvent(walkSmmuV3(snap, { iova: 0x1000n, streamId: 2 }), 'F_CD_FETCH', 'pasid-entry');
    expectEvent(walkSmmuV3(snap, { iova: 0x1000n, streamId: 3, pasid: 8 }), 'C_BAD_SUBSTREAMID', 'pasid-entry');
    expectEvent(walkSmmuV3(snap, { iova: 0x1000n, streamId: 3 }), 'F_STREAM_DISABLED', 'pasid-entry');
    expectEvent(walkSmmuV3(snap, { iova: 0x1000n, streamId: 1, pasid: 1 }), 'C_BAD_SUBSTREAMID', 'pasid-entry');
    // CD valid but T0SZ out of range
    writeCd(mem, cd + 64n, { t0: t, ipsBits: 44, asid: 1 });
    mem.write64(cd + 64n, (mem.read64(cd + 64n)! & ~0x3fn) | 8n);
    expectEvent(walkSmmuV3(snap, { iova: 0x1000n, streamId: 3, pasid: 1 }), 'C_BAD_CD', 'pasid-entry');
  });

  it('bad TTB: above IPS is C_BAD_CD, outside the snapshot is F_WALK_EABT at table-root', () => {
    const { mem, t, st } = base();
    const cd1 = mem.alloc(64, 64);
    const cd2 = mem.alloc(64, 64);
    writeCd(mem, cd1, { t0: t, ipsBits: 40, asid: 1 }, 0x200_0000_0000n);
    writeCd(mem, cd2, { t0: t, ipsBits: 44, asid: 1 }, 0x800_0000_0000n);
    writeSte(mem, st.steAddress(1), { config: 's1', cdPtr: cd1 });
    writeSte(mem, st.steAddress(2), { config: 's1', cdPtr: cd2 });
    const snap = snapOf(mem, { strtab_base: st.strtabBase, strtab_base_cfg: st.strtabBaseCfg });
    expectEvent(walkSmmuV3(snap, { iova: 0x1000n, streamId: 1 }), 'C_BAD_CD', 'pasid-entry');
    expectEvent(walkSmmuV3(snap, { iova: 0x1000n, streamId: 2 }), 'F_WALK_EABT', 'table-root', 0);
  });

  it('permission and access flag faults at the leaf level', () => {
    const mem = new SparseMemory();
    const layout: LpaeLayout = { stage: 1, granule: 4096, inputBits: 48, startLevel: 0 };
    const t = buildLpae(mem, layout, [
      { iova: 0x1000n, pa: 0x5000n, size: 4096n, perms: { read: true, write: false, exec: false, user: true } },
      { iova: 0x20_0000n, pa: 0x40_0000n, size: 0x20_0000n, perms: { read: true, write: true, exec: false, user: true }, afClear: true },
    ]);
    const st = buildStreamTable(mem, 4, false);
    const cd = mem.alloc(64, 64);
    writeCd(mem, cd, { t0: t, ipsBits: 44, asid: 1 });
    writeSte(mem, st.steAddress(0), { config: 's1', cdPtr: cd });
    const snap = snapOf(mem, { strtab_base: st.strtabBase, strtab_base_cfg: st.strtabBaseCfg });
    expectEvent(walkSmmuV3(snap, { iova: 0x1008n, streamId: 0, access: 'write' }), 'F_PERMISSION', 'permission', 3);
    expectEvent(walkSmmuV3(snap, { iova: 0x20_1000n, streamId: 0 }), 'F_ACCESS', 'table-entry', 2);
    // CD.AFFD turns the access flag fault off
    writeCd(mem, cd, { t0: t, ipsBits: 44, asid: 1, affd: true });
    expect(walkSmmuV3(snap, { iova: 0x20_1000n, streamId: 0 })).toMatchObject({ result: 'translated', pa: '0x401000', pageSize: 0x20_0000 });
  });

  it('stage-2 STE with the 64K granule starting at level 3 (S2SL0=0) and 8 concatenated tables', () => {
    const mem = new SparseMemory();
    const layout: LpaeLayout = { stage: 2, granule: 65536, inputBits: 32, startLevel: 3 };
    const t = buildLpae(mem, layout, [{ iova: 0xfedc_0000n, pa: 0x3_0000_0000n, size: 65536n, perms: { read: true, write: true, exec: false } }]);
    expect(t.concatenated).toBe(8);
    const st = buildStreamTable(mem, 4, false);
    writeSte(mem, st.steAddress(2), { config: 's2', s2: { tables: t, psBits: 44, vmid: 1 } });
    const snap = snapOf(mem, { strtab_base: st.strtabBase, strtab_base_cfg: st.strtabBaseCfg });
    expect(walkSmmuV3(snap, { iova: 0xfedc_1234n, streamId: 2 })).toMatchObject({ result: 'translated', pa: '0x300001234', pageSize: 65536 });
    expectEvent(walkSmmuV3(snap, { iova: 0xfedd_0000n, streamId: 2 }), 'F_TRANSLATION', 'table-entry', 3);
    expectEvent(walkSmmuV3(snap, { iova: 0x1_0000_0000n, streamId: 2 }), 'F_TRANSLATION', 'table-entry');
  });
});
