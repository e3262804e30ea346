/**
 * Scans one log file with several worker threads. The file is cut into chunks handed out round
 * robin. A worker first counts its chunk's lines (SIMD, cheap) and publishes the count, so every
 * chunk can number its records from the start; records are then passed on as they are made
 * (summary, or NDJSON that waits for the chunk's turn to write, and streams once it has it), so
 * output stays in log order while the scanning runs on every core. Memory is bounded by chunks
 * in flight (4 MiB each plus their pending NDJSON), not by file size.
 *
 * Shared state (SharedArrayBuffer), per chunk k:
 *   lines[k]     lines in chunk k, -1 until known (counted before scanning, so numbering never waits on a scan)
 *   consumed[k]  last line at the start of chunk k+1 taken by chunk k's open multi-line records, -1 until known
 *   taken[k]     which of those lines (bitmap of the first TAKEN_BITS): a line between two taken ones
 *                may be a record of its own (an interleaved print), which chunk k+1 must keep
 *   turn         next chunk allowed to write its output (JSON mode)
 */
import { Worker } from 'node:worker_threads';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { SummaryBuilder, type ScanSummary } from '../core/analysis/summary';

export interface ParallelScanOptions {
  /** name printed in records' `file` field */
  name: string;
  mode: 'json' | 'summary';
  workers?: number;
  chunkSize?: number;
  /** the bundled worker script (dist/scan-worker.js) */
  workerScript?: string;
}

export interface WorkerInit {
  path: string;
  name: string;
  mode: 'json' | 'summary';
  index: number;
  workers: number;
  chunkSize: number;
  size: number;
  chunks: number;
  shared: SharedArrayBuffer;
}

export interface WorkerDone {
  summary?: ScanSummary;
  records: number;
  error?: string;
  /** the reader of standard output went away (`scan --json big.log | head`) */
  closedOutput?: boolean;
}

/** 2 MiB: with 4 workers each holding a chunk plus its pending NDJSON (2.6x the chunk in a storm), 4 MiB peaked at 240 MB RSS, 2 MiB at 216 MB. */
export const CHUNK_SIZE = 2 << 20;

/** Lines past a chunk's end whose taken/not-taken state is passed on exactly; beyond, all count as taken. */
export const TAKEN_BITS = 1024;

export function sharedLayout(shared: SharedArrayBuffer, chunks: number) {
  return {
    ctl: new Int32Array(shared, 0, 2), // [0] write turn, [1] wake counter
    lines: new Float64Array(shared, 8, chunks),
    consumed: new Float64Array(shared, 8 + 8 * chunks, chunks),
    taken: new Int32Array(shared, 8 + 16 * chunks, (TAKEN_BITS / 32) * chunks),
  };
}

export async function scanFileParallel(path: string, opts: ParallelScanOptions): Promise<{ summary?: ScanSummary; records: number; lines: number; closedOutput?: boolean }> {
  const size = statSync(path).size;
  const chunkSize = opts.chunkSize ?? CHUNK_SIZE;
  const chunks = Math.max(1, Math.ceil(size / chunkSize));
  const workers = Math.max(1, Math.min(opts.workers ?? 2, chunks));
  const shared = new SharedArrayBuffer(8 + 16 * chunks + (TAKEN_BITS / 8) * chunks);
  const lay = sharedLayout(shared, chunks);
  lay.lines.fill(-1);
  lay.consumed.fill(-1); // -1 until the chunk's scan has finished
  const script = opts.workerScript ?? join(__dirname, 'scan-worker.js');
  const started: Worker[] = [];
  // Once one worker fails, or finds that nobody reads the output any more, the others (which
  // may be waiting for its chunks) are stopped rather than left to hang the process.
  let stopping: 'error' | 'closed-output' | undefined;
  const stopAll = (why: 'error' | 'closed-output') => {
    if (stopping) return;
    stopping = why;
    for (const w of started) void w.terminate();
  };
  const results = await Promise.all(Array.from({ length: workers }, (_, index) => new Promise<WorkerDone>((resolve, reject) => {
    const init: WorkerInit = { path, name: opts.name, mode: opts.mode, index, workers, chunkSize, size, chunks, shared };
    // The young generations share a budget of 32 MB: scan garbage is short-lived, and the default
    // lets each worker's heap grow by tens of MB. Measured on the 256 MB storm: 4 MB each cost
    // 15-20 % more CPU than 16 MB (objects promoted early, then collected by full GCs); with 4
    // workers and NDJSON, 16 MB each peaked at 278 MB RSS, 8 MB at 247 MB; 2 workers at 16 MB, 169 MB.
    const young = Math.max(4, Math.min(16, Math.floor(32 / workers)));
    const w = new Worker(script, { workerData: init, resourceLimits: { maxYoungGenerationSizeMb: young } });
    started.push(w);
    let done: WorkerDone | undefined;
    w.on('message', (m: WorkerDone) => {
      done = m;
      if (m.closedOutput) stopAll('closed-output');
      else if (m.error) stopAll('error');
    });
    w.on('error', (e) => { stopAll('error'); reject(e); });
    w.on('exit', (code) => {
      if (done?.error) reject(new Error(done.error));
      else if (done) resolve(done);
      else if (stopping === 'closed-output') resolve({ records: 0, closedOutput: true });
      else { stopAll('error'); reject(new Error(`scan worker exited with code ${code}`)); }
    });
  })));
  if (stopping === 'closed-output') return { records: 0, lines: 0, closedOutput: true };
  let lines = 0;
  for (let k = 0; k < chunks; k++) lines += lay.lines[k]!;
  const records = results.reduce((a, r) => a + r.records, 0);
  if (opts.mode === 'summary') {
    const sb = new SummaryBuilder();
    for (const r of results) if (r.summary) sb.merge(r.summary);
    return { summary: sb.build(), records, lines };
  }
  return { records, lines };
}
