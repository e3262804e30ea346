import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { walkAmdVi } from '../../../src/core/walk/amd-vi';
import type { Snapshot } from '../../../src/core/snapshot/types';
import type { Access, WalkResult } from '../../../src/core/walk/types';
import { SparseMemory } from '../../builder/sparse-memory';
import { buildAmdDeviceTable, buildAmdV1, buildFirstStage, buildGcr3Table, type AmdDte, type X86Mapping } from '../../builder/x86-tables';

function snapOf(mem: SparseMemory, devTableBase: bigint, extra: Record<string, bigint> = {}): Snapshot {
  return { path: 'amd.iommu.json', model: 'amd-vi', features: {}, registers: { dev_table_base: devTableBase, control: 1n, ...extra }, memory: mem, findings: [] };
}

const INTR_LO = 0xfee00000n, INTR_SIZE = 0x100000n;
const overlaps = (a: bigint, as: bigint, b: bigint, bs: bigint) => a < b + bs && b < a + as;
const maxWidth = (mode: number) => Math.min(64, 12 + 9 * mode);

/** non-overlapping mappings of power-of-two sizes that fit the mode (default-size and NextLevel=7 pages) */
function mappingsArb(mode: number) {
  const width = maxWidth(mode);
  const maxK = Math.min(width - 1, 40);
  return fc.array(fc.record({
    k: fc.integer({ min: 12, max: maxK }), iova: fc.bigInt({ min: 0n, max: (1n << BigInt(width)) - 1n }),
    pa: fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }), r: fc.boolean(), w: fc.boolean(), low: fc.boolean(),
  }), { minLength: 1, maxLength: 10 }).map((raw) => {
    const out: X86Mapping[] = [];
    for (const x of raw) {
      const size = 1n << BigInt(x.k);
      // half of the mappings near 0 so that single-entry tables at index 0 (level skips) appear
      const iova = (x.low ? x.iova & ((1n << 32n) - 1n) : x.iova) & ~(size - 1n);
      const pa = x.pa & ~(size - 1n);
      if (out.some((m) => overlaps(m.iova, m.size, iova, size))) continue;
      if (overlaps(iova, size, INTR_LO, INTR_SIZE)) continue;
      out.push({ iova, pa, size, read: x.r, write: x.w });
    }
    return out;
  });
}

const seedsArb = fc.array(fc.record({ pick: fc.nat(), off: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), any: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), access: fc.nat(2) }), { minLength: 1, maxLength: 16 });
const ACC: (Access | undefined)[] = [undefined, 'read', 'write'];

function expectV1(maps: X86Mapping[], iova: bigint, access: Access | undefined) {
  const m = maps.find((x) => iova >= x.iova && iova < x.iova + x.size);
  if (!m) return { result: 'fault', stage: 'table-entry', code: 2 } as const;
  if ((access === 'read' && !m.read) || (access === 'write' && !m.write)) return { result: 'fault', stage: 'permission', code: 2 } as const;
  return { result: 'translated', pa: m.pa + (iova - m.iova), size: Number(m.size), read: m.read, write: m.write } as const;
}

function check(r: WalkResult, e: ReturnType<typeof expectV1>, what: string): void {
  const ctx = `${what}: ${JSON.stringify({ result: r.result, pa: r.pa, fault: r.fault, pageSize: r.pageSize, permissions: r.permissions, last: r.steps.at(-1) })}`;
  expect(r.result, ctx).toBe(e.result);
  if (e.result === 'translated') {
    expect(r.pa, ctx).toBe('0x' + e.pa.toString(16));
    expect(r.pageSize, ctx).toBe(e.size);
    expect(r.permissions, ctx).toMatchObject({ read: e.read, write: e.write });
  } else {
    expect(r.fault?.stage, ctx).toBe(e.stage);
    expect(r.fault?.reason, ctx).toMatchObject({ code: e.code, name: 'IO_PAGE_FAULT' });
  }
}

describe('AMD-Vi v1, differential against the mapping list', () => {
  for (const mode of [1, 2, 3, 4, 5, 6]) {
    it(`Mode ${mode}, with and without level skipping, large pages via NextLevel=7`, () => {
      let skips = 0, large = 0;
      fc.assert(fc.property(mappingsArb(mode), seedsArb, fc.boolean(), fc.nat(0xffff), (maps, seeds, skip, devId) => {
        const mem = new SparseMemory();
        const root = buildAmdV1(mem, mode, maps, { skip });
        const dtb = buildAmdDeviceTable(mem, [{ deviceId: devId, mode, root }]);
        const snap = snapOf(mem, dtb);
        for (const s of seeds) {
          let iova: bigint;
          if (s.pick % 3 !== 0 && maps.length) { const m = maps[s.pick % maps.length]!; iova = m.iova + (s.off % m.size); }
          else iova = s.pick % 2 ? s.any : s.any & ((1n << BigInt(maxWidth(mode))) - 1n);
          if (iova >= INTR_LO && iova < INTR_LO + INTR_SIZE) continue;
          const access = ACC[s.access % 3];
          const r = walkAmdVi(snap, { iova, streamId: devId, access });
          check(r, expectV1(maps, iova, access), `Mode ${mode} iova 0x${iova.toString(16)} ${access}`);
          if (r.steps.some((st) => /skips/.test(st.rule ?? ''))) skips++;
          if (r.steps.some((st) => st.decoded?.['NextLevel'] === 7)) large++;
        }
      }), { numRuns: 40 });
      if (mode >= 3) expect(skips).toBeGreaterThan(0);
      expect(large).toBeGreaterThan(0);
    });
  }
});

describe('AMD-Vi events at each stage', () => {
  function setup(dte: Partial<AmdDte> = {}, maps?: X86Mapping[]) {
    const mem = new SparseMemory();
    const root = buildAmdV1(mem, 3, maps ?? [{ iova: 0x20000n, pa: 0x7000_0000n, size: 0x1000n, read: true, write: false }]);
    const dtb = buildAmdDeviceTable(mem, [{ deviceId: 0x0300, mode: 3, root, domain: 0xd, ...dte }], 0x1f);
    return { mem, root, dtb, snap: snapOf(mem, dtb) };
  }
  const dev = '0000:03:00.0';

  it('translates and decodes the DTE', () => {
    const r = walkAmdVi(setup().snap, { iova: 0x20123n, device: dev });
    expect(r).toMatchObject({ result: 'translated', pa: '0x70000123', pageSize: 4096, permissions: { read: true, write: false } });
    const dte = r.steps.find((s) => s.structure === 'DTE')!;
    expect(dte.decoded).toMatchObject({ V: 1, TV: 1, Mode: 3, IR: 1, IW: 1, domainId: '0xd' });
    expect(dte.value).toMatch(/^0x[0-9a-f]{64}$/);
  });
  it('page not present: IO_PAGE_FAULT, table-entry, flags without PR', () => {
    const r = walkAmdVi(setup().snap, { iova: 0x21000n, device: dev, access: 'write' });
    expect(r.fault).toMatchObject({ stage: 'table-entry', level: 1, reason: { code: 2, name: 'IO_PAGE_FAULT' } });
    expect(r.fault?.reason.text).toMatch(/flags=0x0020: RW/);
  });
  it('write to a read-only page: IO_PAGE_FAULT with PR, RW, PE', () => {
    const r = walkAmdVi(setup().snap, { iova: 0x20000n, device: dev, access: 'write' });
    expect(r.fault).toMatchObject({ stage: 'permission', level: 1, reason: { code: 2 } });
    expect(r.fault?.reason.text).toMatch(/flags=0x0070: PR RW PE/);
  });
  it('DTE permissions deny the access', () => {
    expect(walkAmdVi(setup({ iw: false }).snap, { iova: 0x20000n, device: dev, access: 'write' }).fault).toMatchObject({ stage: 'permission', reason: { code: 2 } });
  });
  it('DTE.V=0: untranslated, no event', () => {
    expect(walkAmdVi(setup({ v: false }).snap, { iova: 0x1234n, device: dev })).toMatchObject({ result: 'translated', pa: '0x1234' });
  });
  it('DTE.TV=0: IO_PAGE_FAULT at the device entry', () => {
    expect(walkAmdVi(setup({ tv: false }).snap, { iova: 0x20000n, device: dev }).fault).toMatchObject({ stage: 'device-entry', reason: { code: 2 } });
  });
  it('reserved DTE bits: ILLEGAL_DEV_TABLE_ENTRY', () => {
    expect(walkAmdVi(setup({ extra0: 1n << 63n }).snap, { iova: 0x20000n, device: dev }).fault).toMatchObject({ stage: 'device-entry', reason: { code: 1, name: 'ILLEGAL_DEV_TABLE_ENTRY' } });
  });
  it('DeviceID beyond the Device Table size: ILLEGAL_DEV_TABLE_ENTRY', () => {
    // Size field 0x1f: 32 pages = 4096 DTEs
    expect(walkAmdVi(setup().snap, { iova: 0x20000n, device: '0000:10:00.0' }).fault).toMatchObject({ stage: 'device-entry', reason: { code: 1 } });
  });
  it('Device Table outside the snapshot: DEV_TAB_HARDWARE_ERROR', () => {
    const { snap } = setup();
    snap.registers['dev_table_base'] = 0x7_0000_01ffn;
    const r = walkAmdVi(snap, { iova: 0x20000n, device: dev });
    expect(r.fault).toMatchObject({ stage: 'device-entry', reason: { code: 3, name: 'DEV_TAB_HARDWARE_ERROR' } });
    expect(r.steps.at(-1)).toMatchObject({ structure: 'DTE', address: '0x700006000', decoded: { inSnapshot: false } });
  });
  it('page-table root outside the snapshot: PAGE_TAB_HARDWARE_ERROR, table-root', () => {
    expect(walkAmdVi(setup({ root: 0x7_0000_0000n }).snap, { iova: 0x20000n, device: dev }).fault).toMatchObject({ stage: 'table-root', level: 3, reason: { code: 4, name: 'PAGE_TAB_HARDWARE_ERROR' } });
  });
  it('Mode 7 is invalid; Mode 0 passes with DTE permissions', () => {
    expect(walkAmdVi(setup({ mode: 7 }).snap, { iova: 0x20000n, device: dev }).fault).toMatchObject({ stage: 'configuration', reason: { code: 2 } });
    expect(walkAmdVi(setup({ mode: 0, iw: false }).snap, { iova: 0x5000n, device: dev, access: 'read' })).toMatchObject({ result: 'translated', pa: '0x5000', permissions: { write: false } });
    expect(walkAmdVi(setup({ mode: 0, iw: false }).snap, { iova: 0x5000n, device: dev, access: 'write' }).fault?.stage).toBe('permission');
  });
  it('address beyond the Mode range: IO_PAGE_FAULT', () => {
    expect(walkAmdVi(setup().snap, { iova: 1n << 39n, device: dev }).fault).toMatchObject({ stage: 'table-entry', reason: { code: 2 } });
  });
  it('reserved PTE bits: IO_PAGE_FAULT with RZ', () => {
    const { mem, snap } = setup();
    const leaf = walkAmdVi(snap, { iova: 0x20000n, device: dev }).steps.at(-1)!;
    const a = BigInt(leaf.address!);
    mem.write64(a, mem.read64(a)! | (1n << 55n));
    const r = walkAmdVi(snap, { iova: 0x20000n, device: dev });
    expect(r.fault).toMatchObject({ stage: 'configuration', reason: { code: 2 } });
    expect(r.fault?.reason.text).toMatch(/RZ/);
  });
  it('NextLevel not below the level, and a bad large-page size: IO_PAGE_FAULT', () => {
    const { mem, snap, root } = setup();
    const e = mem.read64(root)!;
    mem.write64(root, (e & ~(7n << 9n)) | (3n << 9n));
    expect(walkAmdVi(snap, { iova: 0x20000n, device: dev }).fault).toMatchObject({ stage: 'configuration', level: 3, reason: { code: 2 } });
    mem.write64(root, (e & ~(7n << 9n)) | (7n << 9n)); // 8 KiB encoded at level 3: too small
    expect(walkAmdVi(snap, { iova: 0x20000n, device: dev }).fault?.reason.text).toMatch(/large-page size/);
  });
  it('a level skip with non-zero skipped address bits faults', () => {
    const mem = new SparseMemory();
    const root = buildAmdV1(mem, 4, [{ iova: 0x1000n, pa: 0x3000n, size: 0x1000n, read: true, write: true }], { skip: true });
    const snap = snapOf(mem, buildAmdDeviceTable(mem, [{ deviceId: 1, mode: 4, root }]));
    const ok = walkAmdVi(snap, { iova: 0x1000n, streamId: 1 });
    expect(ok.pa).toBe('0x3000');
    expect(ok.steps.filter((s) => s.structure.startsWith('L')).map((s) => s.level)).toEqual([4, 1]);
    expect(walkAmdVi(snap, { iova: 0x4000_1000n, streamId: 1 }).fault?.reason.text).toMatch(/skipped levels/);
    // only a level-2 index bit set: same level-1 index as the mapping, must still fault
    expect(walkAmdVi(snap, { iova: 0x20_1000n, streamId: 1 }).fault?.reason.text).toMatch(/skipped levels/);
  });
  it('Control.IommuEn=0: untranslated', () => {
    const { mem, dtb } = setup();
    expect(walkAmdVi(snapOf(mem, dtb, { control: 0n }), { iova: 0x99000n, device: dev }).pa).toBe('0x99000');
  });
  it('bad input gives configuration faults, not exceptions', () => {
    const { snap } = setup();
    expect(walkAmdVi(snap, { iova: 0n, device: 'zz' }).fault?.stage).toBe('configuration');
    delete snap.registers['dev_table_base'];
    expect(walkAmdVi(snap, { iova: 0n, device: dev }).fault?.reason.name).toBe('NO_DEV_TABLE_BASE');
  });
});

describe('AMD-Vi v2 (GCR3) tables', () => {
  it('GV=1 with Mode 0: guest x86-64 table gives the system address', () => {
    const mem = new SparseMemory();
    const cr3 = buildFirstStage(mem, 4, [{ iova: 0x40_0000n, pa: 0x1240_0000n, size: 0x200000n, read: true, write: true }]);
    const gcr3 = buildGcr3Table(mem, new Map([[7, cr3]]));
    const dtb = buildAmdDeviceTable(mem, [{ deviceId: 8, mode: 0, gv: true, glx: 0, gcr3 }]);
    const snap = snapOf(mem, dtb);
    const r = walkAmdVi(snap, { iova: 0x40_1234n, streamId: 8, pasid: 7, access: 'write' });
    expect(r).toMatchObject({ result: 'translated', pa: '0x12401234', pageSize: 0x200000 });
    expect(walkAmdVi(snap, { iova: 0x40_1234n, streamId: 8, pasid: 8 }).fault).toMatchObject({ stage: 'pasid-entry', reason: { code: 2 } });
    expect(walkAmdVi(snap, { iova: 0x80_0000n, streamId: 8, pasid: 7 }).fault).toMatchObject({ stage: 'table-entry', reason: { code: 2 } });
  });
  it('GV=1 with Mode 3: guest tables and output go through the host v1 table', () => {
    const mem = new SparseMemory();
    const G = 1n << 36n; // guest-physical = host-physical + G
    const pages: bigint[] = [];
    const cr3 = buildFirstStage(mem, 4, [{ iova: 0x5000n, pa: 0x8000n + G, size: 0x1000n, read: true, write: false }], (h) => { pages.push(h); return h + G; });
    pages.push(cr3);
    const gcr3 = buildGcr3Table(mem, new Map([[0, cr3 + G]]));
    pages.push(gcr3);
    const host = buildAmdV1(mem, 3, [...pages.map((h) => ({ iova: h + G, pa: h, size: 0x1000n, read: true, write: true })), { iova: 0x8000n + G, pa: 0x8000n, size: 0x1000n, read: true, write: true }]);
    const dtb = buildAmdDeviceTable(mem, [{ deviceId: 9, mode: 3, root: host, gv: true, giov: true, gcr3: gcr3 + G }]);
    const snap = snapOf(mem, dtb);
    const r = walkAmdVi(snap, { iova: 0x5abcn, streamId: 9 });
    expect(r).toMatchObject({ result: 'translated', pa: '0x8abc', permissions: { write: false } });
    expect(r.steps.some((s) => s.stage === 'stage 2 (host)') && r.steps.some((s) => s.stage === 'stage 1 (guest)')).toBe(true);
    expect(walkAmdVi(snap, { iova: 0x5abcn, streamId: 9, access: 'write' }).fault?.stage).toBe('permission');
  });
});

describe('AMD-Vi input checks', () => {
  it('an address outside 64 bits is a configuration error', () => {
    const mem = new SparseMemory();
    const snap = snapOf(mem, buildAmdDeviceTable(mem, []));
    expect(walkAmdVi(snap, { iova: 1n << 64n, streamId: 1 }).fault?.reason.name).toBe('BAD_IOVA');
    expect(walkAmdVi(snap, { iova: -1n, streamId: 1 }).fault?.reason.name).toBe('BAD_IOVA');
  });
});

describe('AMD-Vi v2, differential against the mapping list', () => {
  for (const levels of [4, 5] as const) {
    it(`GCR3 table + ${levels}-level guest table, Mode 0, by PASID`, () => {
      const width = levels === 4 ? 47 : 56;
      const SIZES = [0x1000n, 0x200000n, 0x40000000n];
      const arb = fc.array(fc.record({ s: fc.nat(2), iova: fc.bigInt({ min: 0n, max: (1n << BigInt(width)) - 1n }), pa: fc.bigInt({ min: 0n, max: (1n << 46n) - 1n }), w: fc.boolean(), user: fc.boolean() }), { minLength: 1, maxLength: 8 });
      fc.assert(fc.property(arb, seedsArb, fc.nat(511), (raw, seeds, pasid) => {
        const maps: X86Mapping[] = [];
        for (const r of raw) {
          const size = SIZES[r.s]!;
          const iova = r.iova & ~(size - 1n);
          if (maps.some((m) => overlaps(m.iova, m.size, iova, size)) || overlaps(iova, size, INTR_LO, INTR_SIZE)) continue;
          maps.push({ iova, pa: r.pa & ~(size - 1n), size, read: true, write: r.w, user: r.user });
        }
        const mem = new SparseMemory();
        const cr3 = buildFirstStage(mem, levels, maps);
        const gcr3 = buildGcr3Table(mem, new Map([[pasid, cr3]]));
        const snap = snapOf(mem, buildAmdDeviceTable(mem, [{ deviceId: 0x42, mode: 0, gv: true, gcr3, guestLevels: levels }]));
        for (const s of seeds) {
          const iova = s.pick % 3 !== 0 && maps.length ? maps[s.pick % maps.length]!.iova + (s.off % maps[s.pick % maps.length]!.size) : s.any & ((1n << BigInt(width)) - 1n);
          const access = ACC[s.access % 3];
          const r = walkAmdVi(snap, { iova, streamId: 0x42, pasid, access });
          const m = maps.find((x) => iova >= x.iova && iova < x.iova + x.size);
          const ctx = `iova 0x${iova.toString(16)} ${access}: ${JSON.stringify({ pa: r.pa, fault: r.fault })}`;
          if (!m) expect(r.fault, ctx).toMatchObject({ stage: 'table-entry', reason: { code: 2 } });
          else if (!m.user || (access === 'write' && !m.write)) expect(r.fault, ctx).toMatchObject({ stage: 'permission', reason: { code: 2 } });
          else {
            expect(r.pa, ctx).toBe('0x' + (m.pa + (iova - m.iova)).toString(16));
            expect(r.pageSize, ctx).toBe(Number(m.size));
            expect(r.permissions, ctx).toMatchObject({ read: true, write: m.write, user: true });
          }
        }
      }), { numRuns: 30 });
    });
  }
});
