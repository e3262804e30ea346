/** Hostile snapshots: random registers and random table memory never make an Arm walker throw or loop. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { walkArmLpae } from '../../../src/core/walk/arm-lpae';
import { walkArmV7s } from '../../../src/core/walk/arm-v7s';
import { walkSmmuV2 } from '../../../src/core/walk/smmu-v2';
import { walkSmmuV3 } from '../../../src/core/walk/smmu-v3';
import type { Snapshot } from '../../../src/core/snapshot/types';
import type { WalkResult } from '../../../src/core/walk/types';
import { SparseMemory } from '../../builder/sparse-memory';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

/** Memory where every 8-byte word of a few pages is random, with addresses pointing back into them. */
function hostileMemory(seeds: bigint[]): SparseMemory {
  const mem = new SparseMemory(0x1000_0000n);
  const base = mem.alloc(4096 * 8, 4096);
  for (let i = 0; i < 8 * 512; i++) {
    const r = seeds[i % seeds.length]! ^ BigInt(i * 0x9e3779b1);
    // half the words are table/block descriptors aimed inside the hostile region
    const v = i % 2 === 0 ? (base + ((r >> 7n) % (4096n * 8n))) & ~7n | (r & 0xfff0_0000_0000_0fffn) | 1n : r;
    mem.write64(base + BigInt(i) * 8n, BigInt.asUintN(64, v));
  }
  return mem;
}

function sane(r: WalkResult): void {
  expect(['translated', 'fault']).toContain(r.result);
  expect(r.steps.length).toBeLessThan(64);
  if (r.result === 'fault') expect(r.fault?.stage).toBeTruthy();
  JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

describe('Arm walkers on hostile snapshots', () => {
  it('never throw, stay bounded, always classify', () => {
    fc.assert(
      fc.property(fc.array(u64, { minLength: 4, maxLength: 16 }), fc.array(u64, { minLength: 12, maxLength: 12 }), u64, fc.option(fc.nat(70000), { nil: undefined }), fc.nat(300), (seeds, regs, iova, pasid, sid) => {
        const mem = hostileMemory(seeds);
        const tableish = (x: bigint): bigint => 0x1000_0000n | (x & 0x7ff8n);
        const [a, b, c, d, e, f, g, h, i, j, k, l] = regs as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
        const snap = (model: Snapshot['model'], registers: Record<string, bigint>, extra: Partial<Snapshot> = {}): Snapshot => ({ path: 'x', model, features: {}, registers, memory: mem, findings: [], ...extra });
        sane(walkArmLpae(snap('arm-lpae', { tcr: a, ttbr0: tableish(b), ttbr1: tableish(c), vtcr: d & 0xfffffn, vttbr: tableish(e) }), { iova, access: 'write' }));
        sane(walkArmLpae(snap('arm-lpae', { tcr: a & 0x7_ffff_ffffn, ttbr0: tableish(b) }), { iova: iova & 0xffff_ffff_ffffn }));
        sane(walkArmV7s(snap('arm-v7s', { ttbr0: tableish(b), tcr: c & 7n }), { iova: iova & 0xffff_ffffn, access: 'exec' }));
        sane(walkSmmuV3(snap('arm-smmu-v3', { strtab_base: tableish(f), strtab_base_cfg: g & 0x3_07ffn }), { iova, streamId: sid, pasid }));
        sane(
          walkSmmuV2(
            snap('arm-smmu-v2', { scr0: h }, {
              smmuV2: {
                smr: [i & 0xffff_ffffn, j & 0xffff_ffffn],
                s2cr: [k & 0xffff_ffffn, l & 0xffff_ffffn],
                contextBanks: { [Number(k & 0xffn)]: { sctlr: 1n | (a & 0x1en), tcr: b & 0xffff_ffffn, tcr2: c & 0xffn, ttbr0: tableish(d), ttbr1: tableish(e), cbar: f & 0xffff_ffffn, cba2r: g & 1n }, [Number((f >> 8n) & 0xffn)]: { sctlr: 1n, tcr: h & 0xffff_ffffn, ttbr0: tableish(i), cba2r: 1n } },
              },
            }),
            { iova: iova & 0xffff_ffff_ffffn, streamId: Number(i & 0xffffn) ^ (sid & 3) },
          ),
        );
      }),
      { numRuns: 200 },
    );
  });
});
