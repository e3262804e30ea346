import { describe, expect, it } from 'vitest';
import { parseLine } from '../../../src/core/logs/line';

const MSG = 'arm-smmu 15000000.iommu: Unhandled context fault: fsr=0x402, iova=0x8424cb148, fsynr=0xb0001, cb=0';

describe('parseLine: prefixes real logs carry', () => {
  it('plain message', () => {
    const l = parseLine(MSG, 1);
    expect(l).toMatchObject({ message: MSG, host: 'linux', line: 1 });
    expect(l.time).toBeUndefined();
  });

  it('kernel monotonic timestamp [ 1234.567890]', () => {
    expect(parseLine(`[ 1234.567890] ${MSG}`, 1)).toMatchObject({ message: MSG, time: 1234.56789 });
    expect(parseLine(`[    0.000000] ${MSG}`, 1)).toMatchObject({ message: MSG, time: 0 });
  });

  it('dmesg -T wall clock [Thu Oct 22 08:54:51 2020]', () => {
    const l = parseLine(`[Thu Oct 22 08:54:51 2020] ${MSG}`, 1);
    expect(l.message).toBe(MSG);
    expect(l.time).toBe(Date.UTC(2020, 9, 22, 8, 54, 51) / 1000);
  });

  it('printk level, with and without timestamp', () => {
    expect(parseLine(`<3>${MSG}`, 1).message).toBe(MSG);
    expect(parseLine(`<3>[   12.500000] ${MSG}`, 1)).toMatchObject({ message: MSG, time: 12.5 });
  });

  it('journalctl short and syslog (with kernel timestamp inside)', () => {
    const a = parseLine(`Nov 06 13:59:48 host kernel: ${MSG}`, 1);
    expect(a.message).toBe(MSG);
    expect(a.time).toBe(Date.UTC(1970, 10, 6, 13, 59, 48) / 1000);
    const b = parseLine(`Nov  6 13:59:48 myhost kernel: [ 1234.5] ${MSG}`, 1);
    expect(b).toMatchObject({ message: MSG, time: 1234.5 });
  });

  it('syslog pastes without the host column, and indented stamped lines', () => {
    // as published in bug reports (a helper's real-log hunt found both)
    expect(parseLine(`Dec 8 10:02:17 kernel: ${MSG}`, 1)).toMatchObject({ message: MSG, time: Date.UTC(1970, 11, 8, 10, 2, 17) / 1000 });
    expect(parseLine(`Jun 15 11:58:56   kernel: ${MSG}`, 1)).toMatchObject({ message: MSG, time: Date.UTC(1970, 5, 15, 11, 58, 56) / 1000 });
    // only "kernel:" may stand alone: a printer's own "DMAR:" or "AMD-Vi:" stays in the message
    expect(parseLine(`Dec 8 10:02:17 DMAR: ${MSG}`, 1).message).toBe(`Dec 8 10:02:17 DMAR: ${MSG}`);
    expect(parseLine(`  [Fri Jul 19 10:00:01 2024] ${MSG}`, 1)).toMatchObject({ message: MSG, time: Date.UTC(2024, 6, 19, 10, 0, 1) / 1000 });
    expect(parseLine(`\t[  12.500000] ${MSG}`, 1)).toMatchObject({ message: MSG, time: 12.5 });
    // indentation alone is part of the message (wrapped continuation lines)
    expect(parseLine('   [fault reason 0x06] PTE Read access is not set', 1).message).toBe('   [fault reason 0x06] PTE Read access is not set');
  });

  it('journalctl ISO formats', () => {
    const a = parseLine(`2020-11-06T13:59:48+0100 host kernel: ${MSG}`, 1);
    expect(a.message).toBe(MSG);
    const b = parseLine(`2020-11-06T13:59:48.123456+01:00 host kernel: ${MSG}`, 1);
    expect(b.message).toBe(MSG);
    expect(b.time).toBeCloseTo(Date.UTC(2020, 10, 6, 13, 59, 48) / 1000 + 0.123456, 5);
  });

  it('Xen console: (XEN), (XEN) [timestamp], guest (d1)', () => {
    const x = '(XEN) smmu: /smmu@fd800000: Unhandled context fault: fsr=0x402, iova=0x8424cb148, fsynr=0xb0001, cb=0';
    expect(parseLine(x, 3)).toMatchObject({ host: 'xen', message: x.slice(6) });
    expect(parseLine('(XEN) [  123.456789] [VT-D]DMAR: reason 05 - PTE Write access is not set', 1)).toMatchObject({
      host: 'xen', time: 123.456789, message: '[VT-D]DMAR: reason 05 - PTE Write access is not set',
    });
    const d = parseLine('(XEN) [2020-10-22 08:54:51.123] AMD-Vi: IO_PAGE_FAULT', 1);
    expect(d).toMatchObject({ host: 'xen', message: 'AMD-Vi: IO_PAGE_FAULT' });
    expect(d.time).toBeCloseTo(Date.UTC(2020, 9, 22, 8, 54, 51) / 1000 + 0.123, 3);
    expect(parseLine('(d1) [    2.000000] virtio_iommu: fault', 1)).toMatchObject({ xenDomain: 1, time: 2, host: 'linux' });
  });

  it('serial console CR/LF and ANSI colour codes', () => {
    expect(parseLine(`\x1b[0;31m[   5.000000] ${MSG}\x1b[0m\r`, 1)).toMatchObject({ message: MSG, time: 5 });
    expect(parseLine(`garbage\r[   5.000000] ${MSG}`, 1)).toMatchObject({ message: MSG, time: 5 });
  });

  it('dmesg -x facility/level columns', () => {
    expect(parseLine(`kern  :err   : [   7.100000] ${MSG}`, 1)).toMatchObject({ message: MSG, time: 7.1 });
  });

  it('extra tool columns in front (line numbers, capture tool timestamps)', () => {
    expect(parseLine(`  412  [   5.000000] ${MSG}`, 1)).toMatchObject({ message: MSG, time: 5 });
    expect(parseLine(`serial0 | (XEN) [VT-D]DMAR: reason 05`, 1)).toMatchObject({ host: 'xen', message: '[VT-D]DMAR: reason 05' });
  });

  it('stays linear on hostile prefixes', () => {
    const hostile = '['.repeat(1_000_000) + MSG;
    const t0 = performance.now();
    parseLine(hostile, 1);
    parseLine('(XEN) '.repeat(200_000), 1);
    parseLine('<3>'.repeat(300_000), 1);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
