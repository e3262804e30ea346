/**
 * Real published excerpts for the smaller IOMMUs and the GPU MMUs that are NOT in ../shared/corpus
 * (test/fixtures/real-logs/{rockchip,tegra,mediatek,exynos,gpu-mmu}.txt, corpus format): a 32-bit
 * Rockchip print, Tegra MC prints quoted in markdown or cut in a forum title, adreno prints
 * transcribed from a photo, amdgpu prints from a reversed journal, a German "dmesg -H" and a
 * retyped paste. Every fault print of each entry is asserted.
 */
import { describe, expect, it } from 'vitest';
import { scanText } from '../../../src/core/logs/scanner';
import { scan } from '../../helpers/real-logs';
import { cprintf } from './c-printf';

const TRANSLATION = { name: 'TRANSLATION' };

describe('real logs 5: Rockchip', () => {
  it('RK3288 32-bit kernel: 8-digit addresses in the three lines, DTE not valid', () => {
    const recs = scan('rockchip.txt', 'mpp/issues/206');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'rockchip', kind: 'page-fault', line: 1, endLine: 3, time: 733.670828, iommu: 'ff9a0800.iommu',
      iova: '0xee0', access: 'read', registers: { dte: '0x0' },
      decoded: { dteIndex: 0, pteIndex: 0, pageOffset: 0xee0, mmuDteAddr: '0x2d17b000', dteAddress: '0x2d17b000', dteValid: false },
    });
    expect(recs[0]!.reason!.text).toMatch(/DTE not valid/);
  });
});

describe('real logs 5: NVIDIA Tegra memory controller', () => {
  it('a print quoted inline in markdown backticks, prose after the closing backtick', () => {
    const recs = scan('tegra.txt', 'xf86-video-opentegra/issues/60');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'tegra', kind: 'mc-error', iommu: '7000f000.memory-controller', device: 'idxsrd2', iova: '0x801000', access: 'read',
      reason: { name: 'DECERR_EMEM' }, decoded: { client: 'idxsrd2', secure: false, status: 'EMEM address decode error', type: 'EMEM decode error' },
    });
  });

  it('a forum title: ratelimit note and MC print run together, cut right after the address', () => {
    const recs = scan('tegra.txt', 'forums.developer.nvidia.com', 'tegra');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      kind: 'mc-error', line: 1, iommu: '2c00000.memory-controller', device: 'pcie5w', iova: '0x0', access: 'write', reason: { name: 'MC_ERROR' },
    });
  });
});

describe('real logs 5: MediaTek', () => {
  it('MT8173 v4.6-v5.x print with larb/port/layer, repeated', () => {
    const recs = scan('mediatek.txt', 'Cadmium/pull/42');
    expect(recs.map((r) => [r.line, r.iova])).toEqual([[1, '0xff1fec01'], [2, '0xff1fec01'], [3, '0xff1ffc01'], [4, '0xff7b8c01']]);
    for (const r of recs) {
      expect(r).toMatchObject({
        family: 'mediatek', kind: 'page-fault', iommu: '10205000.iommu', device: 'larb0/port0', access: 'read',
        registers: { fault_st1: '0x5' }, reason: { code: '0x5', name: 'MMU0_TRANSLATION+MMU0_INVALID_PA' }, decoded: { pa: '0x0', larb: 0, port: 0 },
      });
    }
    expect(recs[3]!.time).toBe(133.964653);
  });
});

describe('real logs 5: Exynos', () => {
  it('the unquoted original report: v6.2+ print, page table base and Lv1 entry in the record', () => {
    const recs = scan('exynos.txt', '2025-June/511158');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'exynos', kind: 'page-fault', line: 1, endLine: 4, time: 2.918189, iommu: '14860000.sysmmu', device: '14830000.decon',
      iova: '0x6715b3e0', access: 'read', registers: { lv1: '0x4205001' }, reason: { name: 'PAGE' },
      decoded: { pageTableBase: '0x44a14000', lv1: { TYPE: 'PAGE_TABLE' } },
    });
  });
});

describe('real logs 5: GPU MMUs', () => {
  const F = 'gpu-mmu.txt';

  it('adreno prints transcribed from a photo: lost "[", no blank after "fault:", cut inside dir=READ', () => {
    const recs = scan(F, 'linux-xiaomi-raphael-uboot/issues/22');
    expect(recs.map((r) => [r.line, r.endLine, r.iova, r.registers?.ttbr0])).toEqual([
      [7, 8, '0x115af0000', '0x18bbd9000'],
      [12, 13, '0x1033f0000', '0x1e7d67000'],
      [14, 15, '0x1033f0000', '0x1e7d67000'],
      [19, 20, '0x10bed0000', '0x18bbd9000'],
      [21, 22, '0x10cc20000', '0x18bbd9000'],
    ]);
    for (const r of recs) expect(r).toMatchObject({ family: 'gpu-mmu', kind: 'page-fault', access: 'read', reason: TRANSLATION, decoded: { driver: 'msm', cpScratch: [0, 0, 0, 1] } });
    expect(recs[1]!.decoded).toMatchObject({ source: 'CCU' });
    expect(recs[1]!.time).toBe(491.421486);
  });

  it('RDNA3 OpenCL: pasid 0 with empty process names, walker and mapping error, TAB-indented fields', () => {
    const [r, ...rest] = scan(F, 'illwieckz');
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({
      line: 1, endLine: 9, time: 428921.293036, device: '0000:83:00.0', pasid: '0x0', iova: '0xe8601000', access: 'read',
      registers: { vm_l2_protection_fault_status: '0xb32' }, reason: { name: 'MAPPING_ERROR' },
      decoded: { hub: 'gfxhub', ring: 153, vmid: 0, pid: 0, tid: 0, clientId: 10, utcl2Client: 'CPC', utcl2ClientId: 5, WALKER_ERROR: 1, PERMISSION_FAULTS: 3, MAPPING_ERROR: 1 },
    });
    expect((r!.decoded as Record<string, unknown>).process).toBeUndefined();
  });

  it('"dmesg -Hw" in a German locale: month stamp then relative stamps with a decimal comma', () => {
    const recs = scan(F, 'sid-cypher');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ line: 1, endLine: 2, device: '0000:09:00.0', pasid: '0x0', iova: '0xb91000', decoded: { hub: 'gfxhub', ring: 153, clientId: 10 } });
  });

  it('journalctl -r lists each print bottom up: a head does not take the fields of the print printed before it', () => {
    const recs = scan(F, 'qubes-issues/issues/7648');
    expect(recs.map((r) => [r.line, r.endLine])).toEqual([[2, undefined], [11, undefined]]);
    for (const r of recs) {
      expect(r).toMatchObject({ device: '0000:04:00.0', pasid: '0x8002', reason: { name: 'PAGE_FAULT' }, decoded: { hub: 'gfxhub0', retry: false, vmid: 1, process: 'Xorg', tid: 9235 } });
      expect(r.access).toBeUndefined();
      expect((r.decoded as Record<string, unknown>).RW).toBeUndefined();
    }
  });

  it('6.x print with the task on an " in process ..." line, lowercase journal month', () => {
    const recs = scan(F, 'cosmic-greeter/issues/344');
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({
      line: 2, endLine: 11, device: '0000:0d:00.0', pasid: '0x8002', iova: '0x8001089f0000', access: 'read',
      registers: { vm_l2_protection_fault_status: '0x301031' }, reason: { code: 3, name: 'PERMISSION_FAULTS' },
      decoded: { vmid: 3, process: 'cosmic-comp', pid: 4732, thread: 'cosmic-com:cs0', tid: 4753, utcl2Client: 'TCP', MORE_FAULTS: 1 },
    });
    expect(recs[1]).toMatchObject({ line: 12, endLine: 13, decoded: { process: 'cosmic-comp' } });
    expect(recs[1]!.iova).toBeUndefined();
  });

  it('an excerpt opening inside the previous print\'s fields, then a full print with "CB/DB"', () => {
    const recs = scan(F, 'ROCm/amdgpu/issues/168');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 8, endLine: 16, time: 283.724153, pasid: '0x8003', iova: '0x800505606000', access: 'read',
      registers: { vm_l2_protection_fault_status: '0x0' }, reason: { name: 'PAGE_FAULT' },
      decoded: { vmid: 7, process: 'wezterm-gui', clientId: 27, client: 'UTCL2', utcl2Client: 'CB/DB', utcl2ClientId: 0 },
    });
  });

  it('gmc v8 lines retyped without timestamps nor device prefix', () => {
    const recs = scan(F, 'PhoenixMiner/issues/60');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 1, endLine: 2, iova: '0x105dff000', registers: { vm_context1_protection_fault_addr: '0x105dff' },
      reason: { name: 'VM_FAULT' }, decoded: { srcId: 146, srcData: 0x0ff8c40c },
    });
    expect(recs[0]!.device).toBeUndefined();
  });
});

describe('real logs 5: Vivante etnaviv and Broadcom V3D', () => {
  const F = 'gpu-mmu.txt';

  it('etnaviv on a PCI bridge: the status line and the MMU 0 address line are one record, the status gives the reason', () => {
    const recs = scan(F, 'etna_viv/issues/18');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'gpu-mmu', line: 1, endLine: 2, time: 35.902343, iommu: '0000:00:06.0', device: '0000:00:06.0', iova: '0x875000',
      registers: { mmu_status: '0x2' }, reason: { code: 2, name: 'PAGE_NOT_PRESENT' }, decoded: { driver: 'etnaviv', mmu: 0, exceptions: { mmu0: 2 } },
    });
  });

  it('V3D behind "dmesg -T" weekday stamps: client L2T at address 0, pte invalid', () => {
    const recs = scan(F, 'raspberrypi/linux/issues/7443');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ line: 2, device: 'fec00000.v3d', iova: '0x0', reason: { name: 'PTE_INVALID' }, decoded: { driver: 'v3d', client: 'L2T', axiId: 11 } });
    expect(recs[0]!.time).toBeGreaterThan(1.7e9);
  });

  it('V3D journal lines without stamps: client CLE (133)', () => {
    const recs = scan(F, 'raspberrypi/linux/issues/7397');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ line: 3, device: 'fec00000.v3d', iova: '0x42630e0', reason: { name: 'PTE_INVALID' }, decoded: { client: 'CLE', axiId: 133 } });
  });
});

describe('etnaviv dump_mmu_fault() format strings', () => {
  const dev = 'etnaviv-gpu 134000.gpu: ';
  it('5.13+: status with two faulting MMUs, the first address line joins the status, the second stands alone', () => {
    const text = [
      dev + cprintf('MMU fault status 0x%08x', 0x31),
      dev + cprintf('MMU %d fault (%s) addr 0x%08x', 0, 'slave not present', 0xfe001000),
      dev + cprintf('MMU %d fault (%s) addr 0x%08x', 1, 'write violation', 0x20000000),
    ].join('\n');
    const recs = scanText(text);
    expect(recs.map((r) => [r.line, r.endLine, r.iova, r.reason?.name, r.access])).toEqual([
      [1, 2, '0xfe001000', 'SLAVE_NOT_PRESENT', undefined],
      [3, undefined, '0x20000000', 'WRITE_VIOLATION', 'write'],
    ]);
    expect(recs[0]).toMatchObject({ registers: { mmu_status: '0x31' }, reason: { code: 1 }, decoded: { exceptions: { mmu0: 1, mmu1: 3 }, mmu: 0 } });
  });
  it('a status line alone still gives a record with its decoded exception', () => {
    const [r, ...rest] = scanText(dev + cprintf('MMU fault status 0x%08x', 0x3));
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({ line: 1, device: '134000.gpu', registers: { mmu_status: '0x3' }, access: 'write', reason: { code: 3, name: 'WRITE_VIOLATION' } });
    expect(r!.iova).toBeUndefined();
  });
});
