import type { ByteSource } from './memory';

/** A ByteSource over bytes already in memory (browser uploads, tests). */
export class BytesSource implements ByteSource {
  constructor(
    private readonly bytes: Uint8Array,
    readonly name: string,
  ) {}

  get size(): number {
    return this.bytes.length;
  }

  read(into: Uint8Array, position: number, length: number): number {
    if (position >= this.bytes.length || length <= 0) return 0;
    const n = Math.min(length, this.bytes.length - position, into.length);
    into.set(this.bytes.subarray(position, position + n), 0);
    return n;
  }
}
