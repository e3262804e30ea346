/**
 * The key finder's WebAssembly code (simd128). `find` runs a Teddy-style filter over 16 bytes at a
 * time: the low and high nibbles of bytes i, i+1, ... i+TEDDY_BYTES-1 index per-bucket masks (up
 * to 8 buckets of keys grouped by their first bytes), so a position survives only if some bucket
 * accepts all of them. Survivors are checked exactly against that bucket's keys. The same pass counts
 * newlines, so each candidate line comes out with its start offset and line index, and the text
 * that holds no key is never decoded at all.
 */
import { Code, emitModule, I32, V128 } from './wasm-emit';

/**
 * Bytes of each key the filter looks at (keys shorter than this accept anything past their end).
 * Fewer let common words through ("iomm", "page", "even" from ordinary lines); more cost SIMD
 * work per block and, past 6, spill vector registers (4 and 6 measured alike on the bench logs,
 * 8 was 40 % slower); 6 keeps verification work low on logs full of near-miss words.
 */
export const TEDDY_BYTES = 6;

/** Multiplier and width of the hash of a key's first 4 bytes (little-endian) in the bloom filter. */
export const BLOOM_MUL = 0x9e3779b1 | 0;
export const BLOOM_BITS = 12;

/** Fixed memory layout (byte offsets). */
export const LAYOUT = {
  /** LO/HI nibble tables (16 bytes each) for each of the TEDDY_BYTES filtered positions */
  masks: 0,
  /** scratch: the 16 bucket bytes of the current block */
  resbuf: 256,
  /** u32 newlines-before-pos, u32 start of the current line, u32 last line emitted, u32 resume pos */
  state: 272,
  /** per bucket: u32 first entry in `blist`, u32 entry count */
  dir: 320,
  /** keysIn's answer: one bit per key (original key order) */
  keybits: 384,
  /** per key (original order): u32 byte offset, u32 length */
  refs: 512,
  /** bucket member lists: u32 key indices */
  blist: 2432,
  maxKeys: 240,
  keys: 4096,
  keysEnd: 16384,
  /** candidate lines: u32 line start, u32 line index */
  out: 16384,
  outCap: 8192,
  /** 4096-bit filter of the keys' first 4 bytes (BLOOM_HASH): most filter survivors start no key */
  bloom: 98304,
  /** where blocks to scan are placed */
  data: 131072,
} as const;

/**
 * res = bucket bits of the 16 positions from `pos`: position i keeps bucket b if bytes i..i+N-1
 * all pass b's nibble tables. With `loaded`, v already holds the bytes at pos.
 */
function emitFilter(c: Code, pos: number, v: number, res: number, nib: number, lo: (i: number) => number, hi: (i: number) => number, loaded = false): void {
  const pass = (l: number, h: number) => c.get(l).get(v).get(nib).vand().swizzle().get(h).get(v).i32(4).shrU8().swizzle().vand();
  if (!loaded) c.get(pos).vload(0).set(v);
  pass(lo(0), hi(0)).set(res);
  for (let i = 1; i < TEDDY_BYTES; i++) { c.get(pos).vload(i).set(v).get(res); pass(lo(i), hi(i)).vand().set(res); }
}

function buildFind(): Code {
  const [pos, end, cap] = [0, 1, 2];
  const [nl, lineStart, lastLine, count, nlmask, cand, j, m, lineIdx, valid, ls] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const [v, res, nib, nlv] = [14, 15, 16, 17];
  const lo = (i: number) => 18 + 2 * i;
  const hi = (i: number) => 19 + 2 * i;
  const c = new Code();
  for (let i = 0; i < 2 * TEDDY_BYTES; i++) c.i32(0).vload(LAYOUT.masks + 16 * i).set(18 + i);
  c.i32(15).splat8().set(nib).i32(10).splat8().set(nlv);
  c.i32(LAYOUT.state).load(0).set(nl).i32(LAYOUT.state).load(4).set(lineStart).i32(LAYOUT.state).load(8).set(lastLine);
  c.i32(0).set(count);
  c.block().loop();
  c.get(pos).get(end).geU().brIf(1);
  c.get(pos).vload(0).set(v).get(v).get(nlv).eq8().bitmask8().set(nlmask);
  emitFilter(c, pos, v, res, nib, lo, hi, true);
  // The last block may run past `end`: ignore those lanes.
  c.i32(0xffff).set(valid);
  c.get(end).get(pos).sub().i32(16).ltU().if()
    .i32(1).get(end).get(pos).sub().shl().i32(1).sub().set(valid)
    .get(nlmask).get(valid).and().set(nlmask)
    .end();
  c.get(res).anyTrue().if();
  c.i32(LAYOUT.resbuf).get(res).vstore(0);
  c.get(res).vzero().ne8().bitmask8().get(valid).and().set(cand);
  c.block().loop();
  c.get(cand).eqz().brIf(1);
  c.get(cand).ctz().set(j);
  c.get(cand).get(cand).i32(1).sub().and().set(cand);
  c.get(nlmask).i32(1).get(j).shl().i32(1).sub().and().set(m);
  c.get(nl).get(m).popcnt().add().set(lineIdx);
  c.get(lineIdx).get(lastLine).ne().if();
  c.get(pos).get(j).add().get(j).load8u(LAYOUT.resbuf).get(end).i32(0).call(1).if();
  c.get(m).if().get(pos).i32(32).get(m).clz().sub().add().set(ls).else().get(lineStart).set(ls).end();
  c.get(count).i32(3).shl().get(ls).store(LAYOUT.out);
  c.get(count).i32(3).shl().get(lineIdx).store(LAYOUT.out + 4);
  c.get(count).i32(1).add().set(count);
  c.get(lineIdx).set(lastLine);
  c.end(); // verified
  c.end(); // new line
  c.br(0).end().end(); // candidates
  c.end(); // any candidate
  c.get(nlmask).if()
    .get(pos).i32(32).get(nlmask).clz().sub().add().set(lineStart)
    .get(nl).get(nlmask).popcnt().add().set(nl)
    .end();
  c.get(pos).i32(16).add().set(pos);
  c.get(count).get(cap).geU().brIf(1);
  c.br(0).end().end();
  c.i32(LAYOUT.state).get(nl).store(0);
  c.i32(LAYOUT.state).get(lineStart).store(4);
  c.i32(LAYOUT.state).get(lastLine).store(8);
  c.i32(LAYOUT.state).get(pos).store(12);
  c.get(count);
  return c;
}

/**
 * verify(p, buckets, end, all): does a key of one of the buckets start at p and end by `end`?
 * all = 0: answer 1 at the first such key. all = 1: set every such key's bit in `keybits`.
 */
function buildVerify(): Code {
  const [p, bb, end, all] = [0, 1, 2, 3];
  const [b, k, kend, koff, klen, i, key, found] = [4, 5, 6, 7, 8, 9, 10, 11];
  const c = new Code();
  // No key starts with the 4 bytes at p unless their hash's bit is set: one lookup instead of
  // comparing every key of the candidate buckets.
  c.get(p).load(0).i32(BLOOM_MUL).mul().i32(32 - BLOOM_BITS).shrU().set(b);
  c.get(b).i32(3).shrU().load8u(LAYOUT.bloom).i32(1).get(b).i32(7).and().shl().and().eqz().if().i32(0).ret().end();
  c.loop();
  c.get(bb).eqz().if().get(found).ret().end();
  c.get(bb).ctz().i32(3).shl().set(b);
  c.get(bb).get(bb).i32(1).sub().and().set(bb);
  c.get(b).load(LAYOUT.dir).set(k);
  c.get(k).get(b).load(LAYOUT.dir + 4).add().set(kend);
  c.block().loop();
  c.get(k).get(kend).geU().brIf(1);
  c.get(k).i32(2).shl().load(LAYOUT.blist).set(key);
  c.get(key).i32(3).shl().load(LAYOUT.refs).set(koff);
  c.get(key).i32(3).shl().load(LAYOUT.refs + 4).set(klen);
  c.get(k).i32(1).add().set(k);
  c.get(p).get(klen).add().get(end).leU().if();
  // Keys are at least 4 bytes long: one word compare rejects most survivors.
  c.get(p).load(0).get(koff).load(0).eq().if();
  c.i32(4).set(i);
  c.block().loop();
  c.get(i).get(klen).geU().if();
  c.get(all).eqz().if().i32(1).ret().end();
  c.get(key).i32(5).shrU().i32(2).shl().tee(b) // b: scratch = word address
    .get(b).load(LAYOUT.keybits).i32(1).get(key).shl().or().store(LAYOUT.keybits);
  c.i32(1).set(found);
  c.br(2); // next key
  c.end();
  c.get(p).get(i).add().load8u(0).get(koff).get(i).add().load8u(0).ne().brIf(1);
  c.get(i).i32(1).add().set(i);
  c.br(0).end().end();
  c.end().end();
  c.br(0).end().end();
  c.br(0).end();
  c.get(found);
  return c;
}

/** keysIn(pos, end): sets `keybits` to the keys occurring in [pos, end); 1 if there is any. */
function buildKeysIn(): Code {
  const [pos, end, valid, cand, j, any] = [0, 1, 2, 3, 4, 5];
  const [v, res, nib] = [6, 7, 8];
  const lo = (i: number) => 9 + 2 * i;
  const hi = (i: number) => 10 + 2 * i;
  const c = new Code();
  for (let i = 0; i < 2 * TEDDY_BYTES; i++) c.i32(0).vload(LAYOUT.masks + 16 * i).set(9 + i);
  c.i32(15).splat8().set(nib);
  for (let o = 0; o < 64; o += 16) c.i32(0).vzero().vstore(LAYOUT.keybits + o);
  c.loop();
  c.get(pos).get(end).geU().if().get(any).ret().end();
  emitFilter(c, pos, v, res, nib, lo, hi);
  c.i32(0xffff).set(valid);
  c.get(end).get(pos).sub().i32(16).ltU().if()
    .i32(1).get(end).get(pos).sub().shl().i32(1).sub().set(valid)
    .end();
  c.get(res).anyTrue().if();
  c.i32(LAYOUT.resbuf).get(res).vstore(0);
  c.get(res).vzero().ne8().bitmask8().get(valid).and().set(cand);
  c.block().loop();
  c.get(cand).eqz().brIf(1);
  c.get(cand).ctz().set(j);
  c.get(cand).get(cand).i32(1).sub().and().set(cand);
  c.get(pos).get(j).add().get(j).load8u(LAYOUT.resbuf).get(end).i32(1).call(1).get(any).or().set(any);
  c.br(0).end().end();
  c.end();
  c.get(pos).i32(16).add().set(pos);
  c.br(0).end();
  c.get(any);
  return c;
}

/** newlines(pos, end): number of '\n' bytes in [pos, end). */
function buildNewlines(): Code {
  const [pos, end, nl, mask] = [0, 1, 2, 3];
  const c = new Code();
  c.loop();
  c.get(pos).get(end).geU().if().get(nl).ret().end();
  c.get(pos).vload(0).i32(10).splat8().eq8().bitmask8().set(mask);
  c.get(end).get(pos).sub().i32(16).ltU().if()
    .get(mask).i32(1).get(end).get(pos).sub().shl().i32(1).sub().and().set(mask)
    .end();
  c.get(nl).get(mask).popcnt().add().set(nl);
  c.get(pos).i32(16).add().set(pos);
  c.br(0).end();
  c.get(nl);
  return c;
}

export function finderModuleBytes(): Uint8Array<ArrayBuffer> {
  return emitModule([
    { params: [I32, I32, I32], results: [I32], locals: [...Array<number>(11).fill(I32), ...Array<number>(4 + 2 * TEDDY_BYTES).fill(V128)], body: buildFind(), export: 'find' },
    { params: [I32, I32, I32, I32], results: [I32], locals: Array<number>(8).fill(I32), body: buildVerify() },
    { params: [I32, I32], results: [I32], locals: [I32, I32], body: buildNewlines(), export: 'newlines' },
    { params: [I32, I32], results: [I32], locals: [...Array<number>(4).fill(I32), ...Array<number>(3 + 2 * TEDDY_BYTES).fill(V128)], body: buildKeysIn(), export: 'keysIn' },
  ]);
}
