/** Normalisers shared by the log families, so every family prints identifiers the same way. */

/** 1 for the codes of [0-9a-fA-F], else 0 (a table: this runs several times per record). */
const HEX_DIGIT = new Uint8Array(128);
for (const c of '0123456789abcdefABCDEF') HEX_DIGIT[c.charCodeAt(0)] = 1;

/**
 * The hex digits of `s` (trimmed, one 0x/0X dropped) when they are 1 to 32 hex digits, else
 * undefined. Hand-written rather than a regex: it is on every record's path.
 */
function hexDigits(s: string): string | undefined {
  const t = s.trim();
  const from = t.length >= 2 && t.charCodeAt(0) === 48 && (t.charCodeAt(1) | 0x20) === 120 ? 2 : 0;
  const n = t.length - from;
  if (n === 0 || n > 32) return undefined;
  for (let i = from; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c >= 128 || HEX_DIGIT[c] === 0) return undefined;
  }
  return from ? t.slice(from) : t;
}

/** Parse a hex string with or without 0x; undefined when it is not hex. */
export function parseHex(s: string | undefined): bigint | undefined {
  if (s === undefined) return undefined;
  const t = hexDigits(s);
  return t === undefined ? undefined : BigInt('0x' + t);
}

/** Lowercase hex with 0x, no leading zeros ("0x0" for zero). Accepts hex text (with or without 0x), numbers or bigints. */
export function hex(v: string | number | bigint | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') {
    // the canonical text straight from the digits, without a round trip through a bigint
    const t = hexDigits(v);
    if (t === undefined) return undefined;
    let z = 0;
    while (z < t.length - 1 && t.charCodeAt(z) === 48) z++;
    return '0x' + (z ? t.slice(z) : t).toLowerCase();
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return undefined;
    return '0x' + Math.trunc(v).toString(16);
  }
  return v < 0n ? undefined : '0x' + v.toString(16);
}

/** Decimal text to hex form ("256" -> "0x100"). */
export function decToHex(s: string | undefined): string | undefined {
  if (s === undefined || !/^\d{1,20}$/.test(s)) return undefined;
  return '0x' + BigInt(s).toString(16);
}

/** True when t[from, to) is 1 to `max` hex digits. */
function isHexRun(t: string, from: number, to: number, max: number): boolean {
  if (to <= from || to - from > max) return false;
  for (let i = from; i < to; i++) {
    const c = t.charCodeAt(i);
    if (c >= 128 || HEX_DIGIT[c] === 0) return false;
  }
  return true;
}

/** 1 for the codes of [0-9a-f] (lowercase only). */
const LOWER_HEX_DIGIT = new Uint8Array(128);
for (const c of '0123456789abcdef') LOWER_HEX_DIGIT[c.charCodeAt(0)] = 1;

/**
 * True when `s` is "dddd:bb:dd.f" in lowercase hex, or with `skip` = 5 its "bb:dd.f" end
 * (s then starts at what would be index 5).
 */
function isCanonicalBdf(s: string, skip: number): boolean {
  for (let i = skip; i < 12; i++) {
    const c = s.charCodeAt(i - skip);
    if (i === 4 || i === 7) { if (c !== 58) return false; } // ':'
    else if (i === 10) { if (c !== 46) return false; } // '.'
    else if (i === 11) { if (c < 48 || c > 55) return false; } // [0-7]
    else if (c >= 128 || LOWER_HEX_DIGIT[c] === 0) return false;
  }
  return true;
}

/**
 * PCI address to DDDD:BB:DD.F. Accepts "0000:00:02.0", "00:02.0", "0:2.0" style and
 * "[0000:00:02.0]". Returns undefined when the text is not a PCI address.
 */
export function normalizeBdf(s: string | undefined): string | undefined {
  if (!s) return undefined;
  // most prints already spell it the canonical way (the answer is the text itself)
  if (s.length === 12 && isCanonicalBdf(s, 0)) return s;
  if (s.length === 7 && isCanonicalBdf(s, 5)) return '0000:' + s;
  // Hand-written: every fault record names a device. The accepted language is exactly
  // /^\[?(?:(H{1,4}):)?(H{1,2}):(H{1,2})\.([0-7])\]?$/ (H = hex digit) on the trimmed text:
  // a bracket can only be the optional one, and the number of colons says whether a segment is present.
  const t = s.trim();
  let from = t.charCodeAt(0) === 91 ? 1 : 0; // '['
  let to = t.charCodeAt(t.length - 1) === 93 ? t.length - 1 : t.length; // ']'
  if (to - from < 5) return undefined;
  const fn = t.charCodeAt(to - 1);
  if (fn < 48 || fn > 55 || t.charCodeAt(to - 2) !== 46) return undefined; // [0-7] after '.'
  to -= 2;
  const c2 = t.lastIndexOf(':', to - 1);
  if (c2 < from) return undefined;
  const c1 = t.lastIndexOf(':', c2 - 1);
  let seg = '0';
  if (c1 >= from) {
    if (!isHexRun(t, from, c1, 4)) return undefined;
    seg = t.slice(from, c1);
    from = c1 + 1;
  }
  if (!isHexRun(t, from, c2, 2) || !isHexRun(t, c2 + 1, to, 2)) return undefined;
  const bus = t.slice(from, c2);
  const dev = t.slice(c2 + 1, to);
  return `${seg.toLowerCase().padStart(4, '0')}:${bus.toLowerCase().padStart(2, '0')}:${dev.toLowerCase().padStart(2, '0')}.${t[to + 1]}`;
}

/** BDF from a 16-bit requester/device ID (bus<<8 | dev<<3 | fn) and optional segment. */
export function bdfFromId(id: number, segment = 0): string {
  const bus = (id >> 8) & 0xff;
  const dev = (id >> 3) & 0x1f;
  const fn = id & 7;
  return `${segment.toString(16).padStart(4, '0')}:${bus.toString(16).padStart(2, '0')}:${dev.toString(16).padStart(2, '0')}.${fn}`;
}

/** Join access kinds in the contract's order. */
export function accessOf(kinds: { read?: boolean; write?: boolean; exec?: boolean }): string | undefined {
  const parts: string[] = [];
  if (kinds.read) parts.push('read');
  if (kinds.write) parts.push('write');
  if (kinds.exec) parts.push('exec');
  return parts.length ? parts.join('+') : undefined;
}
