/**
 * Configuration sanity checks run when a snapshot is loaded: what in the registers or features
 * would make a walk meaningless or different from what the user expects (translation disabled,
 * misaligned table bases, widths beyond what the IOMMU implements, reserved encodings).
 * Each finding names the register field; `where` prefixes ("contextBanks.3.") let a walk pick
 * the findings that concern it.
 */
import type { SanityFinding } from '../walk/types';
import type { IommuFeatures, IommuModel, SmmuV2Registers } from './types';
import type { PhysicalMemory } from './memory';

export interface SanityInput {
  model: IommuModel;
  features: IommuFeatures;
  registers: Record<string, bigint>;
  smmuV2?: SmmuV2Registers;
  /** when given, table bases are also checked for presence in the snapshot's memory */
  memory?: PhysicalMemory;
}

const hex = (v: bigint | number): string => '0x' + v.toString(16);
const bits = (v: bigint, hi: number, lo: number): number => Number((v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n));
const bit = (v: bigint, n: number): boolean => ((v >> BigInt(n)) & 1n) === 1n;
const mask = (hi: number, lo: number): bigint => ((1n << BigInt(hi - lo + 1)) - 1n) << BigInt(lo);

/** Arm PA/IPA size encodings (IPS, PS, PASIZE, IDR5.OAS, ID2.IAS/OAS use their own table below) */
const ARM_PS_BITS = [32, 36, 40, 42, 44, 48, 52];
const SMMUV2_SIZE_BITS = [32, 36, 40, 42, 44, 48, 48, 48];

class Findings {
  readonly list: SanityFinding[] = [];
  error(where: string, message: string): void {
    this.list.push({ severity: 'error', where, message });
  }
  warning(where: string, message: string): void {
    this.list.push({ severity: 'warning', where, message });
  }
  info(where: string, message: string): void {
    this.list.push({ severity: 'info', where, message });
  }
}

function checkPresent(f: Findings, mem: PhysicalMemory | undefined, addr: bigint, where: string, what: string): void {
  if (mem && mem.read64(addr) === undefined) {
    f.error(where, `${what} at ${hex(addr)} is not in the snapshot's memory: every walk through it stops there`);
  }
}

function checkGranule(f: Findings, features: IommuFeatures, g: '4k' | '16k' | '64k', where: string): void {
  if (features.granules && !features.granules.includes(g)) {
    f.error(where, `uses the ${g} granule, which this IOMMU does not implement (features.granules: ${features.granules.join(', ')})`);
  }
}

function checkOutputSize(f: Findings, features: IommuFeatures, psBits: number | undefined, where: string, field: string): void {
  if (psBits === undefined) {
    f.error(where, `${field} uses a reserved encoding`);
  } else if (features.oas !== undefined && psBits > features.oas) {
    f.warning(where, `${field} = ${psBits} bits is wider than the IOMMU's output size (features.oas ${features.oas}); the effective size is ${features.oas} bits`);
  }
}

/** Stage-1 TnSZ range, VMSAv8-64 (pagetable-formats 1.2): 16..39 without TTST/DS/LVA */
function checkTxSZ(f: Findings, features: IommuFeatures, tsz: number, where: string, field: string): void {
  if (tsz < 16 || tsz > 39) {
    f.error(where, `${field} = ${tsz} is outside 16..39 (an input size of ${64 - tsz} bits): ILLEGAL without the small-translation-table / 52-bit extensions`);
  } else if (features.ias !== undefined && 64 - tsz > features.ias) {
    f.warning(where, `${field} = ${tsz} gives a ${64 - tsz}-bit input size, wider than the IOMMU's input size (features.ias ${features.ias})`);
  }
}

/** log2 of the granule and the stride, from a TG0-style encoding */
function granuleBits(g: '4k' | '16k' | '64k'): number {
  return g === '4k' ? 12 : g === '16k' ? 14 : 16;
}

/** start level for stage 1, and the table size in bytes at that level (pagetable-formats 1.2) */
function s1Geometry(tsz: number, g: '4k' | '16k' | '64k'): { start: number; tableBytes: bigint } {
  const gb = granuleBits(g);
  const s = gb - 3;
  const ia = 64 - tsz;
  const start = 4 - Math.ceil((ia - gb) / s);
  const x = ia - s * (4 - start);
  return { start, tableBytes: 1n << BigInt(Math.max(x, 3)) };
}

function checkTableAlign(f: Findings, base: bigint, bytes: bigint, where: string, what: string): void {
  if (bytes > 8n && (base & (bytes - 1n)) !== 0n) {
    f.warning(where, `${what} ${hex(base)} is not aligned to the table size (${hex(bytes)} bytes): the low bits are ignored, the walk uses ${hex(base & ~(bytes - 1n))}`);
  }
}

const TG0_S1: Record<number, '4k' | '64k' | '16k' | undefined> = { 0: '4k', 1: '64k', 2: '16k', 3: undefined };
const TG1_S1: Record<number, '4k' | '64k' | '16k' | undefined> = { 0: undefined, 1: '16k', 2: '4k', 3: '64k' };

/** A VMSAv8-64 stage-1 TCR (TCR_EL1 layout) with its TTBRs. */
function checkLpaeStage1(f: Findings, features: IommuFeatures, tcr: bigint, ttbr0: bigint | undefined, ttbr1: bigint | undefined, prefix: string, withIps: boolean): void {
  const halves: [string, number, boolean, '4k' | '16k' | '64k' | undefined, bigint | undefined][] = [
    ['0', bits(tcr, 5, 0), bit(tcr, 7), TG0_S1[bits(tcr, 15, 14)], ttbr0],
    ['1', bits(tcr, 21, 16), bit(tcr, 23), TG1_S1[bits(tcr, 31, 30)], ttbr1],
  ];
  for (const [n, tsz, epd, g, ttbr] of halves) {
    if (epd || ttbr === undefined) continue;
    const w = `${prefix}tcr`;
    if (!g) {
      f.error(w, `TG${n} = ${bits(tcr, n === '0' ? 15 : 31, n === '0' ? 14 : 30)} is a reserved granule encoding`);
      continue;
    }
    checkGranule(f, features, g, `${w}.TG${n}`);
    checkTxSZ(f, features, tsz, `${w}.T${n}SZ`, `T${n}SZ`);
    if (tsz >= 16 && tsz <= 39) {
      const { start, tableBytes } = s1Geometry(tsz, g);
      checkTableAlign(f, ttbr & mask(47, 1), tableBytes, `${prefix}ttbr${n}`, `TTBR${n} base (start level ${start})`);
    }
  }
  if (withIps) {
    const ips = bits(tcr, 34, 32);
    checkOutputSize(f, features, ARM_PS_BITS[ips], `${prefix}tcr.IPS`, 'IPS');
  }
}

/** SL0 → start level (pagetable-formats 1.3), undefined when reserved */
function s2StartLevel(sl0: number, g: '4k' | '16k' | '64k'): number | undefined {
  if (g === '4k') return sl0 === 3 ? undefined : 2 - sl0;
  if (sl0 === 3) return undefined;
  return 3 - sl0;
}

function checkLpaeStage2(f: Findings, features: IommuFeatures, vtcr: bigint, vttbr: bigint | undefined, prefix: string, tcrName: string, ttbrName: string): void {
  const g = TG0_S1[bits(vtcr, 15, 14)];
  const w = `${prefix}${tcrName}`;
  if (!g) {
    f.error(`${w}.TG0`, 'TG0 = 3 is a reserved granule encoding');
    return;
  }
  checkGranule(f, features, g, `${w}.TG0`);
  const tsz = bits(vtcr, 5, 0);
  const sl0 = bits(vtcr, 7, 6);
  const start = s2StartLevel(sl0, g);
  if (start === undefined) {
    f.error(`${w}.SL0`, `SL0 = ${sl0} is reserved for the ${g} granule (without the small-table / 52-bit extensions)`);
    return;
  }
  const gb = granuleBits(g);
  const s = gb - 3;
  const ia = 64 - tsz;
  const shiftAbove = gb + (3 - (start - 1)) * s; // IA bits resolved below the start level
  const extra = ia - shiftAbove;
  if (tsz > 39 || ia > 48 + (g === '64k' ? 4 : 0)) {
    f.error(`${w}.T0SZ`, `T0SZ = ${tsz} (${ia}-bit IPA) is outside the supported range`);
  } else if (extra > 4) {
    f.error(`${w}.SL0`, `start level ${start} cannot resolve a ${ia}-bit IPA (T0SZ ${tsz}): would need ${1 << extra} concatenated tables (max 16); inconsistent T0SZ/SL0 is a level-0 translation fault (C_BAD_STE on SMMUv3)`);
  } else if (extra < -s + 1) {
    f.error(`${w}.SL0`, `start level ${start} is too high for a ${ia}-bit IPA (T0SZ ${tsz}): the table at that level would have no index bits`);
  } else if (vttbr !== undefined) {
    const tables = extra > 0 ? 1n << BigInt(extra) : 1n;
    const tableBytes = (extra >= 0 ? 1n << BigInt(s + 3) : 1n << BigInt(s + 3 + extra)) * tables;
    checkTableAlign(f, vttbr & mask(47, 1), tableBytes, `${prefix}${ttbrName}`, `${ttbrName.toUpperCase()} base (start level ${start}${tables > 1n ? `, ${tables} concatenated tables` : ''})`);
  }
  if (features.ias !== undefined && ia > features.ias) {
    f.warning(`${w}.T0SZ`, `T0SZ = ${tsz} gives a ${ia}-bit IPA, wider than the IOMMU's input size (features.ias ${features.ias})`);
  }
  checkOutputSize(f, features, ARM_PS_BITS[bits(vtcr, 18, 16)], `${w}.PS`, 'PS');
}

function checkArmLpae(f: Findings, i: SanityInput): void {
  const r = i.registers;
  if (r.tcr !== undefined) checkLpaeStage1(f, i.features, r.tcr, r.ttbr0, r.ttbr1, '', true);
  if (r.vtcr !== undefined) checkLpaeStage2(f, i.features, r.vtcr, r.vttbr, '', 'vtcr', 'vttbr');
  if (r.tcr !== undefined && r.vtcr !== undefined) f.info('registers', 'stage 1 and stage 2 both present: nested translation (stage-1 table addresses are IPAs translated by stage 2)');
  const root = r.tcr !== undefined ? (r.ttbr0 ?? r.ttbr1) : r.vttbr;
  if (root !== undefined && r.vtcr === undefined) checkPresent(f, i.memory, root & mask(47, 4), r.tcr !== undefined ? (r.ttbr0 !== undefined ? 'ttbr0' : 'ttbr1') : 'vttbr', 'the first-level table');
}

function checkArmV7s(f: Findings, i: SanityInput): void {
  const r = i.registers;
  const ttbr0 = r.ttbr0!;
  if (ttbr0 >> 32n !== 0n) f.error('ttbr0', `${hex(ttbr0)} has bits above 31 set: the short-descriptor format has 32-bit table addresses`);
  const n = r.tcr !== undefined ? bits(r.tcr, 2, 0) : 0;
  if (r.tcr !== undefined && bit(r.tcr, 31)) f.error('tcr.EAE', 'EAE = 1 selects the long-descriptor (LPAE) format, not v7s');
  if (n !== 0) f.warning('tcr.N', `N = ${n}: TTBR0 covers only the low 2^${32 - n} bytes, higher addresses use TTBR1`);
  const align = 1n << BigInt(14 - n);
  if (((ttbr0 & 0xffff_ffffn) & ~0x7fn & (align - 1n)) !== 0n) {
    f.warning('ttbr0', `table base bits below bit ${14 - n} are set (${hex(ttbr0)}); the L1 table must be ${align}-byte aligned and those bits are ignored`);
  }
  checkPresent(f, i.memory, ttbr0 & 0xffff_c000n, 'ttbr0', 'the level-1 table');
  if (i.features.formats && !i.features.formats.includes('v7s')) f.error('iommu.features.formats', 'the model is arm-v7s but the IOMMU does not list the v7s format');
}

function checkSmmuV3(f: Findings, i: SanityInput): void {
  const r = i.registers;
  const { features } = i;
  if (r.cr0 !== undefined && !bit(r.cr0, 0)) {
    const abort = r.gbpa !== undefined && bit(r.gbpa, 20);
    f.warning('cr0.SMMUEN', `SMMUEN = 0: the SMMU is disabled and every transaction ${abort ? 'is aborted (GBPA.ABORT = 1)' : r.gbpa !== undefined ? 'bypasses translation (GBPA.ABORT = 0)' : 'bypasses or aborts per GBPA'}; a walk shows what the tables would do once enabled`);
  }
  const base = r.strtab_base!;
  const cfg = r.strtab_base_cfg!;
  const addr = base & mask(55, 6);
  if ((base & 0x3fn) !== 0n) f.warning('strtab_base', `bits [5:0] are RES0 but set (${hex(base & 0x3fn)})`);
  if ((base & (mask(61, 56) | mask(63, 63))) !== 0n) f.warning('strtab_base', `reserved bits [63], [61:56] set in ${hex(base)}`);
  const log2size = bits(cfg, 5, 0);
  const split = bits(cfg, 10, 6);
  const fmt = bits(cfg, 17, 16);
  if ((cfg & ~(mask(17, 16) | mask(10, 0))) !== 0n) f.warning('strtab_base_cfg', `reserved bits set in ${hex(cfg)}`);
  const idr0 = r.idr0;
  const idr1 = r.idr1;
  const idr5 = r.idr5;
  const sidSize = idr1 !== undefined ? bits(idr1, 5, 0) : features.sidBits;
  if (sidSize !== undefined && log2size > sidSize) {
    f.info('strtab_base_cfg.LOG2SIZE', `LOG2SIZE = ${log2size} is larger than the stream-ID width (${sidSize} bits): the effective size is ${sidSize}`);
  }
  if (fmt > 1) {
    f.error('strtab_base_cfg.FMT', `FMT = ${fmt} is reserved (0 linear, 1 2-level)`);
  } else if (fmt === 0) {
    const bytes = 1n << BigInt(log2size + 6);
    if ((addr & (bytes - 1n)) !== 0n) f.warning('strtab_base', `linear stream table ${hex(addr)} is not aligned to its size (${hex(bytes)} bytes): the SMMU clears ADDR[LOG2SIZE+5:0] and reads ${hex(addr & ~(bytes - 1n))}`);
  } else {
    if (idr0 !== undefined && bits(idr0, 28, 27) === 0) f.error('strtab_base_cfg.FMT', '2-level stream table selected but IDR0.ST_LEVEL = 0 (only linear tables implemented)');
    if (split !== 6 && split !== 8 && split !== 10) f.warning('strtab_base_cfg.SPLIT', `SPLIT = ${split} is not 6, 8 or 10; the SMMU behaves as if it were 6`);
    const l1Bits = Math.max(0, log2size - (split === 8 || split === 10 ? split : 6));
    const bytes = BigInt(Math.max(64, 8 * 2 ** l1Bits));
    if ((addr & (bytes - 1n)) !== 0n) f.warning('strtab_base', `level-1 stream table ${hex(addr)} is not aligned to max(64, its size = ${hex(bytes)} bytes); the low bits are ignored`);
  }
  if (idr5 !== undefined) {
    const oasBits = ARM_PS_BITS[bits(idr5, 2, 0)];
    if (oasBits === undefined) f.error('idr5.OAS', `OAS = ${bits(idr5, 2, 0)} is a reserved encoding`);
    else {
      if (features.oas !== undefined && features.oas !== oasBits) f.warning('iommu.features.oas', `features.oas = ${features.oas} disagrees with IDR5.OAS (${oasBits} bits)`);
      if (addr >> BigInt(oasBits) !== 0n) f.error('strtab_base', `stream table address ${hex(addr)} is beyond the output address size (${oasBits} bits)`);
    }
    const gr: ['4k' | '16k' | '64k', number][] = [['4k', 4], ['16k', 5], ['64k', 6]];
    for (const [g, b] of gr) {
      if (features.granules && features.granules.includes(g) !== bit(idr5, b)) {
        f.warning('iommu.features.granules', `features.granules ${features.granules.includes(g) ? 'lists' : 'omits'} ${g} but IDR5.GRAN${g.toUpperCase()} = ${bit(idr5, b) ? 1 : 0}`);
      }
    }
  }
  if (idr1 !== undefined && features.ssidBits !== undefined && features.ssidBits !== bits(idr1, 10, 6)) {
    f.warning('iommu.features.ssidBits', `features.ssidBits = ${features.ssidBits} disagrees with IDR1.SSIDSIZE (${bits(idr1, 10, 6)})`);
  }
  if (idr1 !== undefined && features.sidBits !== undefined && features.sidBits !== bits(idr1, 5, 0)) {
    f.warning('iommu.features.sidBits', `features.sidBits = ${features.sidBits} disagrees with IDR1.SIDSIZE (${bits(idr1, 5, 0)})`);
  }
  if (idr0 !== undefined && bits(idr0, 3, 2) === 1 && features.formats?.includes('aarch64')) {
    f.warning('iommu.features.formats', 'features.formats lists aarch64 but IDR0.TTF = 1 (AArch32 tables only)');
  }
  if (features.formats && !features.formats.includes('aarch64') && !features.formats.includes('aarch32-lpae')) {
    f.error('iommu.features.formats', 'an SMMUv3 walks AArch64 or AArch32-LPAE tables; features.formats lists neither');
  }
  checkPresent(f, i.memory, addr, 'strtab_base', fmt === 1 ? 'the level-1 stream table' : 'the stream table');
}

function checkVtd(f: Findings, i: SanityInput): void {
  const r = i.registers;
  const { features } = i;
  const rt = r.rtaddr!;
  if (r.gsts !== undefined && !bit(r.gsts, 31)) {
    f.warning('gsts.TES', 'TES = 0: DMA remapping is not enabled, DMA is not translated; a walk shows what the tables would do once enabled');
  }
  if (r.gsts !== undefined && bit(r.gsts, 31) && !bit(r.gsts, 30)) {
    f.warning('gsts.RTPS', 'RTPS = 0: the root-table pointer in RTADDR may not be the one the hardware uses');
  }
  const ttm = bits(rt, 11, 10);
  if ((rt & 0x3ffn) !== 0n) f.warning('rtaddr', `reserved bits [9:0] set in ${hex(rt)}`);
  if (ttm === 2) f.error('rtaddr.TTM', 'TTM = 2 (abort-DMA mode): every DMA is blocked, there is no table to walk');
  if (ttm === 3) f.error('rtaddr.TTM', 'TTM = 3 is reserved');
  const scalable = ttm === 1;
  const cap = r.cap;
  const ecap = r.ecap;
  if (scalable && ecap !== undefined && !bit(ecap, 43)) f.error('rtaddr.TTM', 'scalable-mode root table selected but ECAP.SMTS = 0 (scalable mode not implemented)');
  if (features.scalableMode !== undefined && features.scalableMode !== scalable) {
    f.warning('iommu.features.scalableMode', `features.scalableMode = ${features.scalableMode} but RTADDR selects ${scalable ? 'scalable' : 'legacy'} mode; the walker follows RTADDR`);
  }
  if (cap !== undefined) {
    const mgaw = bits(cap, 21, 16) + 1;
    if (features.ias !== undefined && features.ias !== mgaw) f.warning('iommu.features.ias', `features.ias = ${features.ias} disagrees with CAP.MGAW (${mgaw} bits)`);
    const sagaw = bits(cap, 12, 8);
    const supported = [[1, 3], [2, 4], [3, 5]].filter(([b]) => (sagaw >> b!) & 1).map(([, l]) => l!);
    if (sagaw === 0) f.error('cap.SAGAW', 'SAGAW = 0: no second-level table depth is supported');
    if (features.levels && features.levels.some((l) => !supported.includes(l))) {
      f.warning('iommu.features.levels', `features.levels [${features.levels.join(', ')}] disagrees with CAP.SAGAW (${supported.length ? supported.join(', ') + '-level' : 'none'})`);
    }
    const haw = features.oas ?? mgaw;
    const addr = rt & ~0xfffn;
    if (addr >> BigInt(Math.max(haw, 39)) !== 0n) f.warning('rtaddr', `root table ${hex(addr)} is beyond the ${Math.max(haw, 39)}-bit address width`);
  }
  if (ecap !== undefined && features.pasidBits !== undefined && features.pasidBits > 0 && !bit(ecap, 40)) {
    f.warning('iommu.features.pasidBits', `features.pasidBits = ${features.pasidBits} but ECAP.PASID = 0`);
  }
  checkPresent(f, i.memory, rt & ~0xfffn, 'rtaddr', 'the root table');
}

function checkAmdVi(f: Findings, i: SanityInput): void {
  const r = i.registers;
  const d = r.dev_table_base!;
  if (r.control !== undefined && !bit(r.control, 0)) {
    f.warning('control.IommuEn', 'IommuEn = 0: the IOMMU is disabled and DMA passes untranslated; a walk shows what the tables would do once enabled');
  }
  if ((d & (mask(11, 9) | mask(63, 52))) !== 0n) f.warning('dev_table_base', `reserved bits [11:9] or [63:52] set in ${hex(d)}`);
  const size = bits(d, 8, 0);
  const entries = (size + 1) * 128;
  if (entries < 65536) f.info('dev_table_base.Size', `device table holds ${entries} entries (Size = ${size}): DeviceIDs from ${hex(entries)} up are outside it (ILLEGAL_DEV_TABLE_ENTRY)`);
  const base = d & mask(51, 12);
  if (i.features.oas !== undefined && base >> BigInt(i.features.oas) !== 0n) f.error('dev_table_base', `device table ${hex(base)} is beyond the ${i.features.oas}-bit physical address width`);
  checkPresent(f, i.memory, base, 'dev_table_base', 'the device table');
}

function checkSmmuV2(f: Findings, i: SanityInput): void {
  const v2 = i.smmuV2;
  const r = i.registers;
  if (!v2) return;
  const { features } = i;
  if (r.scr0 !== undefined && bit(r.scr0, 0)) f.warning('scr0.CLIENTPD', 'CLIENTPD = 1: the SMMU is globally bypassed, no transaction is translated');
  const exids = r.idr0 !== undefined && bit(r.idr0, 8) && r.scr0 !== undefined && bit(r.scr0, 3);
  // valid SMR pairs that can match the same stream ID are a stream-match conflict
  const valid = v2.smr.map((s, idx) => ({ idx, id: s & 0xffffn, m: exids ? (s >> 16n) & 0xffffn : (s >> 16n) & 0x7fffn, ok: exids ? bit(v2.s2cr[idx] ?? 0n, 10) : bit(s, 31) })).filter((x) => x.ok);
  for (let a = 0; a < valid.length; a++) {
    for (let b = a + 1; b < valid.length; b++) {
      const x = valid[a]!;
      const y = valid[b]!;
      const care = ~(x.m | y.m) & 0xffffn;
      if ((x.id & care) === (y.id & care)) f.error(`smr[${y.idx}]`, `SMR ${x.idx} and SMR ${y.idx} can both match stream IDs (ID ${hex(x.id)}/MASK ${hex(x.m)} vs ID ${hex(y.id)}/MASK ${hex(y.m)}): a stream match conflict`);
    }
  }
  v2.s2cr.forEach((s2cr, idx) => {
    const type = bits(s2cr, 17, 16);
    const inUse = v2.smr.length === 0 || valid.some((x) => x.idx === idx);
    if (!inUse) return;
    if (type === 3) f.error(`s2cr[${idx}].TYPE`, 'TYPE = 3 is reserved');
    if (type === 0) {
      const cb = bits(s2cr, 7, 0);
      if (!(cb in v2.contextBanks)) f.warning(`s2cr[${idx}].CBNDX`, `stream-map group ${idx} translates through context bank ${cb}, which the snapshot does not contain`);
    }
  });
  const idr2 = r.idr2;
  if (idr2 !== undefined) {
    const grs: ['4k' | '16k' | '64k', number][] = [['4k', 12], ['16k', 13], ['64k', 14]];
    for (const [g, b] of grs) {
      if (features.granules && features.granules.includes(g) && !bit(idr2, b)) f.warning('iommu.features.granules', `features.granules lists ${g} but ID2.PTFS_${g.toUpperCase()} = 0`);
    }
  }
  for (const [k, cb] of Object.entries(v2.contextBanks)) {
    const p = `contextBanks.${k}.`;
    if (cb.sctlr !== undefined && !bit(cb.sctlr, 0)) f.info(`${p}sctlr.M`, `context bank ${k}: M = 0, translation disabled for this bank (transactions bypass it)`);
    const cbarType = cb.cbar !== undefined ? bits(cb.cbar, 17, 16) : undefined;
    const va64 = cb.cba2r !== undefined ? bit(cb.cba2r, 0) : true;
    if (cb.tcr === undefined) continue;
    if (!va64) {
      if (bit(cb.tcr, 31)) f.info(`${p}cba2r.VA64`, `context bank ${k}: AArch32 long-descriptor (LPAE) context`);
      else if (features.formats && !features.formats.includes('v7s')) f.error(`${p}tcr`, `context bank ${k}: AArch32 short-descriptor (v7s) context but features.formats does not list v7s`);
      continue;
    }
    if (features.formats && !features.formats.includes('aarch64')) f.error(`${p}cba2r.VA64`, `context bank ${k}: AArch64 format selected but features.formats does not list aarch64`);
    if (cbarType === 0) {
      checkLpaeStage2(f, features, cb.tcr, cb.ttbr0, p, 'tcr', 'ttbr0');
    } else {
      checkLpaeStage1(f, features, cb.tcr, cb.ttbr0, cb.ttbr1, p, false);
      if (cb.tcr2 !== undefined) {
        const pa = bits(cb.tcr2, 3, 0);
        checkOutputSize(f, features, pa < 7 ? ARM_PS_BITS[pa] : undefined, `${p}tcr2.PASIZE`, 'PASIZE');
      }
    }
    if (cbarType === 3) f.info(`${p}cbar.TYPE`, `context bank ${k}: nested (stage 1 followed by stage 2)`);
    if (idr2 !== undefined && cbarType !== 0 && cb.ttbr0 !== undefined) {
      const oas = SMMUV2_SIZE_BITS[bits(idr2, 7, 4)]!;
      if ((cb.ttbr0 & mask(47, 4)) >> BigInt(oas) !== 0n) f.warning(`${p}ttbr0`, `context bank ${k}: TTBR0 table address beyond the ${oas}-bit output size (ID2.OAS)`);
    }
  }
}

export function sanityChecks(input: SanityInput): SanityFinding[] {
  const f = new Findings();
  switch (input.model) {
    case 'arm-lpae':
      checkArmLpae(f, input);
      break;
    case 'arm-v7s':
      checkArmV7s(f, input);
      break;
    case 'arm-smmu-v2':
      checkSmmuV2(f, input);
      break;
    case 'arm-smmu-v3':
      checkSmmuV3(f, input);
      break;
    case 'intel-vtd':
      checkVtd(f, input);
      break;
    case 'amd-vi':
      checkAmdVi(f, input);
      break;
  }
  const w = input.features;
  if (w.pasidBits !== undefined && w.pasidBits > 20) f.error('iommu.features.pasidBits', 'PASIDs are at most 20 bits');
  return f.list;
}
