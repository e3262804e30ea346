/**
 * Real published log excerpts that are NOT in ../shared/corpus (test/fixtures/real-logs/*.txt,
 * same format: a `### source:` line, the lines exactly as published, a blank line). They carry
 * the prefixes and damage of real reports: syslog/journal columns, caller-id columns, mail
 * quoting and wrapping, quoted-printable, pager truncation, prompts, prefixes cut away.
 * Every fault print of every entry is asserted field by field.
 */
import { describe, expect, it } from 'vitest';
import type { FaultRecord } from '../../../src/core/logs/record';
import { entries, scan } from '../../helpers/real-logs';
import { scanText } from '../../../src/core/logs/scanner';

describe('real logs: fixture files', () => {
  it('hold at least 25 sourced entries, none of them empty', () => {
    const files = ['arm-smmu-v3.txt', 'amd-vi.txt', 'rockchip.txt', 'exynos.txt', 'tegra.txt', 'apple-dart.txt', 'mediatek.txt', 'virtio-iommu.txt', 'ipmmu.txt'];
    const all = files.flatMap((f) => entries(f));
    expect(all.length).toBeGreaterThanOrEqual(25);
    for (const e of all) {
      expect(e.source.length).toBeGreaterThan(20);
      expect(e.lines.length).toBeGreaterThan(0);
    }
  });
});

describe('real logs: Arm SMMUv3', () => {
  const F = 'arm-smmu-v3.txt';

  it('TAB rendered as 8 blanks before the dwords; F_TRANSLATION with a valid SSID, stalled read', () => {
    const recs = scan(F, 'case 1');
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({
      family: 'arm-smmu-v3', kind: 'event', line: 1, endLine: 5, iommu: '1000000.smmu', streamId: '0x1', substreamId: '0x2',
      iova: '0x9f44a0300', access: 'read', reason: { code: 0x10, name: 'F_TRANSLATION' },
      registers: { event0: '0x100002810', event1: '0x20880000b17', event2: '0x9f44a0300', event3: '0x0' },
    });
    expect(recs[0]!.time).toBeCloseTo(130.837807, 6);
    expect((recs[0]!.decoded as { event: Record<string, unknown> }).event).toMatchObject({ stall: true, stag: '0xb17', ssv: true });
    expect(recs[1]).toMatchObject({ line: 6, endLine: 10, iova: '0x9f44a0380', registers: { event1: '0x20880000b18' } });
  });

  it('F_STREAM_DISABLED and C_BAD_SUBSTREAMID: no address, SSID only where the event always has one', () => {
    const dis = scan(F, 'case 2');
    expect(dis).toHaveLength(2);
    for (const r of dis) {
      expect(r).toMatchObject({ kind: 'event', iommu: '1000000.smmu', streamId: '0x1', reason: { code: 6, name: 'F_STREAM_DISABLED' } });
      expect(r.substreamId).toBeUndefined();
      expect(r.iova).toBeUndefined();
    }
    const [bad, ...rest] = scan(F, 'case 3');
    expect(rest).toHaveLength(0);
    expect(bad).toMatchObject({ line: 1, endLine: 5, streamId: '0x1', substreamId: '0x0', reason: { code: 8, name: 'C_BAD_SUBSTREAMID' } });
  });

  it('QEMU guest, 6.14+ decoded line after the dwords, indented, behind a shell prompt', () => {
    const recs = scan(F, 'user creatable SMMUv3');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 2, endLine: 7, kind: 'event', iommu: 'arm-smmu-v3.0.auto', streamId: '0x900',
      reason: { code: 2, name: 'C_BAD_STREAMID' }, registers: { event0: '0x90000000002' },
    });
    expect(recs[0]!.device).toBeUndefined(); // "(unassigned sid)" is no device
  });

  it('driver-only prefix: GERROR wrapped by the author, CMDQ error with its skipped command', () => {
    const recs = scan(F, 'hacking test');
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ line: 3, endLine: 4, kind: 'global-fault', registers: { gerror: '0x1' }, reason: { name: 'CMDQ_ERR' } });
    expect(recs[1]).toMatchObject({
      line: 5, endLine: 8, kind: 'command-error', registers: { cmdq_cons: '0x1000022', cmd0: '0x0', cmd1: '0x0' },
      reason: { code: 1, name: 'CERROR_ILL', text: 'Illegal command' },
    });
  });

  it('prefixes cut away entirely: GERROR and ATC invalidation timeouts still recognised', () => {
    const recs = scan(F, 'ATC invalidation timeout recovery');
    expect(recs.map((r) => r.kind)).toEqual(['global-fault', 'command-error', 'global-fault', 'command-error', 'global-fault', 'command-error']);
    expect(recs.map((r) => r.line)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(recs[1]).toMatchObject({ registers: { cmdq_cons: '0x302bb84' }, reason: { code: 3, name: 'CERROR_ATC_INV_SYNC', text: 'ATC invalidate timeout' } });
    expect(recs[5]!.registers!.cmdq_cons).toBe('0x302bb8c');
    expect(recs[0]).toMatchObject({ registers: { gerror: '0x1' }, reason: { name: 'CMDQ_ERR' } });
  });

  it('Xen CMD_SYNC timeouts quoted with "> " and extra indent', () => {
    const recs = scan(F, 'Orange Pi 5');
    expect(recs).toHaveLength(2);
    for (const r of recs) expect(r).toMatchObject({ host: 'xen', kind: 'command-error', iommu: '/soc/iommu@fa000000', reason: { name: 'CMD_SYNC_TIMEOUT' } });
  });
});

describe('real logs: AMD-Vi', () => {
  const F = 'amd-vi.txt';

  it('syslog "kernel:" column, two-printk era: "Event logged [" and its content on separate timestamped lines', () => {
    const recs = scan(F, 'apu2-documentation');
    expect(recs).toHaveLength(4);
    expect(recs[0]).toMatchObject({
      line: 1, endLine: 2, kind: 'event', device: '0000:00:00.1', iova: '0xfdf8000020', access: 'write',
      registers: { flags: '0xa00' }, reason: { code: 8, name: 'INVALID_DEVICE_REQUEST' },
    });
    expect(recs[0]!.reason!.text).toMatch(/interrupt\/EOI address range.*IntCtl=00b/);
    expect(recs[0]!.time).toBeCloseTo(13.13446, 5);
    expect(recs[2]).toMatchObject({
      line: 5, endLine: 6, device: '0000:05:00.0', domain: '0x12', iova: '0xff6101b0', access: 'write',
      reason: { code: 2, name: 'IO_PAGE_FAULT' }, registers: { flags: '0x70' },
    });
    expect(recs[3]).toMatchObject({ line: 7, endLine: 8, iova: '0xff6101c0' });
  });

  it('pci_err prefix from ath10k: device from the prefix, permission fault on write', () => {
    const recs = scan(F, 'dasharo-issues');
    expect(recs.map((r) => r.iova)).toEqual(['0xcff49550', '0xcece9e50', '0xcedeb950']);
    for (const r of recs) {
      expect(r).toMatchObject({ family: 'amd-vi', device: '0000:01:00.0', domain: '0xd', access: 'write', reason: { name: 'IO_PAGE_FAULT' } });
      expect(r.reason!.text).toMatch(/mapped but its permissions deny/);
    }
  });

  it('ratelimit line before nvme faults: the storm record names amd-vi', () => {
    const recs = scan(F, 'pop-os/pop');
    expect(recs[0]).toMatchObject({ family: 'amd-vi', kind: 'storm-suppressed', decoded: { function: 'amd_iommu_report_page_fault', suppressed: 96 } });
    expect(recs.slice(1).map((r) => r.iova)).toEqual(['0xfc189000', '0xfbeaf000', '0xffed5000']);
    for (const r of recs.slice(1)) expect(r).toMatchObject({ device: '0000:01:00.0', domain: '0x0', access: 'read', registers: { flags: '0x0' } });
  });

  it('"> " quoted host log: Completion-Wait timeouts then ahci faults', () => {
    const recs = scan(F, 'Tasos Sahanidis');
    expect(recs.map((r) => r.reason?.name)).toEqual(['COMPLETION_WAIT_TIMEOUT', 'COMPLETION_WAIT_TIMEOUT', 'IO_PAGE_FAULT', 'IO_PAGE_FAULT']);
    expect(recs[0]).toMatchObject({ kind: 'queue-error', line: 1 });
    expect(recs[2]).toMatchObject({ device: '0000:0c:00.0', domain: '0x17', iova: '0xc5f3f000', access: 'read', registers: { flags: '0x50' } });
  });

  it('">>>" over "   | " quoting, event wrapped inside its bracket: device and command address from the next line', () => {
    const recs = scan(F, 'Raven iGPU');
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ line: 5, kind: 'queue-error', reason: { name: 'COMPLETION_WAIT_TIMEOUT' } });
    expect(recs[1]).toMatchObject({
      line: 6, endLine: 7, kind: 'event', iommu: 'ivhd0', device: '0000:0b:00.0',
      reason: { code: 7, name: 'IOTLB_INV_TIMEOUT' }, decoded: { commandAddress: '0x38edc0970' },
    });
    expect(recs[1]!.iova).toBeUndefined();
  });

  it('wrapped after the event name with a trailing blank', () => {
    const recs = scan(F, '39785620450');
    expect(recs).toHaveLength(3);
    expect(recs[2]).toMatchObject({ line: 3, endLine: 4, device: '0000:06:00.0', decoded: { commandAddress: '0x217879410' }, reason: { name: 'IOTLB_INV_TIMEOUT' } });
  });

  it('journalctl short format: ILLEGAL_DEV_TABLE_ENTRY with its DTE dump', () => {
    const [r, ...rest] = scan(F, 'ef75966abf95');
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({
      line: 1, endLine: 5, iommu: 'ivhd0', device: '0000:06:00.0', pasid: '0x0', iova: '0x135300000',
      registers: { flags: '0x80', dte0: '0x7d90000000000003', dte1: '0x100103fc0009', dte2: '0x2000000117840013', dte3: '0x0' },
      reason: { code: 1, name: 'ILLEGAL_DEV_TABLE_ENTRY' }, decoded: { dte0: { V: true, TV: true } },
    });
  });

  it('quoted-printable "=3D" and a wrap inside the bracket, then the DTE dump', () => {
    const [r, ...rest] = scan(F, '218900');
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({
      line: 1, endLine: 6, iommu: 'ivhd0', device: '0000:02:00.0', pasid: '0x0', iova: '0x131400000',
      registers: { flags: '0x180', dte0: '0x6190000000000003', dte3: '0x0' }, reason: { name: 'ILLEGAL_DEV_TABLE_ENTRY' },
    });
  });

  it('printk caller-id column "[    T0]" and ">> " quoting around Completion-Wait timeouts', () => {
    const a = scan(F, 'stable 6.6', 'amd-vi');
    expect(a).toHaveLength(3);
    expect(a[0]!.time).toBeCloseTo(8.336262, 6);
    for (const r of a) expect(r).toMatchObject({ kind: 'queue-error', reason: { name: 'COMPLETION_WAIT_TIMEOUT' } });
    const b = scan(F, 'SNP kdump', 'amd-vi');
    expect(b.map((r) => r.line)).toEqual([2, 3]);
  });

  it('Xen 4.15+ %pp print: interrupt request from the IOAPIC/HPET device, no access', () => {
    const recs = scan(F, '14682536782');
    expect(recs).toHaveLength(2);
    for (const r of recs) {
      expect(r).toMatchObject({
        host: 'xen', device: '0000:00:14.0', domain: '0x0', iova: '0xfdf8010140', registers: { flags: '0x8' },
        reason: { code: 2, name: 'IO_PAGE_FAULT' }, decoded: { xenDomain: 0, xenFlagLabels: ['I'] },
      });
      expect(r.access).toBeUndefined();
      expect(r.reason!.text).toMatch(/interrupt request/);
    }
  });

  it('journal line with only the "kernel:" column: INVALID_DEVICE_REQUEST type 5 is a posted write', () => {
    const [r] = scan(F, 'sharpjs/home');
    expect(r).toMatchObject({
      iommu: 'ivhd0', device: '0000:00:00.0', pasid: '0x0', iova: '0xfffffffdf8000000', access: 'write',
      reason: { code: 8, name: 'INVALID_DEVICE_REQUEST' },
    });
  });
});

describe('real logs: Rockchip', () => {
  const F = 'rockchip.txt';

  it('pager-truncated lines ending in ">": the fields before the cut are kept', () => {
    const recs = scan(F, 'mpp/pull/736', 'rockchip');
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({
      line: 1, endLine: 3, iommu: '27920f00.iommu', iova: '0x2010040', access: 'read', registers: { dte: '0x0' },
      decoded: { dteIndex: 8, pteIndex: 0x10, pageOffset: 0x40, mmuDteAddr: '0x434c3000', dteAddress: '0x434c3020', dteValid: false, truncated: true },
    });
    expect(recs[0]!.reason!.text).toMatch(/DTE not valid/);
    expect(recs[1]).toMatchObject({ line: 7, endLine: 9, iova: '0xf960c830', decoded: { dteIndex: 0x3e5, pteIndex: 0x20c, dteAddress: '0x434c3f94', dteValid: false } });
    expect((recs[1]!.decoded as Record<string, unknown>).pageOffset).toBeUndefined();
  });

  it('RK3399 VP8 encoder write, vendor line after the walk', () => {
    const [r, ...rest] = scan(F, 'rockchip_mirrors', 'rockchip');
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({ line: 1, endLine: 3, iommu: 'ff650800.iommu', iova: '0x4382010', access: 'write', decoded: { dteIndex: 0x10, pteIndex: 0x382, pageOffset: 0x10, dteValid: false } });
  });

  it('DTE valid, PTE not valid: the page itself is not mapped', () => {
    const [r] = scan(F, 'rkcif');
    expect(r).toMatchObject({ iova: '0xffe79000', access: 'write', registers: { dte: '0x11a0d001', pte: '0x31b79006' }, decoded: { dteValid: true, pteValid: false } });
    expect(r!.reason!.text).toMatch(/PTE not valid/);
  });

  it('both levels valid: flagged as a stale or changed mapping', () => {
    const [r] = scan(F, 'RK3568');
    expect(r).toMatchObject({
      iommu: 'fe043e00.iommu', iova: '0xff801000', access: 'read', registers: { dte: '0x1722101', pte: '0x2c01107' },
      decoded: { dteValid: true, pteValid: true, page: '0x102c01000', pageFlags: '0x106' },
    });
    expect(r!.reason!.text).toMatch(/tables map this page/);
  });
});

describe('real logs: Exynos SysMMU', () => {
  it('">> " quoted, wrapped before "PAGE FAULT" and after "Page table base:", Lv1 entry after other lines', () => {
    const recs = scan('exynos.txt', '7870', 'exynos');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 1, endLine: 7, kind: 'page-fault', iommu: '14860000.sysmmu', device: '14830000.decon', iova: '0x6715b3e0', access: 'read',
      reason: { name: 'PAGE' }, registers: { lv1: '0x4205001' }, decoded: { pageTableBase: '0x44a14000', lv1: { TYPE: 'PAGE_TABLE' } },
    });
  });

  it('4.10-6.1 print without channel, quoted', () => {
    const [r, ...rest] = scan('exynos.txt', 'next-20200326');
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({ line: 2, iommu: '14640000.sysmmu', device: '14400000.fimd', iova: '0x20000000', reason: { name: 'PAGE' } });
    expect(r!.access).toBeUndefined();
  });
});

describe('real logs: Tegra memory controller', () => {
  const F = 'tegra.txt';

  it('each print wrapped after the address onto a TAB-indented line', () => {
    const recs = scan(F, 'Rework tegra_smmu_probe_device');
    expect(recs).toHaveLength(2);
    for (const [i, r] of recs.entries()) {
      expect(r).toMatchObject({
        line: 1 + 2 * i, endLine: 2 + 2 * i, kind: 'page-fault', iommu: '70019000.memory-controller', device: 'display0a',
        iova: '0xfe056b40', access: 'read', reason: { name: 'INVALID_SMMU_PAGE' },
        decoded: { pagePermissions: { readable: false, writable: false, secure: true } },
      });
    }
    expect((recs[0]!.decoded as Record<string, unknown>).status).toBe('EMEM address decode error');
    expect((recs[1]!.decoded as Record<string, unknown>).status).toBe('Page fault');
  });

  it('64-bit address, TrustZone violation', () => {
    const recs = scan(F, 'IOMMU_DOMAIN_DMA', 'tegra');
    expect(recs.map((r) => r.iova)).toEqual(['0xfffbe200', '0xfffad000']);
    for (const r of recs) expect(r).toMatchObject({ kind: 'mc-error', device: 'gpusrd', access: 'read', reason: { name: 'SECURITY_TRUSTZONE' } });
  });

  it('Tegra186+ status-only lines', () => {
    const [a] = scan(F, 'tegra-xudc', 'tegra');
    expect(a).toMatchObject({ line: 3, kind: 'mc-error', iommu: '2c00000.memory-controller', reason: { name: 'DECERR_EMEM' } });
    expect(a!.iova).toBeUndefined();
    const b = scan(F, 'L4T 36.5', 'tegra');
    expect(b.map((r) => r.reason?.name)).toEqual(['DECERR_EMEM', 'DECERR_VPR', 'DECERR_ROUTE_SANITY']);
  });
});

describe('real logs: Apple DART', () => {
  const F = 'apple-dart.txt';

  it('wrapped after "stream:" with a deep indent', () => {
    const [r, ...rest] = scan(F, 'Stream 15');
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({
      line: 1, endLine: 2, iommu: '40d030000.iommu', streamId: '0xf', iova: '0x7f100000',
      registers: { error: '0x8f0f0002' }, reason: { code: '0x2', name: 'NO_PMD_FOR_IOVA' }, decoded: { layout: 'T8020' },
    });
  });

  it('wrapped with no indent, T8110 layout', () => {
    const [r] = scan(F, 'Fresh boot');
    expect(r).toMatchObject({ endLine: 2, iommu: '285800000.iommu', streamId: '0x0', iova: '0x28e084008', registers: { error_t8110: '0x80040008' }, reason: { name: 'NO_PTE_FOR_IOVA' }, decoded: { layout: 'T8110' } });
  });

  it('unwrapped and indented prints', () => {
    expect(scan(F, 'AVD (Apple video decoder)', 'apple-dart')[0]).toMatchObject({ iommu: '269010000.iommu', iova: '0x8080800', reason: { name: 'NO_PMD_FOR_IOVA' } });
    expect(scan(F, 'ANE gate', 'apple-dart')[0]).toMatchObject({ iommu: '285810000.iommu', iova: '0xfd68be00', reason: { name: 'NO_PGD_FOR_IOVA' } });
    const two = scan(F, 'asahi 7.1', 'apple-dart');
    expect(two.map((r) => [r.iommu, r.iova])).toEqual([['285820000.iommu', '0x9f9c0000'], ['285810000.iommu', '0x9f990000']]);
  });

  it('code the driver prints as "unknown", wrapped after the status', () => {
    const [r] = scan(F, 'never mapped');
    expect(r).toMatchObject({ endLine: 2, iommu: '40d040000.iommu', streamId: '0x0', iova: '0x10000b28200', reason: { code: '0x800', name: 'UNKNOWN' } });
  });
});

describe('real logs: MediaTek', () => {
  const F = 'mediatek.txt';

  it('"> " quoted and wrapped after "type="', () => {
    const [r, ...rest] = scan(F, 'Yong Wu');
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({
      line: 1, endLine: 2, iommu: '10205000.iommu', iova: '0xfcff0001', device: 'larb0/port0', access: 'read',
      registers: { fault_st1: '0x5' }, decoded: { larb: 0, port: 0, layer: 1, pa: '0x0' }, reason: { name: 'MMU0_TRANSLATION+MMU0_INVALID_PA' },
    });
    expect(r!.time).toBeCloseTo(837.255952, 6);
  });

  it('shell prompt and a four-line wrap: fields from every piece', () => {
    const [r] = scan(F, 'Dafna Hirschfeld, mtk-vcodec', 'mediatek');
    expect(r).toMatchObject({ line: 2, endLine: 4, iommu: '10205000.iommu', iova: '0xac2ff003', device: 'larb3/port0', access: 'write', decoded: { layer: 1 } });
  });

  it('vendor driver name on an unprefixed log', () => {
    const [r, ...rest] = scan(F, 'MT6895', 'mediatek');
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({ line: 3, iommu: '1e802000.iommu', iova: '0xfa52e000', device: 'larb0/port2', access: 'write', decoded: { layer: 0 } });
  });
});

describe('real logs: virtio-iommu', () => {
  it('ratelimit line, "unknown" and "page" reasons, empty flag brackets', () => {
    const recs = scan('virtio-iommu.txt', 'martins3');
    expect(recs[0]).toMatchObject({ family: 'virtio-iommu', kind: 'storm-suppressed', decoded: { function: 'viommu_fault_handler', suppressed: 1330 } });
    const faults = recs.slice(1);
    expect(faults.map((r) => r.reason?.name)).toEqual([
      'VIRTIO_IOMMU_FAULT_R_UNKNOWN', 'VIRTIO_IOMMU_FAULT_R_MAPPING', 'VIRTIO_IOMMU_FAULT_R_UNKNOWN', 'VIRTIO_IOMMU_FAULT_R_MAPPING', 'VIRTIO_IOMMU_FAULT_R_UNKNOWN',
    ]);
    expect(faults.map((r) => r.iova)).toEqual(['0x103231000', '0x103231000', '0x103231000', '0x103231000', '0x1032271c0']);
    for (const r of faults) {
      expect(r).toMatchObject({ iommu: 'virtio0', streamId: '0x20', registers: { flags: '0x100' } });
      expect(r.access).toBeUndefined();
    }
  });
});

describe('real logs: Arm SMMUv3, Linux >= 6.14 decoded lines', () => {
  const F = 'arm-smmu-v3.txt';
  const ev = (r: FaultRecord) => (r.decoded as { event: Record<string, unknown> }).event;

  it('raw dwords, decoded header and attribute line form one record; the client is the PCI device', () => {
    const [r, ...rest] = scan(F, '10870177679');
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({
      line: 1, endLine: 7, iommu: 'fc900000.iommu', device: '0000:01:00.0', streamId: '0x100', iova: '0x90000f040', access: 'write',
      reason: { code: 0x10, name: 'F_TRANSLATION' }, registers: { event0: '0x10000000010', event1: '0x20000000000', event2: '0x90000f040', event3: '0x0' },
    });
    expect(r!.substreamId).toBeUndefined();
    expect(ev(r!)).toMatchObject({ privileged: false, instruction: false, s2: false, class: 'IN' });
  });

  it('a quote that left out the "event 0x10 received:" line: the dwords still start the record', () => {
    const [r, ...rest] = scan(F, '57621853706');
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({
      line: 1, endLine: 6, iommu: 'fc900000.iommu', device: '0000:01:00.0', streamId: '0x100', iova: '0x90000f040', access: 'write',
      reason: { code: 0x10, name: 'F_TRANSLATION' }, registers: { event0: '0x10000000010', event2: '0x90000f040' },
    });
  });

  it('PCI segment 1 client and a 17-bit StreamID', () => {
    const [r] = scan(F, '7526183cfdbe');
    expect(r).toMatchObject({ endLine: 7, iommu: 'arm-smmu-v3.5.auto', device: '0001:06:00.0', streamId: '0x20600', iova: '0xff9bc000', access: 'write' });
  });

  it('"> > " quoted, next printk record pasted onto the attribute line: privileged read', () => {
    const [r, ...rest] = scan(F, '23328129424', 'arm-smmu-v3');
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({ line: 1, endLine: 7, iommu: '490d0000.iommu', device: '0000:01:00.0', streamId: '0x11', iova: '0x9b0cc000', access: 'read' });
    expect(ev(r!)).toMatchObject({ privileged: true, stag: '0x0' });
  });

  it('literal TAB before the dwords, fault at IOVA 0 from segment 2', () => {
    const [r] = scan(F, '62576800846', 'arm-smmu-v3');
    expect(r).toMatchObject({ line: 2, endLine: 8, device: '0002:21:00.0', streamId: '0x2100', iova: '0x0', access: 'write', reason: { name: 'F_TRANSLATION' } });
    expect(r!.time).toBeCloseTo(131.474962, 6);
  });
});

describe('real logs: AMD-Vi, storms and old prints', () => {
  const F = 'amd-vi.txt';

  it('ratelimit lines, an event-log overflow and faults at address 0 between two GPUs', () => {
    const recs = scan(F, 'kinghorn', 'amd-vi');
    expect(recs.map((r) => r.kind)).toEqual(['event', 'event', 'storm-suppressed', 'queue-error', 'storm-suppressed', 'storm-suppressed', 'event', 'event', 'event', 'event']);
    expect(recs[2]).toMatchObject({ decoded: { function: 'amd_iommu_int_thread', suppressed: 27 } });
    expect(recs[3]).toMatchObject({ reason: { name: 'EVENT_LOG_OVERFLOW' } });
    expect(recs[6]).toMatchObject({ device: '0000:61:00.0', domain: '0xb', iova: '0x37001000', access: 'write' });
    expect(recs[9]).toMatchObject({ device: '0000:41:00.0', domain: '0x18', iova: '0x0', access: 'read', registers: { flags: '0x0' } });
  });

  it('Xen <= 4.13 "domain = , device id = " print: requester ID 0x2600 is 26:00.0, interrupt request', () => {
    const [r, ...rest] = scan(F, '25429781083');
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({ line: 2, host: 'xen', device: '0000:26:00.0', domain: '0x0', iova: '0xfffffffdf8000000', registers: { flags: '0x8' }, reason: { code: 2, name: 'IO_PAGE_FAULT' } });
    expect(r!.access).toBeUndefined();
  });

  it('3.x-era pr_err with "device=bb:dd.f" and a 16-digit address', () => {
    const [r, ...rest] = scan(F, '57014323487');
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({ line: 3, device: '0000:00:14.0', domain: '0x0', iova: '0xfdf800ff98', registers: { flags: '0x8' }, reason: { name: 'IO_PAGE_FAULT' } });
  });
});

describe('real logs: MediaTek TLB flush timeouts', () => {
  it('quoted and wrapped "Partial TLB flush timed out" warnings are queue errors of the instance', () => {
    const a = scan('mediatek.txt', '43677859054');
    expect(a).toHaveLength(3);
    for (const r of a) expect(r).toMatchObject({ family: 'mediatek', kind: 'queue-error', iommu: '10205000.iommu', reason: { name: 'TLB_SYNC_TIMEOUT' } });
    expect(a[0]!.time).toBeCloseTo(80.621076, 6);
    const [b, ...rest] = scan('mediatek.txt', '25972889310');
    expect(rest).toHaveLength(0);
    expect(b).toMatchObject({ line: 1, kind: 'queue-error', iommu: '10205000.iommu' });
  });
});

describe('real logs: Renesas IPMMU', () => {
  it('quoted R-Car S4 line: IMSTR 0x1502 decoded (PF, error level 1)', () => {
    const [r, ...rest] = scan('ipmmu.txt', '11069351370');
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({ family: 'ipmmu', kind: 'page-fault', line: 2, iommu: 'eed40000.iommu', iova: '0xfe000000', registers: { imstr: '0x1502' }, reason: { code: '0x1502', name: 'PF' }, decoded: { imstr: { TF: false, PF: true, ERRLVL: 1 } } });
  });
});

describe('real logs: AMD-Vi in journal formats', () => {
  it('syslog columns and a mail wrap inside every bracket: six interrupt-remapping faults', () => {
    const recs = scan('amd-vi.txt', '48709695496');
    expect(recs.map((r) => [r.line, r.endLine, r.device, r.domain, r.iova])).toEqual([
      [1, 2, '0000:42:00.0', '0x5e', '0xfffffffdf8030000'],
      [3, 4, '0000:c8:02.1', '0x5f', '0xfffffffdf8060000'],
      [5, 6, '0000:42:00.0', '0x5e', '0xfffffffdf8020000'],
      [7, 8, '0000:c8:02.0', '0x5e', '0xfffffffdf8020000'],
      [9, 10, '0000:01:00.0', '0x5e', '0xfffffffdf8040000'],
      [11, 12, '0000:c8:03.0', '0x5e', '0xfffffffdf8010000'],
    ]);
    for (const r of recs) {
      expect(r).toMatchObject({ registers: { flags: '0x8' }, reason: { code: 2, name: 'IO_PAGE_FAULT' } });
      expect(r.access).toBeUndefined();
    }
  });

  it('short-monotonic "[ts] host kernel: " columns: both print forms give the same device', () => {
    const recs = scan('amd-vi.txt', '45730001589');
    expect(recs.map((r) => r.iova)).toEqual(['0x10b4a0100', '0x10b4a01c0', '0x10b4a01e0', '0x10b4a0200']);
    for (const r of recs) expect(r).toMatchObject({ device: '0000:04:00.0', domain: '0x0', access: 'write', registers: { flags: '0x70' } });
    expect(recs[0]!.time).toBeCloseTo(14768.593322, 6);
  });
});

describe('real logs: journal columns in front of anchored prints', () => {
  // The fixture prints re-emitted behind the columns journalctl and syslog pastes put in front
  // (no published SMMUv3/virtio-iommu excerpt with them was found): the anchored recognisers
  // must see through "kernel: " and "host kernel: " just like the others.
  const smmu = entries('arm-smmu-v3.txt').find((e) => e.source.includes('10870177679'))!.lines;
  const strip = (l: string) => l.replace(/^\[\s*[\d.]+\] /, '');

  it('SMMUv3 6.14 event behind "[ts] host kernel: " and behind "kernel: "', () => {
    for (const col of ['[  106.585811] myhost kernel: ', 'kernel: ']) {
      const recs = scanText(smmu.map((l) => col + strip(l)).join('\n'));
      expect(recs).toHaveLength(1);
      expect(recs[0]).toMatchObject({ line: 1, endLine: 7, iommu: 'fc900000.iommu', device: '0000:01:00.0', streamId: '0x100', iova: '0x90000f040', access: 'write', reason: { name: 'F_TRANSLATION' } });
    }
  });

  it('virtio-iommu fault behind "kernel: "', () => {
    const v = entries('virtio-iommu.txt')[0]!.lines.map((l) => 'kernel: ' + strip(l));
    const recs = scanText(v.join('\n')).filter((r) => r.kind === 'event');
    expect(recs).toHaveLength(5);
    expect(recs[1]).toMatchObject({ family: 'virtio-iommu', iommu: 'virtio0', streamId: '0x20', iova: '0x103231000', reason: { name: 'VIRTIO_IOMMU_FAULT_R_MAPPING' } });
  });
});

describe('real logs: Jetson Thor (Tegra264)', () => {
  it('MC prints with "non-secure" and a hub poison error', () => {
    const recs = scan('tegra.txt', 'Nvidia Thor');
    expect(recs).toHaveLength(3);
    expect(recs[0]).toMatchObject({
      kind: 'mc-error', iommu: '8108020000.memory-controller', device: 'dispr', iova: '0xfffffffffa00', access: 'read',
      reason: { name: 'DECERR_EMEM' }, decoded: { secure: false, type: 'EMEM decode error' },
    });
    expect(recs[1]).toMatchObject({ kind: 'mc-error', device: 'ptcr', iova: '0x0', registers: { hub_status: '0x0' }, reason: { name: 'HUB_READ_POISON' } });
    expect(recs[1]!.access).toBeUndefined();
    expect(recs[2]!.iova).toBe('0xfffffffffe00');
  });

  it('SMMUv3 EVTQ overflow, ratelimit and an F_TRANSLATION read by StreamID 0x900', () => {
    const recs = scan('arm-smmu-v3.txt', 'Nvidia Thor', 'arm-smmu-v3');
    expect(recs.map((r) => r.kind)).toEqual(['queue-error', 'storm-suppressed', 'event']);
    expect(recs[0]).toMatchObject({ iommu: '8806000000.iommu', reason: { name: 'EVTQ_OVERFLOW' } });
    expect(recs[1]).toMatchObject({ decoded: { function: 'arm_smmu_evtq_thread', suppressed: 25830 } });
    expect(recs[2]).toMatchObject({
      line: 4, endLine: 8, iommu: '8806000000.iommu', streamId: '0x900', iova: '0x7ffd105a00', access: 'read',
      reason: { code: 0x10, name: 'F_TRANSLATION' }, registers: { event1: '0x20800000000' },
    });
  });
});

describe('real logs: SMMUv3 GERROR + ATC invalidation timeout, TAB-indented', () => {
  it('instance 13: global CMDQ_ERR then the command error with CONS.ERR = ATC_INV_SYNC', () => {
    const recs = scan('arm-smmu-v3.txt', '52452078584');
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ line: 1, kind: 'global-fault', iommu: 'arm-smmu-v3.13.auto', registers: { gerror: '0x1' }, reason: { name: 'CMDQ_ERR' } });
    expect(recs[1]).toMatchObject({ line: 2, kind: 'command-error', iommu: 'arm-smmu-v3.13.auto', registers: { cmdq_cons: '0x30120f3' }, reason: { code: 3, name: 'CERROR_ATC_INV_SYNC' } });
  });
});
