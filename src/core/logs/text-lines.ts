/**
 * Calls `fn` for each line of a text held in memory, numbered from 1 as editors number them;
 * a final newline does not start another line. Returns the number of lines.
 */
export function forEachLine(text: string, fn: (line: string, lineNo: number) => void): number {
  let lineNo = 0;
  let start = 0;
  while (start < text.length) {
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = text.length;
    fn(text.slice(start, nl), ++lineNo);
    start = nl + 1;
  }
  return lineNo;
}
