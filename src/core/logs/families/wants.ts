/**
 * Continuation.wants for a record that only takes lines holding `needle` (its device name, its
 * dump's heading). The message a continuation reads is the raw line minus its prefixes and ANSI
 * codes, so a raw line without the needle (and without ANSI codes, which could split it) is one
 * that feed() would skip.
 */
export function rawMayHold(raw: string, needle: string): boolean {
  return raw.includes(needle) || raw.includes('\x1b');
}
