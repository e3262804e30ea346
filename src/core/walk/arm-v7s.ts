/**
 * ARM short-descriptor (VMSAv7 "v7s") tables as Linux io-pgtable-arm-v7s builds them: 32-bit
 * descriptors, L1 sections/supersections/page tables, L2 small/large pages (DDI0406C B3.5,
 * reference section 2). The AP[0]-as-access-flag model is assumed (SCTLR.AFE=1), as Linux
 * configures it. MediaTek's extension (PA[32]/[33]/[34] in bits 9/4/5, up to 2^14 L1 entries,
 * no permission bits: IO_PGTABLE_QUIRK_NO_PERMS) applies when the snapshot says ias or oas > 32.
 */
import type { Snapshot } from '../snapshot/types';
import type { WalkFault, WalkRequest, WalkResult, WalkStep } from './types';
import { type LpaeFailure, type LpaeOutcome, type WalkCtx, faultResult, newCtx, successResult } from './arm-lpae';
import { pow2, readWordsLE } from './words';

export interface V7sConfig {
  /** L1 table address (TTBR[31:14-N] already masked by the caller, or raw: the walker aligns it) */
  tableAddress: number;
  /** index bits of the L1 table: 12 - TTBCR.N normally, up to 14 with the MediaTek extension */
  l1IndexBits: number;
  mtk: boolean;
  /** AP[0] is the access flag (SCTLR.AFE=1) */
  afe: boolean;
  bigEndian?: boolean;
}

const RULE_L1 = 'DDI0406C B3.5.1 (short-descriptor L1): bits[1:0] 00 invalid, 01 page table, 1x section (bit18 = supersection)';
const RULE_L2 = 'DDI0406C B3.5.1 (short-descriptor L2): bits[1:0] 00 invalid, 01 large page (64K), 1x small page (4K)';
const RULE_FETCH = 'the descriptor address is not in the snapshot\'s memory (hardware: external abort on the translation table walk)';
const RULE_AF = 'DDI0406C B3.7.3: AP[0] is the access flag (SCTLR.AFE=1); AP[0]=0 -> Access flag fault';
const RULE_PERM = 'DDI0406C B3.7.1 (simplified access permissions AP[2:1]) and XN: permission check';
const AP_TEXT = ['RW privileged only', 'RW any level', 'RO privileged only', 'RO any level'];

function hexn(n: number): string {
  return '0x' + n.toString(16);
}

/** scratch of read32: one walk runs at a time */
const WORD = new Uint32Array(1);

function read32(ctx: WalkCtx, addr: number, be: boolean | undefined): number | undefined {
  if (!be) return readWordsLE(ctx.mem, addr, WORD) ? WORD[0] : undefined;
  const b = ctx.mem.read(BigInt(addr), 4);
  return b && new DataView(b.buffer, b.byteOffset, 4).getUint32(0, false);
}

function mtkBits(d: number): number {
  return ((d >>> 9) & 1) * 2 ** 32 + ((d >>> 4) & 1) * 2 ** 33 + ((d >>> 5) & 1) * 2 ** 34;
}

function fail(kind: LpaeFailure['kind'], level: number, text: string, fetchAddress?: number): LpaeFailure {
  const f: LpaeFailure = { ok: false, kind, stage: 1, level, walkStage: kind === 'permission' ? 'permission' : level === 1 && kind === 'external-abort' ? 'table-root' : 'table-entry', text };
  if (fetchAddress !== undefined) f.fetchAddress = fetchAddress;
  return f;
}

/** Walk a v7s table for a 32-bit (or MediaTek up to 34-bit) input address. */
export function walkV7sTables(cfg: V7sConfig, ia: number, ctx: WalkCtx): LpaeOutcome {
  const steps = ctx.steps;
  const table = cfg.tableAddress - (cfg.tableAddress % pow2(cfg.l1IndexBits + 2));
  const l1Index = Math.floor(ia / 0x100000) % pow2(cfg.l1IndexBits);
  const l1Addr = table + 4 * l1Index;
  const d1 = read32(ctx, l1Addr, cfg.bigEndian);
  if (d1 === undefined) {
    steps.push({ structure: 'L1 descriptor', level: 1, address: hexn(l1Addr), rule: RULE_FETCH, ok: false });
    return fail('external-abort', 1, `L1 descriptor at ${hexn(l1Addr)} is not in the snapshot`, l1Addr);
  }
  const type1 = d1 & 3;
  const v1 = hexn(d1);
  if (type1 === 0) {
    steps.push({ structure: 'L1 descriptor', level: 1, address: hexn(l1Addr), value: v1, decoded: { valid: false }, rule: RULE_L1, ok: false });
    return fail('translation', 1, `L1 descriptor at ${hexn(l1Addr)} is invalid (section translation fault)`);
  }
  if (type1 === 1) {
    let l2 = (d1 & 0xfffffc00) >>> 0;
    if (cfg.mtk) l2 += mtkBits(d1);
    steps.push({ structure: 'L1 page table descriptor', level: 1, address: hexn(l1Addr), value: v1, decoded: { type: 'page table', l2Table: hexn(l2), pxn: (d1 >>> 2) & 1, ns: (d1 >>> 3) & 1, domain: (d1 >>> 5) & 15 }, rule: RULE_L1, ok: true });
    const l2Addr = l2 + 4 * (Math.floor(ia / 4096) % 256);
    const d2 = read32(ctx, l2Addr, cfg.bigEndian);
    if (d2 === undefined) {
      steps.push({ structure: 'L2 descriptor', level: 2, address: hexn(l2Addr), rule: RULE_FETCH, ok: false });
      return fail('external-abort', 2, `L2 descriptor at ${hexn(l2Addr)} is not in the snapshot`, l2Addr);
    }
    const type2 = d2 & 3;
    if (type2 === 0) {
      steps.push({ structure: 'L2 descriptor', level: 2, address: hexn(l2Addr), value: hexn(d2), decoded: { valid: false }, rule: RULE_L2, ok: false });
      return fail('translation', 2, `L2 descriptor at ${hexn(l2Addr)} is invalid (page translation fault)`);
    }
    const large = type2 === 1;
    const shift = large ? 16 : 12;
    let out = large ? (d2 & 0xffff0000) >>> 0 : (d2 & 0xfffff000) >>> 0;
    if (cfg.mtk) out += mtkBits(d2);
    const xn = large ? (d2 >>> 15) & 1 : d2 & 1;
    const tex = large ? (d2 >>> 12) & 7 : (d2 >>> 6) & 7;
    return leaf(cfg, ctx, { structure: large ? 'L2 large page descriptor' : 'L2 small page descriptor', level: 2, addr: l2Addr, value: d2, attrShift: 4, out, shift, xn, tex, pxn: 0 }, ia);
  }
  const superSection = ((d1 >>> 18) & 1) === 1;
  const shift = superSection ? 24 : 20;
  let out = superSection ? (d1 & 0xff000000) >>> 0 : (d1 & 0xfff00000) >>> 0;
  if (cfg.mtk) out += mtkBits(d1);
  else if (superSection) out += ((d1 >>> 20) & 15) * 2 ** 32 + ((d1 >>> 5) & 15) * 2 ** 36;
  return leaf(cfg, ctx, { structure: superSection ? 'L1 supersection descriptor' : 'L1 section descriptor', level: 1, addr: l1Addr, value: d1, attrShift: 10, out, shift, xn: (d1 >>> 4) & 1, tex: (d1 >>> 12) & 7, pxn: d1 & 1 }, ia);
}

interface Leaf {
  structure: string;
  level: number;
  addr: number;
  value: number;
  attrShift: number;
  out: number;
  shift: number;
  xn: number;
  tex: number;
  pxn: number;
}

/** leaf structure name -> decoded type ("section", "small page"...) */
const TYPE_OF: Record<string, string> = {};

function leaf(cfg: V7sConfig, ctx: WalkCtx, l: Leaf, ia: number): LpaeOutcome {
  const d = l.value;
  const a = l.attrShift;
  const ap0 = (d >>> a) & 1;
  const ap1 = (d >>> (a + 1)) & 1;
  const ap2 = (d >>> (a + 5)) & 1;
  const ap = ap2 * 2 + ap1;
  const decoded: Record<string, unknown> = {
    type: (TYPE_OF[l.structure] ??= l.structure.replace(/^L[12] | descriptor$/g, '')),
    outputAddress: hexn(l.out),
    size: pow2(l.shift),
    b: (d >>> 2) & 1,
    c: (d >>> 3) & 1,
    tex: l.tex,
    s: (d >>> (a + 6)) & 1,
    nG: (d >>> (a + 7)) & 1,
  };
  if (cfg.mtk) {
    decoded.note = 'MediaTek extension: bits 9/4/5 are PA[32]/[33]/[34]; permissions are not used (IO_PGTABLE_QUIRK_NO_PERMS)';
  } else {
    Object.assign(decoded, { af: ap0, ap: ap, apMeaning: AP_TEXT[ap], xn: l.xn, pxn: l.pxn });
  }
  const step: WalkStep = { structure: l.structure, level: l.level, address: hexn(l.addr), value: hexn(d), decoded, rule: l.level === 1 ? RULE_L1 : RULE_L2, ok: true };
  ctx.steps.push(step);
  const pageOrSection = l.level === 1 ? 'section' : 'page';
  if (!cfg.mtk && cfg.afe && ap0 === 0) {
    step.ok = false;
    step.rule = RULE_AF;
    return fail('access-flag', l.level, `${l.structure} at ${hexn(l.addr)} has AP[0] (access flag) clear (${pageOrSection} access flag fault)`);
  }
  const user = ap1 === 1;
  const ro = ap2 === 1;
  const perms = cfg.mtk
    ? { read: true, write: true, exec: true, user: true }
    : ctx.privileged
      ? { read: true, write: !ro, exec: l.xn === 0 && l.pxn === 0, user }
      : { read: user, write: user && !ro, exec: user && l.xn === 0, user };
  if (ctx.access !== undefined) {
    const allowed = ctx.access === 'read' ? perms.read : ctx.access === 'write' ? perms.write : perms.exec;
    ctx.steps.push({ structure: 'permission check', level: l.level, decoded: { access: ctx.access, privileged: ctx.privileged, permissions: cfg.mtk ? 'no permission bits (MediaTek)' : AP_TEXT[ap], allowed }, rule: RULE_PERM, ok: allowed });
    if (!allowed) return fail('permission', l.level, `${l.structure} does not allow ${ctx.privileged ? 'privileged' : 'unprivileged'} ${ctx.access} (${AP_TEXT[ap]}${l.xn ? ', XN' : ''}) (${pageOrSection} permission fault)`);
  }
  return { ok: true, oa: l.out + (ia % pow2(l.shift)), pageShift: l.shift, level: l.level, perms };
}

/** Short-descriptor FSR codes (DDI0406C B3.13.3) for section (L1) / page (L2) faults. */
export function v7sFsrCode(kind: LpaeFailure['kind'], level: number): number | undefined {
  const l1 = level === 1;
  switch (kind) {
    case 'translation': return l1 ? 0x5 : 0x7;
    case 'access-flag': return l1 ? 0x3 : 0x6;
    case 'permission': return l1 ? 0xd : 0xf;
    case 'external-abort': return l1 ? 0xc : 0xe;
    default: return undefined;
  }
}

const KIND_NAME: Record<LpaeFailure['kind'], string> = {
  translation: 'TRANSLATION',
  'access-flag': 'ACCESS_FLAG',
  permission: 'PERMISSION',
  'address-size': 'ADDRESS_SIZE',
  'external-abort': 'EXTERNAL_ABORT_ON_WALK',
  configuration: 'CONFIGURATION',
};

function v7sFault(o: LpaeFailure): WalkFault {
  const wf: WalkFault = { stage: o.walkStage, level: o.level, reason: { name: KIND_NAME[o.kind], text: o.text } };
  const code = v7sFsrCode(o.kind, o.level);
  if (code !== undefined) wf.reason.code = code;
  return wf;
}

/** The bare 'arm-v7s' model: registers ttbr0 (or ttbr), optional ttbr1 and tcr (TTBCR.N in bits [2:0]). */
export function walkArmV7s(snap: Snapshot, req: WalkRequest): WalkResult {
  const ctx = newCtx(snap.memory, req);
  const { steps, findings } = ctx;
  const r = snap.registers;
  const ttbr0 = r.ttbr0 ?? r.ttbr;
  if (ttbr0 === undefined) {
    steps.push({ structure: 'registers', ok: false, decoded: { missing: 'ttbr0' } });
    return faultResult({ stage: 'configuration', reason: { name: 'CONFIGURATION', text: 'the snapshot has no ttbr0 (or ttbr) register' } }, steps, findings);
  }
  const ias = snap.features.ias ?? 32;
  const mtk = ias > 32 || (snap.features.oas ?? 32) > 32;
  const n = r.tcr !== undefined ? Number(r.tcr & 7n) : 0;
  const limit = 2n ** BigInt(mtk ? Math.min(ias, 34) : 32);
  const iovaHex = '0x' + req.iova.toString(16);
  if (req.iova >= limit) {
    steps.push({ structure: 'input range check', decoded: { iova: iovaHex, inputBits: mtk ? Math.min(ias, 34) : 32 }, rule: 'io-pgtable-arm-v7s: input addresses are 32-bit (MediaTek: up to 34)', ok: false });
    return faultResult({ stage: 'table-entry', level: 1, reason: { code: 0x5, name: 'TRANSLATION', text: `address ${iovaHex} is beyond the short-descriptor input range` } }, steps, findings);
  }
  const ia = Number(req.iova);
  let useTtbr1 = false;
  if (n > 0 && !mtk && ia >= 2 ** (32 - n)) useTtbr1 = true;
  const ttbr = useTtbr1 ? r.ttbr1 : ttbr0;
  if (ttbr === undefined) {
    steps.push({ structure: 'TTBR selection', decoded: { n, ttbr: 1 }, rule: 'DDI0406C B3.5.4: VA[31:32-N] != 0 selects TTBR1', ok: false });
    return faultResult({ stage: 'configuration', reason: { name: 'CONFIGURATION', text: `address ${iovaHex} needs TTBR1 (TTBCR.N=${n}) and the snapshot has no ttbr1` } }, steps, findings);
  }
  const l1IndexBits = mtk ? Math.min(ias, 34) - 20 : useTtbr1 ? 12 : 12 - n;
  let base = Number(ttbr & 0xffffffffn);
  base -= base % 2 ** (l1IndexBits + 2);
  if (mtk && ttbr > 0xffffffffn) base += Number(ttbr >> 32n) * 2 ** 32;
  steps.push({ structure: useTtbr1 ? 'TTBR1' : 'TTBR0', value: '0x' + ttbr.toString(16), decoded: { table: hexn(base), n, l1Entries: 2 ** l1IndexBits, mediatek: mtk }, rule: 'DDI0406C B3.5.4: L1 table = TTBR[31:14-N], index VA[31-N:20]', ok: true });
  const o = walkV7sTables({ tableAddress: base, l1IndexBits, mtk, afe: true }, ia, ctx);
  return o.ok ? successResult(o, steps, findings) : faultResult(v7sFault(o), steps, findings);
}
