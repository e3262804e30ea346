import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { scanFileAsync } from '../../../src/extension/scan-async';
import { scanFileSync } from '../../../src/node/scan-file';
import type { FaultRecord } from '../../../src/core/logs/record';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const EXAMPLE = join(__dirname, '../../../examples/mixed-faults.log');

describe('scanFileAsync (background scan of large logs)', () => {
  it('finds the same records as the CLI reader', async () => {
    const a: FaultRecord[] = [];
    const b: FaultRecord[] = [];
    const res = await scanFileAsync(EXAMPLE, (r) => a.push(r));
    scanFileSync(EXAMPLE, (r) => b.push(r));
    expect(res.cancelled).toBe(false);
    expect(a).toEqual(b);
    expect(a.length).toBe(16);
  });

  it('reads a gzip-compressed log (no line index: its offsets are not the file\'s); a truncated one keeps what was read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-'));
    try {
      const b: FaultRecord[] = [];
      const plainLines = scanFileSync(EXAMPLE, (r) => b.push(r)).lines;
      const gz = join(dir, 'kern.log.2.gz');
      const packed = gzipSync(readFileSync(EXAMPLE));
      writeFileSync(gz, packed);
      const a: FaultRecord[] = [];
      const res = await scanFileAsync(gz, (r) => a.push(r), { file: EXAMPLE });
      expect(res).toMatchObject({ format: 'gzip', cancelled: false, lines: plainLines });
      expect(res.error).toBeUndefined();
      expect(a).toEqual(b);
      const cut = join(dir, 'cut.gz');
      writeFileSync(cut, packed.subarray(0, Math.floor(packed.length * 0.6)));
      const c: FaultRecord[] = [];
      const broken = await scanFileAsync(cut, (r) => c.push(r), { file: EXAMPLE });
      expect(broken.error).toMatch(/gzip data ends early/);
      expect(c.length).toBeGreaterThan(0);
      expect(c).toEqual(b.slice(0, c.length));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports progress per chunk and stops when cancelled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-'));
    try {
      const line = 'AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:02:00.0 domain=0x0017 address=0xbe9f9880 flags=0x0010]\n';
      const file = join(dir, 'storm.log');
      writeFileSync(file, line.repeat(Math.ceil((3 << 20) / line.length))); // ~3 MiB: three chunks
      let calls = 0;
      let n = 0;
      const res = await scanFileAsync(file, () => n++, { progress: () => calls++, cancelled: () => calls >= 1 });
      expect(res.cancelled).toBe(true);
      expect(calls).toBe(1);
      expect(n).toBeGreaterThan(0);
      expect(res.bytes).toBeLessThan(res.size);
      const full = await scanFileAsync(file, () => undefined);
      expect(full.lines).toBe(Math.ceil((3 << 20) / line.length));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
