/** Normalisers shared by the log families, so every family prints identifiers the same way. */

/** Parse a hex string with or without 0x; undefined when it is not hex. */
export function parseHex(s: string | undefined): bigint | undefined {
  if (s === undefined) return undefined;
  const t = s.trim().replace(/^0x/i, '');
  if (t.length === 0 || t.length > 32 || !/^[0-9a-fA-F]+$/.test(t)) return undefined;
  return BigInt('0x' + t);
}

/** Lowercase hex with 0x, no leading zeros ("0x0" for zero). Accepts hex text (with or without 0x), numbers or bigints. */
export function hex(v: string | number | bigint | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') {
    const b = parseHex(v);
    return b === undefined ? undefined : '0x' + b.toString(16);
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

/** normalizeBdf's answers ('' = not a BDF), keyed by the printed text. */
const bdfCache = new Map<string, string>();

/**
 * PCI address to DDDD:BB:DD.F. Accepts "0000:00:02.0", "00:02.0", "0:2.0" style and
 * "[0000:00:02.0]". Returns undefined when the text is not a PCI address.
 */
export function normalizeBdf(s: string | undefined): string | undefined {
  if (!s) return undefined;
  // Fault storms name the same few devices over and over: remember recent answers (bounded).
  const hit = bdfCache.get(s);
  if (hit !== undefined) return hit || undefined;
  const m = /^\[?(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])\]?$/.exec(s.trim());
  let out = '';
  if (m) {
    const seg = (m[1] ?? '0').toLowerCase().padStart(4, '0');
    const bus = m[2]!.toLowerCase().padStart(2, '0');
    const dev = m[3]!.toLowerCase().padStart(2, '0');
    out = `${seg}:${bus}:${dev}.${m[4]}`;
  }
  if (s.length <= 64) {
    if (bdfCache.size >= 4096) bdfCache.clear();
    bdfCache.set(s, out);
  }
  return out || undefined;
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
