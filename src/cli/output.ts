import { writeSync } from 'node:fs';

/** Buffered stdout: NDJSON output of millions of records must not pay one write per record. */
let pending: string[] = [];
let size = 0;

export function writeOut(s: string): void {
  pending.push(s);
  size += s.length;
  if (size > 1 << 16) flushSync();
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * All of it, whatever standard output is: a non-blocking pipe (set so by whoever shares it)
 * takes part of a write or answers EAGAIN, and a reader that went away (`| head`) ends the
 * command quietly with status 0.
 */
function flushSync(): void {
  if (!pending.length) return;
  const data = Buffer.from(pending.join(''));
  pending = [];
  size = 0;
  for (let off = 0; off < data.length;) {
    try {
      off += writeSync(1, data, off, data.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') { Atomics.wait(PAUSE, 0, 0, 2); continue; }
      if (code === 'EPIPE') process.exit(0);
      throw e;
    }
  }
}

export async function flushOut(): Promise<void> {
  flushSync();
}

