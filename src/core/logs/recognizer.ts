/**
 * The contract between the scanner and one log family. Each family lives in
 * `families/<name>.ts` and is listed once in `families/index.ts`.
 */
import type { LogLine } from './line';
import type { FaultRecord } from './record';

/** What a continuation says about a later line it was offered. */
export type Feed =
  /** the line belongs to the record and more may follow */
  | 'more'
  /** the line belongs to the record and completes it */
  | 'done'
  /** not this record's line; keep waiting (another device's print interleaved) */
  | 'skip'
  /** not this record's line, and the record is complete: the line goes on to recognition */
  | 'end';

/**
 * A record that may continue on later lines (SMMUv2 6.11+ three-line print, SMMUv3 raw event
 * dwords, Xen's two-line VT-d print, AMD-Vi multi-line dumps). The scanner offers it every later
 * line (keyed or not) until it answers 'done' or 'end', or `window` lines have passed.
 * A consumed line updates the record in place; the scanner sets `endLine`.
 */
export interface Continuation {
  /** how many lines after the last consumed one the record stays open */
  window: number;
  feed(line: LogLine): Feed;
  /** called once when the record closes, for fields only known at the end (decoding raw dwords) */
  finish?(): void;
  /**
   * A cheap test of a raw line (a substring check): false promises that `feed` would answer
   * 'skip' without changing anything, so the scanner neither parses the line nor offers it.
   * Records stay open over many unrelated lines (a window of 6 over a busy log), and most lines
   * offered are someone else's.
   */
  wants?(raw: string): boolean;
}

export interface Recognition {
  record: FaultRecord;
  more?: Continuation;
}

export interface Recognizer {
  /** the DESIGN.md family id this recogniser emits (a recogniser may emit several, e.g. Xen's) */
  family: string;
  /**
   * Case-sensitive substrings of the raw line. A line containing none of any family's keys is
   * never parsed (this is what makes multi-GB scans fast), so every line that can start a record
   * must contain one of these.
   */
  keys: readonly string[];
  /** Recognise the start of a record, or return undefined. Must never throw, must stay linear. */
  recognize(line: LogLine): Recognition | undefined;
}
