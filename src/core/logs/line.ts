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

function frac(s: string | undefined): number {
  return s ? Number('0.' + s) : 0;
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
 * The value equals `Number(int) + Number('0.' + fraction)`: the integer part (at most 10 digits) is
 * exact, and so are the fraction's digits F (< 1e9) and 10^k; IEEE division rounds F / 10^k
 * correctly, which is what parsing the decimal '0.F' must give.
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
  c = s.charCodeAt(++i);
  if (c === 32) i++;
  else if (mayBeOtherSpace(c)) return -1;
  stampTime = whole + f / POW10[k]!;
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
  return Date.UTC(year, month, day, Number(h), Number(m), Number(s)) / 1000 + frac(f);
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
      if (n < 0 && (m = RE_KTIME.exec(s))) { time = Number(m[1]) + frac(m[2]); s = s.slice(m[0].length); continue; }
      if ((m = RE_CTIME.exec(s))) { wallTime = wall(Number(m[7]), MONTHS[m[1]!]!, Number(m[2]), m[3]!, m[4]!, m[5]!, m[6]); s = s.slice(m[0].length); continue; }
    }
    if (c === 40 /* ( */) {
      if ((m = RE_XEN.exec(s))) {
        host = 'xen';
        s = s.slice(m[0].length);
        const t = RE_XEN_TIME.exec(s);
        if (t) {
          if (t[8] !== undefined) time = Number(t[8]) + frac(t[9]);
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
      if (m) { time = Number(m[1]) + frac(m[2]); s = s.slice(k + m[0].length); }
    }
  }
  const out: LogLine = { line, raw, message: s, host };
  const t = time ?? wallTime;
  if (t !== undefined) out.time = t;
  if (xenDomain !== undefined) out.xenDomain = xenDomain;
  return out;
}

