/*
 * Prefixes that other tools print in front of kernel messages, each built from the tool's own
 * format string (sources named per block), with real fault prints from ../shared/corpus inside.
 */
import { describe, expect, it } from 'vitest';
import { parseLine } from '../../../src/core/logs/line';
import { scanText } from '../../../src/core/logs/scanner';
import type { FaultRecord } from '../../../src/core/logs/record';
import { scan } from '../../helpers/real-logs';

// Real prints, as published (see ../shared/corpus for their sources):
// intel-dmar.txt, https://github.com/opencomputeproject/OpenNetworkLinux/pull/897
const VTD = 'DMAR: [DMA Write] Request device [00:12.0] fault addr 0 [fault reason 05] PTE Write access is not set';
// amd-vi.txt, https://lore.kernel.org/r/20220314112746.214869174@linuxfoundation.org
const AMDVI = 'AMD-Vi: Event logged [IO_PAGE_FAULT device=07:00.0 domain=0x0007 address=0xffffc02000 flags=0x0000]';
// arm-smmu.txt, https://github.com/openwrt/mt76/issues/1007
const SMMU = 'arm-smmu 5000000.iommu: Unhandled context fault: fsr=0x402, iova=0xff3cf000, fsynr=0x300003, cbfrsynra=0x409, cb=10';

const at = (y: number, mo: number, d: number, h: number, mi: number, s: number) => Date.UTC(y, mo, d, h, mi, s) / 1000;
const NOV21 = at(2024, 10, 21, 10, 2, 3);

/** The one record a text gives. */
function one(text: string): FaultRecord {
  const recs = scanText(text);
  expect(recs, text).toHaveLength(1);
  return recs[0]!;
}

function expectVtd(r: FaultRecord): void {
  expect(r).toMatchObject({ family: 'intel-vtd', kind: 'dma-fault', device: '0000:00:12.0', iova: '0x0', access: 'write' });
  expect(r.reason?.code).toBe(5);
}

function expectAmd(r: FaultRecord): void {
  expect(r).toMatchObject({ family: 'amd-vi', device: '0000:07:00.0', domain: '0x7', iova: '0xffffc02000' });
}

function expectSmmu(r: FaultRecord): void {
  expect(r).toMatchObject({ family: 'arm-smmu', iommu: '5000000.iommu', iova: '0xff3cf000', contextBank: 10, streamId: '0x409' });
}

describe('dmesg -T / --time-format ctime under any LC_TIME', () => {
  // util-linux sys-utils/dmesg.c record_ctime(): strftime(_("%a %b %e %H:%M:%S %Y")) in "[%s] "
  it('reads the time when the month name is known', () => {
    const cases: [string, number][] = [
      ['[Do Nov 21 10:02:03 2024] ', NOV21], // de_DE
      ['[jeu. nov. 21 10:02:03 2024] ', NOV21], // fr_FR
      ['[jue nov 21 10:02:03 2024] ', NOV21], // es_ES
      ['[gio nov 21 10:02:03 2024] ', NOV21], // it_IT
      ['[qui nov 21 10:02:03 2024] ', NOV21], // pt_BR
      ['[czw lis 21 10:02:03 2024] ', NOV21], // pl_PL
      ['[Чт ноя 21 10:02:03 2024] ', NOV21], // ru_RU
      ['[四 11月 21 10:02:03 2024] ', NOV21], // zh_CN
      ['[木 11月 21 10:02:03 2024] ', NOV21], // ja_JP
      ['[목 11월 21 10:02:03 2024] ', NOV21], // ko_KR
      ['[Di Dez  3 10:02:03 2024] ', at(2024, 11, 3, 10, 2, 3)], // %e pads days 1-9 with a blank
      ['[Mi Mär  5 08:00:00 2025] ', at(2025, 2, 5, 8, 0, 0)],
      ['[ma mrt 21 17:09:43 2022] ', at(2022, 2, 21, 17, 9, 43)], // nl_NL, as published (real-logs/amd-vi.txt)
      ['[Thu Nov 21 10:02:03 2024 <    0.000123>] ', NOV21], // --time-format ctime,delta
    ];
    for (const [prefix, t] of cases) {
      expect(parseLine(prefix + VTD, 1), prefix).toMatchObject({ message: VTD, time: t, host: 'linux' });
    }
  });

  it('strips a date whose month word it does not know, without a time', () => {
    const l = parseLine(`[Pzt Kas 21 10:02:03 2024] ${AMDVI}`, 1); // tr_TR
    expect(l.message).toBe(AMDVI);
    expect(parseLine(`[xyz qqq 21 10:02:03 2024] ${AMDVI}`, 1)).toMatchObject({ message: AMDVI });
    expect(parseLine(`[xyz qqq 21 10:02:03 2024] ${AMDVI}`, 1).time).toBeUndefined();
  });

  it('leaves message brackets alone', () => {
    for (const m of ['[UFW BLOCK] IN=eth0 OUT=', '[fault reason 0x06] PTE Read access is not set', '[drm:intel_foo 10:02] x',
      '[x 10:02] y', '[Thu 21 10:02:03] no year', '[a b c d e f g 10:02:03 2024] too many words', '[Nov 21 10:02:03 2024 2025] two years']) {
      expect(parseLine(m, 1), m).toMatchObject({ message: m });
      expect(parseLine(m, 1).time, m).toBeUndefined();
    }
  });

  it('a scan of localized dmesg -T finds the fault with its time', () => {
    const r = one(`[jeu. nov. 21 10:02:03 2024] ${SMMU}`);
    expectSmmu(r);
    expect(r.time).toBe(NOV21);
    const z = one(`[四 11月 21 10:02:03 2024] ${VTD}`);
    expectVtd(z);
    expect(z.time).toBe(NOV21);
  });
});

describe('dmesg delta and reltime stamps', () => {
  // util-linux dmesg.c print_record(): TIME_DELTA "[%5ld.%06ld <%12.06f>] ", DELTA "[<%12.06f>] ",
  // RELTIME "[%s] " with strftime(_("%b%e %H:%M")) on a new minute, else "[  %+8.06f] " / "[ %+9.06f] "
  it('dmesg -d keeps the monotonic time', () => {
    expect(parseLine(`[ 1234.567890 <    0.000123>] ${VTD}`, 1)).toMatchObject({ message: VTD, time: 1234.56789 });
    expect(parseLine(`[<    0.000123>] ${VTD}`, 1).message).toBe(VTD);
    expect(parseLine(`[<    0.000123>] ${VTD}`, 1).time).toBeUndefined();
  });

  it('reltime lines are stripped; they date nothing on their own', () => {
    for (const p of ['[Nov21 10:02] ', '[Nov 7 10:02] ', '[  +0.000123] ', '[ +12.345678] ', '[Dez26 08:58] ', '[  +0,000007] ', '[nov.21 10:02] ']) {
      const l = parseLine(p + AMDVI, 1);
      expect(l.message, p).toBe(AMDVI);
      expect(l.time, p).toBeUndefined();
    }
  });

  it('a scan under dmesg -d and -H', () => {
    const r = one(`[ 1234.567890 <    0.000123>] ${AMDVI}`);
    expectAmd(r);
    expect(r.time).toBe(1234.56789);
    const h = scanText(`[Nov21 10:02] ${SMMU}\n[  +0.000012] ${VTD}`);
    expect(h).toHaveLength(2);
    expectSmmu(h[0]!);
    expectVtd(h[1]!);
    expect(h[0]!.time).toBeUndefined();
    expect(h[1]!.line).toBe(2);
  });
});

describe('printk caller ids', () => {
  // kernel/printk/printk.c print_caller(): "[%6s]" of "T<pid>" / "C<cpu>" right after the console
  // stamp (CONFIG_PRINTK_CALLER); util-linux dmesg prints "[%*s] " after its own stamp
  it('are stripped after a stamp', () => {
    expect(parseLine(`[ 3404.107783][  T340] ${AMDVI}`, 1)).toMatchObject({ message: AMDVI, time: 3404.107783 });
    expect(parseLine(`[    8.336262][    C0] ${VTD}`, 1)).toMatchObject({ message: VTD, time: 8.336262 });
    expect(parseLine(`[ 1234.567890] [  T123] ${VTD}`, 1)).toMatchObject({ message: VTD, time: 1234.56789 });
    expect(parseLine(`kernel: [ 2403.441828][T49880] ${VTD}`, 1)).toMatchObject({ message: VTD, time: 2403.441828 });
    expect(parseLine(`[Do Nov 21 10:02:03 2024] [  T123] ${VTD}`, 1)).toMatchObject({ message: VTD, time: NOV21 });
  });

  it('stay in a message that has no stamp', () => {
    expect(parseLine(`[  T123] ${VTD}`, 1).message).toBe(`[  T123] ${VTD}`);
  });

  it('a scan with caller ids', () => {
    const r = one(`[ 3404.107783][  T340] ${SMMU}`);
    expectSmmu(r);
    expect(r.time).toBe(3404.107783);
  });
});

describe('/dev/kmsg records', () => {
  // Documentation/ABI/testing/dev-kmsg: "7,160,424069,-;pci_root PNP0A03:00: ..." (before 3.6 without
  // the flags field: "6,339,5140900;NET: ..."), then " SUBSYSTEM=acpi" / " DEVICE=+acpi:PNP0A03:00"
  it('take the message and the microsecond stamp', () => {
    expect(parseLine(`6,339,5140900,-;${VTD}`, 1)).toMatchObject({ message: VTD, time: 5.1409 });
    expect(parseLine(`6,339,5140900;${VTD}`, 1)).toMatchObject({ message: VTD, time: 5.1409 });
    expect(parseLine(`3,1201,196747107,-,caller=T1;${VTD}`, 1)).toMatchObject({ message: VTD, time: 196.747107 });
    // the same value the kernel stamp of the record reads
    expect(parseLine(`6,1,1234567890,-;x`, 1).time).toBe(parseLine('[ 1234.567890] x', 1).time);
  });

  it('dictionary lines are no messages', () => {
    expect(parseLine(' SUBSYSTEM=pci', 1).message).toBe('');
    expect(parseLine(' DEVICE=+pci:0000:00:02.0', 1).message).toBe('');
    expect(parseLine(' not=a dictionary line', 1).message).toBe(' not=a dictionary line');
  });

  it('a scan of a kmsg dump: single prints and an SMMUv3 event dump whose dwords are each followed by a dictionary', () => {
    const r = one(`3,2,10672868940,-;${VTD}\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:12.0`);
    expectVtd(r);
    expect(r.time).toBe(10672.86894);
    // arm-smmu-v3.txt, https://lore.kernel.org/r/5FC3163CFD30C246ABAA99954A238FA83F328FAB@lhreml524-mbb.china.huawei.com
    const dump = [
      'event 0x10 received:', '0x00000180 00000010', '0x0000020100000000', '0x00000000ffffe040', '0x00000000ffffe000',
    ].map((m, i) => `3,${1201 + i},${196747107 + i},-;arm-smmu-v3 arm-smmu-v3.0.auto: ${m}\n SUBSYSTEM=platform\n DEVICE=+platform:arm-smmu-v3.0.auto`);
    const e = one(dump.join('\n'));
    expect(e).toMatchObject({ family: 'arm-smmu-v3', iommu: 'arm-smmu-v3.0.auto', streamId: '0x180', iova: '0xffffe040', time: 196.747107 });
    expect(e.reason?.name).toBe('F_TRANSLATION');
  });
});

describe('journalctl output modes', () => {
  // systemd src/shared/logs-show.c output_timestamp_realtime(), output_timestamp_monotonic(),
  // output_short(), output_verbose(), output_export(), output_json()
  it('short-unix: "%10ld.%06lu host ident: "', () => {
    expect(parseLine(`1604671188.123456 myhost kernel: ${VTD}`, 1)).toMatchObject({ message: VTD, time: 1604671188.123456 });
    expect(parseLine(`1604671188.123456 kernel: ${VTD}`, 1)).toMatchObject({ message: VTD }); // --no-hostname
    expect(parseLine('1604671188.123456 is a number', 1).message).toBe('1604671188.123456 is a number');
  });

  it('short-full and with-unit: "%a %Y-%m-%d %H:%M:%S %Z host ident: "', () => {
    expect(parseLine(`Thu 2024-11-21 10:02:03 CET myhost kernel: ${AMDVI}`, 1)).toMatchObject({ message: AMDVI, time: NOV21 });
    expect(parseLine(`Do 2024-11-21 10:02:03 UTC myhost kernel: ${AMDVI}`, 1)).toMatchObject({ message: AMDVI, time: NOV21 });
  });

  it('short and short-precise under LC_TIME: "%b %d %H:%M:%S[.usec] host ident: "', () => {
    expect(parseLine(`Dez 08 10:02:17 myhost kernel: ${SMMU}`, 1)).toMatchObject({ message: SMMU, time: at(1970, 11, 8, 10, 2, 17) });
    expect(parseLine(`déc. 08 10:02:17.123456 myhost kernel: ${SMMU}`, 1).time).toBeCloseTo(at(1970, 11, 8, 10, 2, 17) + 0.123456, 6);
    expect(parseLine(`aug 23 18:04:17 taz kernel: ${VTD}`, 1)).toMatchObject({ message: VTD, time: at(1970, 7, 23, 18, 4, 17) });
    expect(parseLine(`Mär 05 08:00:00 myhost kernel: ${VTD}`, 1)).toMatchObject({ message: VTD, time: at(1970, 2, 5, 8, 0, 0) });
    expect(parseLine(`Kas 21 10:02:03 myhost kernel: ${VTD}`, 1)).toMatchObject({ message: VTD, time: at(1970, 10, 21, 10, 2, 3) });
    // a message is not taken for a date
    expect(parseLine(`usb 1-3: new high-speed USB device`, 1).message).toBe('usb 1-3: new high-speed USB device');
    expect(parseLine(`e1000e 0000:00:19.0 eth0: NIC Link is Up`, 1).message).toBe('e1000e 0000:00:19.0 eth0: NIC Link is Up');
  });

  it('short-delta: "[%5lu.%06lu <%5lu.%06lu >]", blank when there is no previous entry', () => {
    expect(parseLine(`[ 1234.567890 <    0.000123 >] myhost kernel: ${VTD}`, 1)).toMatchObject({ message: VTD, time: 1234.56789 });
    expect(parseLine(`[ 1234.567890 <    0.000123*>] myhost kernel: ${VTD}`, 1)).toMatchObject({ message: VTD, time: 1234.56789 });
    expect(parseLine(`[ 1234.567890                ] myhost kernel: ${VTD}`, 1)).toMatchObject({ message: VTD, time: 1234.56789 });
  });

  it('json: MESSAGE, with the kernel stamp from _SOURCE_MONOTONIC_TIMESTAMP', () => {
    const j = `{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1732183323000000","__MONOTONIC_TIMESTAMP":"10673001234","_BOOT_ID":"b","_SOURCE_MONOTONIC_TIMESTAMP":"10672868940","_TRANSPORT":"kernel","PRIORITY":"3","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"${VTD}"}`;
    expect(parseLine(j, 1)).toMatchObject({ message: VTD, time: 10672.86894 });
    const noSource = `{"__MONOTONIC_TIMESTAMP":"5140900","MESSAGE":"${AMDVI}"}`;
    expect(parseLine(noSource, 1)).toMatchObject({ message: AMDVI, time: 5.1409 });
    // older journalctl put blanks around ':'
    expect(parseLine(`{ "__CURSOR" : "s=1", "_SOURCE_MONOTONIC_TIMESTAMP" : "1234567890", "MESSAGE" : "${SMMU}" }`, 1))
      .toMatchObject({ message: SMMU, time: 1234.56789 });
    // escapes, and only the first line of a multi-line message
    expect(parseLine('{"MESSAGE":"say \\"hi\\"\\t\\u0041\\nsecond line"}', 1).message).toBe('say "hi"\tA');
    // journald stores text that is not valid UTF-8 as a byte array
    const bytes = [...Buffer.from('AMD-Vi: é')].join(',');
    expect(parseLine(`{"MESSAGE":[${bytes}]}`, 1).message).toBe('AMD-Vi: é');
    // json-seq (RS before each object) and json-sse ("data: ")
    expect(parseLine(`\x1e{"MESSAGE":"${VTD}"}`, 1).message).toBe(VTD);
    expect(parseLine(`data: {"MESSAGE":"${VTD}","__MONOTONIC_TIMESTAMP":"77"}`, 1)).toMatchObject({ message: VTD, time: 0.000077 });
    // a JSON line without MESSAGE, or a broken one, stays as it is
    expect(parseLine('{"PRIORITY":"3"}', 1).message).toBe('{"PRIORITY":"3"}');
    expect(parseLine('{"MESSAGE":"unterminated', 1).message).toBe('{"MESSAGE":"unterminated');
  });

  it('json-pretty, verbose and export give the MESSAGE field line', () => {
    expect(parseLine(`\t"MESSAGE" : "${VTD}",`, 1).message).toBe(VTD);
    expect(parseLine(`    MESSAGE=${VTD}`, 1).message).toBe(VTD);
    expect(parseLine(`MESSAGE=${VTD}`, 1).message).toBe(VTD);
    // util-linux dmesg -J: '"msg": "..."' (the time is on the line before)
    expect(parseLine(`         "msg": "${AMDVI}"`, 1).message).toBe(AMDVI);
  });

  it('a scan of journalctl -o json, short-unix, short-full and localized short lines', () => {
    const j = one(`{"__REALTIME_TIMESTAMP":"1732183323000000","__MONOTONIC_TIMESTAMP":"10673001234","_SOURCE_MONOTONIC_TIMESTAMP":"10672868940","MESSAGE":"${SMMU}"}`);
    expectSmmu(j);
    expect(j.time).toBe(10672.86894);
    const u = one(`1604671188.123456 myhost kernel: ${AMDVI}`);
    expectAmd(u);
    expect(u.time).toBe(1604671188.123456);
    const f = one(`Thu 2024-11-21 10:02:03 CET myhost kernel: ${VTD}`);
    expectVtd(f);
    expect(f.time).toBe(NOV21);
    const l = one(`Dez 08 10:02:17 myhost kernel: ${VTD}`);
    expectVtd(l);
    expect(l.time).toBe(at(1970, 11, 8, 10, 2, 17));
  });
});

describe('RFC 5424 syslog', () => {
  // RFC 5424 section 6: "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG"
  // (rsyslog's RSYSLOG_SyslogProtocol23Format writes it to files)
  it('takes the header apart', () => {
    const t = at(2024, 10, 21, 10, 2, 3) + 0.123456;
    expect(parseLine(`<3>1 2024-11-21T10:02:03.123456+01:00 myhost kernel - - - ${VTD}`, 1).message).toBe(VTD);
    expect(parseLine(`<3>1 2024-11-21T10:02:03.123456+01:00 myhost kernel - - - ${VTD}`, 1).time).toBeCloseTo(t, 6);
    expect(parseLine(`<11>1 2024-11-21T10:02:03Z myhost kernel - - [meta sequenceId="1"][x@1 a="b c"] ${AMDVI}`, 1)).toMatchObject({ message: AMDVI, time: NOV21 });
    expect(parseLine(`<3>1 2024-11-21T10:02:03Z myhost kernel - - - \ufeff${AMDVI}`, 1).message).toBe(AMDVI);
  });

  it('a scan of RFC 5424 lines', () => {
    const r = one(`<3>1 2024-11-21T10:02:03Z myhost kernel - - - ${SMMU}`);
    expectSmmu(r);
    expect(r.time).toBe(NOV21);
  });
});

describe('Android logcat', () => {
  // AOSP liblog logprint.cpp: threadtime "%s.%03ld %5d %5d %c %-8s: ", time "%s.%03ld %c/%-8s(%5d): ",
  // timeBuf "%m-%d %H:%M:%S" (-v year: "%Y-%m-%d ..."). logd LogKlog.cpp cut the kernel message's
  // "tag:" (one or two words before the colon) into the tag column.
  it('threadtime, time and year put the kernel message back together', () => {
    const t = at(1970, 10, 21, 10, 2, 3) + 0.123;
    const a = parseLine('11-21 10:02:03.123     0     0 E DMAR    : [DMA Write] Request device [00:12.0] fault addr 0 [fault reason 05] PTE Write access is not set', 1);
    expect(a.message).toBe(VTD);
    expect(a.time).toBeCloseTo(t, 3);
    const b = parseLine('11-21 10:02:03.123 E/arm-smmu 5000000.iommu(    0): Unhandled context fault: fsr=0x402, iova=0xff3cf000, fsynr=0x300003, cbfrsynra=0x409, cb=10', 1);
    expect(b.message).toBe(SMMU);
    const c = parseLine('2024-11-21 10:02:03.123     0     0 E AMD-Vi  : Event logged [IO_PAGE_FAULT device=07:00.0 domain=0x0007 address=0xffffc02000 flags=0x0000]', 1);
    expect(c.message).toBe(AMDVI);
    expect(c.time).toBeCloseTo(NOV21 + 0.123, 3);
    // no tag: "%-8s" of an empty tag
    expect(parseLine(`11-21 10:02:03.123     0     0 I         : ${VTD}`, 1).message).toBe(VTD);
  });

  it('a scan of logcat -b kernel', () => {
    const r = one('11-21 10:02:03.123     0     0 E arm-smmu 5000000.iommu: Unhandled context fault: fsr=0x402, iova=0xff3cf000, fsynr=0x300003, cbfrsynra=0x409, cb=10');
    expectSmmu(r);
    expect(r.time).toBeCloseTo(at(1970, 10, 21, 10, 2, 3) + 0.123, 3);
  });
});

describe('indented pastes (Markdown code blocks, quoted mail)', () => {
  it('the blanks go with a date or stamp of any of these formats', () => {
    // as published in QubesOS/qubes-issues#7648 (real-logs/gpu-mmu.txt): journalctl lines indented by 4
    expect(parseLine('    Jul 23 05:38:28 dom0 kernel: amdgpu 0000:04:00.0: amdgpu:          RW: 0x0', 1))
      .toMatchObject({ message: 'amdgpu 0000:04:00.0: amdgpu:          RW: 0x0', time: at(1970, 6, 23, 5, 38, 28) });
    expect(parseLine(`  [ma mrt 21 17:09:43 2022] ${AMDVI}`, 1)).toMatchObject({ message: AMDVI, time: at(2022, 2, 21, 17, 9, 43) });
    expect(parseLine(`    Dez 08 10:02:17 myhost kernel: ${VTD}`, 1)).toMatchObject({ message: VTD, time: at(1970, 11, 8, 10, 2, 17) });
    expect(parseLine(`    6,339,5140900,-;${VTD}`, 1)).toMatchObject({ message: VTD, time: 5.1409 });
    expect(parseLine(`    2024-11-21T10:02:03+0100 myhost kernel: ${VTD}`, 1)).toMatchObject({ message: VTD, time: NOV21 });
  });

  it('indented continuation lines keep their blanks', () => {
    for (const m of ['    FSR    = 00000402 [TF ], SID=0x19c3', '\t0x0000020100000000', '   [fault reason 0x06] PTE Read access is not set']) {
      expect(parseLine(m, 1).message, m).toBe(m);
    }
  });
});

describe('published excerpts (test/fixtures/real-logs/prefixes.txt)', () => {
  it('a Qualcomm ramdump listing: "0x<record> |   <stamp>:   <message>"', () => {
    const l = parseLine('0x000000000277BD84 |   1263.480593:   arm-smmu 15000000.iommu: FSR    = 00000402 [TF ], SID=0x19c3', 1);
    expect(l).toMatchObject({ message: 'arm-smmu 15000000.iommu: FSR    = 00000402 [TF ], SID=0x19c3', time: 1263.480593 });
    const recs = scan('prefixes.txt', 'qualcomm/fastrpc/issues/353');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'arm-smmu', line: 1, time: 1263.468579, iommu: '15000000.iommu', iova: '0xfd7ff000', contextBank: 10, streamId: '0x19c3',
      registers: { fsr: '0x402', fsynr0: '0x540003', cbfrsynra: '0x19c3' },
    });
  });
});

describe('hostile input', () => {
  it('stays linear on a megabyte of each prefix\'s characters', () => {
    const M = 1_000_000;
    const lines = [
      '[' + ' '.repeat(M), '[<' + ' '.repeat(M), '[ 1.5 <' + ' '.repeat(M), '[Do Nov ' + '1'.repeat(M), '[' + 'a '.repeat(M / 2) + ']',
      '[ 1.5]' + '[  T1]'.repeat(M / 6), '{' + '"MESSAGE":'.repeat(M / 10), '{"MESSAGE":"' + '\\"'.repeat(M / 2),
      '{"MESSAGE":[' + '1,'.repeat(M / 2), '\x1e{'.repeat(M / 2), 'data: {'.repeat(M / 7), '1,'.repeat(M / 2), '6,1,1,' + ','.repeat(M),
      '1 2024-11-21T10:02:03Z ' + 'h '.repeat(M / 2), '<3>1 2024-11-21T10:02:03Z h k - - ' + '['.repeat(M), '11-21 10:02:03.123 ' + ' '.repeat(M),
      '11-21 10:02:03.123     0     0 E ' + 'x'.repeat(M), '1604671188.123456 ' + 'h'.repeat(M), 'Dez ' + '0'.repeat(M),
      'Dez 08 10:02:17 ' + 'h'.repeat(M), 'Sat 2024-11-21 10:02:03 ' + 'C'.repeat(M), ' ' + 'A'.repeat(M) + '=',
      '    MESSAGE=' + 'x'.repeat(M), '0x1 | ' + ' '.repeat(M), '0x' + 'f'.repeat(M), ' '.repeat(10) + '['.repeat(M),
      '    ' + '1,'.repeat(M / 2), '  ' + 'Dez 08 '.repeat(M / 7), ' '.repeat(M) + 'Dez 08 10:02:17 h kernel: x', '\t"MESSAGE" : "' + 'x'.repeat(M), 'MESSAGE='.repeat(M / 8), 'ab '.repeat(M / 3),
    ];
    const t0 = performance.now();
    for (const l of lines) parseLine(l, 1);
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});
