/**
 * `iommu-lens` command line. Each subcommand lives in its own module; this file only dispatches.
 * Exit codes: 0 success, 1 the input was read but holds a problem (walk fault with --fail-on-fault,
 * validation errors), 2 usage or I/O error.
 *
 * Import commands with `import()` only: scripts/build.mjs bundles each one separately
 * (dist/cli-<module>.js) so that a run parses and compiles the code of its own command alone.
 */
import * as nodeModule from 'node:module';
import { CliError } from './errors';

// Node 22.1+ keeps V8's compiled code of the bundles between runs (NODE_DISABLE_COMPILE_CACHE=1 turns
// it off); Node 20 has no such API and compiles every time.
try { (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.(); } catch { /* a cache is optional */ }

const USAGE = `usage: iommu-lens <command> [options]

commands:
  scan FILE... [--json]            find and decode every IOMMU fault record
  decode "LINE"                    decode one log line
  decode --family F reg=value...   decode register values (e.g. --family arm-smmu fsr=0x402)
  walk SNAPSHOT --iova ADDR ...    walk a translation in a snapshot
  snapshot info FILE               summarise a snapshot and its sanity findings
  report LOG [--snapshot S]        storms, pending requests, culprits (md, html, json)

Run 'iommu-lens <command> --help' for the options of one command.`;

type Command = (args: string[]) => Promise<number> | number;

const COMMANDS: Record<string, () => Promise<Command>> = {
  scan: async () => (await import('./scan')).runScan,
  decode: async () => (await import('./decode')).runDecode,
  walk: async () => (await import('./walk')).runWalk,
  snapshot: async () => (await import('./snapshot-info')).runSnapshot,
  report: async () => (await import('./report')).runReport,
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE + '\n');
    return cmd ? 0 : 2;
  }
  if (cmd === '--version') { process.stdout.write('iommu-lens 0.1.0\n'); return 0; }
  const load = COMMANDS[cmd];
  if (!load) {
    process.stderr.write(`iommu-lens: unknown command '${cmd}'\n\n${USAGE}\n`);
    return 2;
  }
  return (await load())(rest);
}

// For benchmarks: peak memory of the whole process (worker threads included), printed at exit.
if (process.env.IOMMU_LENS_REPORT_RSS) {
  process.on('exit', () => process.stderr.write(`iommu-lens: peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB\n`));
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof CliError) { process.stderr.write(`iommu-lens: ${err.message}\n`); process.exitCode = err.exitCode; }
    else { process.stderr.write(`iommu-lens: internal error: ${err instanceof Error ? err.stack : String(err)}\n`); process.exitCode = 70; }
  },
);
