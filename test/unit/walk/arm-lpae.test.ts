import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hexn, walkArmLpae } from '../../../src/core/walk/arm-lpae';
import type { Snapshot } from '../../../src/core/snapshot/types';
import type { WalkResult } from '../../../src/core/walk/types';
import { SparseMemory } from '../../builder/sparse-memory';
import {
  type ArmMapping,
  type GranuleSize,
  type LpaeLayout,
  buildLpae,
  geometry,
  leafLevelOf,
  leafLevels,
  s1StartLevelFor,
  tcrEl1,
  ttbrFor,
  vtcr,
} from '../../builder/arm-tables';
import { findMapping, hex, invalidLevel, mappingsArb, queriesArb, queryAddress, s1Allowed, s2Allowed, s2LayoutArb } from './arm-oracle';

const GRANULES: GranuleSize[] = [4096, 16384, 65536];

function snapOf(mem: SparseMemory, registers: Record<string, bigint>, oas?: number): Snapshot {
  return { path: 'test', model: 'arm-lpae', features: oas ? { oas } : {}, registers, memory: mem, findings: [] };
}

/** What a single stage should answer for `a`, from the mapping list alone. */
function expectStage(
  r: WalkResult,
  list: ArmMapping[],
  a: bigint,
  stage: 1 | 2,
  start: number,
  granule: GranuleSize,
  access: 'read' | 'write' | 'exec' | undefined,
  privileged: boolean,
): void {
  const m = findMapping(list, a);
  if (!m) {
    expect(r.result).toBe('fault');
    expect(r.fault?.stage).toBe('table-entry');
    expect(r.fault?.reason.name).toBe('TRANSLATION');
    expect(r.fault?.level).toBe(invalidLevel(list, a, start, granule));
    return;
  }
  const level = leafLevelOf(m.size, granule)!;
  if (m.afClear) {
    expect(r.fault?.reason.name).toBe('ACCESS_FLAG');
    expect(r.fault?.level).toBe(level);
    expect(r.fault?.stage).toBe('table-entry');
    return;
  }
  const allowed = (acc: 'read' | 'write' | 'exec'): boolean => (stage === 1 ? s1Allowed(m.perms, acc, privileged) : s2Allowed(m.perms, acc));
  if (access && !allowed(access)) {
    expect(r.result).toBe('fault');
    expect(r.fault?.stage).toBe('permission');
    expect(r.fault?.reason.name).toBe('PERMISSION');
    expect(r.fault?.level).toBe(level);
    return;
  }
  expect(r.result, JSON.stringify(r.fault)).toBe('translated');
  expect(r.pa).toBe(hex(m.pa + (a - m.iova)));
  expect(BigInt(r.pageSize!)).toBe(m.size);
  expect(r.permissions?.read).toBe(allowed('read'));
  expect(r.permissions?.write).toBe(allowed('write'));
  expect(r.permissions?.exec).toBe(allowed('exec'));
}

describe('arm-lpae stage 1 (differential against the mapping list)', () => {
  for (const granule of GRANULES) {
    it(`${granule / 1024}K granule, every legal T0SZ`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 16, max: 39 }).chain((tsz) => {
            const inputBits = 64 - tsz;
            const start = s1StartLevelFor(inputBits, granule);
            const levels = leafLevels(granule);
            const minLevel = Math.max(start, Math.min(...levels));
            return fc.tuple(
              fc.constant(tsz),
              fc.constantFrom(40, 44, 48),
              mappingsArb({ granule, inputBits, minLevel, leafLevels: levels, oaBits: 40, stage: 1, withAfClear: true }),
              queriesArb(inputBits),
            );
          }),
          ([tsz, ips, list, queries]) => {
            const mem = new SparseMemory();
            const layout: LpaeLayout = { stage: 1, granule, inputBits: 64 - tsz, startLevel: s1StartLevelFor(64 - tsz, granule) };
            const t = buildLpae(mem, layout, list);
            const snap = snapOf(mem, { tcr: tcrEl1({ t0: layout, ipsBits: ips }), ttbr0: ttbrFor(t.root) | (5n << 48n), mair: 0xf404ff44n });
            for (const q of queries) {
              const a = queryAddress(list, q);
              const r = walkArmLpae(snap, { iova: a, access: q.access, privileged: q.privileged });
              expectStage(r, list, a, 1, layout.startLevel, granule, q.access, q.privileged);
              expect(r.steps.every((s, i) => s.ok || i === r.steps.length - 1)).toBe(true);
            }
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  it('TTBR1 range: upper addresses walk TTBR1 with its own granule, the gap faults at level 0', () => {
    const mem = new SparseMemory();
    const l0: LpaeLayout = { stage: 1, granule: 4096, inputBits: 39, startLevel: 1 };
    const l1: LpaeLayout = { stage: 1, granule: 65536, inputBits: 42, startLevel: 2 };
    const perms = { read: true, write: true, exec: false, user: true };
    const t0 = buildLpae(mem, l0, [{ iova: 0x1000n, pa: 0x8000_1000n, size: 4096n, perms }]);
    const t1 = buildLpae(mem, l1, [{ iova: 0x3ff_ffff_0000n, pa: 0x9000_0000n, size: 65536n, perms }]);
    const snap = snapOf(mem, { tcr: tcrEl1({ t0: l0, t1: l1, ipsBits: 40 }), ttbr0: ttbrFor(t0.root), ttbr1: ttbrFor(t1.root) });
    const up = walkArmLpae(snap, { iova: 0xffff_ffff_ffff_1234n });
    expect(up.result).toBe('translated');
    expect(up.pa).toBe('0x90001234');
    expect(up.pageSize).toBe(65536);
    expect(walkArmLpae(snap, { iova: 0x1abcn }).pa).toBe('0x80001abc');
    const gap = walkArmLpae(snap, { iova: 0x0000_8000_0000_0000n });
    expect(gap.fault).toMatchObject({ stage: 'table-entry', level: 0, reason: { name: 'TRANSLATION', code: 0x04 } });
  });

  it('52-bit output with the 64K granule (OA[51:48] in bits [15:12]) and a 4T block at level 1', () => {
    const mem = new SparseMemory();
    const layout: LpaeLayout = { stage: 1, granule: 65536, inputBits: 48, startLevel: 1, pa52: true };
    const perms = { read: true, write: true, exec: true, user: true };
    const t = buildLpae(mem, layout, [
      { iova: 0x1_0000_0000n, pa: 0xf_1234_5678_0000n, size: 65536n, perms },
      { iova: 0x400_0000_0000n, pa: 0x8_0400_0000_0000n, size: 1n << 42n, perms },
    ]);
    const snap = snapOf(mem, { tcr: tcrEl1({ t0: layout, ipsBits: 52 }), ttbr0: ttbrFor(t.root, true) });
    expect(walkArmLpae(snap, { iova: 0x1_0000_0042n }).pa).toBe('0xf123456780042');
    const blk = walkArmLpae(snap, { iova: 0x400_0000_1000n });
    expect(blk.pa).toBe('0x8040000001000');
    expect(blk.pageSize).toBe(2 ** 42);
    // the same tables under a 48-bit IPS: the level-1 block is not permitted any more
    const snap48 = snapOf(mem, { tcr: tcrEl1({ t0: layout, ipsBits: 48 }), ttbr0: ttbrFor(t.root, false) });
    expect(walkArmLpae(snap48, { iova: 0x400_0000_1000n }).fault).toMatchObject({ stage: 'table-entry', level: 1, reason: { name: 'TRANSLATION' } });
  });

  it('address size fault when the output is above IPS; table-root when the root is not in the snapshot; configuration for a bad TCR', () => {
    const mem = new SparseMemory();
    const layout: LpaeLayout = { stage: 1, granule: 4096, inputBits: 48, startLevel: 0 };
    const t = buildLpae(mem, layout, [{ iova: 0x2000n, pa: 0x100_0000_0000n, size: 4096n, perms: { read: true, write: true, exec: true, user: true } }]);
    const snap = snapOf(mem, { tcr: tcrEl1({ t0: layout, ipsBits: 40 }), ttbr0: ttbrFor(t.root) });
    expect(walkArmLpae(snap, { iova: 0x2000n }).fault).toMatchObject({ stage: 'table-entry', level: 3, reason: { name: 'ADDRESS_SIZE', code: 3 } });
    const missing = snapOf(mem, { tcr: tcrEl1({ t0: layout, ipsBits: 48 }), ttbr0: 0x7_0000_0000n });
    const r = walkArmLpae(missing, { iova: 0x2000n });
    expect(r.fault).toMatchObject({ stage: 'table-root', level: 0, reason: { name: 'SEA_ON_WALK' } });
    expect(r.steps.at(-1)).toMatchObject({ ok: false, address: '0x700000000', structure: 'L0 descriptor' });
    const bad = snapOf(mem, { tcr: (tcrEl1({ t0: layout, ipsBits: 48 }) & ~0x3fn) | 8n, ttbr0: ttbrFor(t.root) });
    expect(walkArmLpae(bad, { iova: 0x2000n }).fault?.stage).toBe('configuration');
  });

  it('APTable from a table descriptor removes write and unprivileged access below it', () => {
    const mem = new SparseMemory();
    const layout: LpaeLayout = { stage: 1, granule: 4096, inputBits: 39, startLevel: 1 };
    const t = buildLpae(mem, layout, [{ iova: 0x40_0000n, pa: 0x1000_0000n, size: 4096n, perms: { read: true, write: true, exec: false, user: true } }]);
    const l1 = t.root + 0n;
    mem.write64(l1, (mem.read64(l1)! | (3n << 61n)));
    const snap = snapOf(mem, { tcr: tcrEl1({ t0: layout, ipsBits: 40 }), ttbr0: ttbrFor(t.root) });
    expect(walkArmLpae(snap, { iova: 0x40_0000n, access: 'write', privileged: true }).fault?.stage).toBe('permission');
    expect(walkArmLpae(snap, { iova: 0x40_0000n, access: 'read', privileged: false }).fault?.stage).toBe('permission');
    expect(walkArmLpae(snap, { iova: 0x40_0000n, access: 'read', privileged: true }).result).toBe('translated');
  });

  it('a table pointing back at an ancestor is reported as a finding and the walk stays bounded', () => {
    const mem = new SparseMemory();
    const root = mem.alloc(4096, 4096);
    mem.write64(root, root | 3n); // L0[0] -> itself
    const layout: LpaeLayout = { stage: 1, granule: 4096, inputBits: 48, startLevel: 0 };
    const snap = snapOf(mem, { tcr: tcrEl1({ t0: layout, ipsBits: 48 }), ttbr0: root });
    const r = walkArmLpae(snap, { iova: 0n });
    expect(r.steps.filter((s) => s.level !== undefined).length).toBeLessThanOrEqual(4);
    expect(r.findings?.some((f) => /self-referencing/.test(f.message))).toBe(true);
  });
});

describe('arm-lpae stage 2 (SL0 start levels and concatenated tables)', () => {
  it('answers like the mapping list', () => {
    fc.assert(
      fc.property(
        s2LayoutArb().chain((layout) =>
          fc.tuple(
            fc.constant(layout),
            mappingsArb({ granule: layout.granule, inputBits: layout.inputBits, minLevel: Math.max(layout.startLevel, Math.min(...leafLevels(layout.granule))), leafLevels: leafLevels(layout.granule), oaBits: 44, stage: 2, withAfClear: true }),
            queriesArb(layout.inputBits),
          ),
        ),
        ([layout, list, queries]) => {
          const mem = new SparseMemory();
          const t = buildLpae(mem, layout, list);
          const snap = snapOf(mem, { vtcr: vtcr(layout, 44), vttbr: ttbrFor(t.root) | (3n << 48n) });
          for (const q of queries) {
            const a = queryAddress(list, q);
            const r = walkArmLpae(snap, { iova: a, access: q.access });
            expectStage(r, list, a, 2, layout.startLevel, layout.granule, q.access, false);
          }
          // one past the input range
          const out = walkArmLpae(snap, { iova: 1n << BigInt(layout.inputBits) });
          expect(out.fault?.reason.name).toBe('TRANSLATION');
          const concat = out.steps[0]!.decoded!.concatenatedTables as number;
          expect(concat).toBe(t.concatenated);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('arm-lpae nested (stage-1 tables at IPAs translated by stage 2)', () => {
  const TABLE_IPA_OFFSET = 0x2000_0000n;
  it('answers like the composition of the two mapping lists', () => {
    fc.assert(
      fc.property(
        fc
          .tuple(fc.constantFrom<GranuleSize>(...GRANULES), fc.integer({ min: 25, max: 48 }), s2LayoutArb(33, 2))
          .chain(([g1, in1, l2]) => {
            const start1 = s1StartLevelFor(in1, g1);
            const lv1 = leafLevels(g1);
            return fc.tuple(
              fc.constant(g1),
              fc.constant(in1),
              fc.constant(l2),
              mappingsArb({ granule: g1, inputBits: in1, minLevel: Math.max(start1, Math.min(...lv1)), leafLevels: lv1, oaBits: Math.min(l2.inputBits, 40), stage: 1, withAfClear: true, max: 8 }),
              mappingsArb({ granule: l2.granule, inputBits: Math.min(l2.inputBits, 40), minLevel: Math.max(l2.startLevel, 2), leafLevels: leafLevels(l2.granule), oaBits: 44, stage: 2, withAfClear: true, max: 8 }),
              queriesArb(in1),
              fc.array(fc.tuple(fc.nat(), fc.bigInt({ min: 0n, max: 1n << 40n }), fc.boolean()), { maxLength: 6 }),
            );
          }),
        ([g1, in1, l2, s1list, s2random, queries, cover]) => {
          const mem = new SparseMemory();
          const layout1: LpaeLayout = { stage: 1, granule: g1, inputBits: in1, startLevel: s1StartLevelFor(in1, g1) };
          const t1 = buildLpae(mem, layout1, s1list, (pa) => pa + TABLE_IPA_OFFSET);
          // stage 2: identity-offset block(s) for the stage-1 tables, then mappings for some stage-1 outputs, then random ones
          const { shift } = geometry(l2.granule);
          const blk = 1n << BigInt(shift(2));
          const tablesEnd = mem.alloc(0, 1) + 0x10_0000n;
          const s2list: ArmMapping[] = [];
          for (let pa = 0x4000_0000n & ~(blk - 1n); pa < tablesEnd; pa += blk) s2list.push({ iova: pa + TABLE_IPA_OFFSET, pa, size: blk, perms: { read: true, write: true, exec: false } });
          const overlaps = (m: ArmMapping): boolean => s2list.some((x) => x.iova < m.iova + m.size && m.iova < x.iova + x.size);
          for (const [i, off, afClear] of cover) {
            if (!s1list.length) break;
            const m = s1list[i % s1list.length]!;
            const page = 1n << BigInt(shift(3));
            const ipa = (m.pa + (off % m.size)) & ~(page - 1n);
            const c: ArmMapping = { iova: ipa, pa: 0x7_0000_0000n + ipa, size: page, perms: { read: true, write: i % 3 !== 0, exec: i % 2 === 0 } };
            if (afClear && i % 4 === 0) c.afClear = true;
            if (!overlaps(c)) s2list.push(c);
          }
          for (const m of s2random) if (!overlaps(m)) s2list.push(m);
          const t2 = buildLpae(mem, l2, s2list);
          const snap = snapOf(mem, {
            tcr: tcrEl1({ t0: layout1, ipsBits: 40 }),
            ttbr0: ttbrFor(t1.root + TABLE_IPA_OFFSET),
            vtcr: vtcr(l2, 44),
            vttbr: ttbrFor(t2.root),
          });
          for (const q of queries) {
            const a = queryAddress(s1list, q);
            const r = walkArmLpae(snap, { iova: a, access: q.access, privileged: q.privileged });
            const m1 = findMapping(s1list, a);
            const stage1Fault = !m1 || m1.afClear || (q.access !== undefined && !s1Allowed(m1.perms, q.access, q.privileged));
            if (stage1Fault) {
              expectStage(r, s1list, a, 1, layout1.startLevel, g1, q.access, q.privileged);
              expect(r.steps.some((s) => s.stage === 'stage 2')).toBe(true);
              continue;
            }
            const ipa = m1.pa + (a - m1.iova);
            const m2 = findMapping(s2list, ipa);
            if (!m2 || m2.afClear || (q.access !== undefined && !s2Allowed(m2.perms, q.access))) {
              expectStage(r, s2list, ipa, 2, l2.startLevel, l2.granule, q.access, false);
              expect(r.fault?.reason.text).toMatch(/stage 2/);
              continue;
            }
            expect(r.result).toBe('translated');
            expect(r.pa).toBe(hex(m2.pa + (ipa - m2.iova)));
            expect(BigInt(r.pageSize!)).toBe(m1.size < m2.size ? m1.size : m2.size);
            expect(r.permissions?.write).toBe(s1Allowed(m1.perms, 'write', q.privileged) && m2.perms.write);
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('a stage-1 table whose IPA is not mapped by stage 2 faults in stage 2 at the stage-1 table fetch', () => {
    const mem = new SparseMemory();
    const layout1: LpaeLayout = { stage: 1, granule: 4096, inputBits: 39, startLevel: 1 };
    const t1 = buildLpae(mem, layout1, [{ iova: 0x1000n, pa: 0x2000n, size: 4096n, perms: { read: true, write: true, exec: false, user: true } }]);
    const l2: LpaeLayout = { stage: 2, granule: 4096, inputBits: 40, startLevel: 1 };
    const t2 = buildLpae(mem, l2, [{ iova: 0x2000n, pa: 0x9000n, size: 4096n, perms: { read: true, write: true, exec: false } }]);
    const snap = snapOf(mem, { tcr: tcrEl1({ t0: layout1, ipsBits: 40 }), ttbr0: ttbrFor(t1.root), vtcr: vtcr(l2, 40), vttbr: ttbrFor(t2.root) });
    const r = walkArmLpae(snap, { iova: 0x1000n });
    expect(r.result).toBe('fault');
    expect(r.fault?.reason.name).toBe('TRANSLATION');
    expect(r.fault?.reason.text).toMatch(/fetching a stage-1 table descriptor/);
    expect(r.steps.at(-1)?.stage).toBe('stage 2');
  });
});

describe('arm-lpae FEAT_LPA2 (TCR.DS=1)', () => {
  it('4K granule, 52-bit VA from level -1, OA[51:50] in bits [9:8] and OA[49:48] in bits [49:48]', () => {
    const mem = new SparseMemory();
    // tables: L-1 (16 entries) -> L0 -> L1 -> L2 -> L3, each 4K-aligned and below 2^48
    const tl = [mem.alloc(4096, 4096), mem.alloc(4096, 4096), mem.alloc(4096, 4096), mem.alloc(4096, 4096), mem.alloc(4096, 4096)];
    const va = 0xa_1234_5678_9000n; // IA[51:48] = 0xa
    const idx = (l: number): bigint => (va >> BigInt(12 + 9 * (3 - l))) & (l === -1 ? 0xfn : 0x1ffn);
    for (let l = -1; l < 3; l++) mem.write64(tl[l + 1]! + idx(l) * 8n, tl[l + 2]! | 3n);
    const pa = 0xd_5678_9abc_d000n; // PA[51:50] = 0b11, PA[49:48] = 0b01
    const leaf = (pa & 0xffff_ffff_f000n) | (((pa >> 48n) & 3n) << 48n) | (((pa >> 50n) & 3n) << 8n) | (1n << 10n) | (1n << 6n) | 3n;
    mem.write64(tl[4]! + idx(3) * 8n, leaf);
    const tcr = 12n | (6n << 32n) | (1n << 59n) | (1n << 23n); // T0SZ=12, IPS=52, DS=1, EPD1
    const snap = snapOf(mem, { tcr, ttbr0: tl[0]! });
    const r = walkArmLpae(snap, { iova: va | 0x123n });
    expect(r.result).toBe('translated');
    expect(r.pa).toBe(hex(pa | 0x123n));
    expect(r.steps.filter((s) => s.level !== undefined).map((s) => s.structure)).toEqual(['L-1 table descriptor', 'L0 table descriptor', 'L1 table descriptor', 'L2 table descriptor', 'L3 page descriptor']);
    // without DS the same T0SZ is not a legal 4K configuration
    expect(walkArmLpae(snapOf(mem, { tcr: tcr & ~(1n << 59n), ttbr0: tl[0]! }), { iova: va }).fault?.stage).toBe('configuration');
  });
});

describe('arm-lpae hardware dirty state (DBM)', () => {
  it('a read-only DBM=1 page is writable when TCR.HD=1, and a permission fault otherwise', () => {
    const mem = new SparseMemory();
    const layout: LpaeLayout = { stage: 1, granule: 4096, inputBits: 39, startLevel: 1 };
    const t = buildLpae(mem, layout, [{ iova: 0x5000n, pa: 0x9000n, size: 4096n, perms: { read: true, write: false, exec: false, user: true } }]);
    const l3 = t.tables.at(-1)![0] + 5n * 8n;
    mem.write64(l3, mem.read64(l3)! | (1n << 51n));
    const tcr = tcrEl1({ t0: layout, ipsBits: 40 });
    expect(walkArmLpae(snapOf(mem, { tcr, ttbr0: ttbrFor(t.root) }), { iova: 0x5000n, access: 'write' }).fault?.stage).toBe('permission');
    const hd = walkArmLpae(snapOf(mem, { tcr: tcr | (1n << 40n), ttbr0: ttbrFor(t.root) }), { iova: 0x5000n, access: 'write' });
    expect(hd).toMatchObject({ result: 'translated', pa: '0x9000', permissions: { write: true } });
  });
});

describe('hexn', () => {
  it('equals toString(16) for every integer below 2^53', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 52 }), (n, bits) => {
      const v = n % 2 ** bits;
      expect(hexn(v)).toBe('0x' + v.toString(16));
    }), { numRuns: 2000 });
  });
});
