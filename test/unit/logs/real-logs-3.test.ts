/**
 * Real published Intel VT-d and AMD-Vi excerpts (Linux and Xen) that are NOT in ../shared/corpus,
 * gathered from trackers, forums, blogs and mailing lists (test/fixtures/real-logs/{intel-vtd,amd-vi}.txt,
 * corpus format). Their damage: RFC 3339 syslog stamps with the printk bracket lost, "kernel:" and
 * caller-id columns, journal lines with the host column cut out, prints kept as shell comments,
 * quoted-printable soft breaks and "=3D", mail quoting and hand wrapping (Xen's print cut right
 * after its type and after "iommu reg ="), a redacted device, "dmesg -T" stamps, and the AMD-Vi
 * dev_err era that printed "Event logged [...]" without "AMD-Vi:". Every fault print is asserted.
 */
import { describe, expect, it } from 'vitest';
import { scan } from '../../helpers/real-logs';

const V = 'intel-vtd.txt';
const A = 'amd-vi.txt';

const fsts = (r: { registers?: Record<string, string> } | undefined) => r?.registers?.fsts;
const decoded = (r: { decoded?: Record<string, unknown> } | undefined) => (r?.decoded ?? {}) as Record<string, unknown>;

describe('real logs 3: Linux VT-d DMA faults', () => {
  it('scalable-mode reason 0x71 ("SM: ..." text) joined to its DRHD line', () => {
    const recs = scan(V, 'tt-umd/issues/1814');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'intel-vtd', host: 'linux', kind: 'dma-fault', line: 1, endLine: 2, time: 6611.206519,
      device: '0000:03:00.0', iova: '0x100000', access: 'read',
      reason: { code: 0x71, name: 'SM_FL_NOT_PRESENT', text: 'SM: Present bit in first-level paging entry is clear' },
    });
    expect(fsts(recs[0])).toBe('0x2');
    expect(decoded(recs[0]).pasidPresent).toBe(false);
  });

  it('"kernel:" column after the stamp, then prints kept as " # " and "+# " shell comments in a diff', () => {
    const recs = scan(V, 'sof-test/pull/749');
    expect(recs.map((r) => [r.line, r.endLine, r.device, r.iova, r.reason?.code])).toEqual([
      [1, undefined, '0000:00:02.0', '0x70a28000', 0x0c],
      [3, 4, '0000:00:02.0', '0x70ad5000', 7],
      [6, undefined, '0000:00:02.0', '0x7c592000', 6],
    ]);
    expect(recs[0]).toMatchObject({ time: 0.941083, access: 'read', reason: { name: 'PTE_RESERVED' } });
    // the old print's reason is decimal text "07"; the comment's DRHD line gives FSTS 3 (PFO+PPF)
    expect(recs[1]).toMatchObject({ access: 'read', reason: { name: 'NEXT_PT_INVALID' }, registers: { fsts: '0x3' } });
    expect(recs[1]!.time).toBeUndefined();
  });

  it('RFC 3339 syslog stamps, printk "[" lost, 3.x two-line print with the "dmar: " column', () => {
    const recs = scan(V, 'forums.opensuse.org');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      kind: 'dma-fault', line: 1, endLine: 3, device: '0000:01:00.0', iova: '0x41a6aa000', access: 'read',
      reason: { code: 1, name: 'ROOT_NOT_PRESENT', text: 'Present bit in root entry is clear' },
      registers: { fsts: '0x2' },
    });
    // the stamp's own time of day (line.ts reads the wall clock; the +01:00 offset is not applied)
    expect(recs[0]!.time! % 86400).toBeCloseTo((9 * 3600 + 37 * 60 + 53.595431) % 86400, 3);
    expect(decoded(recs[0]).reason).toEqual({ table: 'legacy', stage: 'device-entry' });
  });

  it('bare v5.4-5.13 "PASID ffffffff" print, NMI lines after it', () => {
    const recs = scan(V, 'alext.mail.at');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 1, endLine: 2, device: '0000:00:1e.0', iova: '0xdf63e000', access: 'read',
      reason: { code: 6, name: 'PTE_READ' }, registers: { fsts: '0x2' },
    });
    expect(recs[0]!.pasid).toBeUndefined();
  });
});

describe('real logs 3: Linux VT-d invalidation queue errors, mailed quoted-printable', () => {
  it('caller-id columns, soft breaks inside the status, QI values and "cleared", "=3D"; the queue-only DRHD line between', () => {
    const recs = scan(V, '45384449787');
    expect(recs).toHaveLength(2);
    const [ite, drhd] = recs;
    expect(ite).toMatchObject({
      family: 'intel-vtd', kind: 'queue-error', line: 1, endLine: 9, time: 2403.441828, device: '0000:00:00.0',
      reason: { name: 'ITE', text: 'Invalidation Time-out Error' },
    });
    expect(decoded(ite)).toMatchObject({
      errors: ['ITE'], iteSid: '0x0', cleared: ['ITE'],
      qiHead: { qw0: '0x200000025', qw1: '0x1003a07fc', type: 5, typeName: 'Invalidation Wait' },
      qiPrior: { qw0: '0x200000025', qw1: '0x1003a07f8', type: 5 },
    });
    // the fault interrupt's own report of the same error stays a record of its own
    expect(drhd).toMatchObject({ kind: 'queue-error', line: 3, registers: { fsts: '0x40' } });
    expect((decoded(drhd).fsts as Record<string, unknown>).ITE).toBe(true);
  });

  it('Device-TLB invalidation at the QI head names the ATS device; soft break before "=3D"; writer\'s closing quote', () => {
    const recs = scan(V, '28092945540');
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ kind: 'queue-error', line: 1, endLine: 6, time: 147.069016, reason: { name: 'ITE' } });
    expect(decoded(recs[0]).qiHead).toEqual({
      qw0: '0xaf0300100003', qw1: '0x7ffffffffffff001', type: 3, typeName: 'Device-TLB Invalidation', device: '0000:af:00.3',
    });
    expect(decoded(recs[0]).qiPrior).toMatchObject({ qw0: '0x200000025', qw1: '0x10005f634', type: 5 });
    expect(recs[1]).toMatchObject({ line: 2, registers: { fsts: '0x40' } });
  });
});

describe('real logs 3: Linux VT-d interrupt-remapping faults, wrapped by hand and by mail', () => {
  it('reason on the next line under a 2-blank indent', () => {
    const recs = scan(V, '62879636003');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      kind: 'intr-remap-fault', line: 1, endLine: 2, device: '0000:02:00.1',
      reason: { code: 0x22, name: 'IRTE_NOT_PRESENT', text: 'Present field in the IRTE entry is clear' },
    });
    expect(decoded(recs[0]).faultIndex).toBe('0x788d');
    expect(recs[0]!.iova).toBeUndefined();
  });

  it('">>> " quoting, the print split over three lines with a deep indent', () => {
    const recs = scan(V, '33025407183');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      kind: 'intr-remap-fault', line: 1, endLine: 4, device: '0000:09:00.0', registers: { fsts: '0x2' },
      reason: { code: 0x25, name: 'IR_COMPAT_BLOCKED', text: 'Blocked a compatibility format interrupt request' },
    });
    expect(decoded(recs[0]).faultIndex).toBe('0x8080');
  });

  it('">> " quoting, head cut after "fault index " with a trailing blank', () => {
    const recs = scan(V, '41946834262');
    expect(recs.map((r) => [r.line, r.endLine, r.time, r.device, decoded(r).faultIndex, r.reason?.code, fsts(r)])).toEqual([
      [1, 3, 1414.206069, '0000:02:00.0', '0x0', 0x25, '0x2'],
      [4, 6, 1414.210334, '0000:02:00.0', '0x0', 0x25, '0x2'],
    ]);
  });
});

describe('real logs 3: Xen VT-d', () => {
  it('serial-log columns, print cut after "[DMA Read]" and after "iommu reg =", reason line cut after "06 -"', () => {
    const recs = scan(V, '13546460787');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      // the reason text on the line after "reason 06 -" belongs to the record
      family: 'intel-vtd', host: 'xen', kind: 'dma-fault', line: 3, endLine: 7, device: '0000:00:02.0',
      iova: '0x39b5845000', access: 'read', reason: { code: 6, name: 'PTE_READ', text: 'PTE Read access is not set' },
    });
    expect(decoded(recs[0]).iommuReg).toBe('0xffff82c00021d000');
    expect(recs[0]!.time).toBeDefined();
  });

  it('code fence, quoted-printable soft break inside every fault address', () => {
    const recs = scan(V, '18682737383');
    expect(recs.map((r) => [r.line, r.endLine, r.iova, r.device, r.access, r.reason?.code])).toEqual([
      [2, 4, '0x1200000000', '0000:65:00.0', 'write', 5],
      [5, 7, '0x1200001000', '0000:65:00.0', 'write', 5],
    ]);
    for (const r of recs) expect(r).toMatchObject({ host: 'xen', reason: { name: 'PTE_WRITE' } });
  });
});

describe('real logs 3: Linux VT-d, more prefixes and mail damage', () => {
  it('"dmesg -T" stamps, ratelimit line, pager ":" marks; the last DRHD line alone', () => {
    const recs = scan(V, '13413830644');
    expect(recs.map((r) => [r.line, r.endLine, r.kind, r.iova])).toEqual([
      [2, undefined, 'storm-suppressed', undefined],
      [3, 4, 'dma-fault', '0xeb61a000'],
      [5, 6, 'dma-fault', '0xe5bd9000'],
      [7, undefined, 'dma-fault', undefined],
    ]);
    expect(recs[0]!.decoded).toMatchObject({ function: 'dmar_fault', suppressed: 2930 });
    expect(recs[1]).toMatchObject({
      time: Date.UTC(2024, 5, 10, 0, 14, 4) / 1000, device: '0000:05:00.0', access: 'write',
      reason: { code: 5, name: 'PTE_WRITE' }, registers: { fsts: '0x3' },
    });
    expect(fsts(recs[3])).toBe('0x3');
  });

  it('soft break inside "addr", hard wraps before the address and inside the scalable-mode text', () => {
    const recs = scan(V, '43404215462');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 1, endLine: 5, time: 23560.951863, device: '0000:3e:00.0', iova: '0x7efef4f08000', access: 'write',
      registers: { fsts: '0x2' },
      reason: { code: 0x79, name: 'SM_SL_PERMISSION', text: 'SM: Read/Write permission error in second-level paging entry' },
    });
    expect(decoded(recs[0]).reason).toEqual({ table: 'scalable-mode', stage: 'permission' });
  });

  it('one fault in the 5.14 and the 5.13 print, each wrapped (the older one by a soft break inside "fault")', () => {
    const recs = scan(V, '40670305013');
    expect(recs.map((r) => [r.line, r.endLine, r.time, r.device, r.iova, r.access, r.reason?.code, fsts(r)])).toEqual([
      [2, 4, 3.148557, '0000:04:00.0', '0x69974000', 'write', 5, '0x2'],
      [6, 9, 3.737783, '0000:04:00.0', '0x69974000', 'write', 5, '0x2'],
    ]);
    for (const r of recs) expect(decoded(r).pasidPresent).toBe(false);
  });
});

describe('real logs 3: Linux AMD-Vi', () => {
  it('journal lines with the host column cut out: IOTLB_INV_TIMEOUT events between Completion-Wait timeouts', () => {
    const recs = scan(A, 'vendor-reset/issues/81');
    expect(recs.map((r) => [r.line, r.kind, r.reason?.name])).toEqual([
      [1, 'event', 'IOTLB_INV_TIMEOUT'], [2, 'event', 'IOTLB_INV_TIMEOUT'],
      [4, 'queue-error', 'COMPLETION_WAIT_TIMEOUT'], [5, 'queue-error', 'COMPLETION_WAIT_TIMEOUT'],
      [6, 'event', 'IOTLB_INV_TIMEOUT'], [7, 'queue-error', 'COMPLETION_WAIT_TIMEOUT'],
    ]);
    expect(recs[0]).toMatchObject({ family: 'amd-vi', host: 'linux', iommu: 'ivhd0', device: '0000:0b:00.0', reason: { code: 7 } });
    expect(recs.filter((r) => r.kind === 'event').map((r) => decoded(r).commandAddress)).toEqual(['0x100215ba0', '0x100215bc0', '0x100215c30']);
  });

  it('4.x print without "iommu ivhdN:", 16-digit address, device first', () => {
    const recs = scan(A, 'digimend-kernel-drivers/issues/136');
    expect(recs.map((r) => [r.line, r.iova])).toEqual([[1, '0xf4001eef80'], [2, '0xf4001c6e80']]);
    for (const r of recs) {
      expect(r).toMatchObject({
        kind: 'event', device: '0000:20:00.0', domain: '0x3', access: 'read', registers: { flags: '0x10' },
        reason: { code: 2, name: 'IO_PAGE_FAULT' },
      });
      expect((decoded(r).flags as Record<string, unknown>).PR).toBe('PRESENT');
    }
    expect(recs[1]!.time).toBe(1.116846);
  });

  it('syslog lines without a host column: Completion-Wait timeouts, the soft lockup is no record', () => {
    const recs = scan(A, 'rhkb.cn');
    expect(recs.map((r) => [r.line, r.kind, r.reason?.name])).toEqual([
      [1, 'queue-error', 'COMPLETION_WAIT_TIMEOUT'], [2, 'queue-error', 'COMPLETION_WAIT_TIMEOUT'],
    ]);
  });

  it('dev_err print behind the nvme device, domain 0 and flags 0 (not present)', () => {
    const recs = scan(A, 'clearlinux/distribution/issues/392');
    expect(recs.map((r) => [r.line, r.time, r.iova])).toEqual([[2, 486.617672, '0xf7936000'], [3, 486.922742, '0xf7931000']]);
    for (const r of recs) {
      expect(r).toMatchObject({ device: '0000:41:00.0', domain: '0x0', access: 'read', registers: { flags: '0x0' }, reason: { name: 'IO_PAGE_FAULT' } });
      expect((decoded(r).flags as Record<string, unknown>).PR).toBe('NOT_PRESENT');
    }
  });

  it('journal columns, INVALID_DEVICE_REQUEST with pasid= on the second IOMMU', () => {
    const recs = scan(A, '70941271657');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      kind: 'event', line: 2, iommu: 'ivhd1', device: '0000:00:00.0', pasid: '0x0', iova: '0xfffffffdf8000000',
      registers: { flags: '0xa00' }, reason: { code: 8, name: 'INVALID_DEVICE_REQUEST' },
    });
    expect((decoded(recs[0]).flags as Record<string, unknown>).TYPE).toBe(5);
  });
});

describe('real logs 3: Xen AMD-Vi', () => {
  it('device redacted as "DDDD:bb:dd.f": a record without device, its page walk still joined', () => {
    const recs = scan(A, '36535376713');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'amd-vi', host: 'xen', kind: 'event', line: 1, endLine: 3, domain: '0x0', iova: '0xfffffffdf8000000',
      registers: { flags: '0x8' }, reason: { code: 2, name: 'IO_PAGE_FAULT' },
    });
    expect(recs[0]!.device).toBeUndefined();
    expect(decoded(recs[0])).toMatchObject({
      xenDomain: 0, xenFlagLabels: ['I'], walkRoot: { mfn: '0x83b5f5', levels: 3, dfn: '0xfffffffdf8000' },
      walk: [{ level: 3, index: 0x1f7, value: '0x0', present: false }],
    });
  });
});

describe('real logs 3: Linux AMD-Vi, the dev_err era without "AMD-Vi:" and quoted-printable mail', () => {
  it('"amdgpu BDF: Event logged [IO_PAGE_FAULT" (no prefix) wrapped before "domain=3D"; pr_err print with "device=3D05:0=" cut inside the BDF', () => {
    const all = scan(A, '12079728524');
    // the ratelimit notices cut by soft breaks ("callbacks suppre=" + "ssed") are storm records
    expect(all.filter((r) => r.kind === 'storm-suppressed').map((r) => [r.line, r.endLine, r.family, (r.decoded as { suppressed: number }).suppressed])).toEqual([
      [1, 2, 'amd-vi', 412], [7, 8, 'amd-vi', 418],
    ]);
    const recs = all.filter((r) => r.kind !== 'storm-suppressed');
    expect(recs.map((r) => [r.line, r.endLine, r.iova])).toEqual([
      [3, 4, '0x168840000'], [5, 6, '0x16881e560'], [9, 11, '0x168840000'], [12, 14, '0x16881e600'],
    ]);
    for (const r of recs) {
      expect(r).toMatchObject({
        family: 'amd-vi', host: 'linux', kind: 'event', device: '0000:05:00.0', domain: '0x0', access: 'write',
        registers: { flags: '0x70' }, reason: { code: 2, name: 'IO_PAGE_FAULT' },
      });
      expect((decoded(r).flags as Record<string, unknown>).PE).toBe(true);
    }
  });

  it('"dmesg -T" under a 2-blank indent, each print wrapped after a trailing blank', () => {
    const all = scan(A, '42401430274');
    // the ratelimit notice wrapped after "callbacks " is a storm record
    expect(all.filter((r) => r.kind === 'storm-suppressed').map((r) => [r.line, r.endLine, r.family, (r.decoded as { suppressed: number }).suppressed])).toEqual([
      [3, 4, 'amd-vi', 28],
    ]);
    const recs = all.filter((r) => r.kind !== 'storm-suppressed');
    expect(recs.map((r) => [r.line, r.endLine, r.device, r.iova, r.domain])).toEqual([
      [1, 2, '0000:01:00.0', '0x0', '0x0'], [5, 6, '0000:01:00.0', '0x0', '0x0'],
    ]);
    for (const r of recs) expect(r).toMatchObject({ registers: { flags: '0x0' }, access: 'read', reason: { name: 'IO_PAGE_FAULT' } });
  });

  it('soft break inside "IO_PAGE_FAULT", "=3D" values', () => {
    const recs = scan(A, '19051578843');
    expect(recs.map((r) => [r.line, r.endLine, r.kind, r.iova])).toEqual([
      [1, 2, 'event', '0x14ac00240'], [3, undefined, 'storm-suppressed', undefined], [4, 5, 'event', '0x1f2000000'],
    ]);
    expect(recs[0]).toMatchObject({
      time: 15.084579, device: '0000:0b:00.3', domain: '0x16', registers: { flags: '0x0' }, reason: { code: 2, name: 'IO_PAGE_FAULT' },
    });
    expect(recs[1]!.decoded).toMatchObject({ suppressed: 5917 });
  });
});
