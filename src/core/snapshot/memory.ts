/**
 * Physical memory as walkers see it. Synchronous on purpose: walks do millions of reads and the
 * sources (a file opened for ranged reads, or bytes in memory) answer synchronously everywhere.
 */

/** A flat, random-access byte source: a file region in Node, a Uint8Array in a browser. */
export interface ByteSource {
  readonly size: number;
  /** read up to `length` bytes at `position` into `into`; returns the count read */
  read(into: Uint8Array, position: number, length: number): number;
  /** for error messages */
  readonly name: string;
}

/** Physical memory made of the snapshot's sources; addresses not covered read as undefined. */
export interface PhysicalMemory {
  /** bytes at [addr, addr+len), or undefined when any byte is not in the snapshot */
  read(addr: bigint, len: number): Uint8Array | undefined;
  /** little-endian 64-bit read, undefined when not in the snapshot */
  read64(addr: bigint): bigint | undefined;
  read32(addr: bigint): number | undefined;
  /**
   * Optional fast path for walkers: out.length little-endian 32-bit words from byte address `addr`
   * (an integer) into `out`, with no BigInt work; false when any byte is not in the snapshot.
   * Without it walkers use read64/read.
   */
  readWords?(addr: number, out: Uint32Array): boolean;
  /** the ranges covered, for `snapshot info` */
  ranges(): { start: bigint; end: bigint; source: string }[];
}
