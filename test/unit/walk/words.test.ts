/**
 * The walkers' number helpers must compute exactly what the expressions they replace computed:
 * `a % 2 ** n` and `a - a % 2 ** n` (negative a included), `2 ** n`, and the reads of read64/read.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { alignDown, modPow2, pow2, readWordsLE } from '../../../src/core/walk/words';
import { SparseMemory } from '../../builder/sparse-memory';

const anyInt = fc.oneof(fc.integer(), fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }));

describe('pow2 / alignDown / modPow2', () => {
  it('pow2(n) is 2 ** n for 0 <= n < 128', () => {
    for (let n = 0; n < 128; n++) expect(pow2(n)).toBe(2 ** n);
  });

  it('equal the % expressions for any safe integer, negative ones too', () => {
    fc.assert(
      fc.property(anyInt, fc.integer({ min: 0, max: 60 }), (a, n) => {
        expect(modPow2(a, n) + 0).toBe((a % 2 ** n) + 0); // +0: -0 and 0 address the same
        expect(alignDown(a, n) + 0).toBe(a - (a % 2 ** n) + 0);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('readWordsLE without a readWords method (test builders)', () => {
  it('answers like read64 for two words and like read for more, holes included', () => {
    const m = new SparseMemory();
    m.write64(0x1000n, 0x1122334455667788n);
    m.write64(0x1ff8n, 0xdeadbeefcafef00dn);
    const two = new Uint32Array(2);
    expect(readWordsLE(m, 0x1000, two)).toBe(true);
    expect([...two]).toEqual([0x55667788, 0x11223344]);
    expect(readWordsLE(m, 0x1ffc, two)).toBe(false); // runs into the next, absent page
    const four = new Uint32Array(4);
    expect(readWordsLE(m, 0x1ff0, four)).toBe(true);
    expect([...four]).toEqual([0, 0, 0xcafef00d, 0xdeadbeef]);
    expect(readWordsLE(m, 0x1ff4, four)).toBe(false);
  });
});
