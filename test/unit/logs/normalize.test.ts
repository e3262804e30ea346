import { describe, expect, it } from 'vitest';
import { hex, normalizeBdf, parseHex } from '../../../src/core/logs/normalize';

// The regex definitions the hand-written parsers replaced: the parsers must answer exactly as they did.
function refParseHex(s: string | undefined): bigint | undefined {
  if (s === undefined) return undefined;
  const t = s.trim().replace(/^0x/i, '');
  if (t.length === 0 || t.length > 32 || !/^[0-9a-fA-F]+$/.test(t)) return undefined;
  return BigInt('0x' + t);
}

function refNormalizeBdf(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const m = /^\[?(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])\]?$/.exec(s.trim());
  if (!m) return undefined;
  const seg = (m[1] ?? '0').toLowerCase().padStart(4, '0');
  return `${seg}:${m[2]!.toLowerCase().padStart(2, '0')}:${m[3]!.toLowerCase().padStart(2, '0')}.${m[4]}`;
}

/** Deterministic pseudo-random strings over an alphabet that hits every branch of both grammars. */
function* fuzz(alphabet: string, count: number, maxLen: number): Generator<string> {
  let x = 0x9e3779b9;
  const next = (): number => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return x >>> 0; };
  for (let i = 0; i < count; i++) {
    const n = next() % (maxLen + 1);
    let s = '';
    for (let j = 0; j < n; j++) s += alphabet[next() % alphabet.length];
    yield s;
  }
}

describe('normalize: hand-written parsers match their regex definitions', () => {
  it('parseHex and hex on fixed cases', () => {
    expect(parseHex('0xF3D2E000')).toBe(0xf3d2e000n);
    expect(parseHex(' 0X00ff ')).toBe(0xffn);
    expect(parseHex('0x')).toBeUndefined();
    expect(parseHex('0x0x1')).toBeUndefined();
    expect(parseHex('1'.repeat(33))).toBeUndefined();
    expect(parseHex('f'.repeat(32))).toBe((1n << 128n) - 1n);
    expect(hex('0000')).toBe('0x0');
    expect(hex('0x00F3d2e000')).toBe('0xf3d2e000');
    expect(hex('ffffffff')).toBe('0xffffffff');
    expect(hex('g1')).toBeUndefined();
  });

  it('parseHex and hex agree with the regex definition on fuzzed text', () => {
    for (const s of fuzz('0123456789abcdefABCDEFxX gG\t\u00a0', 20000, 36)) {
      const want = refParseHex(s);
      expect(parseHex(s), JSON.stringify(s)).toBe(want);
      expect(hex(s), JSON.stringify(s)).toBe(want === undefined ? undefined : '0x' + want.toString(16));
    }
  });

  it('normalizeBdf on fixed cases', () => {
    expect(normalizeBdf('[0000:04:1d.0]')).toBe('0000:04:1d.0');
    expect(normalizeBdf('0:2.0')).toBe('0000:00:02.0');
    expect(normalizeBdf(' 0A:1F.7 ')).toBe('0000:0a:1f.7');
    expect(normalizeBdf('00:02.8')).toBeUndefined();
    expect(normalizeBdf('00001:00:02.0')).toBeUndefined();
    expect(normalizeBdf('1:2:3:4.0')).toBeUndefined();
    expect(normalizeBdf('[00:02.0]]')).toBeUndefined();
    expect(normalizeBdf(':00:02.0')).toBeUndefined();
    expect(normalizeBdf('')).toBeUndefined();
  });

  it('normalizeBdf agrees with the regex definition on fuzzed text', () => {
    for (const s of fuzz('0123456789aAfFg:.[] 8', 60000, 16)) {
      expect(normalizeBdf(s), JSON.stringify(s)).toBe(refNormalizeBdf(s));
    }
    // structured: every combination of bracket, segment, bus, device and function shapes
    const opts = [['', '[', ' ', '(', ' ['], ['', '0:', '000a:', '0000:', '00000:', ':', 'g:'], ['', '0', '0A', '04', '100', 'x'],
      [':'], ['', '1', '1d', '1dd', 'G'], ['.', ',', ''], ['0', '7', '8', '', '07'], ['', ']', ' ', ']]', '] ']];
    let shapes = [''];
    for (const o of opts) shapes = shapes.flatMap((p) => o.map((q) => p + q));
    let valid = 0;
    for (const s of shapes) {
      const want = refNormalizeBdf(s);
      if (want !== undefined) valid++;
      expect(normalizeBdf(s), JSON.stringify(s)).toBe(want);
    }
    expect(valid).toBeGreaterThan(100);
    // near-misses of real addresses, one edit away
    const base = '[0000:04:1d.0]';
    const edits = ':.[]0f8gx ';
    for (let i = 0; i <= base.length; i++) {
      for (const c of edits) {
        for (const s of [base.slice(0, i) + c + base.slice(i), base.slice(0, i) + c + base.slice(i + 1), base.slice(0, i) + base.slice(i + 1)]) {
          expect(normalizeBdf(s), JSON.stringify(s)).toBe(refNormalizeBdf(s));
          expect(normalizeBdf(s.slice(1, -1)), JSON.stringify(s)).toBe(refNormalizeBdf(s.slice(1, -1)));
        }
      }
    }
  });
});
