/**
 * A tiny WebAssembly binary emitter: just the instructions the key finder needs. Assembling the
 * module at load time (a few hundred bytes, microseconds) keeps generated binaries out of the
 * repository and needs no toolchain; WebAssembly.validate catches any encoding slip.
 */

export const I32 = 0x7f;
export const V128 = 0x7b;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}

function name(s: string): number[] {
  const bytes = [...s].map((c) => c.charCodeAt(0));
  return [...uleb(bytes.length), ...bytes];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** Instruction builder: each method appends one instruction and returns `this`. */
export class Code {
  readonly bytes: number[] = [];
  private op(...b: number[]): this { this.bytes.push(...b); return this; }
  private simd(op: number, ...rest: number[]): this { return this.op(0xfd, ...uleb(op), ...rest); }

  get(i: number) { return this.op(0x20, ...uleb(i)); }
  set(i: number) { return this.op(0x21, ...uleb(i)); }
  tee(i: number) { return this.op(0x22, ...uleb(i)); }
  i32(n: number) { return this.op(0x41, ...sleb(n | 0)); }
  load(offset = 0) { return this.op(0x28, 0, ...uleb(offset)); }
  load8u(offset = 0) { return this.op(0x2d, 0, ...uleb(offset)); }
  store(offset = 0) { return this.op(0x36, 0, ...uleb(offset)); }
  add() { return this.op(0x6a); }
  sub() { return this.op(0x6b); }
  mul() { return this.op(0x6c); }
  and() { return this.op(0x71); }
  or() { return this.op(0x72); }
  shrU() { return this.op(0x76); }
  shl() { return this.op(0x74); }
  clz() { return this.op(0x67); }
  ctz() { return this.op(0x68); }
  popcnt() { return this.op(0x69); }
  eqz() { return this.op(0x45); }
  eq() { return this.op(0x46); }
  ne() { return this.op(0x47); }
  ltU() { return this.op(0x49); }
  leU() { return this.op(0x4d); }
  geU() { return this.op(0x4f); }
  block() { return this.op(0x02, 0x40); }
  loop() { return this.op(0x03, 0x40); }
  if() { return this.op(0x04, 0x40); }
  else() { return this.op(0x05); }
  end() { return this.op(0x0b); }
  br(depth: number) { return this.op(0x0c, ...uleb(depth)); }
  brIf(depth: number) { return this.op(0x0d, ...uleb(depth)); }
  ret() { return this.op(0x0f); }
  call(f: number) { return this.op(0x10, ...uleb(f)); }
  // SIMD (0xfd prefix); alignment hint 0 because loads are unaligned
  vload(offset = 0) { return this.simd(0x00, 0, ...uleb(offset)); }
  vstore(offset = 0) { return this.simd(0x0b, 0, ...uleb(offset)); }
  vzero() { return this.simd(0x0c, ...new Array<number>(16).fill(0)); }
  swizzle() { return this.simd(0x0e); }
  splat8() { return this.simd(0x0f); }
  eq8() { return this.simd(0x23); }
  ne8() { return this.simd(0x24); }
  vand() { return this.simd(0x4e); }
  anyTrue() { return this.simd(0x53); }
  bitmask8() { return this.simd(0x64); }
  shrU8() { return this.simd(0x6d); }
}

export interface FuncDef {
  params: number[];
  results: number[];
  /** extra locals, in order after the params */
  locals: number[];
  body: Code;
  export?: string;
}

/** A module importing its memory as env.mem, with the given functions (index = position). */
export function emitModule(funcs: FuncDef[]): Uint8Array<ArrayBuffer> {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec(f.results.map((r) => [r]))]);
  const imports = vec([[...name('env'), ...name('mem'), 0x02, 0x00, 0x01]]);
  const fnSec = vec(funcs.map((_, i) => uleb(i)));
  const exportsList = funcs.flatMap((f, i) => (f.export ? [[...name(f.export), 0x00, ...uleb(i)]] : []));
  const bodies = funcs.map((f) => {
    const groups: number[][] = [];
    for (const t of f.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]!++;
      else groups.push([1, t]);
    }
    const body = [...vec(groups.map(([n, t]) => [...uleb(n!), t!])), ...f.body.bytes, 0x0b];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, fnSec),
    ...section(7, vec(exportsList)),
    ...section(10, vec(bodies)),
  ]);
}
