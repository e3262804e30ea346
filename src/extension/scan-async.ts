/**
 * Scans a log file from disk without blocking the extension host: chunks are read with
 * promises and the loop yields between chunks, so hovers and the UI stay responsive while a
 * multi-GB storm log is read. Memory is bounded by the chunk size plus the longest line kept.
 * Lines are decoded as latin1 like the CLI's reader, so byte offsets never split a character.
 */
import { open } from 'node:fs/promises';
import { Scanner } from '../core/logs/scanner';
import type { FaultRecord } from '../core/logs/record';
import type { SparseLineIndex } from './line-index';

const CHUNK = 1 << 20;

export interface AsyncScanProgress {
  bytes: number;
  size: number;
  lines: number;
}

export interface AsyncScanOptions {
  file?: string;
  maxLine?: number;
  /** checked between chunks; when true the scan stops and resolves with what it read */
  cancelled?: () => boolean;
  /** called after every chunk */
  progress?: (p: AsyncScanProgress) => void;
  /** receives the byte offset of every line start (hovers on files too large for the editor) */
  index?: SparseLineIndex;
  /** a scanner to feed instead of a plain one calling `emit` (the report's LogAnalyzer) */
  scanner?: Scanner;
  /** 'utf8' reads like the CLI's report; default latin1 like its scan */
  encoding?: 'latin1' | 'utf8';
}

export interface AsyncScanResult extends AsyncScanProgress {
  cancelled: boolean;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function scanFileAsync(path: string, emit: (r: FaultRecord) => void, opts: AsyncScanOptions = {}): Promise<AsyncScanResult> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const scanner = opts.scanner ?? new Scanner(emit, { file: opts.file ?? path });
    // A line is cut at a newline byte, which never occurs inside a UTF-8 sequence: either
    // decoding keeps byte offsets exact.
    const enc = opts.encoding ?? 'latin1';
    const maxLine = opts.maxLine ?? 64 * 1024;
    let buf = Buffer.allocUnsafe(CHUNK + maxLine);
    let carry = 0;
    let lines = 0;
    let bytes = 0;
    let skipping = false; // inside an over-long line whose head was already scanned
    let base = 0; // file offset of buf[0]
    const index = opts.index;
    for (;;) {
      if (opts.cancelled?.()) return { bytes, size, lines, cancelled: true };
      const { bytesRead: n } = await fh.read(buf, carry, CHUNK, null);
      bytes += n;
      const end = carry + n;
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl < 0 || nl >= end) break;
        // The end of an over-long line: counted when its head was scanned.
        if (skipping) skipping = false;
        else {
          lines++;
          index?.noteLineStart(lines, base + start);
          scanner.push(buf.toString(enc, start, nl), lines);
        }
        start = nl + 1;
      }
      if (n === 0) {
        if (start < end && !skipping) { lines++; index?.noteLineStart(lines, base + start); scanner.push(buf.toString(enc, start, end), lines); }
        break;
      }
      carry = end - start;
      if (carry > maxLine) {
        if (!skipping) { lines++; index?.noteLineStart(lines, base + start); scanner.push(buf.toString(enc, start, start + maxLine), lines); skipping = true; }
        carry = 0;
        base += end;
      } else {
        if (carry > 0) buf.copy(buf, 0, start, end);
        base += start;
      }
      if (buf.length < carry + CHUNK) { const b = Buffer.allocUnsafe(carry + CHUNK); buf.copy(b, 0, 0, carry); buf = b; }
      opts.progress?.({ bytes, size, lines });
      await yieldToEventLoop();
    }
    scanner.end();
    if (index) index.lineCount = lines;
    return { bytes, size, lines, cancelled: false };
  } finally {
    await fh.close();
  }
}
