/**
 * Arm SMMUv3 prints (Linux `drivers/iommu/arm/arm-smmu-v3/`; Xen's import of it shares the
 * message texts, see xen-arm-smmu-v3.ts):
 *
 * - raw event dump: `event 0x%02x received:` + 4 × `\t0x%016llx` (every era), followed in
 *   Linux ≥ 6.14 by decoded lines `event: %s client: %s sid: %#x ssid: %#x ...` and, for the
 *   four translation faults, `%s %s %s %s "%s"%s%s stag: %#x`. All of it is one record; the
 *   dwords are decoded against the architectural layout, the decoded lines add the client device.
 * - GERROR (`unexpected global error reported (0x%08x), this could be serious` + one line per bit),
 *   command queue errors (`CMDQ error (cons 0x%08x): %s`, `skipping command in error state:` + 2
 *   dwords), `CMD_SYNC timeout`, queue overflows, and `unexpected PRI request received:`.
 * - NVIDIA Tegra241 CMDQV (tegra241-cmdqv.c, 6.12+): the error interrupt's
 *   `unexpected error reported. vintf_map: %016llx, vcmdq_map: %016llx%016llx` (6.12–6.14; later
 *   `vcmdq_map %08x:%08x:%08x:%08x`), then CMDQ errors of the kernel's own queues (VINTF0) in
 *   the SMMU's words; enable/disable timeouts `<hdr>failed to %sable, STATUS=0x%08X` with `<hdr>`
 *   `CMDQV: `, `VINTF%u: ` or `VINTF%u: VCMDQ%u/LVCMDQ%u: `, followed for a queue by
 *   `<hdr>GERRORN=0x%X, GERROR=0x%X, CONS=0x%X`; `<hdr>uncleared error detected, resetting`.
 *
 * Lines carry a `driver device: ` prefix (dev_*()); a continuation line must come from the same
 * device, so interleaved prints of two SMMUs do not mix.
 */
import { rawMayHold } from './wants';
import type { LogLine } from '../line';
import type { FaultRecord, Host } from '../record';
import type { Continuation, Feed, Recognition, Recognizer } from '../recognizer';
import { accessOf, hex, normalizeBdf, parseHex } from '../normalize';
import { decodedFields } from '../../decode/register';
import {
  ARM_SMMU_V3_REGISTERS, CMDQ_ERRORS, EVENT_BY_NAME, EVENT_CLASSES, EVENTS,
} from '../../decode/registers/arm-smmu-v3';

export const FAMILY = 'arm-smmu-v3';

/** Where a line came from once its prefix is taken off. */
export interface Prefixed {
  /** identity of the printer, compared between a record's lines */
  key: string;
  /** SMMU instance as printed, when the prefix names one */
  iommu?: string;
  /** the message after the prefix */
  rest: string;
}

export type PrefixParser = (message: string) => Prefixed | undefined;

// printk caller info ("[  T134]", "[pid:134,cpu0,irq/13-arm-smmu]") that parseLine leaves in place
const RE_CALLER = /^\[[^\]]{1,80}\] ?/;
// quoted or indented excerpts
const RE_LEAD = /^[\s>|]{1,16}/;
const RE_DEV_PREFIX = /^(?:(\S{1,64}) )?(\S{1,128}): /;
const DRIVER_ONLY = new Set(['arm-smmu-v3', 'arm_smmu_v3', 'smmuv3']);

// A printk stamp whose '[' a mail client's reflow left at the end of the line before
// ("...  0x0000310200000010 [" + "478.919603] arm-smmu-v3 ...").
const RE_ORPHAN_STAMP = /^\d{1,7}\.\d{3,9}\] {1,4}/;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** True when the text starts with an ASCII letter or digit (no lead marks, no caller column). */
function startsPlain(s: string): boolean {
  const c = s.charCodeAt(0);
  return (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122);
}

/** Linux dev_*() prefix: "arm-smmu-v3 arm-smmu-v3.0.auto: ", also "platform ..." while unbinding. */
export const linuxPrefix: PrefixParser = (message) => {
  // most lines start with the driver's name: neither RE_LEAD nor RE_CALLER can match them
  const plain = startsPlain(message);
  let s = plain ? message : message.replace(RE_LEAD, '');
  for (let i = 0; i < 2 && !plain; i++) {
    const c = RE_CALLER.exec(s);
    if (!c) break;
    s = s.slice(c[0].length);
  }
  if (isDigit(s.charCodeAt(0))) {
    const t = RE_ORPHAN_STAMP.exec(s);
    if (t) s = s.slice(t[0].length);
  }
  const m = RE_DEV_PREFIX.exec(s);
  if (!m) return undefined;
  const driver = m[1];
  const dev = m[2]!;
  if (driver === 'SMMUv3:' || dev === 'SMMUv3') return undefined; // Xen's prefix, its own recogniser
  const who = `${driver ?? ''} ${dev}`;
  const out: Prefixed = { key: who, rest: s.slice(m[0].length) };
  if (!(driver === undefined && DRIVER_ONLY.has(dev))) out.iommu = dev;
  return out;
};

// ---- message patterns (anchored, bounded) ----
const RE_EVENT_RAW = /^event 0x([0-9a-fA-F]{1,2}) received:\s*$/;
// (a trailing " [" is the next line's stamp bracket, run onto this one by a mail client's reflow)
const RE_DWORD = /^\s{0,12}0x([0-9a-fA-F]{8}) ?([0-9a-fA-F]{8})\s*(?:\[\s*)?$/;
const RE_DWORD_SHORT = /^\s{0,12}0x([0-9a-fA-F]{1,16})\s*(?:\[\s*)?$/;
const HEXNUM = '(0x[0-9a-fA-F]{1,16}|0)';
const RE_EVENT_DECODED = new RegExp(
  `^event: ([A-Z0-9_]{1,32}) client: (.{1,128}?) sid: ${HEXNUM} ssid: ${HEXNUM}` +
  `(?: iova: ${HEXNUM} ipa: ${HEXNUM}| fetch_addr: ${HEXNUM})?\\s*$`,
);
// A forum paste may run the next printk record onto the end of the line ("stag: 0x0 r8169 0000:03:00.0").
const RE_EVENT_ATTRS = /^(priv|unpriv) (inst|data) (read|write) (s1|s2) "([^"]{0,64})"( ttd_read| ttd_write)?( stall)? stag: (0x[0-9a-fA-F]{1,8}|0)(?:\s*$| \S[^\n]{0,200}$)/;
const RE_DECODED_START = /^event: [A-Z0-9_]{1,32} /;
const RE_ATTRS_START = /^(?:priv|unpriv) (?:inst|data) /;
// One full 64-bit event dword: a quote that left out the "event 0x.. received:" line starts here.
const RE_DWORD_FULL = /^\s{0,12}0x([0-9a-fA-F]{16})\s*$/;
const RE_GERROR = /^unexpected global error reported \((0x[0-9a-fA-F]{1,8})\)(,? this could be serious)?/;
const RE_SERIOUS_WRAP = /^\s{0,40}this could be serious\s*$/;
const RE_CMDQ_ERR = /^CMDQ error \(cons (0x[0-9a-fA-F]{1,8})\): ([^\n]{0,64}?)\s*$/;
const RE_SKIP_CMD = /^skipping command in error state:\s*$/;
const RE_RETRY_FETCH = /^retrying command fetch\s*$/;
const RE_CONVERT_FAIL = /^failed to convert to CMD_SYNC\s*$/;
const RE_SYNC_TIMEOUT = /^CMD_SYNC timeout(?: at (0x[0-9a-fA-F]{1,8}) \[hwprod (0x[0-9a-fA-F]{1,8}), hwcons (0x[0-9a-fA-F]{1,8})\])?( at(?: (0x[0-9a-fA-F]{1,8}))?)?\s*$/;
const RE_SYNC_TIMEOUT_WRAP = /^\s{0,8}(0x[0-9a-fA-F]{1,8}) \[hwprod (0x[0-9a-fA-F]{1,8}), hwcons (0x[0-9a-fA-F]{1,8})\]\s*$/;
// the same print broken before its bracket: "CMD_SYNC timeout at 0x00000146" + "[hwprod ..., hwcons ...]"
const RE_SYNC_TIMEOUT_WRAP_BRACKET = /^[\s>|]{0,24}\[hwprod (0x[0-9a-fA-F]{1,8}), hwcons (0x[0-9a-fA-F]{1,8})\]\s*$/;
const RE_CMDQ_TIMEOUT = /^CMDQ timeout\s*$/;
const RE_EVTQ_OVF = /^EVTQ overflow(?: detected)? -- events lost\s*$/;
const RE_PRIQ_OVF = /^PRIQ overflow(?: detected)? -- requests lost\s*$/;
const RE_PRI_START = /^unexpected PRI request received:\s*$/;
const RE_PRI_LINE = /^\s{0,12}sid 0x([0-9a-fA-F]{1,8})\.0x([0-9a-fA-F]{1,5}): \[(\d{1,5})(L?)\] (un)?privileged (R?)(W?)(X?) access at iova 0x([0-9a-fA-F]{1,16})\s*$/;

// Tegra241 CMDQV. The unit header names the queue: "CMDQV: ", "VINTF0: ", "VINTF0: VCMDQ1/LVCMDQ1: ".
const CMDQV_UNIT = '(CMDQV|VINTF(\\d{1,3})(?:: VCMDQ(\\d{1,4})/LVCMDQ(\\d{1,4}))?): ';
const RE_CMDQV_ISR = /^unexpected error reported\. vintf_map: ([0-9a-fA-F]{1,16}), vcmdq_map:? (?:([0-9a-fA-F]{1,32})|([0-9a-fA-F]{1,8}):([0-9a-fA-F]{1,8}):([0-9a-fA-F]{1,8}):([0-9a-fA-F]{1,8}))\s*$/;
const RE_CMDQV_ABLE = new RegExp(`^${CMDQV_UNIT}failed to (en|dis)able, STATUS=0x([0-9a-fA-F]{1,8})\\s*$`);
const RE_CMDQV_REGS = new RegExp(`^${CMDQV_UNIT}GERRORN=0x([0-9a-fA-F]{1,8}), GERROR=0x([0-9a-fA-F]{1,8}), CONS=0x([0-9a-fA-F]{1,8})\\s*$`);
const RE_CMDQV_UNCLEARED = new RegExp(`^${CMDQV_UNIT}uncleared error detected, resetting\\s*$`);

const RE_OWN_TEXT = /^(?:CMDQ error \(cons |skipping command in error state:|unexpected global error reported \(|CMD_SYNC timeout at |EVTQ overflow detected|PRIQ overflow detected|unexpected error reported\. vintf_map|(?:CMDQV|VINTF\d{1,3}): )/;
// The same texts quoted with every prefix cut away (commit messages, bug reports).
const RE_OWN_BARE = /^(?:CMDQ error \(cons 0x|skipping command in error state:|unexpected global error reported \(0x|CMD_SYNC timeout at 0x|EVTQ overflow detected|PRIQ overflow detected|device has entered Service Failure Mode|unexpected error reported\. vintf_map)/;

/**
 * The part of a printer's key that every line with that key contains: the device of a Linux key
 * ("driver device"), the whole of a Xen key (no blank), nothing for a bare line's empty key.
 * A continuation skips a line without it before parsing its prefix.
 */
function keyNeedle(key: string): string {
  return key.slice(key.lastIndexOf(' ') + 1);
}

/**
 * A record that takes the later lines of its own printer (key). The needle test comes first:
 * most lines offered while a record waits are other printers', and never get their prefix parsed.
 */
abstract class PrinterContinuation implements Continuation {
  abstract window: number;
  private readonly needle: string;

  constructor(private readonly key: string, private readonly prefix: PrefixParser) {
    this.needle = keyNeedle(key);
  }

  wants(raw: string): boolean {
    return rawMayHold(raw, this.needle);
  }

  /** The text after the prefix of a line of this printer; undefined for another printer's line. */
  protected own(message: string): string | undefined {
    if (!message.includes(this.needle)) return undefined;
    const p = this.prefix(message);
    return p && p.key === this.key ? p.rest : undefined;
  }

  abstract feed(line: LogLine): Feed;
}

/** A line with no prefix at all: every such line is a candidate continuation of a bare record. */
export const barePrefix: PrefixParser = (message) => {
  const rest = startsPlain(message) ? message : message.replace(RE_LEAD, '');
  return rest.length ? { key: '', rest } : undefined;
};

/** GERROR bit lines: message → [bit, short name, meaning]. */
const GERROR_LINES: readonly [RegExp, number, string, string][] = [
  [/^device has entered Service Failure Mode!?\s*$/, 8, 'SFM_ERR', 'the SMMU entered Service Failure Mode and was disabled'],
  [/^GERROR MSI write aborted\s*$/, 7, 'MSI_GERROR_ABT_ERR', 'GERROR MSI write aborted'],
  [/^PRIQ MSI write aborted\s*$/, 6, 'MSI_PRIQ_ABT_ERR', 'PRI queue MSI write aborted'],
  [/^EVTQ MSI write aborted\s*$/, 5, 'MSI_EVTQ_ABT_ERR', 'event queue MSI write aborted'],
  [/^CMDQ MSI write aborted\s*$/, 4, 'MSI_CMDQ_ABT_ERR', 'CMD_SYNC MSI write aborted'],
  [/^PRIQ write aborted -- events may have been lost\s*$/, 3, 'PRIQ_ABT_ERR', 'PRI queue write aborted: page requests may have been lost'],
  [/^EVTQ write aborted -- events may have been lost\s*$/, 2, 'EVTQ_ABT_ERR', 'event queue write aborted: events may have been lost'],
];

function gerrorLine(rest: string): (typeof GERROR_LINES)[number] | undefined {
  return GERROR_LINES.find(([re]) => re.test(rest));
}

function dwordOf(rest: string): bigint | undefined {
  let m = RE_DWORD.exec(rest);
  if (m) return BigInt('0x' + m[1] + m[2]);
  m = RE_DWORD_SHORT.exec(rest);
  return m ? BigInt('0x' + m[1]) : undefined;
}

const DESC = new Map(ARM_SMMU_V3_REGISTERS.map((d) => [d.key, d]));

function bits(v: bigint, hi: number, lo: number): bigint {
  return (v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n);
}

function h64(v: bigint): string {
  return '0x' + v.toString(16);
}

/** Client as printed by Linux 6.14+: a PCI BDF, a device name, or "(unassigned sid)". */
function clientDevice(s: string): string | undefined {
  const t = s.trim();
  if (!t || t.startsWith('(')) return undefined;
  const bdf = normalizeBdf(t);
  if (bdf) return bdf;
  return /^[0-9a-fA-F]{4}:/.test(t) ? undefined : t; // a mangled PCI address is no device name
}

function base(kind: string, p: Prefixed, line: LogLine, host?: Host): FaultRecord {
  const r: FaultRecord = { line: line.line, family: FAMILY, kind };
  if (host) r.host = host;
  if (p.iommu) r.iommu = p.iommu;
  return r;
}

// ---------------------------------------------------------------- events

interface DecodedLines {
  name?: string;
  device?: string;
  sid?: string;
  ssid?: string;
  iova?: string;
  ipa?: string;
  fetchAddr?: string;
  attrs?: RegExpExecArray;
}

function applyDecodedHeader(d: DecodedLines, m: RegExpExecArray): void {
  d.name = m[1];
  const dev = clientDevice(m[2]!);
  if (dev) d.device = dev;
  d.sid = hex(m[3]!);
  d.ssid = hex(m[4]!);
  if (m[5] !== undefined) { d.iova = hex(m[5]); d.ipa = hex(m[6]!); }
  if (m[7] !== undefined) d.fetchAddr = hex(m[7]);
}

/**
 * Fill an event record from what was read: the raw dwords (authoritative, decoded against the
 * record layout) and the 6.14+ decoded lines (client device; fallback when dwords are missing).
 */
export function buildEvent(r: FaultRecord, idPrinted: number | undefined, dw: readonly bigint[], d: DecodedLines): void {
  const event: Record<string, unknown> = {};
  // the decoded lines first, so that raw dwords override them
  if (d.device) r.device = d.device;
  if (d.sid) r.streamId = d.sid;
  if (d.ssid && d.ssid !== '0x0') r.substreamId = d.ssid;
  if (d.iova) r.iova = d.iova;
  if (d.fetchAddr) event.fetchAddr = d.fetchAddr;
  if (d.attrs) {
    const a = d.attrs;
    const read = a[3] === 'read';
    r.access = accessOf({ read, write: !read, exec: a[2] === 'inst' });
    event.privileged = a[1] === 'priv';
    event.instruction = a[2] === 'inst';
    event.s2 = a[4] === 's2';
    const cls = Object.entries(EVENT_CLASSES).find(([, v]) => v.text === a[5]);
    event.class = cls ? cls[1].name : a[5];
    if (a[6]) event.ttdAccess = a[6].trim() === 'ttd_read' ? 'read' : 'write';
    event.stall = a[7] !== undefined;
    event.stag = hex(a[8]!);
    if (d.ipa && (event.s2 || d.ipa !== '0x0')) event.ipa = d.ipa;
  }

  let id = idPrinted;
  if (dw[0] !== undefined) id = Number(bits(dw[0], 7, 0));
  else if (id === undefined && d.name) id = EVENT_BY_NAME.get(d.name);
  const info = id !== undefined ? EVENTS[id] : undefined;
  if (id !== undefined) {
    r.reason = info ? { code: id, name: info.name, text: info.text } : { code: id, name: 'UNKNOWN', text: 'reserved or unknown event ID' };
  } else if (d.name) {
    r.reason = { name: d.name };
  }

  const regs: Record<string, string> = {};
  const decoded: Record<string, unknown> = {};
  dw.forEach((v, i) => {
    regs[`event${i}`] = h64(v);
    const desc = DESC.get(`event${i}`);
    if (desc) decoded[`event${i}`] = decodedFields(desc, v);
  });
  if (dw[0] !== undefined) {
    const sid = bits(dw[0], 63, 32);
    const ssv = bits(dw[0], 11, 11) === 1n;
    r.streamId = h64(sid);
    event.ssv = ssv;
    if (ssv || info?.ssidAlwaysValid) r.substreamId = h64(bits(dw[0], 31, 12));
    else delete r.substreamId;
  }
  if (dw[1] !== undefined && (info?.access ?? id === undefined)) {
    const v = dw[1];
    const read = bits(v, 35, 35) === 1n;
    const inst = bits(v, 34, 34) === 1n;
    r.access = accessOf({ read, write: !read, exec: inst });
    event.privileged = bits(v, 33, 33) === 1n;
    event.instruction = inst;
    if (info?.stall) {
      event.stall = bits(v, 31, 31) === 1n;
      event.stag = h64(bits(v, 15, 0));
      event.s2 = bits(v, 39, 39) === 1n;
      const cls = Number(bits(v, 41, 40));
      event.class = EVENT_CLASSES[cls]!.name;
      if (id === 0x13 && cls === 1) event.ttdAccess = bits(v, 44, 44) === 1n ? 'read' : 'write';
    }
  }
  if (dw[2] !== undefined && info?.inputAddr) r.iova = h64(dw[2]);
  if (dw[3] !== undefined) {
    if (info?.ipa) {
      const ipa = bits(dw[3], 55, 12) << 12n;
      if (event.s2 === true) event.ipa = h64(ipa);
      else delete event.ipa;
    }
    if (info?.fetchAddr) event.fetchAddr = h64(bits(dw[3], 55, 3) << 3n);
  }
  if (dw.length && dw.length < 4) event.truncated = `${dw.length} of 4 dwords printed`;
  if (Object.keys(regs).length) r.registers = regs;
  if (Object.keys(event).length) decoded.event = event;
  if (Object.keys(decoded).length) r.decoded = decoded;
}

class EventContinuation extends PrinterContinuation {
  window = 4;
  private readonly dw: bigint[] = [];
  private readonly lines: DecodedLines = {};
  /** 0: reading dwords, 1: after the dwords (decoded header may follow), 2: attribute line expected */
  private phase: 0 | 1 | 2;

  constructor(
    private readonly record: FaultRecord,
    private readonly idPrinted: number | undefined,
    key: string,
    prefix: PrefixParser,
    decodedFirst?: RegExpExecArray,
    firstDword?: bigint,
  ) {
    super(key, prefix);
    this.phase = 0;
    if (firstDword !== undefined) this.dw.push(firstDword);
    if (decodedFirst) {
      applyDecodedHeader(this.lines, decodedFirst);
      this.phase = 2;
      this.window = 2;
    }
    // The record is built when it closes (finish): the scanner reads it only then, and what
    // buildEvent makes of the lines read so far is all rewritten by the final build.
  }

  /** a decoded line cut by a quoted-printable soft break ("client: 0000:01:00.0=" + " sid: ...") */
  private qpHead: string | undefined;

  override wants(raw: string): boolean {
    return this.qpHead !== undefined || super.wants(raw);
  }

  feed(line: LogLine): Feed {
    if (this.qpHead !== undefined) {
      // the next line is the rest of the cut one, without prefix or quote marks
      const joined = this.qpHead + line.message.trimEnd();
      this.qpHead = undefined;
      return this.feedRest(joined, false);
    }
    const rest = this.own(line.message);
    if (rest === undefined) return 'skip';
    return this.feedRest(rest, true);
  }

  private feedRest(rest: string, mayBeCut: boolean): Feed {
    if (this.phase === 0) {
      const v = dwordOf(rest);
      if (v !== undefined) {
        this.dw.push(v);
        if (this.dw.length === 4) { this.phase = 1; this.window = 2; }
        return 'more';
      }
    }
    if (this.phase <= 1) {
      const m = RE_EVENT_DECODED.exec(rest);
      if (m) {
        applyDecodedHeader(this.lines, m);
        if (m[5] !== undefined) { this.phase = 2; this.window = 2; return 'more'; }
        return 'done';
      }
      return this.cut(rest, mayBeCut, RE_DECODED_START);
    }
    const a = RE_EVENT_ATTRS.exec(rest);
    if (a) { this.lines.attrs = a; return 'done'; }
    return this.cut(rest, mayBeCut, RE_ATTRS_START);
  }

  /** A decoded line that ends in a quoted-printable soft break waits for its other half. */
  private cut(rest: string, mayBeCut: boolean, start: RegExp): Feed {
    if (!mayBeCut || !rest.endsWith('=') || !start.test(rest)) return 'end';
    this.qpHead = rest.slice(0, -1);
    return 'more';
  }

  finish(): void {
    buildEvent(this.record, this.idPrinted, this.dw, this.lines);
  }
}

// ---------------------------------------------------------------- GERROR / CMDQ / PRI

class GerrorContinuation extends PrinterContinuation {
  window = 2;
  private readonly bitsSeen: string[] = [];
  constructor(private readonly record: FaultRecord, key: string, prefix: PrefixParser, private wrapped: boolean) {
    super(key, prefix);
  }

  override wants(raw: string): boolean {
    return this.wrapped || super.wants(raw);
  }

  feed(line: LogLine): Feed {
    if (this.wrapped && RE_SERIOUS_WRAP.test(line.message)) { this.wrapped = false; return 'more'; }
    const rest = this.own(line.message);
    if (rest === undefined) return 'skip';
    this.wrapped = false;
    const g = gerrorLine(rest);
    if (!g) return 'end';
    this.bitsSeen.push(g[2]);
    return 'more';
  }

  finish(): void {
    if (!this.bitsSeen.length) return;
    const d = (this.record.decoded ??= {});
    d.printed = [...this.bitsSeen];
  }
}

function gerrorRecord(v: bigint, p: Prefixed, line: LogLine, host?: Host): FaultRecord {
  const r = base('global-fault', p, line, host);
  r.registers = { gerror: h64(v) };
  const desc = DESC.get('gerror')!;
  const set = desc.fields.filter((f) => !f.reserved && bits(v, f.bits[0], f.bits[1]) !== 0n);
  r.reason = {
    code: Number(v),
    name: set.length ? set.map((f) => f.name).join('+') : 'GERROR',
    text: set.length ? set.map((f) => f.doc ?? f.title).join('; ') : 'global error with no known bit set',
  };
  r.decoded = { gerror: decodedFields(desc, v) };
  return r;
}

class CmdqContinuation extends PrinterContinuation {
  window = 3;
  private readonly cmd: bigint[] = [];
  private skipping: boolean;
  constructor(private readonly record: FaultRecord, key: string, prefix: PrefixParser, skipping: boolean) {
    super(key, prefix);
    this.skipping = skipping;
  }

  feed(line: LogLine): Feed {
    const rest = this.own(line.message);
    if (rest === undefined) return 'skip';
    if (this.skipping) {
      const v = dwordOf(rest);
      if (v === undefined) return 'end';
      this.cmd.push(v);
      return this.cmd.length === 2 ? 'done' : 'more';
    }
    if (RE_SKIP_CMD.test(rest)) { this.skipping = true; return 'more'; }
    if (RE_RETRY_FETCH.test(rest)) { this.note('action', 'retrying command fetch'); return 'done'; }
    if (RE_CONVERT_FAIL.test(rest)) { this.note('action', 'failed to convert to CMD_SYNC'); return 'done'; }
    return 'end';
  }

  private note(k: string, v: unknown): void {
    (this.record.decoded ??= {})[k] = v;
  }

  finish(): void {
    if (!this.cmd.length) return;
    const regs = (this.record.registers ??= {});
    this.cmd.forEach((v, i) => {
      regs[`cmd${i}`] = h64(v);
      const desc = DESC.get(`cmd${i}`);
      if (desc) this.note(`cmd${i}`, decodedFields(desc, v));
    });
    const op = decodedFields(DESC.get('cmd0')!, this.cmd[0]!).OPCODE;
    this.note('command', typeof op === 'string' ? op : `unknown opcode 0x${Number(op).toString(16)}`);
    this.note('action', 'skipped (replaced by CMD_SYNC)');
  }
}

function cmdqErrorRecord(cons: bigint | undefined, printed: string | undefined, p: Prefixed, line: LogLine, host?: Host): FaultRecord {
  const r = base('command-error', p, line, host);
  if (cons !== undefined) {
    r.registers = { cmdq_cons: h64(cons) };
    const err = Number(bits(cons, 30, 24));
    const v = CMDQ_ERRORS[err];
    r.reason = { code: err, name: v?.name ?? 'UNKNOWN', text: printed || v?.text || 'Unknown' };
    r.decoded = { cmdq_cons: decodedFields(DESC.get('cmdq_cons')!, cons) };
  } else {
    r.reason = { name: 'CMDQ_ERROR', text: 'command skipped in error state' };
  }
  return r;
}

function syncTimeout(r: FaultRecord, at: string, prod: string, cons: string): void {
  const c = parseHex(cons)!;
  r.registers = { cmdq_prod: hex(prod)!, cmdq_cons: h64(c) };
  r.decoded = { syncAt: hex(at), cmdq_cons: decodedFields(DESC.get('cmdq_cons')!, c) };
}

class SyncWrapContinuation implements Continuation {
  window = 1;
  /** `at`: the index printed before the break, when the break came after it */
  constructor(private readonly record: FaultRecord, private readonly at?: string) {}
  feed(line: LogLine): Feed {
    if (this.at !== undefined) {
      const b = RE_SYNC_TIMEOUT_WRAP_BRACKET.exec(line.message);
      if (!b) return 'end';
      syncTimeout(this.record, this.at, b[1]!, b[2]!);
      return 'done';
    }
    const m = RE_SYNC_TIMEOUT_WRAP.exec(line.message);
    if (!m) return 'end';
    syncTimeout(this.record, m[1]!, m[2]!, m[3]!);
    return 'done';
  }
}

function applyPriLine(r: FaultRecord, m: RegExpExecArray): void {
  r.streamId = hex(m[1]!);
  const ssid = hex(m[2]!);
  if (ssid !== '0x0') r.substreamId = ssid; // printed as 0 when SSV is clear
  r.iova = hex(m[9]!);
  const access = accessOf({ read: m[6] === 'R', write: m[7] === 'W', exec: m[8] === 'X' });
  if (access) r.access = access;
  const last = m[4] === 'L';
  r.decoded = { ...(r.decoded ?? {}), grpid: Number(m[3]), last, privileged: m[5] === undefined };
  if (last) (r.decoded as Record<string, unknown>).response = 'PRI_RESP_DENY';
}

class PriContinuation extends PrinterContinuation {
  window = 3;
  private readonly dw: bigint[] = [];
  constructor(private readonly record: FaultRecord, key: string, prefix: PrefixParser) {
    super(key, prefix);
  }

  feed(line: LogLine): Feed {
    const rest = this.own(line.message);
    if (rest === undefined) return 'skip';
    const m = RE_PRI_LINE.exec(rest);
    if (m && !this.dw.length) { applyPriLine(this.record, m); return 'done'; }
    const v = dwordOf(rest);
    if (v === undefined) return 'end';
    this.dw.push(v);
    return this.dw.length === 2 ? 'done' : 'more';
  }

  finish(): void {
    if (!this.dw.length) return;
    const r = this.record;
    const regs = (r.registers ??= {});
    const d = (r.decoded ??= {});
    const [d0, d1] = this.dw;
    regs.pri0 = h64(d0!);
    d.pri0 = decodedFields(DESC.get('pri0')!, d0!);
    r.streamId = h64(bits(d0!, 31, 0));
    if (bits(d0!, 63, 63) === 1n) r.substreamId = h64(bits(d0!, 51, 32));
    const access = accessOf({ read: bits(d0!, 60, 60) === 1n, write: bits(d0!, 61, 61) === 1n, exec: bits(d0!, 59, 59) === 1n });
    if (access) r.access = access;
    d.last = bits(d0!, 62, 62) === 1n;
    d.privileged = bits(d0!, 58, 58) === 1n;
    if (d1 !== undefined) {
      regs.pri1 = h64(d1);
      d.pri1 = decodedFields(DESC.get('pri1')!, d1);
      d.grpid = Number(bits(d1, 8, 0));
      r.iova = h64(bits(d1, 63, 12) << 12n);
    }
  }
}

// ---------------------------------------------------------------- Tegra241 CMDQV

/** The set bit positions of a bitmap register. */
function setBits(v: bigint): number[] {
  const out: number[] = [];
  for (let i = 0; v > 0n && i < 128; i++, v >>= 1n) if (v & 1n) out.push(i);
  return out;
}

/** The queue a CMDQV header names: the unit as printed, and its indices. */
function cmdqvUnit(m: RegExpExecArray): Record<string, unknown> {
  const d: Record<string, unknown> = { unit: m[1] };
  if (m[2] !== undefined) d.vintf = Number(m[2]);
  if (m[3] !== undefined) { d.vcmdq = Number(m[3]); d.lvcmdq = Number(m[4]); }
  return d;
}

function recognizeCmdqv(line: LogLine, p: Prefixed, host?: Host): Recognition | undefined {
  const rest = p.rest;
  let m: RegExpExecArray | null;
  if ((m = RE_CMDQV_ISR.exec(rest))) {
    const r = base('queue-error', p, line, host);
    const vintfs = BigInt('0x' + m[1]);
    // the queue map: one 128-bit number (6.12–6.14) or four 32-bit words, most significant first
    const vcmdqs = m[2] !== undefined ? BigInt('0x' + m[2]) : BigInt('0x' + m[3]! + m[4]!.padStart(8, '0') + m[5]!.padStart(8, '0') + m[6]!.padStart(8, '0'));
    r.registers = { vintf_err_map: h64(vintfs), cmdq_err_map: h64(vcmdqs) };
    const vi = setBits(vintfs);
    r.decoded = { vintfs: vi, vcmdqs: setBits(vcmdqs) };
    r.reason = {
      name: 'CMDQV_ERROR',
      text: 'Tegra241 CMDQV error interrupt: the listed virtual command queues stopped on an error' +
        (vi.includes(0) ? '; VINTF0 is the kernel\'s own, its CMDQ errors follow' : '') +
        (vi.some((i) => i > 0) ? '; other VINTFs belong to guests (reported to their VMM through iommufd)' : ''),
    };
    return { record: r };
  }
  if ((m = RE_CMDQV_ABLE.exec(rest))) {
    const r = base('queue-error', p, line, host);
    const en = m[5] === 'en';
    r.registers = { status: hex('0x' + m[6])! };
    r.decoded = cmdqvUnit(m);
    r.reason = {
      name: en ? 'CMDQV_ENABLE_TIMEOUT' : 'CMDQV_DISABLE_TIMEOUT',
      text: `${m[1]} did not report itself ${en ? 'enabled' : 'disabled'} in time (STATUS bit 0 ${en ? 'still clear' : 'still set'})`,
    };
    return { record: r };
  }
  if ((m = RE_CMDQV_REGS.exec(rest))) {
    const r = base('queue-error', p, line, host);
    const gerrorn = BigInt('0x' + m[5]);
    const gerror = BigInt('0x' + m[6]);
    const cons = BigInt('0x' + m[7]);
    // the VCMDQ's own GERROR/GERRORN pair, not the SMMU's (other bits): kept raw under their own names
    r.registers = { vcmdq_gerrorn: h64(gerrorn), vcmdq_gerror: h64(gerror), cmdq_cons: h64(cons) };
    const err = Number(bits(cons, 30, 24));
    r.decoded = { ...cmdqvUnit(m), activeErrors: h64(gerror ^ gerrorn), cmdq_cons: decodedFields(DESC.get('cmdq_cons')!, cons) };
    const v = CMDQ_ERRORS[err];
    r.reason = err
      ? { code: err, name: v?.name ?? 'UNKNOWN', text: `${m[1]} failed to take its configuration; its queue had stopped on: ${v?.text ?? 'an unknown error'}` }
      : { name: 'VCMDQ_CONFIG_TIMEOUT', text: `${m[1]} failed to take its configuration (its registers as read back)` };
    return { record: r };
  }
  if ((m = RE_CMDQV_UNCLEARED.exec(rest))) {
    const r = base('queue-error', p, line, host);
    r.decoded = cmdqvUnit(m);
    r.reason = { name: 'VCMDQ_UNCLEARED_ERROR', text: `${m[1]} still had an error flagged (GERROR != GERRORN) when it was reset` };
    return { record: r };
  }
  return undefined;
}

// ---------------------------------------------------------------- recogniser

/** Recognise one SMMUv3 message (after its prefix). Shared by the Linux and Xen recognisers. */
export function recognizeSmmuV3(line: LogLine, p: Prefixed, prefix: PrefixParser, host?: Host): Recognition | undefined {
  const rest = p.rest;
  let m: RegExpExecArray | null;

  if ((m = RE_EVENT_RAW.exec(rest))) {
    const r = base('event', p, line, host);
    const id = parseInt(m[1]!, 16);
    return { record: r, more: new EventContinuation(r, id, p.key, prefix) };
  }
  if ((m = RE_EVENT_DECODED.exec(rest))) {
    const r = base('event', p, line, host);
    if (m[5] !== undefined) return { record: r, more: new EventContinuation(r, undefined, p.key, prefix, m) };
    const lines: DecodedLines = {};
    applyDecodedHeader(lines, m);
    buildEvent(r, undefined, [], lines);
    return { record: r };
  }
  if ((m = RE_DWORD_FULL.exec(rest))) {
    const r = base('event', p, line, host);
    return { record: r, more: new EventContinuation(r, undefined, p.key, prefix, undefined, BigInt('0x' + m[1])) };
  }
  if ((m = RE_GERROR.exec(rest))) {
    const r = gerrorRecord(parseHex(m[1])!, p, line, host);
    return { record: r, more: new GerrorContinuation(r, p.key, prefix, m[2] === undefined) };
  }
  const g = gerrorLine(rest);
  if (g) {
    const r = base('global-fault', p, line, host);
    r.reason = { code: 1 << g[1], name: g[2], text: g[3] };
    return { record: r };
  }
  if ((m = RE_CMDQ_ERR.exec(rest))) {
    const r = cmdqErrorRecord(parseHex(m[1]), m[2], p, line, host);
    return { record: r, more: new CmdqContinuation(r, p.key, prefix, false) };
  }
  if (RE_SKIP_CMD.test(rest)) {
    const r = cmdqErrorRecord(undefined, undefined, p, line, host);
    return { record: r, more: new CmdqContinuation(r, p.key, prefix, true) };
  }
  if ((m = RE_SYNC_TIMEOUT.exec(rest))) {
    const r = base('command-error', p, line, host);
    r.reason = { name: 'CMD_SYNC_TIMEOUT', text: 'CMD_SYNC did not complete: the SMMU stopped consuming commands (hung, powered off, or non-coherent queue memory)' };
    if (m[1] !== undefined) syncTimeout(r, m[1], m[2]!, m[3]!);
    else if (m[4] !== undefined) {
      if (m[5] !== undefined) r.decoded = { syncAt: hex(m[5]) };
      return { record: r, more: new SyncWrapContinuation(r, m[5]) };
    }
    return { record: r };
  }
  if (RE_CMDQ_TIMEOUT.test(rest)) {
    const r = base('command-error', p, line, host);
    r.reason = { name: 'CMDQ_TIMEOUT', text: 'the command queue stayed full: the SMMU is not consuming commands' };
    return { record: r };
  }
  if (RE_EVTQ_OVF.test(rest)) {
    const r = base('queue-error', p, line, host);
    r.reason = { name: 'EVTQ_OVERFLOW', text: 'event queue overflow: events were lost' };
    return { record: r };
  }
  if (RE_PRIQ_OVF.test(rest)) {
    const r = base('queue-error', p, line, host);
    r.reason = { name: 'PRIQ_OVERFLOW', text: 'PRI queue overflow: page requests were lost' };
    return { record: r };
  }
  const q = recognizeCmdqv(line, p, host);
  if (q) return q;
  if (RE_PRI_START.test(rest)) {
    const r = base('page-request', p, line, host);
    r.reason = { name: 'PRI_REQUEST', text: 'PCIe PRI page request that no handler took; Linux denies the group (PRI_RESP_DENY) on its last request' };
    return { record: r, more: new PriContinuation(r, p.key, prefix) };
  }
  return undefined;
}

export const armSmmuV3Recognizer: Recognizer = {
  family: FAMILY,
  keys: [
    ' received:', 'event: ', 'arm-smmu-v3 ', 'unexpected global error', 'CMDQ error', 'skipping command in error state',
    'CMD_SYNC timeout', 'CMDQ timeout', 'overflow detected', 'EVTQ overflow', 'write aborted', 'Service Failure Mode',
    // Tegra241 CMDQV: keys whose first bytes ordinary lines rarely start ("error ", "able, " would)
    'vintf_map', ', STATUS=0x', ', GERROR=0x', 'uncleared error detected',
  ],
  recognize(line) {
    const p = linuxPrefix(line.message);
    if (!p) {
      const b = barePrefix(line.message);
      return b && RE_OWN_BARE.test(b.rest) ? recognizeSmmuV3(line, b, barePrefix) : undefined;
    }
    // Generic texts ("event 0x10 received:") only from an SMMU-looking device; the queue texts are
    // SMMUv3's own and may come from a companion device (Tegra241 CMDQV prints CMDQ errors itself).
    if (!/smmu|iommu/i.test(p.key) && !RE_OWN_TEXT.test(p.rest)) return undefined;
    return recognizeSmmuV3(line, p, linuxPrefix);
  },
};
