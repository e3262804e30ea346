import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, validateManifest } from '../../../src/core/snapshot/manifest';
import { ManifestError } from '../../../src/core/snapshot/errors';
import { SNAPSHOTS } from './real-snapshot-cache';

const F = 'snap.iommu.json';

function base(): Record<string, any> {
  return {
    format: 'iommu-lens-snapshot',
    version: 1,
    iommu: { model: 'arm-smmu-v3', name: '/smmu@fd800000', features: { ias: 48, oas: 44, ssidBits: 20, granules: ['4k', '64k'] } },
    registers: { strtab_base: '0x80000000', strtab_base_cfg: '0x10' },
    memory: [{ kind: 'elf', file: 'guest.core' }, { kind: 'raw', file: 'tables.bin', base: '0x80000000' }],
  };
}

function problems(json: unknown): string[] {
  try {
    validateManifest(json, F);
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return (e as Error).message.split('\n');
  }
  throw new Error('expected a ManifestError');
}

function mutate(f: (m: Record<string, any>) => void): string[] {
  const m = base();
  f(m);
  return problems(m);
}

describe('manifest validation', () => {
  it('accepts the DESIGN.md example and converts hex strings to bigint', () => {
    const m = validateManifest(base(), F);
    expect(m.model).toBe('arm-smmu-v3');
    expect(m.name).toBe('/smmu@fd800000');
    expect(m.features).toEqual({ ias: 48, oas: 44, ssidBits: 20, granules: ['4k', '64k'] });
    expect(m.registers).toEqual({ strtab_base: 0x80000000n, strtab_base_cfg: 0x10n });
    expect(m.memory).toEqual([{ kind: 'elf', file: 'guest.core' }, { kind: 'raw', file: 'tables.bin', base: 0x80000000n }]);
    expect(m.warnings).toEqual([]);
  });

  it('accepts both real manifests', () => {
    for (const n of ['smmuv3-virt', 'vtd-q35-legacy']) {
      const p = join(SNAPSHOTS, n, 'manifest.iommu.json');
      const m = parseManifest(readFileSync(p, 'utf8'), 'manifest.iommu.json');
      expect(m.memory).toEqual([{ kind: 'elf', file: 'guest.core' }]);
      expect(m.warnings).toEqual([]);
    }
    const v = parseManifest(readFileSync(join(SNAPSHOTS, 'vtd-q35-legacy', 'manifest.iommu.json'), 'utf8'), 'x');
    expect(v.registers.rtaddr).toBe(0x2629000n);
    expect(v.features.levels).toEqual([3]);
  });

  it('names file, field path and expectation for a number where a hex string belongs', () => {
    expect(mutate((m) => (m.registers.strtab_base = 12))).toEqual([`${F}: registers.strtab_base: expected a hex string like "0x80000000", got 12`]);
  });

  it('reports every problem at once', () => {
    const lines = mutate((m) => {
      m.version = 2;
      m.iommu.features.ias = 'big';
      m.memory[1].base = '80000000';
    });
    expect(lines).toEqual([
      `${F}: version: expected 1, got 2 (a newer format than this version of iommu-lens reads)`,
      `${F}: iommu.features.ias: expected an integer from 1 to 64, got "big"`,
      `${F}: memory[1].base: expected a hex string like "0x80000000", got "80000000"`,
    ]);
  });

  it.each([
    ['format', (m: any) => (m.format = 'other'), 'format: expected "iommu-lens-snapshot", got "other"'],
    ['model', (m: any) => (m.iommu.model = 'smmu'), 'iommu.model: expected one of "arm-smmu-v2", "arm-smmu-v3", "intel-vtd", "amd-vi", "arm-lpae", "arm-v7s", got "smmu"'],
    ['iommu', (m: any) => delete m.iommu, 'iommu: expected an object {"model", "name", "features"}, got nothing'],
    ['name', (m: any) => (m.iommu.name = 3), 'iommu.name: expected a string (the instance as logs print it, e.g. "dmar0"), got 3'],
    ['granule', (m: any) => (m.iommu.features.granules = ['4k', '8k']), 'iommu.features.granules[1]: expected one of "4k", "16k", "64k", got "8k"'],
    ['httu', (m: any) => (m.iommu.features.httu = 'dirty'), 'iommu.features.httu: expected one of "none", "access", "access+dirty", got "dirty"'],
    ['bool', (m: any) => (m.iommu.features.stall = 1), 'iommu.features.stall: expected true or false, got 1'],
    ['ssidBits', (m: any) => (m.iommu.features.ssidBits = 21), 'iommu.features.ssidBits: expected an integer from 0 to 20, got 21'],
    ['levels', (m: any) => (m.iommu.features.levels = [4, 9]), 'iommu.features.levels[1]: expected an integer from 1 to 6, got 9'],
    ['required reg', (m: any) => delete m.registers.strtab_base_cfg, 'registers.strtab_base_cfg: expected a hex string (required for arm-smmu-v3), got nothing'],
    ['wide reg', (m: any) => (m.registers.cr0 = '0x1' + '0'.repeat(16)), 'registers.cr0: expected a value of at most 64 bits, got 0x10000000000000000'],
    ['uppercase reg', (m: any) => (m.registers.CR0 = '0x1'), 'registers.CR0: expected lowercase register names as the specifications spell them ("cr0")'],
    ['memory empty', (m: any) => (m.memory = []), 'memory: expected a non-empty array of memory sources ({"kind": "elf", "file": "guest.core"}), got an empty array'],
    ['memory kind', (m: any) => (m.memory[0].kind = 'vmcore'), 'memory[0].kind: expected "elf" or "raw", got "vmcore"'],
    ['memory file', (m: any) => (m.memory[0].file = ''), 'memory[0].file: expected a file name relative to the manifest, got ""'],
    ['raw base', (m: any) => delete m.memory[1].base, 'memory[1].base: expected a hex string like "0x80000000" (physical address of the first byte of a raw file), got nothing'],
    ['elf base', (m: any) => (m.memory[0].base = '0x0'), 'memory[0].base: expected no base for an ELF core (its PT_LOAD headers give the physical addresses)'],
    ['registers', (m: any) => (m.registers = []), 'registers: expected an object of register values, got an array'],
  ])('%s', (_n, f, msg) => {
    expect(mutate(f)).toEqual([`${F}: ${msg}`]);
  });

  it('rejects text that is not JSON, naming the file', () => {
    expect(() => parseManifest('{"format": ', F)).toThrow(/^snap\.iommu\.json: not valid JSON: /);
    expect(() => parseManifest('[1]', F)).toThrow(`${F}: expected a JSON object (an iommu-lens-snapshot manifest), got an array`);
  });

  it('keeps unknown fields and registers as warnings, not errors', () => {
    const m = base();
    m.capturedBy = 'script';
    m.registers.eventq_base = '0x1000';
    m.iommu.features.fancy = true;
    const r = validateManifest(m, F);
    expect(r.registers.eventq_base).toBe(0x1000n);
    expect(r.warnings).toEqual([
      `${F}: iommu.features.fancy: unknown feature, ignored`,
      `${F}: registers.eventq_base: register not used by the arm-smmu-v3 walker (known: strtab_base, strtab_base_cfg, cr0, cr2, gbpa, idr0, idr1, idr2, idr3, idr4, idr5)`,
      `${F}: capturedBy: unknown field, ignored`,
    ]);
  });

  describe('per model registers', () => {
    const withModel = (model: string, registers: unknown) => ({ ...base(), iommu: { model }, registers });

    it('intel-vtd needs rtaddr, amd-vi dev_table_base, arm-v7s ttbr0', () => {
      expect(problems(withModel('intel-vtd', { cap: '0x0' }))).toEqual([`${F}: registers.rtaddr: expected a hex string (required for intel-vtd), got nothing`]);
      expect(problems(withModel('amd-vi', {}))).toEqual([`${F}: registers.dev_table_base: expected a hex string (required for amd-vi), got nothing`]);
      expect(problems(withModel('arm-v7s', {}))).toEqual([`${F}: registers.ttbr0: expected a hex string (required for arm-v7s), got nothing`]);
    });

    it('arm-lpae needs a stage-1 or stage-2 regime', () => {
      expect(problems(withModel('arm-lpae', { mair: '0x0' }))).toEqual([
        `${F}: registers: expected a stage-1 regime (tcr with ttbr0 and/or ttbr1) or a stage-2 regime (vtcr with vttbr), or both for nested`,
      ]);
      const m = validateManifest(withModel('arm-lpae', { vtcr: '0x80023558', vttbr: '0x40000000' }), F);
      expect(m.registers).toEqual({ vtcr: 0x80023558n, vttbr: 0x40000000n });
    });

    it('arm-smmu-v2 keeps smr/s2cr arrays and context banks', () => {
      const m = validateManifest(
        withModel('arm-smmu-v2', {
          smr: ['0x80000010', '0x0'],
          s2cr: ['0x0', '0x20000'],
          contextBanks: { '0': { sctlr: '0x1', tcr: '0x80803510', ttbr0: '0x1000', cba2r: '0x1' } },
          idr0: '0x0',
        }),
        F,
      );
      expect(m.smmuV2).toEqual({ smr: [0x80000010n, 0n], s2cr: [0n, 0x20000n], contextBanks: { 0: { sctlr: 1n, tcr: 0x80803510n, ttbr0: 0x1000n, cba2r: 1n } } });
      expect(m.registers).toEqual({ idr0: 0n });
    });

    it('arm-smmu-v2 errors name the array element or bank register', () => {
      expect(
        problems(
          withModel('arm-smmu-v2', {
            smr: ['0x1', 5],
            s2cr: ['0x0'],
            contextBanks: { '0': { tcr: 'x' }, bank1: {} },
          }),
        ),
      ).toEqual([
        `${F}: registers.smr[1]: expected a hex string like "0x80000000", got 5`,
        `${F}: registers.s2cr: expected one S2CR per SMR (2), got 1`,
        `${F}: registers.contextBanks.0.tcr: expected a hex string like "0x80000000", got "x"`,
        `${F}: registers.contextBanks.bank1: expected a context-bank index from 0 to 255 as the key`,
      ]);
      expect(problems(withModel('arm-smmu-v2', { smr: [] }))).toEqual([
        `${F}: registers.s2cr: expected an array of hex strings (one per stream-map group), got nothing`,
        `${F}: registers.contextBanks: expected an object keyed by context-bank index ({"0": {"sctlr": "0x...", ...}}), got nothing`,
      ]);
    });
  });
});

describe('docs/snapshot-format.md', () => {
  it('every JSON example is a valid manifest without sanity errors', async () => {
    const { sanityChecks } = await import('../../../src/core/snapshot/sanity');
    const doc = readFileSync(join(__dirname, '../../../docs/snapshot-format.md'), 'utf8');
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => m[1]!);
    expect(blocks.length).toBe(5);
    const models = blocks.map((b) => {
      const m = parseManifest(b, 'example');
      expect(m.warnings).toEqual([]);
      const f = sanityChecks({ model: m.model, features: m.features, registers: m.registers, ...(m.smmuV2 ? { smmuV2: m.smmuV2 } : {}) });
      expect(f.filter((x) => x.severity !== 'info')).toEqual([]);
      return m.model;
    });
    expect(models).toEqual(['arm-smmu-v3', 'intel-vtd', 'arm-smmu-v2', 'amd-vi', 'arm-lpae']);
  });
});
