/** `iommu-lens scan FILE... [--json]` */
import { statSync } from 'node:fs';
import { parseArgs } from './args';
import { CliError, fileError } from './errors';
import { scanAnyFile } from '../node/scan-file';
import { inputFormat, InputError } from '../node/input-format';
import { scanFileParallel, CHUNK_SIZE } from '../node/parallel-scan';
import { availableParallelism } from 'node:os';
import { recordToJson } from '../core/logs/record';
import { allKeys } from '../core/logs/scanner';
import { SummaryBuilder, summaryToText } from '../core/analysis/summary';
import { writeOut, flushOut } from './output';

const HELP = `usage: iommu-lens scan FILE... [--json] [--top N] [--workers N]

Finds every IOMMU fault record in the logs (dmesg, journalctl, serial consoles, xl dmesg).
  --json     one JSON object per record (NDJSON), in log order
  --top N    rows in the summary's top lists (default 10)
  --workers N  threads for large files (default: one per core, at most 4, for files of
             128 MiB and more; given explicitly, for any file of two chunks or more)
  --list-keys  print the substrings that select candidate lines, one per line (for grep comparisons)
A FILE of '-' reads standard input. Compressed logs (gzip; xz, zstd, bzip2 with their tools
installed) and UTF-16 text are read as they are.`;

/**
 * Worker threads start cold: each loads and compiles the engine again (about 0.35 s of wall
 * time on the 2-core machine), and the two cores gave at most 1.4x one core's throughput.
 * Measured crossovers: about 55 MB for a pure fault storm, about 300 MB for a log with 10 %
 * fault lines; below this size one thread is as fast or faster.
 */
const PARALLEL_FROM = 128 << 20;

export async function runScan(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) { process.stdout.write(HELP + '\n'); return 0; }
  const a = parseArgs(args, { values: ['top', 'workers', 'chunk-size'], bools: ['json', 'list-keys'] }, 'scan');
  if (a.bools.has('list-keys')) { process.stdout.write(allKeys().join('\n') + '\n'); return 0; }
  if (!a.positionals.length) throw new CliError('scan: no FILE given (see iommu-lens scan --help)');
  const top = Number(a.flags.get('top')?.[0] ?? 10);
  if (!Number.isInteger(top) || top < 1) throw new CliError('scan: --top expects a positive integer');
  const explicitWorkers = a.flags.has('workers');
  const workers = Number(a.flags.get('workers')?.[0] ?? Math.min(4, availableParallelism()));
  if (!Number.isInteger(workers) || workers < 1) throw new CliError('scan: --workers expects a positive integer');
  const chunkSize = Number(a.flags.get('chunk-size')?.[0] ?? CHUNK_SIZE);
  if (!Number.isInteger(chunkSize) || chunkSize < 4096) throw new CliError('scan: --chunk-size expects an integer of at least 4096');
  const files = a.positionals.map((f) => (f === '-' ? '/dev/stdin' : f));
  for (const f of files) {
    try {
      if (statSync(f).isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR' });
    } catch (e) { throw fileError(f, e); }
  }
  const json = a.bools.has('json');
  const summary = new SummaryBuilder();
  // A file that breaks off (a truncated archive) is reported after the output of everything read.
  let broken: CliError | undefined;
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    const name = a.positionals[i]!;
    try {
      const st = statSync(f);
      const format = inputFormat(f);
      // Worker threads pay off on large regular text files; pipes, small and compressed files stay on this thread.
      if (workers > 1 && st.isFile() && st.size >= 2 * chunkSize && (explicitWorkers || st.size >= PARALLEL_FROM) && format === 'text') {
        await flushOut();
        const r = await scanFileParallel(f, { name, mode: json ? 'json' : 'summary', workers, chunkSize });
        if (r.closedOutput) process.exit(0); // `| head` closed the pipe, as in output.ts
        if (r.summary) summary.merge(r.summary);
      } else {
        // A pipe or terminal may be a log still being written (`dmesg -w | iommu-lens scan --json -`):
        // its records go out after each read instead of when 64 KiB of output have piled up.
        const live = json && !st.isFile();
        await scanAnyFile(f, json ? (r) => writeOut(recordToJson(r) + '\n') : (r) => summary.add(r), { file: name, format, ...(live ? { onProgress: () => void flushOut() } : {}) });
      }
    } catch (e) {
      if (!(e instanceof InputError)) throw fileError(name, e);
      broken ??= new CliError(`${name}: ${e.message}`);
    }
  }
  if (json) await flushOut();
  else process.stdout.write(summaryToText(a.positionals, summary.build(), { top }) + '\n');
  if (broken) throw broken;
  return 0;
}
