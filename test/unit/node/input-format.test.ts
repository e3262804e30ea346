/**
 * Logs as people have them: rotated and compressed (gzip in-process; xz, zstd, bzip2 through the
 * system tools, which CI installs), UTF-16 from a Windows shell, binary journal files, truncated
 * archives. Each must give the records of the same log as plain text, or a clear error after the
 * records of what was read.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { inputFormat, InputError } from '../../../src/node/input-format';
import { scanAnyFile, scanFileSync } from '../../../src/node/scan-file';
import { LineBlocks } from '../../../src/node/line-blocks';
import type { FaultRecord } from '../../../src/core/logs/record';

const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-input-'));
const EXAMPLE = join(__dirname, '../../../examples/mixed-faults.log');
const CLI = join(__dirname, '../../../dist/cli.js');
const plain = readFileSync(EXAMPLE);

function file(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

async function records(p: string): Promise<FaultRecord[]> {
  const out: FaultRecord[] = [];
  await scanAnyFile(p, (r) => out.push(r), { file: 'x.log' });
  return out;
}

const expected = (() => {
  const out: FaultRecord[] = [];
  scanFileSync(EXAMPLE, (r) => out.push(r), { file: 'x.log' });
  return out;
})();

describe('input formats', () => {
  it('the example log gives records (the comparisons below are not empty)', () => {
    expect(expected.length).toBeGreaterThan(10);
  });

  it('gzip, including a rotated log made of several gzip members', async () => {
    const p = file('kern.log.2.gz', gzipSync(plain));
    expect(inputFormat(p)).toBe('gzip');
    expect(await records(p)).toEqual(expected);
    const half = plain.indexOf(10, plain.length >> 1) + 1;
    const two = file('two-members.gz', Buffer.concat([gzipSync(plain.subarray(0, half)), gzipSync(plain.subarray(half))]));
    expect(await records(two)).toEqual(expected);
  });

  for (const [format, tool, suffix] of [['xz', 'xz', 'xz'], ['zstd', 'zstd', 'zst'], ['bzip2', 'bzip2', 'bz2']] as const) {
    it(`${format} through the system's ${tool}`, async () => {
      const packed = execFileSync(tool, ['-c'], { input: plain });
      const p = file(`messages.${suffix}`, packed);
      expect(inputFormat(p)).toBe(format);
      expect(await records(p)).toEqual(expected);
    });
  }

  it('UTF-16 with a byte-order mark, little and big endian (PowerShell redirects)', async () => {
    const text = plain.toString('utf8');
    const le = file('ps.log', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    expect(inputFormat(le)).toBe('utf16le');
    expect(await records(le)).toEqual(expected);
    const be = Buffer.from(text, 'utf16le').swap16();
    const pb = file('be.log', Buffer.concat([Buffer.from([0xfe, 0xff]), be]));
    expect(inputFormat(pb)).toBe('utf16be');
    expect(await records(pb)).toEqual(expected);
  });

  it('plain text stays text, even when a line starts with a magic-like "BZh"', () => {
    expect(inputFormat(EXAMPLE)).toBe('text');
    expect(inputFormat(file('bzh.log', Buffer.from('BZh is not bzip2 here\n')))).toBe('text');
    expect(inputFormat(file('empty.log', Buffer.alloc(0)))).toBe('text');
  });

  it('a truncated gzip archive: the records of what was read, then an error naming the cut', async () => {
    const whole = gzipSync(plain);
    const p = file('cut.gz', whole.subarray(0, Math.floor(whole.length * 0.6)));
    const got: FaultRecord[] = [];
    const err = await scanAnyFile(p, (r) => got.push(r), { file: 'x.log' }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/gzip data ends early \(truncated file\?\) after \d+ compressed bytes/);
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(expected.length);
    expect(got).toEqual(expected.slice(0, got.length));
  });

  it('a systemd journal file: an error telling how to export it', async () => {
    const p = file('system.journal', Buffer.concat([Buffer.from('LPKSHHRH'), Buffer.alloc(256)]));
    expect(inputFormat(p)).toBe('journal');
    await expect(records(p)).rejects.toThrow(/binary systemd journal file; export its kernel messages first: journalctl --file .* -k/);
  });

  it('a missing decompressor: an error naming the package to install', async () => {
    const p = file('m.xz', execFileSync('xz', ['-c'], { input: plain }));
    const path = process.env.PATH;
    process.env.PATH = join(dir, 'no-such-dir');
    try {
      await expect(records(p)).rejects.toThrow(/is xz-compressed and 'xz' is not installed: install xz-utils/);
    } finally {
      process.env.PATH = path;
    }
  });

  it('the CLI: scan and report read compressed logs; a truncated one prints what was read and exits 2', () => {
    const gz = file('cli.log.gz', gzipSync(plain));
    const fromGz = execFileSync('node', [CLI, 'scan', '--json', gz]).toString().replace(/"file":"[^"]*",/g, '');
    const fromText = execFileSync('node', [CLI, 'scan', '--json', EXAMPLE]).toString().replace(/"file":"[^"]*",/g, '');
    expect(fromGz).toBe(fromText);
    expect(execFileSync('node', [CLI, 'report', gz]).toString()).toMatch(/14 fault records/);
    const whole = gzipSync(plain);
    const cut = file('cli-cut.gz', whole.subarray(0, Math.floor(whole.length * 0.6)));
    for (const cmd of [['scan'], ['report']]) {
      const r = spawnSync('node', [CLI, ...cmd, cut]);
      expect(r.status).toBe(2);
      expect(r.stdout.toString()).toMatch(/[1-9]\d* (IOMMU )?fault records?/);
      expect(r.stderr.toString()).toMatch(/cli-cut\.gz: gzip data ends early/);
    }
  });
});

describe('LineBlocks', () => {
  const FAULT = '[    1.000000] DMAR: [DMA Read NO_PASID] Request device [0000:04:1d.0] fault addr 0xf3d2e000 [fault reason 0x06] PTE Read access is not set';

  it('a line over the limit after short lines is cut, not a crash (it used to overrun the buffer)', () => {
    const p = file('long.log', Buffer.from('a\n' + 'y'.repeat(3_000_000) + '\n' + FAULT + '\n'));
    const got: FaultRecord[] = [];
    const { lines } = scanFileSync(p, (r) => got.push(r), { maxLine: 1 << 16 });
    expect(lines).toBe(3);
    expect(got.map((r) => [r.line, r.iova])).toEqual([[3, '0xf3d2e000']]);
  });

  // Every way of cutting the input gives the same lines with the same numbers: what the scanner
  // sees is recorded as (first line, text) pairs per scanned block.
  it('feed (any chunking) and commit (block reads) cut the same lines, long ones included', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 12 }).map((s) => s.replace(/\n/g, '')),
      fc.integer({ min: 20, max: 90 }).map((n) => 'L'.repeat(n)),
    );
    fc.assert(fc.property(fc.array(line, { maxLength: 40 }), fc.boolean(), fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1, maxLength: 8 }), (ls, finalNl, cuts) => {
      const text = Buffer.from(ls.join('\n') + (finalNl && ls.length ? '\n' : ''));
      const run = (drive: (b: LineBlocks) => void) => {
        const seen: string[] = [];
        const buf = Buffer.alloc(64 + 32);
        const b: LineBlocks = new LineBlocks(buf, (end, first) => {
          const t = buf.toString('latin1', 0, end).split('\n');
          if (t[t.length - 1] === '') t.pop();
          t.forEach((l, i) => seen.push(`${first + i}:${l}`));
          return { lines: t.length };
        }, 64, 32);
        drive(b);
        b.end();
        return { seen, lines: b.lines };
      };
      const viaCommit = run((b) => { for (let o = 0; o < text.length;) { const k = Math.min(b.block, text.length - o); text.copy(b.buf, b.at, o, o + k); b.commit(k); o += k; } });
      let c = 0;
      const viaFeed = run((b) => { for (let o = 0; o < text.length;) { const k = cuts[c++ % cuts.length]!; b.feed(text.subarray(o, o + k)); o += k; } });
      expect(viaFeed).toEqual(viaCommit);
      // lines within the limit come through whole and numbered as an editor numbers them
      const newlines = text.filter((b) => b === 10).length;
      expect(viaCommit.lines).toBe(newlines + (text.length && text[text.length - 1] !== 10 ? 1 : 0));
      const real = text.length ? text.toString('latin1').split('\n') : [];
      if (text.length && text[text.length - 1] === 10) real.pop();
      real.forEach((l, i) => { if (l.length <= 32) expect(viaCommit.seen).toContain(`${i + 1}:${l}`); });
    }), { seed: 7, numRuns: 300 });
  });
});

describe('textOf (the decompressed text the editor shows)', () => {
  it('gives the whole text, or its first lines up to the cap with a note, or what a truncated archive held', async () => {
    const { textOf } = await import('../../../src/node/input-format');
    const p = file('show.log.gz', gzipSync(plain));
    expect(await textOf(p)).toBe(plain.toString('utf8'));
    const capped = await textOf(p, 1000);
    const lines = capped.split('\n');
    expect(lines[lines.length - 2]).toMatch(/^… \(the first 0 MiB of the gzip log: decompress it to read the rest\)$/);
    expect(plain.toString('utf8').startsWith(lines.slice(0, -2).join('\n') + '\n')).toBe(true);
    const whole = gzipSync(plain);
    const cut = await textOf(file('show-cut.gz', whole.subarray(0, Math.floor(whole.length * 0.6))));
    expect(cut).toMatch(/… \(gzip data ends early \(truncated file\?\) after \d+ compressed bytes; the lines before that point were scanned\)\n$/);
    expect(plain.toString('utf8').startsWith(cut.slice(0, cut.lastIndexOf('…')).replace(/\n$/, ''))).toBe(true);
  });
});

describe('a log still being written', () => {
  it('`dmesg -w | iommu-lens scan --json -`: a record is printed while the input is still open', async () => {
    const child = spawn('node', [CLI, 'scan', '--json', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      let out = '';
      const first = new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('\n')) resolve(out); });
        child.on('exit', () => reject(new Error(`exited before printing: ${out}`)));
        setTimeout(() => reject(new Error('no record while the input stayed open')), 10_000);
      });
      child.stdin.write('[  182.241805] DMAR: [DMA Read NO_PASID] Request device [0000:00:02.0] fault addr 0x7f3a1000 [fault reason 0x06] PTE Read access is not set\n');
      // The print may still be followed by its PTE dump: the lines after it tell it is complete.
      child.stdin.write('[  182.241900] e1000e 0000:00:19.0 eth0: NIC Link is Up\n[  182.241950] e1000e 0000:00:19.0 eth0: 10/100 speed\n');
      const got = JSON.parse((await first).split('\n')[0]!) as FaultRecord;
      expect(got).toMatchObject({ line: 1, family: 'intel-vtd', iova: '0x7f3a1000', device: '0000:00:02.0' });
      expect(child.exitCode).toBeNull(); // still reading (standard input is a socket here, as Node hands it over)
    } finally {
      child.stdin.end();
      await new Promise((r) => child.on('close', r));
    }
    expect(child.exitCode).toBe(0);
  });
});

describe('standard input handed over as a socket (child_process, service managers)', () => {
  it('scan - and report - read it (opening /dev/stdin fails on a socket)', () => {
    const scan = spawnSync('node', [CLI, 'scan', '-'], { input: plain });
    expect(scan.stderr.toString()).toBe('');
    expect(scan.stdout.toString()).toMatch(/^-: 14 IOMMU fault records/);
    const report = spawnSync('node', [CLI, 'report', '-'], { input: plain });
    expect(report.status).toBe(0);
    expect(report.stdout.toString()).toMatch(/14 fault records/);
  });
});

describe('a reader that goes away', () => {
  it('`report … | true` ends quietly with status 0 (an unhandled EPIPE printed a stack trace)', () => {
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const dev = `0000:${(i % 8).toString(16).padStart(2, '0')}:${(i % 32).toString(16).padStart(2, '0')}.${i % 8}`;
      lines.push(`[ ${(i / 100).toFixed(6)}] DMAR: [DMA Read NO_PASID] Request device [${dev}] fault addr 0x${(0x7f000 + i).toString(16)}000 [fault reason 0x06] PTE Read access is not set`);
    }
    const p = file('many-groups.log', Buffer.from(lines.join('\n') + '\n'));
    const full = execFileSync('node', [CLI, 'report', '--format', 'json', p], { maxBuffer: 1 << 26 });
    expect(full.length).toBeGreaterThan(1 << 17); // more than a pipe holds
    const r = spawnSync('bash', ['-c', `node '${CLI}' report --format json '${p}' | true; echo "status \${PIPESTATUS[0]}" >&2`]);
    expect(r.stderr.toString()).toBe('status 0\n');
  });
});

describe('a slow reader', () => {
  it('gets every byte of the NDJSON through a pipe that fills up (writes are retried, never cut)', () => {
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) lines.push(`[ ${(i / 100).toFixed(6)}] DMAR: [DMA Read NO_PASID] Request device [0000:00:02.0] fault addr 0x${(0x7f000 + i).toString(16)}000 [fault reason 0x06] PTE Read access is not set`);
    const p = file('slow-reader.log', Buffer.from(lines.join('\n') + '\n'));
    const direct = execFileSync('node', [CLI, 'scan', '--json', p], { maxBuffer: 1 << 26 });
    expect(direct.length).toBeGreaterThan(1 << 20);
    for (const cmd of [['scan', '--json'], ['report', '--format', 'json']]) {
      const out = join(dir, 'slow-out');
      const r = spawnSync('bash', ['-c', `node '${CLI}' ${cmd.join(' ')} '${p}' | (sleep 0.3; cat) > '${out}'`]);
      expect(r.stderr.toString()).toBe('');
      const want = cmd[0] === 'scan' ? direct : execFileSync('node', [CLI, ...cmd, p], { maxBuffer: 1 << 26 });
      const got = readFileSync(out);
      if (cmd[0] === 'scan') expect(got.equals(want)).toBe(true);
      else expect(got.toString().replace(/"generated": ?"[^"]*"/, '')).toBe(want.toString().replace(/"generated": ?"[^"]*"/, ''));
    }
  });
});
