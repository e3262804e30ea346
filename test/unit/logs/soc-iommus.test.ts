import { describe, expect, it } from 'vitest';
import { scanText } from '../../../src/core/logs/scanner';
import { corpusEntries } from '../../helpers/corpus';
import { cprintf } from './c-printf';
const cp = cprintf;

const of = (family: string, text: string) => scanText(text).filter((r) => r.family === family);
const other = corpusEntries('other.txt');
const entry = (needle: string) => other.find((e) => e.lines.some((l) => l.includes(needle)))!;

describe('Rockchip', () => {
  it('real 32-bit print: three lines, interleaved VOP lines, DTE not valid', () => {
    // source: corpus/other.txt, 32-bit Rockchip with two VOPs
    const e = entry('rk_iommu');
    const recs = scanText(e.lines.join('\n'));
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'rockchip', kind: 'page-fault', line: 3, endLine: 5, iommu: 'ff940300.iommu', iova: '0x7f4bda00', access: 'read',
      registers: { dte: '0x0' },
      decoded: { dteIndex: 0x1fd, pteIndex: 0xbd, pageOffset: 0xa00, mmuDteAddr: '0x14e0000', dteAddress: '0x14e07f4', dteValid: false },
      reason: { name: 'PAGE_FAULT' },
    });
    expect(recs[0]!.reason!.text).toMatch(/DTE not valid/);
  });

  it('64-bit %pad print built from the format strings: mapped read-only page written', () => {
    const dev = 'rk_iommu fe043000.iommu: ';
    const lines = [
      dev + cprintf('Page fault at %pad of type %s', '0x00000000fe001000', 'write'),
      dev + cprintf('iova = %pad: dte_index: %#03x pte_index: %#03x page_offset: %#03x', '0x00000000fe001000', 0x3f8, 0x1, 0),
      dev + cprintf('mmu_dte_addr: %pa dte@%pa: %#08x valid: %u pte@%pa: %#08x valid: %u page@%pa flags: %#03x',
        '0x0000000002ad0000', '0x0000000002ad0fe0', 0x2b1f001, 1, '0x0000000002b1f004', 0x3c000003, 1, '0x000000003c000000', 0x2),
      dev + 'Page fault while iommu not attached to domain?',
      dev + cprintf('BUS_ERROR occurred at %pad', '0x00000000fe002000'),
      dev + cprintf('unexpected int_status: %#08x', 0x6),
    ];
    const recs = of('rockchip', lines.join('\n'));
    expect(recs).toHaveLength(3);
    expect(recs[0]).toMatchObject({ endLine: 4, iova: '0xfe001000', access: 'write', registers: { dte: '0x2b1f001', pte: '0x3c000003' }, decoded: { dteValid: true, pteValid: true, page: '0x3c000000', pageFlags: '0x2', notAttached: true, pte: { VALID: true, READABLE: true, WRITABLE: false } } });
    expect(recs[0]!.reason!.text).toMatch(/without write permission.*not attached/);
    expect(recs[1]).toMatchObject({ kind: 'bus-error', iova: '0xfe002000', iommu: 'fe043000.iommu' });
    expect(recs[2]).toMatchObject({ kind: 'interrupt', registers: { int_status: '0x6' }, decoded: { int_status: { BUS_ERROR: true } } });
  });
});

describe('MediaTek', () => {
  it('real storm, old v2 layout (larb/port, layer, direction)', () => {
    // source: Dafna Hirschfeld, iommu list 2021-08-05
    const e = entry('mtk-iommu 10205000.iommu');
    const recs = of('mediatek', e.lines.join('\n'));
    expect(recs).toHaveLength(10);
    expect(recs[0]).toMatchObject({
      kind: 'page-fault', time: 837.255952, iommu: '10205000.iommu', device: 'larb0/port0', iova: '0xfcff0001', access: 'read',
      registers: { fault_st1: '0x5' }, decoded: { pa: '0x0', larb: 0, port: 0, layer: 1, fault_st1: { MMU0_TRANSLATION: true, MMU0_INVALID_PA: true, MMU0_TLB_MISS: false } },
      reason: { name: 'MMU0_TRANSLATION+MMU0_INVALID_PA' },
    });
  });

  it('real newer print with master= and its larb/port agree with the INT_ID layout', () => {
    const [r] = of('mediatek', entry('master=0x51000008').lines.join('\n'));
    expect(r).toMatchObject({ iommu: '14016000.iommu', device: 'larb0/port2', streamId: '0x51000008', registers: { int_id: '0x51000008' }, decoded: { int_id: { PORT: 2, LARB: 0 } } });
  });

  it('v1 format (no layer, no direction) and MMU1 bits', () => {
    const a = 'mtk-iommu-v1 10205000.iommu: ' + cprintf('fault type=0x%x iova=0x%x pa=0x%x larb=%d port=%d', 0x1, 0x40001000, 0, 3, 7);
    const b = 'mtk-iommu 1e802000.iommu: ' + cprintf('fault type=0x%x iova=0x%llx pa=0x%llx master=0x%x(larb=%d port=%d) layer=%d %s', 0x80, 0x1fec23000n, 0n, 0x2a0, 5, 8, 0, 'write');
    const [ra, rb] = of('mediatek', a + '\n' + b);
    expect(ra).toMatchObject({ device: 'larb3/port7', iova: '0x40001000', reason: { name: 'MMU0_TRANSLATION' } });
    expect(ra!.access).toBeUndefined();
    expect(rb).toMatchObject({ access: 'write', iova: '0x1fec23000', reason: { name: 'MMU1_TRANSLATION' }, decoded: { layer: 0 } });
  });
});

describe('Apple DART', () => {
  const fmt = 'translation fault: status:0x%x stream:%d code:0x%x (%s) at 0x%llx';
  it('T8020 and T8110 layouts told apart by the printed stream and code', () => {
    const a = 'apple-dart 382f00000.iommu: ' + cprintf(fmt, 0x81000010, 1, 0x10, 'READ FAULT', 0xfffff000n);
    const b = 'apple-dart 39b004000.iommu: ' + cprintf(fmt, 0x80500008, 5, 0x8, 'NO PTE FOR IOVA', 0x80004000n);
    const c = 'apple-dart 382f00000.iommu: ' + cprintf(fmt, 0x80000008, 0, 0x8, 'WRITE FAULT', 0x1000n);
    const [ra, rb, rc] = of('apple-dart', [a, b, c].join('\n'));
    expect(ra).toMatchObject({ kind: 'page-fault', iommu: '382f00000.iommu', streamId: '0x1', iova: '0xfffff000', access: 'read', registers: { error: '0x81000010' }, decoded: { layout: 'T8020', error: { READ_FAULT: true, STREAM: 1, FLAG: true } }, reason: { code: '0x10', name: 'READ_FAULT' } });
    expect(rb).toMatchObject({ streamId: '0x5', registers: { error_t8110: '0x80500008' }, decoded: { layout: 'T8110', error_t8110: { NO_PTE: true, STREAM: 5 } }, reason: { name: 'NO_PTE_FOR_IOVA' } });
    expect(rb!.access).toBeUndefined();
    expect(rc).toMatchObject({ access: 'write', decoded: { layout: 'T8020', error: { WRITE_FAULT: true } } });
  });
});

describe('Exynos SysMMU', () => {
  it('every era of show_fault_information, with the Lv1/Lv2 entry lines', () => {
    const dev = 'exynos-sysmmu 14650000.sysmmu: ';
    const lines = [
      dev + cprintf('%s: [%s] %s FAULT occurred at %#x', '14450000.mixer', 'WRITE', 'PAGE', 0x20001000),
      dev + cprintf('Page table base: %pa', '0x000000006f000000'),
      dev + cprintf('\tLv1 entry: %#x', 0x6f400001),
      dev + cprintf('\t Lv2 entry: %#x', 0),
      dev + cprintf('%s: %s FAULT occurred at %#x', '13e00000.fimd', 'AR MULTI-HIT', 0x30000000),
      cprintf('%s occurred at %#x by %s(Page table base: %pa)', 'PAGE FAULT', 0x40000000, '11200000.sysmmu', '0x50000000'),
      cprintf('\tLv1 entry: %#x', 0),
    ];
    const recs = of('exynos', lines.join('\n'));
    expect(recs).toHaveLength(3);
    expect(recs[0]).toMatchObject({ kind: 'page-fault', endLine: 4, iommu: '14650000.sysmmu', device: '14450000.mixer', iova: '0x20001000', access: 'write', registers: { lv1: '0x6f400001', lv2: '0x0' }, decoded: { pageTableBase: '0x6f000000', lv1: { TYPE: 'PAGE_TABLE' }, lv2: { TYPE: 'FAULT' } }, reason: { name: 'PAGE' } });
    expect(recs[0]!.reason!.text).toMatch(/page is not mapped/);
    expect(recs[1]).toMatchObject({ device: '13e00000.fimd', access: 'read', reason: { name: 'AR_MULTI_HIT' } });
    expect(recs[2]).toMatchObject({ iommu: '11200000.sysmmu', iova: '0x40000000', endLine: 7, decoded: { pageTableBase: '0x50000000', lv1: { TYPE: 'FAULT' } }, reason: { name: 'PAGE' } });
  });
});

describe('Tegra memory controller (SMMU/GART faults)', () => {
  it('real Tegra210 lines: unmapped page, secure', () => {
    // source: Guillaume Tucker, linux-tegra 2021-02-04
    const recs = of('tegra', entry('tegra-mc').lines.join('\n'));
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ kind: 'page-fault', iommu: '70019000.memory-controller', device: 'display0a', iova: '0xfe000000', access: 'read', reason: { name: 'INVALID_SMMU_PAGE' }, decoded: { status: 'EMEM address decode error', pagePermissions: { readable: false, writable: false, secure: true } } });
    expect(recs[1]).toMatchObject({ decoded: { status: 'Page fault' } });
    expect(recs[0]!.reason!.text).toMatch(/not mapped/);
  });

  it('built from "%s: %s%s @%pa: %s (%s%s)": read-only page written; carveout violation is an mc-error', () => {
    const a = 'tegra-mc 2c00000.memory-controller: ' + cprintf('%s: %s%s @%pa: %s (%s%s)', 'nvdisplayr', '', 'write', '0x00000000fff00000', 'Page fault', 'SMMU translation error', ' [R--]');
    const b = 'tegra-mc 7000f000.memory-controller: ' + cprintf('%s: %s%s @%pa: %s (%s%s)', 'mpcore', 'secure ', 'read', '0x80000000', 'Secure carveout violation', 'Carveout violation', '');
    const [ra, rb] = of('tegra', a + '\n' + b);
    expect(ra).toMatchObject({ kind: 'page-fault', device: 'nvdisplayr', access: 'write', iova: '0xfff00000', decoded: { pagePermissions: { readable: true, writable: false, secure: false } } });
    expect(ra!.reason!.text).toMatch(/read-only/);
    expect(rb).toMatchObject({ kind: 'mc-error', access: 'read', decoded: { secure: true }, reason: { name: 'SECURITY_CARVEOUT' } });
    // Tegra20 (GART) prints "%s: %s%s @%pa: %s (%s)" with no permission column
    const [g] = of('tegra', 'tegra-mc 7000f000.memory-controller: ' + cprintf('%s: %s%s @%pa: %s (%s)', 'host1x', '', 'write', '0x58001000', 'GART page fault', 'EMEM decode error'));
    expect(g).toMatchObject({ kind: 'page-fault', device: 'host1x', access: 'write', iova: '0x58001000', reason: { name: 'DECERR_EMEM' }, decoded: { status: 'GART page fault' } });
  });
});

describe('Renesas IPMMU', () => {
  it('real R-Car S4 line and the other two prints', () => {
    // source: Koichiro Den, linux-pci 2025-11-30
    const [r] = of('ipmmu', entry('ipmmu-vmsa').lines.join('\n'));
    expect(r).toMatchObject({ kind: 'page-fault', iommu: 'eed40000.iommu', iova: '0xfe000000', registers: { imstr: '0x1502' }, decoded: { imstr: { PF: true, TF: false, ERRCODE: 'SECURE_ACCESS', ERRLVL: 1 } }, reason: { name: 'PF' } });
    const dev = 'ipmmu-vmsa e67b0000.iommu: ';
    const recs = of('ipmmu', [dev + cprintf('Multiple TLB hits @0x%lx', 0x1000n), dev + cprintf('Page Table Walk Abort @0x%lx', 0x2000n), dev + cprintf('Unhandled fault: status 0x%08x iova 0x%lx', 0x1, 0x3000n)].join('\n'));
    expect(recs.map((x) => [x.reason?.name, x.iova])).toEqual([['MHIT', '0x1000'], ['ABORT', '0x2000'], ['TF', '0x3000']]);
    const [x] = of('ipmmu', '(XEN) ipmmu: /soc/iommu@e67b0000: Unhandled fault: status 0x00000001 iova 0x40001000');
    expect(x).toMatchObject({ host: 'xen', iommu: '/soc/iommu@e67b0000', iova: '0x40001000', reason: { name: 'TF' } });
  });
});

describe('near misses and hostile input', () => {
  it('similar phrases from other drivers are not taken', () => {
    expect(scanText('nouveau 0000:01:00.0: fifo: Page fault at 0x1000 of type read')).toHaveLength(0);
    expect(scanText('foo bar: client: read @0x1000: something (else)')).toHaveLength(0);
    expect(scanText('usb 1-1: something occurred at 0x10')).toHaveLength(0);
  });

  it('a wrapped half is joined only while it continues the print; a new printk line is never swallowed', () => {
    const dart = 'apple-dart 285800000.iommu: ' + cprintf('translation fault: status:0x%x stream:%d', 0x80040008, 0);
    const next = '[   12.000001] ' + 'apple-dart 285800000.iommu: ' + cprintf('translation fault: status:0x%x stream:%d code:0x%x (%s) at 0x%llx', 0x80040008, 0, 8, 'NO PTE FOR IOVA', 0x1000n);
    const recs = of('apple-dart', [dart, next].join('\n'));
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ line: 1, streamId: '0x0', registers: { error: '0x80040008' }, reason: { name: 'TRANSLATION_FAULT' } });
    expect(recs[0]!.endLine).toBeUndefined();
    expect(recs[1]).toMatchObject({ line: 2, iova: '0x1000', reason: { name: 'NO_PTE_FOR_IOVA' } });
    // an unrelated untimestamped line after a MediaTek head ends the record and is not consumed
    const mtk = of('mediatek', ['mtk-iommu 10205000.iommu: fault type=0x5', 'some other driver: hello', 'iova=0x1 pa=0x0 larb=0 port=0 layer=1 read'].join('\n'));
    expect(mtk).toHaveLength(1);
    expect(mtk[0]!.endLine).toBeUndefined();
    expect(mtk[0]!.iova).toBeUndefined();
  });

  it('a printk caller-info column glued to the driver name ("[pid:..]rk_iommu ...") still gives the instance', () => {
    // real RK3399 lines (test/fixtures/real-logs/rockchip.txt) behind the caller-info column CIX kernels print
    const col = '[   42.213800] [pid:0,cpu0,in irq]';
    const recs = of('rockchip', [
      col + 'rk_iommu ff650800.iommu: Page fault at 0x0000000004382010 of type write',
      col + 'rk_iommu ff650800.iommu: iova = 0x0000000004382010: dte_index: 0x10 pte_index: 0x382 page_offset: 0x10',
    ].join('\n'));
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ iommu: 'ff650800.iommu', iova: '0x4382010', access: 'write', endLine: 2, decoded: { pteIndex: 0x382 } });
  });

  it('long lines stay linear', () => {
    const t0 = Date.now();
    for (const s of ['fault type=0x1 iova=0x1 pa=0x1 '.repeat(20000), 'Page fault at '.repeat(30000), ' @0x'.repeat(50000) + ': x (y', 'translation fault: status:'.repeat(20000), 'A FAULT occurred at '.repeat(20000),
      'exynos-sysmmu a: b: ' + 'A '.repeat(30000), 'tegra-mc x: c: read @0x1: ' + 'a '.repeat(30000) + '(',
      'rk_iommu x: iova = 0x1: dte_index: 0x1 ' + 'x'.repeat(60000) + '>', 'x: mmu_dte_addr: 0x1 dte@0x1: 0x0 valid: 1 ' + '1'.repeat(60000) + '>',
      'mtk-iommu a.iommu: fault type=0x5' + ' larb=1'.repeat(20000)]) {
      expect(() => scanText(s)).not.toThrow();
    }
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});

describe('Exynos: the ≥ 6.2 text alone', () => {
  it('"[%s] %s FAULT occurred at %#x" without the driver columns is taken; an untagged look-alike is not', () => {
    const recs = of('exynos', ['  ' + cprintf('[%s] %s FAULT occurred at %#x', 'WRITE', 'PTW', 0x80001000), 'PAGE FAULT occurred at 0x1000', 'PAGE FAULT OCCURRED at 0x1000'].join('\n'));
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ line: 1, iova: '0x80001000', access: 'write', reason: { name: 'PTW' } });
  });
});

describe('remoteproc core IOMMU fault handler', () => {
  it('"iommu fault: da 0x%lx flags 0x%x": device address, a write only when flags say so', () => {
    const recs = scanText([
      '[  130.000000] omap-rproc 55020000.ipu: ' + cprintf('iommu fault: da 0x%lx flags 0x%x', 0x9f000000, 0),
      'remoteproc remoteproc0: ' + cprintf('iommu fault: da 0x%lx flags 0x%x', 0x3000, 1),
      'some text iommu fault: da 0x1 flags 0x0',
    ].join('\n')).filter((r) => r.family === 'remoteproc');
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ kind: 'page-fault', time: 130, device: '55020000.ipu', iova: '0x9f000000', decoded: { flags: 0 }, reason: { name: 'MMUFAULT' } });
    expect(recs[0]!.access).toBeUndefined();
    expect(recs[1]).toMatchObject({ device: 'remoteproc0', iova: '0x3000', access: 'write' });
  });
});

describe('RISC-V IOMMU', () => {
  it('"Fault %d devid: 0x%x iotval: %llx iotval2: %llx": page faults carry the IOVA and the direction, context faults do not', () => {
    const dev = 'riscv,iommu 3010000.iommu: ';
    const F = 'Fault %d devid: 0x%x iotval: %llx iotval2: %llx';
    const recs = scanText([
      '[   12.500000] ' + dev + cprintf(F, 15, 0x8, 0x7f001000, 0),
      'riscv-iommu 0000:00:01.0: ' + cprintf(F, 258, 0x100, 0, 0),
      dev + cprintf(F, 23, 0x8, 0x4000, 0x20000400),
      dev + cprintf('Queue #%u error; fault:%d timeout:%d illegal:%d fence_w_ip:%d', 0, 0, 0, 1, 0),
    ].join('\n')).filter((r) => r.family === 'riscv-iommu');
    expect(recs).toHaveLength(4);
    expect(recs[0]).toMatchObject({ kind: 'page-fault', time: 12.5, iommu: '3010000.iommu', streamId: '0x8', iova: '0x7f001000', access: 'write', reason: { code: 15, name: 'WR_FAULT_S' } });
    expect(recs[1]).toMatchObject({ kind: 'event', iommu: '0000:00:01.0', streamId: '0x100', reason: { code: 258, name: 'DDT_INVALID' } });
    expect(recs[1]!.iova).toBeUndefined();
    expect(recs[2]).toMatchObject({ iova: '0x4000', access: 'write', registers: { iotval2: '0x20000400' }, reason: { name: 'WR_FAULT_VS' } });
    expect(recs[3]).toMatchObject({ kind: 'queue-error', decoded: { queue: 0, illegal: true, timeout: false } });
    expect(recs[3]!.reason!.text).toMatch(/illegal command/);
  });
});

describe('Allwinner sun50i IOMMU', () => {
  const dev = 'sun50i-iommu 30f0000.iommu: ';
  it('page-table fault (always "rd") followed by the no-domain line, and a permission fault on a write', () => {
    const lines = [
      '[  120.000001] ' + dev + cprintf('Page fault for %pad (master %d, dir %s)', '0x00000000ff800000', 2, 'rd'),
      '[  120.000002] ' + dev + 'Page fault while iommu not attached to any domain?',
      '[  121.000000] ' + dev + cprintf('Page fault for %pad (master %d, dir %s)', '0x0000000010001000', 0, 'wr'),
    ];
    const recs = of('sun50i', lines.join('\n'));
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ line: 1, endLine: 2, kind: 'page-fault', time: 120.000001, iommu: '30f0000.iommu', iova: '0xff800000', access: 'read', decoded: { master: 2, notAttached: true }, reason: { name: 'PAGE_FAULT' } });
    expect(recs[0]!.reason!.text).toMatch(/cannot tell the direction.*not attached/);
    expect(recs[1]).toMatchObject({ line: 3, iova: '0x10001000', access: 'write', decoded: { master: 0 } });
    expect(recs[1]!.endLine).toBeUndefined();
    expect(recs[1]!.reason!.text).toMatch(/read-only/);
  });

  it('32-bit %pad, another device\'s no-domain line is not taken, a bare quote still counts', () => {
    const recs = of('sun50i', [
      dev + cprintf('Page fault for %pad (master %d, dir %s)', '0x1f000000', 5, 'rd'),
      'sun50i-iommu 1000.iommu: Page fault while iommu not attached to any domain?',
      '> Page fault for 0x00000000c0000000 (master 1, dir rd)',
    ].join('\n'));
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ iova: '0x1f000000', decoded: { master: 5 } });
    expect(recs[0]!.endLine).toBeUndefined();
    expect(recs[1]).toMatchObject({ iova: '0xc0000000', decoded: { master: 1 } });
    expect(recs[1]!.iommu).toBeUndefined();
  });
});

describe('TI OMAP IOMMU', () => {
  it('first-level entry not a table ("*pgd:px" typo) and a full two-level print', () => {
    // %p (a hashed pointer) is given preformatted, like cprintf's %pa
    const cprintf = (fmt: string, ...args: (number | string)[]) => cp(fmt.replace(/%p /g, '%s ').replace(/%p$/, '%s'), ...args);
    const a = 'omap-iommu 55082000.mmu: ' + cprintf('%s: errs:0x%08x da:0x%08x pgd:0x%p *pgd:px%08x', '55082000.mmu', 2, 0x9f000000, '(ptrval)', 0);
    const b = 'omap-iommu 58882000.mmu: ' + cprintf('%s: errs:0x%08x da:0x%08x pgd:0x%p *pgd:0x%08x pte:0x%p *pte:0x%08x', 'mmu_ipu2', 2, 0x60000000, 'e0f4a800', 0x9e4c0001, 'de3cb000', 0);
    const c = '[   33.5] omap-iommu 40d01000.mmu: ' + cprintf('%s: errs:0x%08x da:0x%08x pgd:0x%p *pgd:0x%08x pte:0x%p *pte:0x%08x', 'mmu_dsp1', 0x8, 0x95000000, '8a6f2c11', 0x9d800001, '4b2a1c00', 0x9e000002);
    const recs = of('omap-iommu', [a, b, c].join('\n'));
    expect(recs).toHaveLength(3);
    expect(recs[0]).toMatchObject({
      kind: 'page-fault', iommu: '55082000.mmu', iova: '0x9f000000', registers: { irqstatus: '0x2', pgd: '0x0' },
      decoded: { mmuName: '55082000.mmu', irqstatus: { TRANSLATIONFAULT: true, TABLEWALKFAULT: false }, pgd: { TYPE: 'FAULT' } },
      reason: { code: 2, name: 'TRANSLATION_FAULT' },
    });
    expect(recs[0]!.registers!.pte).toBeUndefined();
    expect(recs[0]!.reason!.text).toMatch(/first-level entry invalid/);
    expect(recs[1]).toMatchObject({ iommu: '58882000.mmu', iova: '0x60000000', registers: { pgd: '0x9e4c0001', pte: '0x0' }, decoded: { mmuName: 'mmu_ipu2', pgd: { TYPE: 'TABLE' }, pte: { TYPE: 'FAULT' } } });
    expect(recs[1]!.reason!.text).toMatch(/second-level entry invalid/);
    expect(recs[2]).toMatchObject({ time: 33.5, iommu: '40d01000.mmu', reason: { code: 8, name: 'TABLE_WALK_FAULT' }, decoded: { pte: { TYPE: 'SMALL' } } });
    expect(recs[2]!.reason!.text).toMatch(/tables map this page/);
  });

  it('the driver\'s other lines and an unrelated "x: y:" line are not faults', () => {
    expect(of('omap-iommu', [
      'omap-iommu 55082000.mmu: 55082000.mmu: version 2.1',
      'omap-iommu 4a066000.mmu: 4a066000.mmu registered',
      'foo bar: baz:',
      'remoteproc remoteproc0: iommu fault: da 0x3000 flags 0x0',
    ].join('\n'))).toHaveLength(0);
  });

  it('hostile lines stay linear', () => {
    const t0 = Date.now();
    for (const s of ['x: errs:0x1 da:0x1 pgd:0x1 '.repeat(20000), 'a'.repeat(60000) + ': errs:0x', 'Page fault for 0x1 (master 1, dir '.repeat(10000)]) {
      expect(() => scanText(s)).not.toThrow();
    }
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});
