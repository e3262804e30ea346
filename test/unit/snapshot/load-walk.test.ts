/**
 * Snapshot loading end to end: tables built in a SparseMemory, written as an ELF core or raw
 * files with a manifest, loaded from disk and walked; the same walk on the SparseMemory directly
 * must give the same answer. Also: memory missing from the snapshot is a walk step, sanity
 * findings on load, loader errors naming the file and field.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SparseMemory } from '../../builder/sparse-memory';
import { writeSnapshot, type SnapshotSpec } from '../../builder/snapshot-writer';
import { loadSnapshot } from '../../../src/node/load-snapshot';
import { walk } from '../../../src/core/walk/index';
import type { Snapshot } from '../../../src/core/snapshot/types';
import { SnapshotError } from '../../../src/core/snapshot/errors';

const tmp = mkdtempSync(join(tmpdir(), 'iommu-lens-load-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const dir = () => join(tmp, `s${n++}`);

/** A 4-level 4K stage-1 regime mapping `pages` (iova -> pa) with read/write user pages. */
function lpae(pages: [bigint, bigint][]): { mem: SparseMemory; root: bigint; tables: bigint[] } {
  const mem = new SparseMemory(0x4000_0000n);
  const root = mem.alloc(4096);
  const tables = [root];
  for (const [iova, pa] of pages) {
    let table = root;
    for (let level = 0; level < 3; level++) {
      const idx = (iova >> BigInt(39 - 9 * level)) & 0x1ffn;
      const slot = table + idx * 8n;
      let d = mem.read64(slot)!;
      if ((d & 3n) !== 3n) {
        const next = mem.alloc(4096);
        tables.push(next);
        d = next | 3n;
        mem.write64(slot, d);
      }
      table = d & 0xffff_ffff_f000n;
    }
    const idx = (iova >> 12n) & 0x1ffn;
    // page | AF | AP[2:1]=01 (EL0+EL1 read/write) | inner shareable
    mem.write64(table + idx * 8n, pa | 3n | (1n << 10n) | (1n << 6n) | (3n << 8n));
  }
  return { mem, root, tables };
}

const TCR = 16n | (1n << 23n) | (5n << 32n); // T0SZ=16, TG0=4K, EPD1, IPS=48 bits

function spec(mem: SparseMemory, root: bigint, memoryAs: 'elf' | 'raw' = 'elf'): SnapshotSpec {
  return { model: 'arm-lpae', features: { ias: 48, oas: 48, granules: ['4k'] }, registers: { tcr: TCR, ttbr0: root, mair: 0xffn }, memory: mem, memoryAs };
}

function inMemory(mem: SparseMemory, s: SnapshotSpec): Snapshot {
  const registers = Object.fromEntries(Object.entries(s.registers).map(([k, v]) => [k, BigInt(v as bigint)]));
  return { path: 'mem', model: s.model, features: s.features ?? {}, registers, memory: mem, findings: [] };
}

describe('load + walk', () => {
  const pages: [bigint, bigint][] = [
    [0xffeb_4000n, 0x433d_9000n],
    [0x7f_1234_5000n, 0x9_8765_4000n],
    [0x1000n, 0x2000n],
  ];
  const { mem, root } = lpae(pages);

  for (const as of ['elf', 'raw'] as const) {
    it(`walks through a ${as} snapshot exactly as through the builder memory`, () => {
      const s = spec(mem, root, as);
      const snap = loadSnapshot(writeSnapshot(dir(), s));
      try {
        expect(snap.findings.filter((f) => f.severity !== 'info')).toEqual([]);
        const direct = inMemory(mem, s);
        for (const [iova, pa] of pages) {
          for (const off of [0n, 0x8n, 0xfffn]) {
            const a = walk(snap, { iova: iova + off });
            const b = walk(direct, { iova: iova + off });
            expect(a.result).toBe('translated');
            expect(a.pa).toBe('0x' + (pa + off).toString(16));
            expect(a.steps).toEqual(b.steps);
            expect(a.culprit?.confidence).toBe('low');
          }
        }
        const miss = walk(snap, { iova: 0xffeb_5000n }, { faulted: true });
        expect(miss.result).toBe('fault');
        expect(miss.fault?.stage).toBe('table-entry');
        expect(miss.fault?.level).toBe(3);
        expect(miss.culprit?.party).toMatch(/^device driver/);
        expect(miss.culprit?.confidence).toBe('high');
        expect(miss.culprit?.why).toMatch(/L3|level 3/);
        expect(walk(direct, { iova: 0xffeb_5000n })).toEqual({ ...miss, culprit: { ...miss.culprit!, confidence: 'medium', why: expect.any(String) } });
      } finally {
        snap.close();
      }
    });
  }

  it('memory not in the snapshot is a failing walk step, not an exception', () => {
    const t = lpae([[0x5000n, 0x6000n]]);
    // point the L1 entry of iova 0 at a table outside every dumped page
    const l0 = t.mem.read64(t.root)! & 0xffff_ffff_f000n;
    t.mem.write64(l0, 0x7_0000_0000n | 3n);
    const snap = loadSnapshot(writeSnapshot(dir(), spec(t.mem, t.root)));
    try {
      const r = walk(snap, { iova: 0x5000n });
      expect(r.result).toBe('fault');
      const last = r.steps[r.steps.length - 1]!;
      expect(last.ok).toBe(false);
      expect(last.address).toBe('0x700000000');
      expect(r.fault?.reason.text).toMatch(/not in the snapshot/);
      expect(r.culprit?.party).toMatch(/^undetermined: a table the walk needs is not in the snapshot/);
      expect(r.culprit?.confidence).toBe('low');
    } finally {
      snap.close();
    }
  });

  it('a snapshot whose root table is missing says so on load', () => {
    const t = lpae([[0x5000n, 0x6000n]]);
    const s = spec(t.mem, 0x1_0000_0000n);
    const snap = loadSnapshot(writeSnapshot(dir(), s));
    try {
      expect(snap.findings).toContainEqual({ severity: 'error', where: 'ttbr0', message: 'the first-level table at 0x100000000 is not in the snapshot\'s memory: every walk through it stops there' });
    } finally {
      snap.close();
    }
  });

  it('zero-filled ELF tails and the PN_XNUM encoding load the same', () => {
    const s = { ...spec(mem, root), elf: { zeroTail: true, xnum: true } };
    const snap = loadSnapshot(writeSnapshot(dir(), s));
    try {
      expect(walk(snap, { iova: 0x7f_1234_5678n }).pa).toBe('0x987654678');
    } finally {
      snap.close();
    }
  });
});

describe('dispatch', () => {
  const cases: [SnapshotSpec['model'], SnapshotSpec['registers'], Record<string, unknown>][] = [
    ['arm-lpae', { tcr: TCR, ttbr0: 0x4000_0000n }, {}],
    ['arm-v7s', { ttbr0: 0x4000_0000n }, {}],
    ['arm-smmu-v2', { smr: [0x8000_0000n], s2cr: [0n], contextBanks: { '0': { sctlr: 1n, cbar: 1n << 16n, cba2r: 1n, tcr: TCR & 0xffff_ffffn, ttbr0: 0x4000_0000n } } }, { streamId: 0 }],
    ['arm-smmu-v3', { strtab_base: 0x4000_0000n, strtab_base_cfg: 6n, cr0: 1n }, { streamId: 1 }],
    ['intel-vtd', { rtaddr: 0x4000_0000n, gsts: 0xc000_0000n }, { device: '0000:00:02.0' }],
  ];
  it('amd-vi: an all-zero DTE (V = 0) passes DMA untranslated, the culprit says the tables allow it', () => {
    const mem = new SparseMemory(0x4000_0000n);
    mem.alloc(2 * 1024 * 1024);
    const snap = loadSnapshot(writeSnapshot(dir(), { model: 'amd-vi', registers: { dev_table_base: 0x4000_0000n | 0x1ffn, control: 1n }, memory: mem }));
    try {
      const r = walk(snap, { iova: 0x1000n, device: '0000:00:00.0' });
      expect(r.result).toBe('translated');
      expect(r.pa).toBe('0x1000');
      expect(r.culprit!.party).toMatch(/^none in the tables/);
    } finally {
      snap.close();
    }
  });
  it.each(cases)('%s: an all-zero table is a fault with its failing step and culprit', (model, registers, req) => {
    const mem = new SparseMemory(0x4000_0000n);
    mem.alloc(2 * 1024 * 1024);
    const snap = loadSnapshot(writeSnapshot(dir(), { model, registers, memory: mem }));
    try {
      const r = walk(snap, { iova: 0x1000n, ...req });
      expect(r.result).toBe('fault');
      expect(['NO_WALKER', 'WALKER_ERROR']).not.toContain(r.fault!.reason.name);
      expect(r.steps.some((s) => !s.ok)).toBe(true);
      expect(r.culprit!.why).toContain(r.fault!.reason.name);
      const want = model === 'arm-lpae' || model === 'arm-v7s' || model === 'arm-smmu-v2' ? 'table-entry' : 'device-entry';
      expect(r.fault!.stage).toBe(want);
      if (want === 'device-entry') expect(r.culprit!.party).toMatch(/^host IOMMU driver .* or firmware description/);
    } finally {
      snap.close();
    }
  });
});

describe('in-memory sources (no file system)', () => {
  it('assembles a snapshot from bytes and flags a PASID wider than the IOMMU implements', async () => {
    const { assembleSnapshot } = await import('../../../src/core/snapshot/assemble');
    const { validateManifest } = await import('../../../src/core/snapshot/manifest');
    const { BytesSource } = await import('../../../src/core/snapshot/bytes-source');
    const { buildElfCore } = await import('../../builder/elf-writer');
    const t = lpae([[0x5000n, 0x6000n]]);
    const manifest = validateManifest(
      { format: 'iommu-lens-snapshot', version: 1, iommu: { model: 'arm-lpae', features: { pasidBits: 8 } }, registers: { tcr: '0x' + TCR.toString(16), ttbr0: '0x' + t.root.toString(16) }, memory: [{ kind: 'elf', file: 'upload.core' }] },
      'upload.iommu.json',
    );
    const core = buildElfCore(t.mem);
    const snap = assembleSnapshot(manifest, 'upload.iommu.json', (spec) => ({ source: new BytesSource(core, spec.file) }));
    expect(snap.sources[0]).toMatchObject({ kind: 'elf', file: 'upload.core', size: core.length, machine: 62 });
    const r = walk(snap, { iova: 0x5010n, pasid: 0x100 });
    expect(r.pa).toBe('0x6010');
    expect(r.findings).toContainEqual({ severity: 'warning', where: 'request.pasid', message: 'PASID 0x100 needs more than the 8 bits this IOMMU implements (features.pasidBits)' });
    expect(walk(snap, { iova: 0x5010n, pasid: 0xff }).findings).toBeUndefined();
  });
});

describe('loader errors', () => {
  it('a missing memory file names the manifest, the field and the path', () => {
    const d = dir();
    const p = writeSnapshot(d, spec(new SparseMemory(), 0x4000_0000n));
    rmSync(join(d, 'memory.core'));
    let err: unknown;
    try {
      loadSnapshot(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SnapshotError);
    expect((err as Error).message).toBe(`snapshot.iommu.json: memory[0].file: cannot open ${join(d, 'memory.core')}: no such file (compressed? e.g. \`zstd -d memory.core.zst\`)`);
  });

  it('an ELF core given instead of the manifest is recognised', () => {
    const d = dir();
    writeSnapshot(d, spec(lpae([[0x1000n, 0x2000n]]).mem, 0x4000_0000n));
    expect(() => loadSnapshot(join(d, 'memory.core'))).toThrow(/this is an ELF core, not a manifest/);
  });

  it('a corrupt core names the core file and offset', () => {
    const d = dir();
    const p = writeSnapshot(d, spec(lpae([[0x1000n, 0x2000n]]).mem, 0x4000_0000n));
    writeFileSync(join(d, 'memory.core'), new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0]));
    expect(() => loadSnapshot(p)).toThrow(/^memory\.core: offset 0x0: ELF header truncated: needs 64 bytes at 0x0, the file has 18 bytes$/);
  });

  it('manifest problems come with the manifest name', () => {
    const d = dir();
    const p = join(d, 'x.iommu.json');
    writeSnapshot(d, spec(new SparseMemory(), 0n));
    writeFileSync(p, JSON.stringify({ format: 'iommu-lens-snapshot', version: 1, iommu: { model: 'intel-vtd' }, registers: { rtaddr: 4096 }, memory: [{ kind: 'elf', file: 'memory.core' }] }));
    expect(() => loadSnapshot(p)).toThrow('x.iommu.json: registers.rtaddr: expected a hex string like "0x80000000", got 4096');
  });
});
