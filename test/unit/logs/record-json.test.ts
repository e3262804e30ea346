import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RECORD_FIELDS, recordToJson, type FaultRecord } from '../../../src/core/logs/record';

/** recordToJson as of b7ed907: the definition the direct writer must agree with. */
function baselineRecordToJson(r: FaultRecord): string {
  const o: Record<string, unknown> = {};
  for (const k of RECORD_FIELDS) {
    const v = r[k];
    if (v !== undefined) o[k] = v;
  }
  return JSON.stringify(o);
}

/** Both give the same string, or both throw the same error. */
function expectSame(r: FaultRecord): void {
  let want: string | Error;
  try { want = baselineRecordToJson(r); } catch (e) { want = e as Error; }
  if (want instanceof Error) expect(() => recordToJson(r)).toThrow(want.message);
  else expect(recordToJson(r)).toBe(want);
}

const nasty = fc.oneof(
  fc.string(),
  fc.array(fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('"', '\\', '\n', '\r', '\t', '\b', '\f', '\u0000', '\u001f', '\u007f', '\u2028', '\u2029',
      '\ud800', '\udfff', '\udbff\udfff', '\ud83d\ude00', '\ude00\ud83d', 'é', '/', '</script>'),
  ), { maxLength: 12 }).map((a) => a.join('')),
);
const num = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1e21, 1e-7, 5e-324, 2 ** 53 + 2));
const scalar = fc.oneof(nasty, num, fc.boolean(), fc.constant(null), fc.constant(undefined));
const nested = fc.oneof(
  fc.dictionary(nasty, fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(nasty, scalar, { maxKeys: 3 })), { maxKeys: 4 }),
  fc.array(scalar, { maxLength: 4 }),
  fc.constantFrom(new Date(0), { toJSON: (k: string) => `key:${k}` }, { toJSON: () => undefined }, new String('s"'), new Number(-0)),
);
const value = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 2, arbitrary: nested },
  { weight: 1, arbitrary: fc.constantFrom(() => 1, Symbol('s'), [undefined, () => 1]) },
);

describe('recordToJson writes what JSON.stringify of the contract fields wrote', () => {
  it('random records: any field, any value, any insertion order, extra fields ignored', () => {
    const field = fc.constantFrom(...RECORD_FIELDS, 'extra', 'raw');
    fc.assert(fc.property(fc.array(fc.tuple(field, value), { maxLength: 25 }), (pairs) => {
      const r: Record<string, unknown> = {};
      for (const [k, v] of pairs) r[k] = v;
      expectSame(r as unknown as FaultRecord);
    }), { numRuns: 20_000 });
  });

  it('typical records and edge cases, with concrete output', () => {
    const r: FaultRecord = {
      line: 12, family: 'intel-vtd', kind: 'dma-fault', host: 'linux', time: 0.000691, device: '0000:04:1d.0',
      iova: '0xf3d2e000', access: 'read', reason: { code: 6, name: 'PTE_READ', text: 'PTE Read access is not set' },
      registers: { fsts: '0x2' }, endLine: 13, decoded: { reason: { table: 'legacy' } },
    };
    expect(recordToJson(r)).toBe('{"line":12,"endLine":13,"family":"intel-vtd","host":"linux","kind":"dma-fault","time":0.000691,'
      + '"device":"0000:04:1d.0","iova":"0xf3d2e000","access":"read","registers":{"fsts":"0x2"},'
      + '"reason":{"code":6,"name":"PTE_READ","text":"PTE Read access is not set"},"decoded":{"reason":{"table":"legacy"}}}');
    for (const rec of [
      r, {} as FaultRecord, { line: -0, time: NaN, contextBank: Infinity } as FaultRecord,
      { file: 'a"b\\c\nd\u0001\ud800x\udc00', line: 1, family: '\ud83d\ude00', kind: '' } as FaultRecord,
      { line: 1, decoded: { big: 1n } } as unknown as FaultRecord, { line: 2n } as unknown as FaultRecord,
    ]) expectSame(rec);
    expect(recordToJson({ line: -0, time: NaN } as FaultRecord)).toBe('{"line":0,"time":null}');
    expect(recordToJson({ file: 'x\ud800' } as FaultRecord)).toBe('{"file":"x\\ud800"}');
  });
});
