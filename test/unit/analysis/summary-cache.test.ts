import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SummaryBuilder, summaryToText, type Counter, type ScanSummary } from '../../../src/core/analysis/summary';
import { SummaryBuilder as BaselineBuilder } from './summary-baseline';
import type { FaultRecord } from '../../../src/core/logs/record';

/** The counters without the lines that first/last came from (the b7ed907 builder had no such fields). */
function withoutTimedLines(s: ScanSummary): ScanSummary {
  const strip = (cs: Counter[]) => cs.map(({ firstTimedLine: _a, lastTimedLine: _b, ...c }) => c);
  return { ...s, byFamily: strip(s.byFamily), byKind: strip(s.byKind), byReason: strip(s.byReason), offenders: strip(s.offenders) };
}

/**
 * Same summary as the b7ed907 builder for records in line order (one scan), down to property
 * order and the text rendering.
 */
function expectSame(records: FaultRecord[]): void {
  const a = new SummaryBuilder();
  const b = new BaselineBuilder();
  for (const r of records) { a.add(r); b.add(r); }
  const sa = withoutTimedLines(a.build());
  const sb = b.build();
  expect(JSON.stringify(sa)).toBe(JSON.stringify(sb));
  expect(sa).toEqual(sb);
  expect(summaryToText(['f'], sa, { top: 1000 })).toBe(summaryToText(['f'], sb, { top: 1000 }));
}

/**
 * Records in any order, with summaries built elsewhere merged in between (as parallel scans do),
 * give the summary of one scan in line order. Lines are distinct, as records' first lines are.
 */
function expectOrderFree(records: FaultRecord[], mergeAt: Set<number>): void {
  const inOrder = new SummaryBuilder();
  for (const r of [...records].sort((x, y) => x.line - y.line)) inOrder.add(r);
  const a = new SummaryBuilder();
  let side = new SummaryBuilder();
  records.forEach((r, i) => {
    if (mergeAt.has(i)) { side.add(r); a.merge(side.build()); side = new SummaryBuilder(); } else a.add(r);
  });
  a.merge(side.build());
  const sa = a.build(), sb = inOrder.build();
  expect(summaryToText(['f'], sa, { top: 1000 })).toBe(summaryToText(['f'], sb, { top: 1000 }));
  // (JSON: which of two equal times 0 and -0 is the minimum may follow arrival order)
  expect(JSON.stringify(sa)).toBe(JSON.stringify(sb));
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
  it('random records in line order', () => {
    // distinct lines: the old builder let the first of two timed records on one line set `last`
    fc.assert(fc.property(fc.array(record, { maxLength: 80 }), (rs) => {
      expectSame(rs.map((r, i) => ({ ...r, line: i + 1 })));
    }), { numRuns: 3000 });
  });

  it('random records, lines out of order, merges in between: the same as one scan in line order', () => {
    const distinctLines = fc.array(record, { maxLength: 80 }).map((rs) => rs.map((r, i) => ({ ...r, line: i + 1 })));
    fc.assert(fc.property(distinctLines.chain((rs) => fc.tuple(fc.shuffledSubarray(rs, { minLength: rs.length, maxLength: rs.length }), fc.array(fc.nat(80)))), ([rs, m]) => {
      expectOrderFree(rs, new Set(m));
    }), { numRuns: 3000 });
  });

  it('first/last come from the first and last timed records by line, however the work was split', () => {
    const rs: FaultRecord[] = [
      { line: 10, family: 'arm-smmu', kind: 'context-fault', time: 5 },
      { line: 20, family: 'arm-smmu', kind: 'context-fault', time: 700 },
      { line: 30, family: 'arm-smmu', kind: 'context-fault' },
    ];
    // as a parallel scan: the untimed record at line 30 in another worker's summary
    const a = new SummaryBuilder();
    a.add(rs[0]!); a.add(rs[1]!);
    const b = new SummaryBuilder();
    b.add(rs[2]!);
    const merged = new SummaryBuilder();
    merged.merge(b.build());
    merged.merge(a.build());
    expect(merged.build().byFamily[0]).toMatchObject({ count: 3, firstLine: 10, lastLine: 30, first: 5, last: 700 });
  });

  it('a storm of one key: counts, first/last by line order', () => {
    const rs: FaultRecord[] = [];
    for (let i = 0; i < 1000; i++) {
      rs.push({ line: (i * 7919) % 1000 + 1, family: 'intel-vtd', kind: 'dma-fault', time: i / 8, device: '0000:04:1d.0',
        reason: { code: 6, name: 'PTE_READ', text: 'PTE Read access is not set' } });
    }
    expectSame([...rs].sort((x, y) => x.line - y.line));
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
