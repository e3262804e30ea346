import { describe, expect, it } from 'vitest';
import { StormStream, DEFAULT_STORM_OPTIONS } from '../../../src/core/analysis/storms';
import { analyzeText } from '../../../src/core/analysis/analyzer';
import { corpusAvailable, corpusEntries } from '../../helpers/corpus';

const ts = (t: number) => `[${t.toFixed(6).padStart(12)}] `;
/** The VT-d print of Linux 5.15+ (dmar_fault_do_one, "[fault reason 0x%02x] %s"). */
const dmar = (t: number, dev: string, addr: number) =>
  `${ts(t)}DMAR: [DMA Read NO_PASID] Request device [${dev}] fault addr 0x${addr.toString(16)} [fault reason 0x06] PTE Read access is not set`;

describe('StormStream', () => {
  it('starts at the threshold, measures the peak, ends below half of it', () => {
    const s = new StormStream(DEFAULT_STORM_OPTIONS, 64);
    let line = 0;
    for (let i = 0; i < 5; i++) s.add(i * 0.5, ++line, '0x1000'); // 2/s: quiet
    for (let i = 0; i < 200; i++) s.add(10 + i * 0.01, ++line, `0x${(0x100000 + i * 0x1000).toString(16)}`); // 100/s for 2 s
    for (let i = 0; i < 5; i++) s.add(20 + i, ++line, '0x2000'); // quiet again
    s.finish();
    expect(s.storms).toHaveLength(1);
    const st = s.storms[0]!;
    expect(st.axis).toBe('time');
    expect(st.start).toBeCloseTo(10, 6);
    expect(st.end).toBeCloseTo(11.99, 6);
    expect(st.startLine).toBe(6);
    expect(st.endLine).toBe(205);
    expect(st.printed).toBe(200);
    expect(st.peakRate).toBeGreaterThanOrEqual(90);
    expect(st.peakRate).toBeLessThanOrEqual(101);
    expect(st.ongoing).toBeUndefined();
    // a storm's pages are counted from its detection (the 20th record of the burst), capped at 64
    expect(st.pages.distinct).toBe(64);
    expect(st.pages.untracked).toBe(200 - 19 - 64);
  });

  it('reports a storm still running at the end as ongoing, and two bursts as two storms', () => {
    const s = new StormStream(DEFAULT_STORM_OPTIONS, 16);
    let line = 0;
    for (let i = 0; i < 50; i++) s.add(1 + i * 0.01, ++line);
    for (let i = 0; i < 50; i++) s.add(30 + i * 0.01, ++line);
    s.finish();
    expect(s.storms.map((x) => [x.printed, x.ongoing ?? false])).toEqual([[50, false], [50, true]]);
  });

  it('uses line numbers when the log has no timestamps', () => {
    const s = new StormStream(DEFAULT_STORM_OPTIONS, 16);
    for (let i = 1; i <= 150; i++) s.add(undefined, i);
    s.finish();
    expect(s.storms).toHaveLength(1);
    expect(s.storms[0]).toMatchObject({ axis: 'lines', startLine: 1, endLine: 150, printed: 150 });
  });

  it('restarts when the clock goes back (two boots in one file)', () => {
    const s = new StormStream(DEFAULT_STORM_OPTIONS, 16);
    let line = 0;
    for (let i = 0; i < 40; i++) s.add(500 + i * 0.01, ++line);
    for (let i = 0; i < 40; i++) s.add(1 + i * 0.01, ++line);
    s.finish();
    expect(s.storms.map((x) => [x.start, x.printed])).toEqual([[500, 40], [1, 40]]);
  });
});

describe('ratelimit notices folded into storms', () => {
  it('a notice inside a storm adds its count to that storm', () => {
    const lines: string[] = [];
    for (let i = 0; i < 30; i++) lines.push(dmar(100 + i * 0.01, '0000:00:02.0', 0x7f000000 + i * 0x1000));
    lines.push(`${ts(100.5)}dmar_fault: 2474 callbacks suppressed`);
    for (let i = 0; i < 30; i++) lines.push(dmar(100.6 + i * 0.01, '0000:00:02.0', 0x7f000000 + i * 0x1000));
    const a = analyzeText(lines.join('\n'));
    const iommu = a.iommus.find((i) => i.family === 'intel-vtd')!;
    expect(iommu.storms).toHaveLength(1);
    expect(iommu.storms[0]).toMatchObject({ printed: 60, suppressed: 2474 });
    expect(iommu.storms[0]!.pages.distinct).toBe(30);
    expect(a.suppressed).toBe(2474);
    const g = a.groups[0]!;
    expect(g.device).toBe('0000:00:02.0');
    expect(g.storms[0]).toMatchObject({ printed: 60 });
    expect(g.pages).toMatchObject({ distinct: 30, lowest: '0x7f000000', highest: '0x7f01d000' });
    expect(g.pages.ranges[0]).toMatchObject({ start: '0x7f000000', end: '0x7f01dfff', pages: 30, faults: 60 });
  });

  it('notices alone reveal a storm the ratelimit hid (estimated), and one function\'s twin notices count once', () => {
    const a = analyzeText([
      dmar(5.19, '0000:00:02.0', 0x1000),
      `${ts(10.191481)}dmar_fault: 559609 callbacks suppressed`,
      `${ts(10.191502)}dmar_fault: 559609 callbacks suppressed`,
    ].join('\n'));
    expect(a.suppressedNotices).toBe(2);
    expect(a.suppressed).toBe(559609);
    const st = a.iommus.find((i) => i.family === 'intel-vtd')!.storms;
    expect(st).toHaveLength(1);
    expect(st[0]).toMatchObject({ estimated: true, suppressed: 559609, printed: 1, start: 5.19, end: 10.191481 });
    expect(st[0]!.peakRate).toBeCloseTo((559609 + 1) / 5, 1);
  });

  it('a small notice of a quiet IOMMU stays outside any storm', () => {
    const a = analyzeText([dmar(1, '0000:00:02.0', 0x1000), `${ts(6)}dmar_fault: 3 callbacks suppressed`].join('\n'));
    const i = a.iommus[0]!;
    expect(i.storms).toEqual([]);
    expect(i.suppressedOutside).toBe(3);
  });

  it.skipIf(!corpusAvailable())('real arm-smmu global-fault storm (corpus): three estimated storms of ~112k faults/s', () => {
    const e = corpusEntries('arm-smmu.txt').find((x) => x.lines.some((l) => l.includes('559609 callbacks suppressed')))!;
    const a = analyzeText(e.lines.join('\n'));
    const storms = a.iommus.flatMap((i) => i.storms);
    expect(storms.length).toBeGreaterThanOrEqual(3);
    expect(storms.every((s) => s.estimated && s.peakRate > 100_000)).toBe(true);
    expect(storms.map((s) => s.suppressed)).toEqual([559609, 557846, 557865]);
  });
});
