/**
 * Physical memory for building test snapshots: sparse 4 KiB pages, little-endian writes, and a
 * bump allocator for table pages. Implements PhysicalMemory so walkers can run on it directly;
 * the snapshot writer serialises it as an ELF core or raw files.
 */
import type { PhysicalMemory } from '../../src/core/snapshot/memory';

const PAGE = 4096n;

export class SparseMemory implements PhysicalMemory {
  readonly pages = new Map<bigint, Uint8Array>();
  private next: bigint;

  /** `allocBase`: where alloc() starts handing out table memory */
  constructor(allocBase = 0x4000_0000n) {
    this.next = allocBase;
  }

  /** Allocate `size` bytes aligned to `align` (both powers of two), zero-filled and present. */
  alloc(size: number | bigint, align: number | bigint = 4096): bigint {
    const a = BigInt(align);
    const s = BigInt(size);
    this.next = (this.next + a - 1n) & ~(a - 1n);
    const addr = this.next;
    this.next += s;
    for (let p = addr & ~(PAGE - 1n); p < addr + s; p += PAGE) this.page(p);
    return addr;
  }

  private page(addr: bigint): Uint8Array {
    const base = addr & ~(PAGE - 1n);
    let p = this.pages.get(base);
    if (!p) { p = new Uint8Array(4096); this.pages.set(base, p); }
    return p;
  }

  writeBytes(addr: bigint, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const a = addr + BigInt(i);
      this.page(a)[Number(a & (PAGE - 1n))] = bytes[i]!;
    }
  }

  write64(addr: bigint, v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
    this.writeBytes(addr, b);
  }

  write32(addr: bigint, v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    this.writeBytes(addr, b);
  }

  read(addr: bigint, len: number): Uint8Array | undefined {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const a = addr + BigInt(i);
      const p = this.pages.get(a & ~(PAGE - 1n));
      if (!p) return undefined;
      out[i] = p[Number(a & (PAGE - 1n))]!;
    }
    return out;
  }

  read64(addr: bigint): bigint | undefined {
    const b = this.read(addr, 8);
    return b && new DataView(b.buffer).getBigUint64(0, true);
  }

  read32(addr: bigint): number | undefined {
    const b = this.read(addr, 4);
    return b && new DataView(b.buffer).getUint32(0, true);
  }

  ranges(): { start: bigint; end: bigint; source: string }[] {
    const keys = [...this.pages.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const out: { start: bigint; end: bigint; source: string }[] = [];
    for (const k of keys) {
      const last = out[out.length - 1];
      if (last && last.end === k) last.end = k + PAGE;
      else out.push({ start: k, end: k + PAGE, source: 'builder' });
    }
    return out;
  }
}
