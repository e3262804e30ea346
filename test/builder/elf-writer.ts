/**
 * Writes physical memory as an ELF64 core laid out like QEMU `dump-guest-memory` (paging off):
 * ELF header, one PT_NOTE, one PT_LOAD per contiguous run of present pages keyed by physical
 * address (p_vaddr = p_paddr), the notes, then the memory. Used by the differential tests (walk
 * SparseMemory directly and through an ELF file: same answers) and by the benchmark, which
 * needs multi-GB segments whose untouched bytes are file holes.
 */
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import type { SparseMemory } from './sparse-memory';

export interface ElfSegment {
  paddr: bigint;
  memsz: bigint;
  /** bytes present in the file (default memsz); the rest of memsz reads as zero */
  filesz?: bigint;
  /** default = paddr (dump without paging) */
  vaddr?: bigint;
  /** bytes to store, at offsets relative to paddr; anything not written is zero (a hole on disk) */
  chunks: { offset: bigint; bytes: Uint8Array }[];
  /** write the segment as filtered out (p_offset = ~0, p_filesz = 0), as QEMU does for begin/length dumps */
  filteredOut?: boolean;
}

export interface ElfCoreOptions {
  /** e_machine: 62 x86-64 (default), 183 aarch64 */
  machine?: number;
  /** include a PT_NOTE with one "CORE" NT_PRSTATUS-sized note (default true) */
  note?: boolean;
  /** encode the segment count with PN_XNUM + section header 0, as QEMU does past 0xfffe segments */
  xnum?: boolean;
  /** align segment data in the file to this many bytes (default 4096) */
  dataAlign?: number;
}

export interface ElfCoreLayout {
  /** ELF header + program headers + section header (if xnum) + notes */
  header: Uint8Array;
  /** segment data to place in the file */
  writes: { fileOffset: number; bytes: Uint8Array }[];
  /** total file size */
  size: number;
}

const EHDR = 64;
const PHDR = 56;
const SHDR = 64;

/** One segment per run of consecutive present pages, each page's bytes as one chunk. */
export function segmentsFromSparse(mem: SparseMemory, opts: { zeroTail?: boolean } = {}): ElfSegment[] {
  const keys = [...mem.pages.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const segs: ElfSegment[] = [];
  for (const k of keys) {
    const last = segs[segs.length - 1];
    const bytes = mem.pages.get(k)!;
    if (last && last.paddr + last.memsz === k) {
      last.chunks.push({ offset: k - last.paddr, bytes });
      last.memsz += 4096n;
    } else {
      segs.push({ paddr: k, memsz: 4096n, chunks: [{ offset: 0n, bytes }] });
    }
  }
  if (opts.zeroTail) {
    // all-zero trailing pages become p_filesz < p_memsz, exercising the reader's zero fill
    for (const s of segs) {
      let filesz = s.memsz;
      for (let i = s.chunks.length - 1; i >= 0 && s.chunks[i]!.bytes.every((b) => b === 0); i--) filesz -= 4096n;
      s.filesz = filesz;
      s.chunks = s.chunks.filter((c) => c.offset < filesz);
    }
  }
  return segs;
}

export function elfCoreLayout(segments: ElfSegment[], opts: ElfCoreOptions = {}): ElfCoreLayout {
  const machine = opts.machine ?? 62;
  const withNote = opts.note ?? true;
  const align = opts.dataAlign ?? 4096;
  const nph = segments.length + (withNote ? 1 : 0);
  const xnum = opts.xnum ?? nph >= 0xffff;
  const phoff = EHDR;
  const shoff = xnum ? phoff + nph * PHDR : 0;
  const noteOff = phoff + nph * PHDR + (xnum ? SHDR : 0);
  // "CORE\0" padded to 8, NT_PRSTATUS desc of 336 bytes (x86-64 elf_prstatus size), zeros
  const noteName = 'CORE';
  const descsz = 336;
  const noteSize = withNote ? 12 + 8 + descsz : 0;
  let dataOff = Math.ceil((noteOff + noteSize) / align) * align;

  const header = new Uint8Array(noteOff + noteSize);
  const v = new DataView(header.buffer);
  header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  v.setUint16(16, 4, true); // ET_CORE
  v.setUint16(18, machine, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(32, BigInt(phoff), true);
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint16(52, EHDR, true);
  v.setUint16(54, PHDR, true);
  v.setUint16(56, xnum ? 0xffff : nph, true);
  v.setUint16(58, xnum ? SHDR : 0, true);
  v.setUint16(60, xnum ? 1 : 0, true);

  let ph = phoff;
  if (withNote) {
    v.setUint32(ph, 4, true); // PT_NOTE
    v.setBigUint64(ph + 8, BigInt(noteOff), true);
    v.setBigUint64(ph + 32, BigInt(noteSize), true);
    v.setBigUint64(ph + 40, BigInt(noteSize), true);
    v.setUint32(noteOff, noteName.length + 1, true);
    v.setUint32(noteOff + 4, descsz, true);
    v.setUint32(noteOff + 8, 1, true); // NT_PRSTATUS
    for (let i = 0; i < noteName.length; i++) header[noteOff + 12 + i] = noteName.charCodeAt(i);
    ph += PHDR;
  }
  const writes: { fileOffset: number; bytes: Uint8Array }[] = [];
  for (const s of segments) {
    const filesz = s.filteredOut ? 0n : (s.filesz ?? s.memsz);
    v.setUint32(ph, 1, true); // PT_LOAD
    v.setUint32(ph + 4, 7, true);
    v.setBigUint64(ph + 8, s.filteredOut ? 0xffff_ffff_ffff_ffffn : BigInt(dataOff), true);
    v.setBigUint64(ph + 16, s.vaddr ?? s.paddr, true);
    v.setBigUint64(ph + 24, s.paddr, true);
    v.setBigUint64(ph + 32, filesz, true);
    v.setBigUint64(ph + 40, s.memsz, true);
    v.setBigUint64(ph + 48, 0n, true);
    ph += PHDR;
    if (s.filteredOut) continue;
    for (const c of s.chunks) {
      if (c.offset + BigInt(c.bytes.length) > filesz) throw new Error(`chunk at +0x${c.offset.toString(16)} is beyond p_filesz`);
      writes.push({ fileOffset: dataOff + Number(c.offset), bytes: c.bytes });
    }
    dataOff += Number(filesz);
  }
  if (xnum) {
    // section header 0: sh_info holds the real program header count
    v.setUint32(shoff + 44, nph, true);
  }
  return { header, writes, size: dataOff };
}

/** The whole core in memory: for small test snapshots and ByteSource-based tests. */
export function buildElfCore(mem: SparseMemory | ElfSegment[], opts: ElfCoreOptions & { zeroTail?: boolean } = {}): Uint8Array {
  const segs = Array.isArray(mem) ? mem : segmentsFromSparse(mem, opts);
  const l = elfCoreLayout(segs, opts);
  const out = new Uint8Array(l.size);
  out.set(l.header, 0);
  for (const w of l.writes) out.set(w.bytes, w.fileOffset);
  return out;
}

/** Write a core file; bytes never written stay holes, so a 4 GiB segment costs only its chunks on disk. */
export function writeElfCore(path: string, mem: SparseMemory | ElfSegment[], opts: ElfCoreOptions & { zeroTail?: boolean } = {}): number {
  const segs = Array.isArray(mem) ? mem : segmentsFromSparse(mem, opts);
  const l = elfCoreLayout(segs, opts);
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, l.size);
    writeSync(fd, l.header, 0, l.header.length, 0);
    for (const w of l.writes) writeSync(fd, w.bytes, 0, w.bytes.length, w.fileOffset);
  } finally {
    closeSync(fd);
  }
  return l.size;
}
