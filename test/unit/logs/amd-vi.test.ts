import { describe, expect, it } from 'vitest';
import { scanText } from '../../../src/core/logs/scanner';
import { corpusEntries } from '../../helpers/corpus';
import { cprintf } from './c-printf';

const amd = (text: string) => scanText(text).filter((r) => r.family === 'amd-vi');

describe('AMD-Vi, real lines (corpus/amd-vi.txt)', () => {
  const entries = corpusEntries('amd-vi.txt');
  const all = entries.flatMap((e) => e.lines);

  it('every IO_PAGE_FAULT print of the corpus is one record, wrapped ones included', () => {
    const text = entries.map((e) => e.lines.join('\n')).join('\n\n');
    const recs = amd(text);
    const printed = all.filter((l) => l.includes('Event logged')).length;
    expect(printed).toBe(21);
    expect(recs).toHaveLength(printed);
    expect(recs.every((r) => r.kind === 'event' && r.reason?.name === 'IO_PAGE_FAULT' && r.reason.code === 2)).toBe(true);
    // nothing is taken from the firmware-bug / IVRS lines
    expect(recs.some((r) => /IVRS|IOAPIC/.test(JSON.stringify(r)))).toBe(false);
  });

  it('pci_err form: device from the prefix, domain, address, flags PR+PE read', () => {
    // source: https://github.com/amd/xdna-driver/pull/181 and Lennert Buytenhek's induced faults
    const [r] = amd('ixgbe 0000:25:00.1: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0010 address=0xbbcc1c40 flags=0x0050]');
    expect(r).toMatchObject({
      family: 'amd-vi', host: 'linux', kind: 'event', device: '0000:25:00.1', domain: '0x10', iova: '0xbbcc1c40',
      access: 'read', registers: { flags: '0x50' }, reason: { code: 2, name: 'IO_PAGE_FAULT' },
    });
    expect(r!.decoded!.flags).toMatchObject({ PR: 'PRESENT', PE: true, RW: 'READ', I: 'MEMORY', GN: false });
    expect(r!.reason!.text).toMatch(/permissions deny/);
    const [w] = amd('ixgbe 0000:25:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0010 address=0xbdcb70c0 flags=0x0070]');
    expect(w).toMatchObject({ access: 'write', decoded: { flags: { RW: 'WRITE', PR: 'PRESENT', PE: true } } });
  });

  it('bare pr_err form of the pre-6.0 era: device=BB:DD.F gets segment 0000', () => {
    // source: Navi10 ATS commit / Documentation/arch/x86/iommu.rst
    const [r] = amd('  AMD-Vi: Event logged [IO_PAGE_FAULT device=07:00.0 domain=0x0007 address=0xffffc02000 flags=0x0000]');
    expect(r).toMatchObject({ device: '0000:07:00.0', domain: '0x7', iova: '0xffffc02000', access: 'read' });
    expect(r!.reason!.text).toMatch(/no translation is present/);
  });

  it('old zero-padded address with a kernel timestamp', () => {
    const [r] = amd('[    1.131873] AMD-Vi: Event logged [IO_PAGE_FAULT device=02:00.0 domain=0x0017 address=0x00000000be9f9880 flags=0x0010]');
    expect(r).toMatchObject({ time: 1.131873, device: '0000:02:00.0', domain: '0x17', iova: '0xbe9f9880', registers: { flags: '0x10' } });
  });

  it('printk caller-id column and interrupt requests (I=1): no access, interrupt text', () => {
    // source: Qian Cai, next-20201109, IOAPIC/HPET 00:14.0
    const [r] = amd('[ 3404.107783][  T340] pci 0000:00:14.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0000 address=0xfffffffdf8020200 flags=0x0008]');
    expect(r).toMatchObject({ time: 3404.107783, device: '0000:00:14.0', domain: '0x0', iova: '0xfffffffdf8020200', decoded: { flags: { I: 'INTERRUPT' } } });
    expect(r!.access).toBeUndefined();
    expect(r!.reason!.text).toMatch(/interrupt/);
  });

  it('mail-wrapped "Event logged" + "[IO_PAGE_FAULT ...]" is one record over two lines', () => {
    // source: Paul Menzel, "I got an IOMMU IO page fault. What to do now?" (wrapped by the mailer)
    const e = entries.find((x) => x.source.includes('molgen.mpg.de') && x.lines.length === 16)!;
    const recs = amd(e.lines.join('\n'));
    expect(recs).toHaveLength(8);
    expect(recs[0]).toMatchObject({ line: 1, endLine: 2, time: 6318399.745242, device: '0000:05:00.0', domain: '0xc', iova: '0xfffffff0c0', access: 'write' });
    expect(recs[7]).toMatchObject({ line: 15, endLine: 16, iova: '0xffffffd3c0' });
  });

  it('ratelimit notes of the AMD handlers are storm-suppressed records of this family', () => {
    const recs = scanText('[283822.892014] amd_iommu_report_page_fault: 1988766 callbacks suppressed\n[283817.888834] amd_iommu_int_thread: 2718 callbacks suppressed');
    expect(recs.map((r) => [r.family, r.kind, (r.decoded as { suppressed: number }).suppressed])).toEqual([
      ['amd-vi', 'storm-suppressed', 1988766], ['amd-vi', 'storm-suppressed', 2718],
    ]);
  });
});

describe('AMD-Vi, Linux print generations built from their format strings', () => {
  const ADDR = 0xfffe0000n;

  it('6.12 pci_err / pr_err forms, v6.0+ segment in device=', () => {
    const a = 'amdgpu 0000:03:00.0: AMD-Vi: ' + cprintf('Event logged [IO_PAGE_FAULT domain=0x%04x address=0x%llx flags=0x%04x]', 0xd, ADDR, 0x20);
    const b = 'AMD-Vi: ' + cprintf('Event logged [IO_PAGE_FAULT device=%04x:%02x:%02x.%x domain=0x%04x address=0x%llx flags=0x%04x]', 1, 3, 0, 1, 0xd, ADDR, 0x20);
    const [ra, rb] = amd(a + '\n' + b);
    expect(ra).toMatchObject({ device: '0000:03:00.0', domain: '0xd', iova: '0xfffe0000', access: 'write' });
    expect(rb).toMatchObject({ device: '0001:03:00.1', domain: '0xd', iova: '0xfffe0000', access: 'write' });
  });

  it('v5.x and v4.17-4.19 forms (dev_err with literal "AMD-Vi: ", %016llx address)', () => {
    const a = 'AMD-Vi: ' + cprintf('Event logged [IO_PAGE_FAULT device=%02x:%02x.%x domain=0x%04x address=0x%llx flags=0x%04x]', 0x41, 0, 0, 0x18, 0x4d9a00000n, 0x20);
    const b = 'nvidia 0000:41:00.0: ' + cprintf('AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x%04x address=0x%016llx flags=0x%04x]', 0x18, 0x4d9a00000n, 0x0);
    const [ra, rb] = amd(a + '\n' + b);
    expect(ra).toMatchObject({ device: '0000:41:00.0', domain: '0x18', iova: '0x4d9a00000', access: 'write' });
    expect(rb).toMatchObject({ device: '0000:41:00.0', domain: '0x18', iova: '0x4d9a00000', access: 'read' });
  });

  it('very old "AMD IOMMU: Event logged [" + second printk, on one line or split', () => {
    const body = cprintf('IO_PAGE_FAULT device=%02x:%02x.%x domain=0x%04x address=0x%016llx flags=0x%04x]', 0, 0x14, 0, 0, 0xfdf8f000n, 0x10);
    const [one] = amd('AMD IOMMU: Event logged [' + body);
    expect(one).toMatchObject({ device: '0000:00:14.0', domain: '0x0', iova: '0xfdf8f000', registers: { flags: '0x10' } });
    const [two] = amd('AMD-Vi: Event logged [\n' + body);
    expect(two).toMatchObject({ line: 1, endLine: 2, device: '0000:00:14.0', iova: '0xfdf8f000' });
  });

  it('two-printk era: another CPU\'s line between the halves, and a second half whose first is missing', () => {
    const body = (a: bigint) => cprintf('IO_PAGE_FAULT device=%02x:%02x.%x domain=0x%04x address=0x%016llx flags=0x%04x]', 4, 0, 0, 2, a, 0x70);
    const r = amd([
      '[ 1.0] AMD-Vi: Event logged [', '[ 1.0] e1000e 0000:00:19.0 eth0: link up', '[ 1.0] ' + body(0xff1d0280n),
      '[ 2.0] ' + body(0xff1d0300n),
      '[ 3.0] AMD-Vi: Event logged [', '[ 3.0] USB 2.0 hub found', '[ 3.0] ' + body(0xff1d0340n),
      '[ 4.0] ' + cprintf('INVALID_DEVICE_REQUEST device=%02x:%02x.%x address=0x%016llx flags=0x%04x]', 0, 0, 1, 0xfdf8000020n, 0x0a00),
    ].join('\n'));
    expect(r.map((x) => [x.line, x.endLine, x.time, x.iova, x.reason?.name])).toEqual([
      [1, 3, 1, '0xff1d0280', 'IO_PAGE_FAULT'],
      [4, undefined, 2, '0xff1d0300', 'IO_PAGE_FAULT'],
      [5, 7, 3, '0xff1d0340', 'IO_PAGE_FAULT'],
      [8, undefined, 4, '0xfdf8000020', 'INVALID_DEVICE_REQUEST'],
    ]);
    expect(r[1]).toMatchObject({ family: 'amd-vi', kind: 'event', device: '0000:04:00.0', domain: '0x2', access: 'write', registers: { flags: '0x70' } });
    // the bare form needs its device, its fields and the closing bracket
    expect(amd('IO_PAGE_FAULT device=04:00.0 domain=0x0002 address=0x1000 flags=0x0070')).toEqual([]);
    expect(amd('IO_PAGE_FAULT device= is a word ]')).toEqual([]);
  });

  it('a print kept in Markdown backticks still names its device', () => {
    const [r] = amd('* `nvme 0000:01:00.0: AMD-Vi: ' + cprintf('Event logged [IO_PAGE_FAULT domain=0x%04x address=0x%llx flags=0x%04x]', 0, 0n, 0) + '`');
    expect(r).toMatchObject({ device: '0000:01:00.0', domain: '0x0', iova: '0x0', registers: { flags: '0x0' } });
  });

  it('hostile second halves neither throw nor take long', () => {
    const evil = ['IO_PAGE_FAULT device=04:00.0 ' + 'a'.repeat(100000) + ']', 'IO_PAGE_FAULT device=04:00.0 ' + ']'.repeat(100000), 'AMD-Vi: Event logged [\n' + 'IO_PAGE_FAULT device='.repeat(5000)];
    const t0 = Date.now();
    for (const l of evil) expect(() => amd(l + '\n' + l)).not.toThrow();
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('GN=1: the domain= value is PASID[15:0]', () => {
    const [r] = amd('AMD-Vi: ' + cprintf('Event logged [IO_PAGE_FAULT device=%04x:%02x:%02x.%x domain=0x%04x address=0x%llx flags=0x%04x]', 0, 0xc1, 0, 0, 0x2, 0x7f0000001000n, 0x21));
    expect(r).toMatchObject({ pasid: '0x2', iova: '0x7f0000001000', access: 'write', decoded: { flags: { GN: true } } });
    expect(r!.domain).toBeUndefined();
    expect(r!.reason!.text).toMatch(/PASID/);
  });

  it('ILLEGAL_DEV_TABLE_ENTRY folds Control Reg and the four DTE qwords', () => {
    const lines = [
      'iommu ivhd0: AMD-Vi: ' + cprintf('Event logged [ILLEGAL_DEV_TABLE_ENTRY device=%04x:%02x:%02x.%x pasid=0x%05x address=0x%llx flags=0x%04x]', 0, 0x2, 0, 0, 0, 0xfec00000n, 0x0a0),
      'iommu ivhd0: AMD-Vi: ' + cprintf('Control Reg : 0x%llx', 0xc22000245n),
      ...[0x6000000103a4b603n, 0x0000000000000009n, 0n, 0n].map((v, i) => 'AMD-Vi: ' + cprintf('DTE[%d]: %016llx', i, v)),
      'AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:05:00.0 domain=0x0001 address=0x1000 flags=0x0000]',
    ];
    const recs = amd(lines.join('\n'));
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({
      line: 1, endLine: 6, iommu: 'ivhd0', device: '0000:02:00.0', pasid: '0x0', iova: '0xfec00000', access: 'write',
      registers: { flags: '0xa0', control: '0xc22000245', dte0: '0x6000000103a4b603', dte1: '0x9', dte2: '0x0', dte3: '0x0' },
      reason: { code: 1, name: 'ILLEGAL_DEV_TABLE_ENTRY' },
    });
    expect(recs[0]!.decoded!.dte0).toMatchObject({ V: true, TV: true, Mode: '3-LEVEL', IR: true, IW: true });
    expect(recs[1]).toMatchObject({ line: 7, device: '0000:05:00.0' });
  });

  it('ILLEGAL_DEV_TABLE_ENTRY with the old eight-dword DTE dump and V=0', () => {
    const lines = [
      'AMD-Vi: Event logged [ILLEGAL_DEV_TABLE_ENTRY device=03:00.0 address=0x0000000000001000 flags=0x0000]',
      ...[0x2, 0, 0, 0, 0, 0, 0, 0].map((v, i) => 'AMD-Vi: ' + cprintf('DTE[%d]: %08x', i, v)),
    ];
    const [r] = amd(lines.join('\n'));
    expect(r).toMatchObject({ endLine: 9, registers: { dte0: '0x2', dte3: '0x0' } });
    expect(r!.reason!.text).toMatch(/DTE V=0/);
  });

  it('the other event types of iommu_print_event (6.12)', () => {
    const seg = (s: string) => 'iommu ivhd1: AMD-Vi: ' + s;
    const L = [
      seg(cprintf('Event logged [DEV_TAB_HARDWARE_ERROR device=%04x:%02x:%02x.%x address=0x%llx flags=0x%04x]', 0, 1, 0, 0, 0xabc000n, 0x0120)),
      seg(cprintf('Event logged [PAGE_TAB_HARDWARE_ERROR device=%04x:%02x:%02x.%x pasid=0x%04x address=0x%llx flags=0x%04x]', 0, 1, 0, 0, 0, 0x2000n, 0x0020)),
      seg(cprintf('Event logged [COMMAND_HARDWARE_ERROR address=0x%llx flags=0x%04x]', 0x1f000000n, 0x0200)),
      seg(cprintf('Event logged [IOTLB_INV_TIMEOUT device=%04x:%02x:%02x.%x address=0x%llx]', 0, 0x41, 0, 0, 0x1f001000n)),
      seg(cprintf('Event logged [INVALID_DEVICE_REQUEST device=%04x:%02x:%02x.%x pasid=0x%05x address=0x%llx flags=0x%04x]', 0, 0x41, 0, 1, 0x10, 0x3000n, 0x0100)),
      seg(cprintf('Event logged [INVALID_PPR_REQUEST device=%04x:%02x:%02x.%x pasid=0x%05x address=0x%llx flags=0x%04x tag=0x%03x]', 0, 0x41, 0, 1, 0x10, 0x4000n, 0x0, 0x1ff)),
      'ccp 0000:42:00.1: AMD-Vi: ' + cprintf('Event logged [RMP_PAGE_FAULT vmg_tag=0x%04x, gpa=0x%llx, flags_rmp=0x%04x, flags=0x%04x]', 0x1, 0x1234000n, 0x3, 0x20),
      'AMD-Vi: ' + cprintf('Event logged [RMP_PAGE_FAULT device=%04x:%02x:%02x.%x, vmg_tag=0x%04x, gpa=0x%llx, flags_rmp=0x%04x, flags=0x%04x]', 0, 0x42, 0, 1, 0x1, 0x1234000n, 0x3, 0x0),
      'AMD-Vi: ' + cprintf('Event logged [RMP_HW_ERROR device=%04x:%02x:%02x.%x, vmg_tag=0x%04x, spa=0x%llx, flags=0x%04x]', 0, 0x42, 0, 1, 0x2, 0x88000n, 0x0),
    ];
    const r = amd(L.join('\n'));
    expect(r.map((x) => x.reason?.name)).toEqual([
      'DEV_TAB_HARDWARE_ERROR', 'PAGE_TAB_HARDWARE_ERROR', 'COMMAND_HARDWARE_ERROR', 'IOTLB_INV_TIMEOUT',
      'INVALID_DEVICE_REQUEST', 'INVALID_PPR_REQUEST', 'RMP_PAGE_FAULT', 'RMP_PAGE_FAULT', 'RMP_HW_ERROR',
    ]);
    expect(r.map((x) => x.reason?.code)).toEqual([3, 4, 6, 7, 8, 9, 0xd, 0xd, 0xe]);
    expect(r[0]).toMatchObject({ iommu: 'ivhd1', device: '0000:01:00.0', iova: '0xabc000', access: 'write', decoded: { flags: { TR: true } } });
    expect(r[2]).toMatchObject({ decoded: { commandAddress: '0x1f000000', flags: { TYPE: 1 } } });
    expect(r[2]!.iova).toBeUndefined();
    expect(r[3]).toMatchObject({ device: '0000:41:00.0', decoded: { commandAddress: '0x1f001000' } });
    expect(r[3]!.iova).toBeUndefined(); // the SPA of the timed-out invalidation command, not a DMA address
    expect(r[4]).toMatchObject({ device: '0000:41:00.1', pasid: '0x10', iova: '0x3000' });
    expect(r[5]).toMatchObject({ pasid: '0x10', registers: { tag: '0x1ff' } });
    expect(r[6]).toMatchObject({ device: '0000:42:00.1', iova: '0x1234000', access: 'write', registers: { flags_rmp: '0x3' }, decoded: { vmg_tag: '0x1' } });
    expect(r[7]).toMatchObject({ device: '0000:42:00.1', iova: '0x1234000', access: 'read' });
    expect(r[8]).toMatchObject({ device: '0000:42:00.1', decoded: { spa: '0x88000' } });
  });

  it('ILLEGAL_COMMAND_ERROR folds the CMD dump and names the opcode', () => {
    const lines = [
      'iommu ivhd0: AMD-Vi: ' + cprintf('Event logged [ILLEGAL_COMMAND_ERROR address=0x%llx]', 0x1f000040n),
      ...[0x00000200, 0x90000000, 0, 0].map((v, i) => 'AMD-Vi: ' + cprintf('CMD[%d]: %08x', i, v)),
    ];
    const [r] = amd(lines.join('\n'));
    expect(r).toMatchObject({ endLine: 5, reason: { code: 5, name: 'ILLEGAL_COMMAND_ERROR' }, registers: { cmd1: '0x90000000' }, decoded: { commandAddress: '0x1f000040', commandOpcode: '0x9' } });
    const [ok] = amd(['AMD-Vi: Event logged [ILLEGAL_COMMAND_ERROR address=0x1000]', 'AMD-Vi: CMD[0]: 00000000', 'AMD-Vi: CMD[1]: 30000001'].join('\n'));
    expect(ok!.decoded!.commandOpcode).toBe('INVALIDATE_IOMMU_PAGES');
  });

  it('UNKNOWN event[0..3] raw dwords are decoded (no closing bracket in the format)', () => {
    const dw = [0x0300, (2 << 28) | (0x20 << 16) | 0xd, 0xfffe0000, 0x1];
    const [r] = amd('iommu ivhd0: AMD-Vi: ' + cprintf('Event logged [UNKNOWN event[0]=0x%08x event[1]=0x%08x event[2]=0x%08x event[3]=0x%08x', ...dw));
    expect(r).toMatchObject({
      iommu: 'ivhd0', device: '0000:03:00.0', domain: '0xd', iova: '0x1fffe0000', access: 'write',
      registers: { event0: '0x300', event1: '0x2020000d', event2: '0xfffe0000', event3: '0x1' },
      reason: { code: 2, name: 'IO_PAGE_FAULT' }, decoded: { printedAs: 'UNKNOWN', eventCode: 2 },
    });
    const [u] = amd('AMD-Vi: Event logged [UNKNOWN event[0]=0x00000010 event[1]=0xa0000000 event[2]=0x00000000 event[3]=0x00000000');
    expect(u).toMatchObject({ reason: { code: 0xa, name: 'EVENT_0xa' }, device: '0000:00:02.0' });
    const [old] = amd('AMD IOMMU: Event logged [' + cprintf('UNKNOWN type=0x%02x]', 0xb));
    expect(old).toMatchObject({ reason: { code: 0xb, name: 'EVENT_0xb' }, decoded: { printedAs: 'UNKNOWN' } });
  });

  it('device not attached to domain properly: two prints, one record', () => {
    const lines = ['AMD-Vi: Event logged [Device not attached to domain properly]', 'AMD-Vi: ' + cprintf('  device=%04x:%02x:%02x.%x domain=0x%04x', 0, 0x21, 0, 0, 0x2)];
    const [r] = amd(lines.join('\n'));
    expect(r).toMatchObject({ endLine: 2, device: '0000:21:00.0', domain: '0x2', reason: { name: 'IO_PAGE_FAULT' } });
    expect(r!.reason!.text).toMatch(/not attached/);
  });

  it('a bracket wrapped between two fields: the flags come from the next line', () => {
    const full = cprintf('Event logged [IO_PAGE_FAULT device=%04x:%02x:%02x.%x domain=0x%04x address=0x%llx flags=0x%04x]', 0, 7, 0, 0, 7, 0xffffc02000n, 0x20);
    const cut = full.indexOf(' flags=');
    const [r, ...rest] = amd(['AMD-Vi: ' + full.slice(0, cut), '> ' + full.slice(cut + 1)].join('\n'));
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({ endLine: 2, device: '0000:07:00.0', domain: '0x7', iova: '0xffffc02000', access: 'write', registers: { flags: '0x20' } });
    // the next print is not taken as the rest of a complete one
    const two = amd(['AMD-Vi: ' + full, 'AMD-Vi: ' + full].join('\n'));
    expect(two.map((x) => x.endLine)).toEqual([undefined, undefined]);
  });

  it('PPR log prints are page-request records', () => {
    const a = 'nvme 0000:c1:00.0: AMD-Vi: ' + cprintf('PPR logged [Request ignored due to GN=0 (device=%04x:%02x:%02x.%x pasid=0x%05llx address=0x%llx flags=0x%04llx tag=0x%03llx]', 0, 0xc1, 0, 0, 0, 0x7f001000n, 0x24, 0x201);
    const b = 'AMD-Vi: ' + cprintf('Invalid PASID : 0x%x, device : 0x%x', 0, 0xc100);
    const c = 'AMD-Vi: Unknown PPR request received';
    const [ra, rb, rc] = amd([a, b, c].join('\n'));
    expect(ra).toMatchObject({ kind: 'page-request', device: '0000:c1:00.0', pasid: '0x0', iova: '0x7f001000', access: 'read+write', registers: { ppr_flags: '0x24', tag: '0x201' } });
    expect(ra!.reason!.text).toMatch(/GN=0/);
    expect(ra!.decoded!.ppr).toEqual({ prgIndex: 1, lastPage: true });
    expect(rb).toMatchObject({ kind: 'page-request', pasid: '0x0', device: '0000:c1:00.0' });
    expect(rc).toMatchObject({ kind: 'page-request', reason: { name: 'PPR' } });
  });

  it('6.9+ ppr.c "Invalid request format" print from the IOMMU device: reserved bit, group index', () => {
    const [r] = amd('iommu ivhd0: AMD-Vi: ' + cprintf('PPR logged [Invalid request format (device=%04x:%02x:%02x.%x pasid=0x%05llx address=0x%llx flags=0x%04llx tag=0x%03llx]', 1, 0x41, 0, 0, 1, 0x7f001000n, 0x1a4, 0x05));
    expect(r).toMatchObject({
      kind: 'page-request', iommu: 'ivhd0', device: '0001:41:00.0', pasid: '0x1', iova: '0x7f001000', access: 'read+write',
      registers: { ppr_flags: '0x1a4', tag: '0x5' }, decoded: { ppr: { prgIndex: 5, lastPage: false }, ppr_flags: { RVSD: true, GN: true } },
    });
    expect(r!.reason!.text).toMatch(/Invalid request format/);
  });

  it('queue errors: completion wait, command buffer, log overflow and restart', () => {
    const recs = amd([
      '[  100.1] AMD-Vi: Completion-Wait loop timed out',
      'AMD-Vi: Command buffer timeout',
      '[283817.888835] AMD-Vi: IOMMU event log overflow',
      'AMD-Vi: IOMMU PPR log restarting',
      'AMD-Vi: IOMMU GA log restarting',
      'AMD-Vi: No event written to event log',
      'AMD-Vi: Interrupt remapping enabled',
    ].join('\n'));
    expect(recs.map((r) => [r.kind, r.reason?.name])).toEqual([
      ['queue-error', 'COMPLETION_WAIT_TIMEOUT'], ['queue-error', 'COMMAND_BUFFER_TIMEOUT'], ['queue-error', 'EVENT_LOG_OVERFLOW'],
      ['queue-error', 'PPR_LOG_RESTART'], ['queue-error', 'GA_LOG_RESTART'], ['queue-error', 'NO_EVENT_WRITTEN'],
    ]);
    expect(recs[2]!.time).toBe(283817.888835);
  });

  it('hostile and near-miss lines: no record, no throw, linear time', () => {
    const t0 = Date.now();
    const junk = ['AMD-Vi: Event logged [' + 'A'.repeat(200000), 'AMD-Vi: ' + 'device=0000:00:00.0 '.repeat(20000), 'x AMD-Vi: '.repeat(30000), 'AMD-Vi: DTE[0]: 0000000000000000'];
    for (const j of junk) expect(() => scanText(j)).not.toThrow();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(amd('AMD-Vi: DTE[0]: 0000000000000000')).toHaveLength(0);
    expect(amd('[Firmware Bug]: AMD-Vi: IOAPIC[4] not in IVRS table')).toHaveLength(0);
  });
});

describe('AMD-Vi, Xen prints', () => {
  it('real lines (corpus/xen.txt, Xen PVH dom0 on Fam15h, quoted without "(XEN)")', () => {
    const e = corpusEntries('xen.txt').find((x) => x.source.includes('f6996645d2d6'))!;
    const recs = amd(e.lines.join('\n'));
    expect(recs).toHaveLength(7);
    expect(recs.every((r) => r.host === 'xen' && r.reason?.name === 'IO_PAGE_FAULT')).toBe(true);
    expect(recs[0]).toMatchObject({ device: '0000:00:13.1', domain: '0x0', iova: '0xeb380', access: 'write', registers: { flags: '0x20' }, decoded: { xenDomain: 0, xenFlagLabels: ['RW'] } });
    expect(recs[1]).toMatchObject({ device: '0000:00:13.1', iova: '0xeb340', access: 'read', registers: { flags: '0x0' } });
  });

  it('4.15+ %pp and 4.14 %04x:%02x:%02x.%u forms with every flag label', () => {
    const labels = (f: number) => [[0xe00, ' ??'], [0x100, ' TR'], [0x80, ' RZ'], [0x40, ' PE'], [0x20, ' RW'], [0x10, ' PR'], [0x8, ' I'], [0x4, ' US'], [0x2, ' NX'], [0x1, ' GN']]
      .map(([m, s]) => (f & (m as number) ? s : '')).join('');
    const a = '(XEN) ' + cprintf('AMD-Vi: %s: %pp d%u addr %016lx flags %#x%s', 'IO_PAGE_FAULT', '0000:03:00.0', 1, 0xfffe0000n, 0x70, labels(0x70));
    const b = '(XEN) [  12.345678] ' + cprintf('AMD-Vi: %s: %04x:%02x:%02x.%u d%d addr %016lx flags %#x%s', 'IO_PAGE_FAULT', 0, 3, 0, 1, 2, 0x1000n, 0x1fe, labels(0x1fe));
    const c = '(XEN) ' + cprintf('AMD-Vi: %s: %pp d%u addr %016lx flags %#x%s', 'IO_PAGE_FAULT', '0000:03:00.0', 5, 0x1000n, 0x1, labels(0x1));
    const [ra, rb, rc] = amd([a, b, c].join('\n'));
    expect(rc).toMatchObject({ pasid: '0x5', decoded: { flags: { GN: true }, xenFlagLabels: ['GN'] } });
    expect(rc!.domain).toBeUndefined();
    expect(a).toContain('flags 0x70 PE RW PR');
    expect(ra).toMatchObject({ host: 'xen', device: '0000:03:00.0', domain: '0x1', iova: '0xfffe0000', access: 'write', decoded: { xenFlagLabels: ['PE', 'RW', 'PR'] } });
    expect(rb).toMatchObject({ host: 'xen', time: 12.345678, device: '0000:03:00.1', domain: '0x2', iova: '0x1000', registers: { flags: '0x1fe' }, decoded: { xenFlagLabels: ['TR', 'RZ', 'PE', 'RW', 'PR', 'I', 'US', 'NX'] } });
    expect(rb!.access).toBeUndefined(); // I=1: interrupt request
  });

  it('≤ 4.13 "domain = %d, device id = %#x" form, with and without flags', () => {
    const a = '(XEN) ' + cprintf('AMD-Vi: %s: domain = %d, device id = %#x, fault address = %#lx, flags = %#x', 'IO_PAGE_FAULT', 0, 0xa0, 0xfdf8f000n, 0x10);
    const b = '(XEN) ' + cprintf('AMD-Vi: %s: domain = %d, device id = 0x%04x, fault address = 0x%lx', 'IO_PAGE_FAULT', 3, 0x0200, 0x5000n);
    const [ra, rb] = amd(a + '\n' + b);
    expect(ra).toMatchObject({ host: 'xen', device: '0000:00:14.0', domain: '0x0', iova: '0xfdf8f000', registers: { flags: '0x10' }, decoded: { flags: { PR: 'PRESENT' } } });
    expect(rb).toMatchObject({ host: 'xen', device: '0000:02:00.0', domain: '0x3', iova: '0x5000', reason: { code: 2 } });
    expect(rb!.registers).toBeUndefined();
  });

  it('other events as raw dwords: 4.14+ bare "%s %08x ..." and the old AMD_IOMMU_DEBUG form', () => {
    const dw = [0x0010, (1 << 28) | (0x20 << 16), 0x1000, 0];
    const a = '(XEN) ' + cprintf('%s %08x %08x %08x %08x', 'ILLEGAL_DEV_TABLE_ENTRY', ...dw);
    const b = '(XEN) ' + cprintf('AMD-Vi: event 0x%08x 0x%08x 0x%08x 0x%08x', 0x0300, (7 << 28), 0x2000, 0);
    const [ra, rb] = amd(a + '\n' + b);
    expect(ra).toMatchObject({ host: 'xen', device: '0000:00:02.0', iova: '0x1000', access: 'write', reason: { code: 1, name: 'ILLEGAL_DEV_TABLE_ENTRY' }, decoded: { printedAs: 'ILLEGAL_DEV_TABLE_ENTRY' } });
    expect(rb).toMatchObject({ host: 'xen', device: '0000:03:00.0', decoded: { commandAddress: '0x2000' }, reason: { code: 7, name: 'IOTLB_INV_TIMEOUT' } });
    expect(rb!.iova).toBeUndefined();
  });

  it('iommu=verbose page walk after the fault is folded into the record', () => {
    const lines = [
      '(XEN) AMD-Vi: IO_PAGE_FAULT: 0000:00:13.1 d0 addr 00000000000eb380 flags 0x20 RW',
      '(XEN) ' + cprintf('%pp root @ %05lx (%u levels) dfn=%05lx', '0000:00:13.1', 0x12345, 3, 0xeb),
      '(XEN) ' + cprintf('  L%u[%03x] = %lx %c%c', 3, 0, 0x22345601n, 'r', 'w'),
      '(XEN) ' + cprintf('  L%u[%03x] = %lx %c%c', 2, 0, 0x0n, 'n', 'p'),
      '(XEN) AMD-Vi: IO_PAGE_FAULT: 0000:00:14.5 d0 addr 00000000000eb480 flags 0 ',
      '(XEN) 0000:00:14.5: no root',
    ];
    const recs = amd(lines.join('\n'));
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ endLine: 4, decoded: { walkRoot: { mfn: '0x12345', levels: 3, dfn: '0xeb' } } });
    expect(recs[0]!.decoded!.walk).toEqual([
      { level: 3, index: 0, value: '0x22345601', read: true, write: true, present: true },
      { level: 2, index: 0, value: '0x0', read: false, write: false, present: false },
    ]);
    expect(recs[1]).toMatchObject({ endLine: 6, decoded: { walkRoot: expect.stringMatching(/none/) } });
  });
});
