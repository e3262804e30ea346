/**
 * Real published Intel VT-d and AMD-Vi excerpts added in session 3 (test/fixtures/real-logs/{intel-vtd,amd-vi}.txt):
 * the CONFIG_DMAR_DEBUG dump of the v5.17-6.12 era ("PTE not present at level N", texts with
 * "entry"), a dump cut by a lockdep splat, a SEV-SNP RMP_PAGE_FAULT under relative "dmesg -H"
 * stamps, the two-printk AMD-Vi era starting on an orphan second half, and the 4.19 dev_err
 * print without "AMD-Vi:". Excerpts of earlier sessions whose output this session changed
 * (wrapped ratelimit notices, Xen reason lines cut after "reason 06 -") are asserted again here.
 */
import { describe, expect, it } from 'vitest';
import { scan } from '../../helpers/real-logs';

const V = 'intel-vtd.txt';
const A = 'amd-vi.txt';

const decoded = (r: { decoded?: Record<string, unknown> } | undefined) => (r?.decoded ?? {}) as Record<string, unknown>;

describe('real logs 6: VT-d fault followed by the v5.17-6.12 CONFIG_DMAR_DEBUG dump', () => {
  it('scalable-mode reason 0x51, the whole dump joined up to "PTE not present at level 4"', () => {
    const recs = scan(V, '20230209212843.1788125-1-jacob.jun.pan');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'intel-vtd', host: 'linux', kind: 'dma-fault', line: 1, endLine: 15, time: 0.555386,
      iommu: 'dmar1', device: '0000:00:0d.2', iova: '0x1026a4000', access: 'read',
      registers: { fsts: '0x3' },
      reason: { code: 0x51, name: 'SM_PASID_DIR_NOT_PRESENT', text: 'SM: Present bit in Directory Entry is clear' },
    });
    expect(decoded(recs[0]).pasidPresent).toBe(false);
    expect(decoded(recs[0]).dump).toEqual({
      iommu: 'dmar1', iova: '0x1026a4000',
      rootEntry: { hi: '0x102448001', lo: '0x101b3e001' },
      contextEntry: { hi: '0x0', lo: '0x101b4d401' },
      pasidDirEntry: '0x101b4e001',
      pasidTableEntry: ['0x109', '0x1', '0x0', '0x0', '0x0', '0x0', '0x0', '0x0'],
      notPresent: 'PTE at level 4',
    });
  });

  it('legacy-mode dump cut by a lockdep splat: the record keeps root and context entries and ends before the splat', () => {
    const recs = scan(V, 'Yvo2dfpEh');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      kind: 'dma-fault', line: 1, endLine: 5, time: 32.283545, iommu: 'dmar0', device: '0000:00:1a.0',
      iova: '0x0', access: 'write', registers: { fsts: '0x3' },
      reason: { code: 5, name: 'PTE_WRITE', text: 'PTE Write access is not set' },
    });
    // the dump's last line comes 66 lines later, after the backtrace: not joined
    expect(decoded(recs[0]).dump).toEqual({
      iommu: 'dmar0', iova: '0x0', rootEntry: { lo: '0x127f42001' }, contextEntry: { hi: '0x1502', lo: '0x12d8ab001' },
    });
  });
});

describe('real logs 6: a retyped print flattened into a blog table', () => {
  it('"DMA read", "NO PASID" and "[Fault reason" read as the kernel\'s spelling; the bar after the text is no part of it', () => {
    const recs = scan(V, 'debnar.org');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'intel-vtd', kind: 'dma-fault', line: 3, device: '0000:05:00.0', iova: '0x12174000', access: 'read',
      reason: { code: 2, name: 'CONTEXT_NOT_PRESENT', text: 'Present bit in context entry is clear' },
    });
    expect(decoded(recs[0]).pasidPresent).toBe(false);
    // the status line was flattened into the same line, before the print: not read
    expect(recs[0]!.registers).toBeUndefined();
  });
});

describe('real logs 6: Xen VT-d reason line cut after "reason 06 -" (earlier excerpt, new reading)', () => {
  it('the text on the next line is joined: the record ends on it', () => {
    const recs = scan(V, '13546460787');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      host: 'xen', kind: 'dma-fault', line: 3, endLine: 7, device: '0000:00:02.0', iova: '0x39b5845000',
      reason: { code: 6, name: 'PTE_READ', text: 'PTE Read access is not set' },
    });
  });
});

describe('real logs 6: VT-d page requests', () => {
  it('"Page request without PASID" takes its descriptor line even when the reporter redacted the values', () => {
    const recs = scan(V, 'dsa-perf-micros/issues/2');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'intel-vtd', kind: 'page-request', line: 2, endLine: 3, iommu: 'dmar12',
      reason: { name: 'PRQ_NO_PASID', text: 'Page request without PASID' },
    });
    expect(recs[0]!.registers).toBeUndefined();
    expect(recs[0]!.device).toBeUndefined();
  });
});

describe('real logs 6: AMD-Vi', () => {
  it('SEV-SNP RMP_PAGE_FAULT behind vfio-pci under relative stamps: gpa, vmg_tag and flags_rmp, no time from a delta', () => {
    const recs = scan(A, 'AMDSEV/issues/109');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'amd-vi', host: 'linux', kind: 'event', line: 3, device: '0000:c1:00.0', iova: '0x740b8784', access: 'write',
      registers: { flags: '0x20', flags_rmp: '0x0' }, reason: { code: 0xd, name: 'RMP_PAGE_FAULT' },
    });
    expect(decoded(recs[0]).vmg_tag).toBe('0x0');
    expect(recs[0]!.time).toBeUndefined();
    expect(recs[0]!.endLine).toBeUndefined();
  });

  it('two-printk era: the orphan second half on the first line is a record of its own, every other pair one record', () => {
    const recs = scan(A, 'pcengines/coreboot/issues/216');
    expect(recs.map((r) => [r.line, r.endLine, r.time, r.iova])).toEqual([
      [1, undefined, 1521.575825, '0xff1d0200'],
      [2, 3, 1521.584903, '0xff1d0280'],
      [4, 5, 1521.597399, '0xff1d02c0'],
      [6, 7, 1521.609871, '0xff1d0300'],
      [8, 9, 1521.622266, '0xff1d0360'],
      [10, 11, 1521.634687, '0xff1d0340'],
    ]);
    for (const r of recs) {
      expect(r).toMatchObject({
        family: 'amd-vi', kind: 'event', device: '0000:04:00.0', domain: '0x2', access: 'write',
        registers: { flags: '0x70' }, reason: { code: 2, name: 'IO_PAGE_FAULT' },
      });
    }
  });

  it('4.19 dev_err print without "AMD-Vi:" under a "dmesg:" line', () => {
    const recs = scan(A, 'rtl88x2ce-dkms/issues/11');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      kind: 'event', line: 2, device: '0000:01:00.0', domain: '0x0', iova: '0xff2db000', access: 'read',
      registers: { flags: '0x0' }, reason: { code: 2, name: 'IO_PAGE_FAULT' },
    });
  });

  it('5.0-era IOTLB_INV_TIMEOUT behind "iommu ivhd0:" in journal lines: the command address is no IOVA', () => {
    const recs = scan(A, 'endlessm/linux/pull/460');
    expect(recs.map((r) => [r.line, r.kind, r.reason?.name])).toEqual([[1, 'queue-error', 'COMPLETION_WAIT_TIMEOUT'], [2, 'event', 'IOTLB_INV_TIMEOUT']]);
    expect(recs[1]).toMatchObject({ iommu: 'ivhd0', device: '0000:01:00.0', reason: { code: 7 }, decoded: { commandAddress: '0x216d8e620' } });
    expect(recs[1]!.iova).toBeUndefined();
    expect(recs[1]!.time).toBe(recs[0]!.time);
    expect(recs[1]!.time! % 86400).toBeCloseTo(11 * 3600 + 28 * 60 + 59, 3);
  });

  it('"[HH:MM:SS]" stamps and the writer\'s range notes after the bracket: every print read', () => {
    const recs = scan(A, '70530708161');
    expect(recs.map((r) => [r.line, r.device, r.iova])).toEqual([
      [1, '0000:02:00.1', '0xffff6004'], [2, '0000:02:00.0', '0xffbc0000'], [3, '0000:02:00.0', '0xffae0100'],
    ]);
    for (const r of recs) expect(r).toMatchObject({ family: 'amd-vi', kind: 'event', domain: '0x3', access: 'read', registers: { flags: '0x0' }, reason: { code: 2, name: 'IO_PAGE_FAULT' } });
  });

  it('Xen 4.18-era prints quoted in a commit message without "(XEN)": a zero flags value is a bare "0"', () => {
    const recs = scan(A, '20231011153756.16714-1-roger.pau');
    expect(recs.map((r) => [r.line, r.device, r.iova, r.registers?.flags, r.access])).toEqual([
      [1, '0000:00:13.1', '0xeb380', '0x20', 'write'],
      [2, '0000:00:13.1', '0xeb340', '0x0', 'read'],
      [3, '0000:00:13.2', '0xea1c0', '0x0', 'read'],
      [4, '0000:00:14.5', '0xeb480', '0x20', 'write'],
      [5, '0000:00:12.0', '0xeb080', '0x20', 'write'],
      [6, '0000:00:14.5', '0xeb400', '0x0', 'read'],
      [7, '0000:00:12.0', '0xeb040', '0x0', 'read'],
    ]);
    for (const r of recs) expect(r).toMatchObject({ family: 'amd-vi', host: 'xen', kind: 'event', domain: '0x0', reason: { code: 2, name: 'IO_PAGE_FAULT' } });
  });

  it('ratelimit notices cut by soft breaks and by a wrap after "callbacks " (earlier excerpts) are storm records', () => {
    const qp = scan(A, '12079728524').filter((r) => r.kind === 'storm-suppressed');
    expect(qp.map((r) => [r.line, r.endLine, r.family, decoded(r).function, decoded(r).suppressed])).toEqual([
      [1, 2, 'amd-vi', 'amd_iommu_report_page_fault', 412],
      [7, 8, 'amd-vi', 'amd_iommu_report_page_fault', 418],
    ]);
    const wrapped = scan(A, '42401430274').filter((r) => r.kind === 'storm-suppressed');
    expect(wrapped).toHaveLength(1);
    expect(wrapped[0]).toMatchObject({ line: 3, endLine: 4, family: 'amd-vi', decoded: { function: 'amd_iommu_report_page_fault', suppressed: 28 } });
    expect(wrapped[0]!.time).toBeDefined();
  });
});
