import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { walkIntelVtd } from '../../../src/core/walk/intel-vtd';
import type { Snapshot } from '../../../src/core/snapshot/types';
import type { Access, WalkResult } from '../../../src/core/walk/types';
import { SparseMemory } from '../../builder/sparse-memory';
import {
  buildFirstStage, buildSecondStage, buildVtdLegacy, buildVtdScalable,
  VTD_CAP_ALL, VTD_ECAP_ALL, VTD_GSTS_ON, type X86Mapping,
} from '../../builder/x86-tables';

function snapOf(mem: SparseMemory, rtaddr: bigint, extra: Record<string, bigint> = {}): Snapshot {
  return {
    path: 'test.iommu.json', model: 'intel-vtd', features: {},
    registers: { rtaddr, cap: VTD_CAP_ALL, ecap: VTD_ECAP_ALL, gsts: VTD_GSTS_ON, ...extra },
    memory: mem, findings: [],
  };
}

const SIZES = [0x1000n, 0x200000n, 0x40000000n];
const INTR = [0xfee00000n, 0xfef00000n];

function overlaps(a: bigint, as: bigint, b: bigint, bs: bigint): boolean {
  return a < b + bs && b < a + as;
}

/** random non-overlapping mappings below 2^width, away from the interrupt range */
function mappingsArb(width: number, paWidth: number, maxCount = 12) {
  return fc.array(
    fc.record({
      s: fc.nat(2), iova: fc.bigInt({ min: 0n, max: (1n << BigInt(width)) - 1n }), pa: fc.bigInt({ min: 0n, max: (1n << BigInt(paWidth)) - 1n }),
      perm: fc.constantFrom([true, false], [true, true], [false, true]), user: fc.boolean(),
    }),
    { minLength: 1, maxLength: maxCount },
  ).map((raw) => {
    const out: X86Mapping[] = [];
    for (const r of raw) {
      const size = SIZES[r.s]!;
      const iova = r.iova & ~(size - 1n);
      const pa = r.pa & ~(size - 1n);
      if (out.some((m) => overlaps(m.iova, m.size, iova, size))) continue;
      if (overlaps(iova, size, INTR[0]!, INTR[1]! - INTR[0]!) || overlaps(pa, size, INTR[0]!, INTR[1]! - INTR[0]!)) continue;
      out.push({ iova, pa, size, read: r.perm[0]!, write: r.perm[1]!, user: r.user });
    }
    return out;
  });
}

/** addresses to ask: inside each mapping at a random offset, plus random ones */
function queriesFor(maps: X86Mapping[], seeds: { pick: number; off: bigint; any: bigint; access: number }[], width: number) {
  const accesses: (Access | undefined)[] = [undefined, 'read', 'write'];
  return seeds.map((s) => {
    const access = accesses[s.access % 3];
    if (s.pick % 3 !== 0 && maps.length) {
      const m = maps[s.pick % maps.length]!;
      return { iova: m.iova + (s.off % m.size), access };
    }
    let iova = s.any & ((1n << BigInt(width)) - 1n);
    if (iova >= INTR[0]! && iova < INTR[1]!) iova = 0n;
    return { iova, access };
  });
}

const seedsArb = fc.array(fc.record({ pick: fc.nat(), off: fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }), any: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), access: fc.nat(2) }), { minLength: 1, maxLength: 16 });

function find(maps: X86Mapping[], iova: bigint): X86Mapping | undefined {
  return maps.find((m) => iova >= m.iova && iova < m.iova + m.size);
}

interface Expect { result: 'translated' | 'fault'; pa?: bigint; size?: number; read?: boolean; write?: boolean; stage?: string; code?: number }

function check(r: WalkResult, e: Expect, what: string): void {
  const ctx = `${what}: ${JSON.stringify({ result: r.result, pa: r.pa, fault: r.fault, pageSize: r.pageSize, permissions: r.permissions })}`;
  expect(r.result, ctx).toBe(e.result);
  if (e.result === 'translated') {
    expect(r.pa, ctx).toBe('0x' + e.pa!.toString(16));
    if (e.size !== undefined) expect(r.pageSize, ctx).toBe(e.size);
    if (e.read !== undefined) expect(r.permissions?.read, ctx).toBe(e.read);
    if (e.write !== undefined) expect(r.permissions?.write, ctx).toBe(e.write);
  } else {
    expect(r.fault?.stage, ctx).toBe(e.stage);
    if (e.code !== undefined) expect(r.fault?.reason.code, ctx).toBe(e.code);
  }
  // every step but the failing one is ok; a fault ends on a failing step or a pre-walk check
  for (const s of r.steps.slice(0, -1)) expect(s.ok, ctx).toBe(true);
}

/** the mapping list's answer for a second-stage translation */
function expectSl(maps: X86Mapping[], iova: bigint, access: Access | undefined, sm: boolean): Expect {
  const m = find(maps, iova);
  const write = access === 'write';
  if (!m) return { result: 'fault', stage: 'table-entry', code: sm ? 0x79 : write ? 0x5 : 0x6 };
  if ((access === 'read' && !m.read) || (write && !m.write)) return { result: 'fault', stage: 'permission', code: sm ? 0x79 : write ? 0x5 : 0x6 };
  return { result: 'translated', pa: m.pa + (iova - m.iova), size: Number(m.size), read: m.read, write: m.write };
}

/** the mapping list's answer for a first-stage translation of a user request */
function expectFl(maps: X86Mapping[], iova: bigint, access: Access | undefined): Expect {
  const m = find(maps, iova);
  if (!m) return { result: 'fault', stage: 'table-entry', code: 0x71 };
  if (m.user === false) return { result: 'fault', stage: 'permission', code: 0x81 };
  if (access === 'write' && !m.write) return { result: 'fault', stage: 'permission', code: 0x85 };
  return { result: 'translated', pa: m.pa + (iova - m.iova), size: Number(m.size), read: true, write: m.write };
}

describe('VT-d legacy mode, differential against the mapping list', () => {
  for (const aw of [1, 2, 3]) {
    const levels = aw + 2;
    const width = 30 + 9 * aw;
    it(`${levels}-level second-level tables (AW=${aw})`, () => {
      fc.assert(fc.property(mappingsArb(width, 46), seedsArb, fc.nat(255), fc.nat(255), (maps, seeds, bus, devfn) => {
        const mem = new SparseMemory();
        const slpt = buildSecondStage(mem, levels, maps);
        const rt = buildVtdLegacy(mem, [{ bus, devfn, aw, slptptr: slpt, tt: devfn & 1 }]);
        const snap = snapOf(mem, rt);
        const device = `0000:${bus.toString(16).padStart(2, '0')}:${(devfn >> 3).toString(16).padStart(2, '0')}.${devfn & 7}`;
        for (const q of queriesFor(maps, seeds, width)) {
          const r = walkIntelVtd(snap, { iova: q.iova, device, access: q.access });
          check(r, expectSl(maps, q.iova, q.access, false), `iova 0x${q.iova.toString(16)} ${q.access}`);
          if (r.result === 'translated') expect(r.steps.map((s) => s.structure).slice(-1)[0]).toMatch(/^SL-P/);
        }
      }), { numRuns: 40 });
    });
  }

  it('pass-through context (TT=2) gives the input address', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }), (iova) => {
      fc.pre(iova < INTR[0]! || iova >= INTR[1]!);
      const mem = new SparseMemory();
      const rt = buildVtdLegacy(mem, [{ bus: 3, devfn: 0, aw: 2, slptptr: 0n, tt: 2 }]);
      const r = walkIntelVtd(snapOf(mem, rt), { iova, device: '0000:03:00.0', access: 'write' });
      check(r, { result: 'translated', pa: iova }, 'pass-through');
    }), { numRuns: 50 });
  });
});

describe('VT-d scalable mode, differential against the mapping list', () => {
  for (const aw of [1, 2, 3]) {
    const levels = aw + 2;
    const width = 30 + 9 * aw;
    it(`PGTT=2 second-stage, ${levels} levels, request with PASID and with RID_PASID`, () => {
      fc.assert(fc.property(mappingsArb(width, 46), seedsArb, fc.nat(0xfffff), fc.nat(255), fc.boolean(), (maps, seeds, pasid, devfn, withPasid) => {
        const mem = new SparseMemory();
        const sl = buildSecondStage(mem, levels, maps, { snp: true });
        const pdts = Math.max(0, Math.min(7, Math.ceil(Math.log2((pasid >> 6) + 1)) - 7));
        const rt = buildVtdScalable(mem, [{ bus: 0x1a, devfn, pdts, ridPasid: pasid, pasids: [{ pasid, pgtt: 2, aw, ssptptr: sl }] }]);
        const snap = snapOf(mem, rt);
        const device = `0000:1a:${(devfn >> 3).toString(16).padStart(2, '0')}.${devfn & 7}`;
        for (const q of queriesFor(maps, seeds, width)) {
          const r = walkIntelVtd(snap, { iova: q.iova, device, access: q.access, ...(withPasid ? { pasid } : {}) });
          check(r, expectSl(maps, q.iova, q.access, true), `iova 0x${q.iova.toString(16)} ${q.access}`);
        }
      }), { numRuns: 30 });
    });
  }

  for (const flpm of [0, 1]) {
    const levels = 4 + flpm;
    const width = levels === 4 ? 47 : 56;
    it(`PGTT=1 first-stage, ${levels} levels, canonical upper and lower halves`, () => {
      fc.assert(fc.property(mappingsArb(width + 1, 46), seedsArb, fc.nat(0xfffff), (raw, seeds, pasid) => {
        // bit `width` set means the upper half: sign-extend it
        const ext = (a: bigint) => ((a >> BigInt(width)) & 1n ? a | ~((1n << BigInt(width)) - 1n) & ((1n << 64n) - 1n) : a);
        const maps = raw.map((m) => ({ ...m, iova: ext(m.iova) }));
        const mem = new SparseMemory();
        const fl = buildFirstStage(mem, levels, maps);
        const rt = buildVtdScalable(mem, [{ bus: 2, devfn: 8, pdts: 7, pasids: [{ pasid, pgtt: 1, flpm, flptptr: fl }] }]);
        const snap = snapOf(mem, rt);
        for (const q of queriesFor(maps, seeds, width + 1)) {
          const iova = ext(q.iova);
          const r = walkIntelVtd(snap, { iova, device: '0000:02:01.0', access: q.access, pasid });
          check(r, expectFl(maps, iova, q.access), `iova 0x${iova.toString(16)} ${q.access}`);
          if (r.result === 'translated') expect(r.permissions?.user).toBe(true);
        }
      }), { numRuns: 30 });
    });
  }

  it('PGTT=3 nested: first-stage tables and output translated through the second stage', () => {
    const TBL = 1n << 37n; // guest-physical = host-physical + TBL for table pages
    const DATA = 1n << 38n; // guest-physical = host-physical + DATA for data pages
    fc.assert(fc.property(mappingsArb(47, 37), seedsArb, fc.constantFrom(1, 2, 3), (all, seeds, aw) => {
      // the second stage maps each data page once: keep mappings whose host pages do not overlap
      const maps = all.filter((m, i) => !all.slice(0, i).some((o) => overlaps(o.pa, o.size, m.pa, m.size)));
      const mem = new SparseMemory();
      const tablePages: bigint[] = [];
      const fl = buildFirstStage(mem, 4, maps.map((m) => ({ ...m, pa: m.pa + DATA })), (hpa) => { tablePages.push(hpa); return hpa + TBL; });
      tablePages.push(fl);
      const slMaps: X86Mapping[] = [
        ...tablePages.map((h) => ({ iova: h + TBL, pa: h, size: 0x1000n, read: true, write: true })),
        ...maps.map((m) => ({ iova: m.pa + DATA, pa: m.pa, size: m.size, read: true, write: m.write })),
      ];
      const sl = buildSecondStage(mem, aw + 2, slMaps);
      const rt = buildVtdScalable(mem, [{ bus: 0, devfn: 0x10, pasids: [{ pasid: 5, pgtt: 3, aw, ssptptr: sl, flptptr: fl + TBL }] }]);
      const snap = snapOf(mem, rt);
      for (const q of queriesFor(maps, seeds, 47)) {
        const r = walkIntelVtd(snap, { iova: q.iova, device: '0000:00:02.0', pasid: 5, access: q.access });
        check(r, expectFl(maps, q.iova, q.access), `nested iova 0x${q.iova.toString(16)} ${q.access}`);
        if (r.result === 'translated') {
          expect(r.steps.some((s) => s.stage === 'stage 2')).toBe(true);
          expect(r.steps.some((s) => s.stage === 'stage 1')).toBe(true);
        }
      }
    }), { numRuns: 25 });
  });

  it('PGTT=4 pass-through', () => {
    const mem = new SparseMemory();
    const rt = buildVtdScalable(mem, [{ bus: 0, devfn: 0x80, pasids: [{ pasid: 0, pgtt: 4 }] }]);
    const r = walkIntelVtd(snapOf(mem, rt), { iova: 0x1234_5000n, device: '0000:00:10.0' });
    check(r, { result: 'translated', pa: 0x1234_5000n }, 'pass-through');
    expect(r.steps.find((s) => s.structure === 'root entry')?.decoded?.['half']).toMatch(/upper/);
  });
});

// ---------------------------------------------------------------------------------------------

function legacySetup(opts: { ctx?: Partial<Parameters<typeof buildVtdLegacy>[1][number]>; maps?: X86Mapping[] } = {}) {
  const mem = new SparseMemory();
  const maps = opts.maps ?? [{ iova: 0x10000n, pa: 0x8000_0000n, size: 0x1000n, read: true, write: false }];
  const sl = buildSecondStage(mem, 4, maps);
  const rt = buildVtdLegacy(mem, [{ bus: 1, devfn: 0, aw: 2, slptptr: sl, ...opts.ctx }]);
  return { mem, rt, sl };
}

describe('VT-d faults at each stage carry the architectural reason', () => {
  it('root entry not present: 0x1, device-entry', () => {
    const { mem, rt } = legacySetup();
    const r = walkIntelVtd(snapOf(mem, rt), { iova: 0x10000n, device: '0000:02:00.0' });
    expect(r.fault).toMatchObject({ stage: 'device-entry', reason: { code: 0x1, text: 'Present bit in root entry is clear' } });
    expect(r.steps.at(-1)).toMatchObject({ structure: 'root entry', ok: false });
  });

  it('context entry not present: 0x2, device-entry', () => {
    const { mem, rt } = legacySetup();
    const r = walkIntelVtd(snapOf(mem, rt), { iova: 0x10000n, device: '0000:01:00.1' });
    expect(r.fault).toMatchObject({ stage: 'device-entry', reason: { code: 0x2, text: 'Present bit in context entry is clear' } });
  });

  it('PTE not present: 0x6 for a read, 0x5 for a write, table-entry', () => {
    const { mem, rt } = legacySetup();
    const snap = snapOf(mem, rt);
    expect(walkIntelVtd(snap, { iova: 0x11000n, device: '0000:01:00.0', access: 'read' }).fault).toMatchObject({ stage: 'table-entry', level: 1, reason: { code: 0x6 } });
    expect(walkIntelVtd(snap, { iova: 0x11000n, device: '0000:01:00.0', access: 'write' }).fault).toMatchObject({ stage: 'table-entry', level: 1, reason: { code: 0x5 } });
  });

  it('write to a read-only page: 0x5, permission', () => {
    const { mem, rt } = legacySetup();
    const r = walkIntelVtd(snapOf(mem, rt), { iova: 0x10008n, device: '0000:01:00.0', access: 'write' });
    expect(r.fault).toMatchObject({ stage: 'permission', level: 1, reason: { code: 0x5, text: 'PTE Write access is not set' } });
    expect(walkIntelVtd(snapOf(mem, rt), { iova: 0x10008n, device: '0000:01:00.0', access: 'read' }).pa).toBe('0x80000008');
  });

  it('reserved bits in a PTE (bit 7 in an SL-PML4E): 0xC, configuration', () => {
    const { mem, rt, sl } = legacySetup();
    mem.write64(sl, (mem.read64(sl) ?? 0n) | 0x80n);
    const r = walkIntelVtd(snapOf(mem, rt), { iova: 0x10000n, device: '0000:01:00.0' });
    expect(r.fault).toMatchObject({ stage: 'configuration', level: 4, reason: { code: 0xc } });
  });

  it('SNP bit is reserved in legacy leaves without ECAP.SC, accepted with it', () => {
    const mem = new SparseMemory();
    const sl = buildSecondStage(mem, 3, [{ iova: 0n, pa: 0x5000n, size: 0x1000n, read: true, write: true }], { snp: true });
    const rt = buildVtdLegacy(mem, [{ bus: 0, devfn: 0, aw: 1, slptptr: sl }]);
    expect(walkIntelVtd(snapOf(mem, rt, { ecap: VTD_ECAP_ALL & ~(1n << 7n) }), { iova: 0n, device: '00:00.0' }).fault?.reason.code).toBe(0xc);
    expect(walkIntelVtd(snapOf(mem, rt), { iova: 0n, device: '00:00.0' }).pa).toBe('0x5000');
  });

  it('reserved bits in the root entry: 0xA', () => {
    const { mem, rt } = legacySetup();
    mem.write64(rt + 16n + 8n, 1n);
    expect(walkIntelVtd(snapOf(mem, rt), { iova: 0x10000n, device: '0000:01:00.0' }).fault).toMatchObject({ stage: 'configuration', reason: { code: 0xa } });
  });

  it('unsupported AW and TT=3: 0x3 invalid context entry', () => {
    const a = legacySetup({ ctx: { aw: 3 } });
    expect(walkIntelVtd(snapOf(a.mem, a.rt, { cap: VTD_CAP_ALL & ~(1n << 11n) }), { iova: 0x10000n, device: '0000:01:00.0' }).fault).toMatchObject({ stage: 'configuration', reason: { code: 0x3 } });
    const b = legacySetup({ ctx: { tt: 3 } });
    expect(walkIntelVtd(snapOf(b.mem, b.rt), { iova: 0x10000n, device: '0000:01:00.0' }).fault?.reason.code).toBe(0x3);
  });

  it('SLPTPTR to memory outside the snapshot: 0x3 at the root table, table-root; a step says so', () => {
    const { mem, rt } = legacySetup({ ctx: { slptptr: 0x7_0000_0000n } });
    const r = walkIntelVtd(snapOf(mem, rt), { iova: 0x10000n, device: '0000:01:00.0' });
    expect(r.fault).toMatchObject({ stage: 'table-root', level: 4, reason: { code: 0x3 } });
    expect(r.steps.at(-1)).toMatchObject({ structure: 'SL-PML4E', address: '0x700000000', ok: false, decoded: { inSnapshot: false } });
  });

  it('context table outside the snapshot: 0x9', () => {
    const { mem, rt } = legacySetup();
    mem.write64(rt + 16n, 0x9_0000_0000n | 1n);
    expect(walkIntelVtd(snapOf(mem, rt), { iova: 0x10000n, device: '0000:01:00.0' }).fault).toMatchObject({ stage: 'device-entry', reason: { code: 0x9 } });
  });

  it('address beyond the AGAW/MGAW: 0x4', () => {
    const { mem, rt } = legacySetup();
    const r = walkIntelVtd(snapOf(mem, rt), { iova: 1n << 48n, device: '0000:01:00.0' });
    expect(r.fault).toMatchObject({ stage: 'table-entry', reason: { code: 0x4, text: 'Access beyond MGAW' } });
    // MGAW = 40 bits limits a 48-bit table
    const capMgaw40 = (VTD_CAP_ALL & ~(0x3fn << 16n)) | (39n << 16n);
    expect(walkIntelVtd(snapOf(mem, rt, { cap: capMgaw40 }), { iova: 1n << 40n, device: '0000:01:00.0' }).fault?.reason.code).toBe(0x4);
  });

  it('request with PASID in legacy mode: 0x31', () => {
    const { mem, rt } = legacySetup();
    expect(walkIntelVtd(snapOf(mem, rt), { iova: 0x10000n, device: '0000:01:00.0', pasid: 1 }).fault?.reason.code).toBe(0x31);
  });

  it('GSTS.TES=0: untranslated', () => {
    const { mem, rt } = legacySetup();
    const r = walkIntelVtd(snapOf(mem, rt, { gsts: 0n }), { iova: 0x1234n, device: '0000:01:00.0' });
    expect(r).toMatchObject({ result: 'translated', pa: '0x1234' });
  });

  it('FPD=1 notes that the fault would not be recorded', () => {
    const { mem, rt } = legacySetup({ ctx: { fpd: true } });
    const r = walkIntelVtd(snapOf(mem, rt), { iova: 0x20000n, device: '0000:01:00.0' });
    expect(r.fault?.reason.code).toBe(0x6);
    expect(r.findings?.[0]?.message).toMatch(/FPD=1/);
  });

  it('a table that points to itself is reported as a loop, and the walk still ends', () => {
    const mem = new SparseMemory();
    const t = mem.alloc(4096);
    mem.write64(t, t | 3n); // every level reads entry 0 of the same table
    const rt = buildVtdLegacy(mem, [{ bus: 0, devfn: 0, aw: 3, slptptr: t }]);
    const r = walkIntelVtd(snapOf(mem, rt), { iova: 0n, device: '0000:00:00.0' });
    expect(r.findings?.some((f) => /loop/.test(f.message))).toBe(true);
    expect(r.steps.filter((s) => s.structure.startsWith('SL-')).length).toBe(5);
  });

  it('bad requester and missing RTADDR are configuration errors, not exceptions', () => {
    const { mem, rt } = legacySetup();
    expect(walkIntelVtd(snapOf(mem, rt), { iova: 0n, device: 'nonsense' }).fault?.stage).toBe('configuration');
    expect(walkIntelVtd(snapOf(mem, rt), { iova: 0n }).fault?.stage).toBe('configuration');
    const s = snapOf(mem, rt);
    delete s.registers['rtaddr'];
    expect(walkIntelVtd(s, { iova: 0n, device: '0000:01:00.0' }).fault?.reason.name).toBe('NO_RTADDR');
  });
});

describe('VT-d scalable-mode faults', () => {
  function smSetup(dev: Partial<Parameters<typeof buildVtdScalable>[1][number]> = {}, pe: Partial<Parameters<typeof buildVtdScalable>[1][number]['pasids'][number]> = {}) {
    const mem = new SparseMemory();
    const sl = buildSecondStage(mem, 4, [{ iova: 0x4000n, pa: 0x9000n, size: 0x1000n, read: true, write: false }]);
    const fl = buildFirstStage(mem, 4, [{ iova: 0x4000n, pa: 0xa000n, size: 0x1000n, read: true, write: false, user: false }]);
    const rt = buildVtdScalable(mem, [{ bus: 0, devfn: 0x08, ridPasid: 0x40, pasids: [{ pasid: 0x40, pgtt: 2, aw: 2, ssptptr: sl, flptptr: fl, ...pe }], ...dev }]);
    return { mem, rt, snap: snapOf(mem, rt) };
  }
  const dev = '0000:00:01.0';

  it('translates through RID_PASID when the request has no PASID', () => {
    expect(walkIntelVtd(smSetup().snap, { iova: 0x4abcn, device: dev }).pa).toBe('0x9abc');
  });
  it('root entry lower half not present: 0x39', () => {
    expect(walkIntelVtd(smSetup().snap, { iova: 0x4000n, device: '0000:00:10.0' }).fault).toMatchObject({ stage: 'device-entry', reason: { code: 0x39 } });
  });
  it('context entry not present: 0x41', () => {
    expect(walkIntelVtd(smSetup({ present: false }).snap, { iova: 0x4000n, device: dev }).fault).toMatchObject({ stage: 'device-entry', reason: { code: 0x41 } });
  });
  it('PASIDE clear for a request with PASID: 0x45', () => {
    expect(walkIntelVtd(smSetup({ paside: false }).snap, { iova: 0x4000n, device: dev, pasid: 0x40 }).fault?.reason.code).toBe(0x45);
  });
  it('PASID beyond the directory size: 0x46', () => {
    expect(walkIntelVtd(smSetup().snap, { iova: 0x4000n, device: dev, pasid: 0x40 << 7 }).fault).toMatchObject({ stage: 'pasid-entry', reason: { code: 0x46 } });
  });
  it('PASID directory entry not present: 0x51', () => {
    expect(walkIntelVtd(smSetup({ absentDirs: [1] }).snap, { iova: 0x4000n, device: dev, pasid: 0x41 }).fault).toMatchObject({ stage: 'pasid-entry', reason: { code: 0x51 } });
    expect(walkIntelVtd(smSetup().snap, { iova: 0x4000n, device: dev, pasid: 0x80 }).fault?.reason.code).toBe(0x51);
  });
  it('PASID entry not present: 0x59', () => {
    expect(walkIntelVtd(smSetup().snap, { iova: 0x4000n, device: dev, pasid: 0x41 }).fault).toMatchObject({ stage: 'pasid-entry', reason: { code: 0x59 } });
    expect(walkIntelVtd(smSetup({}, { present: false }).snap, { iova: 0x4000n, device: dev }).fault?.reason.code).toBe(0x59);
  });
  it('invalid PGTT: 0x5B', () => {
    expect(walkIntelVtd(smSetup({}, { pgtt: 6 }).snap, { iova: 0x4000n, device: dev }).fault).toMatchObject({ stage: 'pasid-entry', reason: { code: 0x5b } });
  });
  it('second stage: not present 0x79, write to read-only 0x79, bad SSPTPTR 0x7B', () => {
    const { snap } = smSetup();
    const np = walkIntelVtd(snap, { iova: 0x5000n, device: dev });
    expect(np.fault).toMatchObject({ stage: 'table-entry', reason: { code: 0x79 } });
    expect(np.findings?.some((f) => /QEMU reports the legacy reason 0x5 or 0x6/.test(f.message))).toBe(true);
    expect(walkIntelVtd(snap, { iova: 0x4000n, device: dev, access: 'write' }).fault).toMatchObject({ stage: 'permission', reason: { code: 0x79 } });
    expect(walkIntelVtd(smSetup({}, { ssptptr: 0x7_0000_0000n }).snap, { iova: 0x4000n, device: dev }).fault).toMatchObject({ stage: 'table-root', reason: { code: 0x7b } });
  });
  it('first stage: U/S=0 for a user request 0x81; supervisor request needs SRE (0x5D); WPE', () => {
    const fl = smSetup({}, { pgtt: 1 });
    expect(walkIntelVtd(fl.snap, { iova: 0x4000n, device: dev, pasid: 0x40 }).fault).toMatchObject({ stage: 'permission', reason: { code: 0x81 } });
    expect(walkIntelVtd(fl.snap, { iova: 0x4000n, device: dev, pasid: 0x40, privileged: true }).fault?.reason.code).toBe(0x5d);
    const sre = smSetup({}, { pgtt: 1, sre: true });
    expect(walkIntelVtd(sre.snap, { iova: 0x4000n, device: dev, pasid: 0x40, privileged: true, access: 'write' }).pa).toBe('0xa000');
    const wpe = smSetup({}, { pgtt: 1, sre: true, wpe: true });
    expect(walkIntelVtd(wpe.snap, { iova: 0x4000n, device: dev, pasid: 0x40, privileged: true, access: 'write' }).fault?.reason.code).toBe(0x85);
  });
  it('first stage: non-canonical address 0x80, not present 0x71, FLPTPTR outside the snapshot 0x73', () => {
    const fl = smSetup({}, { pgtt: 1, sre: true });
    expect(walkIntelVtd(fl.snap, { iova: 1n << 50n, device: dev, pasid: 0x40, privileged: true }).fault?.reason.code).toBe(0x80);
    expect(walkIntelVtd(fl.snap, { iova: 0x8000n, device: dev, pasid: 0x40, privileged: true }).fault).toMatchObject({ stage: 'table-entry', reason: { code: 0x71 } });
    const bad = smSetup({}, { pgtt: 1, flptptr: 0x7_0000_0000n });
    expect(walkIntelVtd(bad.snap, { iova: 0x4000n, device: dev, pasid: 0x40 }).fault).toMatchObject({ stage: 'table-root', reason: { code: 0x73 } });
  });
  it('reserved bits in the PASID entry: 0x5A', () => {
    const { mem, snap } = smSetup();
    // find the PASID entry through the walk and set qword0 bit 10
    const pe = walkIntelVtd(snap, { iova: 0x4000n, device: dev }).steps.find((s) => s.structure === 'PASID entry')!;
    const a = BigInt(pe.address!);
    mem.write64(a, mem.read64(a)! | 0x400n);
    expect(walkIntelVtd(snap, { iova: 0x4000n, device: dev }).fault).toMatchObject({ stage: 'configuration', reason: { code: 0x5a } });
  });
  it('steps carry 256-bit context and 512-bit PASID entries as one hex string', () => {
    const r = walkIntelVtd(smSetup().snap, { iova: 0x4000n, device: dev });
    expect(r.steps.find((s) => s.structure === 'context entry')!.value).toMatch(/^0x[0-9a-f]{64}$/);
    expect(r.steps.find((s) => s.structure === 'PASID entry')!.value).toMatch(/^0x[0-9a-f]{128}$/);
    expect(r.steps.find((s) => s.structure === 'root entry')!.value).toMatch(/^0x[0-9a-f]{32}$/);
  });
});

describe('VT-d steps reused between walks follow the memory', () => {
  it('a changed entry is decoded again; reused steps are frozen', () => {
    const mem = new SparseMemory();
    const sl = buildSecondStage(mem, 3, [{ iova: 0x3000n, pa: 0x6000n, size: 0x1000n, read: true, write: true }]);
    const rt = buildVtdLegacy(mem, [{ bus: 0, devfn: 8, aw: 1, slptptr: sl }]);
    const snap = snapOf(mem, rt);
    const first = walkIntelVtd(snap, { iova: 0x3000n, device: '00:01.0', access: 'write' });
    expect(first.pa).toBe('0x6000');
    const again = walkIntelVtd(snap, { iova: 0x3000n, device: '00:01.0', access: 'write' });
    expect(Object.isFrozen(again.steps.at(-1))).toBe(true);
    const pte = BigInt(first.steps.at(-1)!.address!);
    mem.write64(pte, 0x7001n); // read-only now, another page
    const r = walkIntelVtd(snap, { iova: 0x3000n, device: '00:01.0', access: 'write' });
    expect(r.fault).toMatchObject({ stage: 'permission', reason: { code: 0x5 } });
    expect(walkIntelVtd(snap, { iova: 0x3010n, device: '00:01.0' }).pa).toBe('0x7010');
  });
});

describe('VT-d nested and execute requests', () => {
  const TBL = 1n << 37n;
  function nested(rootReadable: boolean, lowerReadable: boolean) {
    const mem = new SparseMemory();
    const pages: bigint[] = [];
    const fl = buildFirstStage(mem, 4, [{ iova: 0x7000n, pa: 0x2_0000n + TBL, size: 0x1000n, read: true, write: true }], (h) => { pages.push(h); return h + TBL; });
    const sl = buildSecondStage(mem, 4, [
      { iova: fl + TBL, pa: fl, size: 0x1000n, read: rootReadable, write: true },
      ...pages.map((h) => ({ iova: h + TBL, pa: h, size: 0x1000n, read: lowerReadable, write: true })),
      { iova: 0x2_0000n + TBL, pa: 0x2_0000n, size: 0x1000n, read: true, write: true },
    ]);
    const rt = buildVtdScalable(mem, [{ bus: 0, devfn: 0, pasids: [{ pasid: 3, pgtt: 3, aw: 2, ssptptr: sl, flptptr: fl + TBL }] }]);
    return snapOf(mem, rt);
  }
  it('a first-stage table the second stage does not let the IOMMU read: 0x75 for the FL-PML4, 0x76 below', () => {
    expect(walkIntelVtd(nested(true, true), { iova: 0x7008n, device: '00:00.0', pasid: 3 }).pa).toBe('0x20008');
    const root = walkIntelVtd(nested(false, true), { iova: 0x7008n, device: '00:00.0', pasid: 3 });
    expect(root.fault).toMatchObject({ stage: 'permission', reason: { code: 0x75 } });
    expect(root.steps.at(-1)?.stage).toBe('stage 2');
    expect(walkIntelVtd(nested(true, false), { iova: 0x7008n, device: '00:00.0', pasid: 3 }).fault?.reason.code).toBe(0x76);
  });

  it('execute: SSEE=1 needs X in every second-stage entry (0x82); first stage needs ERE (0x5C) and XD=0 (0x82)', () => {
    const mem = new SparseMemory();
    const sl = buildSecondStage(mem, 4, [{ iova: 0x1000n, pa: 0x5000n, size: 0x1000n, read: true, write: false, exec: false }, { iova: 0x2000n, pa: 0x6000n, size: 0x1000n, read: true, write: false, exec: true }]);
    const fl = buildFirstStage(mem, 4, [{ iova: 0x1000n, pa: 0x5000n, size: 0x1000n, read: true, write: false, exec: false }, { iova: 0x2000n, pa: 0x6000n, size: 0x1000n, read: true, write: false }]);
    const rt = buildVtdScalable(mem, [{ bus: 0, devfn: 0, pasids: [
      { pasid: 1, pgtt: 2, aw: 2, ssptptr: sl, ssee: true },
      { pasid: 2, pgtt: 1, flptptr: fl, ere: true },
      { pasid: 3, pgtt: 1, flptptr: fl },
    ] }]);
    const snap = snapOf(mem, rt);
    const dev = '0000:00:00.0';
    expect(walkIntelVtd(snap, { iova: 0x1000n, device: dev, pasid: 1, access: 'exec' }).fault).toMatchObject({ stage: 'permission', reason: { code: 0x82 } });
    expect(walkIntelVtd(snap, { iova: 0x2000n, device: dev, pasid: 1, access: 'exec' }).permissions).toMatchObject({ exec: true });
    expect(walkIntelVtd(snap, { iova: 0x1000n, device: dev, pasid: 2, access: 'exec' }).fault).toMatchObject({ stage: 'permission', reason: { code: 0x82 } });
    expect(walkIntelVtd(snap, { iova: 0x2000n, device: dev, pasid: 2, access: 'exec' }).pa).toBe('0x6000');
    expect(walkIntelVtd(snap, { iova: 0x2000n, device: dev, pasid: 3, access: 'exec' }).fault).toMatchObject({ stage: 'pasid-entry', reason: { code: 0x5c } });
  });

  it('interrupt range without PASID: writes are interrupt requests, reads fault', () => {
    const { mem, rt } = legacySetup();
    const snap = snapOf(mem, rt);
    expect(walkIntelVtd(snap, { iova: 0xfee0_0000n, device: '0000:01:00.0', access: 'write' })).toMatchObject({ result: 'translated', pa: '0xfee00000', permissions: { read: false, write: true } });
    expect(walkIntelVtd(snap, { iova: 0xfee0_0000n, device: '0000:01:00.0', access: 'read' }).fault?.reason.code).toBe(0x6);
  });
});
