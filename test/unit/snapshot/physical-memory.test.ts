/**
 * SnapshotMemory.readWords (the walkers' BigInt-free read) must answer exactly like read64/read,
 * including partial pages, page-crossing and unaligned reads, holes and front-cache collisions.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SparseMemory } from '../../builder/sparse-memory';
import { buildElfCore } from '../../builder/elf-writer';
import { parseElfCore } from '../../../src/core/snapshot/elf';
import { BytesSource } from '../../../src/core/snapshot/bytes-source';
import { SnapshotMemory } from '../../../src/core/snapshot/physical-memory';
import { hex64 } from '../../../src/core/walk/arm-lpae';

function memOf(m: SparseMemory, cachePages?: number): SnapshotMemory {
  const core = parseElfCore(new BytesSource(buildElfCore(m), 't.core'));
  return new SnapshotMemory([core.extents], cachePages === undefined ? {} : { cachePages });
}

function halves(mem: SnapshotMemory, addr: number): bigint | undefined {
  const out = new Uint32Array(2);
  return mem.readWords(addr, out) ? (BigInt(out[1]!) << 32n) | BigInt(out[0]!) : undefined;
}

/** the bytes of n words read with readWords, or undefined */
function wordBytes(mem: SnapshotMemory, addr: number, n: number): Uint8Array | undefined {
  const out = new Uint32Array(n);
  if (!mem.readWords(addr, out)) return undefined;
  const b = new Uint8Array(4 * n);
  const dv = new DataView(b.buffer);
  out.forEach((w, i) => dv.setUint32(4 * i, w, true));
  return b;
}

describe('SnapshotMemory.readWords', () => {
  it('splits the little-endian word: low half first', () => {
    const m = new SparseMemory();
    m.write64(0x1000n, 0x1122334455667788n);
    const mem = memOf(m);
    const out = new Uint32Array(2);
    expect(mem.readWords(0x1000, out)).toBe(true);
    expect(out[0]).toBe(0x55667788);
    expect(out[1]).toBe(0x11223344);
    expect(mem.readWords(0x1001, out)).toBe(true);
    expect(out[0]).toBe(0x44556677);
    expect(out[1]).toBe(0x00112233);
  });

  it('is false outside memory, for negative, fractional and huge addresses', () => {
    const m = new SparseMemory();
    m.write64(0x2ff8n, 0xdeadbeefcafef00dn);
    const mem = memOf(m);
    const out = new Uint32Array(2);
    expect(mem.readWords(0x2ffc, out)).toBe(false); // 4 bytes in, 4 bytes out
    expect(mem.readWords(0x3000, out)).toBe(false);
    expect(mem.readWords(-8, out)).toBe(false);
    expect(mem.readWords(0x2ff8 + 0.5, out)).toBe(false);
    expect(mem.readWords(0x2f00 + 0.5, out)).toBe(false);
    expect(mem.readWords(Number.NaN, out)).toBe(false);
    expect(mem.readWords(2 ** 60, out)).toBe(false);
    expect(halves(mem, 0x2ff8)).toBe(0xdeadbeefcafef00dn);
  });

  it('equals read64 at any address around two segments with a hole and a page-crossing word', () => {
    const m = new SparseMemory();
    m.alloc(3 * 4096, 4096);
    m.write64(0x4000_0ffcn, 0x0102030405060708n);
    for (let i = 0n; i < 64n; i++) m.write64(0x4000_2000n + i * 8n, 0x8000_0000_0000_0001n * (i + 1n));
    m.write64(0x9000_0000n, 0xffff_ffff_ffff_ffffn);
    const mem = memOf(m, 8);
    const bases = [0x4000_0000, 0x4000_0ff0, 0x4000_1ff8, 0x4000_2000, 0x4000_2ff0, 0x8fff_fff8, 0x9000_0000, 0x9000_0ff8];
    fc.assert(
      fc.property(fc.constantFrom(...bases), fc.integer({ min: 0, max: 24 }), (base, d) => {
        const a = base + d;
        expect(halves(mem, a)).toBe(mem.read64(BigInt(a)));
        expect(wordBytes(mem, a, 16)).toEqual(mem.read(BigInt(a), 64));
        expect(wordBytes(mem, a, 1)).toEqual(mem.read(BigInt(a), 4));
      }),
      { numRuns: 600 },
    );
  });

  it('answers the right page when page numbers collide in the direct-mapped front cache', () => {
    const m = new SparseMemory();
    const base = 0x40_0000n;
    const strides = [64n, 1024n, 4096n];
    const addrs = strides.map((s, i) => base + s * 4096n + BigInt(i * 8));
    addrs.forEach((a, i) => m.write64(a, BigInt(i + 1) * 0x1111n));
    m.write64(base, 0xba5en);
    const mem = memOf(m, 8);
    for (let round = 0; round < 20; round++) {
      expect(halves(mem, Number(base))).toBe(0xba5en);
      addrs.forEach((a, i) => expect(halves(mem, Number(a))).toBe(BigInt(i + 1) * 0x1111n));
    }
  });
});

describe('hex64', () => {
  it('equals toString(16) of the 64-bit value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 0, max: 64 }), (v, bits) => {
        const x = BigInt.asUintN(bits, v);
        expect(hex64(Number(x & 0xffffffffn), Number(x >> 32n))).toBe('0x' + x.toString(16));
      }),
      { numRuns: 2000 },
    );
  });
});
