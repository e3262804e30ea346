/**
 * Byte offsets of every EVERY-th line of a log file, noted while the background scan reads it,
 * so one line of a multi-GB log (which VS Code never hands to extensions) is read by seeking
 * near it and reading at most EVERY lines, never the file from its start.
 */
export const EVERY = 256;

export class SparseLineIndex {
  /** offsets[k] = byte offset of 1-based line k*EVERY + 1 */
  private readonly offsets: number[] = [0];
  /** lines in the file, once the scan has finished */
  lineCount: number | undefined;

  constructor(readonly path: string, readonly size: number, readonly mtimeMs: number) {}

  /** Called by the scan for the start of each line (1-based), in order. */
  noteLineStart(line: number, offset: number): void {
    if ((line - 1) % EVERY === 0 && (line - 1) / EVERY === this.offsets.length) this.offsets.push(offset);
  }

  /** The indexed line at or before `line` (1-based) and its byte offset. */
  seek(line: number): { line: number; offset: number } {
    const k = Math.min(this.offsets.length - 1, Math.max(0, Math.floor((line - 1) / EVERY)));
    return { line: k * EVERY + 1, offset: this.offsets[k]! };
  }

  /** Lines up to which seek() lands within EVERY lines of its target. */
  get indexedLines(): number {
    return this.offsets.length * EVERY;
  }
}
