/**
 * Builds Arm translation tables into a SparseMemory from a list of mappings, following the
 * specification text (DDI0487 D8.2/D8.3, DDI0406C B3.5, IHI0062, IHI0070 5.x) and not the
 * project's walkers, so the two can be checked against each other.
 */
import { SparseMemory } from './sparse-memory';

export interface ArmPerms {
  read: boolean;
  write: boolean;
  exec: boolean;
  /** stage 1: accessible unprivileged (AP[1]) */
  user?: boolean;
}

export interface ArmMapping {
  iova: bigint;
  pa: bigint;
  /** a page or block size of the format */
  size: bigint;
  perms: ArmPerms;
  /** leave the access flag clear */
  afClear?: boolean;
}

export type GranuleSize = 4096 | 16384 | 65536;

export interface LpaeLayout {
  stage: 1 | 2;
  granule: GranuleSize;
  /** IAsize = 64 - TxSZ */
  inputBits: number;
  /** start level; stage 1 derives it, stage 2 may start deeper and concatenate */
  startLevel: number;
  /** 52-bit output (64K with LPA: OA[51:48] in bits [15:12]) */
  pa52?: boolean;
}

export interface LpaeTables {
  layout: LpaeLayout;
  /** PA of the start-level table (concatenated block for stage 2) */
  root: bigint;
  /** every table allocated: [address, bytes] */
  tables: [bigint, number][];
  /** number of concatenated start-level tables */
  concatenated: number;
}

const log2 = (n: number): number => Math.round(Math.log2(n));

/** Bits resolved per level and the shift of each level: DDI0487 Tables D8-16/26/35. */
export function geometry(granule: GranuleSize): { g: number; s: number; shift: (level: number) => number } {
  const g = log2(granule);
  const s = g - 3;
  return { g, s, shift: (l) => g + s * (3 - l) };
}

export function s1StartLevelFor(inputBits: number, granule: GranuleSize): number {
  const { g, s } = geometry(granule);
  // the number of levels needed to resolve inputBits - g bits, s at a time
  let levels = 0;
  for (let bits = inputBits - g; bits > 0; bits -= s) levels++;
  return 4 - levels;
}

/** Block sizes the architecture permits per granule (D8.3: 4K L1/L2, 16K L2, 64K L2 (+L1 at 52-bit)). */
export function leafLevels(granule: GranuleSize, pa52 = false): number[] {
  if (granule === 4096) return [1, 2, 3];
  if (granule === 16384) return [2, 3];
  return pa52 ? [1, 2, 3] : [2, 3];
}

function s1Leaf(m: ArmMapping, pa: bigint, level: number, pa52: boolean, granule: GranuleSize): bigint {
  let d = 1n | (level === 3 ? 2n : 0n);
  d |= 1n << 2n; // AttrIndx = 1
  if (m.perms.user) d |= 1n << 6n; // AP[1]
  if (!m.perms.write) d |= 1n << 7n; // AP[2]
  d |= 3n << 8n; // inner shareable
  if (!m.afClear) d |= 1n << 10n;
  d |= 1n << 11n; // nG
  if (!m.perms.exec) d |= (1n << 53n) | (1n << 54n); // PXN, UXN
  return d | oaBits(pa, pa52, granule);
}

function s2Leaf(m: ArmMapping, pa: bigint, level: number, pa52: boolean, granule: GranuleSize): bigint {
  let d = 1n | (level === 3 ? 2n : 0n);
  d |= 0xfn << 2n; // MemAttr normal WB
  if (m.perms.read) d |= 1n << 6n;
  if (m.perms.write) d |= 1n << 7n;
  d |= 3n << 8n;
  if (!m.afClear) d |= 1n << 10n;
  if (!m.perms.exec) d |= 2n << 53n; // XN[1]=1: no execution
  return d | oaBits(pa, pa52, granule);
}

function oaBits(pa: bigint, pa52: boolean, granule: GranuleSize): bigint {
  let d = pa & 0x0000_ffff_ffff_f000n;
  if (pa52 && granule === 65536) d |= ((pa >> 48n) & 0xfn) << 12n;
  return d;
}

/** Write the tables for `mappings` (aligned, non-overlapping) and return the root. */
export function buildLpae(mem: SparseMemory, layout: LpaeLayout, mappings: ArmMapping[], tableIpa: (pa: bigint) => bigint = (pa) => pa): LpaeTables {
  const { s, shift } = geometry(layout.granule);
  const start = layout.startLevel;
  const rootBits = layout.inputBits - shift(start);
  if (rootBits < 1) throw new Error('start level too deep for the input size');
  const rootEntries = 2 ** rootBits;
  const rootBytes = Math.max(64, rootEntries * 8);
  const concatenated = Math.max(1, rootEntries / 2 ** s);
  const root = mem.alloc(rootBytes, rootBytes);
  const tables: [bigint, number][] = [[root, rootBytes]];
  const pa52 = layout.pa52 === true;
  const granuleBytes = layout.granule;
  for (const m of mappings) {
    const level = leafLevelOf(m.size, layout.granule);
    if (level === undefined || level < start) throw new Error(`size ${m.size} is not a leaf size at or below the start level`);
    let table = root;
    for (let l = start; l < level; l++) {
      const idx = l === start ? (m.iova >> BigInt(shift(l))) & BigInt(rootEntries - 1) : (m.iova >> BigInt(shift(l))) & BigInt(2 ** s - 1);
      const at = table + idx * 8n;
      const cur = mem.read64(at) ?? 0n;
      if ((cur & 3n) === 3n) {
        // descriptor holds an IPA when stage 1 is nested; find the table by its PA
        const ipa = cur & 0x0000_ffff_ffff_f000n & ~BigInt(granuleBytes - 1);
        const found = tables.find(([pa]) => tableIpa(pa) === ipa);
        if (!found) throw new Error('lost table');
        table = found[0];
        continue;
      }
      if ((cur & 1n) === 1n) throw new Error('overlapping mappings');
      const next = mem.alloc(granuleBytes, granuleBytes);
      tables.push([next, granuleBytes]);
      mem.write64(at, oaBits(tableIpa(next), pa52, layout.granule) | 3n);
      table = next;
    }
    const idx = level === start ? (m.iova >> BigInt(shift(level))) & BigInt(rootEntries - 1) : (m.iova >> BigInt(shift(level))) & BigInt(2 ** s - 1);
    const at = table + idx * 8n;
    if (((mem.read64(at) ?? 0n) & 1n) === 1n) throw new Error('overlapping mappings');
    mem.write64(at, layout.stage === 1 ? s1Leaf(m, m.pa, level, pa52, layout.granule) : s2Leaf(m, m.pa, level, pa52, layout.granule));
  }
  return { layout, root, tables, concatenated };
}

export function leafLevelOf(size: bigint, granule: GranuleSize): number | undefined {
  const { shift } = geometry(granule);
  for (let l = 0; l <= 3; l++) if (size === 1n << BigInt(shift(l))) return l;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Register encodings

const TG0: Record<GranuleSize, bigint> = { 4096: 0n, 65536: 1n, 16384: 2n };
const TG1: Record<GranuleSize, bigint> = { 16384: 1n, 4096: 2n, 65536: 3n };

/** PS/IPS encoding of an address size (DDI0487 TCR_EL1.IPS). */
export function psEncoding(bits: number): bigint {
  const i = [32, 36, 40, 42, 44, 48, 52].indexOf(bits);
  if (i < 0) throw new Error('no PS encoding for ' + bits);
  return BigInt(i);
}

/** TCR_EL1 for TTBR0 only (EPD1 set) or both halves. */
export function tcrEl1(t: { t0?: LpaeLayout; t1?: LpaeLayout; ipsBits: number }): bigint {
  let v = psEncoding(t.ipsBits) << 32n;
  if (t.t0) v |= BigInt(64 - t.t0.inputBits) | (TG0[t.t0.granule] << 14n);
  else v |= 1n << 7n;
  if (t.t1) v |= (BigInt(64 - t.t1.inputBits) << 16n) | (TG1[t.t1.granule] << 30n);
  else v |= 1n << 23n;
  return v;
}

/** SL0 for a stage-2 start level (DDI0487 Table D8-19/29/38). */
export function sl0For(startLevel: number, granule: GranuleSize): bigint {
  return BigInt(granule === 4096 ? 2 - startLevel : 3 - startLevel);
}

/** VTCR_EL2 (also the SMMUv2 stage-2 CB_TCR) */
export function vtcr(layout: LpaeLayout, psBits: number): bigint {
  return BigInt(64 - layout.inputBits) | (sl0For(layout.startLevel, layout.granule) << 6n) | (TG0[layout.granule] << 14n) | (psEncoding(psBits) << 16n) | (1n << 31n);
}

/** TTBR/VTTBR base field for a table address (52-bit: PA[51:48] in bits [5:2]). */
export function ttbrFor(root: bigint, pa52 = false): bigint {
  let v = root & 0x0000_ffff_ffff_ffc0n;
  if (pa52) v |= ((root >> 48n) & 0xfn) << 2n;
  return v;
}

// ---------------------------------------------------------------------------------------------
// v7s short-descriptor (DDI0406C B3.5.1, io-pgtable-arm-v7s)

export const V7S_SIZES = [4096n, 65536n, 1n << 20n, 1n << 24n];

export function buildV7s(mem: SparseMemory, mappings: ArmMapping[]): bigint {
  const l1 = mem.alloc(16384, 16384);
  const l2Tables = new Map<bigint, bigint>();
  for (const m of mappings) {
    const apBits = (base: number): number => ((m.afClear ? 0 : 1) << base) | ((m.perms.user ? 1 : 0) << (base + 1)) | ((m.perms.write ? 0 : 1) << (base + 5));
    const l1Index = m.iova >> 20n;
    if (m.size >= 1n << 20n) {
      const count = m.size === 1n << 24n ? 16n : 1n;
      for (let i = 0n; i < count; i++) {
        let d = Number(m.pa & (count === 16n ? 0xff000000n : 0xfff00000n)) | 2 | apBits(10) | (1 << 16);
        if (count === 16n) d |= 1 << 18;
        if (!m.perms.exec) d |= 1 << 4;
        mem.write32(l1 + (l1Index + i) * 4n, d >>> 0);
      }
      continue;
    }
    let l2 = l2Tables.get(l1Index);
    if (l2 === undefined) {
      l2 = mem.alloc(1024, 1024);
      l2Tables.set(l1Index, l2);
      mem.write32(l1 + l1Index * 4n, Number(l2) | 1);
    }
    const l2Index = (m.iova >> 12n) & 0xffn;
    if (m.size === 65536n) {
      // a large page is written in 16 consecutive entries
      for (let i = 0n; i < 16n; i++) {
        let d = Number(m.pa & 0xffff0000n) | 1 | apBits(4) | (1 << 10);
        if (!m.perms.exec) d |= 1 << 15;
        mem.write32(l2 + (l2Index + i) * 4n, d >>> 0);
      }
    } else {
      let d = Number(m.pa & 0xfffff000n) | 2 | apBits(4) | (1 << 10);
      if (!m.perms.exec) d |= 1;
      mem.write32(l2 + l2Index * 4n, d >>> 0);
    }
  }
  return l1;
}

// ---------------------------------------------------------------------------------------------
// SMMUv2 register sets (IHI0062 / arm-smmu.h field positions, reference 1.8)

export interface SmmuV2Bank {
  sctlr: bigint;
  tcr: bigint;
  tcr2: bigint;
  ttbr0: bigint;
  ttbr1: bigint;
  mair0: bigint;
  mair1: bigint;
  cbar: bigint;
  cba2r: bigint;
}

export function smr(id: number, mask: number): bigint {
  return (1n << 31n) | BigInt(id & 0x7fff) | (BigInt(mask & 0x7fff) << 16n);
}

export function s2cr(type: 'translate' | 'bypass' | 'fault', cbndx: number): bigint {
  return (BigInt(type === 'translate' ? 0 : type === 'bypass' ? 1 : 2) << 16n) | BigInt(cbndx);
}

export function smmuV2S1Bank(t: LpaeTables, ipsBits: number, asid: number): SmmuV2Bank {
  return {
    sctlr: 0x67n, // M | TRE | AFE | CFRE | CFIE
    tcr: tcrEl1({ t0: t.layout, ipsBits }) & 0xffff_ffffn,
    tcr2: psEncoding(ipsBits) | (7n << 15n),
    ttbr0: ttbrFor(t.root) | (BigInt(asid) << 48n),
    ttbr1: BigInt(asid) << 48n,
    mair0: 0xf404ff44n,
    mair1: 0n,
    cbar: (1n << 16n) | (3n << 8n) | (0xfn << 12n),
    cba2r: 1n,
  };
}

export function smmuV2S2Bank(t: LpaeTables, psBits: number, vmid: number): SmmuV2Bank {
  return {
    sctlr: 0x67n,
    tcr: vtcr(t.layout, psBits),
    tcr2: 0n,
    ttbr0: ttbrFor(t.root),
    ttbr1: 0n,
    mair0: 0n,
    mair1: 0n,
    cbar: BigInt(vmid & 0xff),
    cba2r: 1n,
  };
}

// ---------------------------------------------------------------------------------------------
// SMMUv3 stream table, STEs and CDs (IHI0070 5.1-5.4)

export interface CdSpec {
  t0: LpaeTables;
  ipsBits: number;
  asid: number;
  valid?: boolean;
  affd?: boolean;
}

/** 64-byte CD (IHI0070 5.4). `ttbIpa` is the TTB0 value to write (an IPA when nested). */
export function writeCd(mem: SparseMemory, at: bigint, cd: CdSpec, ttbIpa: bigint = cd.t0.root): void {
  const l = cd.t0.layout;
  let d0 = BigInt(64 - l.inputBits) | (TG0[l.granule] << 6n) | (1n << 30n); // T0SZ, TG0, EPD1
  if (cd.valid !== false) d0 |= 1n << 31n;
  d0 |= psEncoding(cd.ipsBits) << 32n;
  if (cd.affd) d0 |= 1n << 35n;
  d0 |= (1n << 41n) | (1n << 45n) | (1n << 46n); // AA64, R, A
  d0 |= BigInt(cd.asid) << 48n;
  mem.write64(at, d0);
  mem.write64(at + 8n, ttbIpa & 0x00ff_ffff_ffff_fff0n);
  mem.write64(at + 16n, 0n);
  mem.write64(at + 24n, 0xf404ff44n);
}

export interface S2Spec {
  tables: LpaeTables;
  psBits: number;
  vmid: number;
  affd?: boolean;
}

export interface SteSpec {
  config: 'abort' | 'bypass' | 's1' | 's2' | 'nested';
  valid?: boolean;
  /** S1ContextPtr (IPA when nested) */
  cdPtr?: bigint;
  s1Fmt?: 0 | 1 | 2;
  s1CdMax?: number;
  s1Dss?: 0 | 1 | 2;
  s2?: S2Spec;
}

export function writeSte(mem: SparseMemory, at: bigint, ste: SteSpec): void {
  const cfg = { abort: 0n, bypass: 4n, s1: 5n, s2: 6n, nested: 7n }[ste.config];
  let d0 = (ste.valid === false ? 0n : 1n) | (cfg << 1n);
  if (ste.cdPtr !== undefined) d0 |= (ste.cdPtr & 0x00ff_ffff_ffff_ffc0n) | (BigInt(ste.s1Fmt ?? 0) << 4n) | (BigInt(ste.s1CdMax ?? 0) << 59n);
  const d1 = BigInt(ste.s1Dss ?? 0);
  let d2 = 0n;
  let d3 = 0n;
  if (ste.s2) {
    const l = ste.s2.tables.layout;
    d2 = BigInt(ste.s2.vmid) | (BigInt(64 - l.inputBits) << 32n) | (sl0For(l.startLevel, l.granule) << 38n) | (TG0[l.granule] << 46n) | (psEncoding(ste.s2.psBits) << 48n) | (1n << 51n) | (1n << 58n);
    if (ste.s2.affd) d2 |= 1n << 53n;
    d3 = ste.s2.tables.root & 0x00ff_ffff_ffff_fff0n;
  }
  mem.write64(at, d0);
  mem.write64(at + 8n, d1);
  mem.write64(at + 16n, d2);
  mem.write64(at + 24n, d3);
  for (let i = 4n; i < 8n; i++) mem.write64(at + i * 8n, 0n);
}

export interface StreamTable {
  strtabBase: bigint;
  strtabBaseCfg: bigint;
  /** address where the STE for a stream ID lives (allocating the L2 array when needed) */
  steAddress(sid: number): bigint;
}

/** Linear (FMT=0) or 2-level (FMT=1, Span = split+1) stream table of 2^log2size entries. */
export function buildStreamTable(mem: SparseMemory, log2size: number, twoLevel: boolean, split = 8): StreamTable {
  if (!twoLevel) {
    const bytes = 64 * 2 ** log2size;
    const base = mem.alloc(bytes, bytes);
    return { strtabBase: base | (1n << 62n), strtabBaseCfg: BigInt(log2size), steAddress: (sid) => base + BigInt(sid) * 64n };
  }
  const l1Count = 2 ** Math.max(0, log2size - split);
  const l1Bytes = Math.max(64, l1Count * 8);
  const l1 = mem.alloc(l1Bytes, l1Bytes);
  return {
    strtabBase: l1 | (1n << 62n),
    strtabBaseCfg: BigInt(log2size) | (BigInt(split) << 6n) | (1n << 16n),
    steAddress(sid) {
      const at = l1 + BigInt(sid >> split) * 8n;
      let desc = mem.read64(at) ?? 0n;
      if ((desc & 0x1fn) === 0n) {
        const bytes = 64 * 2 ** split;
        const l2 = mem.alloc(bytes, bytes);
        desc = l2 | BigInt(split + 1);
        mem.write64(at, desc);
      }
      return (desc & 0x00ff_ffff_ffff_ffc0n) + BigInt(sid & (2 ** split - 1)) * 64n;
    },
  };
}

/** CD table for 2^s1CdMax SSIDs: linear (S1Fmt=0) or 2-level with 4K (S1Fmt=1, 64 CDs) or 64K (S1Fmt=2, 1024 CDs) leaves. */
export function buildCdTable(mem: SparseMemory, s1CdMax: number, fmt: 0 | 1 | 2): { ptr: bigint; cdAddress(ssid: number): bigint } {
  if (fmt === 0) {
    const bytes = 64 * 2 ** s1CdMax;
    const base = mem.alloc(bytes, Math.max(64, bytes));
    return { ptr: base, cdAddress: (ssid) => base + BigInt(ssid) * 64n };
  }
  const leafBits = fmt === 1 ? 6 : 10;
  const l1Count = 2 ** Math.max(0, s1CdMax - leafBits);
  const l1 = mem.alloc(Math.max(64, l1Count * 8), Math.max(64, l1Count * 8));
  return {
    ptr: l1,
    cdAddress(ssid) {
      const at = l1 + BigInt(ssid >> leafBits) * 8n;
      let desc = mem.read64(at) ?? 0n;
      if ((desc & 1n) === 0n) {
        const bytes = 64 * 2 ** leafBits;
        const leaf = mem.alloc(bytes, bytes);
        desc = leaf | 1n;
        mem.write64(at, desc);
      }
      return (desc & 0x00ff_ffff_ffff_f000n) + BigInt(ssid & (2 ** leafBits - 1)) * 64n;
    },
  };
}
