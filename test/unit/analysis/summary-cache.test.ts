import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SummaryBuilder, summaryToText } from '../../../src/core/analysis/summary';
import { SummaryBuilder as BaselineBuilder } from './summary-baseline';
import type { FaultRecord } from '../../../src/core/logs/record';

/** Same summary, down to property order and the text rendering. */
function expectSame(records: FaultRecord[], mergeAt: Set<number> = new Set()): void {
  const a = new SummaryBuilder();
  const b = new BaselineBuilder();
  // merge() folds in another builder's summary between adds, as scan does for files of both sizes
  let sideA = new SummaryBuilder();
  let sideB = new BaselineBuilder();
  records.forEach((r, i) => {
    if (mergeAt.has(i)) {
      sideA.add(r); sideB.add(r);
      a.merge(sideA.build()); b.merge(sideB.build());
      sideA = new SummaryBuilder(); sideB = new BaselineBuilder();
    } else { a.add(r); b.add(r); }
  });
  const sa = a.build();
  const sb = b.build();
  expect(JSON.stringify(sa)).toBe(JSON.stringify(sb));
  expect(sa).toEqual(sb);
  expect(summaryToText(['f'], sa, { top: 1000 })).toBe(summaryToText(['f'], sb, { top: 1000 }));
}

const record: fc.Arbitrary<FaultRecord> = fc.record({
  line: fc.integer({ min: 1, max: 60 }),
  family: fc.constantFrom('intel-vtd', 'amd-vi', 'arm-smmu', '1'),
  kind: fc.constantFrom('dma-fault', 'event', 'storm-suppressed', ''),
  time: fc.option(fc.constantFrom(0, -0, 1.5, 2.25, 7), { nil: undefined }),
  iommu: fc.option(fc.constantFrom('dmar0', 'dmar1', '-', ''), { nil: undefined }),
  device: fc.option(fc.constantFrom('0000:00:02.0', '0000:04:1d.0', 'sid 5', ''), { nil: undefined }),
  streamId: fc.option(fc.constantFrom('5', '0x5', ''), { nil: undefined }),
  contextBank: fc.option(fc.constantFrom(0, 1, 5), { nil: undefined }),
  reason: fc.option(fc.record({
    code: fc.option(fc.constantFrom(5, 6, '5', 'x'), { nil: undefined }),
    name: fc.option(fc.constantFrom('PTE_READ', 'PTE_WRITE', '5', ''), { nil: undefined }),
    text: fc.option(fc.constantFrom('PTE Read access is not set', '', 'x'), { nil: undefined }),
  }, { requiredKeys: [] }), { nil: undefined }),
  decoded: fc.option(fc.record({ suppressed: fc.constantFrom(3, Number.NaN, 10) }), { nil: undefined }),
}, { requiredKeys: ['line', 'family', 'kind'] });

describe('SummaryBuilder with cached counters agrees with the b7ed907 builder', () => {
  it('random records, lines out of order, merges in between', () => {
    fc.assert(fc.property(fc.array(record, { maxLength: 80 }), fc.array(fc.nat(80)), (rs, m) => {
      expectSame(rs, new Set(m));
    }), { numRuns: 3000 });
  });

  it('a storm of one key: counts, first/last by line order', () => {
    const rs: FaultRecord[] = [];
    for (let i = 0; i < 1000; i++) {
      rs.push({ line: (i * 7919) % 1000 + 1, family: 'intel-vtd', kind: 'dma-fault', time: i / 8, device: '0000:04:1d.0',
        reason: { code: 6, name: 'PTE_READ', text: 'PTE Read access is not set' } });
    }
    expectSame(rs);
    const s = new SummaryBuilder();
    for (const r of rs) s.add(r);
    const off = s.build().offenders;
    expect(off).toHaveLength(1);
    expect(off[0]).toMatchObject({ key: 'intel-vtd - 0000:04:1d.0', count: 1000, firstLine: 1, lastLine: 1000 });
    expect(off[0]!.first).toBe(rs.find((r) => r.line === 1)!.time);
    expect(off[0]!.last).toBe(rs.find((r) => r.line === 1000)!.time);
  });

  it("past MAX_KEYS distinct offenders and past the cache's room", () => {
    const rs: FaultRecord[] = [];
    for (let i = 0; i < 230_000; i++) {
      rs.push({ line: i + 1, family: 'arm-smmu', kind: 'context-fault', iommu: `smmu${i % 3}`, contextBank: i, time: i });
      if (i % 1000 === 0) rs.push({ line: i + 1, family: 'arm-smmu', kind: 'context-fault', iommu: 'smmu0', contextBank: 0 });
    }
    for (let i = 0; i < 1000; i++) rs.push({ line: i, family: 'arm-smmu', kind: 'context-fault', iommu: 'smmu1', contextBank: 200_000 + i });
    expectSame(rs);
    const s = new SummaryBuilder();
    for (const r of rs) s.add(r);
    const other = s.build().offenders.find((c) => c.key === '(other)');
    expect(other).toMatchObject({ count: 131_000, firstLine: 0 });
  });
});
