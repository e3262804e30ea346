/** Worker side of parallel-scan.ts: scans chunks index, index+workers, ... of one file. */
import { parentPort, workerData } from 'node:worker_threads';
import { openSync, readSync, writeSync, closeSync } from 'node:fs';
import { Scanner } from '../core/logs/scanner';
import { keyFinder, keyMatcher, scanBlock, scanBytes } from '../core/logs/chunk-scan';
import { bufferIn } from './scan-file';
import { recordToJson, type FaultRecord } from '../core/logs/record';
import { SummaryBuilder } from '../core/analysis/summary';
import { sharedLayout, TAKEN_BITS, type WorkerInit, type WorkerDone } from './parallel-scan';

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

/** Nobody reads standard output any more: the scan stops, which is no error. */
class ClosedOutput extends Error {}

function writeAll(b: Buffer): void {
  let off = 0;
  while (off < b.length) {
    try {
      off += writeSync(1, b, off, b.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') { Atomics.wait(lay.ctl, 1, Atomics.load(lay.ctl, 1), 2); continue; }
      if (code === 'EPIPE') throw new ClosedOutput();
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
  // No line starts in this chunk (it lies inside a line longer than a chunk, which an earlier
  // chunk owns): it owns no lines, not the end of that line as a line of its own.
  if (s0 >= endRel) s0 = e0 = endRel;
  if (e0 < s0) e0 = s0;

  // Count this chunk's lines first (cheap) so that later chunks can number their records while
  // this one is still being scanned, and records can be passed on as they come instead of kept.
  const lines = e0 > s0 ? countLines(s0, e0) : 0;
  lay.lines[k] = lines;
  wake();
  let base = 0;
  for (let j = 0; j < k; j++) {
    waitFor(() => lay.lines[j]! >= 0);
    base += lay.lines[j]!;
  }
  // Only records starting in the first TAIL bytes can have been taken by the previous chunk's
  // open record: hold those until it says how many lines it took (known once it has finished).
  const early = k > 0 && e0 > s0 ? countLines(s0, Math.min(e0, s0 + TAIL)) : 0;
  const held: FaultRecord[] = [];
  let dropUpTo = k > 0 ? -1 : 0;
  // NDJSON: held records (head) always precede the others (out). Once it is this chunk's turn to
  // write, output goes out as it is made instead of piling up.
  const head = summary ? undefined : new OutputBuffer();
  const out = summary ? undefined : new OutputBuffer();
  let live = false;
  const pass = (r: FaultRecord, to: OutputBuffer | undefined) => {
    r.line += base;
    if (r.endLine !== undefined) r.endLine += base;
    emitted++;
    if (summary) summary.add(r);
    else to!.addLine(recordToJson(r));
  };
  const stream = () => {
    if (!live && out!.ready && Atomics.load(lay.ctl, 0) === k && resolved()) live = true;
    if (live && out!.ready) { head!.drainTo(writeAll); out!.drainTo(writeAll); }
  };
  const resolved = () => {
    if (dropUpTo < 0 && lay.consumed[k - 1]! >= 0) {
      Atomics.load(lay.ctl, 1);
      dropUpTo = lay.consumed[k - 1]!;
      for (const r of held) if (!taken(r.line)) pass(r, head);
      held.length = 0;
    }
    return dropUpTo >= 0;
  };
  /** The line already belongs to a record of the previous chunk. */
  const taken = (line: number) => line <= dropUpTo
    && (line > TAKEN_BITS || (lay.taken[(k - 1) * (TAKEN_BITS / 32) + ((line - 1) >> 5)]! & (1 << ((line - 1) & 31))) !== 0);
  // Records come out in order of first line, so every held record precedes every passed one.
  const scanner = new Scanner((r) => {
    if (r.line > early) pass(r, out);
    else if (resolved()) { if (!taken(r.line)) pass(r, out); }
    else held.push(r);
    if (out) stream();
  }, { file: init.name });
  if (e0 > s0) {
    if (finder) scanBytes(buf, s0, e0, scanner, finder, 1, decode);
    else scanBlock(buf.toString('utf8', s0, e0), scanner, matcher!, 1);
  }

  // Records still open at the chunk's end may continue into the next chunk's first lines.
  let consumed = 0;
  let pos = e0;
  let rel = 0;
  while (scanner.wantsEveryLine && pos < got) {
    let le = buf.indexOf(10, pos);
    if (le < 0 || le >= got) le = got;
    rel++;
    if (scanner.pushContinuation(buf.toString('utf8', pos, le), lines + rel)) {
      consumed = rel;
      if (rel <= TAKEN_BITS) lay.taken[k * (TAKEN_BITS / 32) + ((rel - 1) >> 5)]! |= 1 << ((rel - 1) & 31);
    }
    pos = le + 1;
  }
  scanner.end();
  // Seq-cst fences around the plain shared reads/writes: the taken bits must be visible before
  // `consumed` says they are final, also on weakly ordered CPUs.
  Atomics.add(lay.ctl, 1, 0);
  lay.consumed[k] = consumed;
  wake();

  waitFor(resolved);
  if (summary) return;
  waitFor(() => Atomics.load(lay.ctl, 0) === k);
  head!.drainTo(writeAll);
  out!.drainTo(writeAll);
  Atomics.store(lay.ctl, 0, k + 1);
  wake();
}

/** Lines that start in buf[s, e) (a last line without newline counts). */
function countLines(s: number, e: number): number {
  let n = 0;
  if (finder) n = finder.newlines(s, e);
  else for (let i = buf.indexOf(10, s); i >= 0 && i < e; i = buf.indexOf(10, i + 1)) n++;
  return n + (buf[e - 1] !== 10 ? 1 : 0);
}

const SLAB = 1 << 18;
/** Written slabs come back here: reusing them keeps malloc from fragmenting into a growing RSS. */
const freeSlabs: Buffer[] = [];

/** NDJSON waiting for this chunk's turn, as UTF-8 buffers (half the size of JS strings, no giant rope). */
class OutputBuffer {
  private parts: Buffer[] = [];
  private slab: Buffer | undefined;
  private used = 0;
  /** a part is complete: worth writing */
  get ready(): boolean {
    return this.parts.length > 0;
  }
  /** Append `s` and a newline, encoded straight into a slab (no string concatenation). */
  addLine(s: string): void {
    const need = 3 * s.length + 1; // UTF-8 worst case per UTF-16 unit
    if (!this.slab || this.slab.length - this.used < need) {
      this.cut();
      this.slab = need <= SLAB ? freeSlabs.pop() ?? Buffer.allocUnsafeSlow(SLAB) : Buffer.allocUnsafeSlow(need);
    }
    this.used += this.slab.write(s, this.used);
    this.slab[this.used++] = 10;
  }
  drainTo(write: (b: Buffer) => void): void {
    this.cut();
    for (const p of this.parts) {
      write(p);
      if (p.buffer.byteLength === SLAB && freeSlabs.length < 64) freeSlabs.push(Buffer.from(p.buffer, 0, SLAB));
    }
    this.parts = [];
  }
  private cut(): void {
    if (this.slab && this.used) this.parts.push(this.slab.subarray(0, this.used));
    else if (this.slab && this.slab.length === SLAB) freeSlabs.push(this.slab);
    this.slab = undefined;
    this.used = 0;
  }
}

try {
  for (let k = init.index; k < init.chunks; k += init.workers) scanChunk(k);
  const done: WorkerDone = { records: emitted };
  if (summary) done.summary = summary.build();
  parentPort!.postMessage(done);
} catch (e) {
  if (e instanceof ClosedOutput) parentPort!.postMessage({ records: emitted, closedOutput: true } satisfies WorkerDone);
  else parentPort!.postMessage({ records: emitted, error: e instanceof Error ? e.stack ?? e.message : String(e) } satisfies WorkerDone);
} finally {
  closeSync(fd);
}
