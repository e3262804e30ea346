/**
 * Scans a log file from disk without blocking the extension host: chunks are read with
 * promises and the loop yields between chunks, so hovers and the UI stay responsive while a
 * multi-GB storm log is read. Memory is bounded by the chunk size plus the longest line kept.
 * Lines are decoded as latin1 like the CLI's reader, so byte offsets never split a character.
 */
import { open } from 'node:fs/promises';
import { Scanner } from '../core/logs/scanner';
import { inputFormat, InputError, textChunks, type InputFormat } from '../node/input-format';
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
  /** what the file holds, when the caller has already looked */
  format?: InputFormat;
}

export interface AsyncScanResult extends AsyncScanProgress {
  cancelled: boolean;
  /** what the file held: compressed and UTF-16 logs are read through input-format.ts (no line index) */
  format: InputFormat;
  /** the input broke off (a truncated archive): everything before it was scanned */
  error?: string;
}

/** Reads up to `len` bytes into `buf` at `off`; 0 at the end. */
type Read = (buf: Buffer, off: number, len: number) => Promise<number>;

/** A Read over the decompressed/transcoded chunks of a file, filling whole requests where it can. */
function chunkReader(chunks: AsyncIterator<Uint8Array>): Read {
  let cur: Uint8Array | undefined;
  let at = 0;
  let failed: unknown;
  return async (buf, off, len) => {
    let done = 0;
    if (failed) throw failed;
    while (done < len) {
      if (!cur || at >= cur.length) {
        let n: IteratorResult<Uint8Array>;
        try {
          n = await chunks.next();
        } catch (e) {
          // hand over the bytes already copied; the error comes with the next read
          if (!done) throw e;
          failed = e;
          break;
        }
        if (n.done) break;
        cur = n.value;
        at = 0;
      }
      const k = Math.min(len - done, cur.length - at);
      buf.set(cur.subarray(at, at + k), off + done);
      at += k;
      done += k;
    }
    return done;
  };
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function scanFileAsync(path: string, emit: (r: FaultRecord) => void, opts: AsyncScanOptions = {}): Promise<AsyncScanResult> {
  const format = opts.format ?? inputFormat(path);
  const fh = await open(path, 'r');
  let error: string | undefined;
  try {
    const size = (await fh.stat()).size;
    const chunks = format === 'text' ? undefined : textChunks(path, format);
    const pull: Read = chunks ? chunkReader(chunks) : async (b, off, len) => (await fh.read(b, off, len, null)).bytesRead;
    const read: Read = async (b, off, len) => {
      try {
        return await pull(b, off, len);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        error = e.message; // what came before is scanned as if the log ended here
        return 0;
      }
    };
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
    // Byte offsets of a decompressed stream are not offsets in the file.
    const index = chunks ? undefined : opts.index;
    for (;;) {
      if (opts.cancelled?.()) { await chunks?.return(undefined); return { bytes, size, lines, cancelled: true, format }; }
      const n = await read(buf, carry, CHUNK);
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
    return { bytes, size, lines, cancelled: false, format, ...(error ? { error } : {}) };
  } finally {
    await fh.close();
  }
}
