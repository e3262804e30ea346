/**
 * Builds Intel VT-d and AMD-Vi translation structures into a SparseMemory from a list of mappings,
 * written from the formats in reference/pagetable-formats.md sections 4 and 5 (not from the walkers):
 * VT-d root/context tables (legacy and scalable), PASID directories and tables, second-stage and
 * first-stage (IA-32e) tables of 3/4/5 levels with 2 MiB / 1 GiB pages; AMD-Vi device tables and
 * v1 tables for Mode 1-6 with level skipping and NextLevel=7 large pages.
 */
import { SparseMemory } from './sparse-memory';

export interface X86Mapping {
  iova: bigint;
  pa: bigint;
  /** bytes: VT-d 4 KiB, 2 MiB or 1 GiB; AMD-Vi any power of two from 4 KiB */
  size: bigint;
  read: boolean;
  write: boolean;
  exec?: boolean;
  /** first stage U/S (default true: device requests are user requests) */
  user?: boolean;
}

/** A radix-tree node before it is written: entries are either a child table or a final leaf value */
interface Node {
  level: number;
  entries: Map<number, { child: Node } | { leaf: bigint }>;
  addr?: bigint;
}

const shiftOf = (level: number) => 12 + 9 * (level - 1);

function indexAt(iova: bigint, level: number): number {
  // AMD level 6 indexes IOVA[63:57] (7 bits); every other level 9 bits
  return Number((iova >> BigInt(shiftOf(level))) & (level === 6 ? 0x7fn : 0x1ffn));
}

function newNode(level: number): Node {
  return { level, entries: new Map() };
}

/** the node at `level` on the path of `iova`, creating tables on the way */
function descend(root: Node, iova: bigint, level: number): Node {
  let n = root;
  while (n.level > level) {
    const i = indexAt(iova, n.level);
    let e = n.entries.get(i);
    if (!e) { e = { child: newNode(n.level - 1) }; n.entries.set(i, e); }
    if (!('child' in e)) throw new Error(`mapping at 0x${iova.toString(16)} overlaps a leaf at level ${n.level}`);
    n = e.child;
  }
  return n;
}

function leafLevelX86(size: bigint): number {
  if (size === 0x1000n) return 1;
  if (size === 0x200000n) return 2;
  if (size === 0x40000000n) return 3;
  throw new Error(`x86 page size 0x${size.toString(16)} not supported`);
}

/** Allocate and write every node; `pointer(node)` gives the value stored for a table entry. */
function writeTree(mem: SparseMemory, root: Node, tableEntry: (child: Node, parent: Node) => bigint, toTablePointer: (hpa: bigint) => bigint = (a) => a): bigint {
  const alloc = (n: Node) => {
    n.addr = mem.alloc(4096, 4096);
    for (const e of n.entries.values()) if ('child' in e) alloc(e.child);
  };
  alloc(root);
  const write = (n: Node) => {
    for (const [i, e] of n.entries) {
      const v = 'child' in e ? tableEntry(e.child, n) | toTablePointer(e.child.addr!) : e.leaf;
      mem.write64(n.addr! + BigInt(8 * i), v);
      if ('child' in e) write(e.child);
    }
  };
  write(root);
  return root.addr!;
}

// ---------------------------------------------------------------------------------------------
// VT-d second stage (VT-d 9.8): R bit 0, W bit 1, X bit 2, PS bit 7, SNP bit 11, address 51:12

export interface SlOptions { snp?: boolean }

export function buildSecondStage(mem: SparseMemory, levels: number, maps: X86Mapping[], opts: SlOptions = {}, toTablePointer?: (hpa: bigint) => bigint): bigint {
  const root = newNode(levels);
  for (const m of maps) {
    const L = leafLevelX86(m.size);
    const n = descend(root, m.iova, L);
    const i = indexAt(m.iova, L);
    if (n.entries.has(i)) throw new Error(`duplicate mapping at 0x${m.iova.toString(16)}`);
    let v = m.pa | (m.read ? 1n : 0n) | (m.write ? 2n : 0n) | (m.exec ? 4n : 0n);
    if (L > 1) v |= 0x80n;
    if (opts.snp) v |= 0x800n;
    n.entries.set(i, { leaf: v });
  }
  // non-leaf entries: R, W and X set so that the leaf decides (as Linux does for R/W)
  return writeTree(mem, root, () => 7n, toTablePointer);
}

// VT-d first stage (IA-32e, VT-d 9.7): P 0, R/W 1, U/S 2, PS 7, XD 63

export function buildFirstStage(mem: SparseMemory, levels: number, maps: X86Mapping[], toTablePointer?: (hpa: bigint) => bigint): bigint {
  const root = newNode(levels);
  const mask = (1n << BigInt(12 + 9 * levels)) - 1n; // canonical upper-half addresses index like their low bits
  for (const m of maps) {
    const iova = m.iova & mask;
    const L = leafLevelX86(m.size);
    const n = descend(root, iova, L);
    const i = indexAt(iova, L);
    if (n.entries.has(i)) throw new Error(`duplicate mapping at 0x${m.iova.toString(16)}`);
    let v = m.pa | 1n | (m.write ? 2n : 0n) | (m.user === false ? 0n : 4n) | 0x20n;
    if (L > 1) v |= 0x80n;
    if (m.exec === false) v |= 1n << 63n;
    n.entries.set(i, { leaf: v });
  }
  return writeTree(mem, root, () => 0x27n, toTablePointer); // P | R/W | U/S | A
}

// ---------------------------------------------------------------------------------------------
// VT-d root and context tables

export interface LegacyDevice {
  bus: number;
  devfn: number;
  present?: boolean;
  fpd?: boolean;
  /** translation type 0..3 */
  tt?: number;
  /** address width code: levels - 2 */
  aw: number;
  slptptr: bigint;
  did?: number;
}

/** Legacy root table (VT-d 9.1) + context tables (9.3). Returns the RTADDR value (TTM=00). */
export function buildVtdLegacy(mem: SparseMemory, devices: LegacyDevice[]): bigint {
  const rt = mem.alloc(4096, 4096);
  const ctxOf = new Map<number, bigint>();
  for (const d of devices) {
    let ct = ctxOf.get(d.bus);
    if (ct === undefined) {
      ct = mem.alloc(4096, 4096);
      ctxOf.set(d.bus, ct);
      mem.write64(rt + BigInt(16 * d.bus), ct | 1n);
      mem.write64(rt + BigInt(16 * d.bus + 8), 0n);
    }
    const lo = (d.present === false ? 0n : 1n) | (d.fpd ? 2n : 0n) | (BigInt(d.tt ?? 0) << 2n) | d.slptptr;
    const hi = BigInt(d.aw & 7) | (BigInt(d.did ?? 1) << 8n);
    mem.write64(ct + BigInt(16 * d.devfn), lo);
    mem.write64(ct + BigInt(16 * d.devfn + 8), hi);
  }
  return rt;
}

export interface PasidEntrySpec {
  pasid: number;
  present?: boolean;
  /** 1 first-stage, 2 second-stage, 3 nested, 4 pass-through */
  pgtt: number;
  aw?: number;
  ssptptr?: bigint;
  flptptr?: bigint;
  /** 0 = 4-level, 1 = 5-level */
  flpm?: number;
  sre?: boolean;
  ere?: boolean;
  wpe?: boolean;
  ssee?: boolean;
  did?: number;
}

export interface ScalableDevice {
  bus: number;
  devfn: number;
  present?: boolean;
  pdts?: number;
  paside?: boolean;
  ridPasid?: number;
  pasids: PasidEntrySpec[];
  /** directory entries to leave not present (by directory index) */
  absentDirs?: number[];
}

/**
 * Scalable-mode root table (VT-d 9.2), context entries (9.4), PASID directory (9.5) and PASID
 * tables (9.6). Returns the RTADDR value with TTM=01.
 */
export function buildVtdScalable(mem: SparseMemory, devices: ScalableDevice[]): bigint {
  const rt = mem.alloc(4096, 4096);
  const ctx = new Map<string, bigint>();
  for (const d of devices) {
    const upper = d.devfn >= 0x80;
    const key = `${d.bus}/${upper}`;
    let ct = ctx.get(key);
    if (ct === undefined) {
      ct = mem.alloc(4096, 4096);
      ctx.set(key, ct);
      mem.write64(rt + BigInt(16 * d.bus + (upper ? 8 : 0)), ct | 1n);
    }
    const pdts = d.pdts ?? 0;
    const dir = mem.alloc(8 * 2 ** (pdts + 7), 4096);
    const ce = ct + BigInt(32 * (d.devfn & 0x7f));
    mem.write64(ce, (d.present === false ? 0n : 1n) | (d.paside === false ? 0n : 8n) | (BigInt(pdts) << 9n) | dir);
    mem.write64(ce + 8n, BigInt(d.ridPasid ?? 0));
    const tables = new Map<number, bigint>();
    for (const p of d.pasids) {
      const di = p.pasid >> 6;
      let tb = tables.get(di);
      if (tb === undefined) {
        tb = mem.alloc(4096, 4096);
        tables.set(di, tb);
        if (!d.absentDirs?.includes(di)) mem.write64(dir + BigInt(8 * di), tb | 1n);
      }
      const pe = tb + BigInt(64 * (p.pasid & 63));
      const q0 = (p.present === false ? 0n : 1n) | (BigInt(p.aw ?? 2) << 2n) | (p.ssee ? 0x20n : 0n) | (BigInt(p.pgtt) << 6n) | (p.ssptptr ?? 0n);
      const q1 = BigInt(p.did ?? 1);
      const q2 = (p.sre ? 1n : 0n) | (p.ere ? 2n : 0n) | (BigInt(p.flpm ?? 0) << 2n) | (p.wpe ? 0x10n : 0n) | (p.flptptr ?? 0n);
      mem.write64(pe, q0);
      mem.write64(pe + 8n, q1);
      mem.write64(pe + 16n, q2);
    }
  }
  return rt | 0x400n;
}

/** CAP with SAGAW 3/4/5-level, MGAW 57 bits, 2 MiB + 1 GiB second-stage pages, FS1GP */
export const VTD_CAP_ALL = (0b01110n << 8n) | (56n << 16n) | (0b11n << 34n) | (1n << 56n);
/** ECAP with DT, PT, SC, NEST, SMTS, SSTS, FSTS */
export const VTD_ECAP_ALL = (1n << 2n) | (1n << 6n) | (1n << 7n) | (1n << 26n) | (1n << 43n) | (1n << 46n) | (1n << 47n);
export const VTD_GSTS_ON = 0xc0000000n;

// ---------------------------------------------------------------------------------------------
// AMD-Vi v1 (AMD IOMMU 2.2.3): PR 0, NextLevel 11:9, address 51:12, IR 61, IW 62

function amdLeafLevel(size: bigint): number {
  const k = size.toString(2).length - 1;
  if (size !== 1n << BigInt(k) || k < 12) throw new Error(`AMD page size 0x${size.toString(16)} is not a power of two >= 4 KiB`);
  return Math.floor((k - 12) / 9) + 1;
}

export interface AmdV1Options {
  /** collapse single-entry tables at index 0 into level skips */
  skip?: boolean;
}

export function buildAmdV1(mem: SparseMemory, mode: number, maps: X86Mapping[], opts: AmdV1Options = {}): bigint {
  const root = newNode(mode);
  const perm = (m: X86Mapping) => (m.read ? 1n << 61n : 0n) | (m.write ? 1n << 62n : 0n);
  for (const m of maps) {
    const L = amdLeafLevel(m.size);
    if (L > mode) throw new Error(`page of 0x${m.size.toString(16)} needs level ${L} > mode ${mode}`);
    const n = descend(root, m.iova, L);
    const base = BigInt(shiftOf(L));
    const k = BigInt(m.size.toString(2).length - 1);
    if (k === base) {
      const i = indexAt(m.iova, L);
      if (n.entries.has(i)) throw new Error(`duplicate mapping at 0x${m.iova.toString(16)}`);
      n.entries.set(i, { leaf: m.pa | 1n | perm(m) });
    } else {
      // NextLevel=7: bits 12..k-2 set, bit k-1 clear; replicated over size / 2^base slots
      const enc = ((1n << (k - 1n)) - 1n) & ~0xfffn;
      const v = m.pa | enc | (7n << 9n) | 1n | perm(m);
      const count = Number(m.size >> base);
      const first = indexAt(m.iova, L);
      for (let j = 0; j < count; j++) {
        if (n.entries.has(first + j)) throw new Error(`duplicate mapping at 0x${m.iova.toString(16)}`);
        n.entries.set(first + j, { leaf: v });
      }
    }
  }
  if (opts.skip) collapse(root);
  return writeTree(mem, root, (child) => (BigInt(child.level) << 9n) | 1n | (3n << 61n));
}

/** A PDE whose table holds only entry 0, itself a PDE, can point past that table (skipped index bits are 0). */
function collapse(n: Node): void {
  for (const [i, e] of n.entries) {
    if (!('child' in e)) continue;
    let c = e.child;
    for (;;) {
      if (c.entries.size !== 1) break;
      const only = c.entries.get(0);
      if (!only || !('child' in only)) break;
      c = only.child;
    }
    n.entries.set(i, { child: c });
    collapse(c);
  }
}

export interface AmdDte {
  deviceId: number;
  v?: boolean;
  tv?: boolean;
  mode: number;
  root?: bigint;
  ir?: boolean;
  iw?: boolean;
  domain?: number;
  /** v2 */
  gv?: boolean;
  giov?: boolean;
  glx?: number;
  gcr3?: bigint;
  /** v2 guest page-table levels (qword 2 bits 55:54: 0 = 4-level, 1 = 5-level) */
  guestLevels?: 4 | 5;
  /** raw OR into qword 0 (for reserved-bit tests) */
  extra0?: bigint;
}

/** Device Table (AMD IOMMU 2.2.2) of `sizeField+1` pages; returns the Device Table Base register value. */
export function buildAmdDeviceTable(mem: SparseMemory, dtes: AmdDte[], sizeField = 0x1ff): bigint {
  const base = mem.alloc((sizeField + 1) * 4096, 4096);
  for (const d of dtes) {
    const a = base + BigInt(32 * d.deviceId);
    const gcr3 = d.gcr3 ?? 0n;
    const q0 = (d.v === false ? 0n : 1n) | (d.tv === false ? 0n : 2n) | (BigInt(d.mode) << 9n) | (d.root ?? 0n)
      | (d.ir === false ? 0n : 1n << 61n) | (d.iw === false ? 0n : 1n << 62n)
      | (d.gv ? 1n << 55n : 0n) | (d.giov ? 1n << 54n : 0n) | (BigInt(d.glx ?? 0) << 56n) | (((gcr3 >> 12n) & 7n) << 58n) | (d.extra0 ?? 0n);
    const q1 = BigInt(d.domain ?? 1) | (((gcr3 >> 15n) & 0xffffn) << 16n) | (((gcr3 >> 31n) & 0x1fffffn) << 43n);
    mem.write64(a, q0);
    mem.write64(a + 8n, q1);
    mem.write64(a + 16n, d.guestLevels === 5 ? 1n << 54n : 0n);
  }
  return base | BigInt(sizeField);
}

/** v2 GCR3 table (1 level) with guest CR3 values by PASID */
export function buildGcr3Table(mem: SparseMemory, cr3ByPasid: Map<number, bigint>): bigint {
  const t = mem.alloc(4096, 4096);
  for (const [p, cr3] of cr3ByPasid) mem.write64(t + BigInt(8 * p), cr3 | 1n);
  return t;
}
