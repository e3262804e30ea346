/**
 * Real published excerpts from outside ../shared/corpus, batch 7 (test/fixtures/real-logs/*.txt,
 * corpus format): the first real prints of two SoC IOMMUs (TI OMAP, Allwinner sun50i), Mali
 * page faults from panfrost and panthor (drm_err's "[drm] *ERROR* " column), and more SMMUv3 and
 * amdgpu lines as mailing lists and trackers published them.
 */
import { describe, expect, it } from 'vitest';
import { scan } from '../../helpers/real-logs';

describe('real logs 7: TI OMAP IOMMU', () => {
  const F = 'omap-iommu.txt';
  const ISP = {
    family: 'omap-iommu', host: 'linux', kind: 'page-fault', iommu: 'omap-iommu.0', iova: '0x0',
    registers: { irqstatus: '0x0', pgd: '0x9e00fc01', pte: '0x0' },
    decoded: { mmuName: 'isp', pgd: { TYPE: 'TABLE' }, pte: { TYPE: 'FAULT' } },
    reason: { code: 0, name: 'FAULT' },
  };

  it('2.6.39 OMAP3 ISP prints wrapped at 72 columns, after "errs:" and after the MMU name; yavta output around them', () => {
    const recs = scan(F, 'BANLkTim9', 'omap-iommu');
    expect(recs).toHaveLength(4);
    expect(recs[0]).toMatchObject({ ...ISP, line: 2, endLine: 4, time: 81.268341 });
    expect(recs[0]!.reason!.text).toMatch(/second-level entry invalid/);
    expect(recs[1]).toMatchObject({ ...ISP, line: 5, endLine: 7, time: 81.282775 });
    // the stamp of these two sits after yavta's output on the same line
    expect(recs[2]).toMatchObject({ ...ISP, line: 10, endLine: 12, time: 81.833038 });
    expect(recs[3]).toMatchObject({ ...ISP, line: 13, endLine: 15, time: 81.846679 });
    expect(scan(F, 'BANLkTim9')).toHaveLength(4);
  });

  it('the same print under "> " quoting in the reply', () => {
    const recs = scan(F, '201104271606.19944');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ ...ISP, line: 2, endLine: 4, time: 81.268341 });
  });
});

describe('real logs 7: Allwinner sun50i IOMMU', () => {
  const F = 'sun50i.txt';
  const H = { family: 'sun50i', host: 'linux', kind: 'page-fault', access: 'read', reason: { name: 'PAGE_FAULT' } };

  it('Markdown quote around a code fence, no stamp', () => {
    const recs = scan(F, '59816853776');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ ...H, line: 3, iommu: '2010000.iommu', iova: '0xffc85000', decoded: { master: 2 } });
    expect(recs[0]!.time).toBeUndefined();
  });

  it('stamped line in a text fence', () => {
    const recs = scan(F, '70156144394');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ ...H, line: 2, time: 635.833353, iommu: '30f0000.iommu', iova: '0xffcac000', decoded: { master: 0 } });
  });

  it('retyped inline in Markdown code with the device dropped', () => {
    const recs = scan(F, '69395316554');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ ...H, line: 2, iova: '0x0', decoded: { master: 0 } });
    expect(recs[0]!.iommu).toBeUndefined();
  });

  it('indented code block in a list, unpadded stamp', () => {
    const recs = scan(F, '59687824579');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ ...H, line: 3, time: 0.812726, iommu: '2010000.iommu', iova: '0x6c3d5000', decoded: { master: 2 } });
  });
});

describe('real logs 7: Mali (panfrost, panthor)', () => {
  const F = 'gpu-mmu.txt';

  it('MT8188 Valhall-JM: execute fault at level 2 named TRANSLATION_FAULT_2, in a code fence after job-fault lines', () => {
    const recs = scan(F, '20250317124044.16257-6');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'gpu-mmu', kind: 'page-fault', line: 4, endLine: 10, time: 80.129083, iommu: '13000000.gpu', device: '13000000.gpu',
      iova: '0x0', access: 'exec', registers: { as_faultstatus: '0x1c2' }, reason: { code: 0xc2, name: 'TRANSLATION_FAULT_2' },
      decoded: { addressSpace: 0, decodedStatus: 'SLAVE FAULT', sourceId: 0, as_faultstatus: { ACCESS_TYPE: 'EXECUTE', EXCEPTION_TYPE: 'TRANSLATION_FAULT_2' } },
    });
  });

  it('panthor: "[drm] *ERROR* " between the device and the text, only the first line quoted', () => {
    const recs = scan(F, '20250903225504.542268-3');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ family: 'gpu-mmu', kind: 'page-fault', line: 1, iommu: '48000000.gpu', device: '48000000.gpu', iova: '0x0', decoded: { addressSpace: 0 } });
    expect(recs[0]!.endLine).toBeUndefined();
    expect(recs[0]!.reason).toBeUndefined();
  });

  it('"> " quoted level-3 write fault from shader core source 0x100', () => {
    const recs = scan(F, '83bcecd6-f405');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 1, endLine: 7, time: 689.805864, iommu: 'ffe40000.gpu', iova: '0x3146080', access: 'write',
      registers: { as_faultstatus: '0x10003c3' }, reason: { code: 0xc3, name: 'TRANSLATION_FAULT_LEVEL3' }, decoded: { sourceId: 0x100 },
    });
  });

  it('T720 on H6: two identical level-2 write faults around job-fault and timeout lines', () => {
    const recs = scan(F, '20200510165538.19720-1');
    expect(recs).toHaveLength(2);
    for (const [r, line, time] of [[recs[0]!, 1, 328.87107], [recs[1]!, 11, 329.411521]] as const) {
      expect(r).toMatchObject({
        line, endLine: line + 6, iommu: '1800000.gpu', iova: '0x0', access: 'write', registers: { as_faultstatus: '0xaa0003c2' },
        reason: { code: 0xc2, name: 'TRANSLATION_FAULT_LEVEL2' }, decoded: { sourceId: 0xaa00 },
      });
      expect(r.time).toBeCloseTo(time, 6);
    }
  });
});

describe('real logs 7: amdgpu and SMMUv3', () => {
  it('CS2 on amdgpu: process on the header line, TAB-indented fields', () => {
    const recs = scan('gpu-mmu.txt', 'csgo-osx-linux/issues/3298');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'gpu-mmu', line: 1, endLine: 9, time: 68752.520018, device: '0000:06:00.0', pasid: '0x8010', iova: '0x80012ae97000', access: 'read',
      registers: { vm_l2_protection_fault_status: '0x0' },
      decoded: { hub: 'gfxhub0', ring: 56, vmid: 6, retry: false, process: 'cs2', pid: 20579, thread: 'VKRenderThread', tid: 20606, clientId: 0x1b, client: 'UTCL2', utcl2Client: 'CB', RW: 0 },
    });
  });

  it('bare CMDQ error under two quote levels: ATC invalidate timeout', () => {
    const recs = scan('arm-smmu-v3.txt', '2026-March/1108926');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'arm-smmu-v3', kind: 'command-error', line: 4, registers: { cmdq_cons: '0x3000003' },
      reason: { code: 3, name: 'CERROR_ATC_INV_SYNC', text: 'ATC invalidate timeout' }, decoded: { cmdq_cons: { RD: 3 } },
    });
    expect(recs[0]!.iommu).toBeUndefined();
    expect(recs[0]!.endLine).toBeUndefined();
  });
});

describe('real logs 7: MediaTek and Apple DART', () => {
  const F = 'mediatek.txt';
  const MTK = { family: 'mediatek', host: 'linux', kind: 'page-fault' };

  it('≥ 5.16 print inline in Markdown (closing backtick after "read")', () => {
    const recs = scan(F, '56731155354');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      ...MTK, line: 2, iommu: '14016000.iommu', device: 'larb0/port2', streamId: '0x51000008', iova: '0xfec23000', access: 'read',
      registers: { fault_st1: '0x5', int_id: '0x51000008' }, reason: { code: '0x5', name: 'MMU0_TRANSLATION+MMU0_INVALID_PA' }, decoded: { pa: '0x0', larb: 0, port: 2, layer: 1 },
    });
  });

  it('vendor driver name, inline code followed by a full-width comma; the iommu core\'s "unaligned" line is not a fault', () => {
    const recs = scan(F, '70153127948');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ ...MTK, line: 4, iommu: '1e802000.iommu', device: 'larb0/port2', iova: '0xfa52e000', access: 'write', registers: { fault_st1: '0x5' }, decoded: { layer: 0 } });
    expect(recs[0]!.streamId).toBeUndefined();
  });

  it('MT8192: MMU1 status bits, a read and a write of larb 5', () => {
    const recs = scan(F, '20230818154156.314742-1');
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ ...MTK, line: 1, iommu: '1401d000.m4u', device: 'larb5/port0', streamId: '0x5000480', iova: '0x1ff7c0000', access: 'read', reason: { code: '0x280', name: 'MMU1_TRANSLATION+MMU1_INVALID_PA' } });
    expect(recs[1]).toMatchObject({ line: 2, device: 'larb5/port4', streamId: '0x5000492', iova: '0x1fe3ee000', access: 'write' });
    expect(recs[0]!.time).toBeUndefined();
  });

  it('TAB-indented stamped line with the vcodec error after it', () => {
    const recs = scan(F, '20221118141039.y2ap7dzdp26ih2la');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ ...MTK, line: 1, time: 386.233976, iommu: '1401d000.m4u', device: 'larb4/port7', streamId: '0x500041c', iova: '0x1fcdc0000', access: 'read' });
  });

  it('pre-5.16 MT8173 burst: three records, one per line', () => {
    const recs = scan(F, '26900650939');
    expect(recs.map((r) => [r.line, r.time])).toEqual([[1, 837.255952], [2, 837.265696], [3, 837.282367]]);
    for (const r of recs) expect(r).toMatchObject({ ...MTK, iommu: '10205000.iommu', device: 'larb0/port0', iova: '0xfcff0001', access: 'read', registers: { fault_st1: '0x5' } });
  });

  it('two T8110 DARTs, 8-blank Markdown code indent', () => {
    const recs = scan('apple-dart.txt', '70483452855');
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ family: 'apple-dart', kind: 'page-fault', line: 1, iommu: '285820000.iommu', streamId: '0x0', iova: '0x9f9c0000', registers: { error_t8110: '0x900c0008' }, reason: { code: '0x8', name: 'NO_PTE_FOR_IOVA' } });
    expect(recs[1]).toMatchObject({ line: 2, iommu: '285810000.iommu', iova: '0x9f990000', registers: { error_t8110: '0x800c0008' } });
  });
});

describe('real logs 7: Broadcom V3D', () => {
  it('"client ? (13)": an AXI ID outside the client table', () => {
    const recs = scan('gpu-mmu.txt', '47274278738');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ family: 'gpu-mmu', line: 1, time: 27.845132, iommu: 'fec00000.v3d', iova: '0x3bb1000', reason: { name: 'PTE_INVALID' }, decoded: { driver: 'v3d', client: '?', axiId: 13 } });
  });

  it('Raspberry Pi 5 on 6.18: L2T client, unstamped in a code fence', () => {
    const recs = scan('gpu-mmu.txt', '58547455182');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ line: 3, iommu: '1002000000.v3d', device: '1002000000.v3d', iova: '0x1228ab00', reason: { name: 'PTE_INVALID' }, decoded: { client: 'L2T', axiId: 40 } });
    expect(recs[0]!.time).toBeUndefined();
    expect(recs[0]!.access).toBeUndefined();
  });
});

describe('real logs 7: Qualcomm downstream SMMU', () => {
  it('retyped downstream print: head without "!", bare "FAR 0x..." and "FSR 0x... [PF W SS]" lines join it', () => {
    const recs = scan('arm-smmu.txt', '71433060431');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'arm-smmu', kind: 'context-fault', line: 2, endLine: 4, iommu: '15000000.apps-smmu', device: 'a600000.dwc3',
      iova: '0xefbb0000', access: 'write', registers: { far: '0xefbb0000', fsr: '0x40000408' },
      reason: { code: 8, name: 'PF' }, decoded: { fsrLabels: 'PF W SS', fsr: { SS: true, PF: true } },
    });
  });
});

describe('real logs 7: Xen SMMUv2 prints in mail', () => {
  const F = 'arm-smmu.txt';
  const XEN = { family: 'arm-smmu', host: 'xen' };

  it('Juno stream match conflict: soft breaks inside "serious" and inside "GFSYNR1" still give one record with all four registers', () => {
    const recs = scan(F, '24547296996');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      ...XEN, kind: 'global-fault', line: 1, endLine: 4, iommu: '/iommu@7fb30000', streamId: '0x0',
      registers: { gfsr: '0x4', gfsynr0: '0x6', gfsynr1: '0x0', gfsynr2: '0x0' }, reason: { code: 4, name: 'SMCF' },
    });
  });

  it('GFSR line alone, wrapped after GFSYNR0, remainder one quote level less: USF for StreamID 0x871', () => {
    const recs = scan(F, '30759268841');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      ...XEN, kind: 'global-fault', line: 1, endLine: 2, iommu: '/axi/smmu@fd800000', streamId: '0x871', access: 'read',
      registers: { gfsr: '0x2', gfsynr0: '0x0', gfsynr1: '0x871', gfsynr2: '0x0' }, reason: { code: 2, name: 'USF' },
    });
  });

  it('context fault wrapped after "fsr=0x402," under "> > "', () => {
    const recs = scan(F, '24770757628');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      ...XEN, kind: 'context-fault', line: 4, endLine: 5, iommu: '/smmu@fd800000', contextBank: 0, iova: '0x8424cb148', access: 'read',
      registers: { fsr: '0x402', fsynr0: '0xb0001' }, reason: { code: 2, name: 'TF' },
    });
    expect(recs[0]!.time).toBeUndefined();
  });

  it('quoted-printable body: "=3D" and a soft break after "iova="', () => {
    const recs = scan(F, '179549845');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      ...XEN, kind: 'context-fault', line: 1, endLine: 2, iommu: '/axi/smmu@fd800000', contextBank: 0, iova: '0xf9030040', access: 'write',
      registers: { fsr: '0x402', fsynr0: '0x12' }, reason: { code: 2, name: 'TF' },
    });
  });
});

describe('real logs 7: lima, nouveau, Xen SMMUv3 timeouts', () => {
  it('lima pp fault wrapped after "from bus": bus id, direction and unit from the next line', () => {
    const recs = scan('gpu-mmu.txt', '28453320950');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ family: 'gpu-mmu', line: 1, endLine: 2, time: 48.662336, iommu: 'a0300000.gpu', iova: '0x2020400', access: 'read', reason: { name: 'PAGE_FAULT' } });
  });

  it('lima port with a driver-only device column', () => {
    const recs = scan('gpu-mmu.txt', '70455755117');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ line: 2, iommu: 'lima_platform_driver0', iova: '0x286000', access: 'read' });
  });

  it('nouveau fifo fault over three format=flowed lines with trailing blanks', () => {
    const recs = scan('gpu-mmu.txt', '41147093289');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 3, endLine: 5, time: 844.251499, device: '0000:03:00.0', iova: '0x13000', access: 'read',
      reason: { code: 2, name: 'PAGE_NOT_PRESENT' }, decoded: { engine: 'PFIFO', client: 'BAR_READ', channel: 6 },
    });
  });

  it('Xen CMD_SYNC timeout without its "at" tail, twice', () => {
    const recs = scan('arm-smmu-v3.txt', '2749210339');
    expect(recs.map((r) => [r.line, r.host, r.kind, r.iommu, r.reason!.name])).toEqual([
      [1, 'xen', 'command-error', '/soc/iommu@fa000000', 'CMD_SYNC_TIMEOUT'],
      [2, 'xen', 'command-error', '/soc/iommu@fa000000', 'CMD_SYNC_TIMEOUT'],
    ]);
  });
});

describe('real logs 7: Exynos SysMMU', () => {
  it('≥ 6.2 text without the driver columns (commit message): a read page fault, no instance', () => {
    const recs = scan('exynos.txt', '19138869465');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ family: 'exynos', kind: 'page-fault', line: 1, iova: '0x12341000', access: 'read', reason: { name: 'PAGE' } });
    expect(recs[0]!.iommu).toBeUndefined();
    expect(recs[0]!.device).toBeUndefined();
  });
});
