// `iommu-lens report` on the bench suite's storm log versus `iommu-lens scan` on the same file,
// measured in the same run, interleaved, median of BENCH_RUNS: target report <= 1.5x scan.
// Both read the log once, streaming; for large files both use worker threads (one per core, at most 4).
// Quick look: BENCH_MIXED_MB=64 BENCH_STORM_MB=32 node bench/report.mjs
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ensureLogs } from './gen-logs.mjs';

const MIXED_MB = Number(process.env.BENCH_MIXED_MB ?? 512);
const STORM_MB = Number(process.env.BENCH_STORM_MB ?? 256);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TARGET = 1.5;
const CLI = 'dist/cli.js';

if (!existsSync(CLI)) throw new Error('run `npm run build` first (npm run bench does)');
const { storm } = await ensureLogs('bench/data', MIXED_MB, STORM_MB);
spawnSync('bash', ['-c', `cat ${storm} > /dev/null`]); // warm the page cache for both sides

function once(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('node', [CLI, ...args], { env: { ...process.env, IOMMU_LENS_REPORT_RSS: '1' }, maxBuffer: 1 << 28 });
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`iommu-lens ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const m = /peak RSS (\d+) MB/.exec(r.stderr.toString());
  return { t: dt, rss: m ? Number(m[1]) : NaN, out: r.stdout };
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const scan = [];
const report = [];
let rss = NaN;
let size = 0;
for (let i = 0; i < RUNS; i++) {
  scan.push(once(['scan', storm]).t);
  const r = once(['report', storm, '--format', 'json']);
  report.push(r.t);
  rss = r.rss;
  size = r.out.length;
}
const ratio = median(report) / median(scan);
const ok = ratio <= TARGET;
console.log(`${ok ? 'PASS' : 'MISS'}  report  storm ${STORM_MB} MB  (report FILE vs scan FILE): ${median(report).toFixed(3)} s vs ${median(scan).toFixed(3)} s = ${ratio.toFixed(2)}x (target <= ${TARGET}x), peak RSS ${rss} MB, report ${(size / 1024).toFixed(0)} KiB`);
process.exit(ok ? 0 : 1);
