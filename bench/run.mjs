// `npm run bench`: speed and memory against references measured in the same run, as ratios.
// Logs are generated deterministically into bench/data (git-ignored). Sizes can be lowered for a
// quick look: BENCH_MIXED_MB=64 BENCH_STORM_MB=32 npm run bench
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ensureLogs } from './gen-logs.mjs';

const MIXED_MB = Number(process.env.BENCH_MIXED_MB ?? 512);
const STORM_MB = Number(process.env.BENCH_STORM_MB ?? 256);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CLI = 'dist/cli.js';

function ensureRipgrep() {
  if (spawnSync('rg', ['--version']).status === 0) return;
  console.log('bench: installing ripgrep (Debian package) for the reference measurements');
  const apt = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (apt(['install', '-y', '-qq', 'ripgrep']).status !== 0) { apt(['update', '-qq']); apt(['install', '-y', '-qq', 'ripgrep']); }
  if (spawnSync('rg', ['--version']).status !== 0) throw new Error('ripgrep could not be installed; it is the reference for the ratios');
}

/** Median wall time (s) of a shell command, output discarded; the last run's stderr is returned. */
function time(cmd) {
  const times = [];
  let stderr = '';
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('bash', ['-c', cmd], { env: { ...process.env, IOMMU_LENS_REPORT_RSS: '1' }, maxBuffer: 1 << 26 });
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} failed: ${r.stderr}`);
    stderr = r.stderr.toString();
    times.push(dt);
  }
  times.sort((a, b) => a - b);
  return { t: times[Math.floor(times.length / 2)], stderr };
}

function rss(stderr) {
  const m = /peak RSS (\d+) MB/.exec(stderr);
  return m ? Number(m[1]) : NaN;
}

const results = [];
function compare(name, ours, ref, target, rssTarget = 250) {
  const a = time(ref);
  const b = time(ours);
  const ratio = b.t / a.t;
  const peak = rss(b.stderr);
  const ok = ratio <= target && (Number.isNaN(peak) || peak <= rssTarget);
  results.push({ name, ours: b.t, ref: a.t, ratio, target, peak, ok });
  console.log(`${ok ? 'PASS' : 'MISS'}  ${name}: ${b.t.toFixed(3)} s vs ${a.t.toFixed(3)} s = ${ratio.toFixed(2)}x (target <= ${target}x), peak RSS ${peak} MB (target <= ${rssTarget} MB)`);
}

if (!existsSync(CLI)) throw new Error('run `npm run build` first (npm run bench does)');
ensureRipgrep();
console.log(`bench: generating logs (mixed ${MIXED_MB} MB, storm ${STORM_MB} MB) if missing…`);
const { mixed, storm } = await ensureLogs('bench/data', MIXED_MB, STORM_MB);
const keys = execFileSync('node', [CLI, 'scan', '--list-keys']).toString().trim().split('\n');
const pat = keys.map((k) => `-e '${k.replace(/'/g, `'\\''`)}'`).join(' ');
console.log(`bench: ${keys.length} key strings; ${RUNS} runs each, median; machine: ${(await import('node:os')).cpus().length} cores`);
// Warm the page cache so that both sides read from memory.
for (const f of [mixed, storm]) spawnSync('bash', ['-c', `cat ${f} > /dev/null`]);

compare(`summary  mixed ${MIXED_MB} MB  (scan FILE vs rg -c)`, `node ${CLI} scan ${mixed} > /dev/null`, `rg -c -F ${pat} ${mixed} > /dev/null`, 1.0);
compare(`summary  storm ${STORM_MB} MB  (scan FILE vs rg -c)`, `node ${CLI} scan ${storm} > /dev/null`, `rg -c -F ${pat} ${storm} > /dev/null`, 1.5);
compare(`json     mixed ${MIXED_MB} MB  (scan --json vs rg PATTERN)`, `node ${CLI} scan --json ${mixed} > /dev/null`, `rg -F ${pat} ${mixed} > /dev/null`, 2.0);
compare(`json     storm ${STORM_MB} MB  (scan --json vs rg PATTERN)`, `node ${CLI} scan --json ${storm} > /dev/null`, `rg -F ${pat} ${storm} > /dev/null`, 3.0);

for (const extra of ['bench/walk.mjs', 'bench/report.mjs']) {
  if (existsSync(extra)) {
    console.log(`\nbench: ${extra}`);
    const r = spawnSync('node', [extra], { stdio: 'inherit' });
    if (r.status !== 0) results.push({ name: extra, ok: false });
  }
}
const missed = results.filter((r) => !r.ok).length;
console.log(`\nbench: ${results.length - missed} of ${results.length} scan targets met`);
