/**
 * A small printf for building log lines from the exact C format strings of the drivers, so a
 * test line is what the kernel or Xen would print (flags, widths, %#x of zero as "0x0" like
 * Linux/Xen printk, %pp/%pad/%pa taken as preformatted text).
 */
export function cprintf(fmt: string, ...args: (number | bigint | string)[]): string {
  let i = 0;
  return fmt.replace(/%(%|([#0-]*)(\d*)(?:ll|l|h|hh|z)?([xXdusc]|p[pa]d?))/g, (_m, all: string, flags: string, width: string, conv: string) => {
    if (all === '%') return '%';
    const a = args[i++];
    if (a === undefined) throw new Error(`cprintf: missing argument for ${fmt}`);
    let s: string;
    if (conv === 's' || conv === 'c' || conv.startsWith('p')) s = String(a);
    else if (conv === 'd' || conv === 'u') s = BigInt(a).toString(10);
    else s = BigInt(a).toString(16);
    if (conv === 'X') s = s.toUpperCase();
    const alt = flags.includes('#') && (conv === 'x' || conv === 'X');
    const w = width ? Number(width) : 0;
    if (alt) {
      const body = flags.includes('0') ? s.padStart(Math.max(0, w - 2), '0') : s;
      s = '0x' + body;
    } else if (flags.includes('0')) s = s.padStart(w, '0');
    return flags.includes('-') ? s.padEnd(w) : s.padStart(w);
  });
}
