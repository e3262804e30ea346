/**
 * VMSAv8-64 long-descriptor (LPAE) translation: one stage walk shared by the bare 'arm-lpae'
 * model and the SMMUv2/SMMUv3 walkers (they only differ in where TTB/TCR come from and how a
 * fault is named). Arithmetic is done on Numbers: every physical/intermediate address is below
 * 2^52 and so exact in a double, which keeps the hot path free of BigInt work except the read.
 * Rules: DDI0487 D8.2 (start level, concatenation), D8.3 (descriptors), D8.4 (permissions).
 */
import type { PhysicalMemory } from '../snapshot/memory';
import type { Snapshot } from '../snapshot/types';
import type { Access, Permissions, SanityFinding, WalkFault, WalkRequest, WalkResult, WalkStage, WalkStep } from './types';
import { TWO32, alignDown, hex64, hexn, modPow2, pow2, readWordsLE } from './words';

export { alignDown, hex64, hexn, pow2, readWordsLE } from './words';

const P2 = pow2;

export type LpaeFaultKind =
  | 'translation'
  | 'access-flag'
  | 'permission'
  | 'address-size'
  | 'external-abort'
  | 'configuration';

export interface LpaeSuccess {
  ok: true;
  /** output address of the request (page base | offset) */
  oa: number;
  /** log2 of the page or block size */
  pageShift: number;
  level: number;
  perms: Permissions;
}

export interface LpaeFailure {
  ok: false;
  kind: LpaeFaultKind;
  /** 1 or 2: the translation stage that faulted */
  stage: 1 | 2;
  level: number;
  walkStage: WalkStage;
  text: string;
  /** descriptor address that could not be read (external-abort) */
  fetchAddress?: number;
  /** true when a stage-2 fault happened while translating a stage-1 table address */
  duringS1TableFetch?: boolean;
}

export type LpaeOutcome = LpaeSuccess | LpaeFailure;

/** Everything a stage walk appends to, plus the request's access for the permission check. */
export interface WalkCtx {
  mem: PhysicalMemory;
  steps: WalkStep[];
  findings: SanityFinding[];
  access?: Access;
  privileged: boolean;
}

export interface LpaeStageConfig {
  stage: 1 | 2;
  /** 12, 14 or 16 (4K, 16K, 64K) */
  granuleShift: number;
  /** IAsize = 64 - TxSZ */
  inputBits: number;
  startLevel: number;
  /** start-level table address (low bits are cleared to the table's alignment by the walker) */
  tableAddress: number;
  /** effective output address size in bits */
  outputBits: number;
  /** FEAT_LPA2 descriptors (TCR.DS): OA[51:50] in bits [9:8], OA[49:48] in [49:48] */
  ds?: boolean;
  /** hierarchical permissions disabled (TCR.HPDn / CD.HADn) */
  had?: boolean;
  /** AF=0 does not fault (hardware AF update, or SMMU AFFD / S2AFFD) */
  afNoFault?: boolean;
  /** hardware dirty-state update (TCR.HD / CD.HD / STE.S2HD): a write to a DBM=1 read-only leaf marks it dirty instead of faulting */
  hd?: boolean;
  mair?: bigint;
  /** stage 1 of an EL1&0-like regime; false for single-privilege regimes (EL2, STRW=EL2) */
  twoPrivilege?: boolean;
  /** FEAT_XNX stage-2 XN[1:0] */
  xnx?: boolean;
  bigEndian?: boolean;
  /** nested: turn a stage-1 descriptor address (an IPA) into a PA through stage 2 */
  fetchTranslator?: (ipa: number, ctx: WalkCtx) => LpaeOutcome;
}

const MAX_IPA = (1n << 52n) - 1n;

/** log2 granule from TCR.TG0 / CD.TG0 / VTCR.TG0 / STE.S2TG encodings */
export function granuleFromTg0(tg0: number): number | undefined {
  return tg0 === 0 ? 12 : tg0 === 1 ? 16 : tg0 === 2 ? 14 : undefined;
}

/** log2 granule from TCR.TG1 / CD.TG1 (different encoding from TG0) */
export function granuleFromTg1(tg1: number): number | undefined {
  return tg1 === 1 ? 14 : tg1 === 2 ? 12 : tg1 === 3 ? 16 : undefined;
}

const PA_SIZES = [32, 36, 40, 42, 44, 48, 52];
/** IPS / PS / PASIZE / S2PS / IDR5.OAS encoding to bits */
export function paBits(encoding: number): number | undefined {
  return PA_SIZES[encoding];
}

export function granuleName(g: number): string {
  return g === 12 ? '4K' : g === 14 ? '16K' : '64K';
}

export function levelShift(level: number, g: number): number {
  return g + (3 - level) * (g - 3);
}

/** Stage-1 start level (DDI0487 D8.2.6): 4 - ceil((IAsize - g) / s). */
export function s1StartLevel(inputBits: number, g: number): number {
  return 4 - Math.ceil((inputBits - g) / (g - 3));
}

/** Stage-2 start level from SL0 (and SL2 for 4K with DS), DDI0487 Tables D8-19/29/38; undefined = reserved. */
export function s2StartLevel(sl0: number, g: number, ds = false, sl2 = false): number | undefined {
  if (g === 12) {
    if (sl2) return ds && sl0 === 0 ? -1 : undefined;
    return sl0 === 3 ? 3 : 2 - sl0; // SL0=3 needs FEAT_TTST; accepted, the size check rejects misuse
  }
  if (g === 14) return sl0 === 3 ? (ds ? 0 : undefined) : 3 - sl0;
  return sl0 === 3 ? undefined : 3 - sl0;
}

/** Legal stage-1 TxSZ check (D8.2, SMMU CD T0SZ); returns the problem in words or undefined. */
export function checkS1Size(tsz: number, g: number, opts: { ds?: boolean; minTsz?: number; maxTsz?: number } = {}): string | undefined {
  const min = opts.minTsz ?? (opts.ds ? 12 : 16);
  const max = opts.maxTsz ?? 39;
  if (tsz < min) return `TxSZ=${tsz} is below the minimum ${min} (input size above ${64 - min} bits)`;
  if (tsz > max) return `TxSZ=${tsz} is above the maximum ${max} (input size below ${64 - max} bits)`;
  const start = s1StartLevel(64 - tsz, g);
  if (start < (opts.ds ? -1 : 0)) return `TxSZ=${tsz} needs a start level ${start}, which needs FEAT_LPA2 (DS)`;
  return undefined;
}

/**
 * Stage-2 T0SZ/SL0 consistency (D8.2.2, Tables D8-20..24/30..33/39..41): the start level must
 * resolve at least one and at most s+4 index bits (up to 16 concatenated tables).
 */
export function checkS2Size(t0sz: number, startLevel: number, g: number, opts: { ds?: boolean; maxTsz?: number } = {}): string | undefined {
  const inputBits = 64 - t0sz;
  const s = g - 3;
  const min = opts.ds || g === 16 ? 12 : 16;
  if (t0sz < min) return `T0SZ=${t0sz} is below the minimum ${min}`;
  if (t0sz > (opts.maxTsz ?? 39)) return `T0SZ=${t0sz} is above the maximum ${opts.maxTsz ?? 39}`;
  const bits = inputBits - levelShift(startLevel, g);
  if (bits < 1) return `T0SZ=${t0sz} (${inputBits}-bit IPA) is too small for start level ${startLevel}: the walk would resolve no address bits there`;
  if (bits > s + 4) return `T0SZ=${t0sz} (${inputBits}-bit IPA) needs more than 16 concatenated tables at start level ${startLevel}`;
  if (bits > s && startLevel === 0 && g === 12 && !opts.ds) return `concatenated tables at level 0 need FEAT_LPA2 (DS)`;
  if (startLevel === 3 && g === 12 && bits > s) return `concatenated tables are not permitted at start level 3`;
  return undefined;
}

/** Base address from a CPU-layout TTBR/VTTBR: BADDR[47:1], and BADDR[51:48] in bits [5:2] for 52-bit tables. */
export function ttbrAddress(ttbr: bigint, fiftyTwoBit: boolean): number {
  let a = Number(ttbr & 0xffff_ffff_fffen);
  if (fiftyTwoBit) a = a - (a % 64) + Number((ttbr >> 2n) & 0xfn) * P2(48);
  return a;
}




/**
 * Descriptors already seen, per memory: a storm (or a batch) walks the same tables again and again,
 * and building the hex strings and decoded fields of a step is most of a walk's cost. An entry is
 * reused only while the raw value read from memory is unchanged, so memory that changes (test
 * builders) is never answered from stale text. The finished step of a successful table or leaf
 * descriptor is kept too, frozen because every later walk through that descriptor shares it (as the
 * VT-d and AMD-Vi walkers do), together with a signature of everything else it was built from.
 */
interface DescText {
  /** physical address the descriptor was read from */
  at: number;
  /** bits [31:0] and [63:32] of the descriptor */
  lo: number;
  hi: number;
  addr: string;
  value: string;
  /** hex of the next-table/output address derived from the descriptor, with the number it was made from */
  outNum: number;
  out: string;
  /** shared step of this descriptor for walks with signature `sig` (and MAIR `mair` for stage-1 leaves); -1 = none */
  sig: number;
  mair: bigint | undefined;
  step: WalkStep | undefined;
  /** next-table or output address the shared step was made for */
  next: number;
}
/**
 * Direct-mapped by descriptor address: a lookup is an array index, not a Map hash of a double
 * (addresses above 2^31 are heap numbers). A collision only costs rebuilding the evicted text.
 */
const DESC_SLOTS = 1 << 14;
const DESC_MASK = DESC_SLOTS - 1;
const descCaches = new WeakMap<PhysicalMemory, (DescText | undefined)[]>();
function descCacheOf(mem: PhysicalMemory): (DescText | undefined)[] {
  let c = descCaches.get(mem);
  if (!c) {
    c = new Array<DescText | undefined>(DESC_SLOTS).fill(undefined);
    descCaches.set(mem, c);
  }
  return c;
}
function outHex(t: DescText, n: number): string {
  if (t.outNum !== n) {
    t.outNum = n;
    t.out = hexn(n);
  }
  return t.out;
}
/** Bits of a shared step's signature: level + 1 in bits [2:0], then the stage configuration and table attributes. */
const SIG_STAGE2 = 1 << 3;
const SIG_GRANULE = 1 << 4; // granule shift, 5 bits
const SIG_DS = 1 << 9;
const SIG_OUTPUT_BITS = 1 << 10; // output size, 6 bits
const SIG_TABLE = 1 << 16;
const SIG_HD = 1 << 17;
const SIG_AF_NO_FAULT = 1 << 18;
const SIG_AP_NO_USER = 1 << 19;
const SIG_AP_NO_WRITE = 1 << 20;
const SIG_XN = 1 << 21;
const SIG_PXN = 1 << 22;
function freezeStep(step: WalkStep): WalkStep {
  Object.freeze(step.decoded);
  return Object.freeze(step);
}

/** the descriptor halves of the last readDesc: [0] = bits [31:0], [1] = bits [63:32] */
const HALVES = new Uint32Array(2);

/** Read a descriptor into HALVES; false when it is not in the snapshot. */
function readDesc(mem: PhysicalMemory, addr: number, bigEndian: boolean | undefined): boolean {
  // descriptor addresses are integers (sums of integer table bases and indexes): straight to readWords
  if (!bigEndian) return mem.readWords ? mem.readWords(addr, HALVES) : readWordsLE(mem, addr, HALVES);
  const b = mem.read(BigInt(addr), 8);
  if (!b) return false;
  const d = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, false);
  HALVES[0] = Number(d & 0xffffffffn);
  HALVES[1] = Number(d >> 32n);
  return true;
}

const LV = ['L-1', 'L0', 'L1', 'L2', 'L3'];
const TABLE_NAME = LV.map((l) => l + ' table descriptor');
const BLOCK_NAME = LV.map((l) => l + ' block descriptor');
const INVALID_NAME = LV.map((l) => l + ' descriptor');
const PAGE_NAME = 'L3 page descriptor';

const RULE_READ_FAIL = 'DDI0487 D8.2 walk: the descriptor address is not in the snapshot\'s memory (hardware: synchronous external abort on the walk if it is not backed)';
const RULE_INVALID = 'DDI0487 D8.3 Table D8-48: bit[0]=0 is an invalid descriptor -> Translation fault at this level';
const RULE_L3_RESERVED = 'DDI0487 D8.3 Table D8-48: bits[1:0]=0b01 at level 3 is reserved -> Translation fault';
const RULE_BAD_BLOCK = 'DDI0487 D8.3: a block descriptor is not permitted at this level for this granule/DS/PA size -> Translation fault';
const RULE_TABLE_S1 = 'DDI0487 D8.3 Table D8-50: table descriptor (bits[1:0]=0b11, level<3): next-level table = NLTA; APTable/UXNTable/PXNTable apply to all lower levels unless hierarchical permissions are disabled';
const RULE_TABLE_S2 = 'DDI0487 D8.3 Table D8-51: stage-2 table descriptor (bits[1:0]=0b11, level<3): next-level table = NLTA; no hierarchical attributes at stage 2';
const RULE_LEAF_S1 = 'DDI0487 D8.3 Table D8-52: stage-1 block/page descriptor: OA = OA[47:n] | IA[n-1:0]; AP[2:1], UXN/PXN, AF, AttrIndx into MAIR';
const RULE_LEAF_S2 = 'DDI0487 D8.3 Table D8-53: stage-2 block/page descriptor: OA = OA[47:n] | IPA[n-1:0]; S2AP (bit6 read, bit7 write), XN, AF, MemAttr';
const RULE_ASF = 'DDI0487 D8.2/D8.3: output or next-table address above the effective output size (IPS/PS) -> Address size fault';
const RULE_AF = 'DDI0487 D8.4 (access flag): leaf with AF=0 and no hardware AF update/AFFD -> Access flag fault (before the permission check)';
const RULE_PERM_S1 = 'DDI0487 D8.4 Table D8-60 (AP[2:1]), D8.4.2 (UXN/PXN; EL0-writable implies PXN): stage-1 permission check (QEMU\'s SMMU model treats every transaction as privileged and checks writes only)';
const RULE_PERM_S2 = 'DDI0487 D8.4 (S2AP: bit6 read, bit7 write; XN): stage-2 permission check';

function blockAllowed(level: number, g: number, ds: boolean, outputBits: number): boolean {
  if (level >= 3 || level < 0) return false;
  if (g === 12) return level >= 1 || (level === 0 && ds);
  if (g === 14) return level === 2 || (level === 1 && ds);
  return level === 2 || (level === 1 && outputBits === 52);
}

/** bits [at, at+n) of hi * 2^32 + lo (halves unsigned), for n <= 16 */
function bitField(lo: number, hi: number, at: number, n: number): number {
  const m = (1 << n) - 1;
  if (at >= 32) return (hi >>> (at - 32)) & m;
  if (at + n <= 32) return (lo >>> at) & m;
  return ((lo >>> at) | (hi << (32 - at))) & m;
}

/** Output/next-table address of a descriptor from its two halves, for the granule/level boundary `n`. */
function descAddress(lo: number, hi: number, n: number, g: number, ds: boolean, outputBits: number): number {
  // bits [47:0] (the low n bits are cleared below)
  let a = alignDown((hi & 0xffff) * TWO32 + (lo >>> 0), n);
  if (ds) {
    a += ((hi >>> 16) & 3) * P2(48) + ((lo >>> 8) & 3) * P2(50);
  } else if (g === 16 && outputBits === 52) {
    a += ((lo >>> 12) & 0xf) * P2(48);
  }
  return a;
}

function fail(
  stage: 1 | 2,
  kind: LpaeFaultKind,
  level: number,
  walkStage: WalkStage,
  text: string,
  fetchAddress?: number,
): LpaeFailure {
  const f: LpaeFailure = { ok: false, kind, stage, level, walkStage, text };
  if (fetchAddress !== undefined) f.fetchAddress = fetchAddress;
  return f;
}

const SH_NAMES = ['non-shareable', 'reserved', 'outer shareable', 'inner shareable'];
const MEMATTR_HEX = Array.from({ length: 16 }, (_, i) => '0x' + i.toString(16));
const CONTIGUOUS_NOTE = 'contiguous hint: a TLB may cache this entry with its aligned neighbours as one; the output address is unchanged';

let lastMair = -1n;
let lastMairHex: string[] = [];
function mairByte(cfg: LpaeStageConfig, index: number): string {
  const m = cfg.mair!;
  if (m !== lastMair) {
    const t: string[] = [];
    for (let i = 0; i < 8; i++) t.push(hexn(Number((m >> BigInt(8 * i)) & 0xffn)));
    lastMair = m;
    lastMairHex = t;
  }
  return lastMairHex[index]!;
}
const AP_TEXT = ['RW privileged only', 'RW any level', 'RO privileged only', 'RO any level'];
const S2AP_TEXT = ['no access', 'read-only', 'write-only', 'read/write'];

/**
 * Walk one stage from its start level. `ia` is the input address already checked against the
 * input range (below 2^inputBits; for TTBR1 the caller passes the low inputBits bits).
 */
export function walkLpaeStage(cfg: LpaeStageConfig, ia: number, ctx: WalkCtx): LpaeOutcome {
  const g = cfg.granuleShift;
  const s = g - 3;
  const ds = cfg.ds === true;
  const st = cfg.stage;
  const label = st === 1 ? 'stage 1' : 'stage 2';
  const steps = ctx.steps;
  const start = cfg.startLevel;
  const startShift = levelShift(start, g);
  // start table covers the remaining IA bits (several concatenated tables at stage 2)
  let tableLog2 = cfg.inputBits - startShift + 3;
  if (tableLog2 < 6) tableLog2 = 6;
  let table = alignDown(cfg.tableAddress, tableLog2);
  if (cfg.outputBits < 52 && table >= P2(cfg.outputBits)) {
    steps.push({
      structure: st === 1 ? 'translation table base' : 'stage-2 translation table base',
      level: start,
      address: hexn(table),
      rule: RULE_ASF,
      ok: false,
      stage: label,
    });
    return fail(st, 'address-size', start, 'table-root', `the ${label} table base ${hexn(table)} is above the ${cfg.outputBits}-bit output size`);
  }
  // hierarchical attributes accumulated from table descriptors (stage 1)
  let apTableNoUser = false;
  let apTableNoWrite = false;
  let xnTable = false;
  let pxnTable = false;
  let visited0 = -1;
  let visited1 = -1;
  let visited2 = -1;
  let visited3 = -1;
  const cache = descCacheOf(ctx.mem);
  const cfgSig = (st - 1) * SIG_STAGE2 + g * SIG_GRANULE + cfg.outputBits * SIG_OUTPUT_BITS + (ds ? SIG_DS : 0) + (cfg.hd ? SIG_HD : 0) + (cfg.afNoFault ? SIG_AF_NO_FAULT : 0);
  // IA halves for the index bits of the levels below the start one (integer shifts, no division)
  const iaHi = ia >= 0 ? Math.floor(ia / TWO32) : -1;
  const iaLo = ia >= 0 ? ia - iaHi * TWO32 : 0;
  for (let level = start; level <= 3; level++) {
    const shift = levelShift(level, g);
    let index: number;
    if (level === start) index = Math.floor(ia / P2(shift));
    else if (iaHi >= 0) index = bitField(iaLo, iaHi, shift, s);
    else index = modPow2(Math.floor(ia / P2(shift)), s);
    let addr = table + index * 8;
    if (cfg.fetchTranslator) {
      const tr = cfg.fetchTranslator(addr, ctx);
      if (!tr.ok) {
        tr.duringS1TableFetch = true;
        return tr;
      }
      addr = tr.oa;
    }
    const walkStage: WalkStage = level === start ? 'table-root' : 'table-entry';
    if (!readDesc(ctx.mem, addr, cfg.bigEndian)) {
      steps.push({ structure: INVALID_NAME[level + 1]!, level, address: hexn(addr), rule: RULE_READ_FAIL, ok: false, stage: label });
      return fail(st, 'external-abort', level, walkStage, `the ${label} level ${level} descriptor at ${hexn(addr)} is not in the snapshot`, addr);
    }
    const slot = (addr >>> 3) & DESC_MASK;
    let text = cache[slot];
    const dLo = HALVES[0]!;
    const dHi = HALVES[1]!;
    if (text === undefined || text.at !== addr || text.lo !== dLo || text.hi !== dHi) {
      text = { at: addr, lo: dLo, hi: dHi, addr: hexn(addr), value: hex64(dLo, dHi), outNum: -1, out: '', sig: -1, mair: undefined, step: undefined, next: 0 };
      cache[slot] = text;
    }
    const lo = text.lo;
    const hi = text.hi;
    const value = text.value;
    const addrHex = text.addr;
    if ((lo & 1) === 0) {
      steps.push({ structure: INVALID_NAME[level + 1]!, level, address: addrHex, value, decoded: { valid: false }, rule: RULE_INVALID, ok: false, stage: label });
      return fail(st, 'translation', level, 'table-entry', `${label} level ${level} descriptor at ${hexn(addr)} is invalid (bit 0 clear)`);
    }
    const isTable = (lo & 2) !== 0 && level < 3;
    if (level === 3 && (lo & 2) === 0) {
      steps.push({ structure: INVALID_NAME[4]!, level, address: hexn(addr), value, decoded: { valid: true, type: 'reserved' }, rule: RULE_L3_RESERVED, ok: false, stage: label });
      return fail(st, 'translation', level, 'table-entry', `${label} level 3 descriptor at ${hexn(addr)} has the reserved type 0b01`);
    }
    if (isTable) {
      const sig = cfgSig | (level + 1) | SIG_TABLE;
      let next: number;
      if (text.sig === sig) {
        // same descriptor, level and stage configuration as a walk that went through it before
        next = text.next;
        steps.push(text.step!);
      } else {
        next = descAddress(lo, hi, g, g, ds, cfg.outputBits);
        const decoded: Record<string, unknown> = { type: 'table', nextTable: outHex(text, next) };
        if (st === 1) {
          decoded.pxnTable = (hi >>> 27) & 1;
          decoded.uxnTable = (hi >>> 28) & 1;
          decoded.apTable = (hi >>> 29) & 3;
          decoded.nsTable = (hi >>> 31) & 1;
        }
        const step: WalkStep = { structure: TABLE_NAME[level + 1]!, level, address: addrHex, value, decoded, rule: st === 1 ? RULE_TABLE_S1 : RULE_TABLE_S2, ok: true, stage: label };
        steps.push(step);
        if (cfg.outputBits < 52 && next >= P2(cfg.outputBits)) {
          step.ok = false;
          step.rule = RULE_ASF;
          return fail(st, 'address-size', level, 'table-entry', `${label} level ${level} table descriptor points at ${hexn(next)}, above the ${cfg.outputBits}-bit output size`);
        }
        text.sig = sig;
        text.next = next;
        text.step = freezeStep(step);
      }
      if (st === 1 && !cfg.had) {
        if ((hi >>> 29) & 1) apTableNoUser = true;
        if ((hi >>> 30) & 1) apTableNoWrite = true;
        if ((hi >>> 28) & 1) xnTable = true;
        if ((hi >>> 27) & 1) pxnTable = true;
      }
      if (next === table || next === visited0 || next === visited1 || next === visited2 || next === visited3) {
        ctx.findings.push({
          severity: 'warning',
          where: `${label} ${LV[level + 1]} table descriptor at ${hexn(addr)}`,
          message: `points back at the table ${hexn(next)} already used by this walk (self-referencing/looping table): the architecture follows it at most to level 3, but an IOMMU table should never do this`,
        });
      }
      if (level === start) visited0 = table;
      else if (visited1 < 0) visited1 = table;
      else if (visited2 < 0) visited2 = table;
      else visited3 = table;
      table = next;
      continue;
    }
    // block or page
    const isPage = level === 3;
    const structure = isPage ? PAGE_NAME : BLOCK_NAME[level + 1]!;
    if (!isPage && !blockAllowed(level, g, ds, cfg.outputBits)) {
      steps.push({ structure, level, address: addrHex, value, decoded: { type: 'block' }, rule: RULE_BAD_BLOCK, ok: false, stage: label });
      return fail(st, 'translation', level, 'table-entry', `${label} block descriptor at level ${level} is not permitted with the ${granuleName(g)} granule`);
    }
    // the decoded fields depend on the descriptor, the stage configuration and the table attributes met on the way
    const sig = cfgSig | (level + 1) | (apTableNoUser ? SIG_AP_NO_USER : 0) | (apTableNoWrite ? SIG_AP_NO_WRITE : 0) | (xnTable ? SIG_XN : 0) | (pxnTable ? SIG_PXN : 0);
    const shared = text.sig === sig && text.mair === cfg.mair ? text.step : undefined;
    const out = shared ? text.next : descAddress(lo, hi, shift, g, ds, cfg.outputBits);
    const af = (lo >>> 10) & 1;
    const contiguous = (hi >>> 20) & 1;
    let perms: Permissions;
    let apText: string;
    let uxn = 0;
    let pxn = 0;
    let dirty = false;
    let apRaw = 0;
    let ap = 0;
    let s2ap = 0;
    let xn = 0;
    if (st === 1) {
      apRaw = (lo >>> 6) & 3;
      ap = apRaw;
      pxn = (hi >>> 21) & 1;
      uxn = (hi >>> 22) & 1;
      if (apTableNoUser) ap &= 2;
      if (apTableNoWrite) ap |= 2;
      if (xnTable) uxn = 1;
      if (pxnTable) pxn = 1;
      apText = AP_TEXT[ap]!;
      const user = (ap & 1) === 1;
      let ro = (ap & 2) === 2;
      if (ro && cfg.hd && (hi >>> 19) & 1 && !apTableNoWrite) {
        // DBM=1 with hardware dirty-state management: read-only means clean, a write makes it dirty
        ro = false;
        dirty = true;
      }
      if (cfg.twoPrivilege === false) {
        // single-privilege regime: AP[1] is ignored, bit 54 is XN
        perms = { read: true, write: !ro, exec: uxn === 0, user: false };
      } else if (ctx.privileged) {
        perms = { read: true, write: !ro, exec: pxn === 0 && !(user && !ro), user };
      } else {
        perms = { read: user, write: user && !ro, exec: uxn === 0, user };
      }
    } else {
      s2ap = (lo >>> 6) & 3;
      xn = (hi >>> 21) & 3;
      apText = S2AP_TEXT[s2ap]!;
      let exec: boolean;
      if (cfg.xnx) exec = xn === 0 || (xn === 1 ? !ctx.privileged : xn === 3 ? ctx.privileged : false);
      else exec = (xn & 2) === 0;
      let writable = (s2ap & 2) === 2;
      if (!writable && cfg.hd && (hi >>> 19) & 1) {
        writable = true;
        dirty = true;
      }
      perms = { read: (s2ap & 1) === 1, write: writable, exec };
    }
    if (shared) {
      // built and checked (output size, AF) by an earlier walk with the same signature
      steps.push(shared);
    } else {
      let decoded: Record<string, unknown>;
      if (st === 1) {
        const attrIndx = (lo >>> 2) & 7;
        decoded = {
          type: isPage ? 'page' : 'block',
          outputAddress: outHex(text, out),
          size: P2(shift),
          attrIndx,
          memAttr: cfg.mair === undefined ? undefined : mairByte(cfg, attrIndx),
          ns: (lo >>> 5) & 1,
          ap: apRaw,
          apMeaning: AP_TEXT[apRaw],
          sh: ds ? undefined : SH_NAMES[(lo >>> 8) & 3],
          af,
          nG: (lo >>> 11) & 1,
          dbm: (hi >>> 19) & 1,
          contiguous,
          pxn: (hi >>> 21) & 1,
          uxn: (hi >>> 22) & 1,
        };
        if (apTableNoUser || apTableNoWrite || xnTable || pxnTable) decoded.effectiveAfterTableAttributes = { ap, uxn, pxn };
      } else {
        decoded = {
          type: isPage ? 'page' : 'block',
          outputAddress: outHex(text, out),
          size: P2(shift),
          memAttr: MEMATTR_HEX[(lo >>> 2) & 0xf],
          s2ap,
          s2apMeaning: S2AP_TEXT[s2ap],
          sh: ds ? undefined : SH_NAMES[(lo >>> 8) & 3],
          af,
          contiguous,
          xn,
        };
      }
      if (dirty) decoded.dirtyState = 'clean (DBM=1, hardware dirty update: writes allowed)';
      if (contiguous) decoded.contiguousNote = CONTIGUOUS_NOTE;
      const step: WalkStep = { structure, level, address: addrHex, value, decoded, rule: st === 1 ? RULE_LEAF_S1 : RULE_LEAF_S2, ok: true, stage: label };
      steps.push(step);
      if (cfg.outputBits < 52 && out >= P2(cfg.outputBits)) {
        step.ok = false;
        step.rule = RULE_ASF;
        return fail(st, 'address-size', level, 'table-entry', `${label} output address ${hexn(out)} is above the ${cfg.outputBits}-bit output size`);
      }
      if (af === 0 && !cfg.afNoFault) {
        step.ok = false;
        step.rule = RULE_AF;
        return fail(st, 'access-flag', level, 'table-entry', `${label} level ${level} ${isPage ? 'page' : 'block'} descriptor has AF=0`);
      }
      text.sig = sig;
      text.mair = cfg.mair;
      text.next = out;
      text.step = freezeStep(step);
    }
    const access = ctx.access;
    if (access !== undefined) {
      const allowed = access === 'read' ? perms.read : access === 'write' ? perms.write : perms.exec;
      steps.push({
        structure: 'permission check',
        level,
        decoded: { access, privileged: ctx.privileged, permissions: apText, allowed },
        rule: st === 1 ? RULE_PERM_S1 : RULE_PERM_S2,
        ok: allowed,
        stage: label,
      });
      if (!allowed) {
        return fail(st, 'permission', level, 'permission', `${label} ${isPage ? 'page' : 'block'} at level ${level} does not allow ${ctx.privileged ? 'privileged' : 'unprivileged'} ${access} (${apText}${uxn || pxn ? `, UXN=${uxn} PXN=${pxn}` : ''})`);
      }
    }
    const offset = modPow2(ia, shift);
    return { ok: true, oa: out + offset, pageShift: shift, level, perms };
  }
  // unreachable: level 3 is always a leaf or a fault
  return fail(st, 'translation', 3, 'table-entry', 'walk ran past level 3');
}

// ---------------------------------------------------------------------------------------------
// Stage helpers with the range checks, used by every Arm walker.

export interface Stage1Params {
  /** TTB address (CPU TTBR: use ttbrAddress(); SMMU CD: the TTB field) */
  tableAddress: number;
  tsz: number;
  granuleShift: number;
  outputBits: number;
  ds?: boolean;
  had?: boolean;
  afNoFault?: boolean;
  hd?: boolean;
  mair?: bigint;
  twoPrivilege?: boolean;
  bigEndian?: boolean;
  fetchTranslator?: (ipa: number, ctx: WalkCtx) => LpaeOutcome;
}

/** The stage walk configuration of stage-1 parameters (start level from the input size). */
export function stage1Config(p: Stage1Params): LpaeStageConfig {
  const inputBits = 64 - p.tsz;
  return {
    stage: 1,
    granuleShift: p.granuleShift,
    inputBits,
    startLevel: s1StartLevel(inputBits, p.granuleShift),
    tableAddress: p.tableAddress,
    outputBits: p.outputBits,
    ds: p.ds,
    had: p.had,
    afNoFault: p.afNoFault,
    hd: p.hd,
    mair: p.mair,
    twoPrivilege: p.twoPrivilege,
    bigEndian: p.bigEndian,
    fetchTranslator: p.fetchTranslator,
  };
}

/** Stage-1 walk of one TTBR's range; the caller has selected the TTBR (s1Region) already. */
export function runStage1(p: Stage1Params, ia: bigint, ctx: WalkCtx): LpaeOutcome {
  const cfg = stage1Config(p);
  return walkLpaeStage(cfg, Number(BigInt.asUintN(cfg.inputBits, ia)), ctx);
}

export interface Stage2Params {
  tableAddress: number;
  t0sz: number;
  startLevel: number;
  granuleShift: number;
  outputBits: number;
  ds?: boolean;
  afNoFault?: boolean;
  hd?: boolean;
  xnx?: boolean;
  bigEndian?: boolean;
}

/** Stage-2 walk including the IPA range check (D8.2: IPA >= 2^(64-T0SZ) -> Translation fault level 0... start). */
export function runStage2(p: Stage2Params, ipa: number, ctx: WalkCtx): LpaeOutcome {
  const inputBits = 64 - p.t0sz;
  if (ipa >= P2(inputBits)) {
    ctx.steps.push({
      structure: 'stage-2 input range check',
      level: p.startLevel,
      decoded: { ipa: hexn(ipa), inputBits },
      rule: 'DDI0487 D8.2.2: an IPA at or above 2^(64-T0SZ) is outside the stage-2 input range -> stage-2 Translation fault',
      ok: false,
      stage: 'stage 2',
    });
    return fail(2, 'translation', p.startLevel, 'table-entry', `IPA ${hexn(ipa)} is outside the ${inputBits}-bit stage-2 input range (T0SZ=${p.t0sz})`);
  }
  return walkLpaeStage(
    {
      stage: 2,
      granuleShift: p.granuleShift,
      inputBits,
      startLevel: p.startLevel,
      tableAddress: p.tableAddress,
      outputBits: p.outputBits,
      ds: p.ds,
      afNoFault: p.afNoFault,
      hd: p.hd,
      xnx: p.xnx,
      bigEndian: p.bigEndian,
      twoPrivilege: true,
    },
    ipa,
    ctx,
  );
}

/** Stage-2 translator for the stage-1 descriptor fetches of a nested walk: a read, checked against S2AP. */
export function s2FetchTranslator(p: Stage2Params): (ipa: number, ctx: WalkCtx) => LpaeOutcome {
  return (ipa, ctx) => {
    const saved = ctx.access;
    ctx.access = 'read';
    try {
      return runStage2(p, ipa, ctx);
    } finally {
      ctx.access = saved;
    }
  };
}

/** 2^(64-TxSZ) by TxSZ (0..64) */
const TTBR0_LIMIT = Array.from({ length: 65 }, (_, tsz) => 1n << BigInt(64 - tsz));

/**
 * Which TTBR covers a stage-1 VA (D8.2.4): 0 when bits [63:IAsize] are all 0, 1 when all 1,
 * undefined in the gap. With TBI the top byte is left out of the check.
 */
export function s1Region(ia: bigint, t0sz: number, t1sz: number, tbi0 = false, tbi1 = false): 0 | 1 | undefined {
  // below 2^(64-T0SZ) the checked value (ia itself, or its low 56 bits) has no bit above the TTBR0 range
  const limit0 = TTBR0_LIMIT[t0sz];
  if (limit0 !== undefined && ia >= 0n && ia < limit0) return 0;
  const top55 = (ia >> 55n) & 1n;
  const tbi = top55 === 0n ? tbi0 : tbi1;
  const v = tbi ? BigInt.asUintN(56, ia) : BigInt.asUintN(64, ia);
  const width = tbi ? 56 : 64;
  const hi0 = v >> BigInt(64 - t0sz);
  if (hi0 === 0n) return 0;
  const hi1 = v >> BigInt(64 - t1sz);
  if (hi1 === (1n << BigInt(width - (64 - t1sz))) - 1n) return 1;
  return undefined;
}

export function intersectPerms(a: Permissions, b: Permissions): Permissions {
  const p: Permissions = { read: a.read && b.read, write: a.write && b.write, exec: a.exec && b.exec };
  if (a.user !== undefined) p.user = a.user;
  return p;
}

/** Combine a successful stage-1 output with a stage-2 outcome into the final outcome. */
export function finishNested(s1: LpaeSuccess, s2: LpaeOutcome): LpaeOutcome {
  if (!s2.ok) return s2;
  return { ok: true, oa: s2.oa, pageShift: Math.min(s1.pageShift, s2.pageShift), level: s2.level, perms: intersectPerms(s1.perms, s2.perms) };
}

export function successResult(o: LpaeSuccess, steps: WalkStep[], findings: SanityFinding[]): WalkResult {
  const r: WalkResult = { result: 'translated', pa: hexn(o.oa), pageSize: P2(o.pageShift), permissions: o.perms, steps };
  if (findings.length) r.findings = findings;
  return r;
}

export function faultResult(fault: WalkFault, steps: WalkStep[], findings: SanityFinding[]): WalkResult {
  const r: WalkResult = { result: 'fault', steps, fault };
  if (findings.length) r.findings = findings;
  return r;
}

export function newCtx(mem: PhysicalMemory, req: WalkRequest): WalkCtx {
  const ctx: WalkCtx = { mem, steps: [], findings: [], privileged: req.privileged === true };
  if (req.access !== undefined) ctx.access = req.access;
  return ctx;
}

// ---------------------------------------------------------------------------------------------
// The bare 'arm-lpae' model: TCR_EL1/TTBRn_EL1/MAIR_EL1 and/or VTCR_EL2/VTTBR_EL2.

/** ESR DFSC codes (DDI0487 D24 ISS encoding for Data Aborts) for the level-numbered faults. */
function dfsc(kind: LpaeFaultKind, level: number): number | undefined {
  if (level === -1) {
    return kind === 'translation' ? 0x2b : kind === 'address-size' ? 0x29 : kind === 'external-abort' ? 0x13 : undefined;
  }
  switch (kind) {
    case 'address-size': return 0x00 + level;
    case 'translation': return 0x04 + level;
    case 'access-flag': return 0x08 + level;
    case 'permission': return 0x0c + level;
    case 'external-abort': return 0x14 + level;
    default: return undefined;
  }
}

const KIND_NAME: Record<LpaeFaultKind, string> = {
  translation: 'TRANSLATION',
  'access-flag': 'ACCESS_FLAG',
  permission: 'PERMISSION',
  'address-size': 'ADDRESS_SIZE',
  'external-abort': 'SEA_ON_WALK',
  configuration: 'CONFIGURATION',
};

export function lpaeFault(f: LpaeFailure): WalkFault {
  const code = dfsc(f.kind, f.level);
  const where = f.duringS1TableFetch ? ' (stage 2, while fetching a stage-1 table descriptor)' : f.stage === 2 ? ' (stage 2)' : '';
  const wf: WalkFault = { stage: f.walkStage, level: f.level, reason: { name: KIND_NAME[f.kind], text: f.text + where } };
  if (code !== undefined) wf.reason.code = code;
  return wf;
}

function configFault(text: string, steps: WalkStep[], findings: SanityFinding[], where: string): WalkResult {
  findings.push({ severity: 'error', where, message: text });
  steps.push({ structure: where, rule: 'DDI0487 D8.2: translation control register check', ok: false, decoded: { problem: text } });
  return faultResult({ stage: 'configuration', reason: { name: 'CONFIGURATION', text } }, steps, findings);
}

function bit(v: bigint, n: number): boolean {
  return ((v >> BigInt(n)) & 1n) === 1n;
}
function field(v: bigint, lo: number, width: number): number {
  return Number((v >> BigInt(lo)) & ((1n << BigInt(width)) - 1n));
}

/** Stage-2 parameters from a VTCR_EL2-layout value (also SMMUv2 S2 context TCR). */
export function stage2FromVtcr(vtcr: bigint, vttbr: bigint, maxOas: number | undefined): Stage2Params | string {
  const t0sz = field(vtcr, 0, 6);
  const sl0 = field(vtcr, 6, 2);
  const g = granuleFromTg0(field(vtcr, 14, 2));
  if (g === undefined) return 'VTCR.TG0 = 3 is a reserved granule encoding';
  const ds = bit(vtcr, 32);
  const start = s2StartLevel(sl0, g, ds, bit(vtcr, 33));
  if (start === undefined) return `VTCR.SL0=${sl0} is reserved for the ${granuleName(g)} granule`;
  const bad = checkS2Size(t0sz, start, g, { ds });
  if (bad) return 'VTCR: ' + bad;
  let ps = paBits(field(vtcr, 16, 3)) ?? 52;
  if (ps === 52 && g !== 16 && !ds) ps = 48;
  if (maxOas !== undefined && ps > maxOas) ps = maxOas;
  return { tableAddress: ttbrAddress(vttbr, ps === 52), t0sz, startLevel: start, granuleShift: g, outputBits: ps, ds, afNoFault: bit(vtcr, 21), hd: bit(vtcr, 22) };
}

/** Stage-1 parameters of one TTBR half, or why the TCR does not allow a walk through it. */
interface RegionSetup {
  error?: string;
  params?: Stage1Params;
  /** stage walk configuration of params, for walks without a stage 2 */
  cfg?: LpaeStageConfig;
  epd?: boolean;
  stepDecoded?: Record<string, unknown>;
}

/** The regime decoded from the registers once per snapshot (registers never change during walks). */
interface LpaeRegime {
  key: (bigint | number | undefined)[];
  error?: string;
  errorWhere?: string;
  s2?: Stage2Params;
  s2Decoded?: Record<string, unknown>;
  hasS1: boolean;
  t0sz: number;
  t1sz: number;
  tbi0: boolean;
  tbi1: boolean;
  /** VA limit of TTBR0 without TBI: the fast path of the range check */
  ttbr0Limit: bigint;
  regions: [RegionSetup | undefined, RegionSetup | undefined];
}

const regimeCache = new WeakMap<object, LpaeRegime>();

function regimeKey(snap: Snapshot): (bigint | number | undefined)[] {
  const r = snap.registers;
  return [r.tcr, r.ttbr0, r.ttbr1, r.mair, r.vtcr, r.vttbr, snap.features.oas];
}

/** the registers are still those the regime was decoded from (checked per walk, without allocating) */
function sameRegisters(k: (bigint | number | undefined)[], snap: Snapshot): boolean {
  const r = snap.registers;
  return k[0] === r.tcr && k[1] === r.ttbr0 && k[2] === r.ttbr1 && k[3] === r.mair && k[4] === r.vtcr && k[5] === r.vttbr && k[6] === snap.features.oas;
}

function regionSetup(snap: Snapshot, region: 0 | 1): RegionSetup | undefined {
  const r = snap.registers;
  const tcr = r.tcr!;
  const ttbr = region === 0 ? r.ttbr0 : r.ttbr1;
  if (ttbr === undefined) return undefined;
  const g = region === 0 ? granuleFromTg0(field(tcr, 14, 2)) : granuleFromTg1(field(tcr, 30, 2));
  if (g === undefined) return { error: `TCR.TG${region} holds a reserved granule encoding` };
  const tsz = field(tcr, region === 0 ? 0 : 16, 6);
  const ds = bit(tcr, 59);
  const bad = checkS1Size(tsz, g, { ds, minTsz: ds || g === 16 ? 12 : 16, maxTsz: 39 });
  if (bad) return { error: `TCR.T${region}SZ: ${bad}` };
  let ips = paBits(field(tcr, 32, 3)) ?? 52;
  if (ips === 52 && g !== 16 && !ds) ips = 48;
  if (snap.features.oas !== undefined && ips > snap.features.oas) ips = snap.features.oas;
  const epd = bit(tcr, region === 0 ? 7 : 23);
  const tableAddress = ttbrAddress(ttbr, ips === 52);
  const params: Stage1Params = { tableAddress, tsz, granuleShift: g, outputBits: ips, ds, had: bit(tcr, region === 0 ? 41 : 42), afNoFault: bit(tcr, 39), hd: bit(tcr, 40), mair: r.mair };
  return {
    epd,
    params,
    cfg: stage1Config(params),
    stepDecoded: { ttbr: region, tsz, inputBits: 64 - tsz, granule: granuleName(g), startLevel: s1StartLevel(64 - tsz, g), outputBits: ips, table: hexn(tableAddress), asid: hexn(Number(ttbr >> 48n)), epd: epd ? 1 : 0 },
  };
}

let lastRegisters: object | undefined;
let lastRegime: LpaeRegime | undefined;

function lpaeRegime(snap: Snapshot): LpaeRegime {
  // a batch walks one snapshot: its regime is checked before the per-registers cache
  if (snap.registers === lastRegisters && sameRegisters(lastRegime!.key, snap)) return lastRegime!;
  const reg = decodedRegime(snap);
  lastRegisters = snap.registers;
  lastRegime = reg;
  return reg;
}

function decodedRegime(snap: Snapshot): LpaeRegime {
  const cached = regimeCache.get(snap.registers);
  if (cached && sameRegisters(cached.key, snap)) return cached;
  const key = regimeKey(snap);
  const r = snap.registers;
  const hasS1 = r.tcr !== undefined && (r.ttbr0 !== undefined || r.ttbr1 !== undefined);
  const hasS2 = r.vtcr !== undefined && r.vttbr !== undefined;
  const tcr = r.tcr ?? 0n;
  const t0sz = field(tcr, 0, 6);
  const reg: LpaeRegime = {
    key,
    hasS1,
    t0sz,
    t1sz: field(tcr, 16, 6),
    tbi0: bit(tcr, 37),
    tbi1: bit(tcr, 38),
    ttbr0Limit: 1n << BigInt(64 - t0sz),
    regions: [undefined, undefined],
  };
  if (!hasS1 && !hasS2) {
    reg.error = 'the snapshot has neither tcr+ttbr0/ttbr1 (stage 1) nor vtcr+vttbr (stage 2)';
    reg.errorWhere = 'registers';
  } else if (hasS2) {
    const p = stage2FromVtcr(r.vtcr!, r.vttbr!, snap.features.oas);
    if (typeof p === 'string') {
      reg.error = p;
      reg.errorWhere = 'vtcr';
    } else {
      reg.s2 = p;
      reg.s2Decoded = { t0sz: p.t0sz, startLevel: p.startLevel, granule: granuleName(p.granuleShift), outputBits: p.outputBits, table: hexn(p.tableAddress), concatenatedTables: Math.max(1, P2(Math.max(0, 64 - p.t0sz - levelShift(p.startLevel - 1, p.granuleShift)))) };
    }
  }
  if (hasS1) reg.regions = [regionSetup(snap, 0), regionSetup(snap, 1)];
  regimeCache.set(snap.registers, reg);
  return reg;
}

export function walkArmLpae(snap: Snapshot, req: WalkRequest): WalkResult {
  const ctx = newCtx(snap.memory, req);
  const { steps, findings } = ctx;
  const reg = lpaeRegime(snap);
  if (reg.error) return configFault(reg.error, steps, findings, reg.errorWhere!);
  const s2 = reg.s2;
  if (s2) {
    steps.push({ structure: 'VTCR/VTTBR', decoded: reg.s2Decoded, rule: 'DDI0487 D8.2.2: stage-2 start level from VTCR.SL0, input size 64-T0SZ, concatenated initial tables', ok: true, stage: 'stage 2' });
  }
  if (!reg.hasS1) {
    const o = runStage2(s2!, req.iova > MAX_IPA ? P2(53) : Number(req.iova), ctx);
    return o.ok ? successResult(o, steps, findings) : faultResult(lpaeFault(o), steps, findings);
  }
  // TTBR0 without TBI: the common case, decided by one range check
  const inTtbr0 = req.iova >= 0n && req.iova < reg.ttbr0Limit && !reg.tbi0;
  const region = inTtbr0 ? 0 : s1Region(req.iova, reg.t0sz, reg.t1sz, reg.tbi0, reg.tbi1);
  const setup = region === undefined ? undefined : reg.regions[region];
  if (setup === undefined) {
    const iovaHex = '0x' + req.iova.toString(16);
    steps.push({ structure: 'TTBR selection', decoded: { va: iovaHex, t0sz: reg.t0sz, t1sz: reg.t1sz, region: region ?? 'none' }, rule: 'DDI0487 D8.2.4: VA bits [63:64-TnSZ] must be all 0 (TTBR0) or all 1 (TTBR1); otherwise Translation fault level 0', ok: false, stage: 'stage 1' });
    return faultResult(lpaeFault(fail(1, 'translation', 0, 'table-entry', `VA ${iovaHex} is outside both TTBR0 (${64 - reg.t0sz}-bit) and TTBR1 ranges`)), steps, findings);
  }
  if (setup.error) return configFault(setup.error, steps, findings, 'tcr');
  steps.push({
    structure: region === 0 ? 'TCR/TTBR0' : 'TCR/TTBR1',
    decoded: setup.stepDecoded,
    rule: 'DDI0487 D8.2.4/D8.2.6: TTBR selected by the VA top bits; start level 4 - ceil((IAsize - g) / (g - 3))',
    ok: !setup.epd,
    stage: 'stage 1',
  });
  if (setup.epd) {
    return faultResult(lpaeFault(fail(1, 'translation', 0, 'table-entry', `TCR.EPD${region}=1: walks through TTBR${region} are disabled`)), steps, findings);
  }
  if (!s2) {
    const cfg = setup.cfg!;
    // in TTBR0's range the VA is already below 2^inputBits
    const o = walkLpaeStage(cfg, inTtbr0 ? Number(req.iova) : Number(BigInt.asUintN(cfg.inputBits, req.iova)), ctx);
    return o.ok ? successResult(o, steps, findings) : faultResult(lpaeFault(o), steps, findings);
  }
  const o1 = runStage1({ ...setup.params!, fetchTranslator: s2FetchTranslator(s2) }, req.iova, ctx);
  if (!o1.ok) return faultResult(lpaeFault(o1), steps, findings);
  const o = finishNested(o1, runStage2(s2, o1.oa, ctx));
  return o.ok ? successResult(o, steps, findings) : faultResult(lpaeFault(o), steps, findings);
}
