/**
 * One log line with the prefixes that real logs carry taken apart: timestamps, printk levels,
 * journal/syslog columns, Xen's "(XEN)" and guest "(dN)" markers, serial-console CR and ANSI codes.
 * Recognisers see `message` (what the kernel or hypervisor printed) and never parse prefixes themselves.
 */
import type { Host } from './record';

export interface LogLine {
  /** 1-based line number in the source */
  line: number;
  /** the line as read, without the line terminator */
  raw: string;
  /** the printed message with known prefixes removed */
  message: string;
  /** seconds; kernel/Xen monotonic time when printed, else wall-clock seconds from the prefix */
  time?: number;
  host: Host;
  /** Xen guest domain that printed it, from "(d1)" */
  xenDomain?: number;
}

const MONTHS: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

// All patterns are anchored and use bounded, non-overlapping quantifiers so that they stay linear
// on hostile input (a line of a million '[' characters is rejected after a few bytes).
const RE_ANSI = /\x1b\[[0-9;?]{0,32}[A-Za-z]/g;
const RE_KTIME = /^\[\s{0,12}(\d{1,10})\.(\d{1,9})\]\s?/;
const RE_CTIME = /^\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))? (\d{4})\]\s?/;
// "host proc:" after the stamp; pastes that cut the host column keep only "kernel:" (one or more blanks)
const RE_SYSLOG = /^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?: [^\s:]{1,255} [^\s:]{1,128}| {1,8}kernel): ?/;
const RE_ISO = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:([.,])(\d{1,9}))?(?:Z|[+-]\d\d:?\d\d)? ?/;
// journalctl/rsyslog put "host proc:" after an ISO stamp; "dmesg --time-format iso" (",usec")
// puts the message there, whose "driver device:" columns must not be taken for them.
const RE_ISO_HOST_PROC = /^[^\s:]{1,255} [^\s:]{1,128}: ?/;
const RE_XEN = /^\(XEN\) ?/;
const RE_XEN_TIME = /^\[\s{0,12}(?:(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?|(\d{1,10})\.(\d{1,9}))\]\s?/;
const RE_GUEST = /^\(d(\d{1,5})\) ?/;
const RE_DMESG_X = /^(?:kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local\d) *:(?:emerg|alert|crit|err|warn|notice|info|debug) *: ?/;

/**
 * The seconds a stamp prints ("1.116842"), read as that decimal: adding the fraction to the whole
 * seconds gave 1.1168420000000001 for it, which JSON then printed.
 */
function decimal(whole: string | number, frac: string | undefined): number {
  return frac ? Number(whole + '.' + frac) : Number(whole);
}

/*
 * Hand-written scanners for the prefixes that start almost every line. Every line of a fault storm
 * went through three regular expressions and a string-to-number round trip before; these read the
 * characters once and agree with the patterns they replace on every input (see the equivalence tests).
 */

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Could be matched by JS `\s` (ASCII tab..CR, or anything non-ASCII): the regex must decide. */
function mayBeOtherSpace(c: number): boolean {
  return (c >= 9 && c <= 13) || c >= 128;
}

/** Value of the last stamp `kernelStamp` matched. */
let stampTime = 0;

/**
 * The kernel's "[ 1234.567890] " stamp at the start of `s` (which starts with '['), as RE_KTIME
 * (`^\[\s{0,12}(\d{1,10})\.(\d{1,9})\]\s?`) reads it: the match length, 0 when RE_KTIME cannot
 * match, -1 when whitespace other than ' ' is involved and RE_KTIME has to decide.
 * The value equals `Number(int + '.' + fraction)`: the digits I·10^k + F are exact below 2^53, and
 * IEEE division rounds (I·10^k + F) / 10^k correctly, which is what parsing the decimal must give.
 */
function kernelStamp(s: string): number {
  let i = 1;
  let c = s.charCodeAt(i);
  while (c === 32) c = s.charCodeAt(++i);
  if (!isDigit(c)) return mayBeOtherSpace(c) ? -1 : 0;
  if (i > 13) return 0; // more than 12 spaces before the first digit
  const intStart = i;
  let whole = 0;
  do { whole = whole * 10 + (c - 48); c = s.charCodeAt(++i); } while (isDigit(c));
  if (i - intStart > 10 || c !== 46 /* . */) return 0;
  const fracStart = ++i;
  let f = 0;
  c = s.charCodeAt(i);
  while (isDigit(c)) { f = f * 10 + (c - 48); c = s.charCodeAt(++i); }
  const k = i - fracStart;
  if (k < 1 || k > 9 || c !== 93 /* ] */) return 0;
  const digitsEnd = i;
  c = s.charCodeAt(++i);
  if (c === 32) i++;
  else if (mayBeOtherSpace(c)) return -1;
  // the decimal's own double: one correctly rounded division of its exact digits (as parsing it
  // gives), else the parse itself
  const scaled = whole * POW10[k]! + f;
  stampTime = scaled <= 9007199254740992 ? scaled / POW10[k]! : Number(s.slice(intStart, digitsEnd));
  return i;
}

/** Length of a printk level "<3>" (`^<\d{1,3}>`) at the start of `s`, else 0. */
function printkLevel(s: string): number {
  let i = 1;
  while (i <= 4 && isDigit(s.charCodeAt(i))) i++;
  return i >= 2 && i <= 4 && s.charCodeAt(i) === 62 /* > */ ? i + 1 : 0;
}

function isKernelColChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c) || c === 95 || c === 46 || c === 45;
}

/**
 * Length of the "host kernel: " or "kernel: " column left by journalctl -o short-monotonic
 * ("[ 1234.5] host kernel: ") and by pastes that kept only "kernel: ", else 0. This is
 * `^(?:[\w.-]{1,64} )?kernel: /`: the optional column can only end at the first character
 * outside [\w.-].
 */
function kernelColumn(s: string): number {
  let r = 0;
  while (r < 65 && isKernelColChar(s.charCodeAt(r))) r++;
  if (r >= 1 && r <= 64 && s.charCodeAt(r) === 32 && s.startsWith('kernel: ', r + 1)) return r + 9;
  return s.startsWith('kernel: ') ? 8 : 0;
}

function wall(year: number, month: number, day: number, h: string, m: string, s: string, f?: string): number {
  const whole = Date.UTC(year, month, day, Number(h), Number(m), Number(s)) / 1000;
  return whole >= 0 ? decimal(whole, f) : whole + (f ? Number('0.' + f) : 0);
}

/*
 * Prefixes of other tools (dmesg time formats, journalctl output modes, /dev/kmsg records, RFC 5424,
 * logcat). They are tried only after the kernel stamp, printk level and Xen markers have failed on a
 * line, each behind a check of its first characters, so that stamped kernel lines never reach them.
 */

/**
 * Abbreviated month names as strftime's %b prints them under LC_TIME (glibc abmon/ab_alt_mon):
 * en de fr es it pt nl pl cs sv da nb fi ru uk tr hu, lower case, without the trailing dot.
 * No name stands for two different months across these locales.
 */
const LOCAL_MONTHS: ReadonlyMap<string, number> = (() => {
  const byMonth = [
    'jan janv ene gen sty led tammi янв січ oca',
    'feb févr fev lut úno helmi фев лют şub febr',
    'mar mär mars mrt bře maalis мар бер márc',
    'apr avr abr kwi dub huhti april апр кві nis ápr',
    'may mai mag mei maj kvě touko мая май тра máj',
    'jun juin giu cze čen juni kesä июн чер haz jún',
    'jul juil lug lip čec juli heinä июл лип tem júl',
    'aug août ago sie srp elo авг сер ağu',
    'sep sept set wrz zář syys сен вер eyl szept',
    'oct okt ott out paź říj loka окт жов eki',
    'nov lis marras ноя лис kas',
    'dec dez déc dic gru pro des joulu дек гру ara',
  ];
  const map = new Map<string, number>();
  byMonth.forEach((names, month) => { for (const n of names.split(' ')) map.set(n, month); });
  return map;
})();

/** Month (0-11) of a %b word in any of LOCAL_MONTHS' locales, or "11月" / "11월" (zh, ja, ko). */
function monthOf(word: string): number | undefined {
  const w = word.charCodeAt(word.length - 1) === 46 /* . */ ? word.slice(0, -1) : word;
  const m = /^(\d{1,2})[月월]$/.exec(w);
  if (m) { const n = Number(m[1]); return n >= 1 && n <= 12 ? n - 1 : undefined; }
  return LOCAL_MONTHS.get(w.toLowerCase());
}

/** Seconds of a microsecond count, the way the kernel stamp of the same record reads ("[    5.140900]"). */
function usecToSeconds(usec: string): number {
  const u = Number(usec);
  // one correctly rounded division: the double that "5.140900" reads as (while u < 2^53)
  return u / 1e6;
}

// dmesg --time-format "time delta" / -d ("[ 1234.567890 <    0.000123>] ") and journalctl -o short-delta
// ("[ 1234.567890 <    0.000123 >] ", blank when no delta): the monotonic time with the delta.
const RE_KTIME_DELTA = /^\[\s{0,12}(\d{1,10})\.(\d{1,9})(?: {1,12}<\s{0,12}\d{1,10}[.,]\d{1,9}[ *]?>| {16})\]\s?/;
// dmesg --time-format delta alone ("[<    0.000123>] ") and reltime's deltas ("[  +0.000123] ",
// "[ +12.345678] ", "[  +0,000007] " where LC_NUMERIC has a decimal comma): no time of their own.
const RE_DELTA_ONLY = /^\[(?:<\s{0,12}\d{1,10}[.,]\d{1,9}>|\s{0,4}[+-]\d{1,10}[.,]\d{1,9})\]\s?/;
// the printk caller id after a stamp: kernel console "[  T123]" (CONFIG_PRINTK_CALLER), dmesg "[  T123] "
const RE_CALLER = /^\[ {0,10}[TC]\d{1,10}\] ?/;
const RE_CLOCK = /^(\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?$/;
const RE_DELTA_TAIL = / <\s{0,12}\d{1,10}[.,]\d{1,9}>$/;

/** Time read by `wordStamp`, undefined when the stamp does not give one. */
let wordStampTime: number | undefined;

/**
 * A bracketed date written with words at the start of `s`, as dmesg prints it under any LC_TIME:
 * ctime "[Do Nov 21 10:02:03 2024] ", "[jeu. nov. 21 ...]", "[四 11月 21 ...]" (strftime
 * "%a %b %e %H:%M:%S %Y", whose order translators may change), with " <delta>" for ctime+delta, and
 * reltime's minute lines "[Nov21 10:02] " / "[Dez 1 10:02] " ("%b%e %H:%M"). Returns the length to
 * strip, else 0; the time is read when the month name is known (reltime's never: no year, no seconds).
 */
function wordStamp(s: string): number {
  let close = -1;
  let colon = false;
  const lim = s.length < 72 ? s.length : 72;
  for (let i = 1; i < lim; i++) {
    const c = s.charCodeAt(i);
    if (c === 93 /* ] */) { close = i; break; }
    if (c === 58 /* : */) colon = true;
    else if (c === 91 /* [ */) return 0;
  }
  if (close < 3 || !colon) return 0;
  let body = s.slice(1, close);
  const d = RE_DELTA_TAIL.exec(body);
  if (d) body = body.slice(0, d.index);
  const tokens = body.split(' ').filter((t) => t.length > 0);
  if (tokens.length < 2 || tokens.length > 6) return 0;
  let clock: RegExpExecArray | null = null;
  let clockAt = -1;
  let year = -1;
  let day = -1;
  const words: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const m = RE_CLOCK.exec(t);
    if (m) { if (clock) return 0; clock = m; clockAt = i; continue; }
    if (/^\d{4}$/.test(t)) { if (year >= 0) return 0; year = i; continue; }
    if (/^\d{1,2}\.?$/.test(t)) { if (day >= 0) return 0; day = i; continue; }
    if (t.indexOf(':') >= 0 || (/^\d/.test(t) && !/^\d{1,2}[月월]$/.test(t))) return 0;
    words.push(i);
  }
  if (!clock) return 0;
  let end = close + 1;
  const after = s.charCodeAt(end);
  if (after === 32 || after === 9) end++;
  if (clock[3] === undefined) {
    // reltime: "%b%e" fused for days 10-31 ("Nov21"), "%b %e" for days 1-9 ("Nov 1"); then the clock
    if (year >= 0 || d || words.length !== 1 || words[0] !== 0) return 0;
    const fused = tokens.length === 2 && clockAt === 1 && /\D\d{1,2}$/.test(tokens[0]!);
    const spaced = tokens.length === 3 && day === 1 && clockAt === 2;
    if (!fused && !spaced) return 0;
    wordStampTime = undefined;
    return end;
  }
  if (year < 0 || day < 0 || words.length < 1 || words.length > 2) return 0;
  const month = monthOf(tokens[words[words.length - 1]!]!);
  wordStampTime = month === undefined ? undefined
    : wall(Number(tokens[year]), month, parseInt(tokens[day]!, 10), clock[1]!, clock[2]!, clock[3], clock[4]);
  return end;
}

// /dev/kmsg records ("6,339,5140900,-;msg", before 3.6 "6,339,5140900;msg", "...,-,caller=T1;msg"):
// priority, sequence, microseconds, optional fields; then the message.
const RE_KMSG = /^\d{1,4},\d{1,20},(\d{1,20})(?:,[^;,\s]{0,24}){0,4};/;
// journalctl -o short-unix: "1604671188.123456 host kernel: "
const RE_UNIX_TIME = /^(\d{9,11})\.(\d{6}) /;
// a record address and the stamp, as Qualcomm ramdump tools list the log buffer
// ("0x000000000277BBFA |   1263.468579:   arm-smmu ...", github.com/qualcomm/fastrpc/issues/353)
const RE_ADDR_STAMP = /^0x[0-9A-Fa-f]{1,16} \| {0,12}(\d{1,10})\.(\d{1,9}): {0,4}/;
// RFC 5424 after its "<PRI>": "1 2024-11-21T10:02:03.123456+01:00 host kernel - - - msg" (NILVALUE '-'
// or bracketed structured data; a BOM may open the message)
const RE_RFC5424 = /^1 (\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:Z|[+-]\d\d:\d\d) \S{1,255} \S{1,48} \S{1,128} \S{1,32} (?:-|(?:\[[^\]]{0,1024}\]){1,16})(?: \ufeff?|$)/;
// logcat -v threadtime "11-21 10:02:03.123     0     0 E tag     : msg" and -v time
// "11-21 10:02:03.123 E/tag     (    0): msg" (-v usec: 6 digits, -v zone: " +0100")
const RE_LOGCAT = /^(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3}|\d{6})(?: [+-]\d{4})? /;
const RE_LOGCAT_THREAD = /^ {0,6}\d{1,7} {1,6}\d{1,7} [VDIWEFS] ([^:]{0,64}): ?/;
const RE_LOGCAT_BRIEF = /^[VDIWEFS]\/([^(:]{0,64})\( {0,6}\d{1,7}\): ?/;
// journalctl -o short/short-precise under LC_TIME ("Dez 08 10:02:17 host kernel: "): RE_SYSLOG with any %b word
const RE_LOCAL_SYSLOG = /^([^\s\d:[\]()<>]{2,12}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?: [^\s:]{1,255} [^\s:]{1,128}| {1,8}kernel): ?/;
// journalctl -o short-full / with-unit ("Sat 2024-11-21 10:02:03 CET host kernel: "), verbose's
// first line has ".123456" and a cursor instead of the columns
const RE_SHORT_FULL = /^[^\s\d:[\]()<>]{2,12} (\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? [^\s:]{1,32} /;

/**
 * A logcat message put back together: logd cut the kernel's "tag: " (LogKlog takes one or two words
 * before the colon) and logcat prints it as "%-8s: ", so "DMAR    : [DMA Read] ..." is "DMAR: [DMA Read] ...".
 */
function logcatMessage(tag: string, rest: string): string {
  const t = tag.trimEnd();
  return t ? `${t}: ${rest}` : rest;
}

/** Cheap test that `s` may start with "word dd hh:" or "word yyyy-" (a %b or %a word first). */
function mayStartWordDate(s: string): boolean {
  let i = 1;
  let c = s.charCodeAt(1);
  while (c !== 32) {
    if (c === 58 /* : */ || ++i >= 14) return false; // a %b or %a word holds no colon
    c = s.charCodeAt(i);
  }
  if (i < 2) return false;
  let j = i + 1;
  if (s.charCodeAt(j) === 32) j++;
  const from = j;
  while (j < from + 4 && isDigit(s.charCodeAt(j))) j++;
  const digits = j - from;
  if (digits === 4) return s.charCodeAt(j) === 45 /* - */;
  return digits >= 1 && digits <= 2 && s.charCodeAt(j) === 32 && isDigit(s.charCodeAt(j + 1)) && isDigit(s.charCodeAt(j + 2)) && s.charCodeAt(j + 3) === 58 /* : */;
}

/** The value of a JSON string starting at `i` (just after its opening quote), up to the first newline it holds. */
function jsonString(s: string, i: number): string | undefined {
  let out = '';
  let from = i;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34 /* " */) return out + s.slice(from, i);
    if (c !== 92 /* \ */) continue;
    out += s.slice(from, i);
    const e = s[++i];
    if (e === 'n') return out; // the rest of a multi-line message is not this line's
    if (e === 'u') {
      const h = s.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(h)) return undefined;
      out += String.fromCharCode(parseInt(h, 16));
      i += 4;
    } else if (e === 't') out += '\t';
    else if (e === 'r') out += '\r';
    else if (e === 'b') out += '\b';
    else if (e === 'f') out += '\f';
    else if (e === '"' || e === '\\' || e === '/') out += e;
    else return undefined;
    from = i + 1;
  }
  return undefined;
}

/** Index just after `"key"` and its colon (blanks allowed around it) in `s`, else -1. */
function jsonValueAt(s: string, key: string): number {
  const k = s.indexOf(key);
  if (k < 0) return -1;
  let i = k + key.length;
  while (s.charCodeAt(i) === 32) i++;
  if (s.charCodeAt(i) !== 58 /* : */) return -1;
  i++;
  while (s.charCodeAt(i) === 32) i++;
  return i;
}

/** A JSON byte array ("MESSAGE":[68,77,...], journald's form for non-UTF-8 text) decoded as UTF-8. */
function jsonBytes(s: string, i: number): string | undefined {
  const close = s.indexOf(']', i);
  if (close < 0 || close - i > 40_000) return undefined;
  const parts = s.slice(i + 1, close).split(',');
  const bytes = new Uint8Array(parts.length);
  for (let k = 0; k < parts.length; k++) {
    const v = Number(parts[k]);
    if (!Number.isInteger(v) || v < 0 || v > 255) return undefined;
    bytes[k] = v;
  }
  const text = new TextDecoder('utf-8').decode(bytes);
  const nl = text.indexOf('\n');
  return nl >= 0 ? text.slice(0, nl) : text;
}

/** Message and monotonic time of a journal entry in JSON (journalctl -o json, json-seq, json-sse), else undefined. */
function journalJson(s: string): { message: string; time?: number } | undefined {
  const v = jsonValueAt(s, '"MESSAGE"');
  if (v < 0) return undefined;
  const c = s.charCodeAt(v);
  const message = c === 34 ? jsonString(s, v + 1) : c === 91 ? jsonBytes(s, v) : undefined;
  if (message === undefined) return undefined;
  // the kernel's own stamp (journald copies it from /dev/kmsg), else when journald received the entry
  for (const key of ['"_SOURCE_MONOTONIC_TIMESTAMP"', '"__MONOTONIC_TIMESTAMP"']) {
    const t = jsonValueAt(s, key);
    if (t < 0) continue;
    const m = /^"(\d{1,20})"/.exec(s.slice(t, t + 24));
    if (m) return { message, time: usecToSeconds(m[1]!) };
  }
  return { message };
}

/**
 * What `otherPrefix` read besides the length to strip: a time in seconds (wall clock when
 * `otherWall`, else monotonic; undefined when the prefix has none), the message when it is not
 * simply the text after the prefix, and whether that message is final (no prefix can follow).
 */
let otherTime: number | undefined;
let otherWall = false;
let otherMessage: string | undefined;
let otherFinal = false;
/** only indentation was taken: no stamp yet */
let otherIndent = false;

/**
 * Any prefix of another tool at the start of `s` (first character `c`): the length to strip, else 0;
 * see `otherTime`. `first`: nothing was taken from the line yet; `stamped`: a stamp was; `dated`: a
 * wall-clock date was (logcat -v year columns may follow it).
 */
function otherPrefix(s: string, c: number, first: boolean, stamped: boolean, dated: boolean): number {
  otherTime = undefined;
  otherWall = false;
  otherMessage = undefined;
  otherFinal = false;
  otherIndent = false;
  let m: RegExpExecArray | null;
  if (c === 91 /* [ */) {
    // told apart by the character after '[': "[UFW BLOCK] ..." and the like get no regex
    const c1 = s.charCodeAt(1);
    const blank = c1 === 32;
    if ((blank || isDigit(c1)) && (m = RE_KTIME_DELTA.exec(s))) { otherTime = decimal(m[1]!, m[2]); return m[0].length; }
    if ((blank || c1 === 60 /* < */ || c1 === 43 /* + */ || c1 === 45 /* - */) && (m = RE_DELTA_ONLY.exec(s))) return m[0].length;
    if ((blank || c1 === 84 /* T */ || c1 === 67 /* C */) && stamped && (m = RE_CALLER.exec(s))) return m[0].length;
    const n = wordStamp(s);
    if (n) { otherTime = wordStampTime; otherWall = true; }
    return n;
  }
  if (c === 123 /* { */ || (c === 30 /* json-seq RS */ && s.charCodeAt(1) === 123)) {
    const j = journalJson(s);
    if (!j) return 0;
    otherMessage = j.message;
    otherTime = j.time;
    otherFinal = true;
    return 1;
  }
  if (dated && (c === 32 || isDigit(c)) && (m = RE_LOGCAT_THREAD.exec(s))) { // logcat -v year
    otherMessage = logcatMessage(m[1]!, s.slice(m[0].length));
    return m[0].length;
  }
  if (c === 32 || c === 9) return first ? blankPrefix(s) : 0;
  if (isDigit(c)) return otherDigitPrefix(s);
  if (c === 77 /* M */ && s.startsWith('MESSAGE=')) { otherFinal = true; return 8; } // journalctl -o export
  if (c === 100 /* d */ && s.startsWith('data: {')) return 6; // journalctl -o json-sse
  if (dated && s.charCodeAt(1) === 47 /* / */ && (m = RE_LOGCAT_BRIEF.exec(s))) { // logcat -v year,time
    otherMessage = logcatMessage(m[1]!, s.slice(m[0].length));
    return m[0].length;
  }
  if (!stamped && c >= 65 && mayStartWordDate(s)) return wordDateColumn(s);
  return 0;
}

/**
 * Indented lines that are no indented log lines: journalctl -o verbose "    MESSAGE=...", -o json-pretty
 * '\t"MESSAGE" : "..."', dmesg -J '   "msg": "..."', and the dictionary lines of /dev/kmsg records
 * (" SUBSYSTEM=pci", " DEVICE=+pci:0000:00:02.0"), which carry no message.
 */
function blankPrefix(s: string): number {
  const t = s.trimStart();
  const indent = s.length - t.length;
  otherFinal = true;
  if (indent === 4 && t.startsWith('MESSAGE=')) return indent + 8;
  if (t.charCodeAt(0) === 34 /* " */) {
    const v = t.startsWith('"MESSAGE"') ? jsonValueAt(t, '"MESSAGE"') : t.startsWith('"msg"') ? jsonValueAt(t, '"msg"') : -1;
    const msg = v > 0 && t.charCodeAt(v) === 34 ? jsonString(t, v + 1) : undefined;
    if (msg !== undefined) { otherMessage = msg; return indent; }
  }
  if (indent === 1 && /^ [A-Z_][A-Z0-9_]{0,63}=/.test(s)) { otherMessage = ''; return 1; }
  otherFinal = false;
  // an indented paste of a dated line ("    Jul 23 05:38:28 dom0 kernel: ...", "  [ma mrt 21 ...] ..."):
  // the blanks go with the date, which the next round reads
  if (indent > 16) return 0;
  const c = t.charCodeAt(0);
  const dated = c === 91 ? RE_KTIME_DELTA.test(t) || RE_DELTA_ONLY.test(t) || wordStamp(t) > 0
    : isDigit(c) ? RE_ISO.test(t) || otherDigitPrefix(t) > 0
      : c >= 65 && (RE_SYSLOG.test(t) || (mayStartWordDate(t) && wordDateColumn(t) > 0));
  otherTime = undefined;
  otherWall = false;
  otherMessage = undefined;
  otherIndent = dated;
  return dated ? indent : 0;
}

/**
 * A /dev/kmsg record, RFC 5424 header, logcat or journalctl short-unix line at the start of `s`
 * (which starts with a digit and is no ISO date): the length to strip, else 0.
 */
function otherDigitPrefix(s: string): number {
  let m: RegExpExecArray | null;
  if (s.charCodeAt(1) === 32 && (m = RE_RFC5424.exec(s))) {
    otherTime = wall(Number(m[1]), Number(m[2]) - 1, Number(m[3]), m[4]!, m[5]!, m[6]!, m[7]);
    otherWall = true;
    return m[0].length;
  }
  if ((m = RE_KMSG.exec(s))) { otherTime = usecToSeconds(m[1]!); return m[0].length; }
  if (s.charCodeAt(1) === 120 /* x */ && (m = RE_ADDR_STAMP.exec(s))) { otherTime = decimal(m[1]!, m[2]); return m[0].length; }
  if ((m = RE_LOGCAT.exec(s))) {
    const rest = s.slice(m[0].length);
    const lc = RE_LOGCAT_THREAD.exec(rest) ?? RE_LOGCAT_BRIEF.exec(rest);
    if (!lc) return 0;
    otherTime = wall(1970, Number(m[1]) - 1, Number(m[2]), m[3]!, m[4]!, m[5]!, m[6]);
    otherWall = true;
    otherMessage = logcatMessage(lc[1]!, rest.slice(lc[0].length));
    return m[0].length + lc[0].length;
  }
  if ((m = RE_UNIX_TIME.exec(s))) {
    const rest = s.slice(m[0].length);
    const h = RE_ISO_HOST_PROC.exec(rest);
    const k = h ? h[0].length : kernelColumn(rest);
    if (!k) return 0;
    otherTime = decimal(m[1]!, m[2]);
    otherWall = true;
    return m[0].length + k;
  }
  return 0;
}

/**
 * journalctl's short-full ("Sat 2024-11-21 10:02:03 CET host kernel: ") or its short/short-precise
 * under a non-English LC_TIME ("Dez 08 10:02:17 host kernel: ") at the start of `s`: the length to
 * strip, else 0. `otherTime` gets the wall-clock time when the month is known.
 */
function wordDateColumn(s: string): number {
  otherWall = true;
  let m = RE_SHORT_FULL.exec(s);
  if (m) {
    const rest = s.slice(m[0].length);
    const h = RE_ISO_HOST_PROC.exec(rest);
    const k = h ? h[0].length : kernelColumn(rest);
    if (!k) return 0;
    otherTime = wall(Number(m[1]), Number(m[2]) - 1, Number(m[3]), m[4]!, m[5]!, m[6]!, m[7]);
    return m[0].length + k;
  }
  if (!(m = RE_LOCAL_SYSLOG.exec(s))) return 0;
  const month = monthOf(m[1]!);
  if (month !== undefined) otherTime = wall(1970, month, Number(m[2]), m[3]!, m[4]!, m[5]!, m[6]);
  return m[0].length;
}

/**
 * Take a raw line apart. Unknown leading columns (tool output, line numbers) are tolerated:
 * when no known prefix starts the line, the first "(XEN)" or kernel timestamp within the first
 * 160 characters is taken as the start of the printed text.
 */
export function parseLine(raw: string, line: number): LogLine {
  let s = raw;
  if (s.length && s.charCodeAt(s.length - 1) === 13) s = s.slice(0, -1);
  if (s.indexOf('\x1b') >= 0) s = s.replace(RE_ANSI, '');
  if (s.indexOf('\r') >= 0) s = s.slice(s.lastIndexOf('\r') + 1); // serial consoles redraw lines
  let host: Host = 'linux';
  let time: number | undefined;
  let wallTime: number | undefined;
  let xenDomain: number | undefined;
  /** a stamp without a time of its own was taken (dmesg reltime or delta, a date with an unknown month) */
  let bare = false;

  for (let guard = 0; guard < 8; guard++) {
    let m: RegExpExecArray | null;
    let n: number;
    const c = s.charCodeAt(0);
    if (guard === 0 && (c === 32 || c === 9)) {
      // an indented paste of a stamped line ("  [Fri Jul 19 10:00:00 2024] ..."): the blanks go with the stamp
      const t = s.trimStart();
      if (t.length >= s.length - 16 && t.charCodeAt(0) === 91 && (RE_KTIME.test(t) || RE_CTIME.test(t))) { s = t; continue; }
    }
    if (c === 60 /* < */ && (n = printkLevel(s))) { s = s.slice(n); continue; }
    if (c === 91 /* [ */) {
      if ((n = kernelStamp(s)) > 0) { time = stampTime; s = s.slice(n); continue; }
      if (n < 0 && (m = RE_KTIME.exec(s))) { time = decimal(m[1]!, m[2]); s = s.slice(m[0].length); continue; }
      if ((m = RE_CTIME.exec(s))) { wallTime = wall(Number(m[7]), MONTHS[m[1]!]!, Number(m[2]), m[3]!, m[4]!, m[5]!, m[6]); s = s.slice(m[0].length); continue; }
    }
    if (c === 40 /* ( */) {
      if ((m = RE_XEN.exec(s))) {
        host = 'xen';
        s = s.slice(m[0].length);
        const t = RE_XEN_TIME.exec(s);
        if (t) {
          if (t[8] !== undefined) time = decimal(t[8]!, t[9]);
          else wallTime = wall(Number(t[1]), Number(t[2]) - 1, Number(t[3]), t[4]!, t[5]!, t[6]!, t[7]);
          s = s.slice(t[0].length);
        }
        continue;
      }
      if ((m = RE_GUEST.exec(s))) { xenDomain = Number(m[1]); s = s.slice(m[0].length); continue; }
    }
    // RE_SYSLOG needs a month name and a space at index 3 ("Nov 06"): most messages fail that early.
    if (c >= 65 && c <= 83 && s.charCodeAt(3) === 32 && (m = RE_SYSLOG.exec(s))) {
      wallTime = wall(1970, MONTHS[m[1]!]!, Number(m[2]), m[3]!, m[4]!, m[5]!, m[6]);
      s = s.slice(m[0].length);
      continue;
    }
    if (c >= 48 && c <= 57 && (m = RE_ISO.exec(s))) {
      wallTime = wall(Number(m[1]), Number(m[2]) - 1, Number(m[3]), m[4]!, m[5]!, m[6]!, m[8]);
      s = s.slice(m[0].length);
      const h = m[7] === ',' ? null : RE_ISO_HOST_PROC.exec(s);
      if (h) s = s.slice(h[0].length);
      continue;
    }
    if (c >= 97 && c <= 117 && (m = RE_DMESG_X.exec(s))) { s = s.slice(m[0].length); continue; }
    if ((n = kernelColumn(s))) { s = s.slice(n); continue; }
    // All other tools' prefixes in one call, made only for lines that may hold one: messages start
    // with a letter, and a word date (the one prefix starting with any letter) only opens a line.
    const stamped = time !== undefined || wallTime !== undefined || bare;
    if ((c < 65 || c === 91 || c > 122 || c === 77 || c === 100 || (s.charCodeAt(1) === 47 /* / */ && wallTime !== undefined)
      || (!stamped && mayStartWordDate(s))) && (n = otherPrefix(s, c, guard === 0, stamped, wallTime !== undefined)) > 0) {
      if (otherTime === undefined) bare ||= !otherIndent;
      else if (otherWall) wallTime = otherTime;
      else time = otherTime;
      s = otherMessage ?? s.slice(n);
      if (otherFinal) break;
      continue;
    }
    break;
  }

  if (time === undefined && wallTime === undefined && host === 'linux') {
    // Extra tool columns in front: find a kernel timestamp or (XEN) further in.
    const head = s.length > 160 ? s.slice(0, 160) : s;
    const x = head.indexOf('(XEN)');
    const k = head.search(/\[\s{0,12}\d{1,10}\.\d{1,9}\]/);
    if (x >= 0 && (k < 0 || x < k)) return { ...parseLine(s.slice(x), line), raw };
    if (k > 0) {
      const m = RE_KTIME.exec(s.slice(k));
      if (m) { time = decimal(m[1]!, m[2]); s = s.slice(k + m[0].length); }
    }
  }
  const out: LogLine = { line, raw, message: s, host };
  const t = time ?? wallTime;
  if (t !== undefined) out.time = t;
  if (xenDomain !== undefined) out.xenDomain = xenDomain;
  return out;
}

