import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PageSet, pageKey, pageNumber } from '../../../src/core/analysis/pages';
import { BaselinePageSet } from './pages-baseline';

const seed = process.env.FC_SEED === 'random' ? undefined : 3;

describe('pageNumber', () => {
  it('reads normalised addresses exactly, up to 16 digits', () => {
    expect(pageNumber('0x0')).toBe(0);
    expect(pageNumber('0xfff')).toBe(0);
    expect(pageNumber('0x1000')).toBe(1);
    expect(pageNumber('0x7f3a1234')).toBe(0x7f3a1);
    expect(pageNumber('0xffffffffffffffff')).toBe(2 ** 52 - 1);
  });

  it('refuses other spellings (they keep their string keys)', () => {
    for (const s of ['0x', '0x01000', '0X1000', '0x1000A', '1000', '0x1g000', '0x1ffffffffffffffff', '']) expect(pageNumber(s), s).toBe(-1);
  });

  it('agrees with pageKey on every normalised address', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
      const iova = '0x' + v.toString(16);
      expect('0x' + pageNumber(iova).toString(16)).toBe(pageKey(iova));
    }), { seed, numRuns: 2000 });
  });
});

// Normalised addresses on a few neighbouring pages, and the odd spellings a recogniser could let through.
const iova = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 0x40 }).chain((p) => fc.integer({ min: 0, max: 0xfff }).map((o) => '0x' + (0x7f000n * 4096n + BigInt(p) * 4096n + BigInt(o)).toString(16))) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xfff }).map((o) => '0x' + o.toString(16)) },
  { weight: 1, arbitrary: fc.bigInt({ min: 1n << 60n, max: (1n << 64n) - 1n }).map((v) => '0x' + v.toString(16)) },
  { weight: 1, arbitrary: fc.constantFrom('0x', '0x0', '0x00007f000000', '0x7f000ABC', '0X7f000000', '0x1ffffffffffffffff', '0x7f001zzz', 'deadbeef', '0x7f00') },
);
const op = fc.record({ iova, access: fc.constantFrom(undefined, 'read', 'write'), pasid: fc.constantFrom(undefined, '0x1') });

describe('PageSet keyed by page number', () => {
  it('gives what the string-keyed set gave: summary, ranges, samples, merges, caps and budget', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 300 }), fc.array(op, { maxLength: 100 }), fc.integer({ min: 1, max: 80 }), fc.integer({ min: 0, max: 120 }), (a, b, cap, budget) => {
      const now = new PageSet(cap, { left: budget });
      const old = new BaselinePageSet(cap, { left: budget });
      for (const o of a) { now.add(o.iova, o.access, o.pasid); old.add(o.iova, o.access, o.pasid); }
      const partNow = new PageSet(cap), partOld = new BaselinePageSet(cap);
      for (const o of b) { partNow.add(o.iova, o.access, o.pasid); partOld.add(o.iova, o.access, o.pasid); }
      expect(partNow.exportState()).toEqual(partOld.exportState());
      now.mergeState(partNow.exportState());
      old.mergeState(partOld.exportState());
      expect(now.size).toBe(old.size);
      expect(now.summary(16)).toEqual(old.summary(16));
      expect(now.summary(0)).toEqual(old.summary(0));
      expect(now.samples(10)).toEqual(old.samples(10));
      expect(now.exportState()).toEqual(old.exportState());
    }), { seed, numRuns: 400 });
  });

  it('grows past its first table size without losing pages', () => {
    const s = new PageSet(100_000);
    for (let i = 0; i < 50_000; i++) s.add('0x' + (0x100000 + i * 3).toString(16) + '000');
    for (let i = 0; i < 50_000; i++) s.add('0x' + (0x100000 + i * 3).toString(16) + 'abc');
    expect(s.size).toBe(50_000);
    expect(s.summary(1).ranges[0]).toMatchObject({ pages: 1, faults: 2 });
  });
});
