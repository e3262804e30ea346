/**
 * Pieces shared by the Linux and Xen VT-d recognisers: the fault-print body grammar (every print
 * generation, including prints wrapped over several lines by mail clients) and reason lookup.
 * Parsing is done with anchored, bounded steps so that a hostile line costs linear time.
 */
import { accessOf, normalizeBdf } from '../normalize';
import type { FaultRecord } from '../record';
import { vtdFaultReason, type VtdFaultReason } from '../../decode/registers/intel-vtd';

export type FaultType = 'dma' | 'ir' | 'unknown';

/** How far a fault print's text got: more lines may complete it. */
export type BodyState =
  /** address/index and reason with its text: nothing more expected */
  | 'complete'
  /** address/index read, no "[fault reason]" part: the old two-line form's reason line may follow */
  | 'need-reason'
  /** reason code read, text missing or cut short: a wrapped line may follow */
  | 'need-text'
  /** cut inside the address part: a wrapped line may follow */
  | 'partial'
  /** text that is not part of this grammar */
  | 'invalid';

export interface FaultBody {
  state: BodyState;
  pasid?: string;
  /** address (DMA) or interrupt index (IR), hex text as printed (no 0x) */
  value?: string;
  /** ", iommu reg = %p" of Xen 4.10 and older */
  iommuReg?: string;
  reasonRaw?: string;
  reasonText?: string;
  /** the shared reading of the text after the address, which caches the reason's reading */
  rest?: RestRead;
}

const RE_PASID_OLD = /^\s*PASID ([0-9a-fA-F]{1,8})(?=\s|$)/;
const RE_ADDR = /^\s*fault (addr|index)(?:\s+(?:0x)?([0-9a-fA-F]{1,16}))?(?=[\s,[]|$)/;
/**
 * RE_PASID_OLD followed by RE_ADDR in one anchored regex. When it matches, its groups are what the
 * two give one after the other: the PASID group is tried first and matches as RE_PASID_OLD does
 * (a whole run of 1-8 digits), and it is left out only when RE_PASID_OLD fails too (a text
 * starting with "PASID " cannot start with "fault "). When it fails, parseBody takes the two
 * steps. The blanks after the PASID live inside its group, so no two blank runs meet.
 */
const RE_PASID_ADDR = /^\s*(?:PASID ([0-9a-fA-F]{1,8})(?=\s|$)\s*)?fault (addr|index)(?:\s+(?:0x)?([0-9a-fA-F]{1,16}))?(?=[\s,[]|$)/;
const RE_IOMMU_REG = /^\s*,\s*iommu reg = (?:0x)?([0-9a-fA-F]{1,16})/;
const RE_REASON = /^\s*\[[Ff]ault reason\s{1,4}(0x[0-9a-fA-F]{1,2}|[0-9a-fA-F]{1,3}h?)\]/;
const REASON_LIT = '[fault reason';

/**
 * Parse what follows "Request device [BDF]" in every generation:
 * `[PASID p] fault addr A [fault reason R] TEXT`, `fault index I [fault reason R] TEXT`,
 * Xen's `fault addr A[, iommu reg = P]`. `expect` says which of addr/index is wanted.
 */
export function parseBody(tail: string, expect: 'addr' | 'index'): FaultBody {
  let s = tail.length > 400 ? tail.slice(0, 400) : tail;
  const out: FaultBody = { state: 'partial' };
  let m = RE_PASID_ADDR.exec(s);
  if (m) {
    // one regex for RE_PASID_OLD then RE_ADDR when both succeed or the first finds no PASID (see RE_PASID_ADDR)
    if (m[1] !== undefined) out.pasid = m[1];
    if (m[2] !== expect) return { ...out, state: 'invalid' };
    if (m[3] === undefined) return out;
    out.value = m[3];
  } else {
    m = mayStartWithPasid(s) ? RE_PASID_OLD.exec(s) : null;
    if (m) { out.pasid = m[1]!; s = s.slice(m[0].length); }
    if (!s.trim()) return out;
    m = RE_ADDR.exec(s);
    if (!m) return { ...out, state: isPrefix(s, `fault ${expect}`) ? 'partial' : 'invalid' };
    if (m[1] !== expect) return { ...out, state: 'invalid' };
    if (m[2] === undefined) return out;
    out.value = m[2];
  }
  const r = restOf(s.slice(m[0].length));
  out.state = r.state;
  if (r.iommuReg !== undefined) out.iommuReg = r.iommuReg;
  if (r.reasonRaw !== undefined) { out.reasonRaw = r.reasonRaw; out.reasonText = r.reasonText; }
  out.rest = r;
  return out;
}

interface RestRead extends Pick<FaultBody, 'state' | 'iommuReg' | 'reasonRaw' | 'reasonText'> {
  /** readReason's answers for this reason, per base */
  read10?: ReasonRead;
  read16?: ReasonRead;
}

/** readReason for a parsed body, remembered with the body's rest when it has one. */
export function readBodyReason(body: FaultBody, base: 10 | 16): ReasonRead {
  const rest = body.rest;
  if (!rest) return readReason(body.reasonRaw!, body.reasonText ?? '', base);
  if (base === 10) return (rest.read10 ??= readReason(body.reasonRaw!, body.reasonText ?? '', 10));
  return (rest.read16 ??= readReason(body.reasonRaw!, body.reasonText ?? '', 16));
}

// What follows the address is the same few texts over a fault storm (the reason part): read once each.
const rests = new Map<string, RestRead>();

// The last few rests, compared by equality before hashing the text for the map.
const RECENT = 4;
const recentRest: string[] = [];
const recentRead: RestRead[] = [];
let recentNext = 0;

/** The part of a body after its address: Xen's iommu reg, then the reason or nothing. */
function restOf(rest: string): RestRead {
  for (let i = 0; i < recentRest.length; i++) if (recentRest[i] === rest) return recentRead[i]!;
  let r = rests.get(rest);
  if (r === undefined) {
    r = readRest(rest);
    if (rest.length <= 200) {
      if (rests.size >= 4096) rests.clear();
      rests.set(rest, r);
    }
  }
  recentRest[recentNext] = rest;
  recentRead[recentNext] = r;
  recentNext = (recentNext + 1) % RECENT;
  return r;
}

function readRest(rest: string): RestRead {
  let s = rest;
  const out: RestRead = { state: 'need-text' };
  let m = RE_IOMMU_REG.exec(s);
  if (m) { out.iommuReg = m[1]!; s = s.slice(m[0].length); }
  // Xen's pointer cut by a wrap ("iommu reg =" + "ffff82c00021d000"): the next line completes it
  else if (isPrefix(s, ', iommu reg = ')) { out.state = 'partial'; return out; }
  if (!s.trim()) { out.state = 'need-reason'; return out; }
  m = RE_REASON.exec(s);
  if (!m) {
    const t = s.trim();
    out.state = isPrefix(t, REASON_LIT) || /^\[[Ff]ault reason\s{1,4}(?:0x)?[0-9a-fA-F]{0,2}$/.test(t) ? 'need-reason' : 'invalid';
    return out;
  }
  out.reasonRaw = m[1]!;
  out.reasonText = s.slice(m[0].length).trim();
  return out;
}

// Reason lines of the two-line forms (Xen's "reason 05 - TEXT"): the last few readings.
const recentRaw: string[] = [];
const recentText: string[] = [];
const recentBase: number[] = [];
const recentReason: ReasonRead[] = [];
let recentReasonNext = 0;

/** readReason, remembering its last few answers (a storm's reason lines repeat). */
export function readReasonRecent(raw: string, printed: string, base: 10 | 16): ReasonRead {
  for (let i = 0; i < recentRaw.length; i++) {
    if (recentRaw[i] === raw && recentText[i] === printed && recentBase[i] === base) return recentReason[i]!;
  }
  const r = readReason(raw, printed, base);
  recentRaw[recentReasonNext] = raw;
  recentText[recentReasonNext] = printed;
  recentBase[recentReasonNext] = base;
  recentReason[recentReasonNext] = r;
  recentReasonNext = (recentReasonNext + 1) % RECENT;
  return r;
}

/**
 * False when RE_PASID_OLD cannot match: past the leading blanks comes a printable ASCII character
 * other than the P of "PASID" (it is no whitespace, so the regex's \s* stops there).
 */
function mayStartWithPasid(s: string): boolean {
  let i = 0;
  while (s.charCodeAt(i) === 32) i++;
  const c = s.charCodeAt(i);
  return !(c > 32 && c < 127 && c !== 80);
}

/** Lowercase hex with 0x of 1 to 32 bare hex digits (what hex() makes of them, without checking them again). */
function hexOfDigits(d: string): string {
  let z = 0;
  while (z < d.length - 1 && d.charCodeAt(z) === 48) z++;
  return '0x' + (z ? d.slice(z) : d).toLowerCase();
}

/** True when `s` (trimmed) is a non-empty start of `lit`. */
function isPrefix(s: string, lit: string): boolean {
  const t = s.trim();
  return t.length > 0 && t.length < lit.length && lit.startsWith(t);
}

export interface ReasonChoice {
  code: number;
  known?: VtdFaultReason;
}

/**
 * Interpret a printed reason code. Linux printed `%02d` (decimal) before v5.14 and `0x%02x`
 * after; Xen prints `%02x` or `%02xh`. When the base is ambiguous, the reading whose table text
 * matches the printed text wins (a custom kernel may differ), else the documented base.
 */
export function chooseReason(raw: string, text: string | undefined, base: 10 | 16): ReasonChoice | undefined {
  let t = raw.toLowerCase();
  if (t.endsWith('h')) { t = t.slice(0, -1); base = 16; }
  if (t.startsWith('0x')) return pick(parseInt(t.slice(2), 16));
  if (!/^[0-9a-f]{1,3}$/.test(t)) return undefined;
  const dec = /^\d+$/.test(t) ? parseInt(t, 10) : undefined;
  const hx = parseInt(t, 16);
  const primary = base === 10 && dec !== undefined ? dec : hx;
  const other = primary === hx ? dec : hx;
  if (text && other !== undefined && other <= 0xff && !textMatches(primary, text) && textMatches(other, text)) return pick(other);
  return primary <= 0xff ? pick(primary) : undefined;
}

// Choices and table texts per code, built once: codes are 0..255 (larger ones are never picked).
const choices: (ReasonChoice | undefined)[] = [];
function pick(code: number): ReasonChoice {
  let c = code >= 0 && code <= 0xff ? choices[code] : undefined;
  if (!c) {
    const known = vtdFaultReason(code);
    c = known ? { code, known } : { code };
    if (code >= 0 && code <= 0xff) choices[code] = c;
  }
  return c;
}

interface ReasonTexts {
  /** the texts as the tables spell them */
  texts: readonly string[];
  /** the same, normalised */
  normed: readonly string[];
}
const reasonTexts: (ReasonTexts | undefined)[] = [];
function textsOf(code: number): ReasonTexts {
  let r = code >= 0 && code <= 0xff ? reasonTexts[code] : undefined;
  if (!r) {
    const texts = expectedTexts(code);
    r = { texts, normed: texts.map(norm) };
    if (code >= 0 && code <= 0xff) reasonTexts[code] = r;
  }
  return r;
}

/** Texts the kernel or Xen may print for a code ("Unknown" when no table has it). */
export function expectedTexts(code: number): string[] {
  const k = vtdFaultReason(code);
  if (!k) return ['Unknown'];
  return k.xenText ? [k.text, k.xenText] : [k.text];
}

function textMatches(code: number, text: string): boolean {
  const r = textsOf(code);
  // a print of the table's own spelling needs no normalising (equal texts normalise equally)
  if (r.texts.includes(text)) return true;
  const t = norm(text);
  return r.normed.includes(t);
}

// Fault storms repeat the same few reason texts: normalise each once (bounded cache).
const normalized = new Map<string, string>();
function norm(s: string): string {
  let n = normalized.get(s);
  if (n === undefined) {
    n = s.replace(/\s+/g, ' ').trim().toLowerCase();
    if (normalized.size >= 4096) normalized.clear();
    normalized.set(s, n);
  }
  return n;
}

/** For a reason whose text may be wrapped: is `text` the whole text, a start of it, or neither? */
export function textProgress(code: number, text: string): 'whole' | 'start' | 'other' {
  const r = textsOf(code);
  // the table's own spelling (whose normal form is not empty) is whole without normalising
  for (let i = 0; i < r.texts.length; i++) if (r.texts[i] === text && r.normed[i]) return 'whole';
  const t = norm(text);
  if (!t) return 'start';
  let start = false;
  for (const n of r.normed) {
    if (n === t) return 'whole';
    if (n.startsWith(t)) start = true;
  }
  return start ? 'start' : 'other';
}

type ReasonFields = { code: number; name: string; text: string };

/** A record's `reason` for a choice and the printed text (a function of these only). */
function reasonFieldsOf(choice: ReasonChoice, printed: string | undefined): ReasonFields {
  const k = choice.known;
  // A print cut short by wrapping or truncation still names the table's full text.
  const r = textsOf(choice.code);
  let full: string | undefined;
  // the first table text is the answer when printed as spelled (its normal form starts itself)
  if (printed === r.texts[0]) full = printed;
  else {
    const p = norm(printed ?? '');
    const i = r.normed.findIndex((n) => n.startsWith(p));
    full = i < 0 ? undefined : r.texts[i];
  }
  return {
    code: choice.code,
    name: k ? k.name : 'UNKNOWN',
    text: full ?? (printed ?? '').replace(/\s+/g, ' ').trim(),
  };
}

/** Set `reason` (a fresh copy: records never share objects) and the reason's table on a record. */
export function applyReasonFields(rec: FaultRecord, f: ReasonFields, choice: ReasonChoice, faultType: FaultType): void {
  rec.reason = { code: f.code, name: f.name, text: f.text };
  const k = choice.known;
  const d = (rec.decoded ??= {}) as Record<string, unknown>;
  // the plain-language explanation lives in the FR description (decode), not in every record
  d.reason = k ? { table: k.table, stage: k.stage } : { table: 'unknown' };
  if (faultType === 'ir' && rec.kind !== 'intr-remap-fault') rec.kind = 'intr-remap-fault';
}

/** Xen 4.15+ ends the reason text with the IOMMU's number. */
const RE_XEN_ON_IOMMU = / on iommu:(\d{1,4})$/;

/** A printed reason (code as printed, text after it) as a fault print reads it. */
export interface ReasonRead {
  /** the text without trailing blanks and without Xen's " on iommu:N" */
  text: string;
  /** N of Xen's " on iommu:N" */
  iommu?: string;
  /** undefined when the code is no reason code */
  choice?: ReasonChoice;
  /** how far the text got (textProgress); 'other' without a choice */
  progress: 'whole' | 'start' | 'other';
  /** the record's `reason` (applyReasonFields copies it), with a choice */
  fields?: ReasonFields;
}

/**
 * Read a printed reason: a function of its arguments only, so that it can be remembered with
 * the text it came from (readBodyReason). The answer may be shared: do not change it.
 */
function readReason(raw: string, printed: string, base: 10 | 16): ReasonRead {
  let text = printed.trimEnd();
  const xen = RE_XEN_ON_IOMMU.exec(text);
  if (xen) text = text.slice(0, xen.index);
  const r: ReasonRead = { text, progress: 'other' };
  if (xen) r.iommu = xen[1]!;
  const choice = chooseReason(raw, text, base);
  if (choice) {
    r.choice = choice;
    r.progress = textProgress(choice.code, text);
    r.fields = reasonFieldsOf(choice, text);
  }
  return r;
}

/** "[00:02.0]", "[0x00:0x02.0]", "[0000:00:02.0]" (with "[[" of old IR prints) to DDDD:BB:DD.F. */
export function deviceOf(raw: string): string | undefined {
  return normalizeBdf(hasX(raw) ? raw.replace(/0x/gi, '') : raw);
}

/** Whether `s` has an x or X (a loop: cheaper than two includes() calls on a short text). */
function hasX(s: string): boolean {
  for (let i = 0; i < s.length; i++) if ((s.charCodeAt(i) | 0x20) === 120) return true;
  return false;
}

export function accessOfType(t: string | undefined): string | undefined {
  if (!t) return undefined;
  return accessOf({ read: /read/i.test(t), write: /write/i.test(t) });
}

/** Fill address / index fields of a record from a parsed body. */
export function applyBody(rec: FaultRecord, body: FaultBody, type: FaultType): void {
  if (body.pasid !== undefined && rec.pasid === undefined) {
    // Linux v5.4–v5.13 printed -1 as ffffffff when no PASID was present
    if (body.pasid.toLowerCase() !== 'ffffffff') rec.pasid = hexOfDigits(body.pasid);
    else ((rec.decoded ??= {}) as Record<string, unknown>).pasidPresent = false;
  }
  // the body's texts are the regexes' bare hex captures
  if (body.value !== undefined) {
    if (type === 'ir') ((rec.decoded ??= {}) as Record<string, unknown>).faultIndex = hexOfDigits(body.value);
    else rec.iova = hexOfDigits(body.value);
  }
  if (body.iommuReg !== undefined) ((rec.decoded ??= {}) as Record<string, unknown>).iommuReg = hexOfDigits(body.iommuReg);
}
