/** `iommu-lens report LOG [--snapshot S] [--format md|html|json] [--output FILE]` */
import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { parseArgs } from './args';
import { CliError, fileError } from './errors';
import { writeOut, flushOut } from './output';
import { LogAnalyzer, ANALYSIS_KEYS, type Analysis, type AnalyzerOptions } from '../core/analysis/analyzer';
import { PartsAnalyzer, type ChunkState } from '../core/analysis/parts';
import { keyFinder, keyMatcher, scanBlock, scanBytes } from '../core/logs/chunk-scan';
import { BLOCK, bufferIn, blockScanFor, Input, LineBlocks } from '../node/line-blocks';
import { inputFormat, textChunks, InputError, type InputFormat } from '../node/input-format';
import { buildReport } from '../core/analysis/report';
import { reportToMarkdown } from '../core/analysis/render-markdown';
import { reportToHtml } from '../core/analysis/render-html';
import { reportToJson } from '../core/analysis/render-json';
import { loadSnapshot, type LoadedSnapshot } from '../node/load-snapshot';

const HELP = `usage: iommu-lens report LOG [--snapshot S.iommu.json] [--format md|html|json] [--output FILE]

Fault analysis of one log: groups per IOMMU and device/stream, storms (rates, printed versus
ratelimit-suppressed, pages touched, how to silence them), page requests and stalled
transactions (pending, answered, auto-answered, spurious, stale, lost), driver symptoms that
followed each device's faults, Xen context, and the suspected culprit of each group with its
confidence and reasoning. With --snapshot every distinct faulting page is walked.
  --format F           md (default), html (one self-contained file, no script) or json
  --output FILE        write there instead of standard output
  --storm-threshold N  records per window that make a storm (default 20)
  --storm-window S     window in seconds (default 1)
  --workers N          threads for files of 16 MiB or more (default: one per core, at most 4)
  --max-groups N       groups listed in the report (default 200)
  --walk-pages N       distinct faulting pages walked per group with --snapshot (default 256)
A LOG of '-' reads standard input. The log is read once, streaming; large files are cut into
parts analysed on worker threads and merged in log order.`;

/** Stream a plain-text file through the analyzer in blocks of whole lines: memory does not grow with the file. */
export function analyzeFile(path: string, opts: AnalyzerOptions): Analysis {
  const input = new Input(path);
  try {
    const analyzer = new LogAnalyzer(opts);
    // Same reader as scan: with WebAssembly SIMD only candidate lines are decoded, else the regex path.
    const { buf, scan } = blockScanFor(analyzer, { keys: ANALYSIS_KEYS });
    const blocks = new LineBlocks(buf, scan);
    for (let n; (n = input.read(buf, blocks.at, blocks.block)) > 0;) blocks.commit(n);
    blocks.end();
    analyzer.end();
    return analyzer.result(blocks.lines);
  } finally {
    input.close();
  }
}

/**
 * analyzeFile for any input scan reads (compressed, UTF-16). A stream that breaks off rejects
 * with an InputError carrying the analysis of what was read.
 */
export async function analyzeAnyFile(path: string, opts: AnalyzerOptions, format: InputFormat = inputFormat(path)): Promise<Analysis> {
  if (format === 'text') return analyzeFile(path, opts);
  const analyzer = new LogAnalyzer(opts);
  const { buf, scan } = blockScanFor(analyzer, { keys: ANALYSIS_KEYS });
  const blocks = new LineBlocks(buf, scan);
  let broken: InputError | undefined;
  try {
    for await (const chunk of textChunks(path, format)) blocks.feed(chunk);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    broken = e;
  }
  blocks.end();
  analyzer.end();
  const analysis = analyzer.result(blocks.lines);
  if (broken) throw Object.assign(broken, { analysis });
  return analysis;
}

// ------------------------------------------------------------------ parallel analysis

const WORKER_FLAG = '--analysis-worker';
/** Bytes read before a range: the scanner re-reads them so that prints open across the cut end the same way. */
const WARM = 64 * 1024;
/** Bytes read past a range: lines a print still open at its end may take. */
const TAIL = 256 * 1024;
/** Files smaller than this are analysed on the calling thread. */
export const PARALLEL_MIN = 16 << 20;

interface PartJob {
  path: string;
  size: number;
  index: number;
  workers: number;
  /** byte range [begin, end) whose lines this part owns (cut to whole lines) */
  begin: number;
  end: number;
  options: AnalyzerOptions;
}

/**
 * Range boundaries: the calling thread, which starts at once and needs no export, takes a larger
 * first range than the workers (which pay for their start and for sending their state back).
 */
function rangeBounds(size: number, n: number): number[] {
  const first = n > 1 ? Math.min(0.9, 1 / n + 0.05) : 1;
  const b = [0, Math.floor(size * first)];
  for (let i = 1; i < n; i++) b.push(Math.floor(size * (first + ((1 - first) * i) / (n - 1))));
  b[n] = size;
  return b;
}

/** Absolute offset of the first line that starts at or after `pos`. */
function lineStartAtOrAfter(fd: number, pos: number, size: number, buf: Buffer): number {
  if (pos <= 0) return 0;
  for (let at = pos - 1; at < size;) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, 1 << 16), at);
    if (n <= 0) break;
    const nl = buf.indexOf(10, 0);
    if (nl >= 0 && nl < n) return at + nl + 1;
    at += n;
  }
  return size;
}

/**
 * Analyse worker `index`'s share of the file, one contiguous range of whole lines, read in blocks:
 * first the lines just before it (so that a print open across the cut ends as it would in one
 * pass; their records belong to the previous range), then its own lines, then only the lines an
 * open print still takes.
 */
function analyzeRange(fd: number, job: PartJob, buf: Buffer, finder: ReturnType<typeof keyFinder>, analyzer: LogAnalyzer): number {
  const s0 = job.begin === 0 ? 0 : lineStartAtOrAfter(fd, job.begin, job.size, buf);
  const e0 = job.end >= job.size ? job.size : Math.max(s0, lineStartAtOrAfter(fd, job.end, job.size, buf));
  const matcher = finder ? undefined : keyMatcher(ANALYSIS_KEYS);
  const region = (a: number, b: number, firstLine: number) => (b <= a ? 0 : finder
    ? scanBytes(buf, a, b, analyzer, finder, firstLine, (x, y) => buf.toString('utf8', x, y)).lines
    : scanBlock(buf.toString('utf8', a, b), analyzer, matcher!, firstLine).lines);
  const read = (at: number, len: number) => {
    let got = 0;
    while (got < len) {
      const n = readSync(fd, buf, got, len - got, at + got);
      if (n <= 0) break;
      got += n;
    }
    return got;
  };
  // warm-up: the whole lines of the WARM bytes before the range
  if (s0 > 0) {
    const from = Math.max(0, s0 - WARM);
    const got = read(from, s0 - from);
    const w0 = from === 0 ? 0 : buf.indexOf(10, 0) + 1; // 0 when no line starts in the warm-up bytes
    if ((from === 0 || w0 > 0) && w0 < got) {
      let warm = 0;
      for (let p = buf.indexOf(10, w0); p >= 0 && p < got; p = buf.indexOf(10, p + 1)) warm++;
      region(w0, got, 1 - warm);
    }
  }
  // own lines, block by block (a line longer than a block is cut like the sequential reader does)
  let lines = 0;
  let pos = s0;
  while (pos < e0) {
    const got = read(pos, Math.min(BLOCK, e0 - pos));
    if (got === 0) break;
    const last = pos + got >= e0 ? got : buf.lastIndexOf(10, got - 1) + 1;
    if (last > 0) { lines += region(0, last, lines + 1); pos += last; continue; }
    // a line longer than a block: its head is analysed, the rest skipped to the next line
    lines += region(0, got, lines + 1);
    pos = Math.min(e0, lineStartAtOrAfter(fd, pos + got + 1, job.size, buf));
  }
  // continuation lines after the range
  if (analyzer.wantsEveryLine && e0 < job.size) {
    const got = read(e0, Math.min(TAIL, job.size - e0));
    for (let p = 0, rel = lines; analyzer.wantsEveryLine && p < got;) {
      let le = buf.indexOf(10, p);
      if (le < 0 || le >= got) le = got;
      analyzer.pushContinuation(buf.toString('utf8', p, le), ++rel);
      p = le + 1;
    }
  }
  analyzer.end();
  return lines;
}

function rangeBuffer(finder: ReturnType<typeof keyFinder>): Buffer {
  const cap = Math.max(BLOCK, WARM, TAIL) + 1;
  return finder ? bufferIn(finder.buffer(cap)) : Buffer.allocUnsafe(cap);
}

function analysisWorker(): void {
  const job = workerData as PartJob;
  const finder = keyFinder(ANALYSIS_KEYS);
  const buf = rangeBuffer(finder);
  const fd = openSync(job.path, 'r');
  try {
    const analyzer = new PartsAnalyzer({ ...job.options, part: { ownFrom: 1 } });
    const lines = analyzeRange(fd, job, buf, finder, analyzer);
    parentPort!.postMessage({ index: job.index, state: analyzer.chunkState(lines) });
  } finally {
    closeSync(fd);
  }
}

/**
 * The file is cut into one range of whole lines per worker thread; each range's state is absorbed
 * in log order (a worker that finishes early waits in memory, bounded by the analysis caps).
 */
export async function analyzeFileParallel(path: string, options: AnalyzerOptions, workers: number): Promise<Analysis> {
  const size = statSync(path).size;
  const n = Math.max(1, workers);
  const merged = new PartsAnalyzer(options);
  const ready = new Map<number, ChunkState>();
  let next = 0;
  let offset = 0;
  const absorbReady = () => {
    for (let st = ready.get(next); st; st = ready.get(next)) {
      ready.delete(next);
      merged.absorb(st, offset);
      offset += st.lines;
      next++;
    }
  };
  const { file: _file, ...shared } = options;
  // ranges 1.. go to worker threads; this thread analyses range 0 meanwhile, straight into the result
  const bounds = rangeBounds(size, n);
  const done = Promise.all(Array.from({ length: n - 1 }, (_, i) => new Promise<void>((resolve, reject) => {
    const job: PartJob = { path, size, index: i + 1, workers: n, begin: bounds[i + 1]!, end: bounds[i + 2]!, options: shared };
    const w = new Worker(__filename, { argv: ['report', WORKER_FLAG], workerData: job });
    w.on('message', (m: { index: number; state: ChunkState }) => { ready.set(m.index, m.state); absorbReady(); });
    w.on('error', reject);
    w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`analysis worker exited with code ${code}`))));
  })));
  const fd = openSync(path, 'r');
  try {
    const finder = keyFinder(ANALYSIS_KEYS);
    offset = analyzeRange(fd, { path, size, index: 0, workers: n, begin: 0, end: bounds[1]!, options: shared }, rangeBuffer(finder), finder, merged);
  } finally {
    closeSync(fd);
  }
  next = 1;
  absorbReady();
  await done;
  absorbReady();
  if (next !== n) throw new Error(`analysis: ${n - next} parts of ${path} were not analysed`);
  merged.end();
  return merged.result(offset);
}

function positiveNumber(v: string | undefined, name: string, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new CliError(`report: --${name} expects a positive ${integer ? 'integer' : 'number'}`);
  return n;
}

export async function runReport(args: string[]): Promise<number> {
  if (!isMainThread && args[0] === WORKER_FLAG) { analysisWorker(); return 0; }
  if (args.includes('--help') || args.includes('-h')) { process.stdout.write(HELP + '\n'); return 0; }
  const a = parseArgs(args, { values: ['snapshot', 'format', 'output', 'storm-threshold', 'storm-window', 'max-groups', 'walk-pages', 'workers', 'parallel-min'] }, 'report');
  if (a.positionals.length !== 1) throw new CliError('report: give exactly one LOG (see iommu-lens report --help)');
  const format = a.flags.get('format')?.[0] ?? 'md';
  if (!['md', 'markdown', 'html', 'json'].includes(format)) throw new CliError(`report: --format expects md, html or json, not '${format}'`);
  const name = a.positionals[0]!;
  const path = name === '-' ? '/dev/stdin' : name;
  try {
    if (statSync(path).isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR' });
  } catch (e) { throw fileError(name, e); }
  const threshold = positiveNumber(a.flags.get('storm-threshold')?.[0], 'storm-threshold', true);
  const window = positiveNumber(a.flags.get('storm-window')?.[0], 'storm-window', false);
  const maxGroups = positiveNumber(a.flags.get('max-groups')?.[0], 'max-groups', true);
  const walksPerGroup = positiveNumber(a.flags.get('walk-pages')?.[0], 'walk-pages', true);
  const workers = positiveNumber(a.flags.get('workers')?.[0], 'workers', true) ?? Math.min(4, availableParallelism());
  const parallelMin = positiveNumber(a.flags.get('parallel-min')?.[0], 'parallel-min', true) ?? PARALLEL_MIN;
  const snapPath = a.flags.get('snapshot')?.[0];
  let snap: LoadedSnapshot | undefined;
  if (snapPath) {
    try { snap = loadSnapshot(snapPath); } catch (e) { throw new CliError(`report: ${e instanceof Error ? e.message : String(e)}`); }
  }
  try {
    let analysis: Analysis;
    // A log that breaks off (a truncated archive) is reported on what was read, then the error.
    let broken: CliError | undefined;
    try {
      const options: AnalyzerOptions = { file: name, storm: { ...(threshold ? { threshold } : {}), ...(window ? { window } : {}) } };
      const st = statSync(path);
      const format = inputFormat(path);
      // Worker threads pay off on large regular text files; pipes, small and compressed files stay on this thread.
      analysis = workers > 1 && st.isFile() && st.size >= parallelMin && typeof __filename === 'string' && __filename.endsWith('.js') && format === 'text'
        ? await analyzeFileParallel(path, options, workers)
        : await analyzeAnyFile(path, options, format);
    } catch (e) {
      const partial = (e as { analysis?: Analysis }).analysis;
      if (!(e instanceof InputError) || !partial) throw e instanceof InputError ? new CliError(`${name}: ${e.message}`) : fileError(name, e);
      analysis = partial;
      broken = new CliError(`${name}: ${e.message}`);
    }
    const report = buildReport(analysis, { source: name, ...(snap ? { snapshot: snap, snapshotName: snapPath! } : {}), ...(maxGroups ? { maxGroups } : {}), ...(walksPerGroup ? { walksPerGroup } : {}) });
    const text = format === 'html' ? reportToHtml(report) : format === 'json' ? reportToJson(report) : reportToMarkdown(report);
    const out = a.flags.get('output')?.[0];
    if (out) {
      try { writeFileSync(out, text); } catch (e) { throw fileError(out, e); }
    } else {
      writeOut(text);
      await flushOut();
    }
    if (broken) throw broken;
    return 0;
  } finally {
    snap?.close();
  }
}
