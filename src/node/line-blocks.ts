/**
 * Cuts a byte stream into blocks of whole lines for a block scanner (scanBytes / scanBlock), with
 * bounded memory: one buffer of `block + maxLine` bytes, whatever the input. A line longer than
 * `maxLine` is scanned by its head and the rest of it, up to its newline, is dropped, so that a file
 * without newlines (or a blob pasted into a log) cannot exhaust memory.
 *
 * Two ways in: `at`/`commit` for readers that write straight into the buffer (readSync on a file,
 * no copy), and `feed` for chunks that arrive from a stream (decompressors, transcoders).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { Scanner } from '../core/logs/scanner';
import { keyFinder, keyMatcher, scanBlock, scanBytes, type ChunkScanResult } from '../core/logs/chunk-scan';

export const BLOCK = 4 << 20;
export const MAX_LINE = 1 << 20;

/** Scans buf[0, end) (whole lines, the last one possibly unterminated) whose first line is `firstLine`. */
export type BlockScan = (end: number, firstLine: number) => ChunkScanResult;

export class LineBlocks {
  /** lines scanned so far */
  lines = 0;
  /** bytes taken in so far */
  bytes = 0;
  /** bytes at the front of the buffer: the unfinished last line of what came before */
  private carry = 0;
  /** bytes fed after `carry` and not processed yet (feed only) */
  private pending = 0;
  /** dropping the tail of an over-long line up to its newline */
  private skipping = false;

  constructor(
    readonly buf: Buffer,
    private readonly scan: BlockScan,
    readonly block = BLOCK,
    private readonly maxLine = MAX_LINE,
  ) {
    if (buf.length < block + maxLine) throw new Error('LineBlocks: the buffer must hold a block and a line');
  }

  /** Where a reader writes its next bytes; `block` bytes of room are always there. */
  get at(): number {
    return this.carry;
  }

  /** `n` bytes were written at `at`: scan every whole line there is. */
  commit(n: number): void {
    this.bytes += n;
    const buf = this.buf;
    let end = this.carry + n;
    if (this.skipping) {
      const nl = buf.subarray(0, end).indexOf(10);
      if (nl < 0) { this.carry = 0; return; }
      this.skipping = false;
      buf.copy(buf, 0, nl + 1, end);
      end -= nl + 1;
    }
    const lastNl = end > 0 ? buf.lastIndexOf(10, end - 1) : -1;
    const cut = lastNl + 1;
    if (cut > 0) this.lines += this.scan(cut, this.lines + 1).lines;
    this.carry = end - cut;
    if (this.carry > 0) buf.copy(buf, 0, cut, end);
    // The unfinished line is already over-long: scan its head as a line, drop the rest of it.
    if (this.carry > this.maxLine) this.cutOverlong();
  }

  /** Copy a chunk in (streams); lines are scanned a block at a time. */
  feed(chunk: Uint8Array): void {
    let o = 0;
    while (o < chunk.length) {
      const k = Math.min(this.block - this.pending, chunk.length - o);
      this.buf.set(chunk.subarray(o, o + k), this.carry + this.pending);
      this.pending += k;
      o += k;
      if (this.pending === this.block) this.flushPending();
    }
  }

  /** End of input: scan the last, unterminated line. */
  end(): void {
    this.flushPending();
    if (this.carry > 0) {
      this.lines += this.scan(this.carry, this.lines + 1).lines;
      this.carry = 0;
    }
  }

  private flushPending(): void {
    const n = this.pending;
    this.pending = 0;
    if (n > 0) this.commit(n);
  }

  private cutOverlong(): void {
    this.lines += this.scan(this.carry, this.lines + 1).lines;
    this.carry = 0;
    this.skipping = true;
  }
}

/**
 * A buffer and a block scan feeding `scanner`: with WebAssembly SIMD the buffer lives in the key
 * finder's memory and only candidate lines are decoded; else one regex over each block's text.
 * `keys` are the finder's keys (the scanner's own key list, so that the finder names each line's keys).
 */
export function blockScanFor(scanner: Scanner, opts: { keys?: readonly string[]; simd?: boolean; maxLine?: number } = {}): { buf: Buffer; scan: BlockScan } {
  const size = BLOCK + (opts.maxLine ?? MAX_LINE);
  const finder = opts.simd === false ? undefined : keyFinder(opts.keys);
  if (finder) {
    const buf = bufferIn(finder.buffer(size));
    const decode = (s: number, e: number) => buf.toString('utf8', s, e);
    return { buf, scan: (end, firstLine) => scanBytes(buf, 0, end, scanner, finder, firstLine, decode) };
  }
  const matcher = keyMatcher(opts.keys);
  const buf = Buffer.allocUnsafe(size);
  return { buf, scan: (end, firstLine) => scanBlock(buf.toString('utf8', 0, end), scanner, matcher, firstLine) };
}

/** A Buffer over the same bytes (no copy), for Buffer's native indexOf/toString. */
export function bufferIn(view: Uint8Array): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** What `-` names on the command line: standard input. */
export const STDIN = '/dev/stdin';

/**
 * A file to read with readSync. Standard input is used as the descriptor it is: opening
 * /dev/stdin fails when it is a socket (what Node's child_process and some service managers hand
 * over), and a non-blocking descriptor answers EAGAIN until data comes.
 */
export class Input {
  readonly fd: number;
  private readonly own: boolean;
  constructor(readonly path: string) {
    this.own = path !== STDIN;
    this.fd = this.own ? openSync(path, 'r') : 0;
  }

  /** readSync at the current position, waiting out EAGAIN. */
  read(buf: Uint8Array, off: number, len: number): number {
    for (;;) {
      try {
        return readSync(this.fd, buf, off, len, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        Atomics.wait(PAUSE, 0, 0, 5);
      }
    }
  }

  close(): void {
    if (this.own) closeSync(this.fd);
  }
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));
