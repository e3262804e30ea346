import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLine, type LogLine } from '../../../src/core/logs/line';
import { parseLine as baselineParseLine } from './line-baseline';
import { CORPUS, corpusAvailable } from '../../helpers/corpus';

/**
 * The baseline added the fraction to the whole seconds (1 + 0.116842 = 1.1168420000000001); the
 * parser now reads the stamp as one decimal. The two differ by at most a rounding of the sum.
 */
function sameSeconds(got: number | undefined, want: number | undefined): boolean {
  if (got === undefined || want === undefined) return got === want;
  return Object.is(got, want) || Math.abs(got - want) <= 2 * Number.EPSILON * Math.max(1, Math.abs(want));
}

/** Same fields, and `time` the same seconds. */
function expectSame(raw: string): void {
  const got: LogLine = parseLine(raw, 7);
  const want: LogLine = baselineParseLine(raw, 7);
  expect({ ...got, time: undefined }).toEqual({ ...want, time: undefined });
  expect(Object.keys(got)).toEqual(Object.keys(want));
  expect(sameSeconds(got.time, want.time), `${raw}: ${got.time} vs ${want.time}`).toBe(true);
}

/**
 * Lines in the formats parseLine learned after the baseline (dmesg delta/reltime/localized ctime
 * stamps, printk caller ids, journalctl short-full and localized short, kmsg records, logcat, RFC 5424,
 * journal JSON: see line-formats.test.ts) may lose more prefix than the baseline took; anything else
 * must come out the same. The message left must be the end of the baseline's, and a time the
 * baseline read must not change.
 */
function expectSameOrMoreStripped(raw: string): void {
  const got: LogLine = parseLine(raw, 7);
  const want: LogLine = baselineParseLine(raw, 7);
  if (got.message === want.message) { expectSame(raw); return; }
  expect(want.message.endsWith(got.message), raw).toBe(true);
  expect(got.message.length, raw).toBeLessThan(want.message.length);
  if (want.time !== undefined) expect(sameSeconds(got.time, want.time), raw).toBe(true);
  expect(got.host).toBe(want.host);
  expect(got.xenDomain).toBe(want.xenDomain);
}

const MSG = 'DMAR: [DMA Read NO_PASID] Request device [0000:04:1d.0] fault addr 0xf3d2e000 [fault reason 0x06] PTE Read access is not set';

describe('parseLine fast paths agree with the regex-only parser', () => {
  it('kernel stamps: exact values, including ones that are not exact in binary', () => {
    for (const raw of [
      `[    0.000691] ${MSG}`, `[ 1234.567890] ${MSG}`, `[123456.999999] ${MSG}`, `[9999999999.999999999] ${MSG}`,
      `[0.1] ${MSG}`, `[0.000000001]${MSG}`, `[   12.3]  ${MSG}`, `[            1.5] ${MSG}`,
      `<3>[   12.500000] ${MSG}`, `<123>[ 2.25] x`, `<1234>[ 2.25] x`, `<>[ 1.0] x`, `<3>`, `<3`,
    ]) expectSame(raw);
    expect(parseLine('[ 1234.567890] x', 1).time).toBe(1234.56789);
    expect(parseLine('[    0.300000] x', 1).time).toBe(0.3);
    // the sum of the parts printed as 1.1168420000000001 in scan --json
    expect(parseLine('[    1.116842] x', 1).time).toBe(1.116842);
    expect(String(parseLine('[   10.191681] x', 1).time)).toBe('10.191681');
  });

  it('every stamp reads as the decimal it prints (kernel, Xen, syslog, ISO, kmsg, fallbacks)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 9_999_999 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 999_999_999 }), (whole, k, f) => {
      const frac = String(f).padStart(9, '0').slice(0, k);
      const text = `${whole}.${frac}`;
      const want = Number(text);
      for (const raw of [`[${text.padStart(12)}] x`, `(XEN) [${text}] x`, `  412  [${text}] x`, `[\t${text}] x`]) {
        expect(parseLine(raw, 1).time, raw).toBe(want);
      }
    }), { seed: 11, numRuns: 3000 });
    expect(parseLine('2024-11-21T10:02:03.116842 host kernel: x', 1).time).toBe(Number('1732183323.116842'));
    expect(parseLine('6,339,1116842,-;x', 1).time).toBe(1.116842);
  });

  it('near misses fall through to the other prefixes exactly as before', () => {
    for (const raw of [
      `[             1.5] ${MSG}`, // 13 spaces
      `[12345678901.5] ${MSG}`, `[1.1234567890] ${MSG}`, `[1.] x`, `[.5] x`, `[1.5 x`, `[1,5] x`, `[`, `[ `, `[1`, `[1.`, `[1.5`,
      `[1.5]`, `[1.5]\tx`, `[1.5]\u00a0x`, `[1.5]\u2028x`, `[\t1.5] x`, `[ \u3000 1.5] x`, `[\u00a01.5] x`,
      `[ 12.3] host kernel: ${MSG}`, `[ 12.3] kernel: ${MSG}`, `[ 1.2] (XEN) [VT-D]DMAR: reason 05`,
      `[Thu Oct 22 08:54:51 2020] ${MSG}`, `[Thu Oct 22 08:54:51.123 2020] x`, `[UFW BLOCK] IN=eth0`,
      `Nov 06 13:59:48 host kernel: ${MSG}`, `Nov  6 13:59:48 myhost kernel: [ 1234.5] ${MSG}`, `Nov 6 x`, `Dec`,
      `kernel: ${MSG}`, `kernel:x`, `host kernel: x`, `a.b-c_d kernel: x`, `${'a'.repeat(64)} kernel: x`,
      `${'a'.repeat(65)} kernel: x`, `host  kernel: x`, `host kernel:x`, `ho:st kernel: x`, `kernel: kernel: x`,
      `kern  :err   : [   7.100000] ${MSG}`, `  412  [   5.000000] ${MSG}`, `\x1b[0;31m[   5.000000] ${MSG}\x1b[0m\r`,
      `(d1) [    2.000000] virtio_iommu: fault`, `(XEN) [  123.456789] x`, '', ' ', '\r',
    ]) expectSame(raw);
  });

  it('random prefix combinations', () => {
    const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
    const space = fc.constantFrom(' ', '\t', '\u00a0', '\u2028', '\u3000', '\ufeff', '', 'x');
    const stamp = fc.tuple(fc.array(space, { maxLength: 14 }), digits(0, 12), fc.constantFrom('.', ',', ''), digits(0, 11),
      fc.constantFrom(']', ')', ''), space)
      .map(([sp, a, dot, b, close, after]) => `[${sp.join('')}${a}${dot}${b}${close}${after}`);
    const part = fc.oneof(
      stamp,
      fc.tuple(digits(0, 5), fc.constantFrom('>', '')).map(([d, c]) => `<${d}${c}`),
      fc.constantFrom('kernel: ', 'host kernel: ', 'my-host.lan kernel: ', 'kern  :err   : ', '(XEN) ', '(d3) ',
        'Nov  6 13:59:48 host kernel: ', 'Nov 06 13:59:48.5 h p: ', '2020-11-06T13:59:48+0100 host kernel: ',
        '[Thu Oct 22 08:54:51 2020] ', 'DMAR: ', 'AMD-Vi: ', 'x'),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(fc.property(fc.array(part, { maxLength: 4 }), fc.string({ maxLength: 20 }), (parts, tail) => {
      expectSameOrMoreStripped(parts.join('') + tail);
    }), { numRuns: 20_000 });
  });

  it.runIf(corpusAvailable())('every line of the real corpus', () => {
    let n = 0;
    for (const f of readdirSync(CORPUS).filter((x) => x.endsWith('.txt'))) {
      for (const raw of readFileSync(join(CORPUS, f), 'utf8').split('\n')) { expectSameOrMoreStripped(raw); n++; }
    }
    expect(n).toBeGreaterThan(500);
  });
});
