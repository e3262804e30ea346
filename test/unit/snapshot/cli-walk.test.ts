/**
 * `iommu-lens walk` and `iommu-lens snapshot info` as a user runs them: the CLI is bundled from
 * source into a temporary folder and run as a child process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { SparseMemory } from '../../builder/sparse-memory';
import { writeSnapshot } from '../../builder/snapshot-writer';
import { realSnapshot } from './real-snapshot-cache';
import { parseBatchLine } from '../../../src/cli/walk';

const tmp = mkdtempSync(join(tmpdir(), 'iommu-lens-cli-'));
const cli = join(tmp, 'cli.js');
let manifest: string;
let vtd: string;

function run(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  await build({ entryPoints: [resolve(__dirname, '../../../src/cli/main.ts')], outfile: cli, bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent' });
  const mem = new SparseMemory(0x4000_0000n);
  const root = mem.alloc(4096);
  const l1 = mem.alloc(4096);
  const l2 = mem.alloc(4096);
  const l3 = mem.alloc(4096);
  mem.write64(root, l1 | 3n);
  mem.write64(l1, l2 | 3n);
  mem.write64(l2, l3 | 3n);
  // iova 0x5000 -> 0x8000_5000, read-only (AP[2:1] = 11), AF
  mem.write64(l3 + 5n * 8n, 0x8000_5000n | 3n | (1n << 10n) | (3n << 6n));
  manifest = writeSnapshot(join(tmp, 'lpae'), {
    model: 'arm-lpae',
    registers: { tcr: 16n | (1n << 23n) | (5n << 32n), ttbr0: root },
    memory: mem,
  });
  vtd = realSnapshot('vtd-q35-legacy');
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('iommu-lens walk', () => {
  it('--json prints one object with the contract fields', () => {
    const r = run('walk', manifest, '--iova', '0x5123', '--json');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out);
    expect(o.result).toBe('translated');
    expect(o.pa).toBe('0x80005123');
    expect(o.pageSize).toBe(4096);
    expect(o.permissions).toMatchObject({ read: true, write: false });
    expect(o.steps.length).toBeGreaterThanOrEqual(4);
    for (const s of o.steps) expect(typeof s.structure).toBe('string');
    expect(o.culprit).toMatchObject({ confidence: 'low' });
    expect(o.request).toBeUndefined();
  });

  it('a write to the read-only page is a permission fault', () => {
    const o = JSON.parse(run('walk', manifest, '--iova', '0x5000', '--access', 'write', '--json').out);
    expect(o.result).toBe('fault');
    expect(o.fault.stage).toBe('permission');
    expect(o.culprit.party).toMatch(/^device driver: the mapping exists but with the wrong direction/);
  });

  it('repeated --iova gives NDJSON in input order with the request echoed', () => {
    const r = run('walk', manifest, '--iova', '0x6000', '--iova', '0x5008', '--iova', '0x5000', '--access', 'read', '--json');
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.request)).toEqual([
      { iova: '0x6000', access: 'read' },
      { iova: '0x5008', access: 'read' },
      { iova: '0x5000', access: 'read' },
    ]);
    expect(lines.map((l) => l.result)).toEqual(['fault', 'translated', 'translated']);
    expect(lines[0].fault.stage).toBe('table-entry');
  });

  it('--batch reads one request per line from the real VT-d snapshot, in order', () => {
    const batch = join(tmp, 'batch.txt');
    writeFileSync(batch, ['# storm pages', '0xffefd000 device=0000:00:03.0', '', '0xffefc040 device=00:03.0 access=read', '0xfffff000 device=0000:00:00.0  # not mapped'].join('\n'));
    const r = run('walk', vtd, '--batch', batch, '--json', '--fail-on-fault');
    expect(r.code).toBe(1);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.request.iova, l.request.device, l.result, l.pa ?? l.fault.stage])).toEqual([
      ['0xffefd000', '0000:00:03.0', 'translated', '0x17ed4000'],
      ['0xffefc040', '0000:00:03.0', 'fault', 'table-entry'],
      ['0xfffff000', '0000:00:00.0', 'fault', 'table-entry'],
    ]);
  });

  it('--batch - reads requests from stdin', () => {
    const r = spawnSync(process.execPath, [cli, 'walk', manifest, '--batch', '-', '--json'], { encoding: 'utf8', input: '0x5004\n0x5008 access=write\n' });
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.request.iova, l.result])).toEqual([['0x5004', 'translated'], ['0x5008', 'fault']]);
  });

  it('prints a readable step table without --json', () => {
    const r = run('walk', vtd, '--device', '0000:00:03.0', '--iova', '0xffefe7f8');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^walk 0xffefe7f8 device=0000:00:03\.0\n/);
    expect(r.out).toMatch(/\n {2}# +structure +lvl +address +value +decoded\n/);
    expect(r.out).toMatch(/\n {2}\d+ +ok +context entry +0x2630180 /);
    expect(r.out).toMatch(/\nresult: translated -> 0x17ed57f8 {2}\(4 KiB page\)/);
    expect(r.out).toMatch(/\nsuspected culprit \(low confidence\): none in the tables/);
  });

  it('usage errors name the option or batch line', () => {
    const batch = join(tmp, 'bad.txt');
    writeFileSync(batch, '0x1000\n0x2000 colour=blue\n');
    expect(run('walk', manifest, '--batch', batch)).toMatchObject({ code: 2, err: `iommu-lens: walk: ${batch}:2: unknown key 'colour' (stream, device, pasid, access, context-bank)\n` });
    expect(run('walk', manifest, '--iova', 'zz')).toMatchObject({ code: 2, err: "iommu-lens: walk: --iova: expected a hex address like 0xffeb4206, got 'zz'\n" });
    expect(run('walk', manifest)).toMatchObject({ code: 2, err: 'iommu-lens: walk: give at least one --iova ADDR or --batch FILE\n' });
    expect(run('walk', manifest, '--iova', '1', '--stream', '1', '--device', '00:01.0').code).toBe(2);
  });

  it('an invalid manifest exits 1 with the file and field', () => {
    const bad = join(tmp, 'bad.iommu.json');
    writeFileSync(bad, JSON.stringify({ format: 'iommu-lens-snapshot', version: 1, iommu: { model: 'amd-vi' }, registers: {}, memory: [{ kind: 'raw', file: 'x.bin' }] }));
    const r = run('walk', bad, '--iova', '0x1000');
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'iommu-lens: bad.iommu.json: registers.dev_table_base: expected a hex string (required for amd-vi), got nothing\n' +
        'bad.iommu.json: memory[0].base: expected a hex string like "0x80000000" (physical address of the first byte of a raw file), got nothing\n',
    );
  });

  it('parses batch lines with defaults and overrides', () => {
    expect(parseBatchLine('  # only a comment', 'f:1', {})).toBeUndefined();
    expect(parseBatchLine('ffeb4206 stream=0x10 pasid=3 access=write', 'f:2', { device: '0000:00:01.0' })).toEqual({
      req: { iova: 0xffeb4206n, streamId: 16, pasid: 3, access: 'write' },
      echo: { iova: '0xffeb4206', stream: '0x10', pasid: 3, access: 'write' },
    });
  });
});

describe('iommu-lens snapshot info', () => {
  it('summarises model, registers, sources and findings', () => {
    const r = run('snapshot', 'info', vtd);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\nmodel: intel-vtd {2}\(dmar0\)\n/);
    expect(r.out).toMatch(/\n {2}rtaddr +0x2629000\n/);
    expect(r.out).toMatch(/\n {2}elf guest\.core {2}\(512\.3 MiB file, x86-64; 2 ranges, 512\.3 MiB of memory\)\n/);
    expect(r.out).toMatch(/\n +0x0 - 0x1fffffff +512 MiB\n/);
    expect(r.out).toMatch(/\nsanity findings: none\n$/);
  });

  it('--json lists ranges as hex and findings', () => {
    const o = JSON.parse(run('snapshot', 'info', manifest, '--json').out);
    expect(o.model).toBe('arm-lpae');
    expect(o.registers.ttbr0).toBe('0x40000000');
    expect(o.sources[0].ranges).toEqual([{ start: '0x40000000', end: '0x40004000', label: 'memory.core PT_LOAD #1' }]);
    expect(o.findings).toEqual([]);
  });
});
