/**
 * Registers and code tables described as data. One description drives the decoder, the hover
 * text, the CLI's `decode` output and the generated docs, so a field is written down once.
 */

export interface FieldValue {
  /** short architectural name of this value, e.g. "F_TRANSLATION" */
  name: string;
  /** meaning in words */
  text: string;
}

export interface FieldDescription {
  /** architectural field name, e.g. "TF", "S1CBNDX", "WNR" */
  name: string;
  /** [msb, lsb], inclusive; a single bit is [n, n] */
  bits: readonly [number, number];
  /** short title: "Translation fault" */
  title: string;
  /** what it means for the user, in words (for a 1-bit flag: what it means when set) */
  doc?: string;
  /** named values (enumerations, encodings); keys are decimal values */
  values?: Readonly<Record<number, FieldValue>>;
  /** meaning when the 1-bit flag is clear (defaults to "not set") */
  whenClear?: string;
  /** how the value is printed: hex (default for multi-bit), dec, bool (default for 1 bit), or an address part */
  format?: 'hex' | 'dec' | 'bool';
  /** bits of an address: the field's value is shifted left by this amount to form the address */
  addressShift?: number;
  /** reserved bits: a non-zero value is worth flagging */
  reserved?: boolean;
}

export interface RegisterDescription {
  /** unique id, "<family>.<register>", e.g. "arm-smmu.fsr" */
  id: string;
  family: string;
  /** architectural register name as printed: "CB_FSR", "GFSR", "FRCD", "event dword 1" */
  name: string;
  /** the key used in FaultRecord.registers, e.g. "fsr" */
  key: string;
  width: 32 | 64 | 128;
  title: string;
  doc?: string;
  fields: readonly FieldDescription[];
  /** where the facts came from (spec section, Linux file) */
  source?: string;
}

export interface DecodedField {
  name: string;
  /** "31:24" or "7" */
  bits: string;
  title: string;
  /** raw field value as hex (multi-bit) or 0/1 */
  value: string;
  /** the meaning of this value in words */
  meaning: string;
  /** short value name when the field has named values */
  valueName?: string;
  /** true for a 1-bit flag that is set or a multi-bit field that is non-zero */
  active: boolean;
  reserved?: boolean;
}

export interface DecodedRegister {
  id: string;
  name: string;
  title: string;
  value: string;
  fields: DecodedField[];
  /** one line: active flags and named values, e.g. "TF, Format=2 (AArch64)" */
  summary: string;
}

export function fieldValue(value: bigint, bits: readonly [number, number]): bigint {
  const [hi, lo] = bits;
  const mask = (1n << BigInt(hi - lo + 1)) - 1n;
  return (value >> BigInt(lo)) & mask;
}

/** Decode a value against its description; every field is reported, set or not. */
export function decodeRegister(desc: RegisterDescription, value: bigint): DecodedRegister {
  const fields: DecodedField[] = [];
  const summary: string[] = [];
  for (const f of desc.fields) {
    const v = fieldValue(value, f.bits);
    const oneBit = f.bits[0] === f.bits[1];
    const named = f.values?.[Number(v)];
    const active = v !== 0n;
    let meaning: string;
    if (named) meaning = named.text;
    else if (oneBit && (f.format ?? 'bool') === 'bool') meaning = active ? (f.doc ?? f.title) : (f.whenClear ?? 'not set');
    else if (f.addressShift !== undefined) meaning = `address bits → 0x${(v << BigInt(f.addressShift)).toString(16)}`;
    else meaning = f.doc ?? f.title;
    const d: DecodedField = {
      name: f.name,
      bits: f.bits[0] === f.bits[1] ? `${f.bits[0]}` : `${f.bits[0]}:${f.bits[1]}`,
      title: f.title,
      value: oneBit ? v.toString() : f.format === 'dec' ? v.toString() : '0x' + v.toString(16),
      meaning,
      active,
    };
    if (named) d.valueName = named.name;
    if (f.reserved) d.reserved = true;
    fields.push(d);
    if (f.reserved) { if (active) summary.push(`reserved ${f.name}=0x${v.toString(16)}`); continue; }
    if (oneBit && !named && (f.format ?? 'bool') === 'bool') { if (active) summary.push(f.name); }
    else if (named) summary.push(`${f.name}=${named.name}`);
    else if (active) summary.push(`${f.name}=${d.value}`);
  }
  return { id: desc.id, name: desc.name, title: desc.title, value: '0x' + value.toString(16), fields, summary: summary.join(', ') };
}

/**
 * Fault storms repeat the same register values millions of times: decoded fields are cached per
 * (description, value). Callers get a copy, so a caller that adds fields cannot corrupt the cache.
 */
// Keyed by description and value (Map compares bigints by value): no key string to build per
// record, which cost more than the lookup in fault storms.
const fieldCache = new Map<RegisterDescription, Map<bigint, Record<string, number | boolean | string>>>();
let fieldCacheSize = 0;
const FIELD_CACHE_MAX = 8192;

/** A field as decodedFields reads it, worked out once per description. */
interface FieldPlan {
  name: string;
  hi: number;
  lo: number;
  /** a 1-bit field printed as a flag */
  flag: boolean;
  values?: Readonly<Record<number, FieldValue>>;
  /** fieldValue's shift and mask, for fields read the bigint way */
  shift: bigint;
  mask: bigint;
}

interface Plan {
  fields: FieldPlan[];
  /**
   * Whether answers are worth caching: a description of up to four fields is read about as fast
   * as a cache hit is copied, and much faster than a miss is searched and stored (SMMUv3 event
   * dwords, which hardly repeat, filled the cache most and had it cleared over and over).
   */
  cached: boolean;
}

const plans = new Map<RegisterDescription, Plan>();

function planOf(desc: RegisterDescription): Plan {
  let p = plans.get(desc);
  if (!p) {
    const fields = desc.fields.filter((f) => !f.reserved).map((f) => ({
      name: f.name, hi: f.bits[0], lo: f.bits[1],
      flag: f.bits[0] === f.bits[1] && (f.format ?? 'bool') === 'bool', values: f.values,
      shift: BigInt(f.bits[1]), mask: (1n << BigInt(f.bits[0] - f.bits[1] + 1)) - 1n,
    }));
    p = { fields, cached: fields.length > 4 };
    plans.set(desc, p);
  }
  return p;
}

const TWO64 = 1n << 64n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Bits hi..lo of the value whose 32-bit halves are loWord and hiWord, as an exact number; -1 when
 * the field is wider than 53 bits or malformed (the caller then takes the bigint way).
 */
function wordField(loWord: number, hiWord: number, hi: number, lo: number): number {
  const width = hi - lo + 1;
  if (width > 53 || width < 1 || lo < 0) return -1;
  if (hi < 32) return width === 32 ? loWord >>> 0 : (loWord >>> lo) & ((1 << width) - 1);
  if (lo >= 32) return width === 32 ? hiWord >>> 0 : (hiWord >>> (lo - 32)) & ((1 << width) - 1);
  // across the halves: the high part has hi - 31 bits (at most 22 here), the low part 32 - lo bits
  const high = hi === 63 ? hiWord >>> 0 : (hiWord & ((1 << (hi - 31)) - 1)) >>> 0;
  return high * 2 ** (32 - lo) + (loWord >>> lo);
}

/** Plain decoded fields for FaultRecord.decoded: field name -> number, boolean or value name. */
export function decodedFields(desc: RegisterDescription, value: bigint): Record<string, number | boolean | string> {
  const plan = planOf(desc);
  if (!plan.cached) return readFields(plan, value);
  let byValue = fieldCache.get(desc);
  const hit = byValue?.get(value);
  if (hit) return { ...hit };
  const out = readFields(plan, value);
  if (fieldCacheSize >= FIELD_CACHE_MAX) { fieldCache.clear(); fieldCacheSize = 0; byValue = undefined; }
  if (!byValue) fieldCache.set(desc, (byValue = new Map()));
  byValue.set(value, out);
  fieldCacheSize++;
  return { ...out };
}

function readFields(plan: Plan, value: bigint): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {};
  // Values of up to 64 bits are cut in two 32-bit numbers once; fields are then read with number
  // arithmetic (exact: at most 53 bits each) instead of a bigint shift and mask per field.
  const words = value >= 0n && value < TWO64;
  const loWord = words ? Number(value & 0xffffffffn) : 0;
  const hiWord = words ? Number(value >> 32n) : 0;
  for (const f of plan.fields) {
    const n = words && f.hi < 64 ? wordField(loWord, hiWord, f.hi, f.lo) : -1;
    if (n >= 0) {
      const named = f.values?.[n];
      if (named) out[f.name] = named.name;
      else if (f.flag) out[f.name] = n !== 0;
      else out[f.name] = n;
      continue;
    }
    const v = (value >> f.shift) & f.mask; // fieldValue with the shift and mask worked out once
    const named = f.values?.[Number(v)];
    if (named) out[f.name] = named.name;
    else if (f.flag) out[f.name] = v !== 0n;
    else out[f.name] = v <= MAX_SAFE ? Number(v) : '0x' + v.toString(16);
  }
  return out;
}
