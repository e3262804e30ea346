import { describe, expect, it } from 'vitest';
import { SparseMemory } from '../../builder/sparse-memory';
import { buildElfCore, type ElfSegment } from '../../builder/elf-writer';
import { parseElfCore } from '../../../src/core/snapshot/elf';
import { BytesSource } from '../../../src/core/snapshot/bytes-source';
import { SnapshotMemory } from '../../../src/core/snapshot/physical-memory';
import { SnapshotError } from '../../../src/core/snapshot/errors';

function sample(): SparseMemory {
  const m = new SparseMemory();
  m.write64(0x1000n, 0x1122334455667788n);
  m.write64(0x2ff8n, 0xdeadbeefcafef00dn);
  m.write32(0x8000_0010n, 0xabcdef01);
  return m;
}

function memOf(bytes: Uint8Array, name = 'test.core'): SnapshotMemory {
  const core = parseElfCore(new BytesSource(bytes, name));
  return new SnapshotMemory([core.extents]);
}

function expectSnapshotError(f: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SnapshotError);
  expect((err as Error).message).toMatch(re);
}

describe('ELF core reader', () => {
  it('reads PT_LOAD segments by physical address, one per contiguous run', () => {
    const bytes = buildElfCore(sample());
    const core = parseElfCore(new BytesSource(bytes, 'test.core'));
    expect(core.class).toBe(64);
    expect(core.machine).toBe(62);
    expect(core.notes).toEqual([{ name: 'CORE', type: 1 }]);
    expect(core.extents.map((e) => [e.start, e.end])).toEqual([
      [0x1000n, 0x3000n],
      [0x8000_0000n, 0x8000_1000n],
    ]);
    const mem = memOf(bytes);
    expect(mem.read64(0x1000n)).toBe(0x1122334455667788n);
    expect(mem.read64(0x2ff8n)).toBe(0xdeadbeefcafef00dn);
    expect(mem.read32(0x8000_0010n)).toBe(0xabcdef01);
    expect(mem.read32(0x1004n)).toBe(0x11223344);
    // unaligned inside a page: little-endian bytes 0x77..0x11 shifted by one
    expect(mem.read64(0x1001n)).toBe(0x0011223344556677n);
    expect(mem.read32(0x1002n)).toBe(0x33445566);
    expect(mem.read64(-8n)).toBeUndefined();
    expect(mem.read32(1n << 60n)).toBeUndefined();
  });

  it('reads outside every segment as undefined, including reads straddling the edge', () => {
    const mem = memOf(buildElfCore(sample()));
    expect(mem.read64(0x0n)).toBeUndefined();
    expect(mem.read64(0x3000n)).toBeUndefined();
    expect(mem.read64(0x2ffcn)).toBeUndefined(); // 4 bytes in, 4 bytes out
    expect(mem.read(0x2ff8n, 8)).toEqual(new Uint8Array([0x0d, 0xf0, 0xfe, 0xca, 0xef, 0xbe, 0xad, 0xde]));
    expect(mem.read64(0xffff_ffff_ffff_fff8n)).toBeUndefined();
  });

  it('reads across a page boundary inside a segment', () => {
    const m = new SparseMemory();
    m.alloc(8192, 4096);
    m.write64(0x4000_0ffcn, 0x0102030405060708n);
    const mem = memOf(buildElfCore(m));
    expect(mem.read64(0x4000_0ffcn)).toBe(0x0102030405060708n);
  });

  it('zero-fills p_filesz < p_memsz', () => {
    const m = new SparseMemory();
    m.alloc(4 * 4096, 4096);
    m.write64(0x4000_0000n, 5n);
    const bytes = buildElfCore(m, { zeroTail: true });
    const core = parseElfCore(new BytesSource(bytes, 't'));
    expect(core.extents[0]!.fileLength).toBe(4096);
    expect(core.extents[0]!.end).toBe(0x4000_4000n);
    const mem = new SnapshotMemory([core.extents]);
    expect(mem.read64(0x4000_0000n)).toBe(5n);
    expect(mem.read64(0x4000_3ff8n)).toBe(0n);
    expect(mem.ranges().map((r) => [r.start, r.end])).toEqual([
      [0x4000_0000n, 0x4000_1000n],
      [0x4000_1000n, 0x4000_4000n],
    ]);
  });

  it('skips filtered-out segments (p_offset = ~0, p_filesz = 0)', () => {
    const segs: ElfSegment[] = [
      { paddr: 0x1000n, memsz: 0x1000n, chunks: [{ offset: 0n, bytes: new Uint8Array(4096).fill(7) }] },
      { paddr: 0x10000n, memsz: 0x1000n, chunks: [], filteredOut: true },
    ];
    const core = parseElfCore(new BytesSource(buildElfCore(segs), 't'));
    expect(core.extents).toHaveLength(1);
    const mem = new SnapshotMemory([core.extents]);
    expect(mem.read32(0x1000n)).toBe(0x07070707);
    expect(mem.read32(0x10000n)).toBeUndefined();
  });

  it('reads the real segment count from section header 0 when e_phnum is PN_XNUM', () => {
    const core = parseElfCore(new BytesSource(buildElfCore(sample(), { xnum: true }), 't'));
    expect(core.extents).toHaveLength(2);
    expect(core.extents[1]!.start).toBe(0x8000_0000n);
  });

  it('first segment wins where segments overlap (vmcore kernel-text duplicate)', () => {
    const a = new Uint8Array(4096).fill(0xaa);
    const b = new Uint8Array(8192).fill(0xbb);
    const segs: ElfSegment[] = [
      { paddr: 0x2000n, memsz: 0x1000n, vaddr: 0xffffffff81000000n, chunks: [{ offset: 0n, bytes: a }] },
      { paddr: 0x1000n, memsz: 0x2000n, vaddr: 0xffff888000001000n, chunks: [{ offset: 0n, bytes: b }] },
    ];
    const mem = new SnapshotMemory([parseElfCore(new BytesSource(buildElfCore(segs), 't')).extents]);
    expect(mem.read32(0x1ffcn)).toBe(0xbbbbbbbb);
    expect(mem.read32(0x2000n)).toBe(0xaaaaaaaa);
    expect(mem.read(0x1ffcn, 8)).toEqual(new Uint8Array([0xbb, 0xbb, 0xbb, 0xbb, 0xaa, 0xaa, 0xaa, 0xaa]));
  });

  it('a truncated core keeps the bytes it has and reports the missing range', () => {
    const bytes = buildElfCore(sample());
    const cut = bytes.subarray(0, bytes.length - 4096 - 2048);
    const core = parseElfCore(new BytesSource(cut, 'cut.core'));
    expect(core.warnings.join('\n')).toMatch(/cut\.core PT_LOAD #\d+: segment data .* runs past the end of the file/);
    const mem = new SnapshotMemory([core.extents]);
    expect(mem.read64(0x1000n)).toBe(0x1122334455667788n);
    expect(mem.read32(0x8000_0010n)).toBeUndefined();
  });

  it('names the file and offset for truncated or corrupt headers', () => {
    const bytes = buildElfCore(sample());
    expectSnapshotError(() => parseElfCore(new BytesSource(bytes.subarray(0, 40), 'a.core')), /^a\.core: offset 0x0: ELF header truncated: needs 64 bytes/);
    expectSnapshotError(() => parseElfCore(new BytesSource(bytes.subarray(0, 100), 'b.core')), /^b\.core: offset 0x40: program header table \(3 entries at e_phoff 0x40\) truncated/);
    const bad = bytes.slice();
    bad[0] = 0;
    expectSnapshotError(() => parseElfCore(new BytesSource(bad, 'c.core')), /^c\.core: offset 0x0: not an ELF file/);
    const exe = bytes.slice();
    exe[16] = 2;
    expectSnapshotError(() => parseElfCore(new BytesSource(exe, 'd.core')), /^d\.core: offset 0x10 \(e_type\): expected ET_CORE \(4\), got 2/);
    const cls = bytes.slice();
    cls[4] = 9;
    expectSnapshotError(() => parseElfCore(new BytesSource(cls, 'e.core')), /EI_CLASS\): expected 1 \(32-bit\) or 2 \(64-bit\), got 9/);
    const phent = bytes.slice();
    phent[54] = 40;
    expectSnapshotError(() => parseElfCore(new BytesSource(phent, 'f.core')), /e_phentsize\): expected 56, got 40/);
    const kd = new TextEncoder().encode('KDUMP   ' + '\0'.repeat(64));
    expectSnapshotError(() => parseElfCore(new BytesSource(kd, 'g.core')), /unsupported dump: kdump-compressed/);
  });

  it('rejects p_filesz > p_memsz with the header index', () => {
    const bytes = buildElfCore(sample());
    const v = new DataView(bytes.buffer);
    // program header 1 = first PT_LOAD (0 is the PT_NOTE): p_memsz at +40
    v.setBigUint64(64 + 56 + 40, 0x10n, true);
    expectSnapshotError(() => parseElfCore(new BytesSource(bytes, 'h.core')), /^h\.core: program header #1 \(PT_LOAD\): p_filesz 0x2000 is larger than p_memsz 0x10/);
  });

  it('first source listed wins over later ones', () => {
    const a = new SparseMemory();
    a.write64(0x1000n, 1n);
    const b = new SparseMemory();
    b.write64(0x1000n, 2n);
    b.write64(0x5000n, 3n);
    const ea = parseElfCore(new BytesSource(buildElfCore(a), 'a')).extents;
    const eb = parseElfCore(new BytesSource(buildElfCore(b), 'b')).extents;
    const mem = new SnapshotMemory([ea, eb]);
    expect(mem.read64(0x1000n)).toBe(1n);
    expect(mem.read64(0x5000n)).toBe(3n);
    expect(new SnapshotMemory([eb, ea]).read64(0x1000n)).toBe(2n);
  });

  it('keeps the cache bounded and still answers after eviction', () => {
    const m = new SparseMemory();
    for (let i = 0n; i < 64n; i++) m.write64(0x10_0000n + i * 4096n, i);
    const mem = new SnapshotMemory([parseElfCore(new BytesSource(buildElfCore(m), 't')).extents], { cachePages: 8 });
    for (let round = 0; round < 3; round++) for (let i = 0n; i < 64n; i++) expect(mem.read64(0x10_0000n + i * 4096n)).toBe(i);
    expect(mem.pageLoads).toBeGreaterThanOrEqual(64 * 3);
  });

  it('page-number collisions in the direct-mapped front cache return the right page', () => {
    const m = new SparseMemory();
    // pages 64 apart share a front-cache slot
    const a = 0x40_0000n;
    const b = a + 64n * 4096n;
    const c = a + 128n * 4096n;
    m.write64(a + 8n, 0xaaaan);
    m.write64(b + 8n, 0xbbbbn);
    m.write64(c + 8n, 0xccccn);
    const mem = new SnapshotMemory([parseElfCore(new BytesSource(buildElfCore(m), 't')).extents], { cachePages: 8 });
    for (let i = 0; i < 50; i++) {
      expect(mem.read64(a + 8n)).toBe(0xaaaan);
      expect(mem.read64(b + 8n)).toBe(0xbbbbn);
      expect(mem.read32(c + 8n)).toBe(0xcccc);
      expect(mem.read64(a + 64n * 4096n * 3n)).toBeUndefined();
    }
  });

  it('reads ELF32 and big-endian ELF64 headers', () => {
    // ELF32 little-endian, one PT_LOAD: 16 bytes in the file, 32 in memory
    const e32 = new Uint8Array(0x110);
    const v = new DataView(e32.buffer);
    e32.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0);
    v.setUint16(16, 4, true);
    v.setUint16(18, 40, true);
    v.setUint32(28, 52, true);
    v.setUint16(42, 32, true);
    v.setUint16(44, 1, true);
    v.setUint32(52, 1, true);
    v.setUint32(56, 0x100, true);
    v.setUint32(60, 0x2000, true);
    v.setUint32(64, 0x2000, true);
    v.setUint32(68, 0x10, true);
    v.setUint32(72, 0x20, true);
    v.setUint32(0x100, 0x11223344, true);
    const c32 = parseElfCore(new BytesSource(e32, 'arm32.core'));
    expect([c32.class, c32.machine, c32.extents[0]!.start, c32.extents[0]!.end]).toEqual([32, 40, 0x2000n, 0x2020n]);
    const m32 = new SnapshotMemory([c32.extents]);
    expect(m32.read32(0x2000n)).toBe(0x11223344);
    expect(m32.read64(0x2018n)).toBe(0n);
    expect(m32.read64(0x201cn)).toBeUndefined();

    // ELF64 big-endian header; memory words are still read little-endian (walkers decide table endianness)
    const e64 = new Uint8Array(0x1000 + 8);
    const w = new DataView(e64.buffer);
    e64.set([0x7f, 0x45, 0x4c, 0x46, 2, 2, 1], 0);
    w.setUint16(16, 4);
    w.setUint16(18, 21);
    w.setBigUint64(32, 64n);
    w.setUint16(54, 56);
    w.setUint16(56, 1);
    w.setUint32(64, 1);
    w.setBigUint64(72, 0x1000n);
    w.setBigUint64(88, 0x8000n);
    w.setBigUint64(96, 8n);
    w.setBigUint64(104, 8n);
    w.setBigUint64(0x1000, 0x0102030405060708n, true);
    const c64 = parseElfCore(new BytesSource(e64, 'ppc.core'));
    expect([c64.class, c64.littleEndian, c64.machine]).toEqual([64, false, 21]);
    expect(new SnapshotMemory([c64.extents]).read64(0x8000n)).toBe(0x0102030405060708n);
  });

  it('ignores segments claiming physical 0 when several do (virtual-only vmcore segments)', () => {
    const page = (b: number) => new Uint8Array(4096).fill(b);
    const segs: ElfSegment[] = [
      { paddr: 0n, memsz: 0x1000n, vaddr: 0xffff_8000_0000_0000n, chunks: [{ offset: 0n, bytes: page(1) }] },
      { paddr: 0n, memsz: 0x1000n, vaddr: 0xffff_ffff_c000_0000n, chunks: [{ offset: 0n, bytes: page(2) }] },
      { paddr: 0x10000n, memsz: 0x1000n, chunks: [{ offset: 0n, bytes: page(3) }] },
    ];
    const core = parseElfCore(new BytesSource(buildElfCore(segs), 'vmcore'));
    expect(core.extents.map((e) => e.start)).toEqual([0x10000n]);
    expect(core.warnings).toHaveLength(2);
    expect(core.warnings[0]).toMatch(/^vmcore PT_LOAD #1: p_paddr is 0 for a segment at virtual 0xffff800000000000/);
  });
});
