/**
 * SMMUv3 walk: STRTAB_BASE/CFG -> (L1STD) -> STE -> (L1CD) -> CD -> stage-1 tables, with stage 2
 * from the STE, following IHI0070 (sections 5.1-5.4, 6.3.24/25, event priority 7.3.22).
 * Each failure is named by the event the SMMU would record; the DESIGN stage says whose
 * structure failed (STE: device-entry, CD: pasid-entry, TTB: table-root, PTE: table-entry).
 * Where QEMU differs (reference section 9), the specification is followed.
 */
import type { Snapshot } from '../snapshot/types';
import type { WalkFault, WalkRequest, WalkResult, WalkStage, WalkStep } from './types';
import {
  type LpaeFailure,
  type Stage1Params,
  type Stage2Params,
  type WalkCtx,
  checkS1Size,
  checkS2Size,
  faultResult,
  finishNested,
  granuleFromTg0,
  granuleFromTg1,
  granuleName,
  hexn as hexNum,
  newCtx,
  paBits,
  runStage1,
  runStage2,
  s1Region,
  s1StartLevel,
  s2FetchTranslator,
  s2StartLevel,
  successResult,
} from './arm-lpae';
import { alignDown, modPow2, pow2, readWordsLE } from './words';

export const SMMUV3_EVENTS = {
  F_UUT: 0x01,
  C_BAD_STREAMID: 0x02,
  F_STE_FETCH: 0x03,
  C_BAD_STE: 0x04,
  F_STREAM_DISABLED: 0x06,
  C_BAD_SUBSTREAMID: 0x08,
  F_CD_FETCH: 0x09,
  C_BAD_CD: 0x0a,
  F_WALK_EABT: 0x0b,
  F_TRANSLATION: 0x10,
  F_ADDR_SIZE: 0x11,
  F_ACCESS: 0x12,
  F_PERMISSION: 0x13,
} as const;
export type SmmuV3EventName = keyof typeof SMMUV3_EVENTS;

const M52 = (1n << 56n) - 1n;

function hexn(n: number | bigint): string {
  return typeof n === 'number' ? hexNum(n) : '0x' + n.toString(16);
}
function f(v: bigint, lo: number, width: number): number {
  return Number((v >> BigInt(lo)) & ((1n << BigInt(width)) - 1n));
}
function b(v: bigint, n: number): boolean {
  return ((v >> BigInt(n)) & 1n) === 1n;
}
/** address field [55:lo] of a dword, in place */
function addrField(v: bigint, lo: number): number {
  return Number(v & M52 & ~((1n << BigInt(lo)) - 1n));
}

function eventFault(name: SmmuV3EventName, stage: WalkStage, text: string, level?: number): WalkFault {
  const wf: WalkFault = { stage, reason: { code: SMMUV3_EVENTS[name], name, text } };
  if (level !== undefined) wf.level = level;
  return wf;
}

const KIND_EVENT: Record<LpaeFailure['kind'], SmmuV3EventName> = {
  translation: 'F_TRANSLATION',
  'address-size': 'F_ADDR_SIZE',
  'access-flag': 'F_ACCESS',
  permission: 'F_PERMISSION',
  'external-abort': 'F_WALK_EABT',
  configuration: 'C_BAD_CD',
};

interface Recording {
  /** CD.R: stage-1 faults recorded */
  s1Record?: boolean;
  /** STE.S2R: stage-2 faults recorded */
  s2Record?: boolean;
}

function walkFaultFromLpae(o: LpaeFailure, cls: 'CD' | 'TT' | 'IN', rec: Recording): WalkFault {
  const name = KIND_EVENT[o.kind];
  const klass = o.duringS1TableFetch ? 'TT' : cls;
  let text = `${o.text} (S2=${o.stage === 2 ? 1 : 0}, CLASS=${klass})`;
  if (name !== 'F_WALK_EABT') {
    const recorded = o.stage === 1 ? rec.s1Record : rec.s2Record;
    if (recorded === false) text += `; ${o.stage === 1 ? 'CD.R' : 'STE.S2R'}=0 so the SMMU terminates the transaction without recording this event`;
  }
  const wf = eventFault(name, o.walkStage, text, o.level);
  return wf;
}

/** A 64-byte structure (STE, CD) read and decoded; decoded objects are shared between results. */
interface Decoded64<T> {
  /** address it was read from */
  at: number;
  /** the 16 little-endian 32-bit words read */
  words: Uint32Array;
  /** hex of the address it was read from */
  addrHex: string;
  value: string;
  fields: T;
  decoded: Record<string, unknown>;
  /** CD only: decoded fields of the TTB0/TTB1 step, with the effective IPS they were made for */
  ttb?: ({ ips: number; decoded: Record<string, unknown> } | undefined)[];
}

/**
 * Direct-mapped by address (64-byte aligned structures, one slot per 64 bytes modulo the size): a
 * lookup is an array index; a collision only costs decoding the evicted structure again.
 */
const STRUCT_SLOTS = 1 << 12;
const STRUCT_MASK = STRUCT_SLOTS - 1;
type StructCache<T> = (Decoded64<T> | undefined)[];
const steCaches = new WeakMap<object, StructCache<SteFields>>();
const cdCaches = new WeakMap<object, StructCache<CdFields>>();

/** the words of the structure being read */
const WORDS = new Uint32Array(16);

function sameWords(a: Uint32Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== WORDS[i]) return false;
  return true;
}

/**
 * Read and decode a 64-byte structure, reusing the decode of the same bytes at the same address:
 * storms walk the same STE and CD again and again. Validated by content, so memory that changes
 * is decoded afresh.
 */
function read64B<T>(ctx: WalkCtx, addr: number, caches: WeakMap<object, StructCache<T>>, decode: (w: Uint32Array) => { fields: T; decoded: Record<string, unknown> }): Decoded64<T> | undefined {
  if (!readWordsLE(ctx.mem, addr, WORDS)) return undefined;
  let cache = caches.get(ctx.mem);
  if (!cache) {
    cache = new Array<Decoded64<T> | undefined>(STRUCT_SLOTS).fill(undefined);
    caches.set(ctx.mem, cache);
  }
  const slot = (addr >>> 6) & STRUCT_MASK;
  const hit = cache[slot];
  if (hit && hit.at === addr && sameWords(hit.words)) return hit;
  const w = WORDS.slice();
  let value = '0x';
  for (let i = 15; i >= 0; i--) value += w[i]!.toString(16).padStart(8, '0');
  const d = decode(w);
  const entry: Decoded64<T> = { at: addr, words: w, addrHex: hexn(addr), value, fields: d.fields, decoded: d.decoded, ttb: undefined };
  cache[slot] = entry;
  return entry;
}

/** An L1 stream table descriptor's texts and fields, reused while its value is unchanged. */
interface L1StdText {
  at: number;
  lo: number;
  hi: number;
  raw: bigint;
  addrHex: string;
  value: string;
  span: number;
  l2ptr: number;
  l2Hex: string;
}
const l1StdCaches = new WeakMap<object, (L1StdText | undefined)[]>();
const L1STD = new Uint32Array(2);

/** Read the L1STD at addr (undefined: not in the snapshot) with its texts. */
function readL1Std(ctx: WalkCtx, addr: number): L1StdText | undefined {
  if (!readWordsLE(ctx.mem, addr, L1STD)) return undefined;
  let cache = l1StdCaches.get(ctx.mem);
  if (!cache) {
    cache = new Array<L1StdText | undefined>(STRUCT_SLOTS).fill(undefined);
    l1StdCaches.set(ctx.mem, cache);
  }
  const lo = L1STD[0]!;
  const hi = L1STD[1]!;
  const slot = (addr >>> 3) & STRUCT_MASK;
  const hit = cache[slot];
  if (hit && hit.at === addr && hit.lo === lo && hit.hi === hi) return hit;
  const raw = (BigInt(hi) << 32n) | BigInt(lo);
  const l2ptr = addrField(raw, 6);
  const t: L1StdText = { at: addr, lo, hi, raw, addrHex: hexn(addr), value: hexn(raw), span: f(raw, 0, 5), l2ptr, l2Hex: hexn(l2ptr) };
  cache[slot] = t;
  return t;
}

const T32 = 4294967296;
/** address field [55:lo] from the two words of a dword */
function wAddr(lo32: number, hi32: number, lo: number): number {
  return (hi32 & 0xffffff) * T32 + ((lo32 >>> 0) - ((lo32 >>> 0) % 2 ** lo));
}

interface SteFields {
  v: boolean;
  config: number;
  s1fmt: number;
  ctxPtr: number;
  s1cdmax: number;
  s1dss: number;
  strw: number;
  s2: { vmid: number; t0sz: number; sl0: number; tg: number; ps: number; aa64: boolean; endi: boolean; affd: boolean; ptw: boolean; hd: boolean; ha: boolean; s: boolean; r: boolean; ttb: number };
}

const CONFIG_NAMES = ['bypass', 'stage 1', 'stage 2', 'stage 1 + stage 2'] as const;

function decodeSte(w: Uint32Array): { fields: SteFields; decoded: Record<string, unknown> } {
  const w0 = w[0]!;
  const w5 = w[5]!;
  const fields: SteFields = {
    v: (w0 & 1) === 1,
    config: (w0 >>> 1) & 7,
    s1fmt: (w0 >>> 4) & 3,
    ctxPtr: wAddr(w0, w[1]!, 6),
    s1cdmax: (w[1]! >>> 27) & 0x1f,
    s1dss: w[2]! & 3,
    strw: (w[2]! >>> 30) & 3,
    s2: {
      vmid: w[4]! & 0xffff,
      t0sz: w5 & 0x3f,
      sl0: (w5 >>> 6) & 3,
      tg: (w5 >>> 14) & 3,
      ps: (w5 >>> 16) & 7,
      aa64: ((w5 >>> 19) & 1) === 1,
      endi: ((w5 >>> 20) & 1) === 1,
      affd: ((w5 >>> 21) & 1) === 1,
      ptw: ((w5 >>> 22) & 1) === 1,
      hd: ((w5 >>> 23) & 1) === 1,
      ha: ((w5 >>> 24) & 1) === 1,
      s: ((w5 >>> 25) & 1) === 1,
      r: ((w5 >>> 26) & 1) === 1,
      ttb: wAddr(w[6]!, w[7]!, 4),
    },
  };
  const c = fields.config;
  const s1On = c === 5 || c === 7;
  const s2On = c === 6 || c === 7;
  const decoded: Record<string, unknown> = { v: fields.v ? 1 : 0, config: c < 4 ? 'abort' : CONFIG_NAMES[c - 4] };
  if (s1On) Object.assign(decoded, { s1Fmt: fields.s1fmt, s1ContextPtr: hexn(fields.ctxPtr), s1CdMax: fields.s1cdmax, s1Dss: fields.s1dss, strw: fields.strw });
  const s2 = fields.s2;
  if (s2On) Object.assign(decoded, { s2Vmid: s2.vmid, s2T0sz: s2.t0sz, s2Sl0: s2.sl0, s2Tg: s2.tg, s2Ps: s2.ps, s2Aa64: +s2.aa64, s2Endi: +s2.endi, s2Affd: +s2.affd, s2Ha: +s2.ha, s2Hd: +s2.hd, s2S: +s2.s, s2R: +s2.r, s2Ttb: hexn(s2.ttb) });
  return { fields, decoded };
}

interface CdFields {
  t0sz: number;
  tg0: number;
  epd0: boolean;
  endi: boolean;
  t1sz: number;
  tg1: number;
  epd1: boolean;
  v: boolean;
  ips: number;
  affd: boolean;
  tbi0: boolean;
  tbi1: boolean;
  aa64: boolean;
  hd: boolean;
  ha: boolean;
  s: boolean;
  r: boolean;
  a: boolean;
  asid: number;
  had0: boolean;
  ttb0: number;
  had1: boolean;
  ttb1: number;
  ds: boolean;
  mair: bigint;
}

function decodeCd(w: Uint32Array): { fields: CdFields; decoded: Record<string, unknown> } {
  const w0 = w[0]!;
  const w1 = w[1]!;
  const bit = (x: number, n: number): boolean => ((x >>> n) & 1) === 1;
  const c: CdFields = {
    t0sz: w0 & 0x3f,
    tg0: (w0 >>> 6) & 3,
    epd0: bit(w0, 14),
    endi: bit(w0, 15),
    t1sz: (w0 >>> 16) & 0x3f,
    tg1: (w0 >>> 22) & 3,
    epd1: bit(w0, 30),
    v: bit(w0, 31),
    ips: w1 & 7,
    affd: bit(w1, 3),
    tbi0: bit(w1, 6),
    tbi1: bit(w1, 7),
    aa64: bit(w1, 9),
    hd: bit(w1, 10),
    ha: bit(w1, 11),
    s: bit(w1, 12),
    r: bit(w1, 13),
    a: bit(w1, 14),
    asid: w1 >>> 16,
    had0: bit(w[2]!, 1),
    ttb0: wAddr(w[2]!, w[3]!, 4),
    had1: bit(w[4]!, 1),
    ttb1: wAddr(w[4]!, w[5]!, 4),
    ds: bit(w[5]!, 26),
    mair: (BigInt(w[7]!) << 32n) | BigInt(w[6]!),
  };
  const decoded = {
    v: +c.v, aa64: +c.aa64, t0sz: c.t0sz, tg0: c.tg0, epd0: +c.epd0, t1sz: c.t1sz, tg1: c.tg1, epd1: +c.epd1,
    ips: c.ips, affd: +c.affd, ha: +c.ha, hd: +c.hd, s: +c.s, r: +c.r, a: +c.a, asid: c.asid,
    ttb0: hexn(c.ttb0), ttb1: hexn(c.ttb1), mair: '0x' + c.mair.toString(16),
  };
  return { fields: c, decoded };
}

interface Idr {
  s1p?: boolean;
  s2p?: boolean;
  ttf?: number;
  sidSize?: number;
  ssidSize?: number;
  oas?: number;
  had?: boolean;
  stt?: boolean;
  vax52?: boolean;
  gran?: { 12: boolean; 14: boolean; 16: boolean };
  httu?: number;
}

function readIdr(snap: Snapshot): Idr {
  const r = snap.registers;
  const idr: Idr = {};
  if (r.idr0 !== undefined) {
    idr.s2p = b(r.idr0, 0);
    idr.s1p = b(r.idr0, 1);
    idr.ttf = f(r.idr0, 2, 2);
    idr.httu = f(r.idr0, 6, 2);
  }
  if (r.idr1 !== undefined) {
    idr.sidSize = f(r.idr1, 0, 6);
    idr.ssidSize = f(r.idr1, 6, 5);
  } else {
    if (snap.features.sidBits !== undefined) idr.sidSize = snap.features.sidBits;
    if (snap.features.ssidBits !== undefined) idr.ssidSize = snap.features.ssidBits;
  }
  if (r.idr3 !== undefined) {
    idr.had = b(r.idr3, 2);
    idr.stt = b(r.idr3, 9);
  }
  if (r.idr5 !== undefined) {
    idr.oas = paBits(f(r.idr5, 0, 3)) ?? 52;
    idr.gran = { 12: b(r.idr5, 4), 14: b(r.idr5, 5), 16: b(r.idr5, 6) };
    idr.vax52 = f(r.idr5, 10, 2) === 1;
  } else if (snap.features.oas !== undefined) {
    idr.oas = snap.features.oas;
  }
  if (!idr.gran && snap.features.granules) {
    const g = snap.features.granules;
    idr.gran = { 12: g.includes('4k'), 14: g.includes('16k'), 16: g.includes('64k') };
  }
  return idr;
}

const RULE_STRTAB = 'IHI0070 6.3.24/6.3.25: STRTAB_BASE.ADDR, STRTAB_BASE_CFG.FMT/LOG2SIZE/SPLIT select the stream table layout';
const RULE_L1STD = 'IHI0070 5.1: L1STD.Span (0 = invalid, 1..11 = 2^(Span-1) STEs), L2Ptr; a StreamID outside the span -> C_BAD_STREAMID';
const RULE_STE = 'IHI0070 5.2: STE.V, Config (0b0xx abort, 0b100 bypass, 0b101 S1, 0b110 S2, 0b111 nested); an invalid or ILLEGAL STE -> C_BAD_STE';
const RULE_L1CD = 'IHI0070 5.3: L1CD.V, L2Ptr; V=0 -> C_BAD_SUBSTREAMID';
const RULE_CD = 'IHI0070 5.4: CD.V, AA64, T0SZ/TG0/EPD0, T1SZ/TG1/EPD1, IPS, TTB0/TTB1, ASID; an invalid or ILLEGAL CD -> C_BAD_CD';
const RULE_FETCH = 'IHI0070 7.3: the structure address is not in the snapshot\'s memory (hardware: an external abort on the fetch)';

/** Translate a configuration-structure IPA through stage 2 (CLASS=CD); returns the PA or the failure. */
function cdAddress(ipa: number, s2: Stage2Params | undefined, ctx: WalkCtx): LpaeFailure | number {
  if (!s2) return ipa;
  const saved = ctx.access;
  ctx.access = 'read';
  const o = runStage2(s2, ipa, ctx);
  ctx.access = saved;
  return o.ok ? o.oa : o;
}

/** Register-derived state, decoded once per snapshot registers (validated against the values). */
interface StreamTableRegs {
  key: (bigint | undefined)[];
  idr: Idr;
  fmt: number;
  log2size: number;
  split: number;
  ra: number;
  addr: number;
  addrHex: string;
  baseHex: string;
}
const strtabCache = new WeakMap<object, StreamTableRegs>();

function streamTableOf(snap: Snapshot): StreamTableRegs {
  const r = snap.registers;
  const key = [r.strtab_base, r.strtab_base_cfg, r.idr0, r.idr1, r.idr3, r.idr5];
  const hit = strtabCache.get(r);
  if (hit && hit.key.every((v, i) => v === key[i])) return hit;
  const idr = readIdr(snap);
  const base = r.strtab_base!;
  const cfgv = r.strtab_base_cfg!;
  let log2size = f(cfgv, 0, 6);
  let split = f(cfgv, 6, 5);
  if (split !== 6 && split !== 8 && split !== 10) split = 6;
  if (idr.sidSize !== undefined && log2size > idr.sidSize) log2size = idr.sidSize;
  const addr = addrField(base, 6);
  const st: StreamTableRegs = { key, idr, fmt: f(cfgv, 16, 2), log2size, split, ra: b(base, 62) ? 1 : 0, addr, addrHex: hexn(addr), baseHex: hexn(base) };
  strtabCache.set(r, st);
  return st;
}

export function walkSmmuV3(snap: Snapshot, req: WalkRequest): WalkResult {
  const ctx = newCtx(snap.memory, req);
  const { steps, findings } = ctx;
  const regs = snap.registers;
  const done = (fault: WalkFault): WalkResult => faultResult(fault, steps, findings);
  const bypass = (why: string, rule: string): WalkResult => {
    steps.push({ structure: 'bypass', decoded: { why }, rule, ok: true });
    const r: WalkResult = { result: 'translated', pa: hexn(req.iova), permissions: { read: true, write: true, exec: true }, steps };
    if (findings.length) r.findings = findings;
    return r;
  };
  if (regs.strtab_base === undefined || regs.strtab_base_cfg === undefined) {
    steps.push({ structure: 'registers', ok: false, rule: RULE_STRTAB, decoded: { missing: 'strtab_base/strtab_base_cfg' } });
    return done({ stage: 'configuration', reason: { name: 'NO_STREAM_TABLE', text: 'the snapshot has no strtab_base/strtab_base_cfg registers' } });
  }
  if (regs.cr0 !== undefined && !b(regs.cr0, 0)) {
    const abort = regs.gbpa !== undefined && b(regs.gbpa, 20);
    steps.push({ structure: 'CR0', value: hexn(regs.cr0), decoded: { smmuen: 0, gbpaAbort: abort }, rule: 'IHI0070 6.3.9/6.3.14: SMMUEN=0 -> GBPA decides: abort or bypass, no event', ok: !abort });
    if (abort) return done({ stage: 'configuration', reason: { name: 'GBPA_ABORT', text: 'SMMU disabled (CR0.SMMUEN=0) and GBPA.ABORT=1: every transaction is terminated' } });
    return bypass('CR0.SMMUEN=0 and GBPA.ABORT=0', 'IHI0070 6.3.14 GBPA');
  }
  let sid = req.streamId;
  if (sid === undefined && req.device) {
    const m = /^[0-9a-f]{4}:([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(req.device);
    if (m) {
      sid = (parseInt(m[1]!, 16) << 8) | (parseInt(m[2]!, 16) << 3) | parseInt(m[3]!, 10);
      findings.push({ severity: 'info', where: 'stream ID', message: `no stream ID given: assumed StreamID = PCI requester ID ${hexn(sid)} of ${req.device} (IORT/DT identity mapping)` });
    }
  }
  if (sid === undefined) {
    steps.push({ structure: 'stream ID', ok: false, rule: 'a StreamID (or PCI device) is needed to index the stream table' });
    return done({ stage: 'configuration', reason: { name: 'NO_STREAM_ID', text: 'no stream ID or PCI device given for an SMMUv3 walk' } });
  }
  const st = streamTableOf(snap);
  const { idr, fmt, log2size, split } = st;
  let addr = st.addr;
  steps.push({
    structure: 'STRTAB_BASE/STRTAB_BASE_CFG',
    value: st.baseHex,
    decoded: { addr: st.addrHex, ra: st.ra, fmt: fmt === 1 ? '2-level' : 'linear', log2size, split: fmt === 1 ? split : undefined, streamId: hexn(sid) },
    rule: RULE_STRTAB,
    ok: true,
  });
  if (sid < 0 || sid >= pow2(log2size)) {
    steps[steps.length - 1]!.ok = false;
    return done(eventFault('C_BAD_STREAMID', 'device-entry', `StreamID ${hexn(sid)} is beyond the stream table (2^${log2size} entries)`));
  }
  let steAddr: number;
  if (fmt === 1) {
    const l1Bits = Math.max(0, log2size - split);
    addr = alignDown(addr, Math.max(6, l1Bits + 3));
    const l1Index = Math.floor(sid / pow2(split));
    const l1Addr = addr + 8 * l1Index;
    const l1t = readL1Std(ctx, l1Addr);
    if (l1t === undefined) {
      steps.push({ structure: 'L1STD', address: hexn(l1Addr), rule: RULE_FETCH, ok: false });
      return done(eventFault('F_STE_FETCH', 'device-entry', `L1 stream table descriptor at ${hexn(l1Addr)} is not in the snapshot`));
    }
    let span = l1t.span;
    const spanRaw = span;
    if (span > 11) span = 0;
    let l2ptr = l1t.l2ptr;
    const step: WalkStep = { structure: 'L1STD', address: l1t.addrHex, value: l1t.value, decoded: { index: l1Index, span: spanRaw, l2Ptr: l1t.l2Hex }, rule: RULE_L1STD, ok: true };
    steps.push(step);
    const l2Index = modPow2(sid, split);
    if (span === 0 || span > split + 1 || l2Index >= pow2(span - 1)) {
      step.ok = false;
      const why = span === 0 ? (spanRaw === 0 ? 'Span=0 (invalid: no STEs for these stream IDs)' : `Span=${spanRaw} is reserved`) : span > split + 1 ? `Span=${span} exceeds SPLIT+1=${split + 1}` : `StreamID index ${l2Index} is beyond the ${2 ** (span - 1)} STEs of this L2 table`;
      const qemu = span !== 0 && l2Index >= 2 ** (span - 1) ? ' (QEMU reports C_BAD_STE here and sizes the L2 array as 2^Span; IHI0070 5.1 says 2^(Span-1) and C_BAD_STREAMID)' : '';
      return done(eventFault('C_BAD_STREAMID', 'device-entry', `L1STD ${l1Index} for StreamID ${hexn(sid)}: ${why}${qemu}`));
    }
    l2ptr = alignDown(l2ptr, span - 1 + 6);
    steAddr = l2ptr + 64 * l2Index;
  } else {
    addr = alignDown(addr, log2size + 6);
    steAddr = addr + 64 * sid;
  }
  const steEntry = read64B(ctx, steAddr, steCaches, decodeSte);
  if (!steEntry) {
    steps.push({ structure: 'STE', address: hexn(steAddr), rule: RULE_FETCH, ok: false });
    return done(eventFault('F_STE_FETCH', 'device-entry', `STE for StreamID ${hexn(sid)} at ${hexn(steAddr)} is not in the snapshot`));
  }
  const { v, config, s1fmt, ctxPtr, s1cdmax, s1dss, strw, s2 } = steEntry.fields;
  const configName = config < 4 ? 'abort' : CONFIG_NAMES[config - 4]!;
  const s1On = config === 5 || config === 7;
  const s2On = config === 6 || config === 7;
  const steStep: WalkStep = { structure: 'STE', address: steEntry.addrHex, value: steEntry.value, decoded: steEntry.decoded, rule: RULE_STE, ok: true };
  steps.push(steStep);
  const badSte = (why: string): WalkResult => {
    steStep.ok = false;
    findings.push({ severity: 'error', where: `STE ${hexn(sid)}`, message: why });
    return done(eventFault('C_BAD_STE', 'device-entry', `STE for StreamID ${hexn(sid)}: ${why}`));
  };
  if (!v) return badSte('V=0 (invalid STE)');
  if (config < 4) {
    steStep.ok = false;
    return done({ stage: 'device-entry', reason: { name: 'STE_ABORT', text: `STE for StreamID ${hexn(sid)} has Config=0b${config.toString(2).padStart(3, '0')} (abort): the transaction is terminated and no event is recorded` } });
  }
  if (s1On && idr.s1p === false) return badSte('Config enables stage 1 but the SMMU has no stage 1 (IDR0.S1P=0)');
  if (s2On && idr.s2p === false) return badSte('Config enables stage 2 but the SMMU has no stage 2 (IDR0.S2P=0)');
  const oas = idr.oas ?? 48;
  let s2p: Stage2Params | undefined;
  if (s2On) {
    if (!s2.aa64) return badSte('S2AA64=0 (VMSAv8-32 stage-2 tables) is not supported by this walker' + (idr.ttf === 2 ? ' nor by this SMMU (IDR0.TTF=AArch64 only)' : ''));
    const g = granuleFromTg0(s2.tg);
    if (g === undefined) return badSte('S2TG=3 is reserved');
    if (idr.gran && !idr.gran[g as 12 | 14 | 16]) return badSte(`S2TG selects the ${granuleName(g)} granule, not supported by IDR5`);
    const start = s2StartLevel(s2.sl0, g);
    // SL0=3 with 4K means level 3 (FEAT_TTST), which the STE cannot use
    if (start === undefined || (g === 12 && s2.sl0 === 3)) return badSte(`S2SL0=${s2.sl0} is reserved for the ${granuleName(g)} granule`);
    const bad = checkS2Size(s2.t0sz, start, g);
    if (bad) return badSte('S2T0SZ/S2SL0: ' + bad);
    let ps = Math.min(paBits(s2.ps) ?? 52, oas);
    if (ps === 52 && g !== 16) ps = 48;
    if (s2.ttb >= pow2(ps)) return badSte(`S2TTB ${hexn(s2.ttb)} is above the effective ${ps}-bit S2PS`);
    if (s2.s) findings.push({ severity: 'info', where: `STE ${hexn(sid)}`, message: 'S2S=1: stage-2 faults stall the transaction' });
    s2p = { tableAddress: s2.ttb, t0sz: s2.t0sz, startLevel: start, granuleShift: g, outputBits: ps, afNoFault: s2.affd || s2.ha, hd: s2.hd, bigEndian: s2.endi };
  }
  if (s1On && idr.ssidSize !== undefined && s1cdmax > idr.ssidSize) {
    return badSte(`S1CDMax=${s1cdmax} exceeds the SMMU's SubstreamID size (IDR1.SSIDSIZE=${idr.ssidSize})`);
  }
  const rec: Recording = { s2Record: s2.r };
  const ssv = req.pasid !== undefined;
  const ssid = req.pasid ?? 0;
  const badSub = (why: string, stepToFail?: WalkStep): WalkResult => {
    if (stepToFail) stepToFail.ok = false;
    else steps.push({ structure: 'SubstreamID check', decoded: { ssid, s1CdMax: s1cdmax }, rule: 'IHI0070 5.2 S1CDMax/S1DSS, 7.3.8 C_BAD_SUBSTREAMID', ok: false });
    return done(eventFault('C_BAD_SUBSTREAMID', 'pasid-entry', why));
  };
  const finishS2Only = (): WalkResult => {
    if (!s2p) return bypass(`STE Config=${configName}${s1On ? ' with S1DSS=bypass' : ''}`, RULE_STE);
    const ias = snap.features.ias;
    if (ias !== undefined && req.iova >= 1n << BigInt(ias)) {
      steps.push({ structure: 'input range check', decoded: { iova: hexn(req.iova), ias }, rule: 'IHI0070 3.4: with stage 1 bypassed, an address above IAS -> stage-1 F_ADDR_SIZE', ok: false });
      return done(eventFault('F_ADDR_SIZE', 'table-entry', `address ${hexn(req.iova)} is above the ${ias}-bit input address size (stage 1 bypassed)`));
    }
    const o = runStage2(s2p, Number(req.iova), ctx);
    return o.ok ? successResult(o, steps, findings) : done(walkFaultFromLpae(o, 'IN', rec));
  };
  if (!s1On) {
    if (ssv) return badSub(`SubstreamID ${ssid} given but the STE has no stage 1 (Config=${configName})`);
    return finishS2Only();
  }
  // stage 1: find the CD
  let cdIndex = ssid;
  if (s1cdmax === 0) {
    if (ssv) return badSub(`SubstreamID ${ssid} given but the STE has S1CDMax=0 (substreams disabled)`);
  } else if (!ssv) {
    if (s1dss === 0) {
      steps.push({ structure: 'S1DSS', decoded: { s1Dss: 0 }, rule: 'IHI0070 5.2 S1DSS: 0b00 terminate non-substream transactions -> F_STREAM_DISABLED', ok: false });
      return done(eventFault('F_STREAM_DISABLED', 'pasid-entry', `STE ${hexn(sid)} has substreams (S1CDMax=${s1cdmax}) and S1DSS=terminate: a transaction without SubstreamID is refused`));
    }
    if (s1dss === 1) return finishS2Only();
    cdIndex = 0;
  } else if (ssid >= pow2(s1cdmax)) {
    return badSub(`SubstreamID ${ssid} is beyond S1CDMax=${s1cdmax} (${2 ** s1cdmax} CDs)`);
  }
  let cdIpa: number;
  if (s1cdmax === 0 || s1fmt === 0 || s1fmt === 3) {
    cdIpa = ctxPtr + 64 * cdIndex;
  } else {
    const leafBits = s1fmt === 1 ? 6 : 10;
    const l1Index = Math.floor(cdIndex / pow2(leafBits));
    const l1Ipa = ctxPtr + 8 * l1Index;
    const l1a = cdAddress(l1Ipa, s2p, ctx);
    if (typeof l1a !== 'number') return done(walkFaultFromLpae(l1a, 'CD', rec));
    const l1 = ctx.mem.read64(BigInt(l1a));
    if (l1 === undefined) {
      steps.push({ structure: 'L1CD', address: hexn(l1a), rule: RULE_FETCH, ok: false });
      return done(eventFault('F_CD_FETCH', 'pasid-entry', `L1 context descriptor at ${hexn(l1a)} is not in the snapshot`));
    }
    const l2 = addrField(l1, 12);
    const l1Step: WalkStep = { structure: 'L1CD', address: hexn(l1a), value: hexn(l1), decoded: { index: l1Index, v: Number(l1 & 1n), l2Ptr: hexn(l2) }, rule: RULE_L1CD, ok: true };
    steps.push(l1Step);
    if (!b(l1, 0)) return badSub(`L1CD ${l1Index} for SubstreamID ${cdIndex} is invalid (V=0)`, l1Step);
    cdIpa = l2 + 64 * modPow2(cdIndex, leafBits);
  }
  const cdPa = cdAddress(cdIpa, s2p, ctx);
  if (typeof cdPa !== 'number') return done(walkFaultFromLpae(cdPa, 'CD', rec));
  const cdEntry = read64B(ctx, cdPa, cdCaches, decodeCd);
  if (!cdEntry) {
    steps.push({ structure: 'CD', address: hexn(cdPa), rule: RULE_FETCH, ok: false });
    return done(eventFault('F_CD_FETCH', 'pasid-entry', `context descriptor ${cdIndex} at ${hexn(cdPa)} is not in the snapshot`));
  }
  const cdf = cdEntry.fields;
  const cdStep: WalkStep = { structure: 'CD', address: cdEntry.addrHex, value: cdEntry.value, decoded: cdEntry.decoded, rule: RULE_CD, ok: true };
  steps.push(cdStep);
  rec.s1Record = cdf.r;
  const badCd = (why: string): WalkResult => {
    cdStep.ok = false;
    findings.push({ severity: 'error', where: `CD ${cdIndex} of StreamID ${hexn(sid)}`, message: why });
    return done(eventFault('C_BAD_CD', 'pasid-entry', `CD ${cdIndex} of StreamID ${hexn(sid)}: ${why}`));
  };
  if (!cdf.v) return badCd('V=0 (invalid CD)');
  if (!cdf.aa64) return badCd('AA64=0 (VMSAv8-32 LPAE tables) is not supported by this walker' + (idr.ttf === 2 ? ' nor by this SMMU (IDR0.TTF=AArch64 only)' : ''));
  if ((cdf.ha || cdf.hd) && idr.httu === 0) return badCd('HA/HD set but the SMMU has no hardware table update (IDR0.HTTU=0)');
  const region = s1Region(req.iova, cdf.t0sz, cdf.t1sz, cdf.tbi0, cdf.tbi1);
  if (region === undefined) {
    steps.push({ structure: 'TTB selection', decoded: { iova: hexn(req.iova), t0sz: cdf.t0sz, t1sz: cdf.t1sz }, rule: 'IHI0070 5.4 / DDI0487 D8.2.4: address bits above the input size must be all 0 (TTB0) or all 1 (TTB1) -> else stage-1 F_TRANSLATION', ok: false, stage: 'stage 1' });
    return done(eventFault('F_TRANSLATION', 'table-entry', `address ${hexn(req.iova)} is outside both TTB0 (${64 - cdf.t0sz}-bit) and TTB1 ranges (S2=0, CLASS=IN)`, 0));
  }
  const g = region === 0 ? granuleFromTg0(cdf.tg0) : granuleFromTg1(cdf.tg1);
  if (g === undefined) return badCd(`TG${region} holds a reserved granule encoding`);
  if (idr.gran && !idr.gran[g as 12 | 14 | 16]) return badCd(`TG${region} selects the ${granuleName(g)} granule, not supported by IDR5`);
  const tsz = region === 0 ? cdf.t0sz : cdf.t1sz;
  const minTsz = idr.vax52 && (g === 16 || cdf.ds) ? 12 : 16;
  const maxTsz = idr.stt ? (g === 16 ? 47 : 48) : 39;
  const badSize = checkS1Size(tsz, g, { ds: cdf.ds, minTsz, maxTsz });
  if (badSize) return badCd(`T${region}SZ: ${badSize}`);
  let ips = Math.min(paBits(cdf.ips) ?? 52, oas);
  if (ips === 52 && g !== 16 && !cdf.ds) ips = 48;
  const ttb = region === 0 ? cdf.ttb0 : cdf.ttb1;
  if (ttb >= pow2(ips)) return badCd(`TTB${region} ${hexn(ttb)} is above the effective ${ips}-bit IPS`);
  const epd = region === 0 ? cdf.epd0 : cdf.epd1;
  // the same for every walk through this CD and TTB (the IPS also depends on the SMMU's OAS)
  const ttbs = (cdEntry.ttb ??= [undefined, undefined]);
  let ttbText = ttbs[region];
  if (ttbText === undefined || ttbText.ips !== ips) {
    ttbText = { ips, decoded: Object.freeze({ table: hexn(ttb), tsz, inputBits: 64 - tsz, granule: granuleName(g), startLevel: s1StartLevel(64 - tsz, g), outputBits: ips, epd: +epd }) };
    ttbs[region] = ttbText;
  }
  steps.push({
    structure: `TTB${region}`,
    decoded: ttbText.decoded,
    rule: 'IHI0070 5.4 / DDI0487 D8.2.6: TTB selected by the address top bits; start level 4 - ceil((IAsize - g) / (g - 3))',
    ok: !epd,
    stage: 'stage 1',
  });
  if (epd) return done(eventFault('F_TRANSLATION', 'table-entry', `CD.EPD${region}=1: walks through TTB${region} are disabled (S2=0, CLASS=IN)`, 0));
  const p1: Stage1Params = {
    tableAddress: ttb,
    tsz,
    granuleShift: g,
    outputBits: ips,
    ds: cdf.ds,
    had: idr.had === true && (region === 0 ? cdf.had0 : cdf.had1),
    afNoFault: cdf.affd || cdf.ha,
    hd: cdf.hd,
    mair: cdf.mair,
    twoPrivilege: !(strw === 2 && !(regs.cr2 !== undefined && b(regs.cr2, 0))),
    bigEndian: cdf.endi,
  };
  if (s2p) p1.fetchTranslator = s2FetchTranslator(s2p);
  const o1 = runStage1(p1, req.iova, ctx);
  if (!o1.ok) return done(walkFaultFromLpae(o1, 'IN', rec));
  if (!s2p) return successResult(o1, steps, findings);
  const o = finishNested(o1, runStage2(s2p, o1.oa, ctx));
  return o.ok ? successResult(o, steps, findings) : done(walkFaultFromLpae(o, 'IN', rec));
}
