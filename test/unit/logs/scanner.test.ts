import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Scanner, scanText } from '../../../src/core/logs/scanner';
import { recordToJson, RECORD_FIELDS, type FaultRecord } from '../../../src/core/logs/record';
import type { Recognizer } from '../../../src/core/logs/recognizer';
import { corpusAvailable, corpusEntries } from '../../helpers/corpus';
import { readdirSync } from 'node:fs';
import { normalizeBdf } from '../../../src/core/logs/normalize';
import { CORPUS } from '../../helpers/corpus';

/** A two-line toy family, to test assembly independently of the real families. */
const toy: Recognizer = {
  family: 'toy',
  keys: ['TOY'],
  recognize(l) {
    const m = /TOY start (\w+)/.exec(l.message);
    if (!m) return undefined;
    const rec: FaultRecord = { line: l.line, family: 'toy', kind: 'event', device: m[1]! };
    return {
      record: rec,
      more: {
        window: 3,
        feed(n) {
          const c = /TOY cont (\w+) (\w+)/.exec(n.message);
          if (!c) return /TOY start/.test(n.message) ? 'end' : 'skip';
          if (c[1] !== rec.device) return 'skip';
          rec.iova = '0x' + c[2];
          return 'done';
        },
      },
    };
  },
};

describe('Scanner record assembly', () => {
  it('joins a continuation, sets endLine, keeps log order', () => {
    const recs = scanText(['TOY start a', 'noise', 'TOY start b', 'TOY cont b 10', 'TOY cont a 20'].join('\n'), { recognizers: [toy] });
    // "TOY start b" ends a's wait (the toy says 'end' for a new start), so a is closed without iova.
    expect(recs.map((r) => [r.device, r.line, r.endLine, r.iova])).toEqual([
      ['a', 1, undefined, undefined],
      ['b', 3, 4, '0x10'],
    ]);
  });

  it('closes a record after its window of lines', () => {
    const recs = scanText(['TOY start a', 'x', 'x', 'x', 'x', 'TOY cont a 10'].join('\n'), { recognizers: [toy] });
    expect(recs).toHaveLength(1);
    expect(recs[0]!.iova).toBeUndefined();
  });

  it('emits records in order of their first line even when a later one completes first', () => {
    const out: FaultRecord[] = [];
    const s = new Scanner((r) => out.push(r), { recognizers: [toy] });
    s.push('TOY start a', 1);
    s.push('TOY cont z 1', 2); // skipped by a
    expect(out).toHaveLength(0);
    s.end();
    expect(out.map((r) => r.device)).toEqual(['a']);
  });

  it('Continuation.wants: lines a record does not want are neither parsed for it nor fed, with the same records', () => {
    let fed = 0;
    // the toy again, but its continuation says which lines it could take ('TOY' ones)
    const picky: Recognizer = {
      ...toy,
      recognize(l) {
        const got = toy.recognize(l);
        if (!got?.more) return got;
        const more = got.more;
        return { record: got.record, more: { window: more.window, feed: (n) => { fed++; return more.feed(n); }, wants: (raw) => raw.includes('TOY') } };
      },
    };
    const lines = ['TOY start a', 'noise 1', 'noise 2', 'TOY cont a 20', 'TOY start b', 'x', 'x', 'x', 'x', 'TOY cont b 30', 'TOY start c'];
    const mine = scanText(lines.join('\n'), { recognizers: [picky] });
    expect(mine).toEqual(scanText(lines.join('\n'), { recognizers: [toy] }));
    expect(mine.map((r) => [r.device, r.endLine, r.iova])).toEqual([['a', 4, '0x20'], ['b', undefined, undefined], ['c', undefined, undefined]]);
    // only 'TOY cont a 20' reached a continuation: b's window ran out over the 'x' lines, unparsed
    expect(fed).toBe(1);
    // a record whose window passed is closed on an unwanted line too, so it is emitted without waiting
    const out: FaultRecord[] = [];
    const sc = new Scanner((r) => out.push(r), { recognizers: [picky] });
    sc.push('TOY start z', 1);
    for (let n = 2; n <= 5; n++) sc.push('noise', n);
    expect(out.map((r) => r.device)).toEqual(['z']);
    expect(sc.wantsEveryLine).toBe(false);
  });

  it('survives a recogniser that throws', () => {
    const bad: Recognizer = { family: 'bad', keys: ['X'], recognize() { throw new Error('bug'); } };
    expect(scanText('X\nTOY start q', { recognizers: [bad, toy] }).map((r) => r.device)).toEqual(['q']);
  });
});

describe('scan --json contract', () => {
  it('prints only contract fields, in contract order', () => {
    const r: FaultRecord & { extra?: number } = { line: 2, family: 'x', kind: 'event', iova: '0x1', extra: 5 };
    const keys = Object.keys(JSON.parse(recordToJson(r)));
    expect(keys).toEqual(['line', 'family', 'kind', 'iova']);
    expect(RECORD_FIELDS).toContain('registers');
  });
});

// Every real corpus line, and mutations of it, must scan without throwing, with sane records.
const corpusLines: string[] = corpusAvailable()
  ? readdirSync(CORPUS).filter((f) => f.endsWith('.txt')).flatMap((f) => corpusEntries(f).flatMap((e) => e.lines))
  : [];

function checkRecord(r: FaultRecord): void {
  expect(typeof r.family).toBe('string');
  expect(typeof r.kind).toBe('string');
  expect(r.line).toBeGreaterThan(0);
  if (r.iova !== undefined) expect(r.iova).toMatch(/^0x(?:0|[1-9a-f][0-9a-f]*)$/);
  // A device that is a PCI address must be in normalised form; other printed names pass as printed.
  if (r.device !== undefined && normalizeBdf(r.device) !== undefined) expect(r.device).toBe(normalizeBdf(r.device));
  if (r.registers) for (const v of Object.values(r.registers)) expect(v).toMatch(/^0x[0-9a-f]+$/);
  expect(() => JSON.parse(recordToJson(r))).not.toThrow();
}

describe('scanner robustness (all registered families)', () => {
  it('the corpus is present beside the repo', () => {
    expect(corpusLines.length).toBeGreaterThan(100);
  });

  it('random lines never throw', () => {
    fc.assert(fc.property(fc.array(fc.string({ maxLength: 300 }), { maxLength: 20 }), (lines) => {
      for (const r of scanText(lines.join('\n'))) checkRecord(r);
    }), { numRuns: 300 });
  });

  it('mutated real lines never throw and give sane records', () => {
    if (!corpusLines.length) return;
    const mutate = fc.tuple(
      fc.constantFrom(...corpusLines),
      fc.nat(400), fc.nat(400),
      fc.constantFrom('', '0x', 'fffffffffffffffffffffffff', '[', ']', '=', ',', ' ', '\t', 'ZZ', '\u00ff', '(XEN) ', '0x-1'),
    ).map(([l, a, b, ins]) => {
      const i = Math.min(a, l.length);
      const j = Math.min(i + (b % 12), l.length);
      return l.slice(0, i) + ins + l.slice(j);
    });
    fc.assert(fc.property(fc.array(mutate, { minLength: 1, maxLength: 12 }), (lines) => {
      for (const r of scanText(lines.join('\n'))) checkRecord(r);
    }), { numRuns: 1500 });
  });

  it('hostile lines finish in linear time', () => {
    const hostile = [
      'fsr=0x'.repeat(100_000),
      'arm-smmu 1.iommu: Unhandled context fault: ' + 'fsr=0x'.repeat(80_000),
      '['.repeat(500_000),
      'DMAR: [DMA Read] Request device [' + '0000:'.repeat(100_000),
      'AMD-Vi: Event logged [IO_PAGE_FAULT ' + 'device='.repeat(80_000),
      'arm-smmu-v3 x: event 0x10 received:\n' + 'arm-smmu-v3 x: \t0x'.repeat(50_000),
      'x'.repeat(1_000_000),
      ('(XEN) [VT-D]DMAR:[DMA Read] Request device [0000:00:1f.2] fault addr ' + '7'.repeat(1000) + ' ').repeat(500),
      ' '.repeat(1_000_000) + 'callbacks suppressed',
      'iommu '.repeat(150_000) + 'fault',
    ];
    for (const h of hostile) {
      const t0 = performance.now();
      scanText(h);
      // A generous bound: catastrophic backtracking takes minutes on these, linear scanning milliseconds.
      expect(performance.now() - t0, h.slice(0, 40)).toBeLessThan(3000);
    }
  });
});
