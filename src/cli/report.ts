/** `iommu-lens report LOG [--snapshot S] [--format md|html|json] [--output FILE]` */
import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { parseArgs } from './args';
import { CliError, fileError } from './errors';
import { LogAnalyzer, ANALYSIS_KEYS, type Analysis, type AnalyzerOptions } from '../core/analysis/analyzer';
import { keyFinder, keyMatcher, scanBlock, scanBytes } from '../core/logs/chunk-scan';
import { bufferIn } from '../node/scan-file';
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
  --max-groups N       groups listed in the report (default 200)
  --walk-pages N       distinct faulting pages walked per group with --snapshot (default 256)
A LOG of '-' reads standard input. The log is read once, streaming, on this thread.`;

const BLOCK = 4 << 20;
const MAX_LINE = 1 << 20;

/** Stream a file through the analyzer in blocks of whole lines: memory does not grow with the file. */
export function analyzeFile(path: string, opts: AnalyzerOptions): Analysis {
  const fd = openSync(path, 'r');
  try {
    const analyzer = new LogAnalyzer(opts);
    // Same reader as scan: with WebAssembly SIMD only candidate lines are decoded, else the regex path.
    const finder = keyFinder(ANALYSIS_KEYS);
    const matcher = finder ? undefined : keyMatcher(ANALYSIS_KEYS);
    const buf = finder ? bufferIn(finder.buffer(BLOCK + MAX_LINE)) : Buffer.allocUnsafe(BLOCK + MAX_LINE);
    const scan = (end: number, firstLine: number) => finder
      ? scanBytes(buf, 0, end, analyzer, finder, firstLine, (s, e) => buf.toString('utf8', s, e))
      : scanBlock(buf.toString('utf8', 0, end), analyzer, matcher!, firstLine);
    let carry = 0;
    let lines = 0;
    let skipping = false; // dropping the tail of an over-long line
    for (;;) {
      const n = readSync(fd, buf, carry, BLOCK, null);
      let end = carry + n;
      if (skipping) {
        const nl = n > 0 ? buf.indexOf(10, 0) : -1;
        if (n > 0 && (nl < 0 || nl >= end)) continue;
        skipping = false;
        if (nl >= 0) { buf.copy(buf, 0, nl + 1, end); end -= nl + 1; }
        carry = end;
        if (n > 0) continue;
      }
      if (n === 0) {
        if (end > 0) lines += scan(end, lines + 1).lines;
        break;
      }
      const lastNl = buf.lastIndexOf(10, end - 1);
      let cut = lastNl + 1;
      if (lastNl < 0 && end > MAX_LINE) { cut = end; skipping = true; } // analyse the head, drop the rest up to its newline
      if (cut > 0) lines += scan(cut, lines + 1).lines;
      carry = end - cut;
      if (carry > 0) buf.copy(buf, 0, cut, end);
    }
    analyzer.end();
    return analyzer.result(lines);
  } finally {
    closeSync(fd);
  }
}

function positiveNumber(v: string | undefined, name: string, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new CliError(`report: --${name} expects a positive ${integer ? 'integer' : 'number'}`);
  return n;
}

export async function runReport(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) { process.stdout.write(HELP + '\n'); return 0; }
  const a = parseArgs(args, { values: ['snapshot', 'format', 'output', 'storm-threshold', 'storm-window', 'max-groups', 'walk-pages'] }, 'report');
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
  const snapPath = a.flags.get('snapshot')?.[0];
  let snap: LoadedSnapshot | undefined;
  if (snapPath) {
    try { snap = loadSnapshot(snapPath); } catch (e) { throw new CliError(`report: ${e instanceof Error ? e.message : String(e)}`); }
  }
  try {
    let analysis: Analysis;
    try {
      analysis = analyzeFile(path, { file: name, storm: { ...(threshold ? { threshold } : {}), ...(window ? { window } : {}) } });
    } catch (e) { throw fileError(name, e); }
    const report = buildReport(analysis, { source: name, ...(snap ? { snapshot: snap, snapshotName: snapPath! } : {}), ...(maxGroups ? { maxGroups } : {}), ...(walksPerGroup ? { walksPerGroup } : {}) });
    const text = format === 'html' ? reportToHtml(report) : format === 'json' ? reportToJson(report) : reportToMarkdown(report);
    const out = a.flags.get('output')?.[0];
    if (out) {
      try { writeFileSync(out, text); } catch (e) { throw fileError(out, e); }
    } else {
      process.stdout.write(text);
    }
    return 0;
  } finally {
    snap?.close();
  }
}
