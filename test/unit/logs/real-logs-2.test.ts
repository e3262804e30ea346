/**
 * Real published excerpts for the Arm SMMUv2, GPU MMU and Intel VT-d families that are NOT in
 * ../shared/corpus (test/fixtures/real-logs/{arm-smmu,gpu-mmu,intel-vtd}.txt, corpus format).
 * They carry real damage: log-viewer columns, mail quoting and wrapping, quoted-printable,
 * tracker pastes that ran lines together, journal columns. Every fault print is asserted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanText } from '../../../src/core/logs/scanner';
import type { FaultRecord } from '../../../src/core/logs/record';

interface Entry { source: string; lines: string[] }

const DIR = join(__dirname, '../../fixtures/real-logs');

function entries(file: string): Entry[] {
  const out: Entry[] = [];
  let cur: Entry | undefined;
  for (const l of readFileSync(join(DIR, file), 'utf8').split('\n')) {
    if (l.startsWith('### source:')) {
      cur = { source: l.slice('### source:'.length).trim(), lines: [] };
      out.push(cur);
    } else if (cur) {
      if (l.trim() === '' && cur.lines.length) cur = undefined;
      else if (l.trim() !== '') cur.lines.push(l);
    }
  }
  return out;
}

/** The records of the one entry whose source line contains `needle`, optionally of one family. */
function scan(file: string, needle: string, family?: string): FaultRecord[] {
  const hits = entries(file).filter((e) => e.source.includes(needle));
  expect(hits, `${file}: one entry for "${needle}"`).toHaveLength(1);
  const recs = scanText(hits[0]!.lines.join('\n'));
  return family ? recs.filter((r) => r.family === family) : recs;
}

const TF = { code: 2, name: 'TF' };

describe('real logs 2: fixture files', () => {
  it('hold sourced, non-empty entries', () => {
    for (const f of ['arm-smmu.txt', 'gpu-mmu.txt', 'intel-vtd.txt']) {
      const all = entries(f);
      expect(all.length, f).toBeGreaterThanOrEqual(6);
      for (const e of all) {
        expect(e.source.length).toBeGreaterThan(20);
        expect(e.lines.length).toBeGreaterThan(0);
      }
    }
  });
});

describe('real logs 2: Arm SMMUv2', () => {
  const F = 'arm-smmu.txt';

  it('log-viewer columns (hex offset, "|", bare timestamp) in front of the dev_err prefix', () => {
    const [r, ...rest] = scan(F, 'qualcomm/fastrpc/issues/353');
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({
      family: 'arm-smmu', kind: 'context-fault', line: 1, endLine: 4, iommu: '15000000.iommu', iova: '0xfd7ff000',
      contextBank: 10, streamId: '0x19c3', access: 'read', reason: TF,
      registers: { fsr: '0x402', fsynr0: '0x540003', cbfrsynra: '0x19c3' },
    });
    expect((r!.decoded as Record<string, unknown>).softIovaToPhys).toBe('0x0');
  });

  it('6.11+ three-line prints after a stray FSYNR0 line', () => {
    const recs = scan(F, 'sm7150-mainline');
    expect(recs.map((r) => [r.line, r.endLine, r.iova, r.streamId])).toEqual([
      [2, 4, '0x9c4b9000', '0x800'], [5, 7, '0x9c4b9d00', '0xc40'],
    ]);
    for (const r of recs) expect(r).toMatchObject({ contextBank: 7, access: 'read', reason: TF, registers: { fsynr0: '0x7c0020' } });
  });

  it('LS1028A without timestamps: ratelimit note then the v5.2 print', () => {
    const recs = scan(F, 'openwrt/mt76');
    expect(recs[0]).toMatchObject({ kind: 'storm-suppressed', family: 'arm-smmu' });
    expect(recs[1]).toMatchObject({ line: 2, iommu: '5000000.iommu', iova: '0xff3cf000', streamId: '0x409', contextBank: 10, access: 'read', reason: TF });
    expect(recs).toHaveLength(2);
  });

  it('SDM845 downstream: iova first, FAR/FSR labels, TBU lines and SID line in the record', () => {
    const recs = scan(F, 'agnos-kernel-sdm845');
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({
      line: 1, endLine: 7, iommu: '15000000.apps-smmu', iova: '0xa09d70c8', contextBank: 5, streamId: '0x40',
      access: 'read', reason: TF, registers: { fsr: '0x40000402', fsynr0: '0x300003', far: '0xa09d70c8' },
    });
    expect((recs[0]!.decoded as Record<string, unknown>).atosFailed).toBe(true);
    expect(recs[1]).toMatchObject({ line: 10, endLine: 12, iova: '0xa09d7100', contextBank: 5 });
  });

  it('OnePlus 6 downstream: cb= first, fsynr0=/fsynr1= keys, Client info, SID', () => {
    const recs = scan(F, '56914495925');
    const r = recs.find((x) => x.iova === '0x1000');
    expect(r).toMatchObject({
      family: 'arm-smmu', iommu: '15000000.apps-smmu', contextBank: 0, streamId: '0x880', access: 'read', reason: TF,
      registers: { fsr: '0x40000402', fsynr0: '0x200001', fsynr1: '0x0' },
    });
    expect(r!.endLine).toBe(14);
  });

  it('Jetson TX2 L4T: decimal sid with its client name, no fsr', () => {
    const [r] = scan(F, 'forums.developer.nvidia.com');
    expect(r).toMatchObject({ iommu: '12000000.iommu', iova: '0x17fe0fe00', contextBank: 21, streamId: '0x11', access: 'read', registers: { fsynr0: '0x220003' } });
    expect(r!.reason).toBeUndefined();
  });

  it('run-together tracker paste: adreno "*** gpu fault" and qcom_iommu faults, each its own record', () => {
    const recs = scan(F, 'msm8953-mainline');
    expect(recs.map((r) => r.family)).toEqual(['gpu-mmu', 'arm-smmu', 'gpu-mmu', 'arm-smmu']);
    expect(recs[1]).toMatchObject({
      iommu: '1c48000.iommu-ctx', iova: '0x1047dc0', contextBank: 0, access: 'read', reason: TF, registers: { fsr: '0x40000202', fsynr0: '0x3' },
    });
    expect(recs[1]!.time).toBeCloseTo(16.363414, 6);
    expect(recs[3]).toMatchObject({ line: 2, iova: '0x1047de0' });
    expect(recs[2]).toMatchObject({ kind: 'page-fault', iova: '0x1047de0', access: 'read' });
  });

  it('quoted and wrapped after "fsr=0x402," (">" and ">>")', () => {
    for (const id of ['40269091946', '40622623279']) {
      const [r, ...rest] = scan(F, id);
      expect(rest).toHaveLength(0);
      expect(r).toMatchObject({
        line: 1, endLine: 2, iommu: '15000000.iommu', iova: '0xfc401000', streamId: '0x121', contextBank: 38, access: 'read', reason: TF,
        registers: { fsr: '0x402', fsynr0: '0x60003', cbfrsynra: '0x121' },
      });
    }
  });

  it('indented and wrapped with a deeper indent, no fsynr: Tegra234', () => {
    const recs = scan(F, '60358469836');
    expect(recs[0]).toMatchObject({ family: 'arm-smmu', line: 1, endLine: 2, iommu: '8000000.iommu', iova: '0xfffb5000', streamId: '0x100f', contextBank: 3, reason: TF });
    expect(recs[0]!.access).toBeUndefined();
    expect(recs[1]).toMatchObject({ family: 'tegra', line: 3 });
  });

  it('wrapped after "fsr=0x402, " with the trailing blank: every field read, write access', () => {
    const [r] = scan(F, '39871104165');
    expect(r).toMatchObject({ endLine: 2, iommu: '3da0000.iommu', iova: '0x60400000', streamId: '0x5', contextBank: 2, access: 'write', registers: { fsynr0: '0x32' } });
  });

  it('the bare "Unhandled context fault" still names the SMMU', () => {
    const recs = scan(F, '57420834447');
    expect(recs[0]).toMatchObject({ family: 'arm-smmu', kind: 'context-fault', line: 1, iommu: '12000000.iommu' });
    expect(recs[0]!.iova).toBeUndefined();
    expect(recs.slice(1).map((r) => r.family)).toEqual(['tegra', 'tegra', 'tegra']);
  });

  it('wrapped right after the colon: quoted-printable Tegra234 and plain i.MX8QM', () => {
    const [q] = scan(F, '56558604321', 'arm-smmu');
    expect(q).toMatchObject({ line: 3, endLine: 4, iommu: '12000000.iommu', iova: '0xcd21d000', streamId: '0x820', contextBank: 1, access: 'write', reason: TF });
    expect(q!.time).toBeCloseTo(62.324542, 6);
    const [i] = scan(F, '7767184279', 'arm-smmu');
    expect(i).toMatchObject({ line: 2, endLine: 3, iommu: '51400000.iommu', iova: '0x0', streamId: '0x852', contextBank: 2, access: 'read', reason: TF });
  });

  it('Xen on ZynqMP, plain and quoted-printable with a soft break inside "iova="', () => {
    const [x, ...others] = scan(F, '24416808662', 'arm-smmu');
    expect(others).toHaveLength(0);
    expect(x).toMatchObject({ host: 'xen', iommu: '/smmu@fd800000', iova: '0x8424cb148', contextBank: 0, access: 'read', reason: TF, registers: { fsr: '0x402', fsynr0: '0xb0001' } });
    const [q] = scan(F, '24644982013', 'arm-smmu');
    expect(q).toMatchObject({ host: 'xen', endLine: 2, iommu: '/smmu@fd800000', iova: '0x8424cb148', contextBank: 0, registers: { fsr: '0x402', fsynr0: '0xb0001' } });
  });

  it('USF global faults: blank-indented GFSR, QP soft breaks in both lines, ACPI instance', () => {
    const [a] = scan(F, '13260537347');
    expect(a).toMatchObject({
      kind: 'global-fault', line: 2, endLine: 3, iommu: '5000000.iommu', streamId: '0x429', reason: { name: 'USF' },
      registers: { gfsr: '0x80000002', gfsynr0: '0x2', gfsynr1: '0x429', gfsynr2: '0x0' },
    });
    const [b, ...rest] = scan(F, '10417624486');
    expect(rest).toHaveLength(0);
    expect(b).toMatchObject({ kind: 'global-fault', line: 1, endLine: 5, iommu: '64000000.mmu', streamId: '0x2000', registers: { gfsr: '0x2', gfsynr1: '0x2000', gfsynr2: '0x0' } });
    const [c] = scan(F, '66191178816');
    expect(c).toMatchObject({ kind: 'global-fault', iommu: 'arm-smmu.1.auto', streamId: '0x22e0', reason: { name: 'USF' } });
  });
});
