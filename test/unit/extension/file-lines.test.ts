import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { scanFileAsync } from '../../../src/extension/scan-async';
import { SparseLineIndex, EVERY } from '../../../src/extension/line-index';
import { readIndexedLines } from '../../../src/extension/file-lines';
import type { FaultRecord } from '../../../src/core/logs/record';

// Lines of varied length (some over the 64 KiB scan limit, some CRLF, an empty one), a fault
// print every 97 lines: what the background scan indexes and the hover reads back.
function lineText(i: number): string {
  if (i % 97 === 0) return `[ ${(1000 + i / 1000).toFixed(6)}] AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:02:00.0 domain=0x0017 address=0x${(0x10000 + i * 0x1000).toString(16)} flags=0x0010]`;
  if (i === 3001) return 'x'.repeat(70 * 1024); // longer than the scan's 64 KiB line limit
  if (i === 5) return '';
  return `noise line ${i} ${'.'.repeat(i % 300)}`;
}

let dir: string;
let file: string;
const N = 9000;
const lines: string[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'iommu-lens-lines-'));
  file = join(dir, 'big.log');
  for (let i = 1; i <= N; i++) lines.push(lineText(i));
  // CRLF on some lines, no newline after the last one.
  writeFileSync(file, lines.map((l, k) => l + (k === N - 1 ? '' : k % 10 === 0 ? '\r\n' : '\n')).join(''));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function indexed(): Promise<{ index: SparseLineIndex; records: FaultRecord[]; lineCount: number }> {
  const st = statSync(file);
  const index = new SparseLineIndex(file, st.size, st.mtimeMs);
  const records: FaultRecord[] = [];
  const res = await scanFileAsync(file, (r) => records.push(r), { index });
  return { index, records, lineCount: res.lines };
}

describe('line index of the background scan + readIndexedLines', () => {
  it('counts every line once, including one longer than the scan limit', async () => {
    const { index, records, lineCount } = await indexed();
    expect(lineCount).toBe(N);
    expect(index.lineCount).toBe(N);
    // Record line numbers after the over-long line 3001 are not shifted.
    const after = records.filter((r) => r.line > 3001);
    expect(after[0]!.line).toBe(3007); // 97 * 31
    expect(after.every((r) => r.line % 97 === 0)).toBe(true);
    expect(index.indexedLines).toBeGreaterThanOrEqual(N - EVERY);
  });

  it('reads back exactly the lines of the file anywhere in it', async () => {
    const { index } = await indexed();
    const expectLine = (n: number) => { const t = lines[n - 1]!; return t.length > 64 * 1024 ? t.slice(0, 64 * 1024) : t; };
    for (const [from, to] of [[1, 1], [1, 25], [250, 270], [256, 257], [2990, 3010], [4097, 4121], [8990, 9000], [N, N]] as const) {
      const got = readIndexedLines(index, from, to);
      expect(got.length).toBe(to - from + 1);
      got.forEach((t, k) => expect(t).toBe(expectLine(from + k)));
    }
    // Past the end: only what exists.
    expect(readIndexedLines(index, N - 1, N + 20)).toEqual([expectLine(N - 1), expectLine(N)]);
    expect(readIndexedLines(index, N + 1, N + 5)).toEqual([]);
    expect(readIndexedLines(index, 0, 3)).toEqual([]);
  });

  it('reads a fault line of the file as the scan saw it', async () => {
    const { index, records } = await indexed();
    const r = records[40]!;
    const [text] = readIndexedLines(index, r.line, r.line);
    expect(text).toContain('IO_PAGE_FAULT');
    expect(text).toContain(r.iova!.replace(/^0x0*/, ''));
  });
});
