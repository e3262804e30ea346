/**
 * SMMUv2 (arm-smmu) walk from a register snapshot: StreamID -> SMR match (or stream indexing)
 * -> S2CR -> context bank (CBAR/CBA2R/SCTLR/TCR/TCR2/TTBRn/MAIRn) -> LPAE or v7s tables.
 * Field positions: reference section 1.8 (Linux arm-smmu.h, IHI0062). Faults are named by the
 * CB_FSR bit the context bank would set (TF, AFF, PF, ASF, EF) or GFSR.USF for an unmatched stream.
 */
import type { Snapshot, SmmuV2Registers } from '../snapshot/types';
import type { WalkFault, WalkRequest, WalkResult, WalkStep } from './types';
import {
  type LpaeFailure,
  type LpaeOutcome,
  type Stage1Params,
  type Stage2Params,
  type WalkCtx,
  checkS1Size,
  faultResult,
  finishNested,
  granuleFromTg0,
  granuleFromTg1,
  granuleName,
  newCtx,
  paBits,
  runStage1,
  runStage2,
  s1Region,
  s1StartLevel,
  s2FetchTranslator,
  stage2FromVtcr,
  checkS2Size,
  s2StartLevel,
  successResult,
  ttbrAddress,
} from './arm-lpae';
import { walkV7sTables } from './arm-v7s';

type Bank = SmmuV2Registers['contextBanks'][number];

const FSR_BIT: Record<LpaeFailure['kind'], string> = {
  translation: 'TF',
  'access-flag': 'AFF',
  permission: 'PF',
  'address-size': 'ASF',
  'external-abort': 'EF',
  configuration: 'TF',
};
const FSR_TEXT: Record<string, string> = {
  TF: 'translation fault',
  AFF: 'access flag fault',
  PF: 'permission fault',
  ASF: 'address size fault',
  EF: 'external fault (the walk could not read a descriptor)',
};

function hexn(n: number | bigint): string {
  return '0x' + n.toString(16);
}
function f(v: bigint, lo: number, width: number): number {
  return Number((v >> BigInt(lo)) & ((1n << BigInt(width)) - 1n));
}
function b(v: bigint | undefined, n: number): boolean {
  return v !== undefined && ((v >> BigInt(n)) & 1n) === 1n;
}

function fsrFault(o: LpaeFailure, cb: number, s2cb?: number): WalkFault {
  const name = FSR_BIT[o.kind];
  const bank = o.stage === 2 && s2cb !== undefined ? s2cb : cb;
  return {
    stage: o.walkStage,
    level: o.level,
    reason: { code: name, name, text: `${o.text}${o.duringS1TableFetch ? ' (stage 2, fetching a stage-1 descriptor)' : ''}: context bank ${bank} CB_FSR.${name} (${FSR_TEXT[name]}), FSYNR0.PLVL=${o.level & 3}` },
  };
}

function config(steps: WalkStep[], ctx: WalkCtx, where: string, text: string, stage: WalkFault['stage'] = 'configuration'): WalkResult {
  ctx.findings.push({ severity: 'error', where, message: text });
  steps.push({ structure: where, ok: false, decoded: { problem: text }, rule: 'SMMUv2 register interpretation (reference 1.8)' });
  return faultResult({ stage, reason: { name: 'CONFIGURATION', text } }, steps, ctx.findings);
}

function identity(req: WalkRequest, ctx: WalkCtx, why: string, rule: string): WalkResult {
  ctx.steps.push({ structure: 'bypass', decoded: { why }, rule, ok: true });
  const r: WalkResult = { result: 'translated', pa: hexn(req.iova), permissions: { read: true, write: true, exec: true }, steps: ctx.steps };
  if (ctx.findings.length) r.findings = ctx.findings;
  return r;
}

interface StreamMatch {
  index: number;
  how: string;
}

function matchStream(v2: SmmuV2Registers, sid: number, exids: boolean, ctx: WalkCtx): StreamMatch | undefined {
  if (v2.smr.length === 0) {
    // stream indexing (ID0.SMS=0): the S2CR is selected by the StreamID itself
    const ok = sid < v2.s2cr.length;
    ctx.steps.push({ structure: 'stream index', decoded: { streamId: hexn(sid), s2crCount: v2.s2cr.length }, rule: 'IHI0062 stream indexing (ID0.SMS=0, no SMRs): S2CR[StreamID]', ok });
    return ok ? { index: sid, how: 'stream indexing (no SMRs): S2CR[StreamID]' } : undefined;
  }
  const matches: number[] = [];
  for (let i = 0; i < v2.smr.length; i++) {
    const smr = v2.smr[i]!;
    let valid: boolean;
    let id: number;
    let mask: number;
    if (exids) {
      valid = b(v2.s2cr[i], 10);
      id = f(smr, 0, 16);
      mask = f(smr, 16, 16);
    } else {
      valid = b(smr, 31);
      id = f(smr, 0, 15);
      mask = f(smr, 16, 15);
    }
    if (valid && ((sid ^ id) & ~mask & 0xffff) === 0) matches.push(i);
  }
  ctx.steps.push({
    structure: 'SMR match',
    decoded: { streamId: hexn(sid), matching: matches, extendedIds: exids },
    rule: exids ? 'IHI0062 / arm-smmu.h: EXIDS: SMR ID[15:0], MASK[31:16], valid = S2CR.EXIDVALID; match when (SID ^ ID) & ~MASK == 0' : 'IHI0062 / arm-smmu.h: SMR VALID[31], ID[14:0], MASK[30:16]; match when (SID ^ ID) & ~MASK == 0',
    ok: matches.length > 0,
  });
  if (matches.length > 1) {
    ctx.findings.push({ severity: 'error', where: 'SMR', message: `StreamID ${hexn(sid)} matches several SMRs (${matches.join(', ')}): a stream match conflict (sGFSR.SMCF); the walk uses the first` });
  }
  return matches.length ? { index: matches[0]!, how: `SMR ${matches[0]}` } : undefined;
}

interface S1Setup {
  params: Stage1Params;
  aarch32?: boolean;
  v7s?: { ttbr: bigint; n: number };
}

/** Stage-1 parameters of a context bank for this input address, or a fault result. */
function stage1Setup(bankIdx: number, bank: Bank, req: WalkRequest, snap: Snapshot, ctx: WalkCtx): S1Setup | WalkResult {
  const steps = ctx.steps;
  const tcr = bank.tcr ?? 0n;
  const va64 = b(bank.cba2r, 0);
  const mair = (bank.mair0 ?? 0n) | ((bank.mair1 ?? 0n) << 32n);
  const idr2 = snap.registers.idr2;
  const sctlr = bank.sctlr ?? 0n;
  const afNoFault = b(sctlr, 3);
  const bigEndian = b(sctlr, 4);
  let outMax = idr2 !== undefined ? paBits(f(idr2, 0, 4) > 5 ? 5 : f(idr2, 0, 4)) : snap.features.oas;
  const where = `context bank ${bankIdx}`;
  if (va64) {
    const t0sz = f(tcr, 0, 6);
    const t1sz = f(tcr, 16, 6);
    const region = s1Region(req.iova, t0sz, t1sz);
    if (region === undefined) {
      steps.push({ structure: 'TTBR selection', decoded: { va: hexn(req.iova), t0sz, t1sz }, rule: 'DDI0487 D8.2.4: VA top bits must be all 0 (TTBR0) or all 1 (TTBR1)', ok: false, stage: 'stage 1' });
      return faultResult(fsrFault({ ok: false, kind: 'translation', stage: 1, level: 0, walkStage: 'table-entry', text: `address ${hexn(req.iova)} is outside both TTBR0 (${64 - t0sz}-bit) and TTBR1 ranges` }, bankIdx), steps, ctx.findings);
    }
    const g = region === 0 ? granuleFromTg0(f(tcr, 14, 2)) : granuleFromTg1(f(tcr, 30, 2));
    if (g === undefined) return config(steps, ctx, where, `TCR.TG${region} holds a reserved granule encoding`);
    const tsz = region === 0 ? t0sz : t1sz;
    const bad = checkS1Size(tsz, g);
    if (bad) return config(steps, ctx, where, `TCR.T${region}SZ: ${bad}`);
    let ips = paBits(f(bank.tcr2 ?? 5n, 0, 3)) ?? 48;
    if (ips === 52 && g !== 16) ips = 48;
    if (outMax !== undefined && ips > outMax) ips = outMax;
    const epd = b(tcr, region === 0 ? 7 : 23);
    const ttbr = (region === 0 ? bank.ttbr0 : bank.ttbr1) ?? 0n;
    const table = ttbrAddress(ttbr, false);
    steps.push({
      structure: `TCR/TTBR${region} (AArch64)`,
      decoded: { tsz, inputBits: 64 - tsz, granule: granuleName(g), startLevel: s1StartLevel(64 - tsz, g), outputBits: ips, table: hexn(table), asid: f(ttbr, 48, 16), epd: +epd },
      rule: 'IHI0062 CB_TCR/CB_TCR2 (TCR_EL1 layout) and CB_TTBRn: TTBR selected by the VA top bits, start level 4 - ceil((IAsize - g)/(g - 3))',
      ok: !epd,
      stage: 'stage 1',
    });
    if (epd) return faultResult(fsrFault({ ok: false, kind: 'translation', stage: 1, level: 0, walkStage: 'table-entry', text: `TCR.EPD${region}=1: walks through TTBR${region} are disabled` }, bankIdx), steps, ctx.findings);
    return { params: { tableAddress: table, tsz, granuleShift: g, outputBits: ips, afNoFault, mair, bigEndian } };
  }
  if (!b(tcr, 31)) {
    // AArch32 short descriptor (TTBCR.EAE=0)
    return { params: { tableAddress: 0, tsz: 32, granuleShift: 12, outputBits: 32 }, v7s: { ttbr: bank.ttbr0 ?? 0n, n: f(tcr, 0, 3) } };
  }
  // AArch32 LPAE (VMSAv7 long descriptor): 4K granule, 32-bit VA, 40-bit OA
  if (req.iova >= 1n << 32n) {
    steps.push({ structure: 'input range check', decoded: { va: hexn(req.iova) }, rule: 'AArch32 LPAE contexts take 32-bit input addresses', ok: false, stage: 'stage 1' });
    return faultResult(fsrFault({ ok: false, kind: 'translation', stage: 1, level: 1, walkStage: 'table-entry', text: `address ${hexn(req.iova)} is above 32 bits` }, bankIdx), steps, ctx.findings);
  }
  const va = Number(req.iova);
  const t0 = f(tcr, 0, 3);
  const t1 = f(tcr, 16, 3);
  const in1 = t1 > 0 ? va >= 2 ** 32 - 2 ** (32 - t1) : t0 > 0 && va >= 2 ** (32 - t0);
  const in0 = !in1 && (t0 === 0 || va < 2 ** (32 - t0));
  if (!in0 && !in1) {
    steps.push({ structure: 'TTBR selection', decoded: { va: hexn(req.iova), t0sz: t0, t1sz: t1 }, rule: 'DDI0406C B3.6.4: VA in neither TTBR0 nor TTBR1 range', ok: false, stage: 'stage 1' });
    return faultResult(fsrFault({ ok: false, kind: 'translation', stage: 1, level: 1, walkStage: 'table-entry', text: `address ${hexn(req.iova)} is outside both TTBR ranges` }, bankIdx), steps, ctx.findings);
  }
  const region = in1 ? 1 : 0;
  const inputBits = 32 - (region === 0 ? t0 : t1);
  const epd = b(tcr, region === 0 ? 7 : 23);
  const ttbr = (region === 0 ? bank.ttbr0 : bank.ttbr1) ?? 0n;
  if (outMax === undefined || outMax > 40) outMax = 40;
  steps.push({ structure: `TTBCR/TTBR${region} (AArch32 LPAE)`, decoded: { inputBits, outputBits: outMax, table: hexn(ttbrAddress(ttbr, false)), epd: +epd }, rule: 'DDI0406C B3.6: long-descriptor, 4K granule, start level 1 when the input size is above 30 bits', ok: !epd, stage: 'stage 1' });
  if (epd) return faultResult(fsrFault({ ok: false, kind: 'translation', stage: 1, level: 1, walkStage: 'table-entry', text: `TTBCR.EPD${region}=1` }, bankIdx), steps, ctx.findings);
  return { params: { tableAddress: ttbrAddress(ttbr, false), tsz: 64 - inputBits, granuleShift: 12, outputBits: outMax, afNoFault, mair, bigEndian }, aarch32: true };
}

/** Stage-2 parameters of a context bank (its TCR is a VTCR, its TTBR0 the VTTBR). */
function stage2Setup(bank: Bank, snap: Snapshot): Stage2Params | string {
  const tcr = bank.tcr ?? 0n;
  const idr2 = snap.registers.idr2;
  const oasEnc = idr2 !== undefined ? f(idr2, 4, 4) : undefined;
  const oas = oasEnc !== undefined ? paBits(oasEnc > 5 ? 5 : oasEnc) : snap.features.oas;
  const bigEndian = b(bank.sctlr, 4);
  const afNoFault = b(bank.sctlr, 3);
  if (b(bank.cba2r, 0)) {
    const p = stage2FromVtcr(tcr, bank.ttbr0 ?? 0n, oas);
    if (typeof p === 'string') return p;
    return { ...p, bigEndian, afNoFault: p.afNoFault || afNoFault };
  }
  // AArch32 VTCR: T0SZ is a signed 4-bit value, 4K granule, 40-bit output
  const raw = f(tcr, 0, 4);
  const t0 = raw >= 8 ? raw - 16 : raw;
  const inputBits = 32 - t0;
  const start = s2StartLevel(f(tcr, 6, 2), 12);
  if (start === undefined || start < 1) return `AArch32 VTCR.SL0=${f(tcr, 6, 2)} is reserved`;
  const bad = checkS2Size(64 - inputBits, start, 12, { maxTsz: 39 });
  if (bad) return 'VTCR: ' + bad;
  return { tableAddress: ttbrAddress(bank.ttbr0 ?? 0n, false), t0sz: 64 - inputBits, startLevel: start, granuleShift: 12, outputBits: Math.min(oas ?? 40, 40), bigEndian, afNoFault };
}

export function walkSmmuV2(snap: Snapshot, req: WalkRequest): WalkResult {
  const ctx = newCtx(snap.memory, req);
  const { steps, findings } = ctx;
  const v2 = snap.smmuV2 ?? { smr: [], s2cr: [], contextBanks: {} };
  const regs = snap.registers;
  const scr0 = regs.scr0 ?? regs.cr0;
  let cbIdx: number;
  let streamId = req.streamId;
  if (streamId === undefined && req.contextBank === undefined && req.device) {
    const m = /^[0-9a-f]{4}:([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(req.device);
    if (m) {
      streamId = (parseInt(m[1]!, 16) << 8) | (parseInt(m[2]!, 16) << 3) | parseInt(m[3]!, 10);
      findings.push({ severity: 'info', where: 'stream ID', message: `no stream ID given: assumed StreamID = PCI requester ID ${hexn(streamId)} of ${req.device} (identity iommu-map)` });
    }
  }
  if (streamId !== undefined) {
    const exids = b(regs.idr0, 8) && b(scr0, 3);
    const m = matchStream(v2, streamId, exids, ctx);
    if (!m) {
      const usfFault = scr0 === undefined || b(scr0, 10);
      if (scr0 === undefined) findings.push({ severity: 'info', where: 'sCR0', message: 'sCR0 is not in the snapshot: assumed USFCFG=1 (Linux sets it unless bypass is allowed)' });
      if (!usfFault) return identity(req, ctx, 'no SMR matched and sCR0.USFCFG=0', 'IHI0062 sCR0.USFCFG=0: unmatched streams bypass');
      steps[steps.length - 1]!.ok = false;
      return faultResult({ stage: 'device-entry', reason: { code: 'GFSR.USF', name: 'USF', text: `StreamID ${hexn(streamId)} matches no valid SMR: unidentified stream fault (sGFSR.USF, sCR0.USFCFG=1)` } }, steps, findings);
    }
    const s2cr = v2.s2cr[m.index];
    if (s2cr === undefined) return config(steps, ctx, `S2CR ${m.index}`, `S2CR ${m.index} is not in the snapshot`, 'device-entry');
    const type = f(s2cr, 16, 2);
    cbIdx = f(s2cr, 0, 8);
    const typeName = (['translate', 'bypass', 'fault', 'reserved'] as const)[type]!;
    const s2Step: WalkStep = { structure: 'S2CR', value: hexn(s2cr), decoded: { index: m.index, via: m.how, type: typeName, cbndx: cbIdx, privcfg: f(s2cr, 24, 2) }, rule: 'IHI0062 SMMU_S2CRn: TYPE[17:16] 0 translate (context bank CBNDX[7:0]), 1 bypass, 2 fault', ok: type === 0 || type === 1 };
    steps.push(s2Step);
    if (type === 1) return identity(req, ctx, `S2CR ${m.index} TYPE=bypass`, 'IHI0062 S2CR.TYPE=bypass');
    if (type !== 0) {
      return faultResult({ stage: 'device-entry', reason: { code: 'S2CR.TYPE', name: 'S2CR_FAULT', text: `S2CR ${m.index} for StreamID ${hexn(streamId)} has TYPE=${typeName}: the SMMU faults every transaction of this stream (Linux: stream not attached to a domain with bypass disabled)` } }, steps, findings);
    }
  } else if (req.contextBank !== undefined) {
    cbIdx = req.contextBank;
    steps.push({ structure: 'context bank (given)', decoded: { contextBank: cbIdx }, rule: 'context bank chosen by the request (no StreamID)', ok: true });
  } else {
    return config(steps, ctx, 'request', 'an SMMUv2 walk needs a stream ID or a context bank');
  }
  const bank = v2.contextBanks[cbIdx];
  if (!bank) return config(steps, ctx, `context bank ${cbIdx}`, `context bank ${cbIdx} is not in the snapshot`);
  const cbar = bank.cbar ?? 0n;
  const cbType = f(cbar, 16, 2);
  const typeNames = ['stage 2 only', 'stage 1, stage 2 bypass', 'stage 1, stage 2 fault', 'stage 1 nested with stage 2'] as const;
  const sctlr = bank.sctlr ?? 0n;
  const s2Idx = cbType === 3 ? f(cbar, 8, 8) : undefined;
  steps.push({
    structure: `context bank ${cbIdx}`,
    decoded: {
      cbar: hexn(cbar), type: typeNames[cbType], vmid: f(cbar, 0, 8), s2ContextBank: s2Idx,
      cba2r: hexn(bank.cba2r ?? 0n), va64: +b(bank.cba2r, 0),
      sctlr: hexn(sctlr), m: +b(sctlr, 0), afe: +b(sctlr, 2), affd: +b(sctlr, 3), e: +b(sctlr, 4),
      tcr: hexn(bank.tcr ?? 0n), tcr2: hexn(bank.tcr2 ?? 0n), ttbr0: hexn(bank.ttbr0 ?? 0n), ttbr1: hexn(bank.ttbr1 ?? 0n),
    },
    rule: 'IHI0062 SMMU_CBARn.TYPE[17:16] (0 S2, 1 S1+S2 bypass, 2 S1+S2 fault, 3 nested: S2 bank in CBAR[15:8]), CBA2Rn.VA64, CB_SCTLR.M',
    ok: b(sctlr, 0),
  });
  if (!b(sctlr, 0)) {
    findings.push({ severity: 'warning', where: `context bank ${cbIdx}`, message: 'CB_SCTLR.M=0: translation is disabled for this context bank, transactions pass untranslated' });
    return identity(req, ctx, `context bank ${cbIdx} SCTLR.M=0`, 'IHI0062 CB_SCTLR.M=0: context bank MMU disabled');
  }
  if (cbType === 0) {
    const p = stage2Setup(bank, snap);
    if (typeof p === 'string') return config(steps, ctx, `context bank ${cbIdx}`, p);
    const o = runStage2(p, Number(req.iova), ctx);
    return o.ok ? successResult(o, steps, findings) : faultResult(fsrFault(o, cbIdx), steps, findings);
  }
  let s2p: Stage2Params | undefined;
  if (s2Idx !== undefined) {
    const s2bank = v2.contextBanks[s2Idx];
    if (!s2bank) return config(steps, ctx, `context bank ${s2Idx}`, `stage-2 context bank ${s2Idx} (CBAR[15:8] of bank ${cbIdx}) is not in the snapshot`);
    const p = stage2Setup(s2bank, snap);
    if (typeof p === 'string') return config(steps, ctx, `context bank ${s2Idx}`, p);
    s2p = p;
    steps.push({ structure: `stage-2 context bank ${s2Idx}`, decoded: { tcr: hexn(s2bank.tcr ?? 0n), ttbr0: hexn(s2bank.ttbr0 ?? 0n), t0sz: p.t0sz, startLevel: p.startLevel, granule: granuleName(p.granuleShift) }, rule: 'IHI0062: nested context: stage 2 from the bank named in CBAR[15:8]', ok: true, stage: 'stage 2' });
  }
  const setup = stage1Setup(cbIdx, bank, req, snap, ctx);
  if ('result' in setup) return setup;
  let o1: LpaeOutcome;
  if (setup.v7s) {
    if (req.iova >= 1n << 32n) {
      steps.push({ structure: 'input range check', decoded: { va: hexn(req.iova) }, rule: 'AArch32 short-descriptor contexts take 32-bit input addresses', ok: false });
      return faultResult(fsrFault({ ok: false, kind: 'translation', stage: 1, level: 1, walkStage: 'table-entry', text: `address ${hexn(req.iova)} is above 32 bits` }, cbIdx), steps, findings);
    }
    const n = setup.v7s.n;
    const ia = Number(req.iova);
    const use1 = n > 0 && ia >= 2 ** (32 - n);
    const ttbr = use1 ? bank.ttbr1 ?? 0n : setup.v7s.ttbr;
    o1 = walkV7sTables({ tableAddress: Number(ttbr & 0xffffc000n), l1IndexBits: use1 ? 12 : 12 - n, mtk: false, afe: b(sctlr, 2), bigEndian: b(sctlr, 4) }, ia, ctx);
  } else {
    if (s2p) setup.params.fetchTranslator = s2FetchTranslator(s2p);
    o1 = runStage1(setup.params, req.iova, ctx);
  }
  if (!o1.ok) return faultResult(fsrFault(o1, cbIdx, s2Idx), steps, findings);
  if (cbType === 2) {
    steps.push({ structure: 'stage 2', rule: 'IHI0062 CBAR.TYPE=2: stage 2 configured to fault', ok: false, stage: 'stage 2' });
    return faultResult({ stage: 'configuration', reason: { code: 'TF', name: 'TF', text: `context bank ${cbIdx} has CBAR.TYPE=stage 1 with stage 2 fault: every transaction faults after stage 1` } }, steps, findings);
  }
  if (!s2p) return successResult(o1, steps, findings);
  const o = finishNested(o1, runStage2(s2p, o1.oa, ctx));
  return o.ok ? successResult(o, steps, findings) : faultResult(fsrFault(o, cbIdx, s2Idx), steps, findings);
}
