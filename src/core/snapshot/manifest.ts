/**
 * The `iommu-lens-snapshot` v1 manifest (DESIGN.md, docs/snapshot-format.md): parsed and validated
 * in full before anything is opened. Every problem names the file, the JSON path and what was
 * expected; all problems are reported at once. Nothing in a manifest is ever executed, and only
 * the files named in `memory[]` are read (by the loader, not here).
 */
import type { IommuFeatures, IommuModel, SmmuV2Registers } from './types';
import { ManifestError } from './errors';

export const MANIFEST_FORMAT = 'iommu-lens-snapshot';
export const MANIFEST_VERSION = 1;
export const MODELS: readonly IommuModel[] = ['arm-smmu-v2', 'arm-smmu-v3', 'intel-vtd', 'amd-vi', 'arm-lpae', 'arm-v7s'];

export interface MemorySourceSpec {
  kind: 'elf' | 'raw';
  /** as written in the manifest: relative to the manifest's folder, or absolute */
  file: string;
  /** physical address of the first byte (raw only) */
  base?: bigint;
}

export interface SnapshotManifest {
  description?: string;
  model: IommuModel;
  name?: string;
  features: IommuFeatures;
  registers: Record<string, bigint>;
  smmuV2?: SmmuV2Registers;
  memory: MemorySourceSpec[];
  /** unknown fields and register names: kept, reported, not fatal (other tools may extend the format) */
  warnings: string[];
}

/** Registers each model requires / accepts (lowercase names as the specifications spell them). */
export const MODEL_REGISTERS: Record<IommuModel, { required: string[][]; optional: string[] }> = {
  // each inner list is "one of" (arm-lpae: a stage 1 or a stage 2 regime)
  'arm-lpae': { required: [], optional: ['tcr', 'ttbr0', 'ttbr1', 'mair', 'vtcr', 'vttbr', 'sctlr'] },
  'arm-v7s': { required: [['ttbr0']], optional: ['ttbr1', 'tcr', 'prrr', 'nmrr', 'sctlr', 'contextidr'] },
  'arm-smmu-v2': { required: [], optional: ['idr0', 'idr1', 'idr2', 'scr0'] },
  'arm-smmu-v3': { required: [['strtab_base'], ['strtab_base_cfg']], optional: ['cr0', 'cr2', 'gbpa', 'idr0', 'idr1', 'idr2', 'idr3', 'idr4', 'idr5'] },
  'intel-vtd': { required: [['rtaddr']], optional: ['cap', 'ecap', 'gsts', 'ver'] },
  'amd-vi': { required: [['dev_table_base']], optional: ['ext_feature', 'control'] },
};

export const CONTEXT_BANK_REGISTERS = ['sctlr', 'tcr', 'tcr2', 'ttbr0', 'ttbr1', 'mair0', 'mair1', 'cbar', 'cba2r'] as const;

const FEATURE_WIDTHS: Record<string, [number, number]> = {
  ias: [1, 64],
  oas: [1, 64],
  asidBits: [0, 16],
  vmidBits: [0, 16],
  ssidBits: [0, 20],
  pasidBits: [0, 20],
  sidBits: [0, 32],
};
const FEATURE_BOOLS = ['stall', 'pri', 'ats', 'btm', 'scalableMode', 'firstLevel', 'secondLevel', 'nested'];
const GRANULES = ['4k', '16k', '64k'];
const FORMATS = ['aarch64', 'aarch32-lpae', 'v7s'];
const HTTU = ['none', 'access', 'access+dirty'];

const HEX_RE = /^0[xX][0-9a-fA-F]{1,64}$/;

type Json = unknown;

class Problems {
  readonly list: { path: string; message: string }[] = [];
  readonly warnings: string[] = [];
  constructor(readonly file: string) {}
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
  warn(path: string, message: string): void {
    this.warnings.push(`${this.file}: ${path}: ${message}`);
  }
}

function describe(v: Json): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return s.length > 40 ? s.slice(0, 37) + '...' : s;
}

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A 64-bit register value or address: hex string "0x...". */
export function parseHex64(v: Json, path: string, p: Problems): bigint | undefined {
  if (typeof v !== 'string' || !HEX_RE.test(v)) {
    p.add(path, `expected a hex string like "0x80000000", got ${describe(v)}`);
    return undefined;
  }
  const n = BigInt(v);
  if (n >> 64n !== 0n) {
    p.add(path, `expected a value of at most 64 bits, got ${v}`);
    return undefined;
  }
  return n;
}

function parseIntField(v: Json, path: string, p: Problems, min: number, max: number): number | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    p.add(path, `expected an integer from ${min} to ${max}, got ${describe(v)}`);
    return undefined;
  }
  return v;
}

function parseEnumList<T extends string>(v: Json, path: string, p: Problems, allowed: string[]): T[] | undefined {
  if (!Array.isArray(v)) {
    p.add(path, `expected an array of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describe(v)}`);
    return undefined;
  }
  const out: T[] = [];
  v.forEach((x, i) => {
    if (typeof x === 'string' && allowed.includes(x)) out.push(x as T);
    else p.add(`${path}[${i}]`, `expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describe(x)}`);
  });
  return out;
}

function parseFeatures(v: Json, p: Problems): IommuFeatures {
  const f: IommuFeatures = {};
  if (v === undefined) return f;
  if (!isObject(v)) {
    p.add('iommu.features', `expected an object, got ${describe(v)}`);
    return f;
  }
  const rec = f as Record<string, unknown>;
  for (const [k, val] of Object.entries(v)) {
    const path = `iommu.features.${k}`;
    const width = FEATURE_WIDTHS[k];
    if (width) {
      const n = parseIntField(val, path, p, width[0], width[1]);
      if (n !== undefined) rec[k] = n;
    } else if (FEATURE_BOOLS.includes(k)) {
      if (typeof val === 'boolean') rec[k] = val;
      else p.add(path, `expected true or false, got ${describe(val)}`);
    } else if (k === 'granules') {
      const g = parseEnumList<'4k' | '16k' | '64k'>(val, path, p, GRANULES);
      if (g) f.granules = g;
    } else if (k === 'formats') {
      const g = parseEnumList<'aarch64' | 'aarch32-lpae' | 'v7s'>(val, path, p, FORMATS);
      if (g) f.formats = g;
    } else if (k === 'httu') {
      if (typeof val === 'string' && HTTU.includes(val)) f.httu = val as IommuFeatures['httu'];
      else p.add(path, `expected one of "none", "access", "access+dirty", got ${describe(val)}`);
    } else if (k === 'levels') {
      if (!Array.isArray(val)) p.add(path, `expected an array of supported levels like [4, 5], got ${describe(val)}`);
      else {
        const lv: number[] = [];
        val.forEach((x, i) => {
          const n = parseIntField(x, `${path}[${i}]`, p, 1, 6);
          if (n !== undefined) lv.push(n);
        });
        f.levels = lv;
      }
    } else {
      p.warn(path, 'unknown feature, ignored');
    }
  }
  return f;
}

function parseSmmuV2(regs: Record<string, Json>, p: Problems): SmmuV2Registers {
  const out: SmmuV2Registers = { smr: [], s2cr: [], contextBanks: {} };
  const arr = (key: 'smr' | 's2cr', required: boolean): bigint[] => {
    const v = regs[key];
    if (v === undefined) {
      if (required) p.add(`registers.${key}`, 'expected an array of hex strings (one per stream-map group), got nothing');
      return [];
    }
    if (!Array.isArray(v)) {
      p.add(`registers.${key}`, `expected an array of hex strings (one per stream-map group), got ${describe(v)}`);
      return [];
    }
    return v.map((x, i) => parseHex64(x, `registers.${key}[${i}]`, p) ?? 0n);
  };
  // without stream matching (ID0.SMS = 0) there are no SMRs and S2CR is indexed by stream ID
  out.smr = arr('smr', false);
  out.s2cr = arr('s2cr', true);
  if (regs.smr !== undefined && Array.isArray(regs.smr) && Array.isArray(regs.s2cr) && regs.smr.length !== regs.s2cr.length) {
    p.add('registers.s2cr', `expected one S2CR per SMR (${regs.smr.length}), got ${regs.s2cr.length}`);
  }
  const cbs = regs.contextBanks;
  if (!isObject(cbs)) {
    p.add('registers.contextBanks', `expected an object keyed by context-bank index ({"0": {"sctlr": "0x...", ...}}), got ${describe(cbs)}`);
    return out;
  }
  for (const [idx, bank] of Object.entries(cbs)) {
    const path = `registers.contextBanks.${idx}`;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(idx) || Number(idx) > 255) {
      p.add(path, 'expected a context-bank index from 0 to 255 as the key');
      continue;
    }
    if (!isObject(bank)) {
      p.add(path, `expected an object of context-bank registers, got ${describe(bank)}`);
      continue;
    }
    const cb: Partial<Record<(typeof CONTEXT_BANK_REGISTERS)[number], bigint>> = {};
    for (const [rk, rv] of Object.entries(bank)) {
      if (!(CONTEXT_BANK_REGISTERS as readonly string[]).includes(rk)) {
        p.warn(`${path}.${rk}`, `unknown context-bank register (known: ${CONTEXT_BANK_REGISTERS.join(', ')}), ignored`);
        continue;
      }
      const n = parseHex64(rv, `${path}.${rk}`, p);
      if (n !== undefined) cb[rk as (typeof CONTEXT_BANK_REGISTERS)[number]] = n;
    }
    out.contextBanks[Number(idx)] = cb;
  }
  return out;
}

function parseRegisters(model: IommuModel | undefined, v: Json, p: Problems): { flat: Record<string, bigint>; smmuV2?: SmmuV2Registers } {
  const flat: Record<string, bigint> = {};
  if (!isObject(v)) {
    p.add('registers', `expected an object of register values, got ${describe(v)}`);
    return { flat };
  }
  let smmuV2: SmmuV2Registers | undefined;
  const spec = model ? MODEL_REGISTERS[model] : undefined;
  const special = model === 'arm-smmu-v2' ? ['smr', 's2cr', 'contextBanks'] : [];
  if (model === 'arm-smmu-v2') smmuV2 = parseSmmuV2(v, p);
  for (const [k, val] of Object.entries(v)) {
    if (special.includes(k)) continue;
    const path = `registers.${k}`;
    if (k !== k.toLowerCase()) {
      p.add(path, `expected lowercase register names as the specifications spell them ("${k.toLowerCase()}")`);
      continue;
    }
    const n = parseHex64(val, path, p);
    if (n === undefined) continue;
    flat[k] = n;
    if (spec && !spec.optional.includes(k) && !spec.required.some((alts) => alts.includes(k))) {
      p.warn(path, `register not used by the ${model} walker (known: ${[...spec.required.flat(), ...spec.optional].join(', ')})`);
    }
  }
  if (spec) {
    for (const alts of spec.required) {
      if (!alts.some((k) => k in v)) p.add(`registers.${alts[0]}`, `expected a hex string (required for ${model}), got nothing`);
    }
  }
  if (model === 'arm-lpae') {
    const s1 = 'tcr' in flat && ('ttbr0' in flat || 'ttbr1' in flat);
    const s2 = 'vtcr' in flat && 'vttbr' in flat;
    if (!s1 && !s2 && !p.list.some((x) => x.path.startsWith('registers.'))) {
      p.add('registers', 'expected a stage-1 regime (tcr with ttbr0 and/or ttbr1) or a stage-2 regime (vtcr with vttbr), or both for nested');
    }
  }
  return smmuV2 ? { flat, smmuV2 } : { flat };
}

function parseMemory(v: Json, p: Problems): MemorySourceSpec[] {
  const out: MemorySourceSpec[] = [];
  if (!Array.isArray(v) || v.length === 0) {
    p.add('memory', `expected a non-empty array of memory sources ({"kind": "elf", "file": "guest.core"}), got ${Array.isArray(v) ? 'an empty array' : describe(v)}`);
    return out;
  }
  v.forEach((m, i) => {
    const path = `memory[${i}]`;
    if (!isObject(m)) {
      p.add(path, `expected an object {"kind", "file"[, "base"]}, got ${describe(m)}`);
      return;
    }
    const kind = m.kind;
    if (kind !== 'elf' && kind !== 'raw') {
      p.add(`${path}.kind`, `expected "elf" or "raw", got ${describe(kind)}`);
      return;
    }
    const file = m.file;
    if (typeof file !== 'string' || file.length === 0 || file.includes('\0')) {
      p.add(`${path}.file`, `expected a file name relative to the manifest, got ${describe(file)}`);
      return;
    }
    const spec: MemorySourceSpec = { kind, file };
    if (kind === 'raw') {
      const base = m.base === undefined ? (p.add(`${path}.base`, 'expected a hex string like "0x80000000" (physical address of the first byte of a raw file), got nothing'), undefined) : parseHex64(m.base, `${path}.base`, p);
      if (base === undefined) return;
      spec.base = base;
    } else if (m.base !== undefined) {
      p.add(`${path}.base`, 'expected no base for an ELF core (its PT_LOAD headers give the physical addresses)');
    }
    for (const k of Object.keys(m)) if (!['kind', 'file', 'base'].includes(k)) p.warn(`${path}.${k}`, 'unknown field, ignored');
    out.push(spec);
  });
  return out;
}

/** Validate an already-parsed JSON value. Throws ManifestError listing every problem. */
export function validateManifest(json: Json, file: string): SnapshotManifest {
  const p = new Problems(file);
  if (!isObject(json)) throw new ManifestError(file, [{ path: '', message: `expected a JSON object (an iommu-lens-snapshot manifest), got ${describe(json)}` }]);
  if (json.format !== MANIFEST_FORMAT) p.add('format', `expected "${MANIFEST_FORMAT}", got ${describe(json.format)}`);
  if (json.version !== MANIFEST_VERSION) {
    p.add('version', typeof json.version === 'number' && json.version > MANIFEST_VERSION ? `expected 1, got ${json.version} (a newer format than this version of iommu-lens reads)` : `expected 1, got ${describe(json.version)}`);
  }
  if (json.description !== undefined && typeof json.description !== 'string') p.add('description', `expected a string, got ${describe(json.description)}`);

  let model: IommuModel | undefined;
  let name: string | undefined;
  let features: IommuFeatures = {};
  const iommu = json.iommu;
  if (!isObject(iommu)) {
    p.add('iommu', `expected an object {"model", "name", "features"}, got ${describe(iommu)}`);
  } else {
    if (typeof iommu.model === 'string' && (MODELS as string[]).includes(iommu.model)) model = iommu.model as IommuModel;
    else p.add('iommu.model', `expected one of ${MODELS.map((m) => `"${m}"`).join(', ')}, got ${describe(iommu.model)}`);
    if (iommu.name !== undefined) {
      if (typeof iommu.name === 'string') name = iommu.name;
      else p.add('iommu.name', `expected a string (the instance as logs print it, e.g. "dmar0"), got ${describe(iommu.name)}`);
    }
    features = parseFeatures(iommu.features, p);
    for (const k of Object.keys(iommu)) if (!['model', 'name', 'features'].includes(k)) p.warn(`iommu.${k}`, 'unknown field, ignored');
  }
  const regs = parseRegisters(model, json.registers, p);
  const memory = parseMemory(json.memory, p);
  for (const k of Object.keys(json)) {
    if (!['format', 'version', 'description', 'iommu', 'registers', 'memory'].includes(k)) p.warn(k, 'unknown field, ignored');
  }
  if (p.list.length > 0 || !model) throw new ManifestError(file, p.list);
  const out: SnapshotManifest = { model, features, registers: regs.flat, memory, warnings: p.warnings };
  if (typeof json.description === 'string') out.description = json.description;
  if (name !== undefined) out.name = name;
  if (regs.smmuV2) out.smmuV2 = regs.smmuV2;
  return out;
}

/** Parse manifest text. `file` is used in messages only. */
export function parseManifest(text: string, file: string): SnapshotManifest {
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new ManifestError(file, [{ path: '', message: `not valid JSON: ${msg}` }]);
  }
  return validateManifest(json, file);
}
