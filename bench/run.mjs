// `npm run bench`: speed and memory against references measured in the same run, as ratios.
// Logs are generated deterministically into bench/data (git-ignored). Sizes can be lowered for a
// quick look: BENCH_MIXED_MB=64 BENCH_STORM_MB=32 BENCH_RUNS=1 BENCH_SCAN_ONLY=1 npm run bench
// Every command runs under GNU time: wall and CPU (user+sys, all threads) ratios and peak RSS are
// printed; targets are judged on CPU time unless BENCH_METRIC=wall (use that on a quiet machine).
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

function ensureGnuTime() {
  if (existsSync('/usr/bin/time')) return;
  console.log('bench: installing GNU time (Debian package "time") for CPU time and peak RSS');
  const apt = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (apt(['install', '-y', '-qq', 'time']).status !== 0) { apt(['update', '-qq']); apt(['install', '-y', '-qq', 'time']); }
  if (!existsSync('/usr/bin/time')) throw new Error('GNU time could not be installed');
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

/**
 * Median wall time and CPU time (user + sys, all threads) in s of a shell command, output
 * discarded, and its peak RSS in MB. On a shared machine wall times are noisy; CPU time is the
 * steadier comparison (for our multi-threaded scan it is also the stricter one).
 */
function time(cmd) {
  const walls = [], cpus = [], rsss = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-f', '@@time %U %S %M', 'bash', '-c', cmd], { env: process.env, maxBuffer: 1 << 26 });
    walls.push(Number(process.hrtime.bigint() - t0) / 1e9);
    if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} failed: ${r.stderr}`);
    const m = /@@time ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr.toString());
    if (!m) throw new Error(`no timing for ${cmd}: ${r.stderr}`);
    cpus.push(Number(m[1]) + Number(m[2]));
    rsss.push(Number(m[3]) / 1024);
  }
  return { t: median(walls), cpu: median(cpus), rss: Math.round(Math.max(...rsss)) };
}

// BENCH_METRIC=wall judges the targets on wall time (a quiet machine); the default judges on CPU time.
const METRIC = process.env.BENCH_METRIC === 'wall' ? 'wall' : 'cpu';
const results = [];
function compare(name, ours, ref, target, rssTarget = 250) {
  const a = time(ref);
  const b = time(ours);
  const wallRatio = b.t / a.t;
  const cpuRatio = b.cpu / a.cpu;
  const ratio = METRIC === 'wall' ? wallRatio : cpuRatio;
  const peak = b.rss;
  const ok = ratio <= target && peak <= rssTarget;
  results.push({ name, ours: b, ref: a, ratio, target, peak, ok });
  console.log(`${ok ? 'PASS' : 'MISS'}  ${name}: ${METRIC} ${ratio.toFixed(2)}x (target <= ${target}x); wall ${b.t.toFixed(3)} s vs ${a.t.toFixed(3)} s = ${wallRatio.toFixed(2)}x, CPU ${b.cpu.toFixed(2)} s vs ${a.cpu.toFixed(2)} s = ${cpuRatio.toFixed(2)}x; peak RSS ${peak} MB (target <= ${rssTarget} MB)`);
}

if (!existsSync(CLI)) throw new Error('run `npm run build` first (npm run bench does)');
ensureRipgrep();
ensureGnuTime();
console.log(`bench: generating logs (mixed ${MIXED_MB} MB, storm ${STORM_MB} MB) if missing…`);
const { mixed, storm } = await ensureLogs('bench/data', MIXED_MB, STORM_MB);
const keys = execFileSync('node', [CLI, 'scan', '--list-keys']).toString().trim().split('\n');
const pat = keys.map((k) => `-e '${k.replace(/'/g, `'\\''`)}'`).join(' ');
console.log(`bench: ${keys.length} key strings; ${RUNS} runs each, median; targets judged on ${METRIC} time; machine: ${(await import('node:os')).cpus().length} cores, load ${(await import('node:os')).loadavg()[0].toFixed(1)}`);
// Warm the page cache so that both sides read from memory.
for (const f of [mixed, storm]) spawnSync('bash', ['-c', `cat ${f} > /dev/null`]);

compare(`summary  mixed ${MIXED_MB} MB  (scan FILE vs rg -c)`, `node ${CLI} scan ${mixed} > /dev/null`, `rg -c -F ${pat} ${mixed} > /dev/null`, 1.0);
compare(`summary  storm ${STORM_MB} MB  (scan FILE vs rg -c)`, `node ${CLI} scan ${storm} > /dev/null`, `rg -c -F ${pat} ${storm} > /dev/null`, 1.5);
compare(`json     mixed ${MIXED_MB} MB  (scan --json vs rg PATTERN)`, `node ${CLI} scan --json ${mixed} > /dev/null`, `rg -F ${pat} ${mixed} > /dev/null`, 2.0);
compare(`json     storm ${STORM_MB} MB  (scan --json vs rg PATTERN)`, `node ${CLI} scan --json ${storm} > /dev/null`, `rg -F ${pat} ${storm} > /dev/null`, 3.0);

// BENCH_SCAN_ONLY=1 skips the other benchmarks (quick scan measurements).
for (const extra of process.env.BENCH_SCAN_ONLY ? [] : ['bench/walk.mjs', 'bench/report.mjs']) {
  if (existsSync(extra)) {
    console.log(`\nbench: ${extra}`);
    const r = spawnSync('node', [extra], { stdio: 'inherit' });
    if (r.status !== 0) results.push({ name: extra, ok: false });
  }
}
const missed = results.filter((r) => !r.ok).length;
console.log(`\nbench: ${results.length - missed} of ${results.length} scan targets met`);
