/**
 * The answer a mapping list gives for an address, computed without any table: what the walkers
 * must agree with. Also fast-check arbitraries for aligned, non-overlapping mapping lists.
 */
import fc from 'fast-check';
import type { Access } from '../../../src/core/walk/types';
import type { ArmMapping, ArmPerms, GranuleSize, LpaeLayout } from '../../builder/arm-tables';
import { geometry, leafLevelOf } from '../../builder/arm-tables';

export function findMapping(list: ArmMapping[], a: bigint): ArmMapping | undefined {
  return list.find((m) => a >= m.iova && a < m.iova + m.size);
}

/** Level at which a walk of `a` finds an invalid descriptor: the first level with no table below it. */
export function invalidLevel(list: ArmMapping[], a: bigint, start: number, granule: GranuleSize): number {
  const { shift } = geometry(granule);
  for (let l = start; l < 3; l++) {
    const sh = BigInt(shift(l));
    const hasTable = list.some((m) => leafLevelOf(m.size, granule)! > l && m.iova >> sh === a >> sh);
    if (!hasTable) return l;
  }
  return 3;
}

export function s1Allowed(p: ArmPerms, access: Access, privileged: boolean): boolean {
  const user = p.user === true;
  if (access === 'read') return privileged || user;
  if (access === 'write') return p.write && (privileged || user);
  // privileged execution is never allowed from memory writable at EL0 (D8.4.2)
  return privileged ? p.exec && !(user && p.write) : p.exec;
}

export function s2Allowed(p: ArmPerms, access: Access): boolean {
  return access === 'read' ? p.read : access === 'write' ? p.write : p.exec;
}

export interface MappingGenOptions {
  granule: GranuleSize;
  inputBits: number;
  /** lowest level (largest size) a leaf may use */
  minLevel: number;
  leafLevels: number[];
  oaBits: number;
  max?: number;
  stage: 1 | 2;
  withAfClear?: boolean;
}

export function permsArb(stage: 1 | 2): fc.Arbitrary<ArmPerms> {
  return stage === 1
    ? fc.record({ read: fc.constant(true), write: fc.boolean(), exec: fc.boolean(), user: fc.boolean() })
    : fc.record({ read: fc.boolean(), write: fc.boolean(), exec: fc.boolean() });
}

/** Aligned, non-overlapping mappings inside the input range, outputs inside oaBits. */
export function mappingsArb(o: MappingGenOptions): fc.Arbitrary<ArmMapping[]> {
  const { shift } = geometry(o.granule);
  const levels = o.leafLevels.filter((l) => l >= o.minLevel);
  const one = fc
    .record({
      level: fc.constantFrom(...levels),
      iovaSeed: fc.bigInt({ min: 0n, max: (1n << BigInt(o.inputBits)) - 1n }),
      paSeed: fc.bigInt({ min: 0n, max: (1n << BigInt(o.oaBits)) - 1n }),
      perms: permsArb(o.stage),
      afClear: o.withAfClear ? fc.boolean() : fc.constant(false),
      near: fc.boolean(),
    })
    .map((r) => {
      const size = 1n << BigInt(shift(r.level));
      return { iova: r.iovaSeed & ~(size - 1n), pa: r.paSeed & ~(size - 1n), size, perms: r.perms, afClear: r.afClear, near: r.near } as ArmMapping & { near: boolean };
    });
  return fc.array(one, { minLength: 1, maxLength: o.max ?? 12 }).map((list) => {
    // pull half of the mappings next to the first one so tables are shared
    const first = list[0]!;
    const out: ArmMapping[] = [];
    for (const m of list) {
      let iova = m.iova;
      if (m.near && m !== first) {
        const span = 1n << BigInt(shift(Math.max(o.minLevel, 1)));
        iova = ((first.iova & ~(span - 1n)) | (m.iova & (span - 1n))) & ~(m.size - 1n);
      }
      const c: ArmMapping = { iova, pa: m.pa, size: m.size, perms: m.perms };
      if (m.afClear) c.afClear = true;
      if (!out.some((x) => x.iova < c.iova + c.size && c.iova < x.iova + x.size)) out.push(c);
    }
    return out;
  });
}

/** Addresses to query: inside mappings (random offset) or anywhere in the input range. */
export function queriesArb(inputBits: number): fc.Arbitrary<{ pick: number; offset: bigint; any: bigint; inside: boolean; access: Access | undefined; privileged: boolean }[]> {
  return fc.array(
    fc.record({
      pick: fc.nat(),
      offset: fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }),
      any: fc.bigInt({ min: 0n, max: (1n << BigInt(inputBits)) - 1n }),
      inside: fc.boolean(),
      access: fc.constantFrom<Access | undefined>('read', 'write', 'exec', undefined),
      privileged: fc.boolean(),
    }),
    { minLength: 1, maxLength: 8 },
  );
}

export function queryAddress(list: ArmMapping[], q: { pick: number; offset: bigint; any: bigint; inside: boolean }): bigint {
  if (q.inside && list.length) {
    const m = list[q.pick % list.length]!;
    return m.iova + (q.offset % m.size);
  }
  return q.any;
}

export function hex(v: bigint): string {
  return '0x' + v.toString(16);
}

/** Legal (granule, start level, input bits) triples for stage 2, including concatenation. */
export const s2LayoutArb = (minInput = 25, maxStart = 3): fc.Arbitrary<LpaeLayout> =>
  fc
    .record({ granule: fc.constantFrom<GranuleSize>(4096, 16384, 65536), start: fc.integer({ min: 0, max: 3 }), extra: fc.integer({ min: 1, max: 17 }) })
    .map(({ granule, start, extra }) => {
      const { s, shift } = geometry(granule);
      const bits = Math.min(extra, s + 4);
      return { stage: 2 as const, granule, startLevel: start, inputBits: shift(start) + bits, s };
    })
    .filter((l) => {
      const bits = l.inputBits - geometry(l.granule).shift(l.startLevel);
      if (l.inputBits < minInput || l.inputBits > 48 || l.startLevel > maxStart) return false;
      if (l.granule === 4096) return l.startLevel <= 2 && !(l.startLevel === 0 && bits > l.s);
      return l.startLevel >= 1;
    })
    .map(({ stage, granule, startLevel, inputBits }) => ({ stage, granule, startLevel, inputBits }));

