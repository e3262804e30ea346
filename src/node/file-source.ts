/**
 * A ByteSource over a file: opened once, read with positioned reads on demand, so a multi-GB core
 * opens in milliseconds and costs memory only for what is read.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { ByteSource } from '../core/snapshot/memory';

export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number | undefined;

  constructor(readonly name: string, path: string = name) {
    this.fd = openSync(path, 'r');
    try {
      const st = fstatSync(this.fd);
      if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      this.size = st.size;
    } catch (e) {
      closeSync(this.fd);
      this.fd = undefined;
      throw e;
    }
  }

  read(into: Uint8Array, position: number, length: number): number {
    if (this.fd === undefined) throw new Error(`${this.name}: read after close`);
    let done = 0;
    const want = Math.min(length, into.length);
    // readSync may return short counts (pipes, network file systems): loop until EOF
    while (done < want) {
      const n = readSync(this.fd, into, done, want - done, position + done);
      if (n <= 0) break;
      done += n;
    }
    return done;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
