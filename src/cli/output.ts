import { writeSync } from 'node:fs';

/** Buffered stdout: NDJSON output of millions of records must not pay one write per record. */
let pending: string[] = [];
let size = 0;

export function writeOut(s: string): void {
  pending.push(s);
  size += s.length;
  if (size > 1 << 16) flushSync();
}

function flushSync(): void {
  if (!pending.length) return;
  const data = pending.join('');
  pending = [];
  size = 0;
  try {
    writeSync(1, data);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EAGAIN') { writeSync(1, data); return; }
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0); // `| head` closed the pipe
    throw e;
  }
}

export async function flushOut(): Promise<void> {
  flushSync();
}

/** Write what is buffered now: records of a log that is still being written (`dmesg -w | …`). */
export function flushNow(): void {
  flushSync();
}
