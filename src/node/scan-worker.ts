/** Worker side of parallel-scan.ts: scans chunks index, index+workers, ... of one file. */
import { parentPort, workerData } from 'node:worker_threads';
import { openSync, readSync, writeSync, closeSync } from 'node:fs';
import { Scanner } from '../core/logs/scanner';
import { keyFinder, keyMatcher, scanBlock, scanBytes } from '../core/logs/chunk-scan';
import { bufferIn } from './scan-file';
import { recordToJson, type FaultRecord } from '../core/logs/record';
import { SummaryBuilder } from '../core/analysis/summary';
import { sharedLayout, type WorkerInit, type WorkerDone } from './parallel-scan';

/** Bytes read past a chunk's end: the rest of its last line and lines a multi-line record may still take. */
const TAIL = 256 * 1024;

const init = workerData as WorkerInit;
const lay = sharedLayout(init.shared, init.chunks);
const finder = keyFinder();
const matcher = finder ? undefined : keyMatcher();
const fd = openSync(init.path, 'r');
const summary = init.mode === 'summary' ? new SummaryBuilder() : undefined;
let emitted = 0;
// With SIMD the chunk is read straight into the finder's memory and only candidate lines are decoded.
const buf = finder ? bufferIn(finder.buffer(init.chunkSize + TAIL + 1)) : Buffer.allocUnsafe(init.chunkSize + TAIL + 1);
const decode = (s: number, e: number) => buf.toString('utf8', s, e);

function waitFor(check: () => boolean): void {
  while (!check()) {
    const seen = Atomics.load(lay.ctl, 1);
    if (check()) return;
    Atomics.wait(lay.ctl, 1, seen, 50);
  }
}

function wake(): void {
  Atomics.add(lay.ctl, 1, 1);
  Atomics.notify(lay.ctl, 1);
}

function writeAll(s: string): void {
  const b = Buffer.from(s, 'utf8');
  let off = 0;
  while (off < b.length) {
    try {
      off += writeSync(1, b, off, b.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') { Atomics.wait(lay.ctl, 1, Atomics.load(lay.ctl, 1), 2); continue; }
      if (code === 'EPIPE') process.exit(0);
      throw e;
    }
  }
}

function scanChunk(k: number): void {
  const begin = k * init.chunkSize;
  const end = Math.min(init.size, begin + init.chunkSize);
  const readStart = Math.max(0, begin - 1);
  const want = Math.min(init.size, end + TAIL) - readStart;
  let got = 0;
  while (got < want) {
    const n = readSync(fd, buf, got, want - got, readStart + got);
    if (n === 0) break;
    got += n;
  }
  // This chunk owns the lines that start in [begin, end).
  let s0 = 0;
  if (k > 0) {
    const nl = buf.indexOf(10, 0);
    s0 = nl < 0 || nl >= got ? got : nl + 1;
  }
  const endRel = end - readStart;
  let e0: number;
  if (end >= init.size) e0 = got;
  else {
    const nl = buf.indexOf(10, endRel - 1);
    e0 = nl < 0 || nl >= got ? got : nl + 1;
  }
  if (s0 > endRel) s0 = endRel; // a line longer than the chunk: it belongs to an earlier chunk
  if (e0 < s0) e0 = s0;

  const records: FaultRecord[] = [];
  const scanner = new Scanner((r) => records.push(r), { file: init.name });
  const { lines } = e0 <= s0 ? { lines: 0 }
    : finder ? scanBytes(buf, s0, e0, scanner, finder, 1, decode)
    : scanBlock(buf.toString('utf8', s0, e0), scanner, matcher!, 1);

  // Records still open at the chunk's end may continue into the next chunk's first lines.
  let consumed = 0;
  let pos = e0;
  let rel = 0;
  while (scanner.wantsEveryLine && pos < got) {
    let le = buf.indexOf(10, pos);
    if (le < 0 || le >= got) le = got;
    rel++;
    if (scanner.pushContinuation(buf.toString('utf8', pos, le), lines + rel)) consumed = rel;
    pos = le + 1;
  }
  scanner.end();
  lay.lines[k] = lines;
  lay.consumed[k] = consumed;
  wake();

  // Number the lines: wait until every earlier chunk has counted its own.
  let base = 0;
  for (let j = 0; j < k; j++) {
    waitFor(() => lay.lines[j]! >= 0);
    base += lay.lines[j]!;
  }
  const dropUpTo = k > 0 ? lay.consumed[k - 1]! : 0;
  const kept: FaultRecord[] = [];
  for (const r of records) {
    if (r.line <= dropUpTo) continue; // already part of the previous chunk's record
    r.line += base;
    if (r.endLine !== undefined) r.endLine += base;
    kept.push(r);
  }
  emitted += kept.length;
  if (summary) {
    for (const r of kept) summary.add(r);
    return;
  }
  let out = '';
  for (const r of kept) out += recordToJson(r) + '\n';
  waitFor(() => Atomics.load(lay.ctl, 0) === k);
  if (out) writeAll(out);
  Atomics.store(lay.ctl, 0, k + 1);
  wake();
}

try {
  for (let k = init.index; k < init.chunks; k += init.workers) scanChunk(k);
  const done: WorkerDone = { records: emitted };
  if (summary) done.summary = summary.build();
  parentPort!.postMessage(done);
} catch (e) {
  parentPort!.postMessage({ records: emitted, error: e instanceof Error ? e.stack ?? e.message : String(e) } satisfies WorkerDone);
} finally {
  closeSync(fd);
}
