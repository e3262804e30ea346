import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyFinder, keyMatcher, scanBlock, scanBytes } from '../../../src/core/logs/chunk-scan';
import { KeyFinder } from '../../../src/core/logs/simd/key-finder';
import { KeySet } from '../../../src/core/logs/simd/key-set';
import { Scanner, allKeys } from '../../../src/core/logs/scanner';
import { recordToJson, type FaultRecord } from '../../../src/core/logs/record';
import { CORPUS, corpusAvailable } from '../../helpers/corpus';

const KEYS = allKeys();
const enc = new TextEncoder();

/** 1-based numbers of the lines holding a key, by the regex path's rule (any match in the line). */
function regexLines(text: string, keys: readonly string[] = KEYS): number[] {
  const re = keyMatcher(keys);
  const out: number[] = [];
  text.split('\n').forEach((l, i) => { re.lastIndex = 0; if (re.test(l)) out.push(i + 1); });
  return out;
}

/** The same through the SIMD finder, with the block placed at `offset` in the finder's memory. */
function simdLines(finder: KeyFinder, text: string, offset = 0): { lines: number[]; newlines: number } {
  const bytes = enc.encode(text);
  const view = finder.buffer(offset + bytes.length);
  view.fill(0x41); // stale bytes past the block must not count
  view.set(bytes, offset);
  const lines: number[] = [];
  const newlines = finder.forEachCandidate(view, offset, offset + bytes.length, 0, (ls, idx) => {
    // line start must be right after a newline (or the block start)
    expect(ls === offset || view[ls - 1] === 10).toBe(true);
    lines.push(idx + 1);
  });
  return { lines, newlines };
}

const finder = keyFinder()!;

function corpusText(): string {
  if (!corpusAvailable()) return '';
  return readdirSync(CORPUS).filter((f) => f.endsWith('.txt')).map((f) => readFileSync(join(CORPUS, f), 'utf8')).join('\n');
}

// Pieces that make near misses likely: key prefixes and suffixes, line breaks, non-ASCII.
const piece = fc.oneof(
  fc.constantFrom(...KEYS),
  fc.constantFrom(...KEYS).map((k) => k.slice(0, Math.max(1, k.length - 1))),
  fc.constantFrom(...KEYS).map((k) => k.slice(1)),
  fc.constantFrom('\n', '\r\n', ' ', 'é', '€', '\u0000', '\xff', 'AMD-V', 'DMAR', 'fault '),
  fc.string({ maxLength: 20 }),
);
const text = fc.array(piece, { maxLength: 60 }).map((a) => a.join(''));

describe('SIMD key finder', () => {
  it('is available in Node 20+ (WebAssembly simd128)', () => {
    expect(finder).toBeDefined();
  });

  it('finds the same lines as the regex on the real corpus, and counts its newlines', () => {
    const t = corpusText();
    const want = regexLines(t);
    expect(want.length).toBeGreaterThan(corpusAvailable() ? 200 : -1);
    const got = simdLines(finder, t);
    expect(got.lines).toEqual(want);
    expect(got.newlines).toBe(t.split('\n').length - 1);
  });

  it('finds the same lines as the regex on random text, at any alignment', () => {
    fc.assert(fc.property(text, fc.integer({ min: 0, max: 31 }), (t, off) => {
      const got = simdLines(finder, t, off);
      expect(got.lines).toEqual(regexLines(t));
      expect(got.newlines).toBe(t.split('\n').length - 1);
    }), { numRuns: 400 });
  });

  it('works for arbitrary key sets (bucketing, shared prefixes, keys at the block end)', () => {
    const key = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'A', ' ', '0', 'x'), minLength: 4, maxLength: 9 });
    fc.assert(fc.property(fc.uniqueArray(key, { minLength: 1, maxLength: 40 }), fc.array(fc.oneof(key, fc.constantFrom('\n', 'ab', 'c')), { maxLength: 80 }), (keys, parts) => {
      const f = KeyFinder.create(keys)!;
      const t = parts.join('');
      expect(simdLines(f, t).lines).toEqual(regexLines(t, keys));
    }), { numRuns: 150 });
  });

  it('returns every candidate of a block with more candidate lines than its output buffer holds', () => {
    const t = Array.from({ length: 20_000 }, (_, i) => (i % 3 ? `AMD-Vi line ${i}` : `noise ${i}`)).join('\n');
    expect(simdLines(finder, t).lines).toEqual(regexLines(t));
  });

  it('names exactly the keys a line holds (keysIn), as the scanner\'s own search would', () => {
    const check = (t: string, off: number) => {
      const b = enc.encode(t);
      const view = finder.buffer(off + b.length + 64);
      view.fill(0x41);
      view.set(b, off);
      expect(finder.keysIn(off, off + b.length)).toEqual(KEYS.flatMap((k, i) => (t.includes(k) ? [i] : [])));
    };
    fc.assert(fc.property(text, fc.integer({ min: 0, max: 31 }), (t, off) => check(t, off)), { numRuns: 400 });
    const lines = corpusText().split('\n');
    lines.forEach((l, i) => check(l, i % 17));
    // every key at least once, also back to back and at the very end
    check(KEYS.join(''), 5);
    check(KEYS.join('\n'), 0);
  });

  it('declines keys it cannot handle, so callers keep the regex path', () => {
    expect(KeyFinder.create(['abc'])).toBeUndefined();
    expect(KeyFinder.create(['fault€x'])).toBeUndefined();
    expect(KeyFinder.create([])).toBeUndefined();
  });
});

describe('KeySet', () => {
  it('names exactly the keys a line contains', () => {
    const ks = new KeySet(KEYS);
    fc.assert(fc.property(text, (t) => {
      expect(ks.present(t)).toEqual(KEYS.flatMap((k, i) => (t.includes(k) ? [i] : [])));
    }), { numRuns: 400 });
    for (const l of corpusText().split('\n')) expect(ks.present(l)).toEqual(KEYS.flatMap((k, i) => (l.includes(k) ? [i] : [])));
  });
});

describe('scanBytes', () => {
  function viaBlock(t: string): { json: string[]; lines: number } {
    const recs: FaultRecord[] = [];
    const s = new Scanner((r) => recs.push(r));
    const { lines } = scanBlock(t, s, keyMatcher(), 5);
    s.end();
    return { json: recs.map(recordToJson), lines };
  }
  function viaBytes(t: string, off: number): { json: string[]; lines: number } {
    const recs: FaultRecord[] = [];
    const s = new Scanner((r) => recs.push(r));
    const b = enc.encode(t);
    const view = finder.buffer(off + b.length + 100);
    view.fill(10);
    view.set(b, off);
    const { lines } = scanBytes(view, off, off + b.length, s, finder, 5);
    s.end();
    return { json: recs.map(recordToJson), lines };
  }

  it('gives the records and line count of scanBlock on the real corpus (multi-line records included)', () => {
    const t = corpusText();
    const a = viaBlock(t);
    expect(a.json.length).toBeGreaterThan(corpusAvailable() ? 100 : -1);
    expect(viaBytes(t, 3)).toEqual(a);
  });

  it('gives the records and line count of scanBlock on shuffled real lines with noise', () => {
    const real = corpusText().split('\n').filter((l) => l && !l.startsWith('###'));
    if (!real.length) return;
    const line = fc.oneof(fc.constantFrom(...real), fc.constantFrom('', 'noise', '[  1.000000] usb 1-1: new device', 'x\r'));
    fc.assert(fc.property(fc.array(line, { maxLength: 40 }), fc.boolean(), fc.integer({ min: 0, max: 20 }), (ls, nlEnd, off) => {
      const t = ls.join('\n') + (nlEnd ? '\n' : '');
      expect(viaBytes(t, off)).toEqual(viaBlock(t));
    }), { numRuns: 300 });
  });
});
