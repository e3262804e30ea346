/**
 * Arm SMMUv1/v2 fault prints, every era (reference §1.7–1.9):
 *   ≤ v4.9   "Unexpected context fault (fsr 0x%x)" + "Unhandled context fault: iova=0x%08lx, fsynr=0x%x, cb=%d"
 *   v4.10    "Unhandled context fault: fsr=0x%x, iova=0x%08lx, fsynr=0x%x, cb=%d"
 *   v5.2     "... fsynr=0x%x, cbfrsynra=0x%x, cb=%d" (also NVIDIA Tegra194/234, Qualcomm 6.10)
 *   v6.11+   the same line, then "FSR    = %08x [...], SID=0x%x" and "FSYNR0 = %08x [...]"
 *   Qualcomm TBU debug lines after them (soft/hard iova-to-phys, SOFTWARE TABLE WALK FAILED)
 *   qcom_iommu "Unhandled context fault: fsr=0x%x, iova=0x%016llx, fsynr=0x%x, cb=%d"
 *   Qualcomm downstream print_fault_regs(): "Unhandled arm-smmu context fault from %s!" + register lines
 *   old Qualcomm msm_iommu: "Unexpected IOMMU page fault!" + print_ctx_regs()
 *   global: "Unexpected global fault, this could be serious" or "Blocked unknown Stream ID 0x%hx; ..."
 *           then "\tGFSR 0x%08x, GFSYNR0 0x%08x, GFSYNR1 0x%08x, GFSYNR2 0x%08x"
 * Every multi-line print becomes one record. The parsing is shared with Xen's port of the
 * driver (xen-arm-smmu.ts), which differs only in its line prefix.
 */
import { rawMayHold } from './wants';
import type { LogLine } from '../line';
import type { Host, FaultRecord } from '../record';
import type { Continuation, Feed, Recognition, Recognizer } from '../recognizer';
import { hex, normalizeBdf } from '../normalize';
import { decodedFields, type RegisterDescription } from '../../decode/register';
import { unquote, wrappedContinuation } from './wrapped';
import {
  ARM_SMMU_REGISTERS, FSR_REASONS, GFSR_REASONS, MSM_IOMMU_FSR_REASONS,
} from '../../decode/registers/arm-smmu';

/** Who printed a line: the instance name in its prefix and the text after the prefix. */
export interface Prefixed {
  name?: string;
  rest: string;
}

/** How one printer (Linux dev_err, Xen dev_print) prefixes its lines. */
export interface PrefixScheme {
  host: Host;
  /** undefined when the line has no prefix of this printer (and is not plausibly one of its lines) */
  split(message: string): Prefixed | undefined;
  /** how the printed name fills the record: iommu instance, or device (Xen's PCI variant) */
  place(name: string | undefined, rec: FaultRecord): void;
}

// dev_err: "<driver> <device>: text". Driver names are identifiers; device names have no blanks.
const RE_LINUX_DEV = /^([A-Za-z0-9_.,@-]{1,64}) ([^\s]{1,160}?): /;
// The same columns behind a log viewer's own columns ("0x..277BBFA |   1263.468579:   arm-smmu ...").
// Device names of this driver always hold a '.', '@' or ':' (DT unit address, ACPI ".auto", PCI),
// which keeps "context fault: " and similar phrases from passing for a prefix. A backtick opens
// a print quoted as Markdown inline code ("→ `arm-smmu 15000000.iommu: Unhandled ...`").
const RE_LINUX_DEV_LATER = /(?:^|[\s\]>|"`])([A-Za-z][\w.,@-]{0,63}) ([\w/-]{0,64}[.@:][\w.@/:-]{0,96}): /;
// Mail/tracker quote marks and indentation, and the printk caller-id column ("[  T123] ", "[    C0] ").
const RE_LEAD = /^[\s>|]{0,24}/;
const RE_CALLER = /^\[ {0,6}[TC]\d{1,7}\] ?/;

/** Quoted-printable mail bodies print "=" as "=3D"; a soft line break leaves "=" + "=3D" once joined. */
export function unQp(s: string): string {
  if (s.indexOf('=3D') < 0 && s.indexOf('==') < 0) return s;
  return s.replace(/=3D/g, '=').replace(/={2,8}/g, '=');
}

export const LINUX_PREFIX: PrefixScheme = {
  host: 'linux',
  split(message) {
    let s = message.replace(RE_LEAD, '');
    const c = RE_CALLER.exec(s);
    if (c) s = s.slice(c[0].length);
    let m = RE_LINUX_DEV.exec(s);
    if (m) return { name: m[2]!, rest: s.slice(m[0].length) };
    m = RE_LINUX_DEV_LATER.exec(s.length > 240 ? s.slice(0, 240) : s);
    if (m) return { name: m[2]!, rest: s.slice(m.index + m[0].length) };
    return { rest: s };
  },
  place(name, rec) {
    if (name !== undefined) rec.iommu = name;
  },
};

const DESCS = new Map<string, RegisterDescription>(ARM_SMMU_REGISTERS.map((d) => [d.key, d]));

/** The reason tables' masks as bigints, converted once (apply runs for every print). */
const tableMasks = new Map<readonly { mask: number }[], bigint[]>();
function masksOf(table: readonly { mask: number }[]): bigint[] {
  let m = tableMasks.get(table);
  if (!m) tableMasks.set(table, (m = table.map((t) => BigInt(t.mask))));
  return m;
}
const WNR = 1n << 4n;
const IND = 1n << 6n;

function parseNum(s: string): bigint | undefined {
  if (/^0x[0-9a-fA-F]{1,16}$/.test(s)) return BigInt(s);
  if (/^[0-9]{1,20}$/.test(s)) return BigInt(s);
  return undefined;
}

function parseHexDigits(s: string | undefined): bigint | undefined {
  if (s === undefined) return undefined;
  const t = s.replace(/^0x/i, '');
  return /^[0-9a-fA-F]{1,16}$/.test(t) ? BigInt('0x' + t) : undefined;
}

/** Extra, non-register facts some prints add (Qualcomm TBU debug, downstream client info). */
interface Extras {
  softIovaToPhys?: string;
  hardIovaToPhys?: string;
  atosFailed?: boolean;
  softwareWalkFailed?: string;
  client?: { bid?: number; pid?: number; mid?: number };
  fsrLabels?: string;
  handledByClient?: boolean;
  mmuName?: string;
  contextName?: string;
  /** NVIDIA Tegra downstream: the kernel's own walk of the faulting address ("pte=0": not mapped) */
  pageTableEntries?: Record<string, string>;
}

/** The raw facts of one SMMUv2 print; `apply` turns them into the record's contract fields. */
class Fault {
  readonly regs = new Map<string, bigint>();
  iova: bigint | undefined;
  cb: number | undefined;
  sid: bigint | undefined;
  /** access printed in words by the print itself (downstream "TF W", GPU-style), when FSYNR0 is absent */
  printedAccess: string | undefined;
  readonly extras: Extras = {};
  /** legacy msm_iommu FSR layout */
  legacy = false;

  constructor(readonly record: FaultRecord, readonly name: string | undefined) {}

  setReg(key: string, v: bigint | undefined): void {
    if (v !== undefined) this.regs.set(key, v);
  }

  /**
   * After reading a line whose record stays open: the scanner reads a record only once it is
   * closed, and closing applies (Assembler.finish), whose result depends on nothing but what was
   * read, except for the legacy layout: there, when the fsr -> msm_iommu_fsr move first happens
   * decides the registers' order, so that layout is applied line by line as it always was.
   */
  update(): void {
    if (this.legacy) this.apply();
  }

  apply(): void {
    const r = this.record;
    const global = r.kind === 'global-fault';
    if (this.legacy && this.regs.has('fsr')) {
      this.regs.set('msm_iommu_fsr', this.regs.get('fsr')!);
      this.regs.delete('fsr');
    }
    if (this.regs.size) {
      const regs: Record<string, string> = {};
      for (const [k, v] of this.regs) regs[k] = hex(v)!;
      r.registers = regs;
    }
    if (this.iova !== undefined) r.iova = hex(this.iova);
    else if (this.regs.has('far')) r.iova = hex(this.regs.get('far'));
    if (this.cb !== undefined) r.contextBank = this.cb;
    const sidReg = global ? this.regs.get('gfsynr1') : this.regs.get('cbfrsynra');
    const sid = this.sid ?? sidReg;
    if (sid !== undefined) r.streamId = hex(sid & 0xffffn);

    const syn = global ? this.regs.get('gfsynr0') : this.regs.get('fsynr0');
    if (syn !== undefined) {
      const w = global ? (syn & 2n) !== 0n : (syn & WNR) !== 0n;
      const x = global ? (syn & 8n) !== 0n : (syn & IND) !== 0n;
      r.access = w ? 'write' : x ? 'exec' : 'read';
    } else if (this.printedAccess) r.access = this.printedAccess;

    const status = global ? this.regs.get('gfsr') : this.regs.get('fsr') ?? this.regs.get('msm_iommu_fsr');
    const table = global ? GFSR_REASONS : this.legacy ? MSM_IOMMU_FSR_REASONS : FSR_REASONS;
    if (status !== undefined) {
      const masks = masksOf(table);
      const hit = table.find((_t, i) => (status & masks[i]!) !== 0n);
      if (hit) r.reason = { code: hit.mask, name: hit.name, text: hit.text };
      else delete r.reason;
    }

    const decoded: Record<string, unknown> = {};
    for (const [k, v] of this.regs) {
      const d = DESCS.get(k);
      if (d && d.fields.length > 1) decoded[k] = decodedFields(d, v);
    }
    const ex = this.extras;
    for (const k of Object.keys(ex) as (keyof Extras)[]) if (ex[k] !== undefined) decoded[k] = ex[k];
    if (Object.keys(decoded).length) r.decoded = decoded;
  }
}

function newFault(kind: string, scheme: PrefixScheme, name: string | undefined, line: LogLine): Fault {
  const rec: FaultRecord = { line: line.line, family: 'arm-smmu', host: scheme.host, kind };
  scheme.place(name, rec);
  return new Fault(rec, name);
}

// ---- first lines -------------------------------------------------------------------------

const RE_KV = /([A-Za-z][A-Za-z0-9_]{0,15})=(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})/g;

// NVIDIA's print ends with "pgd=%llx, pud=%llx, pmd=%llx, pte=%llx" (hex without 0x)
const RE_PT_ENTRY = /\b(pgd|pud|pmd|pte)=([0-9a-fA-F]{1,16})\b/g;

/** key=value pairs of the one-line context fault prints (all eras, qcom_iommu, Xen). */
function readPairs(f: Fault, text: string): void {
  RE_KV.lastIndex = 0;
  const s = text.length > 400 ? text.slice(0, 400) : text;
  let m: RegExpExecArray | null;
  RE_PT_ENTRY.lastIndex = 0;
  while ((m = RE_PT_ENTRY.exec(s))) (f.extras.pageTableEntries ??= {})[m[1]!] = hex(BigInt('0x' + m[2]!))!;
  while ((m = RE_KV.exec(s))) {
    const k = m[1]!.toLowerCase();
    // RE_KV's value group is parseNum's language (0x + 1-16 hex digits, or 1-20 decimal digits)
    const v = BigInt(m[2]!);
    switch (k) {
      case 'fsr': f.setReg('fsr', v); break;
      case 'iova': case 'far': f.iova = v; break;
      case 'fsynr': case 'fsynr0': f.setReg('fsynr0', v); break;
      case 'fsynr1': f.setReg('fsynr1', v); break;
      case 'cbfrsynra': f.setReg('cbfrsynra', v); break;
      case 'cb': if (v <= 255n) f.cb = Number(v); break;
      case 'sid': f.sid = v; break;
      default: break;
    }
  }
}

const RE_UNHANDLED = /^Unhandled context fault: (.{1,400})$/;
// Any form of the context fault head, including one cut short by wrapping or left without fields.
const RE_UNHANDLED_HEAD = /^Unhandled context fault(:?) {0,4}(.{0,400})$/;
const RE_HAS_CB = /\bcb=(?:0x)?[0-9a-fA-F]{1,3}\b/;
// One field of the print: "key=value" with an optional note ("sid=17(0x11 - AFI)"), or a key
// whose value the wrap moved to the next line ("iova=").
const RE_PAIR_PIECE = /^(?:[A-Za-z][A-Za-z0-9_]{0,15}=(?:(?:0x)?[0-9a-fA-F]{1,16}(?:\([^()]{0,40}\))?)?|smmu\d{1,2})$/;

/** True when the text is nothing but the print's comma-separated key=value fields. */
function isPairList(t: string): boolean {
  if (!t) return true;
  const pieces = t.split(/, ?/, 24);
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (piece === '' && i === pieces.length - 1) continue; // trailing comma
    if (!RE_PAIR_PIECE.test(piece)) return false;
  }
  return true;
}
const RE_HANDLED = /^Context fault handled by client: (.{1,400})$/;
const RE_UNEXPECTED_CTX = /^Unexpected context fault \(fsr (0x[0-9a-fA-F]{1,8})\)/;
// Retyped excerpts drop the "!" (and the "=" of the register lines that follow).
const RE_DOWNSTREAM = /^Unhandled arm-smmu context fault from (\S{1,160}?)(?:!|\s*$)/;
// (a quoted-printable soft break may cut the last word: "this could be seri=")
const RE_GLOBAL = /^Unexpected global fault, this could be\b/;
const RE_BLOCKED = /^Blocked unknown Stream ID (0x[0-9a-fA-F]{1,4});/;
const RE_GFSR = /^\s{0,16}GFSR 0x[0-9a-fA-F]{1,8}/;
const RE_MSM = /^(?:[\w-]{1,32}: )?Unexpected IOMMU page fault!/;
const RE_MSM_GLOBAL = /^(?:[\w-]{1,32}: )?Unexpected (\S{1,64}) global fault !!/;

const RE_GREG = /\b(GFSR|GFSYNR[0-2]) {1,4}(0x[0-9a-fA-F]{1,8})/g;

function readGlobalRegs(f: Fault, text: string): void {
  RE_GREG.lastIndex = 0;
  const s = text.length > 400 ? text.slice(0, 400) : text;
  let m: RegExpExecArray | null;
  while ((m = RE_GREG.exec(s))) f.setReg(m[1]!.toLowerCase(), parseNum(m[2]!));
}

// ---- continuation lines ------------------------------------------------------------------

const RE_FSR_LINE = /^FSR(?: {0,8}= {0,4}(?:0x)?| 0x)([0-9a-fA-F]{1,16})(?: \[([^\]]{0,160})\])?(?:, SID=(0x[0-9a-fA-F]{1,8}))?/;
const RE_FSYNR0_LINE = /^FSYNR0 {0,8}= {0,4}(?:0x)?([0-9a-fA-F]{1,16})(?: {1,8}FSYNR1 {0,8}= {0,4}(?:0x)?([0-9a-fA-F]{1,16}))?/;
const RE_FSYNR1_LINE = /^FSYNR1 {0,8}= {0,4}(?:0x)?([0-9a-fA-F]{1,16})/;
const RE_FAR_LINE = /^FAR(?: {0,8}= {0,4}(?:0x)?| 0x)([0-9a-fA-F]{1,16})(?: {1,8}PAR {0,8}= {0,4}(?:0x)?([0-9a-fA-F]{1,16}))?/;
const RE_FAR_FIRST = /^FAR {1,8}= {0,4}(?:0x)?[0-9a-fA-F]{8,16}\s*$/;
const RE_PAR_LINE = /^PAR {0,8}= {0,4}(?:0x)?([0-9a-fA-F]{1,16})/;
const RE_TTBR_LINE = /^TTBR([01]) {0,8}= {0,4}(?:0x)?([0-9a-fA-F]{1,16})(?: {1,8}TTBR1 {0,8}= {0,4}(?:0x)?([0-9a-fA-F]{1,16}))?/;
const RE_PAIR_LINE = /^(SCTLR|MAIR0|PRRR|CBAR) {0,8}= {0,4}(?:0x)?([0-9a-fA-F]{1,16})(?: {1,8}(ACTLR|MAIR1|NMRR) {0,8}= {0,4}(?:0x)?([0-9a-fA-F]{1,16}))?/;
const RE_CB_LINE = /^context bank# {0,8}= {0,4}(0x[0-9a-fA-F]{1,4}|[0-9]{1,4})/;
const RE_SID_LINE = /^SID {0,4}= {0,4}(0x[0-9a-fA-F]{1,8})/;
const RE_CLIENT_LINE = /^Client info: BID=(0x[0-9a-fA-F]{1,8}), PID=(0x[0-9a-fA-F]{1,8}), MID=(0x[0-9a-fA-F]{1,8})/;
const RE_SOFT = /^soft iova-to-phys=(?:0x)?([0-9a-fA-F]{1,16})/;
const RE_HARD = /^hard iova-to-phys \(ATOS\)(?:=(?:0x)?([0-9a-fA-F]{1,16})| failed)/;
const RE_SWFAIL = /^SOFTWARE TABLE WALK FAILED! Looks like (\S{1,160}) accessed an unmapped address!/;
const RE_ATOS_MISC = /^(?:ATOS generated a fault interrupt! PAR = ([0-9a-fA-F]{1,16}), SID=0x[0-9a-fA-F]{1,8}|ATOS translation timed out!|ATOS results differed across|Before: |Took an address size fault)/;
const RE_MSM_NAME = /^(?:[\w-]{1,32}: )?name {1,8}= (\S{1,64})/;
const RE_MSM_CONTEXT = /^(?:[\w-]{1,32}: )?context = (\S{1,64}) \((\d{1,4})\)/;
const RE_MSM_CTXNUM = /^(?:[\w-]{1,32}: )?Fault occurred in context (\d{1,4})\./;
const RE_MSM_MISC = /^(?:[\w-]{1,32}: )?(?:base = [0-9a-fA-F]{1,16}|Interesting registers:|Power is OFF)/;
const RE_MSM_PAIRS = /^(?:[\w-]{1,32}: )?(fsr=.{1,300})$/;
const RE_LEGACY_LABEL = /\b(?:APF|TLBMF|HTWDEEF|HTWSEEF|SL)\b/;

/** Reads the access the downstream FSR label prints ("TF W ", "PF R "). */
function labelAccess(labels: string): string | undefined {
  const m = /\b(?:TF|PF) ([WR])\b/.exec(labels);
  return m ? (m[1] === 'W' ? 'write' : 'read') : undefined;
}

/** Lines that may follow a context fault's first line (6.11+, Qualcomm, downstream, msm_iommu). */
function readContextLine(f: Fault, rest: string): boolean {
  let m: RegExpExecArray | null;
  if ((m = RE_FSR_LINE.exec(rest))) {
    f.setReg('fsr', parseHexDigits(m[1]));
    if (m[2] !== undefined) {
      f.extras.fsrLabels = m[2].trim();
      f.printedAccess ??= labelAccess(m[2]);
      if (RE_LEGACY_LABEL.test(m[2])) f.legacy = true;
    }
    if (m[3] !== undefined) f.sid = parseHexDigits(m[3]);
    return true;
  }
  if ((m = RE_FSYNR0_LINE.exec(rest))) {
    f.setReg('fsynr0', parseHexDigits(m[1]));
    if (m[2] !== undefined) f.setReg('fsynr1', parseHexDigits(m[2]));
    return true;
  }
  if ((m = RE_FSYNR1_LINE.exec(rest))) { f.setReg('fsynr1', parseHexDigits(m[1])); return true; }
  if ((m = RE_FAR_LINE.exec(rest))) {
    f.setReg('far', parseHexDigits(m[1]));
    if (m[2] !== undefined) f.setReg('par', parseHexDigits(m[2]));
    return true;
  }
  if ((m = RE_PAR_LINE.exec(rest))) { f.setReg('par', parseHexDigits(m[1])); return true; }
  if ((m = RE_TTBR_LINE.exec(rest))) {
    f.setReg(`ttbr${m[1]}`, parseHexDigits(m[2]));
    if (m[3] !== undefined) f.setReg('ttbr1', parseHexDigits(m[3]));
    return true;
  }
  if ((m = RE_PAIR_LINE.exec(rest))) {
    f.setReg(m[1]!.toLowerCase(), parseHexDigits(m[2]));
    if (m[3] !== undefined) f.setReg(m[3].toLowerCase(), parseHexDigits(m[4]));
    return true;
  }
  if ((m = RE_CB_LINE.exec(rest))) { f.cb = Number(parseNum(m[1]!)); return true; }
  if ((m = RE_SID_LINE.exec(rest))) { f.sid = parseHexDigits(m[1]); return true; }
  if ((m = RE_CLIENT_LINE.exec(rest))) {
    f.extras.client = { bid: Number(m[1]), pid: Number(m[2]), mid: Number(m[3]) };
    return true;
  }
  if ((m = RE_SOFT.exec(rest))) { f.extras.softIovaToPhys = hex(parseHexDigits(m[1])); return true; }
  if ((m = RE_HARD.exec(rest))) {
    if (m[1] !== undefined) f.extras.hardIovaToPhys = hex(parseHexDigits(m[1]));
    else f.extras.atosFailed = true;
    return true;
  }
  if ((m = RE_SWFAIL.exec(rest))) { f.extras.softwareWalkFailed = m[1]; return true; }
  if ((m = RE_ATOS_MISC.exec(rest))) {
    if (m[1] !== undefined) f.setReg('par', parseHexDigits(m[1]));
    return true;
  }
  return false;
}

/** Lines of the old Qualcomm msm_iommu print (pr_err, no device prefix). */
function readMsmLine(f: Fault, rest: string): boolean {
  let m: RegExpExecArray | null;
  if ((m = RE_MSM_NAME.exec(rest))) { f.extras.mmuName = m[1]; f.record.iommu = m[1]; return true; }
  if ((m = RE_MSM_CONTEXT.exec(rest))) {
    f.extras.contextName = m[1];
    f.record.device = m[1];
    f.cb = Number(m[2]);
    return true;
  }
  if ((m = RE_MSM_CTXNUM.exec(rest))) { f.cb = Number(m[1]); f.legacy = true; return true; }
  if (RE_MSM_MISC.test(rest)) return true;
  if ((m = RE_MSM_PAIRS.exec(rest))) { readPairs(f, m[1]!); return true; }
  return readContextLine(f, rest.replace(/^[\w-]{1,32}: /, ''));
}

const RE_HEX_END = /^[0-9a-fA-F]$/;
const RE_HEX_START = /^[0-9a-fA-F]/;

/**
 * Keeps a record open for the lines its print may continue with. A line of the same instance
 * that is not one of them closes the record ('end'); other devices' lines, call traces and
 * ratelimit notes in between are stepped over ('skip').
 */
// The rest of a global register name that a quoted-printable soft break cut ("GFSYN=" + "R1 0x...").
const RE_NAME_HEAD = /[A-Z0-9]{0,7}$/;
const RE_NAME_REST = /^([A-Z0-9]{0,7}) 0x[0-9a-fA-F]/;
const RE_GNAME = /^(?:GFSR|GFSYNR[0-2])$/;

// A register line with nothing in front of it but quote marks: "FAR 0x...", "FSR 0x... [PF W SS]".
const RE_BARE_REG = /^[\s>|]{0,8}(?:FAR|PAR|FSR|FSYNR[01]|SID) ?[=0]/;

class Assembler implements Continuation {
  window: number;
  /** text of a global fault line that mail wrapping cut short (GFSYNR2 not seen yet) */
  private globalText: string | undefined;
  private pendingIovaLine: boolean;

  constructor(
    private readonly f: Fault,
    private readonly scheme: PrefixScheme,
    private readonly mode: 'context' | 'old-context' | 'downstream' | 'global' | 'msm',
    opts: { globalText?: string; headMayFollow?: boolean } = {},
  ) {
    this.window = mode === 'global' ? 4 : 6;
    this.globalText = opts.globalText;
    this.pendingIovaLine = mode === 'old-context';
    this.headMayFollow = opts.headMayFollow === true;
  }

  /** a register dump came first (Qualcomm 4.19): its "Unhandled context fault" line is still to come */
  private headMayFollow: boolean;

  /**
   * A retyped downstream excerpt ("... context fault from a600000.dwc3" + "FAR 0x..." +
   * "FSR 0x... [PF W SS]") keeps only the first line's prefix: until a prefixed register line
   * comes, unprefixed register lines right after the head are its own.
   */
  private bareRegs = true;

  /** feed() steps over every line without the printed name (see there); ANSI codes could hide it. */
  wants(raw: string): boolean {
    const name = this.f.name;
    return name === undefined || this.mode === 'msm' || (this.mode === 'global' && this.globalText !== undefined)
      || rawMayHold(raw, name) || (this.mode === 'downstream' && this.bareRegs && RE_BARE_REG.test(raw));
  }

  feed(line: LogLine): Feed {
    const f = this.f;
    if (this.mode === 'downstream' && this.bareRegs) {
      const bare = line.time === undefined && RE_BARE_REG.test(line.message) ? unquote(line.message) : undefined;
      if (bare !== undefined && readContextLine(f, bare)) { f.update(); return 'more'; }
      this.bareRegs = false;
    }
    if (this.mode === 'msm') {
      // pr_err lines: no device prefix to tell them apart, so only the known lines are taken.
      if (readMsmLine(f, line.message)) { f.update(); return 'more'; }
      return RE_MSM.test(line.message) ? 'end' : 'skip';
    }
    const wrappedGlobal = this.mode === 'global' && this.globalText !== undefined;
    // The printed name is part of the line: a line without it is another printer's (most lines
    // offered while a record waits), skipped without splitting off its prefix.
    if (f.name !== undefined && !wrappedGlobal && !line.message.includes(f.name)) return 'skip';
    const p = this.scheme.split(line.message);
    if (this.mode === 'global' && this.globalText !== undefined && p !== undefined && p.name === undefined) {
      // a mail-wrapped remainder: "0x00000000, GFSYNR1 0x00000871, GFSYNR2 0x00000000", also
      // behind quote marks and tabs ("> \t\t\t GFSYNR1 ..."), or the rest of a value that a
      // quoted-printable soft break cut ("GFSYNR1 0x0=" + "0000043, GFSYNR2 0x00000000")
      // (a remainder quoted one level less than its head keeps quote marks of its own)
      const t = unquote(p.rest).trim();
      const g = this.globalText;
      const cutValue = g.endsWith('=') && RE_HEX_END.test(g.slice(-2, -1));
      // a soft break inside a register name: "GFSYNR0 0x00000006, GFSYN=" + "R1 0x00000000, ..."
      const nameTail = g.endsWith('=') ? RE_NAME_REST.exec(t) : null;
      const cutName = nameTail !== null && RE_GNAME.test(RE_NAME_HEAD.exec(g.slice(-8, -1))![0] + nameTail[1]);
      if ((cutValue && RE_HEX_START.test(t)) || cutName) {
        this.globalText = g.slice(0, -1) + t;
        readGlobalRegs(f, this.globalText);
        f.update();
        return f.regs.has('gfsynr2') ? 'done' : 'more';
      }
      if (/^(?:0x[0-9a-fA-F]{1,8}|GFSYNR)/.test(t)) {
        this.globalText += ' ' + t;
        readGlobalRegs(f, this.globalText);
        f.update();
        if (f.regs.has('gfsynr2')) return 'done';
        return 'more';
      }
    }
    if (!p || p.name !== this.f.name) return 'skip';
    const rest = unQp(p.rest);
    if (this.mode === 'global') {
      if (this.globalText === undefined && RE_GFSR.test(rest)) {
        this.globalText = rest;
        readGlobalRegs(f, rest);
        f.update();
        return f.regs.has('gfsynr2') ? 'done' : 'more';
      }
      return 'end';
    }
    if (this.pendingIovaLine) {
      const m = RE_UNHANDLED.exec(rest);
      if (m && !/\bfsr=/.test(m[1]!)) {
        this.pendingIovaLine = false;
        readPairs(f, m[1]!);
        f.update();
        return 'done';
      }
      return 'end';
    }
    if (readContextLine(f, rest)) { f.update(); return 'more'; }
    if (this.headMayFollow) {
      const m = RE_UNHANDLED.exec(rest);
      if (m) {
        this.headMayFollow = false;
        readPairs(f, m[1]!);
        f.update();
        return 'more';
      }
    }
    return 'end';
  }

  finish(): void {
    this.f.apply();
  }
}

// A quoted-printable soft break inside a value ("iova=3D0x=" + "01003000") leaves a '=' between
// its digits once the halves are joined.
const RE_QP_SOFT_IN_VALUE = /(0x[0-9a-fA-F]{0,16})=(?=[0-9a-fA-F])/g;

function unQpSoft(s: string): string {
  return unQp(s).replace(RE_QP_SOFT_IN_VALUE, '$1');
}

// The rest of a print that a mail client broke before a field's comma: ",iova=0x..., cb=6".
const RE_COMMA_REST = /^,\s{0,4}[A-Za-z]/;

/**
 * A head line without its "cb=" field may have been broken before a comma, the rest of the
 * print on the next, unstamped line. That line is taken when it completes the print; otherwise
 * the print's own later lines go on to the Assembler.
 */
class CommaWrap implements Continuation {
  window: number;
  private first = true;

  constructor(private readonly f: Fault, private readonly asm: Assembler) {
    this.window = asm.window;
  }

  wants(raw: string): boolean {
    return (this.first && raw.includes(',')) || this.asm.wants(raw);
  }

  feed(line: LogLine): Feed {
    if (this.first) {
      this.first = false;
      if (line.time === undefined) {
        const t = unQpSoft(unquote(line.message)).trimEnd();
        if (RE_COMMA_REST.test(t) && RE_HAS_CB.test(t) && isPairList(t.slice(1).trim())) {
          readPairs(this.f, t.slice(1));
          this.f.update();
          return 'more';
        }
      }
    }
    return this.asm.feed(line);
  }

  finish(): void {
    this.asm.finish();
  }
}

/** Recognises the first line of any SMMUv2 print, for a given prefix scheme. */
export function recognizeArmSmmu(line: LogLine, scheme: PrefixScheme): Recognition | undefined {
  const p = scheme.split(line.message);
  if (!p) return undefined;
  const rest = unQp(p.rest);
  let m: RegExpExecArray | null;

  if ((m = RE_UNHANDLED_HEAD.exec(rest))) {
    const fields = m[2]!.trimEnd();
    const f = newFault('context-fault', scheme, p.name, line);
    if (!fields && !m[1]) {
      // "Unhandled context fault" alone: notes and summaries keep only the words; the instance
      // still tells which SMMU faulted, and 6.11+ register lines may follow. Without the
      // instance the words are prose (a title, a heading), not a print.
      if (p.name === undefined) return undefined;
      return { record: f.record, more: new Assembler(f, scheme, 'context') };
    }
    if (!RE_HAS_CB.test(fields) && (!fields || /[,=:]$/.test(fields))) {
      // A mail client or an author's editor broke the print after a field (or after the colon).
      readPairs(f, fields);
      f.apply();
      const after = (): Continuation => new Assembler(f, scheme, 'context');
      const more = wrappedContinuation(fields, {
        max: 3,
        complete: (j) => {
          const t = unQpSoft(j).trim();
          if (!isPairList(t) || !RE_HAS_CB.test(t)) return false;
          readPairs(f, t);
          f.apply();
          return true;
        },
        partial: (j) => isPairList(unQpSoft(j).trim()),
      }, after);
      return { record: f.record, more };
    }
  }
  if ((m = RE_UNHANDLED.exec(rest)) || (m = RE_HANDLED.exec(rest))) {
    const f = newFault('context-fault', scheme, p.name, line);
    readPairs(f, m[1]!);
    if (m[0].startsWith('Context')) f.extras.handledByClient = true;
    if (!f.regs.has('fsr') && f.iova === undefined) return undefined;
    f.update();
    // The 6.11+ print and Qualcomm's debug lines continue the v5.2 line; vendor kernels add
    // register lines after the older ones too, so the record stays open for known lines.
    const asm = new Assembler(f, scheme, 'context');
    return { record: f.record, more: RE_HAS_CB.test(m[1]!) ? asm : new CommaWrap(f, asm) };
  }
  if (RE_FSR_LINE.test(rest) && /^FSR {1,8}= {0,4}[0-9a-fA-F]{8} \[/.test(rest)) {
    // 6.11-rc: the first line was dev_dbg (not printed) until "Un-demote unhandled-fault msg",
    // so the FSR/FSYNR0 pair is all there is.
    const f = newFault('context-fault', scheme, p.name, line);
    readContextLine(f, rest);
    f.update();
    return { record: f.record, more: new Assembler(f, scheme, 'context') };
  }
  if (RE_FAR_FIRST.test(rest)) {
    // Qualcomm 4.19 kernels dump the context bank registers before the "Unhandled context
    // fault" line; FAR opens that dump and the head line joins the record when it comes.
    const f = newFault('context-fault', scheme, p.name, line);
    readContextLine(f, rest);
    f.update();
    return { record: f.record, more: new Assembler(f, scheme, 'context', { headMayFollow: true }) };
  }
  if ((m = RE_UNEXPECTED_CTX.exec(rest))) {
    const f = newFault('context-fault', scheme, p.name, line);
    f.setReg('fsr', parseNum(m[1]!));
    f.update();
    return { record: f.record, more: new Assembler(f, scheme, 'old-context') };
  }
  if ((m = RE_DOWNSTREAM.exec(rest))) {
    const f = newFault('context-fault', scheme, p.name, line);
    f.record.device = normalizeBdf(m[1]) ?? m[1];
    f.update();
    return { record: f.record, more: new Assembler(f, scheme, 'downstream') };
  }
  if (RE_GLOBAL.test(rest)) {
    const f = newFault('global-fault', scheme, p.name, line);
    f.update();
    return { record: f.record, more: new Assembler(f, scheme, 'global') };
  }
  if ((m = RE_BLOCKED.exec(rest))) {
    const f = newFault('global-fault', scheme, p.name, line);
    f.sid = parseNum(m[1]!);
    // This message is only printed for GFSR.USF (unidentified stream), before GFSR itself is read out.
    f.record.reason = { code: GFSR_REASONS[0]!.mask, name: GFSR_REASONS[0]!.name, text: GFSR_REASONS[0]!.text };
    f.update();
    return { record: f.record, more: new Assembler(f, scheme, 'global') };
  }
  if (RE_GFSR.test(rest)) {
    // The register line on its own: its header was lost (ratelimit, excerpt) or printed elsewhere.
    const f = newFault('global-fault', scheme, p.name, line);
    readGlobalRegs(f, rest);
    if (f.regs.has('gfsynr2')) { f.apply(); return { record: f.record }; }
    f.update();
    return { record: f.record, more: new Assembler(f, scheme, 'global', { globalText: rest }) };
  }
  if (scheme.host === 'linux') {
    if (RE_MSM.test(line.message) || RE_MSM.test(rest)) {
      const f = newFault('context-fault', scheme, undefined, line);
      return { record: f.record, more: new Assembler(f, scheme, 'msm') };
    }
    if ((m = RE_MSM_GLOBAL.exec(line.message))) {
      const f = newFault('global-fault', scheme, undefined, line);
      f.record.iommu = m[1];
      return { record: f.record };
    }
  }
  return undefined;
}

export const armSmmuRecognizer: Recognizer = {
  family: 'arm-smmu',
  keys: ['ontext fault', 'global fault', 'Blocked unknown Stream ID', 'GFSR 0x', 'Unexpected IOMMU page fault', 'FSR    = ', 'FAR    = '],
  recognize(line) {
    return recognizeArmSmmu(line, LINUX_PREFIX);
  },
};
