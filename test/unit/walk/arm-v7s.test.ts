import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { walkArmV7s } from '../../../src/core/walk/arm-v7s';
import type { Snapshot } from '../../../src/core/snapshot/types';
import { SparseMemory } from '../../builder/sparse-memory';
import { type ArmMapping, V7S_SIZES, buildV7s } from '../../builder/arm-tables';
import { findMapping, hex, permsArb } from './arm-oracle';

function snapOf(mem: SparseMemory, ttbr0: bigint, features: Snapshot['features'] = {}): Snapshot {
  return { path: 'test', model: 'arm-v7s', features, registers: { ttbr0, tcr: 0n }, memory: mem, findings: [] };
}

/** VMSAv7 simplified access model: instruction fetch needs read access at that privilege and XN=0. */
function v7sAllowed(m: ArmMapping, access: 'read' | 'write' | 'exec', privileged: boolean): boolean {
  const user = m.perms.user === true;
  const can = privileged || user;
  if (access === 'read') return can;
  if (access === 'write') return can && m.perms.write;
  return can && m.perms.exec;
}

const mappingsArb = fc
  .array(
    fc.record({ sizeIdx: fc.integer({ min: 0, max: 3 }), iova: fc.bigInt({ min: 0n, max: 0xffff_ffffn }), pa: fc.bigInt({ min: 0n, max: 0xffff_ffffn }), perms: permsArb(1), afClear: fc.boolean(), near: fc.boolean() }),
    { minLength: 1, maxLength: 12 },
  )
  .map((raw) => {
    const out: ArmMapping[] = [];
    const first = raw[0]!;
    for (const r of raw) {
      const size = V7S_SIZES[r.sizeIdx]!;
      // half of them land in the first mapping's 16 MiB so L2 tables are shared
      const iovaSeed = r.near ? (first.iova & ~0xff_ffffn) | (r.iova & 0xff_ffffn) : r.iova;
      const m: ArmMapping = { iova: iovaSeed & ~(size - 1n), pa: r.pa & ~(size - 1n), size, perms: r.perms };
      if (r.afClear && r.sizeIdx % 2 === 0) m.afClear = true;
      const clash = out.some((x) => {
        // a section and an L2 table cannot share one 1 MiB L1 slot
        const lo = (x.iova >> 20n) === (m.iova >> 20n) || (x.iova < m.iova + m.size && m.iova < x.iova + x.size);
        const xSec = x.size >= 1n << 20n;
        const mSec = m.size >= 1n << 20n;
        const l1a = [x.iova >> 20n, (x.iova + x.size - 1n) >> 20n];
        const l1b = [m.iova >> 20n, (m.iova + m.size - 1n) >> 20n];
        const sameSlot = l1a[0]! <= l1b[1]! && l1b[0]! <= l1a[1]!;
        return lo || ((xSec || mSec) && sameSlot);
      });
      if (!clash) out.push(m);
    }
    return out;
  });

describe('arm-v7s (differential against the mapping list)', () => {
  it('sections, supersections, large and small pages, AF and permissions', () => {
    fc.assert(
      fc.property(
        mappingsArb,
        fc.array(fc.record({ pick: fc.nat(), off: fc.bigInt({ min: 0n, max: 1n << 30n }), inside: fc.boolean(), any: fc.bigInt({ min: 0n, max: 0xffff_ffffn }), access: fc.constantFrom<'read' | 'write' | 'exec' | undefined>('read', 'write', 'exec', undefined), privileged: fc.boolean() }), { minLength: 1, maxLength: 10 }),
        (list, queries) => {
          const mem = new SparseMemory();
          const l1 = buildV7s(mem, list);
          const snap = snapOf(mem, l1 | 0x5an);
          for (const q of queries) {
            const m0 = q.inside ? list[q.pick % list.length] : undefined;
            const a = m0 ? m0.iova + (q.off % m0.size) : q.any;
            const r = walkArmV7s(snap, { iova: a, access: q.access, privileged: q.privileged });
            const m = findMapping(list, a);
            if (!m) {
              const hasL2 = list.some((x) => x.size < 1n << 20n && x.iova >> 20n === a >> 20n);
              expect(r.fault).toMatchObject({ stage: 'table-entry', level: hasL2 ? 2 : 1, reason: { name: 'TRANSLATION', code: hasL2 ? 7 : 5 } });
              continue;
            }
            const level = m.size >= 1n << 20n ? 1 : 2;
            if (m.afClear) {
              expect(r.fault).toMatchObject({ stage: 'table-entry', level, reason: { name: 'ACCESS_FLAG', code: level === 1 ? 3 : 6 } });
              continue;
            }
            if (q.access && !v7sAllowed(m, q.access, q.privileged)) {
              expect(r.fault).toMatchObject({ stage: 'permission', level, reason: { name: 'PERMISSION', code: level === 1 ? 0xd : 0xf } });
              continue;
            }
            expect(r.result).toBe('translated');
            expect(r.pa).toBe(hex(m.pa + (a - m.iova)));
            expect(BigInt(r.pageSize!)).toBe(m.size);
            expect(r.permissions?.write).toBe(v7sAllowed(m, 'write', q.privileged));
          }
        },
      ),
      { numRuns: 120 },
    );
  });

  it('MediaTek extension: PA[32]/[33]/[34] from bits 9/4/5, 34-bit input, no permission bits', () => {
    const mem = new SparseMemory();
    const l1 = mem.alloc(1 << 16, 1 << 16); // 2^14 entries for a 34-bit input
    const l2 = mem.alloc(1024, 1024);
    // section at IOVA 0x3_0010_0000 -> PA 0x5_4030_0000 (bit32 via bit9, bit34 via bit5); no AP bits at all
    mem.write32(l1 + (0x3_0010_0000n >> 20n) * 4n, 0x4030_0000 | (1 << 9) | (1 << 5) | 2);
    // L2 table, small page with PA bit 33 (bit 4)
    mem.write32(l1 + 4n, Number(l2) | 1);
    mem.write32(l2 + 5n * 4n, 0x1234_5000 | (1 << 4) | 2);
    const snap = snapOf(mem, l1, { ias: 34, oas: 35 });
    expect(walkArmV7s(snap, { iova: 0x3_0010_0abcn, access: 'write' })).toMatchObject({ result: 'translated', pa: '0x540300abc' });
    expect(walkArmV7s(snap, { iova: 0x10_5010n })).toMatchObject({ result: 'translated', pa: '0x212345010', pageSize: 4096 });
    // the same tables without the extension: bit 4 is AP[0] (the access flag), not PA[33], and AP[1]=0 keeps unprivileged reads out
    expect(walkArmV7s(snapOf(mem, l1), { iova: 0x10_5010n, privileged: true })).toMatchObject({ result: 'translated', pa: '0x12345010' });
    expect(walkArmV7s(snapOf(mem, l1), { iova: 0x10_5010n, access: 'read' }).fault).toMatchObject({ stage: 'permission', reason: { name: 'PERMISSION' } });
  });

  it('L1 table outside the snapshot is a table-root fault', () => {
    const r = walkArmV7s(snapOf(new SparseMemory(), 0x8000_0000n), { iova: 0x1000n });
    expect(r.fault).toMatchObject({ stage: 'table-root', level: 1, reason: { name: 'EXTERNAL_ABORT_ON_WALK' } });
  });
});
