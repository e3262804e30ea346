/**
 * Real published excerpts for the Arm SMMUv2, GPU MMU and Intel VT-d families that are NOT in
 * ../shared/corpus (test/fixtures/real-logs/{arm-smmu,gpu-mmu,intel-vtd}.txt, corpus format).
 * They carry real damage: log-viewer columns, mail quoting and wrapping, quoted-printable,
 * tracker pastes that ran lines together, journal columns. Every fault print is asserted.
 */
import { describe, expect, it } from 'vitest';
import { scanText } from '../../../src/core/logs/scanner';
import { entries, scan } from '../../helpers/real-logs';

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

  it('OnePlus 6 downstream: register dump first, then the head line with cb= first and fsynr0=/fsynr1=, Client info, SID', () => {
    const recs = scan(F, '56914495925');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'arm-smmu', line: 1, endLine: 14, iommu: '15000000.apps-smmu', iova: '0x1000', contextBank: 0, streamId: '0x880', access: 'read', reason: TF,
      registers: { far: '0x1000', par: '0x0', fsr: '0x40000402', fsynr0: '0x200001', fsynr1: '0x0', ttbr0: '0x0', sctlr: '0xc000e7', cbar: '0x1f300', mair0: '0xf404ff44' },
      decoded: { client: { bid: 0, pid: 0, mid: 0 }, softwareWalkFailed: '15000000.apps-smmu', atosFailed: true },
    });
  });

  it('Android GKI kmsg with "<3>" and a "[  T803]" caller column: downstream print_fault_regs() dump', () => {
    const recs = scan(F, '33686391933');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 1, endLine: 15, iommu: '15000000.apps-smmu', device: 'a600000.dwc3', iova: '0xefe60800', contextBank: 0x1b, streamId: '0x40',
      access: 'read', reason: TF,
      registers: { far: '0xefe60800', fsr: '0x40000402', fsynr0: '0x5f0003', fsynr1: '0xaa02', ttbr0: '0x1b0000c2a92000', mair1: '0xefe4' },
      decoded: { client: { bid: 5, pid: 10, mid: 2 }, softIovaToPhys: '0x0' },
    });
    expect(recs[0]!.time).toBeCloseTo(718.3149, 6);
  });

  it('Jetson TX2 L4T: decimal sid with its client name, no fsr', () => {
    const [r] = scan(F, 'forums.developer.nvidia.com');
    expect(r).toMatchObject({
      iommu: '12000000.iommu', iova: '0x17fe0fe00', contextBank: 21, streamId: '0x11', access: 'read', registers: { fsynr0: '0x220003' },
      decoded: { pageTableEntries: { pgd: '0x25bec9003', pud: '0x25bec9003', pmd: '0x235086003', pte: '0x0' } },
    });
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
    // the words alone, without the instance, are prose (a title), not a print
    expect(scanText('Unhandled context fault\nIOMMU: Unhandled context fault').filter((r) => r.family === 'arm-smmu')).toHaveLength(0);
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

describe('real logs 2: Arm SMMUv2 on ZynqMP (Linux)', () => {
  it('quoted reply with blanks before the timestamps; GEM bus errors between the faults', () => {
    const recs = scan('arm-smmu.txt', '24973953172');
    expect(recs.map((r) => [r.line, r.time])).toEqual([[2, 74.959989], [4, 75.173955]]);
    for (const r of recs) {
      expect(r).toMatchObject({
        family: 'arm-smmu', iommu: 'fd800000.smmu', iova: '0x3165687460', streamId: '0x877', contextBank: 1, access: 'read', reason: TF,
        registers: { fsr: '0x402', fsynr0: '0x20001', cbfrsynra: '0x877' },
      });
    }
  });
});

describe('real logs 2: Arm SMMUv2 global faults', () => {
  const F = 'arm-smmu.txt';

  it('quoted SC7180 global faults without the GFSR TAB; Xen on Juno with it', () => {
    const q = scan(F, '21120466142');
    expect(q.map((r) => [r.line, r.endLine, r.streamId])).toEqual([[2, 3, '0x43'], [6, 7, '0x4c3']]);
    for (const r of q) expect(r).toMatchObject({ kind: 'global-fault', iommu: '15000000.iommu', reason: { code: 2, name: 'USF' }, registers: { gfsr: '0x2', gfsynr0: '0x2', gfsynr2: '0x0' } });
    const [x, ...rest] = scan(F, '25030087785');
    expect(rest).toHaveLength(0);
    expect(x).toMatchObject({
      host: 'xen', kind: 'global-fault', line: 1, endLine: 2, iommu: '/iommu@7fb30000', streamId: '0x0',
      registers: { gfsr: '0x4', gfsynr0: '0x6', gfsynr1: '0x0', gfsynr2: '0x0' }, reason: { code: 4, name: 'SMCF' },
    });
  });
});

describe('real logs 2: GPU MMUs', () => {
  const F = 'gpu-mmu.txt';

  it('panfrost under journalctl and dmesg: indented continuation lines, level-specific translation faults', () => {
    const [j, ...jr] = scan(F, 'waydroid', 'gpu-mmu');
    expect(jr).toHaveLength(0);
    expect(j).toMatchObject({
      family: 'gpu-mmu', kind: 'page-fault', line: 1, endLine: 7, iommu: 'ff9a0000.gpu', iova: '0x107ed2cc0', access: 'read',
      registers: { as_faultstatus: '0x6f002c1' }, reason: { code: 0xc1, name: 'TRANSLATION_FAULT_1' }, decoded: { addressSpace: 0, sourceId: 0x6f0 },
    });
    const [d] = scan(F, 'wip-pinebook-pro', 'gpu-mmu');
    expect(d).toMatchObject({ endLine: 7, iova: '0x13b4b880', access: 'read', reason: { code: 0xc3, name: 'TRANSLATION_FAULT_LEVEL3' }, decoded: { addressSpace: 1 } });
    expect(d!.time).toBeCloseTo(58159.525827, 6);
  });

  it('vendor kbase "mali" behind "> [ +14.888230]": the reason text and pid line', () => {
    const [r, ...rest] = scan(F, 'ubuntu-rockchip', 'gpu-mmu');
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({
      line: 1, endLine: 7, iommu: 'fb000000.gpu', iova: '0x7fe0da65cb80', access: 'read', registers: { as_faultstatus: '0x210002c1' },
      reason: { code: 0xc1 }, decoded: { addressSpace: 1, reasonText: 'Memory is not mapped on the GPU', sourceId: 0x2100, pid: 1693 },
    });
  });

  it('lima: one record per PP MMU', () => {
    const recs = scan(F, 'mesa-lima');
    expect(recs.map((r) => [r.iova, (r.decoded as Record<string, unknown>).mmu])).toEqual([['0x121020', 'ppmmu0'], ['0x121000', 'ppmmu1']]);
    for (const r of recs) expect(r).toMatchObject({ iommu: '1c40000.gpu', access: 'read', reason: { name: 'PAGE_FAULT' }, decoded: { busId: 0 } });
  });

  it('amdgpu gfx9 no-retry print: task line, IH client, status decoded, permission fault on read', () => {
    const [r] = scan(F, 'ROCm/amdgpu/issues/172');
    expect(r).toMatchObject({
      line: 1, endLine: 10, device: '0000:c6:00.0', pasid: '0x8001', iova: '0xae8570611000', access: 'read',
      registers: { vm_l2_protection_fault_status: '0x301031' }, reason: { code: 3, name: 'PERMISSION_FAULTS' },
      decoded: { hub: 'gfxhub0', retry: false, vmid: 3, ring: 24, process: 'pt_main_thread', pid: 12924, clientId: 0x1b, client: 'UTCL2', utcl2Client: 'TCP' },
    });
  });

  it('RDNA3 after a ratelimit line: decimal client, trailing blanks', () => {
    const recs = scan(F, 'legacy-rocm-build/issues/2205');
    expect(recs[0]).toMatchObject({ kind: 'storm-suppressed' });
    expect(recs[1]).toMatchObject({
      line: 2, endLine: 6, device: '0000:c3:00.0', pasid: '0x8005', iova: '0x7f0000002000',
      registers: { vm_l2_protection_fault_status: '0xc01a30' }, decoded: { clientId: 10, utcl2Client: 'SDMA0', process: 'rocm-bandwidth-' },
    });
  });

  it('FreeBSD drm-kmod: "drmn0:" device column, retry fault, write', () => {
    const [r] = scan(F, 'freebsd/drm-kmod');
    expect(r).toMatchObject({
      line: 1, endLine: 8, iommu: 'drmn0', pasid: '0x8002', iova: '0x80011e079000', access: 'write',
      registers: { vm_l2_protection_fault_status: '0x341051' }, reason: { code: 5, name: 'PERMISSION_FAULTS' }, decoded: { retry: true, clientId: 27 },
    });
    const [old] = scan(F, 'FreeBSDDesktop/kms-drm');
    expect(old).toMatchObject({ line: 2, endLine: 4, iommu: 'drmn0', pasid: '0x0', iova: '0x5b7199707000', decoded: { hub: 'mmhub', ring: 153, vmid: 0, clientId: 18 } });
  });

  it('7.x journal without the "amdgpu:" column; the excerpt starts inside an earlier print', () => {
    const recs = scan(F, 'linux-cachyos');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 8, endLine: 13, device: '0000:0d:00.0', pasid: '0xa', iova: '0x43800e8000',
      registers: { vm_l2_protection_fault_status: '0x401031' }, decoded: { process: 'kwin_wayland', pid: 1671, thread: 'kwin_wayla:cs0', tid: 1722, client: 'UTCL2' },
    });
  });

  it('RDNA4: walker and mapping errors, write', () => {
    const [r] = scan(F, 'getsolus');
    expect(r).toMatchObject({ endLine: 10, iova: '0x7febd6383000', access: 'write', reason: { name: 'MAPPING_ERROR' }, decoded: { ring: 173, WALKER_ERROR: 5, MAPPING_ERROR: 1 } });
  });

  it('two GPUs interleaving: each record keeps only its own lines', () => {
    const recs = scan(F, 'ROCm/amdgpu/issues/150');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 3, endLine: 16, device: '0000:88:00.0', pasid: '0x8004', iova: '0x0',
      registers: { vm_l2_protection_fault_status: '0x801030' }, reason: { code: 3, name: 'PERMISSION_FAULTS' }, decoded: { utcl2Client: 'TCP', MORE_FAULTS: 0 },
    });
  });

  it('gmc v6-8: four-line prints, VM fault line with or without the device prefix', () => {
    const [a] = scan(F, 'Appstream/issues/91');
    expect(a).toMatchObject({
      endLine: 4, device: '0005:01:00.0', pasid: '0x8010', iova: '0x0', access: 'read',
      registers: { vm_context1_protection_fault_addr: '0x0', vm_context1_protection_fault_status: '0x204800c' }, decoded: { vmid: 1, client: 'TC4', mcId: 72 },
    });
    const [b] = scan(F, 'steam-for-linux');
    expect(b).toMatchObject({ endLine: 4, device: '0000:01:00.0', iova: '0x123927000', access: 'read', decoded: { vmid: 5, client: 'TC3', mcId: 200 } });
    const c = scan(F, 'vulkan-overlay');
    expect(c.map((r) => [r.line, r.endLine, r.iova])).toEqual([[2, 5, '0x462075d000'], [6, 9, '0x7b38802000']]);
  });
});

describe('real logs 2: GPU MMUs (adreno, nouveau, v3d)', () => {
  const F = 'gpu-mmu.txt';

  it('adreno new print wrapped after "dir=READ" (">>>>" quotes) and inside "dir=" (quoted-printable)', () => {
    for (const [id, end] of [['31761778780', 2], ['9579992275', 3]] as const) {
      const recs = scan(F, id);
      expect(recs, id).toHaveLength(1);
      expect(recs[0]).toMatchObject({
        family: 'gpu-mmu', kind: 'page-fault', line: 1, endLine: end, iova: '0x100000000c000', access: 'read',
        registers: { ttbr0: '0x0' }, reason: { name: 'TRANSLATION' }, decoded: { driver: 'msm', source: 'CP', cpScratch: [0, 0, 0, 0] },
      });
    }
  });

  it('adreno prints behind "+# " diff comments and an unpadded timestamp', () => {
    const [a] = scan(F, '21329606710');
    expect(a).toMatchObject({ line: 2, iova: '0x1074000', access: 'write', registers: { ttbr0: '0x101fd5000' }, reason: { name: 'PERMISSION' }, decoded: { source: '1f030000' } });
    expect(a!.time).toBeCloseTo(80.177812, 6);
    const [b] = scan(F, '71325099636');
    expect(b).toMatchObject({ iova: '0x126bd040', access: 'write', registers: { ttbr0: '0x11007b000' }, reason: { name: 'TRANSLATION' } });
    expect(b!.time).toBeCloseTo(222.29381, 5);
  });

  it('nouveau GF100 print wrapped over three lines by a mail client, and on one line', () => {
    const recs = scan(F, '15670982725');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 1, endLine: 3, device: '0000:01:00.0', iova: '0x0', access: 'read', reason: { code: 2, name: 'PAGE_NOT_PRESENT' },
      decoded: { engine: 'PGRAPH', channel: 2, instance: '0x3fc12000', process: 'Xorg[2935]' },
    });
    const [one] = scan(F, '56921649210');
    expect(one).toMatchObject({ device: '0000:01:00.0', iova: '0x257000', access: 'read', reason: { code: 2, name: 'PAGE_NOT_PRESENT' }, decoded: { engine: 'BAR3', client: 'BAR_READ', channel: -1 } });
  });

  it('V3D pte-invalid faults: plain, quoted with an unknown client, dmesg -T after blanks', () => {
    const recs = scan(F, '17094888311');
    expect(recs.map((r) => [r.iova, (r.decoded as Record<string, unknown>).client])).toEqual([['0xac1000', 'CLE'], ['0x1b61000', 'CLE'], ['0x15bff00', 'L2T']]);
    for (const r of recs) expect(r).toMatchObject({ iommu: 'fec00000.v3d', reason: { name: 'PTE_INVALID' }, decoded: { driver: 'v3d' } });
    const [q] = scan(F, '14750330999');
    expect(q).toMatchObject({ iova: '0x3bb1000', reason: { name: 'PTE_INVALID' }, decoded: { client: '?', axiId: 13 } });
    const [t] = scan(F, '38732918900');
    expect(t).toMatchObject({ iommu: 'fec00000.v3d', iova: '0x244c1000', reason: { name: 'PTE_INVALID' }, decoded: { client: 'CLE', axiId: 4 } });
  });
});

describe('real logs 2: Qualcomm KGSL', () => {
  it('Android KGSL print with its nearby-memory lines, indented in notes', () => {
    const recs = scan('gpu-mmu.txt', '67447456448');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ family: 'gpu-mmu', kind: 'page-fault', line: 1, endLine: 4, iommu: 'kgsl-3d0', iova: '0xbf049400', decoded: { driver: 'kgsl', pid: 5944 } });
  });
});

describe('real logs 2: Intel VT-d', () => {
  const F = 'intel-vtd.txt';

  it('5.14+ prints with NO_PASID; the FSTS line joins the fault after it', () => {
    const recs = scan(F, 'dasharo-issues/issues/641');
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ kind: 'dma-fault', line: 1, device: '0000:00:02.0', iova: '0x7cd80000', access: 'read', reason: { code: 1, name: 'ROOT_NOT_PRESENT' }, decoded: { pasidPresent: false } });
    expect(recs[1]).toMatchObject({ line: 2, endLine: 3, iova: '0x7cd87000', registers: { fsts: '0x3' } });
  });

  it('"0x" bus/device of early 5.14 behind a "kernel:" column', () => {
    const [r] = scan(F, 'sof-test/issues/744');
    expect(r).toMatchObject({ device: '0000:00:02.0', iova: '0x70ad5000', access: 'read', reason: { code: 7, name: 'NEXT_PT_INVALID' } });
  });

  it('v5.4-5.13 "PASID ffffffff" prints: no PASID, decimal reasons, FSTS with a record index', () => {
    const a = scan(F, 'i915ovmfPkg/issues/23', 'intel-vtd').filter((r) => r.kind === 'dma-fault' && r.iova);
    expect(a[0]).toMatchObject({ line: 2, endLine: 3, iova: '0x9c000000', access: 'read', reason: { code: 6, name: 'PTE_READ' }, decoded: { pasidPresent: false } });
    expect(a[0]!.pasid).toBeUndefined();
    const b = scan(F, 'i915ovmfPkg/issues/16');
    expect(b.map((r) => [r.iova, r.access, r.reason?.name])).toEqual([['0x0', 'write', 'CONTEXT_NOT_PRESENT'], ['0xb4000000', 'read', 'PTE_READ']]);
    const c = scan(F, 'sonic-marvell-binaries');
    expect(c.map((r) => [r.line, r.iova, r.registers?.fsts])).toEqual([[1, '0x1a5e12000', undefined], [2, '0x1a5e05000', '0x402']]);
    for (const r of c) expect(r).toMatchObject({ device: '0000:06:00.0', reason: { code: 6 } });
  });

  it('indented 4.x one-line print: write to address 0', () => {
    const [r] = scan(F, 'OpenNetworkLinux');
    expect(r).toMatchObject({ line: 1, device: '0000:00:12.0', iova: '0x0', access: 'write', reason: { code: 5, name: 'PTE_WRITE' } });
  });

  it('scalable-mode reason with a PASID', () => {
    const recs = scan(F, 'dsa-perf-micros/issues/3');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 2, endLine: 3, device: '0000:6a:01.0', pasid: '0x2', iova: '0x7fe0c9943000', access: 'read',
      registers: { fsts: '0x3' }, reason: { code: 0x3a, name: 'SM_ROOT_RESERVED' },
    });
  });

  it('3.8 two-line print with the "dmar: " column', () => {
    const [r] = scan(F, 'lkml.indiana.edu');
    expect(r).toMatchObject({ line: 1, endLine: 2, device: '0000:00:02.0', iova: '0x1a45aa9000', access: 'read', reason: { code: 12, name: 'PTE_RESERVED' } });
  });

  it('Xen: two-line prints, quoted and wrapped prints, a code-fenced print', () => {
    const q = scan(F, 'qubes-issues/issues/1710');
    expect(q).toHaveLength(2);
    for (const r of q) expect(r).toMatchObject({ host: 'xen', kind: 'dma-fault', device: '0000:01:00.0', iova: '0x8c000', access: 'write', reason: { code: 5, name: 'PTE_WRITE' }, decoded: { iommuReg: '0xffff82c000203000' } });
    const w = scan(F, 'Xen IGD faults quoted in a reply', 'intel-vtd');
    expect(w.map((r) => [r.line, r.endLine, r.iova])).toEqual([[2, 3, '0x8e43c000'], [5, 6, '0x8e2c6000']]);
    for (const r of w) expect(r).toMatchObject({ host: 'xen', device: '0000:00:02.0', access: 'read' });
    const [a] = scan(F, '17093826972');
    expect(a).toMatchObject({ host: 'xen', line: 1, endLine: 3, iova: '0x76c615d000', reason: { code: 6, name: 'PTE_READ' }, decoded: { iommuReg: '0xffff82c000a0c000' } });
    const [f] = scan(F, 'lf-edge/eve');
    expect(f).toMatchObject({ host: 'xen', device: '0000:00:02.0', iova: '0x8e43c000', access: 'read', decoded: { iommuReg: '0xffff82c00021d000' } });
  });

  it('INTR-REMAP: ">>" quoted and wrapped before the reason', () => {
    const [r] = scan(F, '41388418563');
    expect(r).toMatchObject({
      kind: 'intr-remap-fault', line: 1, endLine: 3, device: '0000:c9:05.0', registers: { fsts: '0x2' },
      reason: { code: 0x25, name: 'IR_COMPAT_BLOCKED' }, decoded: { faultIndex: '0xa00' },
    });
  });

  it('INTR-REMAP: quoted-printable soft breaks inside words ("fa=" + "ult", "r=" + "equest", "0=" + "x0")', () => {
    const [a] = scan(F, '12749641907', 'intel-vtd');
    expect(a).toMatchObject({ kind: 'intr-remap-fault', line: 1, endLine: 4, device: '0000:42:00.2', reason: { code: 37, name: 'IR_COMPAT_BLOCKED', text: 'Blocked a compatibility format interrupt request' }, decoded: { faultIndex: '0x1600' } });
    const [b] = scan(F, '25800034307', 'intel-vtd');
    expect(b).toMatchObject({ kind: 'intr-remap-fault', line: 1, endLine: 4, device: '0000:f0:1f.0', reason: { code: 0x25 }, decoded: { faultIndex: '0x0' } });
  });

  it('INTR-REMAP: counts column, hex index with decimal reason, IRTE not present, old "[[" two-line form', () => {
    const [c] = scan(F, '28153861274');
    expect(c).toMatchObject({ kind: 'intr-remap-fault', line: 2, device: '0000:f0:1f.0', reason: { code: 0x25 }, decoded: { faultIndex: '0x0' } });
    const [e] = scan(F, '37090014918');
    expect(e).toMatchObject({ device: '0000:00:11.0', reason: { code: 38, name: 'IR_SID_VERIFY' }, decoded: { faultIndex: '0x3b' } });
    const [i] = scan(F, '2529831051');
    expect(i).toMatchObject({ line: 1, endLine: 2, device: '0000:65:00.0', reason: { code: 0x22, name: 'IRTE_NOT_PRESENT' }, decoded: { faultIndex: '0x25' } });
    const [o] = scan(F, '56717052182');
    expect(o).toMatchObject({ line: 1, endLine: 3, device: '0000:f0:1f.0', reason: { code: 37, name: 'IR_COMPAT_BLOCKED' }, decoded: { faultIndex: '0x0' } });
  });

  it('head cut before the BDF (dmesg -T, hard-wrapped mail): joined after the FSTS line and on its own', () => {
    const [w] = scan(F, 'same boot, a later fault');
    expect(w).toMatchObject({
      line: 1, endLine: 4, device: '0000:80:14.0', iova: '0x1001680000', access: 'read', registers: { fsts: '0x2' },
      reason: { code: 0x39, name: 'SM_ROOT_NOT_PRESENT', text: 'SM: Present bit in Root Entry is clear' },
    });
    const e = entries(F).find((x) => x.source.includes('the head cut before the BDF, scalable-mode'))!;
    const alone = scanText(e.lines.slice(1).join('\n'));
    expect(alone[0]).toMatchObject({ line: 1, endLine: 3, device: '0000:80:1f.6', iova: '0x15fa71000', access: 'write', reason: { code: 0x39 } });
    expect(alone[0]!.registers).toBeUndefined();
  });

  it('one print wrapped four times under quote marks of varying depth', () => {
    const recs = scan(F, '35747039762');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ line: 1, endLine: 5, device: '0000:20:00.0', iova: '0x1234600000', access: 'write', reason: { code: 0x71, name: 'SM_FL_NOT_PRESENT' } });
  });

  it('"HH:MM:SS  " journal columns with an author-wrapped print; GNOME Logs layout', () => {
    const [j] = scan(F, '70865742976');
    expect(j).toMatchObject({ line: 2, endLine: 5, device: '0000:01:00.0', iova: '0xff3a6000', access: 'write', registers: { fsts: '0x2' }, reason: { code: 0x71 } });
    const [g] = scan(F, '54502473480');
    expect(g).toMatchObject({ line: 2, device: '0000:01:00.0', iova: '0xfebda000', access: 'write', reason: { code: 5, name: 'PTE_WRITE' } });
  });

  it('DMA alias without a context entry: write then read, each with its FSTS line', () => {
    const recs = scan(F, '34395268021');
    expect(recs.map((r) => [r.line, r.endLine, r.access])).toEqual([[2, 3, 'write'], [4, 5, 'read']]);
    for (const r of recs) expect(r).toMatchObject({ device: '0000:03:00.1', iova: '0xfffc0000', registers: { fsts: '0x2' }, reason: { code: 2, name: 'CONTEXT_NOT_PRESENT' } });
  });

  it('Xen DMA and INTR-REMAP faults with "reason NN - " lines (hex codes)', () => {
    const recs = scan(F, 'DMA fault then an INTR-REMAP fault');
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ host: 'xen', kind: 'dma-fault', endLine: 2, device: '0000:00:02.0', iova: '0x8e480000', reason: { code: 6 }, decoded: { iommuReg: '0xffff82c00021d000' } });
    expect(recs[1]).toMatchObject({ host: 'xen', kind: 'intr-remap-fault', line: 3, endLine: 4, device: '0000:f0:1f.0', reason: { code: 0x22, name: 'IRTE_NOT_PRESENT' }, decoded: { faultIndex: '0x0' } });
  });

  it('invalidation queue errors: one queue-error record with the three errors and the QI lines', () => {
    const recs = scan(F, '47403866035');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ kind: 'queue-error', line: 1, endLine: 6, reason: { name: 'IQE+ITE+ICE', code: 15 } });
  });
});
