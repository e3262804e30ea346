/**
 * Streams a log file from disk through the scanner on the calling thread, with bounded memory:
 * the file is read in blocks of complete lines and only candidate lines become strings.
 * (parallel-scan.ts does the same on worker threads for large files; input-format.ts turns
 * compressed and UTF-16 logs into the same byte stream.)
 */
import { Scanner } from '../core/logs/scanner';
import type { FaultRecord } from '../core/logs/record';
import { Input, LineBlocks, blockScanFor, bufferIn } from './line-blocks';
import { inputFormat, textChunks, type InputFormat } from './input-format';

export { bufferIn };

export interface FileScanStats {
  lines: number;
  bytes: number;
}

export interface FileScanOptions {
  file?: string;
  /** a line longer than this many bytes is cut (its head is still scanned) */
  maxLine?: number;
  /** bytes read so far after each block; false stops the scan */
  onProgress?: (bytes: number) => boolean | void;
  /** false: the regex path (tests) */
  simd?: boolean;
  /** what the file holds, when the caller has already looked (scanAnyFile) */
  format?: InputFormat;
}

/** Scan `path` (plain text), calling `emit` for each record in log order. */
export function scanFileSync(path: string, emit: (r: FaultRecord) => void, opts: FileScanOptions = {}): FileScanStats {
  const input = new Input(path);
  try {
    const scanner = new Scanner(emit, { file: opts.file ?? path });
    const { buf, scan } = blockScanFor(scanner, opts);
    const blocks = new LineBlocks(buf, scan, undefined, opts.maxLine);
    for (;;) {
      const n = input.read(buf, blocks.at, blocks.block);
      if (n === 0) break;
      blocks.commit(n);
      if (opts.onProgress?.(blocks.bytes) === false) break;
    }
    blocks.end();
    scanner.end();
    return { lines: blocks.lines, bytes: blocks.bytes };
  } finally {
    input.close();
  }
}

/**
 * Scan `path` whatever it holds: plain text on this thread as scanFileSync does, gzip, xz, zstd
 * and bzip2 logs (rotated kern.log.2.gz) decompressed as they stream, UTF-16 text (a PowerShell
 * redirect) transcoded. A stream that breaks off (a truncated archive) rejects with an error
 * naming the file, after every record of what was read has been emitted.
 */
export async function scanAnyFile(path: string, emit: (r: FaultRecord) => void, opts: FileScanOptions = {}): Promise<FileScanStats> {
  const format = opts.format ?? inputFormat(path);
  if (format === 'text') return scanFileSync(path, emit, opts);
  const scanner = new Scanner(emit, { file: opts.file ?? path });
  const { buf, scan } = blockScanFor(scanner, opts);
  const blocks = new LineBlocks(buf, scan, undefined, opts.maxLine);
  try {
    for await (const chunk of textChunks(path, format)) blocks.feed(chunk);
  } finally {
    // what was read before a broken stream is scanned and its records emitted
    blocks.end();
    scanner.end();
  }
  return { lines: blocks.lines, bytes: blocks.bytes };
}
