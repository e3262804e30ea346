/**
 * Intel VT-d DMA-remapping walk emulator: RTADDR -> root entry -> context entry -> (scalable mode:
 * PASID directory -> PASID entry) -> second-stage, first-stage, nested or pass-through translation.
 *
 * Follows the architecture as summarised in reference/pagetable-formats.md section 4; where QEMU
 * deviates (legacy codes in scalable mode, PASID 0 instead of RID_PASID, global first/second-stage
 * choice) the specification is followed and the rule text says so.
 *
 * Entries are split into 32-bit halves held in Numbers so field extraction allocates nothing; table
 * addresses (at most 52 bits) are Numbers too, read through the memory's BigInt-free readWords.
 */
import type { Snapshot } from '../snapshot/types';
import type { PhysicalMemory } from '../snapshot/memory';
import type { Access, Permissions, SanityFinding, WalkFault, WalkRequest, WalkResult, WalkStage, WalkStep } from './types';
import { hexAddr } from './types';
import { hexn, pow2, readWordsLE } from './words';

// ---------------------------------------------------------------------------------------------
// Bit helpers shared with the AMD-Vi walker (x86 formats, same little-endian qwords)

export const TWO32 = 4294967296;

/** bits [s, s+n) of the 64-bit value (lo, hi); n <= 31 */
export function bitsOf(lo: number, hi: number, s: number, n: number): number {
  const m = n >= 31 ? 0x7fffffff : (1 << n) - 1;
  if (s >= 32) return (hi >>> (s - 32)) & m;
  if (s + n <= 32) return (lo >>> s) & m;
  return ((lo >>> s) | (hi << (32 - s))) & m;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** split a 64-bit value into 32-bit halves; the common < 2^53 case costs one conversion */
export function splitQ(v: bigint, out: { lo: number; hi: number }): void {
  if (v >= 0n && v <= MAX_SAFE) {
    const n = Number(v);
    out.lo = n >>> 0;
    out.hi = Math.floor(n / TWO32);
  } else {
    out.lo = loOf(v);
    out.hi = hiOf(v);
  }
}

/** low 32 bits of a qword as an unsigned Number */
export function loOf(v: bigint): number {
  return Number(BigInt.asUintN(32, v));
}

/** bits 63:32 of a qword as an unsigned Number */
export function hiOf(v: bigint): number {
  return Number(BigInt.asUintN(32, v >> 32n));
}

/** bits [51:12] of (lo, hi) kept in place: a 4 KiB-aligned physical address as a Number */
export function addr4k(lo: number, hi: number): number {
  return (hi & 0xfffff) * TWO32 + ((lo & 0xfffff000) >>> 0);
}

/** mask of bits [51:haw] of a qword, as its high-half part (haw >= 32) */
export function aboveHawHi(haw: number): number {
  if (haw >= 52) return 0;
  return (0xfffff & ~((1 << (haw - 32)) - 1)) >>> 0;
}

const HEX16 = '0000000000000000';

/** a qword as 16 lowercase hex digits (no prefix) */
export function qhex(v: bigint): string {
  const s = v.toString(16);
  return s.length >= 16 ? s : HEX16.slice(s.length) + s;
}

export function hexN(n: number): string {
  return '0x' + n.toString(16);
}

const ZERO8 = '00000000';

/** 32-bit unsigned as 8 hex digits */
export function hex8(x: number): string {
  const s = x.toString(16);
  return s.length === 8 ? s : ZERO8.slice(s.length) + s;
}

/** a qword held as (lo, hi) as 16 hex digits */
export function whex(lo: number, hi: number): string {
  return (hi === 0 ? ZERO8 : hex8(hi)) + hex8(lo);
}

/** integer log2 of a power of two given as a Number */
export function log2(n: number): number {
  return Math.round(Math.log2(n));
}

// ---------------------------------------------------------------------------------------------
// Fault reasons: code -> Linux dmar.c text (dma_remap_fault_reasons[] / dma_remap_sm_fault_reasons[])

interface Reason { name: string; text: string }

const REASONS: Record<number, Reason> = {
  0x1: { name: 'ROOT_ENTRY_NOT_PRESENT', text: 'Present bit in root entry is clear' },
  0x2: { name: 'CONTEXT_ENTRY_NOT_PRESENT', text: 'Present bit in context entry is clear' },
  0x3: { name: 'CONTEXT_ENTRY_INVALID', text: 'Invalid context entry' },
  0x4: { name: 'ADDR_BEYOND_MGAW', text: 'Access beyond MGAW' },
  0x5: { name: 'PTE_WRITE', text: 'PTE Write access is not set' },
  0x6: { name: 'PTE_READ', text: 'PTE Read access is not set' },
  0x7: { name: 'NEXT_TABLE_PTR_INVALID', text: 'Next page table ptr is invalid' },
  0x8: { name: 'ROOT_TABLE_ADDR_INVALID', text: 'Root table address invalid' },
  0x9: { name: 'CONTEXT_TABLE_PTR_INVALID', text: 'Context table ptr is invalid' },
  0xa: { name: 'ROOT_ENTRY_RESERVED', text: 'non-zero reserved fields in RTP' },
  0xb: { name: 'CONTEXT_ENTRY_RESERVED', text: 'non-zero reserved fields in CTP' },
  0xc: { name: 'PTE_RESERVED', text: 'non-zero reserved fields in PTE' },
  0xd: { name: 'TRANSLATION_TYPE_BLOCKED', text: 'PCE for translation request specifies blocking' },
  0xe: { name: 'INTERRUPT_ADDRESS', text: 'Output address in the interrupt address range (QEMU VTD_FR_INTERRUPT_ADDR; Linux prints "Unknown")' },
  0x30: { name: 'SM_ROOT_TABLE_ADDR_INVALID', text: 'SM: Invalid Root Table Address' },
  0x31: { name: 'SM_TTM0_PASID_REQUEST', text: 'SM: TTM 0 for request with PASID' },
  0x38: { name: 'SM_ROOT_ENTRY_ACCESS', text: 'SM: Error attempting to access Root Entry' },
  0x39: { name: 'SM_ROOT_ENTRY_NOT_PRESENT', text: 'SM: Present bit in Root Entry is clear' },
  0x3a: { name: 'SM_ROOT_ENTRY_RESERVED', text: 'SM: Non-zero reserved field set in Root Entry' },
  0x40: { name: 'SM_CONTEXT_ENTRY_ACCESS', text: 'SM: Error attempting to access Context Entry' },
  0x41: { name: 'SM_CONTEXT_ENTRY_NOT_PRESENT', text: 'SM: Present bit in Context Entry is clear' },
  0x42: { name: 'SM_CONTEXT_ENTRY_RESERVED', text: 'SM: Non-zero reserved field set in the Context Entry' },
  0x43: { name: 'SM_CONTEXT_ENTRY_INVALID', text: 'SM: Invalid Context Entry' },
  0x45: { name: 'SM_PASIDE_CLEAR', text: 'SM: PASID Enable field in Context Entry is clear' },
  0x46: { name: 'SM_PASID_TOO_LARGE', text: 'SM: PASID is larger than the max in Context Entry' },
  0x50: { name: 'SM_PASID_DIR_ACCESS', text: 'SM: Error attempting to access the PASID Directory Entry' },
  0x51: { name: 'SM_PASID_DIR_NOT_PRESENT', text: 'SM: Present bit in Directory Entry is clear' },
  0x52: { name: 'SM_PASID_DIR_RESERVED', text: 'SM: Non-zero reserved field set in PASID Directory Entry' },
  0x58: { name: 'SM_PASID_ENTRY_ACCESS', text: 'SM: Error attempting to access PASID Table Entry' },
  0x59: { name: 'SM_PASID_ENTRY_NOT_PRESENT', text: 'SM: Present bit in PASID Table Entry is clear' },
  0x5a: { name: 'SM_PASID_ENTRY_RESERVED', text: 'SM: Non-zero reserved field set in PASID Table Entry' },
  0x5b: { name: 'SM_PASID_ENTRY_INVALID', text: 'SM: Invalid Scalable-Mode PASID Table Entry' },
  0x5c: { name: 'SM_ERE_CLEAR', text: 'SM: ERE field is clear in PASID Table Entry' },
  0x5d: { name: 'SM_SRE_CLEAR', text: 'SM: SRE field is clear in PASID Table Entry' },
  0x70: { name: 'SM_FL_ENTRY_ACCESS', text: 'SM: Error attempting to access first-level paging entry' },
  0x71: { name: 'SM_FL_ENTRY_NOT_PRESENT', text: 'SM: Present bit in first-level paging entry is clear' },
  0x72: { name: 'SM_FL_ENTRY_RESERVED', text: 'SM: Non-zero reserved field set in first-level paging entry' },
  0x73: { name: 'SM_FL_PML4_ACCESS', text: 'SM: Error attempting to access FL-PML4 entry' },
  0x74: { name: 'SM_FL_ADDR_BEYOND_MGAW_NESTED', text: 'SM: First-level entry address beyond MGAW in Nested translation' },
  0x75: { name: 'SM_FL_PML4_READ_NESTED', text: 'SM: Read permission error in FL-PML4 entry in Nested translation' },
  0x76: { name: 'SM_FL_READ_NESTED', text: 'SM: Read permission error in first-level paging entry in Nested translation' },
  0x78: { name: 'SM_SL_ENTRY_ACCESS', text: 'SM: Error attempting to access second-level paging entry' },
  0x79: { name: 'SM_SL_PERMISSION', text: 'SM: Read/Write permission error in second-level paging entry' },
  0x7a: { name: 'SM_SL_ENTRY_RESERVED', text: 'SM: Non-zero reserved field set in second-level paging entry' },
  0x7b: { name: 'SM_SL_TABLE_PTR_INVALID', text: 'SM: Invalid second-level page table pointer' },
  0x80: { name: 'SM_FL_NON_CANONICAL', text: 'SM: Address in first-level translation is not canonical' },
  0x81: { name: 'SM_FL_US_CLEAR', text: 'SM: U/S set 0 for first-level translation with user privilege' },
  0x82: { name: 'SM_NO_EXECUTE', text: 'SM: No execute permission for request with PASID and ER=1' },
  0x83: { name: 'SM_ADDR_BEYOND_MAX', text: 'SM: Address beyond the DMA hardware max' },
  0x85: { name: 'SM_NO_WRITE', text: 'SM: No write permission for Write/AtomicOp request' },
  0x86: { name: 'SM_NO_READ', text: 'SM: No read permission for Read/AtomicOp request' },
  0x87: { name: 'SM_INTERRUPT_ADDRESS', text: 'SM: Invalid address-interrupt address' },
};

/** Reasons that FPD=1 suppresses (QEMU vtd_qualified_faults[], VT-d 7.1.2 "qualified" faults) */
const QUALIFIED = new Set([0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0xc, 0xd, 0xe, 0x47, 0x51, 0x59, 0x5b, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x79, 0x7a, 0x80, 0x81, 0x82, 0x85, 0x86, 0x87]);

/** QEMU reports these scalable-mode conditions with legacy reasons (reference 4.6) */
const QEMU_LEGACY_CODE: Record<number, string> = {
  0x38: '0x8', 0x39: '0x1', 0x3a: '0xa', 0x40: '0x9', 0x41: '0x2', 0x42: '0xb', 0x43: '0x3',
  0x78: '0x7', 0x79: '0x5 or 0x6', 0x7a: '0xc', 0x7b: '0x3', 0x83: '0x4',
};

export function vtdFaultReason(code: number): { code: number; name: string; text: string } {
  const r = REASONS[code];
  return r ? { code, name: r.name, text: r.text } : { code, name: 'UNKNOWN', text: 'Unknown' };
}

// ---------------------------------------------------------------------------------------------

const SL_NAMES = ['', 'SL-PTE', 'SL-PDE', 'SL-PDPE', 'SL-PML4E', 'SL-PML5E'];
const FL_NAMES = ['', 'FL-PTE', 'FL-PDE', 'FL-PDPE', 'FL-PML4E', 'FL-PML5E'];
const PGTT_NAMES = ['reserved', 'first-stage', 'second-stage', 'nested', 'pass-through', 'reserved', 'reserved', 'reserved'];
const TT_NAMES = ['untranslated requests only (second-level)', 'all requests (second-level, device-TLB)', 'pass-through', 'reserved'];

const INTR_LO = 0xfee00000;
const INTR_HI = 0xfeefffff;

/** Where a second-stage walk is used: request IOVA, an FL table address (nested), or FL output (nested) */
const enum SlUse { Request, FlTable, FlOutput }

/**
 * What a snapshot's registers give every walk, computed once per snapshot (and again if a register
 * object changes): split CAP/ECAP, widths, and the register steps, shared frozen between results.
 */
interface SnapInfo {
  cap: bigint | undefined;
  ecap: bigint | undefined;
  oas: number | undefined;
  capLo: number;
  capHi: number;
  ecapLo: number;
  ecapHi: number;
  mgaw: number | undefined;
  haw: number;
  hawHiMask: number;
  gsts?: bigint;
  /** bits [31:0] of gsts */
  gstsLo: number;
  gstsStep?: WalkStep;
  rtaddr?: bigint;
  /** rtaddr as 32-bit halves */
  rtLo: number;
  rtHi: number;
  rtaddrStep?: WalkStep;
  /** successful entry steps by kind then entry address, reused while the entry's value is unchanged */
  entries: (Map<number, CachedStep> | undefined)[];
}

interface CachedStep {
  lo: number;
  hi: number;
  lo2?: number;
  hi2?: number;
  /** 256/512-bit entries: every 32-bit word */
  words?: Uint32Array;
  /** what else the step text depends on (the PASID looked up) */
  tag?: number;
  step: WalkStep;
}

/** entry-step cache kinds: SL level L (+5 in nested), FL level L (+5 in nested), root and context entries */
const K_SL = 0, K_FL = 10, K_ROOT = 21, K_CTX = 24, K_SMCTX = 25, K_PDIR = 26, K_PE = 27;
const CACHE_MAX = 1 << 16;

const INFO = new WeakMap<Snapshot, SnapInfo>();

function infoOf(snap: Snapshot): SnapInfo {
  const r = snap.registers;
  const cap = r['cap'], ecap = r['ecap'], oas = snap.features.oas;
  let i = INFO.get(snap);
  if (i && i.cap === cap && i.ecap === ecap && i.oas === oas) return i;
  const capLo = cap === undefined ? 0 : loOf(cap), capHi = cap === undefined ? 0 : hiOf(cap);
  // HAW is a platform value (ACPI DMAR), not a register: the manifest's oas, else the format's 52 bits
  const haw = oas !== undefined && oas >= 32 && oas <= 52 ? oas : 52;
  i = {
    cap, ecap, oas, capLo, capHi,
    ecapLo: ecap === undefined ? 0 : loOf(ecap), ecapHi: ecap === undefined ? 0 : hiOf(ecap),
    mgaw: cap === undefined ? undefined : bitsOf(capLo, capHi, 16, 6) + 1,
    haw, hawHiMask: aboveHawHi(haw), entries: [], gstsLo: 0, rtLo: 0, rtHi: 0,
  };
  INFO.set(snap, i);
  return i;
}

function frozenStep(s: WalkStep): WalkStep {
  if (s.decoded) Object.freeze(s.decoded);
  return Object.freeze(s);
}

export type Requester = { seg: number; bus: number; devfn: number };
// batches walk many addresses of one device: remember the last text parsed
let lastDevice: string | undefined;
let lastRequester: Requester | string = '';

/** Parsed requester: segment, bus, devfn; or an error text */
function parseRequester(req: WalkRequest): Requester | string {
  if (req.device !== undefined) {
    if (req.device === lastDevice) return lastRequester;
    lastRequester = parseDevice(req.device);
    lastDevice = req.device;
    return lastRequester;
  }
  if (req.streamId !== undefined) {
    if (!Number.isInteger(req.streamId) || req.streamId < 0 || req.streamId > 0xffff) return `requester ID ${req.streamId} is not a 16-bit value`;
    return { seg: 0, bus: req.streamId >> 8, devfn: req.streamId & 0xff };
  }
  return 'a VT-d walk needs the requester: --device BDF (or a 16-bit requester ID)';
}

/** "DDDD:BB:DD.F" (segment optional, brackets allowed) -> requester; exported for the AMD-Vi walker */
export function parseDevice(device: string): Requester | string {
  const m = /^\[?(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])\]?$/.exec(device.trim());
  if (!m) return `device "${device}" is not a PCI address (DDDD:BB:DD.F)`;
  const dev = parseInt(m[3]!, 16);
  if (dev > 0x1f) return `device number 0x${dev.toString(16)} in "${device}" is above 0x1f`;
  return { seg: m[1] ? parseInt(m[1], 16) : 0, bus: parseInt(m[2]!, 16), devfn: (dev << 3) | parseInt(m[4]!, 10) };
}

/** scratch of VtdWalk.rd() and of its wide entries: one walk runs at a time */
const QWORD = new Uint32Array(2);
const WIDE_WORDS = new Uint32Array(16);
const TWO64 = 1n << 64n;

class VtdWalk {
  readonly steps: WalkStep[] = [];
  findings: SanityFinding[] | undefined;
  private readonly mem: PhysicalMemory;
  private readonly cap: bigint | undefined;
  private readonly ecap: bigint | undefined;
  private readonly haw: number;
  private readonly hawHiMask: number;
  private readonly mgaw: number | undefined;
  private readonly capLo: number;
  private readonly capHi: number;
  private readonly ecapLo: number;
  private readonly ecapHi: number;
  private sm = false;
  /** FPD seen on the way (context, PASID dir, PASID entry): qualified faults would not be recorded */
  private fpd: string | undefined;

  private readonly access: Access | undefined;
  private isWrite: boolean;
  private isExec: boolean;
  private priv: boolean;
  private hasPasid: boolean;

  private readonly iova: bigint;
  private readonly iovaLo: number;
  private readonly iovaHi: number;

  // second-stage walk outputs
  private slPa = 0;
  private slSize = 0;
  private slR = true;
  private slW = true;
  private slX = true;
  private sse = false;
  // first-stage walk outputs
  private flPa = 0;
  private flSize = 0;
  private flW = true;
  private flU = true;
  private flX = true;
  private wpe = false;
  private ere = false;

  private readonly info: SnapInfo;

  constructor(private readonly snap: Snapshot, private readonly req: WalkRequest) {
    this.mem = snap.memory;
    const i = (this.info = infoOf(snap));
    this.cap = i.cap;
    this.ecap = i.ecap;
    this.capLo = i.capLo;
    this.capHi = i.capHi;
    this.ecapLo = i.ecapLo;
    this.ecapHi = i.ecapHi;
    this.mgaw = i.mgaw;
    this.haw = i.haw;
    this.hawHiMask = i.hawHiMask;
    this.access = req.access;
    this.isWrite = req.access === 'write';
    this.isExec = req.access === 'exec';
    this.priv = req.privileged === true;
    this.hasPasid = req.pasid !== undefined;
    this.iova = req.iova >= 0n && req.iova <= MAX_SAFE ? req.iova : BigInt.asUintN(64, req.iova);
    splitQ(this.iova, this);
    this.iovaLo = this.lo;
    this.iovaHi = this.hi;
  }

  private capBit(b: number): boolean | undefined {
    if (this.cap === undefined) return undefined;
    return (b >= 32 ? (this.capHi >>> (b - 32)) & 1 : (this.capLo >>> b) & 1) === 1;
  }

  private ecapBit(b: number): boolean | undefined {
    if (this.ecap === undefined) return undefined;
    return (b >= 32 ? (this.ecapHi >>> (b - 32)) & 1 : (this.ecapLo >>> b) & 1) === 1;
  }


  // scratch of rd(): the qword just read, as 32-bit halves
  lo = 0;
  hi = 0;

  /** 64-bit little-endian read into lo/hi without bigint arithmetic; false when not in the snapshot */
  private rd(addr: number): boolean {
    if (!readWordsLE(this.mem, addr, QWORD)) return false;
    this.lo = QWORD[0]!;
    this.hi = QWORD[1]!;
    return true;
  }

  /** the shared step of an entry that succeeded before with the same value, if any */
  private hit(kind: number, addr: number): WalkStep | undefined {
    const c = this.info.entries[kind]?.get(addr);
    return c !== undefined && c.lo === this.lo && c.hi === this.hi ? c.step : undefined;
  }

  /** hit() for 128-bit entries */
  private hit2(kind: number, addr: number, lo: number, hi: number, lo2: number, hi2: number): WalkStep | undefined {
    const c = this.info.entries[kind]?.get(addr);
    return c !== undefined && c.lo === lo && c.hi === hi && c.lo2 === lo2 && c.hi2 === hi2 ? c.step : undefined;
  }

  /** scratch for 256/512-bit entries, as 32-bit words, least significant first (shared: walks never nest) */
  private readonly words = WIDE_WORDS;

  /** read `n` qwords at addr into words[]; false when any is not in the snapshot */
  private rdN(addr: number, n: number): boolean {
    for (let i = 0; i < n; i++) {
      if (!this.rd(addr + 8 * i)) return false;
      this.words[2 * i] = this.lo;
      this.words[2 * i + 1] = this.hi;
    }
    return true;
  }

  private hitW(kind: number, addr: number, n: number, tag: number): WalkStep | undefined {
    const c = this.info.entries[kind]?.get(addr);
    if (c === undefined || c.tag !== tag || !c.words) return undefined;
    for (let i = 0; i < 2 * n; i++) if (c.words[i] !== this.words[i]) return undefined;
    return c.step;
  }

  private rememberW(kind: number, addr: number, n: number, tag: number, step: WalkStep): void {
    let m = this.info.entries[kind];
    if (!m) m = this.info.entries[kind] = new Map();
    else if (m.size >= CACHE_MAX) m.clear();
    m.set(addr, { lo: 0, hi: 0, words: this.words.slice(0, 2 * n), tag, step: frozenStep(step) });
  }

  private wordsHex(n: number): string {
    let v = '0x';
    for (let i = 2 * n - 1; i >= 0; i--) v += hex8(this.words[i]!);
    return v;
  }

  private remember(kind: number, addr: number, lo: number, hi: number, step: WalkStep, lo2?: number, hi2?: number): void {
    let m = this.info.entries[kind];
    if (!m) m = this.info.entries[kind] = new Map();
    else if (m.size >= CACHE_MAX) m.clear();
    const c: CachedStep = { lo, hi, step: frozenStep(step) };
    if (lo2 !== undefined) { c.lo2 = lo2; c.hi2 = hi2!; }
    m.set(addr, c);
  }

  private finding(severity: SanityFinding['severity'], where: string, message: string): void {
    (this.findings ??= []).push({ severity, where, message });
  }

  private done(r: WalkResult): WalkResult {
    if (this.findings) r.findings = this.findings;
    return r;
  }

  private fail(stage: WalkStage, code: number | undefined, level?: number, name?: string, text?: string): WalkResult {
    const reason = code !== undefined ? vtdFaultReason(code) : { name: name ?? 'WALK_ERROR', text: text ?? '' };
    const fault: WalkFault = { stage, reason };
    if (level !== undefined) fault.level = level;
    if (code !== undefined && this.sm && QEMU_LEGACY_CODE[code] !== undefined) {
      this.finding('info', 'fault reason', `scalable-mode reason 0x${code.toString(16)} follows Linux's dma_remap_sm_fault_reasons[] (not confirmed against the VT-d specification); QEMU reports the legacy reason ${QEMU_LEGACY_CODE[code]} for this condition`);
    }
    if (code !== undefined && this.fpd && QUALIFIED.has(code)) {
      this.finding('info', this.fpd, `fault processing disable (FPD=1) in the ${this.fpd}: hardware would not record this qualified fault (reason 0x${code.toString(16)}); the device sees an aborted request without a fault log entry`);
    }
    return this.done({ result: 'fault', steps: this.steps, fault });
  }

  /** a configuration error that no fault code describes (missing register, unsupported request) */
  private configError(name: string, text: string): WalkResult {
    return this.fail('configuration', undefined, undefined, name, text);
  }

  private absentStep(structure: string, address: number, rule: string, level?: number, stage?: string): void {
    const s: WalkStep = { structure, address: hexN(address), decoded: { inSnapshot: false }, rule: `${rule}: address not in the snapshot's memory (read as a bus error)`, ok: false };
    if (level !== undefined) s.level = level;
    if (stage) s.stage = stage;
    this.steps.push(s);
  }

  private translated(pa: bigint | number, pageSize: number | undefined, permissions: Permissions): WalkResult {
    const r: WalkResult = { result: 'translated', pa: typeof pa === 'number' ? hexn(pa) : hexAddr(pa), steps: this.steps, permissions };
    if (pageSize !== undefined) r.pageSize = pageSize;
    return this.done(r);
  }

  private identity(rule: string, structure: string): WalkResult {
    this.steps.push({ structure, rule, ok: true });
    return this.translated(this.iova, undefined, { read: true, write: true, exec: true });
  }

  run(): WalkResult {
    const rq = parseRequester(this.req);
    if (typeof rq === 'string') return this.configError('NO_REQUESTER', rq);
    const { seg, bus, devfn } = rq;
    if (seg !== 0) {
      this.finding('warning', 'request', `segment ${seg.toString(16).padStart(4, '0')}: the snapshot does not record which PCI segment this DMAR unit serves; walked as if it serves it`);
    }
    if (this.req.pasid !== undefined && (!Number.isInteger(this.req.pasid) || this.req.pasid < 0 || this.req.pasid > 0xfffff)) {
      return this.configError('BAD_PASID', `PASID ${this.req.pasid} is not a 20-bit value`);
    }
    if (this.req.iova < 0n || this.req.iova >= TWO64) return this.configError('BAD_IOVA', `address ${this.req.iova} is not a 64-bit value`);

    const gsts = this.snap.registers['gsts'];
    if (gsts !== undefined) {
      const info = this.info;
      // registers keep their value across a batch: split and describe them once
      if (info.gsts !== gsts || !info.gstsStep) {
        splitQ(gsts, this);
        const g0 = this.lo;
        const tes0 = (g0 >>> 31) & 1;
        info.gsts = gsts;
        info.gstsLo = g0;
        info.gstsStep = frozenStep({
          structure: 'GSTS', value: '0x' + g0.toString(16).padStart(8, '0'),
          decoded: { TES: tes0, RTPS: (g0 >>> 30) & 1, FLS: (g0 >>> 29) & 1, QIES: (g0 >>> 26) & 1, IRES: (g0 >>> 25) & 1 },
          rule: tes0 ? 'VT-d 11.4.5 GSTS.TES=1: DMA remapping enabled' : 'VT-d 11.4.5 GSTS.TES=0: DMA remapping disabled, requests pass untranslated',
          ok: true,
        });
      }
      const g = info.gstsLo;
      const tes = (g >>> 31) & 1;
      this.steps.push(info.gstsStep);
      if (!tes) return this.translated(this.iova, undefined, { read: true, write: true, exec: true });
      if (!((g >>> 30) & 1)) this.finding('warning', 'GSTS.RTPS', 'root-table pointer status is 0: the RTADDR value may not be the table in use');
    }

    const rtaddr = this.snap.registers['rtaddr'];
    if (rtaddr === undefined) return this.configError('NO_RTADDR', 'the snapshot has no rtaddr register: the root table cannot be found');
    const known = this.info.rtaddr === rtaddr && this.info.rtaddrStep !== undefined;
    if (!known) splitQ(rtaddr, this);
    const rtLo = known ? this.info.rtLo : this.lo;
    const rtHi = known ? this.info.rtHi : this.hi;
    const rta = addr4k(rtLo, rtHi);
    const ttm = (rtLo >>> 10) & 3;
    if (!known) {
      this.info.rtaddr = rtaddr;
      this.info.rtLo = rtLo;
      this.info.rtHi = rtHi;
      this.info.entries = [];
      this.info.rtaddrStep = frozenStep({
        structure: 'RTADDR', value: '0x' + qhex(rtaddr),
        decoded: { RTA: hexN(rta), TTM: ttm, mode: ttm === 0 ? 'legacy' : ttm === 1 ? 'scalable' : ttm === 2 ? 'reserved (VT-d 2.x extended)' : 'abort-DMA' },
        rule: 'VT-d 11.4.6 RTADDR_REG: root table at bits 63:12, translation table mode TTM at bits 11:10 (00 legacy, 01 scalable)',
        ok: ttm < 2,
      });
    }
    this.steps.push(this.info.rtaddrStep!);
    if (ttm === 3) return this.configError('ABORT_DMA_MODE', 'RTADDR.TTM=11: abort-DMA mode, every DMA request is blocked');
    if (ttm === 2) return this.fail('configuration', 0x30, undefined);
    this.sm = ttm === 1;
    if (this.sm && this.ecapBit(43) === false) this.finding('warning', 'RTADDR.TTM', 'scalable mode selected but ECAP.SMTS=0 (scalable mode not supported)');
    if (rtHi & this.hawHiMask) return this.fail('configuration', this.sm ? 0x30 : 0x8, undefined);

    if (!this.sm && this.hasPasid) return this.fail('configuration', 0x31, undefined);

    // requests without PASID to the interrupt range are interrupt requests
    if (!this.hasPasid && this.iovaHi === 0 && this.iovaLo >= INTR_LO && this.iovaLo <= INTR_HI) {
      this.steps.push({ structure: 'interrupt address range', rule: 'VT-d: requests without PASID to 0xFEEx_xxxx are interrupt requests, handled by interrupt remapping, not by DMA remapping', ok: this.access !== 'read' && this.access !== 'exec' });
      // QEMU vtd_do_iommu_translate(): a read there is reported as a read-permission fault
      if (this.access === 'read' || this.access === 'exec') return this.fail('permission', this.sm ? 0x87 : 0x6);
      return this.translated(this.iova, undefined, { read: false, write: true, exec: false });
    }

    // --- root entry
    const reAddr = rta + 16 * bus;
    let rl = 0, rh = 0;
    const got = this.rd(reAddr) && ((rl = this.lo), (rh = this.hi), this.rd(reAddr + 8));
    if (!got) {
      this.absentStep('root entry', reAddr, `VT-d 9.${this.sm ? 2 : 1}: root entry for bus 0x${bus.toString(16)} at RTA + 16*bus`);
      return this.fail('device-entry', this.sm ? 0x38 : 0x8);
    }
    const ul = this.lo, uh = this.hi;
    let ctxTable: number;
    if (!this.sm) {
      const p = rl & 1;
      const ctp = addr4k(rl, rh);
      const rsvd = (rl & 0xffe) !== 0 || (rh & this.hawHiMask) !== 0 || ul !== 0 || uh !== 0;
      const ok = p === 1 && !rsvd;
      const cached = ok ? this.hit2(K_ROOT, reAddr, rl, rh, ul, uh) : undefined;
      if (cached) this.steps.push(cached);
      else {
        const step: WalkStep = {
          structure: 'root entry', address: hexN(reAddr), value: '0x' + whex(ul, uh) + whex(rl, rh), decoded: { bus, P: p, CTP: hexN(ctp) },
          rule: p === 0 ? 'VT-d 9.1: root entry P=0, no context table for this bus (fault 0x1)'
            : rsvd ? 'VT-d 9.1: reserved bits set (bits 11:1, bits above HAW, or the upper 64 bits) (fault 0xA)'
              : 'VT-d 9.1: root entry present, context table at CTP (bits 63:12)',
          ok,
        };
        if (ok) this.remember(K_ROOT, reAddr, rl, rh, step, ul, uh);
        this.steps.push(step);
      }
      if (!p) return this.fail('device-entry', 0x1);
      if (rsvd) return this.fail('configuration', 0xa);
      ctxTable = ctp;
    } else {
      const upper = devfn >= 0x80;
      const p = upper ? ul & 1 : rl & 1;
      const lctp = addr4k(rl, rh), uctp = addr4k(ul, uh);
      const rsvd = upper ? ((ul & 0xffe) !== 0 || (uh & this.hawHiMask) !== 0) : ((rl & 0xffe) !== 0 || (rh & this.hawHiMask) !== 0);
      this.steps.push({
        structure: 'root entry', address: hexN(reAddr), value: '0x' + whex(ul, uh) + whex(rl, rh),
        decoded: { bus, LP: rl & 1, LCTP: hexN(lctp), UP: ul & 1, UCTP: hexN(uctp), half: upper ? 'upper (devfn >= 0x80)' : 'lower (devfn < 0x80)' },
        rule: p === 0 ? `VT-d 9.2: scalable-mode root entry ${upper ? 'UP' : 'LP'}=0 for devfn 0x${devfn.toString(16)} (fault 0x39)`
          : rsvd ? 'VT-d 9.2: reserved bits set in the used half of the scalable-mode root entry (fault 0x3A)'
            : `VT-d 9.2: scalable-mode root entry, ${upper ? 'upper' : 'lower'} context table present`,
        ok: p === 1 && !rsvd,
      });
      if (!p) return this.fail('device-entry', 0x39);
      if (rsvd) return this.fail('configuration', 0x3a);
      ctxTable = upper ? uctp : lctp;
    }

    return this.sm ? this.scalable(ctxTable, devfn) : this.legacy(ctxTable, devfn);
  }

  // ---------------------------------------------------------------------------------------------

  private legacy(ctxTable: number, devfn: number): WalkResult {
    const ceAddr = ctxTable + 16 * devfn;
    let l0 = 0, h0 = 0;
    const got = this.rd(ceAddr) && ((l0 = this.lo), (h0 = this.hi), this.rd(ceAddr + 8));
    if (!got) {
      this.absentStep('context entry', ceAddr, `VT-d 9.3: context entry for devfn 0x${devfn.toString(16)} at CTP + 16*devfn`);
      return this.fail('device-entry', 0x9);
    }
    const l1 = this.lo, h1 = this.hi;
    const p = l0 & 1, fpd = (l0 >>> 1) & 1, tt = (l0 >>> 2) & 3, aw = l1 & 7, did = (l1 >>> 8) & 0xffff;
    const slpt = addr4k(l0, h0);
    const levels = aw + 2;
    if (fpd) this.fpd = 'context entry';
    let rule: string, stage: WalkStage = 'configuration', code = 0;
    if (!p) {
      rule = 'VT-d 9.3: context entry P=0: the device has no translation set up (fault 0x2)';
      stage = 'device-entry'; code = 0x2;
    } else if ((l0 & 0xff0) !== 0 || (h0 & this.hawHiMask) !== 0 || (l1 & 0x80) !== 0 || (l1 >>> 24) !== 0 || h1 !== 0) {
      rule = 'VT-d 9.3: reserved bits set (lo 11:4, SLPTPTR above HAW, hi bit 7, hi bits 63:24) (fault 0xB)';
      code = 0xb;
    } else if (tt === 3 || (tt === 1 && this.ecapBit(2) === false) || (tt === 2 && this.ecapBit(6) === false)) {
      rule = tt === 3 ? 'VT-d 9.3: TT=11b is reserved (fault 0x3)' : `VT-d 9.3: TT=${tt} needs ECAP.${tt === 1 ? 'DT' : 'PT'}=1, which this unit does not report (fault 0x3)`;
      code = 0x3;
    } else if (aw > 3 || this.capBit(8 + aw) === false) {
      // also for pass-through: VirtualBox validates AW there too (Linux programs the largest SAGAW)
      rule = `VT-d 9.3: AW=${aw} (${levels}-level, ${30 + 9 * aw}-bit) is not a supported guest address width (CAP.SAGAW) (fault 0x3)`;
      code = 0x3;
    } else {
      rule = ''; // success: the text is made below, only when the step is not shared from an earlier walk
    }
    const ok = code === 0;
    const cached = ok ? this.hit2(K_CTX, ceAddr, l0, h0, l1, h1) : undefined;
    if (cached) this.steps.push(cached);
    else {
      if (ok) {
        rule = tt === 2 ? 'VT-d 9.3: TT=10b pass-through: untranslated requests use their address as the host physical address'
          : `VT-d 9.3: context entry present, TT=${tt}, ${levels}-level second-level table at SLPTPTR, domain ${did}`;
      }
      const decoded = { devfn, P: p, FPD: fpd, TT: tt, translationType: TT_NAMES[tt], SLPTPTR: hexN(slpt), AW: aw, levels, DID: did };
      const step: WalkStep = { structure: 'context entry', address: hexN(ceAddr), value: '0x' + whex(l1, h1) + whex(l0, h0), decoded, rule, ok };
      if (ok) this.remember(K_CTX, ceAddr, l0, h0, step, l1, h1);
      this.steps.push(step);
    }
    if (!ok) return this.fail(stage, code);
    if (tt === 2) return this.identity('VT-d pass-through translation: output address = input address', 'pass-through');
    if (this.isExec) this.finding('info', 'request', 'legacy mode has no execute requests (execute is requested only with a PASID): checked as a read');
    const fault = this.slWalk(slpt, levels, this.iova, this.iovaLo, this.iovaHi, SlUse.Request, undefined);
    if (fault) return fault;
    return this.slFinish();
  }

  /** after a successful second-stage walk of the request: interrupt-range check and result */
  private slFinish(): WalkResult {
    if (this.overlapsInterrupt(this.slPa, this.slSize)) return this.fail('table-entry', this.sm ? 0x87 : 0xe, 1);
    // page offset from the low half (pages are at most 1 GiB); slPa + offset stays below 2^53
    const off = this.iovaLo & (this.slSize - 1);
    return this.translated(this.slPa + off, this.slSize, { read: this.slR, write: this.slW, exec: this.sse ? this.slX : this.slR });
  }

  private overlapsInterrupt(base: number, size: number): boolean {
    return base <= INTR_HI && base + size - 1 >= INTR_LO;
  }

  private slStep(name: string, L: number, ea: number, lo: number, hi: number, idx: number, leaf: boolean, next: number, stage: string | undefined): WalkStep {
    const decoded: Record<string, unknown> = { index: idx, R: lo & 1, W: (lo >>> 1) & 1, X: (lo >>> 2) & 1 };
    if (L === 2 || L === 3) decoded['PS'] = (lo >>> 7) & 1;
    if (leaf) { decoded['SNP'] = (lo >>> 11) & 1; decoded['page'] = hexN(L === 1 ? next : L === 2 ? next - (next % 0x200000) : next - (next % 0x40000000)); }
    else decoded['next'] = hexN(next);
    const step: WalkStep = { structure: name, level: L, address: hexN(ea), value: '0x' + whex(lo, hi), decoded, rule: '', ok: false };
    if (stage) step.stage = stage;
    return step;
  }

  /**
   * Second-stage walk (VT-d 3.7, 9.8). Success: slPa/slSize/slR/slW/slX set, undefined returned.
   * `use` selects the fault codes: the request itself, or (nested) an FL table address or FL output.
   */
  private slWalk(root: number, levels: number, addr: bigint, aLo: number, aHi: number, use: SlUse, flLevel: number | undefined): WalkResult | undefined {
    const sm = this.sm;
    const stage = use === SlUse.Request ? (this.nestedActive ? 'stage 2' : undefined) : 'stage 2';
    const forTable = use === SlUse.FlTable;
    const wantWrite = forTable ? false : this.isWrite;
    const wantExec = forTable ? false : this.isExec && this.sse;
    const wantRead = forTable || this.access === 'read' || (this.isExec && !this.sse);
    const width = Math.min(30 + 9 * (levels - 2), this.mgaw ?? 64);
    const nestedCode = use !== SlUse.Request;
    // input limit: 2^min(AGAW, MGAW)
    if (width < 64 && (width > 32 ? aHi >= pow2(width - 32) : aHi !== 0 || aLo >= pow2(width))) {
      this.steps.push({
        structure: SL_NAMES[levels]!, level: levels, decoded: { input: hexAddr(addr), width },
        rule: `VT-d 3.7: input address 0x${addr.toString(16)} is at or above 2^${width} (min of the table's ${30 + 9 * (levels - 2)}-bit width and MGAW) (fault ${nestedCode ? '0x74' : sm ? '0x83' : '0x4'})`,
        ok: false, ...(stage ? { stage } : {}),
      });
      return this.fail('table-entry', nestedCode ? 0x74 : sm ? 0x83 : 0x4, levels);
    }
    let table = root;
    let r = true, w = true, x = true;
    const snpOk = sm || this.ecapBit(7) !== false;
    const tmOk = !sm && this.ecapBit(2) !== false;
    const sslps = this.cap === undefined ? 3 : bitsOf(this.capLo, this.capHi, 34, 4);
    for (let L = levels; L >= 1; L--) {
      const idx = bitsOf(aLo, aHi, 12 + 9 * (L - 1), 9);
      const ea = table + 8 * idx;
      const name = SL_NAMES[L]!;
      if (!this.rd(ea)) {
        this.absentStep(name, ea, `VT-d 9.8: ${name} at table 0x${table.toString(16)} + 8*index ${idx}`, L, stage);
        if (L === levels) return this.fail('table-root', sm ? 0x7b : 0x3, L);
        return this.fail('table-entry', sm ? 0x78 : 0x7, L);
      }
      const lo = this.lo, hi = this.hi;
      const er = lo & 1, ew = (lo >>> 1) & 1, ex = (lo >>> 2) & 1, ps = (lo >>> 7) & 1;
      const leaf = L === 1 || (ps === 1 && (L === 2 || L === 3));
      const next = addr4k(lo, hi);
      const kind = K_SL + L + (stage ? 5 : 0);
      const cached = this.hit(kind, ea);
      const sec = 'VT-d 9.8';
      let rule: string | undefined;
      let failStage: WalkStage = 'table-entry';
      let code = 0;
      // not present: R=W=0 (Linux dma_pte_present); both a read and a write fault on it
      if (er === 0 && ew === 0) {
        code = nestedCode && forTable ? (flLevel === this.flLevels ? 0x75 : 0x76) : sm ? 0x79 : this.isWrite ? 0x5 : 0x6;
        rule = `${sec}: ${name} has R=W=0: not present, nothing is mapped here (fault 0x${code.toString(16)})`;
      } else if ((wantRead && !er) || (wantWrite && !ew) || (wantExec && (!ex || !er))) {
        // permissions at every level, before reserved bits (VT-d 7.1.3 order; VirtualBox and QEMU agree)
        const what = wantWrite ? 'write request with W=0' : wantExec ? 'execute request with X=0 or R=0 (SSEE=1)' : 'read request with R=0';
        code = nestedCode && forTable ? (flLevel === this.flLevels ? 0x75 : 0x76) : sm ? (wantExec ? 0x82 : 0x79) : wantWrite ? 0x5 : 0x6;
        rule = `${sec}: ${name}: ${what} (fault 0x${code.toString(16)})`;
        failStage = 'permission';
      } else if (!cached) {
        // reserved bits (VT-d 9.8; QEMU VTD_SPTE_*_RSVD_MASK); a cached entry passed these already
        let rsvdLo = 0, rsvdHi = this.hawHiMask;
        if (L >= 4) rsvdLo |= 0x80;
        if (leaf) {
          if (!snpOk) rsvdLo |= 0x800;
          if (!tmOk) rsvdHi |= 0x40000000;
          if (L === 2) rsvdLo |= 0x1ff000;
          else if (L === 3) rsvdLo |= 0x3ffff000;
        } else {
          // bit 11 is reserved in non-leaf entries in both modes (VT-d 9.8; QEMU drops it in scalable mode)
          rsvdLo |= 0x800;
          rsvdHi |= 0x40000000;
        }
        const badPs = leaf && L > 1 && ((L === 2 && !(sslps & 1)) || (L === 3 && !(sslps & 2)));
        if ((lo & rsvdLo) !== 0 || (hi & rsvdHi) !== 0 || badPs) {
          const bits = whex((lo & rsvdLo) >>> 0, (hi & rsvdHi) >>> 0);
          rule = badPs ? `${sec}: PS=1 at level ${L} but CAP.SSLPS does not report ${L === 2 ? '2 MiB' : '1 GiB'} pages (reserved) (fault ${sm ? '0x7A' : '0xC'})`
            : `${sec}: reserved bits set (mask 0x${bits}; HAW ${this.haw}) (fault ${sm ? '0x7A' : '0xC'})`;
          failStage = 'configuration';
          code = sm ? 0x7a : 0xc;
        }
      }
      if (rule !== undefined) {
        const step = this.slStep(name, L, ea, lo, hi, idx, leaf, next, stage);
        step.rule = rule;
        this.steps.push(step);
        return this.fail(failStage, code, L);
      }
      r = r && er === 1; w = w && ew === 1; x = x && ex === 1;
      if (leaf) {
        const size = L === 1 ? 0x1000 : L === 2 ? 0x200000 : 0x40000000;
        this.slPa = Math.floor(next / size) * size; // size is a power of two: exact, and no fmod
        this.slSize = size;
        this.slR = r; this.slW = w; this.slX = x;
        if (cached) this.steps.push(cached);
        else {
          const step = this.slStep(name, L, ea, lo, hi, idx, leaf, next, stage);
          step.rule = `${sec}: ${name} is a leaf${L > 1 ? ' (PS=1)' : ''}: ${size === 0x1000 ? '4 KiB' : size === 0x200000 ? '2 MiB' : '1 GiB'} page at 0x${this.slPa.toString(16)}`;
          step.ok = true;
          this.remember(kind, ea, lo, hi, step);
          this.steps.push(step);
        }
        return undefined;
      }
      if (cached) this.steps.push(cached);
      else {
        const step = this.slStep(name, L, ea, lo, hi, idx, leaf, next, stage);
        step.rule = `${sec}: ${name} points to the level-${L - 1} table at bits 51:12`;
        step.ok = true;
        this.remember(kind, ea, lo, hi, step);
        this.steps.push(step);
      }
      if (next === table) this.finding('warning', name, `entry at 0x${ea.toString(16)} points to its own table: a looping table`);
      table = next;
    }
    return undefined;
  }

  // ---------------------------------------------------------------------------------------------

  private nestedActive = false;
  private flLevels = 4;

  private scalable(ctxTable: number, devfn: number): WalkResult {
    const ceAddr = ctxTable + 32 * (devfn & 0x7f);
    if (!this.rdN(ceAddr, 4)) {
      this.absentStep('context entry', ceAddr, `VT-d 9.4: scalable-mode context entry at ${devfn >= 0x80 ? 'UCTP' : 'LCTP'} + 32*(devfn & 0x7f)`);
      return this.fail('device-entry', 0x40);
    }
    const W = this.words;
    const l0 = W[0]!, h0 = W[1]!, l1 = W[2]!, h1 = W[3]!;
    const p = l0 & 1, fpd = (l0 >>> 1) & 1, paside = (l0 >>> 3) & 1, pdts = (l0 >>> 9) & 7;
    const pdir = addr4k(l0, h0);
    const ridPasid = l1 & 0xfffff, ridPriv = (l1 >>> 20) & 1;
    if (fpd) this.fpd = 'context entry';
    const pasid = this.req.pasid ?? ridPasid;
    const dirIdx = pasid >>> 6;
    let rule: string, stage: WalkStage = 'configuration', code = 0;
    if (!p) {
      rule = 'VT-d 9.4: scalable-mode context entry P=0 (fault 0x41)';
      stage = 'device-entry'; code = 0x41;
    } else if ((l0 & 0x1e0) !== 0 || (h0 & this.hawHiMask) !== 0 || (l1 & 0xffe00000) !== 0 || h1 !== 0 || (W[4]! | W[5]! | W[6]! | W[7]!) !== 0) {
      rule = 'VT-d 9.4: reserved bits set (bits 8:5, PASIDDIRPTR above HAW, bits 127:85, or qwords 2-3) (fault 0x42)';
      code = 0x42;
    } else if (this.hasPasid && !paside) {
      rule = 'VT-d 9.4: request with PASID but PASIDE=0 in the context entry (fault 0x45)';
      stage = 'device-entry'; code = 0x45;
    } else if (dirIdx >= 2 ** (pdts + 7)) {
      rule = `VT-d 9.4: PASID 0x${pasid.toString(16)} needs directory entry ${dirIdx}, beyond the ${2 ** (pdts + 7)} entries of PDTS=${pdts} (fault 0x46)`;
      stage = 'pasid-entry'; code = 0x46;
    } else {
      // requests without PASID use RID_PASID (QEMU deviates: it uses PASID 0)
      rule = `VT-d 9.4: context entry present; ${this.hasPasid ? 'request PASID' : 'RID_PASID'} 0x${pasid.toString(16)} -> PASID directory entry ${dirIdx}, table entry ${pasid & 63}`;
    }
    const tag = pasid * 2 + (this.hasPasid ? 1 : 0);
    const cached = code === 0 ? this.hitW(K_SMCTX, ceAddr, 4, tag) : undefined;
    if (cached) this.steps.push(cached);
    else {
      const step: WalkStep = {
        structure: 'context entry', address: hexN(ceAddr), value: this.wordsHex(4),
        decoded: { devfn, P: p, FPD: fpd, DTE: (l0 >>> 2) & 1, PASIDE: paside, PRE: (l0 >>> 4) & 1, PDTS: pdts, pasidDirEntries: 2 ** (pdts + 7), PASIDDIRPTR: hexN(pdir), RID_PASID: hexN(ridPasid), RID_PRIV: ridPriv },
        rule, ok: code === 0,
      };
      if (code === 0) this.rememberW(K_SMCTX, ceAddr, 4, tag, step);
      this.steps.push(step);
    }
    if (code) return this.fail(stage, code);
    if (!this.hasPasid) {
      // RID_PRIV gives the privilege of requests without PASID; they cannot request execute
      this.priv = ridPriv === 1;
      if (this.isExec) { this.isExec = false; this.finding('info', 'request', 'requests without PASID cannot request execute: checked as a read'); }
    }

    // --- PASID directory entry
    const deAddr = pdir + 8 * dirIdx;
    if (!this.rd(deAddr)) {
      this.absentStep('PASID directory entry', deAddr, 'VT-d 9.5: PASID directory entry at PASIDDIRPTR + 8*PASID[19:6]');
      return this.fail('pasid-entry', 0x50);
    }
    const dl = this.lo, dh = this.hi;
    const dp = dl & 1, dfpd = (dl >>> 1) & 1, ptbl = addr4k(dl, dh);
    if (dfpd) this.fpd ??= 'PASID directory entry';
    code = 0;
    if (!dp) {
      rule = 'VT-d 9.5: PASID directory entry P=0: no PASID table for this PASID range (fault 0x51)';
      stage = 'pasid-entry'; code = 0x51;
    } else if ((dl & 0xffc) !== 0 || (dh & this.hawHiMask) !== 0) {
      rule = 'VT-d 9.5: reserved bits set (bits 11:2 or above HAW) (fault 0x52)';
      stage = 'configuration'; code = 0x52;
    } else rule = 'VT-d 9.5: PASID directory entry present, PASID table at bits 63:12';
    const dcached = code === 0 ? this.hit(K_PDIR, deAddr) : undefined;
    if (dcached) this.steps.push(dcached);
    else {
      const dstep: WalkStep = { structure: 'PASID directory entry', address: hexN(deAddr), value: '0x' + whex(dl, dh), decoded: { index: dirIdx, P: dp, FPD: dfpd, SMPTBLPTR: hexN(ptbl) }, rule, ok: code === 0 };
      if (code === 0) this.remember(K_PDIR, deAddr, dl, dh, dstep);
      this.steps.push(dstep);
    }
    if (code) return this.fail(stage, code);

    // --- PASID table entry (512 bits)
    const peAddr = ptbl + 64 * (pasid & 63);
    if (!this.rdN(peAddr, 8)) {
      this.absentStep('PASID entry', peAddr, 'VT-d 9.6: PASID table entry at SMPTBLPTR + 64*PASID[5:0]');
      return this.fail('pasid-entry', 0x58);
    }
    const a0 = W[0]!, b0 = W[1]!, a1 = W[2]!, a2 = W[4]!, b2 = W[5]!;
    const pp = a0 & 1, pfpd = (a0 >>> 1) & 1, aw = (a0 >>> 2) & 7, ssee = (a0 >>> 5) & 1, pgtt = (a0 >>> 6) & 7;
    const ssptr = addr4k(a0, b0), flptr = addr4k(a2, b2);
    const sre = a2 & 1, ere = (a2 >>> 1) & 1, flpm = (a2 >>> 2) & 3, wpe = (a2 >>> 4) & 1;
    if (pfpd) this.fpd ??= 'PASID entry';
    const usesSl = pgtt === 2 || pgtt === 3, usesFl = pgtt === 1 || pgtt === 3;
    const support = pgtt === 1 ? this.ecapBit(47) : pgtt === 2 ? this.ecapBit(46) : pgtt === 3 ? this.ecapBit(26) : pgtt === 4 ? this.ecapBit(6) : false;
    code = 0;
    if (!pp) {
      rule = 'VT-d 9.6: PASID entry P=0: this PASID has no translation set up (fault 0x59)';
      stage = 'pasid-entry'; code = 0x59;
    } else if ((a0 & 0xc00) !== 0 || (a1 & 0x7f0000) !== 0 || (a2 & 0xf00) !== 0 || (usesSl && (b0 & this.hawHiMask) !== 0) || (usesFl && (b2 & this.hawHiMask) !== 0)) {
      rule = 'VT-d 9.6: reserved bits set (qword0 11:10, qword1 22:16, qword2 11:8, or a table pointer above HAW) (fault 0x5A)';
      stage = 'configuration'; code = 0x5a;
    } else if (pgtt === 0 || pgtt > 4 || support === false) {
      rule = pgtt === 0 || pgtt > 4 ? `VT-d 9.6: PGTT=${pgtt} is reserved (fault 0x5B)` : `VT-d 9.6: PGTT=${pgtt} (${PGTT_NAMES[pgtt]}) is not supported by this unit (ECAP ${pgtt === 1 ? 'FSTS' : pgtt === 2 ? 'SSTS' : pgtt === 3 ? 'NEST' : 'PT'}=0) (fault 0x5B)`;
      stage = 'pasid-entry'; code = 0x5b;
    } else if (usesSl && (aw > 3 || this.capBit(8 + aw) === false)) {
      rule = `VT-d 9.6: AW=${aw} (${aw + 2}-level second stage) is not in CAP.SAGAW (fault 0x5B)`;
      stage = 'configuration'; code = 0x5b;
    } else if (usesFl && flpm > 1) {
      rule = `VT-d 9.6: FLPM=${flpm} is reserved (0 = 4-level, 1 = 5-level) (fault 0x5B)`;
      stage = 'configuration'; code = 0x5b;
    } else if (usesFl && this.priv && !sre) {
      rule = 'VT-d 9.6: supervisor request but SRE=0 (fault 0x5D)';
      stage = 'pasid-entry'; code = 0x5d;
    } else if (usesFl && this.isExec && !ere) {
      rule = 'VT-d 9.6: execute request but ERE=0 (fault 0x5C)';
      stage = 'pasid-entry'; code = 0x5c;
    } else {
      rule = pgtt === 4 ? 'VT-d 9.6: PGTT=100b pass-through'
        : `VT-d 9.6: PASID entry present, PGTT=${pgtt} ${PGTT_NAMES[pgtt]}${usesSl ? `, ${aw + 2}-level second stage` : ''}${usesFl ? `, ${flpm ? 5 : 4}-level first stage` : ''}`;
    }
    const pcached = code === 0 ? this.hitW(K_PE, peAddr, 8, pasid) : undefined;
    if (pcached) this.steps.push(pcached);
    else {
      const pstep: WalkStep = {
        structure: 'PASID entry', address: hexN(peAddr), value: this.wordsHex(8),
        decoded: {
          pasid: hexN(pasid), P: pp, FPD: pfpd, PGTT: pgtt, translation: PGTT_NAMES[pgtt], AW: aw, SSEE: ssee, SSPTPTR: hexN(ssptr), DID: a1 & 0xffff,
          SRE: sre, ERE: ere, FLPM: flpm, WPE: wpe, FLPTPTR: hexN(flptr),
        },
        rule, ok: code === 0,
      };
      if (code === 0) this.rememberW(K_PE, peAddr, 8, pasid, pstep);
      this.steps.push(pstep);
    }
    if (code) return this.fail(stage, code);
    if (pgtt === 4) return this.identity('VT-d pass-through translation: output address = input address', 'pass-through');
    this.sse = ssee === 1;
    this.ere = ere === 1; this.wpe = wpe === 1;
    if (!usesFl && this.isExec && !this.sse) {
      this.finding('info', 'PASID entry SSEE', 'SSEE=0: execute permission is not checked by the second stage; checked as a read');
    }
    if (pgtt === 2) {
      const f = this.slWalk(ssptr, aw + 2, this.iova, this.iovaLo, this.iovaHi, SlUse.Request, undefined);
      return f ?? this.slFinish();
    }
    this.flLevels = flpm ? 5 : 4;
    this.nestedActive = pgtt === 3;
    return this.flWalk(flptr, this.flLevels, pgtt === 3 ? { root: ssptr, levels: aw + 2 } : undefined);
  }

  private flStep(name: string, L: number, ea: number, lo: number, hi: number, idx: number, leaf: boolean, next: number, stage: string | undefined): WalkStep {
    const decoded: Record<string, unknown> = { index: idx, P: lo & 1, RW: (lo >>> 1) & 1, US: (lo >>> 2) & 1, A: (lo >>> 5) & 1, XD: hi >>> 31 };
    if (L === 2 || L === 3) decoded['PS'] = (lo >>> 7) & 1;
    if (leaf) { decoded['D'] = (lo >>> 6) & 1; decoded['page'] = hexN(L === 1 ? next : L === 2 ? next - (next % 0x200000) : next - (next % 0x40000000)); }
    else decoded['next'] = hexN(next);
    const step: WalkStep = { structure: name, level: L, address: hexN(ea), value: '0x' + whex(lo, hi), decoded, rule: '', ok: false };
    if (stage) step.stage = stage;
    return step;
  }

  /** First-stage walk (VT-d 3.6, 9.7, IA-32e paging); nested: every FL address goes through the second stage (VT-d 3.8) */
  private flWalk(root: number, levels: number, nested: { root: number; levels: number } | undefined): WalkResult {
    const stage = nested ? 'stage 1' : undefined;
    const top = levels === 5 ? 56 : 47;
    // canonical: bits 63:top all equal (sign extension of bit top)
    const hiTop = top === 47 ? this.iovaHi >>> 15 : this.iovaHi >>> 24;
    const canonical = hiTop === 0 || hiTop === (top === 47 ? 0x1ffff : 0xff);
    if (!canonical) {
      this.steps.push({ structure: FL_NAMES[levels]!, level: levels, decoded: { input: hexAddr(this.iova) }, rule: `VT-d 3.6: ${levels}-level first stage needs a canonical address (bits 63:${top} equal) (fault 0x80)`, ok: false, ...(stage ? { stage } : {}) });
      return this.fail('table-entry', 0x80, levels);
    }
    let table = root;
    let w = true, u = true, nx = false;
    const fs1gp = this.capBit(56) !== false;
    for (let L = levels; L >= 1; L--) {
      const idx = bitsOf(this.iovaLo, this.iovaHi, 12 + 9 * (L - 1), 9);
      const name = FL_NAMES[L]!;
      let ea = table + 8 * idx;
      if (nested) {
        const gpa = ea;
        const f = this.slWalk(nested.root, nested.levels, BigInt(gpa), gpa >>> 0, Math.floor(gpa / TWO32), SlUse.FlTable, L);
        if (f) return f;
        ea = this.slPa + (gpa % this.slSize);
      }
      if (!this.rd(ea)) {
        this.absentStep(name, ea, `VT-d 9.7: ${name} at table 0x${table.toString(16)} + 8*index ${idx}`, L, stage);
        return L === levels ? this.fail('table-root', 0x73, L) : this.fail('table-entry', 0x70, L);
      }
      const lo = this.lo, hi = this.hi;
      const p = lo & 1, rw = (lo >>> 1) & 1, us = (lo >>> 2) & 1, ps = (lo >>> 7) & 1, xd = hi >>> 31;
      const leaf = L === 1 || (ps === 1 && (L === 2 || L === 3));
      const next = addr4k(lo, hi);
      const kind = K_FL + L + (stage ? 5 : 0);
      const cached = this.hit(kind, ea);
      let rule: string | undefined, failStage: WalkStage = 'permission', code = 0;
      if (!p) {
        rule = `VT-d 9.7: ${name} P=0: not present (fault 0x71)`;
        failStage = 'table-entry'; code = 0x71;
      } else if (!cached) {
        let rsvdLo = 0;
        if (L >= 4) rsvdLo |= 0x80;
        if (leaf && L === 2) rsvdLo |= 0x1fe000;
        if (leaf && L === 3) rsvdLo |= 0x3fffe000;
        const badPs = leaf && L === 3 && !fs1gp;
        if ((lo & rsvdLo) !== 0 || (hi & this.hawHiMask) !== 0 || badPs) {
          rule = badPs ? `VT-d 9.7: PS=1 in ${name} but CAP.FS1GP=0 (1 GiB first-stage pages unsupported) (fault 0x72)` : `VT-d 9.7: reserved bits set in ${name} (PS at PML4E/PML5E, large-page alignment bits, or above HAW ${this.haw}) (fault 0x72)`;
          failStage = 'configuration'; code = 0x72;
        }
      }
      if (rule === undefined) {
        if (!this.priv && !us) {
          rule = `VT-d 3.6: user request and U/S=0 in ${name} (fault 0x81)`;
          code = 0x81;
        } else if (this.isWrite && !rw && (!this.priv || this.wpe)) {
          rule = `VT-d 3.6: write request and R/W=0 in ${name}${this.priv ? ' (WPE=1)' : ''} (fault 0x85)`;
          code = 0x85;
        } else if (this.isExec && xd) {
          rule = `VT-d 3.6: execute request and XD=1 in ${name} (fault 0x82)`;
          code = 0x82;
        }
      }
      if (rule !== undefined) {
        const step = this.flStep(name, L, ea, lo, hi, idx, leaf, next, stage);
        step.rule = rule;
        this.steps.push(step);
        return this.fail(failStage, code, L);
      }
      w = w && rw === 1; u = u && us === 1; nx = nx || xd === 1;
      const size = leaf ? (L === 1 ? 0x1000 : L === 2 ? 0x200000 : 0x40000000) : 0;
      if (cached) this.steps.push(cached);
      else {
        const step = this.flStep(name, L, ea, lo, hi, idx, leaf, next, stage);
        step.rule = leaf
          ? `VT-d 9.7: ${name} is a leaf${L > 1 ? ' (PS=1)' : ''}: ${size === 0x1000 ? '4 KiB' : size === 0x200000 ? '2 MiB' : '1 GiB'} page at 0x${(next - (next % size)).toString(16)}`
          : `VT-d 9.7: ${name} points to the level-${L - 1} table at bits 51:12`;
        step.ok = true;
        this.remember(kind, ea, lo, hi, step);
        this.steps.push(step);
      }
      if (leaf) {
        this.flPa = next - (next % size); this.flSize = size; this.flW = w || (this.priv && !this.wpe); this.flU = u; this.flX = this.ere && !nx;
        break;
      }
      if (next === table) this.finding('warning', name, `entry at 0x${ea.toString(16)} points to its own table: a looping table`);
      table = next;
    }
    const off = Number(this.iova & BigInt(this.flSize - 1));
    if (!nested) {
      if (this.overlapsInterrupt(this.flPa, this.flSize)) return this.fail('table-entry', 0x87, 1);
      return this.translated(BigInt(this.flPa) + BigInt(off), this.flSize, { read: true, write: this.flW, exec: this.flX, user: this.flU });
    }
    // nested: the first-stage output is a guest-physical address translated by the second stage
    const gpa = this.flPa + off;
    const f = this.slWalk(nested.root, nested.levels, BigInt(gpa), gpa >>> 0, Math.floor(gpa / TWO32), SlUse.FlOutput, undefined);
    if (f) return f;
    if (this.overlapsInterrupt(this.slPa, this.slSize)) return this.fail('table-entry', 0x87, 1);
    const size = Math.min(this.flSize, this.slSize);
    const pa = BigInt(this.slPa) + BigInt(gpa % this.slSize);
    return this.translated(pa, size, {
      read: this.slR, write: this.flW && this.slW, exec: this.flX && (this.sse ? this.slX : this.slR), user: this.flU,
    });
  }
}

/** Walk one request through an Intel VT-d snapshot. Never throws on bad snapshot contents. */
export function walkIntelVtd(snap: Snapshot, req: WalkRequest): WalkResult {
  return new VtdWalk(snap, req).run();
}
