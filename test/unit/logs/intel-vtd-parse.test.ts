import { describe, expect, it } from 'vitest';
import { parseBody, type FaultBody } from '../../../src/core/logs/families/intel-vtd-parse';

// parseBody as it was before the combined PASID/address regex and the cached reason part.
const RE_PASID_OLD = /^\s*PASID ([0-9a-fA-F]{1,8})(?=\s|$)/;
const RE_ADDR = /^\s*fault (addr|index)(?:\s+(?:0x)?([0-9a-fA-F]{1,16}))?(?=[\s,[]|$)/;
const RE_IOMMU_REG = /^\s*,\s*iommu reg = (?:0x)?([0-9a-fA-F]{1,16})/;
const RE_REASON = /^\s*\[fault reason\s{1,4}(0x[0-9a-fA-F]{1,2}|[0-9a-fA-F]{1,3}h?)\]/;
const REASON_LIT = '[fault reason';
function isPrefix(s: string, lit: string): boolean {
  const t = s.trim();
  return t.length > 0 && t.length < lit.length && lit.startsWith(t);
}
function refParseBody(tail: string, expect: 'addr' | 'index'): FaultBody {
  let s = tail.length > 400 ? tail.slice(0, 400) : tail;
  const out: FaultBody = { state: 'partial' };
  let m = RE_PASID_OLD.exec(s);
  if (m) { out.pasid = m[1]!; s = s.slice(m[0].length); }
  if (!s.trim()) return out;
  m = RE_ADDR.exec(s);
  if (!m) return { ...out, state: isPrefix(s, `fault ${expect}`) ? 'partial' : 'invalid' };
  if (m[1] !== expect) return { ...out, state: 'invalid' };
  if (m[2] === undefined) return out;
  out.value = m[2];
  s = s.slice(m[0].length);
  m = RE_IOMMU_REG.exec(s);
  if (m) { out.iommuReg = m[1]!; s = s.slice(m[0].length); }
  if (!s.trim()) return { ...out, state: 'need-reason' };
  m = RE_REASON.exec(s);
  if (!m) {
    const t = s.trim();
    if (isPrefix(t, REASON_LIT) || /^\[fault reason\s{1,4}(?:0x)?[0-9a-fA-F]{0,2}$/.test(t)) return { ...out, state: 'need-reason' };
    return { ...out, state: 'invalid' };
  }
  out.reasonRaw = m[1]!;
  out.reasonText = s.slice(m[0].length).trim();
  out.state = 'need-text';
  return out;
}

/** Every combination of the pieces, each piece picked from its list of variants. */
function combos(parts: readonly (readonly string[])[]): string[] {
  let out = [''];
  for (const p of parts) out = out.flatMap((a) => p.map((b) => a + b));
  return out;
}

/** parseBody's answer without the shared reading it carries for the reason cache. */
function fields(b: FaultBody): FaultBody {
  const { rest: _rest, ...f } = b;
  return f;
}

describe('parseBody answers as the step-by-step regexes did', () => {
  it('reads the usual prints', () => {
    expect(fields(parseBody(' fault addr 0xf3d2e000 [fault reason 0x06] PTE Read access is not set', 'addr'))).toStrictEqual({
      state: 'need-text', value: 'f3d2e000', reasonRaw: '0x06', reasonText: 'PTE Read access is not set',
    });
    expect(fields(parseBody(' PASID ffffffff fault addr bd7d3000 [fault reason 05] PTE Write access is not set', 'addr'))).toStrictEqual({
      state: 'need-text', pasid: 'ffffffff', value: 'bd7d3000', reasonRaw: '05', reasonText: 'PTE Write access is not set',
    });
    expect(fields(parseBody(' fault addr 7f0000, iommu reg = ffff82c00021d000', 'addr'))).toStrictEqual({
      state: 'need-reason', value: '7f0000', iommuReg: 'ffff82c00021d000',
    });
  });

  it('on every combination of near-miss pieces (the same text twice: the second from the cache)', () => {
    const tails = combos([
      ['', ' ', '\u00a0', '\t '],
      ['', 'PASID 1 ', 'PASID ffffffff ', 'PASID 123456789 ', 'PASID x ', 'PASID 5,', 'PASID 12'],
      ['fault addr', 'fault index', 'fault ad', 'fault address', ''],
      ['', ' ', '  ', ','],
      ['', '0x', 'f3d2e000', '0xf3d2e000', '0x12345678901234567', '0X1f', '0xg'],
      ['', ' ', ', iommu reg = ffff82c00021d000', '[', ' x'],
      ['', ' [fault reason', '[fault reason 0x06]', ' [fault reason 06]', ' [fault reason  06h]', ' [fault reason     06]',
        ' [fault reason 0x123]', ' [fault reason 06h', ' [fault reasonx'],
      ['', ' PTE Read access is not set', '  text  '],
    ]);
    expect(tails.length).toBeGreaterThan(100000);
    let fast = 0;
    for (const t of tails) {
      for (const w of ['addr', 'index'] as const) {
        const want = refParseBody(t, w);
        if (want.value !== undefined) fast++;
        for (let rep = 0; rep < 2; rep++) {
          const got = fields(parseBody(t, w));
          // cheap comparison first: expect() on every case would dominate the run
          if (JSON.stringify(got) !== JSON.stringify(want) || Object.keys(got).length !== Object.keys(want).length) {
            expect(got, JSON.stringify([t, w])).toStrictEqual(want);
          }
        }
      }
    }
    expect(fast).toBeGreaterThan(10000);
  });

  it('stays linear on long blank runs', () => {
    const t0 = Date.now();
    for (const p of ['', 'PASID 1']) for (let i = 0; i < 200; i++) parseBody(`${' '.repeat(390)}${p}${' '.repeat(i)}x`, 'addr');
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
