/** Minimal argument parsing: flags with values, repeated flags, positionals; unknown flags are errors. */
import { CliError } from './errors';

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[]>;
  bools: Set<string>;
}

export function parseArgs(args: string[], spec: { values?: string[]; bools?: string[] }, command: string): ParsedArgs {
  const values = new Set(spec.values ?? []);
  const bools = new Set(spec.bools ?? []);
  const out: ParsedArgs = { positionals: [], flags: new Map(), bools: new Set() };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { out.positionals.push(...args.slice(i + 1)); break; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (bools.has(name)) { out.bools.add(name); continue; }
      if (!values.has(name)) throw new CliError(`${command}: unknown option '--${name}' (see 'iommu-lens ${command} --help')`);
      const v = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw new CliError(`${command}: option '--${name}' needs a value`);
      const list = out.flags.get(name) ?? [];
      list.push(v);
      out.flags.set(name, list);
      continue;
    }
    out.positionals.push(a);
  }
  return out;
}
