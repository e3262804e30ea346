import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { scanFileSync } from '../../../src/node/scan-file';
import { scanText } from '../../../src/core/logs/scanner';
import type { FaultRecord } from '../../../src/core/logs/record';
import { corpusAvailable, corpusEntries } from '../../helpers/corpus';

const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-scan-'));
const FAULT = 'dmar_fault: 7 callbacks suppressed';

function scanFile(text: string, opts: { maxLine?: number; simd?: boolean } = {}): { recs: FaultRecord[]; lines: number } {
  const p = join(dir, `t${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(p, text);
  const recs: FaultRecord[] = [];
  const { lines } = scanFileSync(p, (r) => recs.push(r), { file: 'x.log', ...opts });
  return { recs, lines };
}

describe('scanFileSync', () => {
  it('numbers lines like an editor, across blocks, with CRLF and a missing final newline', () => {
    const body = Array.from({ length: 300_000 }, (_, i) => (i % 1000 === 7 ? FAULT : `noise line ${i} ${'x'.repeat(i % 50)}`));
    const text = body.join('\r\n');
    const { recs, lines } = scanFile(text);
    expect(lines).toBe(300_000);
    expect(recs.map((r) => r.line)).toEqual(body.flatMap((l, i) => (l === FAULT ? [i + 1] : [])));
    expect(recs.map((r) => r.line)).toEqual(scanText(text).map((r) => r.line));
    expect(recs[0]!.file).toBe('x.log');
  });

  it('gives the same records through the SIMD finder and the regex fallback (real multi-line prints, CRLF, UTF-8)', () => {
    if (!corpusAvailable()) return;
    const entries = ['arm-smmu-v3.txt', 'arm-smmu.txt', 'intel-dmar.txt', 'amd-vi.txt', 'xen.txt', 'other.txt'].flatMap((f) => corpusEntries(f));
    const body: string[] = [];
    for (let i = 0; i < 40_000; i++) body.push(i % 7 === 0 ? entries[i % entries.length]!.lines.join(i % 2 ? '\r\n' : '\n') : `noise ${i} é€ ${'q'.repeat(i % 90)}`);
    const text = body.join('\n');
    const simd = scanFile(text);
    const regex = scanFile(text, { simd: false });
    expect(simd.recs.length).toBeGreaterThan(3000);
    expect(simd.lines).toBe(regex.lines);
    expect(simd.recs.map((r) => JSON.stringify(r))).toEqual(regex.recs.map((r) => JSON.stringify(r)));
  });

  it('counts empty lines and survives an over-long line without newline', () => {
    expect(scanFile('a\n\n\n' + FAULT + '\n').recs[0]!.line).toBe(4);
    for (const simd of [true, false]) {
      const { recs } = scanFile('y'.repeat(3_000_000) + '\n' + FAULT + '\n', { maxLine: 1 << 16, simd });
      expect(recs.map((r) => r.line)).toEqual([2]);
    }
  });
});

describe('iommu-lens scan (parallel workers) gives the same records as the single-thread scan', () => {
  it('same NDJSON for a multi-chunk file', () => {
    const cli = join(__dirname, '../../../dist/cli.js');
    const lines: string[] = [];
    for (let i = 0; i < 400_000; i++) lines.push(i % 97 === 0 ? `[${(i / 1000).toFixed(6)}] ${FAULT}` : `[${(i / 1000).toFixed(6)}] noise ${i}`);
    const p = join(dir, 'big.log');
    writeFileSync(p, lines.join('\n') + '\n');
    const par = execFileSync('node', [cli, 'scan', '--json', '--chunk-size', '1048576', '--workers', '2', p], { maxBuffer: 1 << 28 }).toString();
    const seq = execFileSync('node', [cli, 'scan', '--json', '--workers', '1', p], { maxBuffer: 1 << 28 }).toString();
    expect(par.split('\n').length).toBeGreaterThan(4000);
    expect(par).toBe(seq);
    const sum = execFileSync('node', [cli, 'scan', '--chunk-size', '1048576', '--workers', '2', p]).toString();
    const notices = Math.ceil(400_000 / 97);
    expect(sum).toContain(`${7 * notices} more suppressed by ratelimit (${notices} notices)`);
  });
});

describe('parallel scan with multi-line records cut by chunk boundaries', () => {
  it('same NDJSON and summary as the single-thread scan for tiny chunks and several workers', () => {
    if (!corpusAvailable()) return;
    const cli = join(__dirname, '../../../dist/cli.js');
    // Real multi-line prints (SMMUv3 event dumps, arm-smmu register pairs, VT-d, AMD-Vi) among noise,
    // so that records start near chunk ends and continue into the next chunk.
    const entries = ['arm-smmu-v3.txt', 'arm-smmu.txt', 'intel-dmar.txt', 'amd-vi.txt', 'xen.txt'].flatMap((f) => corpusEntries(f));
    const out: string[] = [];
    let seed = 7;
    const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x80000000; };
    for (let i = 0; i < 3000; i++) {
      if (rnd() < 0.3) out.push(...entries[Math.floor(rnd() * entries.length)]!.lines);
      else out.push(`[${(i / 100).toFixed(6)}] noise line ${i} ${'z'.repeat(Math.floor(rnd() * 80))}`);
    }
    const p = join(dir, 'multi.log');
    writeFileSync(p, out.join('\n') + '\n');
    const seq = execFileSync('node', [cli, 'scan', '--json', '--workers', '1', p], { maxBuffer: 1 << 28 }).toString();
    expect(seq.split('\n').length).toBeGreaterThan(500);
    expect(seq).toMatch(/"endLine":/);
    for (const [chunk, workers] of [['4096', '4'], ['10000', '3'], ['65536', '2']] as const) {
      const par = execFileSync('node', [cli, 'scan', '--json', '--chunk-size', chunk, '--workers', workers, p], { maxBuffer: 1 << 28 }).toString();
      expect(par).toBe(seq);
    }
    // Untimed records among timed ones (concatenated corpus prints): the time ranges must not
    // depend on which worker saw which record.
    const sumSeq = execFileSync('node', [cli, 'scan', '--workers', '1', p]).toString();
    expect(sumSeq).toMatch(/\d+ more suppressed by ratelimit \(\d+ notices\)/);
    expect(execFileSync('node', [cli, 'scan', '--chunk-size', '4096', '--workers', '4', p]).toString()).toBe(sumSeq);
  });

  it('lines longer than a chunk keep every record on its line (chunks inside such a line own none)', () => {
    const cli = join(__dirname, '../../../dist/cli.js');
    const out: string[] = [];
    for (let i = 0; i < 60; i++) {
      out.push(`[${i}.000000] DMAR: [DMA Read NO_PASID] Request device [0000:00:02.0] fault addr 0x${(0x7f000 + i).toString(16)}000 [fault reason 0x06] PTE Read access is not set`);
      // blobs of 5 to 40 chunks, some ending in a fault print of their own
      out.push('b'.repeat(20_000 + ((i * 7919) % 140_000)) + (i % 3 === 0 ? ` [${i}.5] ${FAULT}` : ''));
    }
    const p = join(dir, 'blobs.log');
    writeFileSync(p, out.join('\n') + '\n');
    const seq = execFileSync('node', [cli, 'scan', '--json', '--workers', '1', p], { maxBuffer: 1 << 28 }).toString();
    const lines = seq.trim().split('\n').map((l) => JSON.parse(l) as FaultRecord);
    expect(lines.filter((r) => r.kind === 'dma-fault').map((r) => r.line)).toEqual(Array.from({ length: 60 }, (_, i) => 2 * i + 1));
    expect(lines.filter((r) => r.kind === 'storm-suppressed').map((r) => r.line)).toEqual(Array.from({ length: 20 }, (_, i) => 6 * i + 2));
    for (const [chunk, workers] of [['4096', '2'], ['10000', '3']] as const) {
      expect(execFileSync('node', [cli, 'scan', '--json', '--chunk-size', chunk, '--workers', workers, p], { maxBuffer: 1 << 28 }).toString()).toBe(seq);
    }
  });

  it('stops, exit status 0, when the reader of its NDJSON goes away (`| head`)', () => {
    const cli = join(__dirname, '../../../dist/cli.js');
    const line = '[    1.000000] DMAR: [DMA Read NO_PASID] Request device [0000:00:02.0] fault addr 0x7f3a1000 [fault reason 0x06] PTE Read access is not set\n';
    const p = join(dir, 'pipe.log');
    writeFileSync(p, line.repeat(60_000));
    // Before the fix a worker ended on EPIPE and the others waited for its chunks forever.
    const out = execFileSync('bash', ['-c', `node ${cli} scan --json --chunk-size 65536 --workers 3 ${p} | head -n 2; echo "status \${PIPESTATUS[0]}"`], { timeout: 60_000 }).toString();
    expect(out.split('\n').filter((l) => l.startsWith('{"file"'))).toHaveLength(2);
    expect(out).toMatch(/status 0/);
  });
});
