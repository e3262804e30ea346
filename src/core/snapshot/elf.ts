/**
 * ELF core files (QEMU `dump-guest-memory` ELF output, Linux kdump /proc/vmcore, makedumpfile -E)
 * read as physical memory: PT_LOAD segments keyed by p_paddr. Only the headers are read here; the
 * bytes stay in the file and are fetched lazily by PhysicalMemory.
 * Reference: pagetable-formats.md 8.3.
 */
import type { ByteSource } from './memory';
import { SnapshotError } from './errors';

/** A run of physical memory backed by a byte range of a source. */
export interface MemoryExtent {
  /** physical start (inclusive) and end (exclusive) */
  start: bigint;
  end: bigint;
  /** where the bytes for `start` are in the source */
  fileOffset: number;
  /** bytes present in the source from `start`; beyond that up to `end` reads as zero (p_filesz < p_memsz) */
  fileLength: number;
  /** bytes of the extent whose file data is missing because the file is truncated: absent, not zero */
  truncatedFrom?: number;
  source: ByteSource;
  /** for `snapshot info`: "guest.core PT_LOAD #3" */
  label: string;
}

export interface ElfCore {
  class: 32 | 64;
  littleEndian: boolean;
  machine: number;
  /** PT_LOAD segments usable as physical memory, in file order */
  extents: MemoryExtent[];
  /** notes found (name/type only: the walker needs none, `snapshot info` lists them) */
  notes: { name: string; type: number }[];
  /** non-fatal problems: truncated segment data, segments without a physical address */
  warnings: string[];
}

const PT_LOAD = 1;
const PT_NOTE = 4;
const ET_CORE = 4;
const PN_XNUM = 0xffff;
const MAX_SEGMENTS = 1 << 20;
const MAX_NOTES_BYTES = 16 << 20;
const NO_OFFSET = 0xffff_ffff_ffff_ffffn;

export const ELF_MACHINES: Record<number, string> = { 3: 'x86', 8: 'mips', 20: 'ppc', 21: 'ppc64', 40: 'arm', 62: 'x86-64', 183: 'aarch64', 243: 'riscv', 22: 's390' };

function readExact(src: ByteSource, offset: number, length: number, what: string): DataView {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new SnapshotError(src.name, `offset 0x${offset.toString(16)}`, `${what}: offset out of range`);
  }
  const buf = new Uint8Array(length);
  const n = offset + length <= src.size ? src.read(buf, offset, length) : -1;
  if (n !== length) {
    throw new SnapshotError(
      src.name,
      `offset 0x${offset.toString(16)}`,
      `${what} truncated: needs ${length} bytes at 0x${offset.toString(16)}, the file has ${src.size} bytes`,
    );
  }
  return new DataView(buf.buffer);
}

/** Identify non-ELF dump formats so the user learns what they have rather than "bad magic". */
function otherDumpFormat(head: Uint8Array): string | undefined {
  const text = String.fromCharCode(...head.subarray(0, 16));
  if (text.startsWith('makedumpfile')) return 'makedumpfile flattened format (convert with `makedumpfile -R` then `makedumpfile -E`, or dump with `dump-guest-memory` format elf)';
  if (text.startsWith('KDUMP   ')) return 'kdump-compressed (diskdump) format (convert with `makedumpfile -E` to ELF)';
  if (text.startsWith('PAGEDU64') || text.startsWith('PAGEDUMP')) return 'Windows crash dump format';
  return undefined;
}

export function isElf(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

export function parseElfCore(src: ByteSource): ElfCore {
  const name = src.name;
  if (src.size < 16) throw new SnapshotError(name, 'offset 0x0', `not an ELF core: the file has only ${src.size} bytes`);
  const ident = new Uint8Array(readExact(src, 0, 16, 'ELF identification').buffer);
  if (!isElf(ident)) {
    const other = otherDumpFormat(ident);
    throw new SnapshotError(name, 'offset 0x0', other ? `unsupported dump: ${other}` : 'not an ELF file (no \\x7fELF magic)');
  }
  const cls = ident[4];
  if (cls !== 1 && cls !== 2) throw new SnapshotError(name, 'offset 0x4 (EI_CLASS)', `expected 1 (32-bit) or 2 (64-bit), got ${cls}`);
  const data = ident[5];
  if (data !== 1 && data !== 2) throw new SnapshotError(name, 'offset 0x5 (EI_DATA)', `expected 1 (little-endian) or 2 (big-endian), got ${data}`);
  const is64 = cls === 2;
  const le = data === 1;
  const ehsize = is64 ? 64 : 52;
  const eh = readExact(src, 0, ehsize, 'ELF header');
  const eType = eh.getUint16(16, le);
  if (eType !== ET_CORE) {
    throw new SnapshotError(name, 'offset 0x10 (e_type)', `expected ET_CORE (4), got ${eType}${eType === 2 ? ' (an executable, not a memory dump)' : ''}`);
  }
  const machine = eh.getUint16(18, le);
  const phoff = is64 ? eh.getBigUint64(32, le) : BigInt(eh.getUint32(28, le));
  const shoff = is64 ? eh.getBigUint64(40, le) : BigInt(eh.getUint32(32, le));
  const phentsize = eh.getUint16(is64 ? 54 : 42, le);
  let phnum = eh.getUint16(is64 ? 56 : 44, le);
  const wantPhent = is64 ? 56 : 32;
  if (phentsize !== wantPhent) {
    throw new SnapshotError(name, `offset 0x${(is64 ? 54 : 42).toString(16)} (e_phentsize)`, `expected ${wantPhent}, got ${phentsize}`);
  }
  if (phnum === PN_XNUM) {
    // More than 0xfffe segments: the real count is in section header 0's sh_info (QEMU prepare_elf_section_hdr_zero).
    if (shoff === 0n) throw new SnapshotError(name, 'e_phnum', 'is PN_XNUM (0xffff) but there is no section header 0 holding the real count');
    const sh = readExact(src, Number(shoff), is64 ? 64 : 40, 'section header 0 (segment count for PN_XNUM)');
    phnum = sh.getUint32(is64 ? 44 : 28, le);
  }
  if (phnum > MAX_SEGMENTS) throw new SnapshotError(name, 'e_phnum', `${phnum} program headers is more than this reader accepts (${MAX_SEGMENTS})`);
  if (phoff > BigInt(Number.MAX_SAFE_INTEGER)) throw new SnapshotError(name, `offset 0x${(is64 ? 32 : 28).toString(16)} (e_phoff)`, `0x${phoff.toString(16)} is beyond any file`);
  const ph = readExact(src, Number(phoff), phnum * phentsize, `program header table (${phnum} entries at e_phoff 0x${phoff.toString(16)})`);

  const extents: MemoryExtent[] = [];
  const notes: { name: string; type: number }[] = [];
  const warnings: string[] = [];
  const loads: { i: number; paddr: bigint; vaddr: bigint; offset: bigint; filesz: bigint; memsz: bigint }[] = [];
  for (let i = 0; i < phnum; i++) {
    const b = i * phentsize;
    const type = ph.getUint32(b, le);
    const offset = is64 ? ph.getBigUint64(b + 8, le) : BigInt(ph.getUint32(b + 4, le));
    const vaddr = is64 ? ph.getBigUint64(b + 16, le) : BigInt(ph.getUint32(b + 8, le));
    const paddr = is64 ? ph.getBigUint64(b + 24, le) : BigInt(ph.getUint32(b + 12, le));
    const filesz = is64 ? ph.getBigUint64(b + 32, le) : BigInt(ph.getUint32(b + 16, le));
    const memsz = is64 ? ph.getBigUint64(b + 40, le) : BigInt(ph.getUint32(b + 20, le));
    if (type === PT_NOTE) {
      readNotes(src, offset, filesz, le, notes, warnings, i);
    } else if (type === PT_LOAD) {
      loads.push({ i, paddr, vaddr, offset, filesz, memsz });
    }
  }

  // Old vmcores and paging=true dumps can carry segments with p_paddr = 0 that are really virtual-only
  // (vmalloc, modules). A single segment at physical 0 is normal RAM; several claiming 0 cannot all be.
  const atZero = loads.filter((l) => l.paddr === 0n).length;
  for (const l of loads) {
    const label = `${name} PT_LOAD #${l.i}`;
    if (l.memsz === 0n) continue;
    if (l.filesz === 0n || l.offset === NO_OFFSET) continue; // range filtered out of the dump (begin/length)
    if (l.paddr === 0n && atZero > 1 && l.vaddr !== 0n) {
      warnings.push(`${label}: p_paddr is 0 for a segment at virtual 0x${l.vaddr.toString(16)} while other segments also claim physical 0; ignored (no physical address)`);
      continue;
    }
    if (l.filesz > l.memsz) {
      throw new SnapshotError(name, `program header #${l.i} (PT_LOAD)`, `p_filesz 0x${l.filesz.toString(16)} is larger than p_memsz 0x${l.memsz.toString(16)}`);
    }
    const end = l.paddr + l.memsz;
    if (end > 1n << 64n) {
      throw new SnapshotError(name, `program header #${l.i} (PT_LOAD)`, `p_paddr 0x${l.paddr.toString(16)} + p_memsz 0x${l.memsz.toString(16)} wraps past 2^64`);
    }
    if (l.offset > BigInt(Number.MAX_SAFE_INTEGER) || l.filesz > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new SnapshotError(name, `program header #${l.i} (PT_LOAD)`, `p_offset 0x${l.offset.toString(16)} / p_filesz 0x${l.filesz.toString(16)} out of range`);
    }
    const offset = Number(l.offset);
    const filesz = Number(l.filesz);
    const ext: MemoryExtent = { start: l.paddr, end, fileOffset: offset, fileLength: filesz, source: src, label };
    if (offset + filesz > src.size) {
      const have = Math.max(0, src.size - offset);
      ext.truncatedFrom = have;
      warnings.push(
        `${label}: segment data [0x${offset.toString(16)}, 0x${(offset + filesz).toString(16)}) runs past the end of the file (${src.size} bytes): ` +
          `physical 0x${(l.paddr + BigInt(have)).toString(16)}..0x${(l.paddr + l.filesz).toString(16)} is missing (truncated core?)`,
      );
    }
    extents.push(ext);
  }
  return { class: is64 ? 64 : 32, littleEndian: le, machine, extents, notes, warnings };
}

function readNotes(
  src: ByteSource,
  offset: bigint,
  size: bigint,
  le: boolean,
  notes: { name: string; type: number }[],
  warnings: string[],
  index: number,
): void {
  if (size === 0n) return;
  if (size > BigInt(MAX_NOTES_BYTES) || offset + size > BigInt(src.size)) {
    warnings.push(`${src.name}: PT_NOTE #${index} at 0x${offset.toString(16)} (0x${size.toString(16)} bytes) is beyond the file or too large; notes ignored`);
    return;
  }
  const n = Number(size);
  const v = readExact(src, Number(offset), n, `PT_NOTE #${index}`);
  let p = 0;
  while (p + 12 <= n) {
    const namesz = v.getUint32(p, le);
    const descsz = v.getUint32(p + 4, le);
    const type = v.getUint32(p + 8, le);
    const nameStart = p + 12;
    const descStart = nameStart + ((namesz + 3) & ~3);
    const next = descStart + ((descsz + 3) & ~3);
    if (namesz > n || descsz > n || next > n || next <= p) {
      warnings.push(`${src.name}: note at 0x${(Number(offset) + p).toString(16)} has sizes beyond its PT_NOTE (namesz ${namesz}, descsz ${descsz}); rest of the notes ignored`);
      return;
    }
    let nm = '';
    for (let k = 0; k < namesz; k++) {
      const c = v.getUint8(nameStart + k);
      if (c === 0) break;
      nm += String.fromCharCode(c);
    }
    notes.push({ name: nm, type });
    p = next;
  }
}
