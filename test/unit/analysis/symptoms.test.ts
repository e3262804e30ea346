import { describe, expect, it } from 'vitest';
import { recognizeSymptom } from '../../../src/core/analysis/symptoms';
import { analyzeText } from '../../../src/core/analysis/analyzer';
import { corpusAvailable, corpusEntries } from '../../helpers/corpus';

describe('symptom recognisers', () => {
  it.skipIf(!corpusAvailable())('real AER and xHCI lines (context.txt)', () => {
    const [aer, xhci] = corpusEntries('context.txt');
    const hits = aer!.lines.map((l, i) => recognizeSymptom(l, i + 1)).filter((h) => h !== undefined);
    expect(hits.map((h) => [h!.rule, h!.device])).toEqual([
      ['pcie-aer', '0000:87:00.0'], ['pcie-aer', '0000:80:10.0'], ['pcie-aer', '0000:80:10.0'],
    ]);
    expect(hits[0]!.time).toBe(128.670689);
    const x = xhci!.lines.map((l, i) => recognizeSymptom(l, i + 1)).filter((h) => h !== undefined);
    expect(x.map((h) => [h!.rule, h!.driver, h!.device])).toEqual([
      ['xhci-dead', 'xhci_hcd', '0000:02:00.0'], ['xhci-dead', 'xhci_hcd', '0000:02:00.0'], ['xhci-dead', 'xhci_hcd', '0000:02:00.0'],
    ]);
  });

  it('lines from the drivers\' format strings', () => {
    const cases: [string, string, Record<string, string>][] = [
      ['[ 68.290307] macb ff0e0000.ethernet eth0: DMA bus error: HRESP not OK', 'eth-dma-bus-error', { driver: 'macb', device: 'ff0e0000.ethernet', netdev: 'eth0' }],
      ['e1000e 0000:00:19.0 eth0: Detected Hardware Unit Hang:', 'eth-unit-hang', { device: '0000:00:19.0', netdev: 'eth0' }],
      ['NETDEV WATCHDOG: enp3s0 (igb): transmit queue 2 timed out 5120 ms', 'netdev-watchdog', { netdev: 'enp3s0', driver: 'igb' }],
      ['nvme nvme0: I/O tag 28 (801c) opcode 0x2 (Read) QID 2 timeout, aborting req_op:READ(0) size:4096', 'nvme-timeout', { device: 'nvme0' }],
      ['nvme nvme0: controller is down; will reset: CSTS=0xffffffff, PCI_STATUS=0x10', 'nvme-down', { device: 'nvme0' }],
      ['ata1.00: exception Emask 0x0 SAct 0x0 SErr 0x0 action 0x6 frozen', 'ata-error', { device: 'ata1.00' }],
      ['[drm:amdgpu_job_timedout [amdgpu]] *ERROR* ring gfx timeout, signaled seq=1, emitted seq=3', 'gpu-hang', { driver: 'amdgpu' }],
      ['i915 0000:00:02.0: [drm] GPU HANG: ecode 9:1:85dffffb, in Xorg [1000]', 'gpu-hang', { device: '0000:00:02.0' }],
      ['xhci_hcd 0000:00:14.0: WARNING: Host System Error', 'xhci-dead', { device: '0000:00:14.0' }],
      ['pcieport 0000:00:1c.0: AER: Uncorrected (Non-Fatal) error received: 0000:01:00.0', 'pcie-aer', { device: '0000:00:1c.0', source: '0000:01:00.0' }],
    ];
    for (const [line, rule, fields] of cases) expect(recognizeSymptom(line, 1), line).toMatchObject({ rule, ...fields });
    expect(recognizeSymptom('usb 1-1: new high-speed USB device number 2 using xhci_hcd', 1)).toBeUndefined();
    expect(recognizeSymptom('AER: ' + 'x'.repeat(200000), 1)?.text.length).toBe(300);
  });
});

describe('symptom correlation', () => {
  const dmar = (t: number, dev: string) => `[${t.toFixed(6)}] DMAR: [DMA Read NO_PASID] Request device [${dev}] fault addr 0x7f3a1000 [fault reason 0x06] PTE Read access is not set`;

  it('attaches a symptom to the faulting device by PCI address, with the time delta', () => {
    const a = analyzeText([dmar(10, '0000:00:02.0'), '[   12.500000] i915 0000:00:02.0: [drm] GPU HANG: ecode 9:1:85dffffb'].join('\n'));
    expect(a.groups[0]!.symptoms).toEqual([expect.objectContaining({ rule: 'gpu-hang', match: 'pci-address', deltaSeconds: 2.5, deltaLines: 1 })]);
    expect(a.symptoms).toMatchObject({ seen: 1, attributed: 1, unattributed: [] });
  });

  it('learns names from "pci function" lines (nvme0 -> BDF)', () => {
    const a = analyzeText([
      '[    1.000000] nvme nvme0: pci function 0000:01:00.0',
      dmar(10, '0000:01:00.0'),
      '[   40.000000] nvme nvme0: I/O 12 QID 3 timeout, aborting',
    ].join('\n'));
    expect(a.groups[0]!.symptoms[0]).toMatchObject({ match: 'alias', deltaSeconds: 30 });
  });

  it('does not attach symptoms that come before the fault, too late, or to another device', () => {
    const a = analyzeText([
      '[    5.000000] i915 0000:00:02.0: [drm] GPU HANG: ecode 1',
      dmar(10, '0000:00:02.0'),
      '[   11.000000] xhci_hcd 0000:00:14.0: HC died; cleaning up',
      '[  100.000000] i915 0000:00:02.0: [drm] GPU HANG: ecode 2',
    ].join('\n'));
    expect(a.groups[0]!.symptoms).toEqual([]);
    expect(a.symptoms.unattributed.map((h) => h.line)).toEqual([1, 3, 4]);
  });

  it('folds a run of AER lines into one symptom', () => {
    const a = analyzeText([
      dmar(128, '0000:87:00.0'),
      '[  128.670689] pci 0000:87:00.0: AER: can\'t recover (no error_detected callback)',
      '[  128.670700] pci 0000:87:00.0: AER:   TLP Header: 0x40000010 0x870000ff 0x27af9700 0x00000000',
    ].join('\n'));
    expect(a.groups[0]!.symptoms).toEqual([expect.objectContaining({ rule: 'pcie-aer', count: 2, line: 2, lastLine: 3 })]);
  });

  it.skipIf(!corpusAvailable())('real AMD Navi GPU reset after IO_PAGE_FAULTs (amd-vi.txt) matches the GPU by PCI address', () => {
    const e = corpusEntries('amd-vi.txt').find((x) => x.lines.some((l) => l.includes('GPU reset begin')))!;
    const a = analyzeText(e.lines.join('\n'));
    const g = a.groups.find((x) => x.device === '0000:07:00.0')!;
    expect(g.symptoms[0]).toMatchObject({ rule: 'gpu-hang', match: 'pci-address' });
    expect(g.symptoms[0]!.text).toContain('GPU reset begin');
  });
});

describe('Xen context', () => {
  it.skipIf(!corpusAvailable())('real Xen SMMU fault then a dom0 macb DMA error (gnttab commit): proximity match, dom0 direct map, grant suspicion', () => {
    const e = corpusEntries('xen.txt').find((x) => x.lines.some((l) => l.includes('HRESP not OK')))!;
    const a = analyzeText(e.lines.join('\n'));
    const g = a.groups[0]!;
    expect(g).toMatchObject({ family: 'arm-smmu', iommu: '/smmu@fd800000', printedBy: ['xen'] });
    expect(g.symptoms[0]).toMatchObject({ rule: 'eth-dma-bus-error', match: 'proximity', deltaLines: 1 });
    expect(g.xen).toMatchObject({ printedBy: ['xen'], directMapped: true, grantSuspect: true });
    expect(g.xen!.notes.join(' ')).toMatch(/0x8424cb148 is also dom0's guest physical address and the machine address/);
    expect(g.xen!.notes.join(' ')).toMatch(/gnttab_need_iommu_mapping/);
  });

  it.skipIf(!corpusAvailable())('real Xen AMD-Vi prints name domain 0; no grant suspicion without a symptom', () => {
    const e = corpusEntries('xen.txt').find((x) => x.lines.some((l) => l.includes('IO_PAGE_FAULT: 0000:00:13.1 d0')))!;
    const a = analyzeText(e.lines.join('\n'));
    const g = a.groups.find((x) => x.device === '0000:00:13.1')!;
    expect(g.xen).toMatchObject({ domains: [{ id: 0, label: 'dom0 (hardware domain)' }] });
    expect(g.xen!.grantSuspect).toBeUndefined();
    expect(g.xen!.directMapped).toBeUndefined(); // x86: no Arm direct-map note
  });

  it('guest console prints "(d3)" are told apart from the hypervisor\'s', () => {
    const a = analyzeText('(d3) [   5.000000] DMAR: [DMA Read NO_PASID] Request device [0000:00:04.0] fault addr 0x1000 [fault reason 0x06] PTE Read access is not set');
    expect(a.groups[0]!.guestConsoles).toEqual([3]);
    expect(a.groups[0]!.xen!.notes.join(' ')).toMatch(/guest console d3/);
  });
});

describe('hostile input', () => {
  it('long and repetitive lines with every key stay fast and never throw', () => {
    const keys = ['DMA bus error', 'AER: ', 'QID ', 'NETDEV WATCHDOG: ', 'detach_device_from_domain: ', 'pci function ', 'iopf with pasid ', 'io_page_fault: IOMMU:', 'ring x timeout, signaled seq', '(d1) '];
    const lines: string[] = [];
    for (const k of keys) {
      lines.push(k.repeat(20000));
      lines.push('a'.repeat(50000) + k + ' '.repeat(50000) + 'x');
      lines.push(`nvme ${'n'.repeat(100000)}: I/O 1 ${'z'.repeat(100000)} QID 1 timeout`);
    }
    const t0 = Date.now();
    const a = analyzeText(lines.join('\n'));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(a.lines).toBe(lines.length);
  });
});
