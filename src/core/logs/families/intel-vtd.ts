/**
 * Linux Intel VT-d prints (drivers/iommu/intel: dmar.c, svm.c/prq.c, trace.h), every generation
 * of reference §3.6–3.7:
 *   - "DRHD: handling fault status reg %x" (FSTS), joined with the fault print that follows it;
 *   - DMA / interrupt-remapping fault prints from the old two-line form to 6.12, including prints
 *     wrapped over several lines by mail clients;
 *   - invalidation queue errors (IQE/ITE/ICE with their "QI HEAD/PRIOR" and "cleared" lines);
 *   - page request queue prints (bad requests with the raw descriptor, PRQ overflow) and the
 *     `prq_report` trace event.
 * Xen's prints are recognised by xen-intel-vtd.ts, listed before this one.
 */
import type { LogLine } from '../line';
import type { Continuation, Feed, Recognition, Recognizer } from '../recognizer';
import type { FaultRecord } from '../record';
import { accessOf, bdfFromId, hex, normalizeBdf, parseHex } from '../normalize';
import { decodedFields } from '../../decode/register';
import { VTD_FSTS } from '../../decode/registers/intel-vtd';
import {
  accessOfType, applyBody, applyReasonFields, deviceOf, parseBody, readBodyReason, readReasonRecent,
  type FaultBody, type FaultType,
} from './intel-vtd-parse';
import { handOver, unquote, withoutSoftBreak } from './wrapped';
import { rawMayHold } from './wants';

export const FAMILY = 'intel-vtd';

// ---------------------------------------------------------------------------------------------
// Fault print head: "[DMA Read NO_PASID] Request device [00:02.0]", "DMAR:[DMA Write] Request
// device [00:12.0]", "[INTR-REMAP] Request device [0x64:0x00.5]", "INTR-REMAP: Request device [[42:00.2]"

const RE_TYPE_BEFORE = /(?:\[(DMA [Rr]ead|DMA [Ww]rite)(?: (NO[_ ]PASID|w\/o PASID)| (?:w\/ )?PASID (?:0x)?([0-9a-fA-F]{1,8}))?\]|(\[INTR-REMAP\])|(INTR-REMAP:)|(UNKNOWN:))\s?$/;
const RE_DEVICE = /^\[{1,2}((?:[0-9a-fA-F]{4}:)?(?:0x)?[0-9a-fA-F]{1,2}:(?:0x)?[0-9a-fA-F]{1,2}\.[0-7])\]/;
const REQ = 'Request device [';

export interface FaultHead {
  type: FaultType;
  access?: string;
  device?: string;
  /** "PASID 0x.." of v5.14+ prints (hex text without 0x), or "NO_PASID" */
  pasid?: string;
  noPasid?: boolean;
  tail: string;
}

/** What RE_TYPE_BEFORE says about the text before "Request device [" (null: not a fault head). */
interface TypeRead {
  type: FaultType;
  access?: string;
  noPasid?: boolean;
  pasid?: string;
}

function readType(before: string): TypeRead | null {
  const t = RE_TYPE_BEFORE.exec(before);
  if (!t) return null;
  const r: TypeRead = { type: t[1] ? 'dma' : t[6] ? 'unknown' : 'ir' };
  // what accessOfType makes of the only two texts the group matches
  if (t[1]) r.access = t[1] === 'DMA Read' || t[1] === 'DMA read' ? 'read' : 'write';
  if (t[2]) r.noPasid = true;
  if (t[3]) r.pasid = t[3];
  return r;
}

// The text before the device repeats from print to print: the last few readings, compared by
// string equality (cheaper than the regex, and than hashing the text for a Map).
const RECENT = 4;
const recentBefore: string[] = [];
const recentType: (TypeRead | null)[] = [];
let recentNext = 0;

function typeBefore(before: string): TypeRead | null {
  for (let i = 0; i < recentBefore.length; i++) if (recentBefore[i] === before) return recentType[i]!;
  const r = readType(before);
  recentBefore[recentNext] = before;
  recentType[recentNext] = r;
  recentNext = (recentNext + 1) % RECENT;
  return r;
}

/** 1 for the codes of [0-9a-f] (lowercase only). */
const LOWER_HEX = new Uint8Array(128);
for (const c of '0123456789abcdef') LOWER_HEX[c.charCodeAt(0)] = 1;

/**
 * Length of the bracketed device at `at` in `s` when it is "[dddd:bb:dd.f]" or "[bb:dd.f]"
 * in lowercase (0 otherwise): RE_DEVICE's first try matches these as they are (one bracket, the
 * segment group taken exactly when present), and deviceOf returns them unchanged apart from the
 * segment "0000:" it adds to the short one.
 */
function canonicalDeviceLength(s: string, at: number): number {
  if (s.charCodeAt(at) !== 91) return 0; // '['
  const long = s.charCodeAt(at + 5) === 58; // ':' after a segment
  const n = long ? 12 : 7;
  if (s.charCodeAt(at + n + 1) !== 93) return 0; // ']'
  for (let i = long ? 0 : 5; i < 12; i++) {
    const c = s.charCodeAt(at + i + 1 - (long ? 0 : 5));
    if (i === 4 || i === 7) { if (c !== 58) return 0; }
    else if (i === 10) { if (c !== 46) return 0; }
    else if (i === 11) { if (c < 48 || c > 55) return 0; }
    else if (!(c < 128 && LOWER_HEX[c] === 1)) return 0;
  }
  return n;
}

/** Find and parse the head of a fault print anywhere in the message (tool columns may precede it). */
export function parseHead(message: string): FaultHead | undefined {
  const idx = message.indexOf(REQ);
  // a log flattened into one line (a web page's code block) may put the print far along it
  if (idx < 0 || idx > 1800) return undefined;
  const t = typeBefore(message.slice(Math.max(0, idx - 48), idx));
  if (!t) return undefined;
  const at = idx + REQ.length - 1; // the device's '['
  let dev: string | undefined;
  let tail: string;
  const n = canonicalDeviceLength(message, at);
  if (n === 12) { dev = message.slice(at + 1, at + 13); tail = message.slice(at + 14); }
  else if (n === 7) { dev = '0000:' + message.slice(at + 1, at + 8); tail = message.slice(at + 9); }
  else {
    const after = message.slice(at);
    const d = RE_DEVICE.exec(after);
    if (!d) return undefined;
    dev = deviceOf(d[1]!);
    tail = after.slice(d[0].length);
  }
  const head: FaultHead = { type: t.type, tail };
  if (dev) head.device = dev;
  if (t.access) head.access = t.access;
  if (t.noPasid) head.noPasid = true;
  if (t.pasid) head.pasid = t.pasid;
  return head;
}

/** The record for a fault head (fields known from the first line). */
export function recordFromHead(line: LogLine, h: FaultHead, host: 'linux' | 'xen'): FaultRecord {
  const rec: FaultRecord = { line: line.line, family: FAMILY, host, kind: h.type === 'ir' ? 'intr-remap-fault' : 'dma-fault' };
  fillFromHead(rec, h);
  return rec;
}

function fillFromHead(rec: FaultRecord, h: FaultHead): void {
  rec.kind = h.type === 'ir' ? 'intr-remap-fault' : 'dma-fault';
  if (h.device) rec.device = h.device;
  if (h.access) rec.access = h.access;
  if (h.pasid) rec.pasid = hex(h.pasid);
  if (h.noPasid) ((rec.decoded ??= {}) as Record<string, unknown>).pasidPresent = false;
}

// ---------------------------------------------------------------------------------------------
// Assembly of one fault print over one or more lines.

/** Old and Xen reason lines: "DMAR:[fault reason 06] ...", "INTR-REMAP:[fault reason 37] ...", "DMAR: reason 05 - ..." */
const RE_REASON_LINE = /(?:^|[\s\]])(?:DMAR|INTR-REMAP|UNKNOWN):\s?(?:\[fault reason\s{1,4}(0x[0-9a-fA-F]{1,2}|[0-9a-fA-F]{1,3}h?)\]|reason ([0-9a-fA-F]{1,2}) -)\s?(.*)$/;
// the words of a reason text (the tables' and custom kernels' own): no log line's columns
const RE_REASON_TEXT = /^[A-Za-z][A-Za-z0-9 /:,.()'-]{1,150}$/;
// a print pasted inside Markdown backticks: "```(XEN) [VT-D]DMAR:... iommu reg = ffff82c00021d000```",
// or in a table cell: "... Present bit in context entry is clear |"
const RE_CODE_FENCE = /(?:`{1,3}|\s\|)\s{0,4}$/;

/** False when RE_CODE_FENCE cannot match: its last backtick or bar is followed by at most 4 blanks. */
function mayEndFenced(s: string): boolean {
  for (let i = Math.max(0, s.length - 5); i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 96 || c === 124) return true;
  }
  return false;
}

export class FaultPrint {
  /** accumulated text after "Request device [BDF]" */
  private tail = '';
  private type: FaultType = 'dma';
  state: FaultBody['state'] = 'partial';
  /** last line that belonged to the print */
  last = 0;
  private timed = false;
  /** the last piece ended with a quoted-printable soft line break */
  private softBreak = false;
  /** a two-line form's reason line whose text is missing or cut short: the next line may hold the rest */
  private reasonCut: { raw: string; text: string; base: 10 | 16 } | undefined;

  constructor(readonly rec: FaultRecord, private readonly base: 10 | 16) {}

  /** Take the first line of the print. */
  start(line: LogLine, h: FaultHead): void {
    fillFromHead(this.rec, h);
    this.type = h.type;
    this.tail = this.takeSoftBreak(mayEndFenced(h.tail) ? h.tail.replace(RE_CODE_FENCE, '') : h.tail);
    this.last = line.line;
    this.timed = line.time !== undefined;
    this.state = this.evaluate(this.tail, false) ?? 'invalid';
  }

  get complete(): boolean {
    return this.state === 'complete' || this.state === 'invalid';
  }

  /** Offer a later line; true when it belonged to the print. */
  offer(line: LogLine): boolean {
    if (this.complete) return false;
    if (this.reasonCut) return this.reasonRest(line);
    if (this.state === 'need-reason') {
      const m = RE_REASON_LINE.exec(line.message.length > 600 ? line.message.slice(0, 600) : line.message);
      if (m) {
        this.reasonLine(m[1] ?? m[2]!, m[3] ?? '', m[2] !== undefined);
        this.last = line.line;
        return true;
      }
    }
    // A wrapped print continues on the very next line, which has no timestamp of its own.
    if (line.line !== this.last + 1) return false;
    if (this.timed && line.time !== undefined) return false;
    const raw = unquote(line.message).trimEnd();
    if (!raw || raw.length > 400 || raw.includes(REQ) || raw.includes('DRHD:')) return false;
    const soft = this.softBreak;
    const piece = this.takeSoftBreak(raw);
    // a quoted-printable soft break joins the halves without a blank ("fa=" + "ult index")
    const joined = soft ? `${this.tail}${piece}` : `${this.tail.trimEnd()} ${piece}`;
    if (joined.length > 400) { this.softBreak = soft; return false; }
    const st = this.evaluate(joined, true);
    if (st === undefined) { this.softBreak = soft; return false; }
    this.tail = joined;
    this.state = st;
    this.last = line.line;
    return true;
  }

  /**
   * Parse the accumulated tail and apply it. With `strict`, a text that does not continue the
   * grammar (or a reason text that is not the table's) is refused: undefined, nothing applied.
   */
  /** Strip a quoted-printable soft line break ("=" ending a mail line) and remember it. */
  private takeSoftBreak(text: string): string {
    const t = text.trimEnd();
    this.softBreak = t.length > 1 && t.charCodeAt(t.length - 1) === 61 && t.charCodeAt(t.length - 2) !== 32; // '=' after no ' '
    return this.softBreak ? t.slice(0, -1) : text;
  }

  private evaluate(tail: string, strict: boolean): FaultBody['state'] | undefined {
    const body = parseBody(tail, this.type === 'ir' ? 'index' : 'addr');
    if (body.state === 'invalid') {
      if (strict) return undefined;
      // text after the fields that is no print of its own (a paste's closing quotes): keep the fields
      applyBody(this.rec, body, this.type);
      return 'invalid';
    }
    let state = body.state;
    if (body.reasonRaw !== undefined) {
      const r = readBodyReason(body, this.base);
      if (!r.choice) return strict ? undefined : 'invalid';
      // an appended line must continue the table's text; a first line may carry a custom text
      if (r.progress === 'other' && strict) return undefined;
      state = r.progress === 'start' ? 'need-text' : 'complete';
      applyBody(this.rec, body, this.type);
      applyReasonFields(this.rec, r.fields!, r.choice, this.type);
      if (r.iommu !== undefined) this.rec.iommu = `iommu:${r.iommu}`;
      return state;
    }
    applyBody(this.rec, body, this.type);
    return state;
  }

  private reasonLine(raw: string, text: string, xenStyle: boolean): void {
    const base = xenStyle ? 16 : this.base;
    const soft = withoutSoftBreak(text);
    const printed = soft ?? text;
    const r = readReasonRecent(raw, printed, base);
    if (r.iommu !== undefined) this.rec.iommu = `iommu:${r.iommu}`;
    if (r.choice) applyReasonFields(this.rec, r.fields!, r.choice, this.type);
    this.state = 'complete';
    // Wrapped after "reason 06 -" or inside the text: the table's text stands until the next line gives the printed one.
    if (r.choice && (r.text === '' || r.progress === 'start' || soft !== undefined)) {
      this.reasonCut = { raw, text: soft !== undefined ? printed + '=' : r.text, base };
      this.state = 'need-text';
    }
  }

  /** The next line of a reason line cut short: the rest of its text (the joined text is the printed one). */
  private reasonRest(line: LogLine): boolean {
    const cut = this.reasonCut!;
    this.reasonCut = undefined;
    this.state = 'complete';
    if (line.line !== this.last + 1 || line.time !== undefined || line.host === 'xen') return false;
    const soft = withoutSoftBreak(cut.text);
    const piece = soft !== undefined ? line.message.trimEnd() : unquote(line.message).trimEnd();
    if (!piece || piece.length > 160 || piece.includes(REQ) || piece.includes('DMAR') || piece.includes('[VT-D]') || piece.includes('DRHD:')) return false;
    const joined = soft !== undefined ? soft + piece : cut.text ? `${cut.text} ${piece}` : piece;
    const r = readReasonRecent(cut.raw, joined, cut.base);
    // text that does not continue the table's is taken only where the line left none: a reason never prints empty
    if (!r.choice || (r.progress === 'other' && (cut.text !== '' || !RE_REASON_TEXT.test(piece)))) return false;
    if (r.iommu !== undefined) this.rec.iommu = `iommu:${r.iommu}`;
    applyReasonFields(this.rec, r.fields!, r.choice, this.type);
    this.last = line.line;
    if (r.progress === 'start') {
      this.reasonCut = { raw: cut.raw, text: r.text, base: cut.base };
      this.state = 'need-text';
    }
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// CONFIG_DMAR_DEBUG: dmar_fault_dump_ptes() prints the kernel's own walk right after a DMA fault.

const RE_DUMP_START = /Dump (dmar\d{1,4}) table entries for IOVA 0x([0-9a-fA-F]{1,16})\s*$/;
const DUMP_LINES: readonly [RegExp, (d: Record<string, unknown>, m: RegExpExecArray) => void][] = [
  [/(root table|context table|legacy mode page table|pasid directory table|pasid table|scalable mode page table) is not present\s*$/, (d, m) => { d.notPresent = m[1]; }],
  [/scalable mode root entry: hi 0x([0-9a-fA-F]{1,16}), low 0x([0-9a-fA-F]{1,16})\s*$/, (d, m) => { d.rootEntry = { hi: hex(m[1]), lo: hex(m[2]) }; }],
  [/root entry: 0x([0-9a-fA-F]{1,16})\s*$/, (d, m) => { d.rootEntry = { lo: hex(m[1]) }; }],
  [/context entry: hi 0x([0-9a-fA-F]{1,16}), low 0x([0-9a-fA-F]{1,16})\s*$/, (d, m) => { d.contextEntry = { hi: hex(m[1]), lo: hex(m[2]) }; }],
  [/pasid dir entry: 0x([0-9a-fA-F]{1,16})\s*$/, (d, m) => { d.pasidDirEntry = hex(m[1]); }],
  [/pasid table entry\[(\d)\]: 0x([0-9a-fA-F]{1,16})\s*$/, (d, m) => { ((d.pasidTableEntry ??= []) as unknown[])[Number(m[1])] = hex(m[2]); }],
  [/pte level: (\d), pte value: 0x([0-9a-fA-F]{1,16})\s*$/, (d, m) => { ((d.ptes ??= []) as unknown[]).push({ level: Number(m[1]), value: hex(m[2]) }); }],
  [/page table not present at level (\d)\s*$/, (d, m) => { d.notPresent = `page table at level ${m[1]}`; }],
  // v5.17 to 6.12 before "Fix checks and print in dmar_fault_dump_ptes()": "entry" in the texts, and the
  // walk named the PTE itself (not present, or a superpage the old walk stopped at) with its own level
  [/(root table|context table|pasid directory|pasid table) entry is not present\s*$/, (d, m) => { d.notPresent = m[1] === 'pasid directory' ? 'pasid directory table' : m[1]; }],
  [/PTE not present at level (\d)\s*$/, (d, m) => { d.notPresent = `PTE at level ${m[1]}`; }],
];

/** Collects the PTE dump that follows a DMA fault print into `decoded.dump`. */
class PteDump {
  private dump: Record<string, unknown> | undefined;
  constructor(private readonly rec: FaultRecord) {}

  /** the dump's first line has been taken */
  get started(): boolean {
    return this.dump !== undefined;
  }

  offer(line: LogLine): boolean {
    const msg = line.message.length > 300 ? line.message.slice(0, 300) : line.message;
    if (!this.dump) {
      // the literal first: most lines offered here are the next record's, not a dump
      const m = msg.includes('Dump dmar') ? RE_DUMP_START.exec(msg) : null;
      // the dump names the faulting IOVA: it must be this record's
      if (!m || hex(m[2]) !== this.rec.iova) return false;
      this.dump = { iommu: m[1]!, iova: hex(m[2]) };
      this.rec.iommu ??= m[1]!;
      ((this.rec.decoded ??= {}) as Record<string, unknown>).dump = this.dump;
      return true;
    }
    for (const [re, apply] of DUMP_LINES) {
      const m = re.exec(msg);
      if (m) { apply(this.dump, m); return true; }
    }
    return false;
  }
}

/**
 * What a fault print makes of a later line: its own continuation, then (DMA faults) the PTE
 * dump. Undefined when the line is not the print's, so the caller decides.
 */
function feedPrint(p: FaultPrint, dump: PteDump | undefined, cont: Continuation, l: LogLine): Feed | undefined {
  if (!p.complete) {
    if (p.offer(l)) {
      if (!p.complete) return 'more';
      if (!dump) return 'done';
      cont.window = 1;
      return 'more';
    }
    // a cut reason line stopped waiting for its text at this line, which may still start the dump
    if (!p.complete || !dump) return undefined;
    cont.window = 1;
  }
  if (dump && dump.offer(l)) return 'more';
  // A complete print waits one line (window 1) for its dump: stepping over a line there ends it
  // just as surely, and lets `wants` spare the scanner the lines that cannot start a dump.
  return dump && !dump.started ? 'skip' : 'end';
}

/** Continuation.wants of a print that may be followed by its PTE dump. */
function wantsDumpLine(p: FaultPrint | undefined, dump: PteDump | undefined, raw: string): boolean {
  if (!p || !p.complete || !dump || dump.started) return true;
  return rawMayHold(raw, 'Dump dmar');
}

/** Continuation of a print recognised on its own line. */
function printContinuation(p: FaultPrint, rec: FaultRecord): Continuation {
  const dump = rec.kind === 'dma-fault' ? new PteDump(rec) : undefined;
  const cont: Continuation = {
    window: p.complete ? 1 : 2,
    wants: (raw: string) => wantsDumpLine(p, dump, raw),
    feed(line: LogLine): Feed {
      const f = feedPrint(p, dump, cont, line);
      if (f) return f;
      if (parseHead(line.message) || line.message.includes('DRHD:')) return 'end';
      // An interleaved line from another source: the old form's reason line may still follow.
      return p.state === 'need-reason' ? 'skip' : 'end';
    },
  };
  return cont;
}

// ---------------------------------------------------------------------------------------------
// A print wrapped right before its BDF: "DMAR: [DMA Write NO_PASID] Request device" + "[80:1f.6] fault addr ..."

const RE_CUT_HEAD = /(?:\[DMA (?:Read|Write)[^\]\n]{0,24}\]|\[INTR-REMAP\]|INTR-REMAP:) ?Request device\s*$/;

/** RE_CUT_HEAD, tried only on lines with its literal (most lines offered have none). */
function isCutHead(msg: string): boolean {
  return msg.includes('Request device') && RE_CUT_HEAD.test(msg);
}

/** The head and its next line joined, when they make a fault print head; `l` becomes its first line. */
function joinCutHead(head: string, l: LogLine): { head: FaultHead; line: LogLine } | undefined {
  if (l.time !== undefined) return undefined;
  const next = unquote(l.message).trim();
  if (!next.startsWith('[')) return undefined;
  const h = parseHead(`${head.trimEnd()} ${next}`);
  return h ? { head: h, line: l } : undefined;
}

/** Continuation of a print cut before its BDF: the next line completes the head, then the print goes on. */
function cutHeadContinuation(rec: FaultRecord, head: string): Continuation {
  return handOver((l) => {
    const j = joinCutHead(head, l);
    if (!j) return 'end';
    const p = new FaultPrint(rec, 10);
    p.start(j.line, j.head);
    if (p.complete && rec.kind !== 'dma-fault') return 'done';
    return printContinuation(p, rec);
  });
}

// ---------------------------------------------------------------------------------------------
// "DRHD: handling fault status reg %x"

const RE_DRHD = /DRHD: handling fault status reg ([0-9a-fA-F]{1,8})\s*$/;
const FSTS_PPF = 0x2;
const FSTS_QUEUE = 0x10 | 0x20 | 0x40 | 0x80;

// Storms print the same status over and over: the last one's value and hex text.
let lastFstsText: string | undefined;
let lastFsts: bigint | undefined;
let lastFstsHex = '';

function recognizeHeader(line: LogLine, m: RegExpExecArray): Recognition | undefined {
  const text = m[1]!;
  if (text !== lastFstsText) {
    lastFstsText = text;
    lastFsts = parseHex(text);
    lastFstsHex = lastFsts === undefined ? '' : hex(lastFsts)!;
  }
  const v = lastFsts;
  if (v === undefined || v === 0n) return undefined;
  const fsts = Number(v);
  const rec: FaultRecord = {
    line: line.line, family: FAMILY, host: 'linux',
    kind: (fsts & FSTS_QUEUE) && !(fsts & FSTS_PPF) ? 'queue-error' : 'dma-fault',
    registers: { fsts: lastFstsHex },
    decoded: { fsts: decodedFields(VTD_FSTS, v) },
  };
  if (!(fsts & FSTS_PPF)) return { record: rec };
  // PPF: the fault records are printed next (unless ratelimited); the first one joins this record.
  let print: FaultPrint | undefined;
  let dump: PteDump | undefined;
  let cutHead: string | undefined;
  const cont: Continuation = {
    window: 12,
    wants: (raw: string) => wantsDumpLine(print, dump, raw),
    feed(l: LogLine): Feed {
      if (print) {
        const f = feedPrint(print, dump, cont, l);
        if (f) return f;
        if (parseHead(l.message) || l.message.includes('DRHD:')) return 'end';
        return print.state === 'need-reason' ? 'skip' : 'end';
      }
      if (l.host === 'xen' || l.message.includes('[VT-D]')) return 'skip';
      let h = parseHead(l.message);
      let first = l;
      if (!h && cutHead !== undefined) {
        const j = joinCutHead(cutHead, l);
        if (j) { h = j.head; first = j.line; }
      }
      cutHead = undefined;
      if (!h && isCutHead(l.message)) {
        cutHead = l.message;
        cont.window = 1;
        return 'more';
      }
      if (h) {
        print = new FaultPrint(rec, 10);
        print.start(first, h);
        if (rec.kind === 'dma-fault') dump = new PteDump(rec);
        cont.window = print.complete ? 1 : 2;
        return print.complete && !dump ? 'done' : 'more';
      }
      if (l.message.includes('DMAR') || l.message.includes('callbacks')) return 'end';
      return 'skip';
    },
  };
  return { record: rec, more: cont };
}

// ---------------------------------------------------------------------------------------------
// Invalidation queue errors (dmar.c qi_check_fault / qi_dump_fault)

const RE_QI_DETECTED = /VT-d detected Invalidation (Queue Error: Reason|Time-out Error: SID|Completion Error: SID) ([0-9a-fA-F]{1,16})\s*$/;
const RE_QI_INVALID_DESC = /VT-d detected invalid descriptor: (?:qw0 = |low=)(?:0x)?([0-9a-fA-F]{1,16}), ?(?:qw1 = |high=)(?:0x)?([0-9a-fA-F]{1,16})/;
const RE_QI_CLEARED = /Invalidation (?:Queue|Time-out|Completion) Error \((IQE|ITE|ICE)\) cleared\s*$/;
// a closing quote or full stop of the writer's may follow the value
const RE_QI_DUMP = /QI (HEAD|PRIOR): (.{1,48}?) qw0 = 0x([0-9a-fA-F]{1,16}), qw1 = 0x([0-9a-fA-F]{1,16})[\s"'.,)]{0,8}$/;

const QI_ERROR_TEXT: Record<string, string> = {
  IQE: 'Invalidation Queue Error', ITE: 'Invalidation Time-out Error', ICE: 'Invalidation Completion Error',
};

/** Invalidation descriptor types (qw0 bits 3:0), as Linux's qi_type_string() names them. */
const QI_TYPES: Record<number, string> = {
  1: 'Context-cache Invalidation', 2: 'IOTLB Invalidation', 3: 'Device-TLB Invalidation',
  4: 'Interrupt Entry Cache Invalidation', 5: 'Invalidation Wait', 6: 'PASID-based IOTLB Invalidation',
  7: 'PASID-cache Invalidation', 8: 'PASID-based Device-TLB Invalidation', 9: 'Page Group Response',
};

function qiDescriptor(qw0: bigint, qw1: bigint): Record<string, unknown> {
  const type = Number(qw0 & 0xfn);
  const d: Record<string, unknown> = { qw0: hex(qw0), qw1: hex(qw1), type, typeName: QI_TYPES[type] ?? 'UNKNOWN' };
  // Device-TLB invalidations name the device whose ATS cache is invalidated: SID in qw0 bits 47:32
  if (type === 3) d.device = bdfFromId(Number((qw0 >> 32n) & 0xffffn));
  if (type === 8) d.device = bdfFromId(Number((qw0 >> 16n) & 0xffffn));
  return d;
}

function qiRecord(line: LogLine): FaultRecord {
  return { line: line.line, family: FAMILY, host: 'linux', kind: 'queue-error', decoded: { errors: [] as string[] } };
}

function addQiError(rec: FaultRecord, which: string, value: string): void {
  const name = which.startsWith('Queue') ? 'IQE' : which.startsWith('Time') ? 'ITE' : 'ICE';
  const d = rec.decoded as Record<string, unknown>;
  const errors = d.errors as string[];
  if (!errors.includes(name)) errors.push(name);
  const v = parseHex(value);
  // a status line whose value was lost (a soft break not followed by the rest) names only the error
  if (v !== undefined && name === 'IQE') d.iqei = Number(v);
  else if (v !== undefined) {
    d[name === 'ITE' ? 'iteSid' : 'iceSid'] = hex(v);
    if (name === 'ITE' || rec.device === undefined) rec.device = bdfFromId(Number(v & 0xffffn));
  }
  rec.reason = {
    name: errors.join('+'),
    text: errors.map((e) => QI_ERROR_TEXT[e]).join('; '),
  };
  if (errors.includes('IQE') && d.iqei !== undefined) rec.reason.code = d.iqei as number;
}

/** A mail's quoted-printable line break ("=" ending a line) in a QI line (the break may follow a blank there). */
const RE_QI_SOFT = /(?:VT-d detected|QI (?:HEAD|PRIOR)|DMAR: Invalidation )[^\n]{0,120}=$/;
// "VT-d detected Invalidation Time-out Er=" + "ror: SID 0"
const RE_QI_CUT = /VT-d detected Invalidation (Queue|Time-out|Completion)[^\n]{0,24}=$/;

/** A QI line as printed: a soft break's halves joined, quoted-printable "=3D" read as "=". */
function qiText(pending: string | undefined, message: string): string {
  const t = pending !== undefined ? pending + unquote(message).trimEnd() : message;
  return t.includes('=3D') ? t.replace(/=3D/g, '=') : t;
}

/** A QI status line cut by a soft break, its error type known: the next line holds the rest. */
function qiCutContinuation(rec: FaultRecord, pending: string, which: string): Continuation {
  return handOver((l) => {
    const m = l.time === undefined ? RE_QI_DETECTED.exec(qiText(pending, l.message)) : null;
    if (!m) {
      addQiError(rec, which, '');
      return 'end';
    }
    addQiError(rec, m[1]!, m[2]!);
    return qiContinuation(rec);
  });
}

function qiContinuation(rec: FaultRecord): Continuation {
  let pending: string | undefined;
  return {
    window: 4,
    feed(l: LogLine): Feed {
      const raw = l.message;
      if (pending === undefined && raw.charCodeAt(raw.length - 1) === 61 && RE_QI_SOFT.test(raw)) {
        pending = raw.slice(0, -1);
        return 'more';
      }
      const msg = pending !== undefined || raw.includes('=3D') ? qiText(pending, raw) : raw;
      pending = undefined;
      let m = RE_QI_DETECTED.exec(msg);
      if (m) { addQiError(rec, m[1]!, m[2]!); return 'more'; }
      m = RE_QI_DUMP.exec(msg);
      if (m) {
        const desc = qiDescriptor(parseHex(m[3])!, parseHex(m[4])!);
        (rec.decoded as Record<string, unknown>)[m[1] === 'HEAD' ? 'qiHead' : 'qiPrior'] = desc;
        return 'more';
      }
      m = RE_QI_CLEARED.exec(msg);
      if (m) {
        const d = rec.decoded as Record<string, unknown>;
        const cleared = ((d.cleared ??= []) as string[]);
        cleared.push(m[1]!);
        // every error reported is cleared: a later "detected" line is a new event
        return (d.errors as string[]).every((e) => cleared.includes(e)) ? 'done' : 'more';
      }
      if (parseHead(msg)) return 'end';
      // The fault interrupt reports the same queue error on another CPU: the dump may follow it.
      if (msg.includes('DRHD:')) {
        const d = RE_DRHD.exec(msg);
        const v = d ? parseHex(d[1]) : undefined;
        return v !== undefined && (Number(v & 0xffn) & FSTS_PPF) === 0 && (Number(v & 0xffn) & FSTS_QUEUE) !== 0 ? 'skip' : 'end';
      }
      return 'skip';
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Page requests (svm.c / prq.c) and the prq_report trace event

const RE_PRQ_BAD = /IOMMU: (dmar\d{1,4}): (Page request without PASID|Address is not canonical|Page request in Privilege Mode|Execution request not supported)\s*$/;
const RE_PRQ_DESC = /(?:^|\s)(dmar\d{1,4}): (Invalid page request|Page request without PASID|Page request for invalid PASID (\d{1,10})): ([0-9a-fA-F]{1,16}) ([0-9a-fA-F]{1,16})\s*$/;
const RE_PRQ_OVERFLOW = /IOMMU: (dmar\d{1,4}): PRQ overflow (detected|cleared)\s*$/;
const RE_PRQ_TRACE = /prq_report: (dmar\d{1,4})\/(\S{1,64}) seq# (\d{1,20}): rid=0x([0-9a-fA-F]{1,4}) addr=0x([0-9a-fA-F]{1,16}) ([r-])([w-])([x-])([p-])([l-]) pasid=0x([0-9a-fA-F]{1,5}) index=0x([0-9a-fA-F]{1,3})(?: private=0x([0-9a-fA-F]{1,16})\/0x([0-9a-fA-F]{1,16}))?/;
const RE_FTRACE_TS = /\s(\d{1,10})\.(\d{1,9}): prq_report:/;

const PRQ_REASONS: Record<string, { name: string; text: string }> = {
  'Page request without PASID': { name: 'PRQ_NO_PASID', text: 'Page request without PASID' },
  'Address is not canonical': { name: 'PRQ_NON_CANONICAL', text: 'Address is not canonical' },
  'Page request in Privilege Mode': { name: 'PRQ_PRIV_MODE', text: 'Page request in Privilege Mode' },
  'Execution request not supported': { name: 'PRQ_EXEC_UNSUPPORTED', text: 'Execution request not supported' },
  'Invalid page request': { name: 'PRQ_INVALID', text: 'Invalid page request' },
  'Page request for invalid PASID': { name: 'PRQ_INVALID_PASID', text: 'Page request for invalid PASID' },
};

/** Apply a raw page request descriptor (qw0, qw1) to a record. */
function applyPrqDescriptor(rec: FaultRecord, qw0raw: string, qw1raw: string): void {
  const qw0 = parseHex(qw0raw)!;
  const qw1 = parseHex(qw1raw)!;
  rec.registers = { ...(rec.registers ?? {}), prq_qw0: hex(qw0)!, prq_qw1: hex(qw1)! };
  const pasidPresent = ((qw0 >> 8n) & 1n) === 1n;
  const rid = Number((qw0 >> 16n) & 0xffffn);
  const pasid = (qw0 >> 32n) & 0xfffffn;
  const rd = (qw1 & 1n) === 1n;
  const wr = ((qw1 >> 1n) & 1n) === 1n;
  const exe = ((qw0 >> 52n) & 1n) === 1n;
  rec.device = bdfFromId(rid);
  if (pasidPresent) rec.pasid = hex(pasid);
  rec.iova = hex((qw1 >> 12n) << 12n);
  const a = accessOf({ read: rd, write: wr, exec: exe });
  if (a) rec.access = a;
  const d = (rec.decoded ??= {}) as Record<string, unknown>;
  d.prq = {
    rid: hex(rid), pasidPresent, pasid: hex(pasid), privateDataPresent: ((qw0 >> 9n) & 1n) === 1n,
    exe, priv: ((qw0 >> 53n) & 1n) === 1n, rd, wr, lpig: ((qw1 >> 2n) & 1n) === 1n,
    prgIndex: Number((qw1 >> 3n) & 0x1ffn),
  };
}

function prqRecord(line: LogLine, iommu: string, kind: string): FaultRecord {
  return { line: line.line, family: FAMILY, host: 'linux', kind, iommu };
}

function recognizePrq(line: LogLine, msg: string): Recognition | undefined {
  let m = RE_PRQ_DESC.exec(msg);
  if (m) {
    const rec = prqRecord(line, m[1]!, 'page-request');
    const which = m[2]!.startsWith('Page request for invalid PASID') ? 'Page request for invalid PASID' : m[2]!;
    rec.reason = { ...PRQ_REASONS[which]! };
    applyPrqDescriptor(rec, m[4]!, m[5]!);
    if (m[3] !== undefined) rec.pasid = hex(BigInt(m[3]));
    return { record: rec };
  }
  m = RE_PRQ_BAD.exec(msg);
  if (m) {
    const rec = prqRecord(line, m[1]!, 'page-request');
    rec.reason = { ...PRQ_REASONS[m[2]!]! };
    const iommu = m[1]!;
    // handle_bad_prq_event() prints the raw descriptor right after the reason
    return {
      record: rec,
      more: {
        window: 3,
        feed(l: LogLine): Feed {
          const d = RE_PRQ_DESC.exec(l.message);
          if (d && d[1] === iommu && d[2] === 'Invalid page request') {
            applyPrqDescriptor(rec, d[4]!, d[5]!);
            return 'done';
          }
          // the descriptor line with its values cut or redacted ("dmar12: Invalid page request: [...]") is still this print's
          if (!d && l.message.includes(`${iommu}: Invalid page request:`)) return 'done';
          return RE_PRQ_BAD.test(l.message) ? 'end' : 'skip';
        },
      },
    };
  }
  m = RE_PRQ_OVERFLOW.exec(msg);
  if (m) {
    if (m[2] === 'cleared') return undefined; // joined to its "detected" line; alone it says nothing new
    const rec = prqRecord(line, m[1]!, 'queue-error');
    rec.reason = { name: 'PRQ_OVERFLOW', text: 'PRQ overflow detected' };
    const iommu = m[1]!;
    return {
      record: rec,
      more: {
        window: 6,
        feed(l: LogLine): Feed {
          const o = RE_PRQ_OVERFLOW.exec(l.message);
          if (o && o[1] === iommu) {
            if (o[2] === 'detected') return 'end';
            ((rec.decoded ??= {}) as Record<string, unknown>).cleared = true;
            return 'done';
          }
          return 'skip';
        },
      },
    };
  }
  m = RE_PRQ_TRACE.exec(msg);
  if (m) {
    const rec = prqRecord(line, m[1]!, 'page-request');
    const dev = normalizeBdf(m[2]!);
    rec.device = dev ?? m[2]!;
    const rd = m[6] === 'r';
    const wr = m[7] === 'w';
    const exe = m[8] === 'x';
    const a = accessOf({ read: rd, write: wr, exec: exe });
    if (a) rec.access = a;
    const page = parseHex(m[5])!;
    rec.iova = hex(page << 12n); // the trace prints qw1 bits 63:12, a page number
    rec.pasid = hex(m[11]!);
    const prq: Record<string, unknown> = {
      seq: Number(m[3]), rid: hex(m[4]!), requester: bdfFromId(Number(parseHex(m[4])!)),
      rd, wr, exe, priv: m[9] === 'p', lpig: m[10] === 'l', prgIndex: Number(parseHex(m[12])!),
    };
    if (m[13] !== undefined) prq.privateData = [hex(m[13]), hex(m[14]!)];
    rec.decoded = { prq };
    const ts = RE_FTRACE_TS.exec(msg);
    if (ts && line.time === undefined) rec.time = Number(ts[1]) + Number('0.' + ts[2]);
    return { record: rec };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------

// Both VT-d recognisers ask about the same line object, one after the other: answer once.
let lastAsked: LogLine | undefined;
let lastXen = false;

/** A line of Xen's VT-d driver (xen-intel-vtd.ts takes those, this recogniser the others). */
export function isXenLine(line: LogLine): boolean {
  if (line !== lastAsked) {
    lastAsked = line;
    lastXen = line.host === 'xen' || line.message.includes('[VT-D]');
  }
  return lastXen;
}

export const intelVtdRecognizer: Recognizer = {
  family: FAMILY,
  keys: [
    'Request device', 'DRHD: handling fault status', 'VT-d detected', 'Error (IQE) cleared', 'Error (ITE) cleared',
    'Error (ICE) cleared', 'page request', 'Page request', 'Address is not canonical', 'Execution request not supported',
    'PRQ overflow', 'prq_report:',
  ],
  recognize(line: LogLine): Recognition | undefined {
    if (isXenLine(line)) return undefined;
    const msg = line.message.length > 2000 ? line.message.slice(0, 2000) : line.message;
    const h = parseHead(msg);
    if (h) {
      const rec = recordFromHead(line, h, 'linux');
      const p = new FaultPrint(rec, 10);
      p.start(line, h);
      // IR prints end on their line; DMA prints may be followed by the kernel's PTE dump
      return p.complete && rec.kind !== 'dma-fault' ? { record: rec } : { record: rec, more: printContinuation(p, rec) };
    }
    if (isCutHead(msg)) {
      const type = /INTR-REMAP/.test(msg) ? 'ir' : 'dma';
      const rec: FaultRecord = { line: line.line, family: FAMILY, host: 'linux', kind: type === 'ir' ? 'intr-remap-fault' : 'dma-fault' };
      const a = type === 'dma' ? accessOfType(/DMA (Read|Write)/.exec(msg)?.[1]) : undefined;
      if (a) rec.access = a;
      return { record: rec, more: cutHeadContinuation(rec, msg) };
    }
    let m = RE_DRHD.exec(msg);
    if (m) return recognizeHeader(line, m);
    m = RE_QI_DETECTED.exec(msg);
    if (m) {
      const rec = qiRecord(line);
      addQiError(rec, m[1]!, m[2]!);
      return { record: rec, more: qiContinuation(rec) };
    }
    if (msg.charCodeAt(msg.length - 1) === 61 && (m = RE_QI_CUT.exec(msg))) {
      const rec = qiRecord(line);
      return { record: rec, more: qiCutContinuation(rec, msg.slice(0, -1), m[1]!) };
    }
    m = RE_QI_INVALID_DESC.exec(msg);
    if (m) {
      const rec = qiRecord(line);
      (rec.decoded as Record<string, unknown>).errors = ['IQE'];
      (rec.decoded as Record<string, unknown>).invalidDescriptor = qiDescriptor(parseHex(m[1])!, parseHex(m[2])!);
      rec.reason = { name: 'IQE', text: 'VT-d detected invalid descriptor' };
      return { record: rec, more: qiContinuation(rec) };
    }
    m = RE_QI_CLEARED.exec(msg);
    if (m) {
      const rec = qiRecord(line);
      const d = rec.decoded as Record<string, unknown>;
      d.errors = [m[1]!];
      d.cleared = [m[1]!];
      rec.reason = { name: m[1]!, text: QI_ERROR_TEXT[m[1]!]! };
      return { record: rec };
    }
    return recognizePrq(line, msg);
  },
};
