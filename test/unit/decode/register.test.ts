import { describe, expect, it } from 'vitest';
import { decodedFields, fieldValue, type RegisterDescription } from '../../../src/core/decode/register';
import { REGISTERS } from '../../../src/core/decode/registers';
import { ARM_SMMU_V3_REGISTERS } from '../../../src/core/decode/registers/arm-smmu-v3';

// decodedFields as it was before reading fields with number arithmetic: both must answer alike.
function refDecodedFields(desc: RegisterDescription, value: bigint): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {};
  for (const f of desc.fields) {
    if (f.reserved) continue;
    const v = fieldValue(value, f.bits);
    const oneBit = f.bits[0] === f.bits[1];
    const named = f.values?.[Number(v)];
    if (named) out[f.name] = named.name;
    else if (oneBit && (f.format ?? 'bool') === 'bool') out[f.name] = v !== 0n;
    else out[f.name] = v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : '0x' + v.toString(16);
  }
  return out;
}

/** Deterministic values of every width: sparse, dense, all ones, single bits, random. */
function* values(width: number): Generator<bigint> {
  const top = (1n << BigInt(width)) - 1n;
  yield 0n;
  yield top;
  for (let b = 0; b < width; b++) { yield 1n << BigInt(b); yield top ^ (1n << BigInt(b)); }
  let x = 0x2545f4914f6cdd1dn;
  for (let i = 0; i < 200; i++) {
    x ^= (x << 13n) & 0xffffffffffffffffn; x ^= x >> 7n; x ^= (x << 17n) & 0xffffffffffffffffn;
    let v = x;
    while (BigInt(v.toString(2).length) < BigInt(width)) v = (v << 64n) | x;
    yield v & top;
    yield (v & top) >> BigInt(i % width);
  }
}

describe('decodedFields: number arithmetic answers as the bigint definition', () => {
  it('every register description, values of its width and wider', () => {
    const descs = [...REGISTERS, ...ARM_SMMU_V3_REGISTERS];
    expect(descs.length).toBeGreaterThan(20);
    let n = 0;
    for (const d of descs) {
      for (const v of values(Math.min(d.width, 128))) {
        // twice: the second answer comes from the cache
        const want = refDecodedFields(d, v);
        expect(decodedFields(d, v), `${d.id} ${v.toString(16)}`).toStrictEqual(want);
        expect(decodedFields(d, v), `${d.id} ${v.toString(16)} (cached)`).toStrictEqual(want);
        expect(Object.keys(decodedFields(d, v))).toEqual(Object.keys(want));
        n++;
      }
      // values wider than the register: fields beyond 64 bits and above 2^64 take the bigint way
      const wide = (1n << 70n) | 0xdeadbeefcafef00dn;
      expect(decodedFields(d, wide), d.id).toStrictEqual(refDecodedFields(d, wide));
    }
    expect(n).toBeGreaterThan(5000);
  });

  it('returns a copy: a caller that changes it does not change the next answer', () => {
    const d = ARM_SMMU_V3_REGISTERS.find((r) => r.key === 'event0')!;
    const a = decodedFields(d, 0x0000eef300000010n);
    a.EventID = 'changed';
    expect(decodedFields(d, 0x0000eef300000010n).EventID).not.toBe('changed');
  });
});
