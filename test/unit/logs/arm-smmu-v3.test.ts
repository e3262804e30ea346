import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { scanText } from '../../../src/core/logs/scanner';
import type { FaultRecord } from '../../../src/core/logs/record';
import { corpusAvailable, corpusEntries } from '../../helpers/corpus';
import { EVENTS } from '../../../src/core/decode/registers/arm-smmu-v3';

const DEV = 'arm-smmu-v3 arm-smmu-v3.0.auto: ';
/** The raw dump exactly as `dev_info(smmu->dev, "event 0x%02x received:\n")` + 4 × `"\t0x%016llx\n"` print it. */
function rawDump(id: number, dw: readonly bigint[], dev = DEV): string[] {
  return [`${dev}event 0x${id.toString(16).padStart(2, '0')} received:`, ...dw.map((v) => `${dev}\t0x${v.toString(16).padStart(16, '0')}`)];
}
const smmuv3 = (recs: FaultRecord[]) => recs.filter((r) => r.family === 'arm-smmu-v3');
type Ev = Record<string, unknown>;
const ev = (r: FaultRecord) => (r.decoded as { event: Ev }).event;

describe.runIf(corpusAvailable())('arm-smmu-v3: real corpus lines', () => {
  const entries = corpusAvailable() ? corpusEntries('arm-smmu-v3.txt') : [];

  it('CIX Sky1: caller-info prefix, 4-space dwords, two F_TRANSL_FORBIDDEN events', () => {
    // source: radxa-pkg/edk2-cix issue 24 (corpus/arm-smmu-v3.txt entry 1)
    const e = entries[0]!;
    expect(e.source).toContain('edk2-cix');
    const recs = scanText(e.lines.join('\n'));
    expect(recs).toHaveLength(2);
    for (const [i, r] of recs.entries()) {
      expect(r).toMatchObject({
        line: 1 + i * 5, endLine: 5 + i * 5, family: 'arm-smmu-v3', host: 'linux', kind: 'event',
        iommu: 'arm-smmu-v3.0.auto', streamId: '0x100', iova: '0x0', access: 'write',
        registers: { event0: '0x10000000007', event1: '0x0', event2: '0x0', event3: '0x0' },
        reason: { code: 7, name: 'F_TRANSL_FORBIDDEN' },
      });
      expect(r.substreamId).toBeUndefined();
    }
    expect(recs[0]!.time).toBeCloseTo(7.471032, 6);
  });

  it('Kunpeng nested-stage F_TRANSLATION: dwords without TAB, STAG and CLASS decoded', () => {
    const e = entries[1]!;
    expect(e.source).toContain('Nested Stage');
    const [r, ...more] = scanText(e.lines.join('\n'));
    expect(more).toHaveLength(0);
    expect(r).toMatchObject({
      line: 1, endLine: 5, kind: 'event', iommu: 'arm-smmu-v3.2.auto', streamId: '0x7d12', iova: '0xfffef040', access: 'write',
      registers: { event0: '0x7d1200000010', event1: '0x12000000007c', event2: '0xfffef040', event3: '0xfffef000' },
      reason: { code: 0x10, name: 'F_TRANSLATION' },
    });
    expect(ev(r!)).toMatchObject({ stall: false, stag: '0x7c', s2: false, class: 'IN', privileged: false, instruction: false });
    expect(ev(r!).ipa).toBeUndefined(); // stage 1 fault: IPA is UNKNOWN
    expect((r!.decoded as { event1: Ev }).event1).toMatchObject({ STAG: 0x7c, RnW: false, CLASS: 'IN', TTRnW: true });
  });

  it('Hisilicon 5.3: first dword pasted with a space in the middle', () => {
    const e = entries[2]!;
    const [r] = scanText(e.lines.join('\n'));
    expect(r).toMatchObject({
      line: 1, endLine: 5, streamId: '0x180', iova: '0xffffe040', registers: { event0: '0x18000000010', event1: '0x20100000000' },
      reason: { name: 'F_TRANSLATION' },
    });
  });

  it('mail-wrapped CMD_SYNC timeout from the unbind path ("platform" driver prefix)', () => {
    const e = entries[3]!;
    const recs = smmuv3(scanText(e.lines.join('\n')));
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      kind: 'command-error', iommu: 'arm-smmu-v3.0.auto', time: 78.635473,
      registers: { cmdq_prod: '0x146', cmdq_cons: '0x0' }, reason: { name: 'CMD_SYNC_TIMEOUT' }, decoded: { syncAt: '0x146' },
    });
    expect(recs[0]!.endLine).toBe(recs[0]!.line + 1);
  });

  it('every corpus entry yields at least one arm-smmu-v3 record', () => {
    for (const e of entries) expect(smmuv3(scanText(e.lines.join('\n'))).length, e.source).toBeGreaterThan(0);
  });

  it('Xen SMMUv3 lines (corpus/xen.txt): raw event and CMD_SYNC timeouts', () => {
    const xen = corpusEntries('xen.txt').filter((e) => e.lines.some((l) => l.includes('SMMUv3:')));
    expect(xen.length).toBe(2);
    const all = xen.map((e) => smmuv3(scanText(e.lines.join('\n'))));
    // source: xen commit 3a11099edd74 (non-coherent queues), 2-space indented
    expect(all[0]).toHaveLength(2);
    for (const r of all[0]!) expect(r).toMatchObject({ host: 'xen', kind: 'command-error', iommu: '/soc/iommu@fa000000', reason: { name: 'CMD_SYNC_TIMEOUT' } });
    // source: xen-devel "vITS doorbell mapping" series, QEMU virt
    expect(all[1]).toHaveLength(1);
    const r = all[1]![0]!;
    expect(r).toMatchObject({
      line: 1, endLine: 5, host: 'xen', kind: 'event', iommu: '/smmuv3@9050000', streamId: '0x8', iova: '0x8090040', access: 'write',
      registers: { event0: '0x800000010', event1: '0x8000000000', event2: '0x8090040', event3: '0x0' },
      reason: { code: 0x10, name: 'F_TRANSLATION' },
    });
    expect(ev(r)).toMatchObject({ s2: true, class: 'CD', ipa: '0x0' });
    // the SMMUv2 line after "[...]" stays with its own family
    expect(scanText(xen[1]!.lines.join('\n')).map((x) => x.family)).toEqual(['arm-smmu-v3', 'arm-smmu']);
  });
});

describe('arm-smmu-v3: raw dwords built from the record layout, per event ID', () => {
  const SID = 0x1234n;
  const SSID = 0x5n;
  const IOVA = 0xffff800012345678n;
  const D3 = 0x0000000812345ff8n;
  // Stall, STAG 0x2a, PnU, InD, RnW, S2, CLASS = TT
  const D1 = (1n << 31n) | 0x2an | (1n << 33n) | (1n << 34n) | (1n << 35n) | (1n << 39n) | (1n << 40n);

  for (const [k, info] of Object.entries(EVENTS)) {
    const id = Number(k);
    it(`0x${id.toString(16).padStart(2, '0')} ${info.name}`, () => {
      const d0 = (SID << 32n) | (SSID << 12n) | (1n << 11n) | BigInt(id);
      const recs = scanText(rawDump(id, [d0, D1, IOVA, D3]).join('\n'));
      expect(recs).toHaveLength(1);
      const r = recs[0]!;
      expect(r).toMatchObject({
        line: 1, endLine: 5, family: 'arm-smmu-v3', kind: 'event', streamId: '0x1234', substreamId: '0x5',
        reason: { code: id, name: info.name, text: info.text },
        registers: { event0: '0x' + d0.toString(16), event1: '0x' + D1.toString(16), event2: '0xffff800012345678', event3: '0x812345ff8' },
      });
      expect(r.iova).toBe(info.inputAddr ? '0xffff800012345678' : undefined);
      expect(r.access).toBe(info.access ? 'read+exec' : undefined);
      const e = ev(r);
      expect(e.ssv).toBe(true);
      if (info.stall) expect(e).toMatchObject({ stall: true, stag: '0x2a', s2: true, class: 'TT', privileged: true, instruction: true });
      else expect(e.stall).toBeUndefined();
      expect(e.ipa).toBe(info.ipa && info.stall ? '0x812345000' : undefined);
      expect(e.fetchAddr).toBe(info.fetchAddr ? '0x812345ff8' : undefined);
    });
  }

  it('SSV clear: no substreamId, except C_BAD_SUBSTREAMID whose SSID is always valid', () => {
    const noSsv = (id: number) => scanText(rawDump(id, [(0x40n << 32n) | (0x7n << 12n) | BigInt(id), 0n, 0x1000n, 0n]).join('\n'))[0]!;
    expect(noSsv(0x10).substreamId).toBeUndefined();
    expect(noSsv(0x10)).toMatchObject({ streamId: '0x40', iova: '0x1000', access: 'write' });
    expect(noSsv(0x08)).toMatchObject({ substreamId: '0x7', reason: { name: 'C_BAD_SUBSTREAMID' } });
  });

  it('F_PERMISSION on a stage 1 table walk write reports ttdAccess; stage 1 fault has no IPA', () => {
    const d1 = (1n << 40n) | (1n << 35n); // CLASS TT, read, TTRnW = 0 (the walk wrote: HTTU update)
    const r = scanText(rawDump(0x13, [(0x8n << 32n) | 0x13n, d1, 0xdead000n, 0x4000n]).join('\n'))[0]!;
    expect(ev(r)).toMatchObject({ class: 'TT', ttdAccess: 'write', s2: false, stall: false });
    expect(ev(r).ipa).toBeUndefined();
  });

  it('unknown event ID: UNKNOWN, dwords kept', () => {
    const r = scanText(rawDump(0x30, [0x30n, 1n, 2n, 3n]).join('\n'))[0]!;
    expect(r).toMatchObject({ reason: { code: 0x30, name: 'UNKNOWN' }, registers: { event3: '0x3' } });
    expect(r.iova).toBeUndefined();
  });
});

describe('arm-smmu-v3: Linux 6.14+ decoded lines', () => {
  const HDR = 'event: F_TRANSLATION client: 0000:01:00.0 sid: 0x100 ssid: 0x0 iova: 0x90000f040 ipa: 0x0';
  const ATTR = 'unpriv data write s1 "Input address caused fault" stag: 0x0';

  it('raw dump immediately followed by the decoded lines is one record', () => {
    const lines = [
      ...rawDump(0x10, [0x0000010000000010n, 0x0000020000000000n, 0x000000090000f040n, 0n]).map((l, i) => `[  12.${100 + i}] ${l}`),
      `[  12.200] ${DEV}${HDR}`, `[  12.201] ${DEV}${ATTR}`, `[  12.300] nvme nvme0: I/O timeout`,
    ];
    const recs = scanText(lines.join('\n'));
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 1, endLine: 7, kind: 'event', device: '0000:01:00.0', streamId: '0x100', iova: '0x90000f040', access: 'write',
      reason: { code: 0x10, name: 'F_TRANSLATION' }, registers: { event0: '0x10000000010', event2: '0x90000f040' },
    });
    expect(recs[0]!.substreamId).toBeUndefined();
    expect(ev(recs[0]!)).toMatchObject({ class: 'IN', s2: false, stall: false, stag: '0x0', privileged: false });
  });

  it('default and fetch forms close the record after one decoded line', () => {
    const a = scanText([...rawDump(0x02, [0x0000090000000002n, 0n, 0n, 0n]), `${DEV}event: C_BAD_STREAMID client: (unassigned sid) sid: 0x900 ssid: 0x0`, `${DEV}event 0x04 received:`].join('\n'));
    expect(a).toHaveLength(2);
    expect(a[0]).toMatchObject({ endLine: 6, streamId: '0x900', reason: { name: 'C_BAD_STREAMID' } });
    expect(a[0]!.device).toBeUndefined();
    expect(a[1]).toMatchObject({ line: 7, reason: { code: 4, name: 'C_BAD_STE' } });
    const f = scanText([...rawDump(0x09, [0x0000002000001a09n, 0n, 0n, 0x80001040n]), `${DEV}event: F_CD_FETCH client: 0002:03:00.0 sid: 0x20 ssid: 0x1 fetch_addr: 0x80001040`].join('\n'));
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ endLine: 6, device: '0002:03:00.0', substreamId: '0x1', decoded: { event: { fetchAddr: '0x80001040' } } });
  });

  it('decoded lines alone make a record (device from client:)', () => {
    const recs = scanText([`${DEV}${HDR}`, `${DEV}${ATTR}`].join('\n'));
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 1, endLine: 2, family: 'arm-smmu-v3', kind: 'event', iommu: 'arm-smmu-v3.0.auto', device: '0000:01:00.0',
      streamId: '0x100', iova: '0x90000f040', access: 'write', reason: { code: 0x10, name: 'F_TRANSLATION' },
    });
    expect(recs[0]!.registers).toBeUndefined();
    const s2 = scanText([`${DEV}event: F_PERMISSION client: ff100000.gpu sid: 0x3 ssid: 0x2 iova: 0x1000 ipa: 0x80004000`, `${DEV}priv inst read s2 "Stage 1 translation table fetch" ttd_read stall stag: 0x7`].join('\n'))[0]!;
    expect(s2).toMatchObject({ device: 'ff100000.gpu', substreamId: '0x2', access: 'read+exec', reason: { code: 0x13 } });
    expect(ev(s2)).toMatchObject({ s2: true, ipa: '0x80004000', class: 'TT', ttdAccess: 'read', stall: true, stag: '0x7', privileged: true });
  });
});

describe('arm-smmu-v3: truncated and hostile dumps', () => {
  it('2 dword lines then another print: a record with what was read', () => {
    const lines = [...rawDump(0x10, [0x0000004200000010n, 0x0000000800000000n]).slice(0, 3), `${DEV}CMDQ error (cons 0x01000022): Illegal command`];
    const recs = scanText(lines.join('\n'));
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ line: 1, endLine: 3, streamId: '0x42', access: 'read', registers: { event0: '0x4200000010', event1: '0x800000000' }, reason: { name: 'F_TRANSLATION' } });
    expect(recs[0]!.iova).toBeUndefined();
    expect(ev(recs[0]!).truncated).toBe('2 of 4 dwords printed');
    expect(recs[1]).toMatchObject({ line: 4, kind: 'command-error' });
  });

  it('header alone at end of input; header followed by a new header', () => {
    expect(scanText(`${DEV}event 0x10 received:`)[0]).toMatchObject({ kind: 'event', reason: { code: 0x10, name: 'F_TRANSLATION' } });
    const two = scanText([`${DEV}event 0x10 received:`, `${DEV}event 0x04 received:`, `${DEV}\t0x0000000500000004`].join('\n'));
    expect(two.map((r) => [r.line, r.endLine, r.reason?.name, r.streamId])).toEqual([[1, undefined, 'F_TRANSLATION', undefined], [2, 3, 'C_BAD_STE', '0x5']]);
  });

  it('two SMMUs interleaved: dwords go to their own device', () => {
    const B = 'arm-smmu-v3 arm-smmu-v3.1.auto: ';
    const a = rawDump(0x10, [0x0000000100000010n, 0n, 0xa000n, 0n]);
    const b = rawDump(0x10, [0x0000000200000010n, 0n, 0xb000n, 0n], B);
    const mixed = [a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4]];
    const recs = scanText(mixed.join('\n'));
    expect(recs.map((r) => [r.iommu, r.streamId, r.iova])).toEqual([['arm-smmu-v3.0.auto', '0x1', '0xa000'], ['arm-smmu-v3.1.auto', '0x2', '0xb000']]);
  });

  it('hostile lines: linear time, no throw, nothing invented', () => {
    const t0 = Date.now();
    const junk = [
      DEV + 'event 0x' + '1'.repeat(200000) + ' received:',
      'arm-smmu-v3 '.repeat(20000) + ': event 0x10 received:',
      DEV + 'event: ' + 'A'.repeat(100000) + ' client: x sid: 0x1 ssid: 0x0',
      DEV + 'unexpected PRI request received:', DEV + '\tsid 0x' + '0'.repeat(100000),
      DEV + 'unexpected global error reported (0x' + 'f'.repeat(100000),
      DEV + '\t0x' + 'f'.repeat(100000),
    ];
    const recs = scanText(junk.join('\n'));
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(recs.map((r) => r.kind)).toEqual(['page-request']);
    expect(recs[0]!.streamId).toBeUndefined();
  });
});

describe('arm-smmu-v3: GERROR, command queue, queues, PRI', () => {
  it('GERROR CMDQ_ERR then the CMDQ error print with the skipped command', () => {
    // shape from Nicolin Chen's test log in "iommu/arm-smmu-v3: Use arm_smmu_cmdq_build_sync_cmd()" (iommu list)
    const recs = scanText([
      `${DEV}unexpected global error reported (0x00000001), this could be serious`,
      `${DEV}CMDQ error (cons 0x01000022): Illegal command`,
      `${DEV}skipping command in error state:`,
      `${DEV}\t0x0000000000000000`,
      `${DEV}\t0x0000000000000000`,
    ].join('\n'));
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ line: 1, kind: 'global-fault', registers: { gerror: '0x1' }, reason: { code: 1, name: 'CMDQ_ERR' } });
    expect(recs[0]!.endLine).toBeUndefined();
    expect(recs[1]).toMatchObject({
      line: 2, endLine: 5, kind: 'command-error', iommu: 'arm-smmu-v3.0.auto',
      registers: { cmdq_cons: '0x1000022', cmd0: '0x0', cmd1: '0x0' },
      reason: { code: 1, name: 'CERROR_ILL', text: 'Illegal command' },
      decoded: { cmdq_cons: { RD: 0x22, ERR: 'CERROR_ILL' }, command: 'unknown opcode 0x0' },
    });
  });

  it('quoted form with a driver-only prefix and the wrapped "this could be serious"', () => {
    const recs = scanText(['  arm-smmu-v3: unexpected global error reported (0x00000001),', '               this could be serious', '  arm-smmu-v3: CMDQ error (cons 0x01000022): Illegal command'].join('\n'));
    expect(recs.map((r) => [r.kind, r.line, r.endLine, r.iommu])).toEqual([['global-fault', 1, 2, undefined], ['command-error', 3, undefined, undefined]]);
  });

  it('GERROR with SFM and EVTQ abort: the bit lines fold into the record', () => {
    const recs = scanText([
      `${DEV}unexpected global error reported (0x00000104), this could be serious`,
      `${DEV}device has entered Service Failure Mode!`,
      `${DEV}EVTQ write aborted -- events may have been lost`,
      `${DEV}CMDQ error (cons 0x02000010): Abort on command fetch`,
      `${DEV}retrying command fetch`,
    ].join('\n'));
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ endLine: 3, registers: { gerror: '0x104' }, reason: { code: 0x104, name: 'EVTQ_ABT_ERR+SFM_ERR' }, decoded: { printed: ['SFM_ERR', 'EVTQ_ABT_ERR'], gerror: { SFM_ERR: true, EVTQ_ABT_ERR: true, CMDQ_ERR: false } } });
    expect(recs[1]).toMatchObject({ endLine: 5, reason: { code: 2, name: 'CERROR_ABT', text: 'Abort on command fetch' }, decoded: { action: 'retrying command fetch' } });
  });

  it('a GERROR bit line alone; CMD_SYNC timeout with pointers; queue overflows', () => {
    expect(scanText(`${DEV}PRIQ MSI write aborted`)[0]).toMatchObject({ kind: 'global-fault', reason: { code: 0x40, name: 'MSI_PRIQ_ABT_ERR' } });
    expect(scanText(`${DEV}CMD_SYNC timeout at 0x00000120 [hwprod 0x00000121, hwcons 0x03000100]`)[0]).toMatchObject({
      kind: 'command-error', registers: { cmdq_prod: '0x121', cmdq_cons: '0x3000100' }, decoded: { syncAt: '0x120', cmdq_cons: { ERR: 'CERROR_ATC_INV_SYNC', RD: 0x100 } },
    });
    expect(scanText(`${DEV}EVTQ overflow detected -- events lost`)[0]).toMatchObject({ kind: 'queue-error', reason: { name: 'EVTQ_OVERFLOW' } });
    expect(scanText(`${DEV}PRIQ overflow detected -- requests lost`)[0]).toMatchObject({ kind: 'queue-error', reason: { name: 'PRIQ_OVERFLOW' } });
  });

  it('PRI request: the formatted line ("\\tsid 0x%08x.0x%05x: [%u%s] %sprivileged %s%s%s access at iova 0x%016llx")', () => {
    const recs = scanText([`${DEV}unexpected PRI request received:`, `${DEV}\tsid 0x00000100.0x00001: [3L] unprivileged RW access at iova 0x0000000012345000`].join('\n'));
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 1, endLine: 2, kind: 'page-request', streamId: '0x100', substreamId: '0x1', iova: '0x12345000', access: 'read+write',
      decoded: { grpid: 3, last: true, privileged: false, response: 'PRI_RESP_DENY' },
    });
    const noPerm = scanText([`${DEV}unexpected PRI request received:`, `${DEV}\tsid 0x00000008.0x00000: [0] privileged  access at iova 0x0000000000000000`].join('\n'))[0]!;
    expect(noPerm).toMatchObject({ streamId: '0x8', iova: '0x0', decoded: { grpid: 0, last: false, privileged: true } });
    expect(noPerm.access).toBeUndefined();
    expect(noPerm.substreamId).toBeUndefined();
  });

  it('PRI request printed as raw PRI queue dwords', () => {
    const d0 = (1n << 63n) | (1n << 62n) | (1n << 60n) | (0x9n << 32n) | 0x300n;
    const recs = scanText([`${DEV}unexpected PRI request received:`, `${DEV}\t0x${d0.toString(16).padStart(16, '0')}`, `${DEV}\t0x0000000abcdef005`].join('\n'));
    expect(recs[0]).toMatchObject({ endLine: 3, kind: 'page-request', streamId: '0x300', substreamId: '0x9', access: 'read', iova: '0xabcdef000', decoded: { grpid: 5, last: true }, registers: { pri0: '0x' + d0.toString(16) } });
  });

  it('Xen prints the same texts behind "SMMUv3: <node>: "', () => {
    const X = '(XEN) SMMUv3: /smmu@fd800000: ';
    const recs = scanText([`${X}unexpected global error reported (0x00000004), this could be serious`, `${X}EVTQ write aborted -- events may have been lost`, `${X}unexpected PRI request received:`, `${X}\tsid 0x00000010.0x00000: [1L] privileged W access at iova 0x0000000000800000`].join('\n'));
    expect(recs.map((r) => [r.host, r.family, r.kind, r.iommu, r.endLine])).toEqual([
      ['xen', 'arm-smmu-v3', 'global-fault', '/smmu@fd800000', 2],
      ['xen', 'arm-smmu-v3', 'page-request', '/smmu@fd800000', 4],
    ]);
    // quoted without "(XEN)": still Xen's print
    expect(scanText('SMMUv3: /smmuv3@9050000: event 0x10 received:')[0]).toMatchObject({ host: 'xen', iommu: '/smmuv3@9050000' });
  });

  it('printk caller ids and syslog prefixes are tolerated', () => {
    const caller = rawDump(0x10, [0x0000000300000010n, 0n, 0x5000n, 0n]).map((l, i) => `[  100.00${i}][  T${i % 2 ? 77 : 78}] ${l}`);
    expect(scanText(caller.join('\n'))[0]).toMatchObject({ line: 1, endLine: 5, streamId: '0x3', iova: '0x5000', time: 100 });
    const sys = rawDump(0x10, [0x0000000300000010n, 0n, 0x6000n, 0n]).map((l) => `Mar  3 10:00:01 host kernel: ${l}`);
    expect(scanText(sys.join('\n'))[0]).toMatchObject({ endLine: 5, iova: '0x6000', iommu: 'arm-smmu-v3.0.auto' });
  });

  it('lines of other drivers are not taken', () => {
    expect(scanText('usb 1-1: event 0x10 received:')).toHaveLength(0);
    expect(scanText('foo bar: event: F_TRANSLATION client: x sid: 0x1 ssid: 0x0')).toHaveLength(0);
    // SMMUv3's own queue texts are taken from a companion device too (Tegra241 CMDQV's own queues)
    expect(scanText(['tegra241-cmdqv NVDA200C:00: CMDQ error (cons 0x01000022): Illegal command', 'tegra241-cmdqv NVDA200C:00: skipping command in error state:', 'tegra241-cmdqv NVDA200C:00: \t0x0000000000000046', 'tegra241-cmdqv NVDA200C:00: \t0x0000000000000000'].join('\n'))[0])
      .toMatchObject({ kind: 'command-error', iommu: 'NVDA200C:00', endLine: 4, registers: { cmd0: '0x46' }, decoded: { command: 'CMD_SYNC' } });
  });
});

describe('arm-smmu-v3: mutated prints', () => {
  const base = [
    ...rawDump(0x10, [0x0000010000000810n, 0x0000000880000005n, 0x000000090000f040n, 0n]),
    `${DEV}event: F_TRANSLATION client: 0000:01:00.0 sid: 0x100 ssid: 0x1 iova: 0x90000f040 ipa: 0x0`,
    `${DEV}unpriv data read s1 "Input address caused fault" stall stag: 0x5`,
    `${DEV}unexpected global error reported (0x00000101), this could be serious`,
    `${DEV}CMDQ error (cons 0x01000022): Illegal command`, `${DEV}skipping command in error state:`, `${DEV}\t0x0000000000000041`,
    `${DEV}CMD_SYNC timeout at 0x00000120 [hwprod 0x00000121, hwcons 0x03000100]`,
    `${DEV}unexpected PRI request received:`, `${DEV}\tsid 0x00000100.0x00001: [3L] unprivileged RW access at iova 0x0000000012345000`,
    '(XEN) SMMUv3: /smmuv3@9050000: event 0x10 received:', '(XEN) SMMUv3: /smmuv3@9050000:  0x0000000800000010',
    'virtio_iommu virtio0: page fault from EP 8 at 0x8000 [W]',
  ];
  it('never throw; identifiers stay normalised', () => {
    const mutate = fc.tuple(fc.constantFrom(...base), fc.nat(160), fc.nat(12), fc.constantFrom('', '0x', 'ffffffffffffffffffff', ' ', '\t', ':', '"', '-1', '(XEN) ', 'event: ')).map(([l, a, b, ins]) => {
      const i = Math.min(a, l.length);
      return l.slice(0, i) + ins + l.slice(Math.min(i + b, l.length));
    });
    fc.assert(fc.property(fc.array(mutate, { minLength: 1, maxLength: 14 }), (lines) => {
      for (const r of scanText(lines.join('\n'))) {
        for (const k of ['iova', 'streamId', 'substreamId', 'pasid'] as const) if (r[k] !== undefined) expect(r[k]).toMatch(/^0x(?:0|[1-9a-f][0-9a-f]*)$/);
        if (r.registers) for (const v of Object.values(r.registers)) expect(v).toMatch(/^0x(?:0|[1-9a-f][0-9a-f]*)$/);
        if (r.device !== undefined && /^[0-9a-f]{4}:/.test(r.device)) expect(r.device).toMatch(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/);
        if (r.endLine !== undefined) expect(r.endLine).toBeGreaterThan(r.line);
      }
    }), { numRuns: 800 });
  });
});

describe('arm-smmu-v3: open records and other printers\' lines', () => {
  it('an event stays whole across another device\'s lines, which it does not want', async () => {
    const { armSmmuV3Recognizer } = await import('../../../src/core/logs/families/arm-smmu-v3');
    const { parseLine } = await import('../../../src/core/logs/line');
    const dw = [0x0000eef300000010n, 0x0000020100000000n, 0xda78ddban, 0xf83476dbn];
    const lines = rawDump(0x10, dw);
    const other = 'usb 1-3: new high-speed USB device number 97 using xhci_hcd';
    const recs = smmuv3(scanText([lines[0], lines[1], other, lines[2], other, lines[3], lines[4]].join('\n')));
    expect(recs).toHaveLength(1);
    expect(recs[0]!.registers).toEqual({ event0: '0xeef300000010', event1: '0x20100000000', event2: '0xda78ddba', event3: '0xf83476db' });
    expect(recs[0]!.endLine).toBe(7);
    const more = armSmmuV3Recognizer.recognize(parseLine(lines[0]!, 1))!.more!;
    expect(more.wants!(other)).toBe(false);
    expect(more.wants!(lines[1]!)).toBe(true);
    expect(more.wants!('\x1b[0marm-smmu-v3 arm-smmu-v3.0.auto: \t0x0')).toBe(true);
    expect(more.feed(parseLine(other, 2))).toBe('skip');
  });
});

describe('arm-smmu-v3: Tegra241 CMDQV (tegra241-cmdqv.c)', () => {
  it('error interrupt, both eras: 6.12–6.14 on the SMMU device with one 128-bit map, later on the CMDQV device with four words', () => {
    const recs = smmuv3(scanText([
      DEV + `unexpected error reported. vintf_map: ${'1'.padStart(16, '0')}, vcmdq_map: ${'0'.padStart(16, '0')}${'2'.padStart(16, '0')}`,
      'acpi NVDA200C:00: unexpected error reported. vintf_map: 0000000000000006, vcmdq_map 00000001:00000000:00000000:00000300',
      'unexpected error reported. vintf_map: 0000000000000001, vcmdq_map 00000000:00000000:00000000:00000001',
    ].join('\n')));
    expect(recs).toHaveLength(3);
    expect(recs[0]).toMatchObject({ kind: 'queue-error', iommu: 'arm-smmu-v3.0.auto', registers: { vintf_err_map: '0x1', cmdq_err_map: '0x2' }, decoded: { vintfs: [0], vcmdqs: [1] }, reason: { name: 'CMDQV_ERROR' } });
    expect(recs[0]!.reason!.text).toMatch(/kernel's own/);
    expect(recs[0]!.reason!.text).not.toMatch(/guests/);
    expect(recs[1]).toMatchObject({ iommu: 'NVDA200C:00', registers: { vintf_err_map: '0x6', cmdq_err_map: '0x1000000000000000000000300' }, decoded: { vintfs: [1, 2], vcmdqs: [8, 9, 96] } });
    expect(recs[1]!.reason!.text).toMatch(/guests/);
    // a bare quote (no prefix at all)
    expect(recs[2]).toMatchObject({ decoded: { vintfs: [0], vcmdqs: [0] } });
    expect(recs[2]!.iommu).toBeUndefined();
  });

  it('enable/disable timeouts of each unit, the queue registers after a failed one, an uncleared error at reset', () => {
    const dev = 'tegra241-cmdqv NVDA200C:00: ';
    const recs = smmuv3(scanText([
      dev + 'CMDQV: failed to disable, STATUS=0x00000001',
      dev + 'VINTF0: failed to enable, STATUS=0x00000000',
      dev + 'VINTF0: VCMDQ1/LVCMDQ1: failed to enable, STATUS=0x00000000',
      dev + 'VINTF0: VCMDQ1/LVCMDQ1: GERRORN=0x0, GERROR=0x1, CONS=0x1000007',
      dev + 'VINTF2: VCMDQ17/LVCMDQ1: GERRORN=0x0, GERROR=0x0, CONS=0x0',
      dev + 'VINTF0: VCMDQ3/LVCMDQ3: uncleared error detected, resetting',
    ].join('\n')));
    expect(recs).toHaveLength(6);
    expect(recs[0]).toMatchObject({ kind: 'queue-error', iommu: 'NVDA200C:00', registers: { status: '0x1' }, decoded: { unit: 'CMDQV' }, reason: { name: 'CMDQV_DISABLE_TIMEOUT' } });
    expect(recs[1]).toMatchObject({ decoded: { unit: 'VINTF0', vintf: 0 }, reason: { name: 'CMDQV_ENABLE_TIMEOUT' } });
    expect(recs[2]).toMatchObject({ decoded: { unit: 'VINTF0: VCMDQ1/LVCMDQ1', vintf: 0, vcmdq: 1, lvcmdq: 1 } });
    expect(recs[3]).toMatchObject({
      registers: { vcmdq_gerrorn: '0x0', vcmdq_gerror: '0x1', cmdq_cons: '0x1000007' },
      decoded: { activeErrors: '0x1', cmdq_cons: { RD: 7, ERR: 'CERROR_ILL' } }, reason: { code: 1, name: 'CERROR_ILL' },
    });
    expect(recs[4]).toMatchObject({ decoded: { vintf: 2, vcmdq: 17, lvcmdq: 1, activeErrors: '0x0' }, reason: { name: 'VCMDQ_CONFIG_TIMEOUT' } });
    expect(recs[5]).toMatchObject({ decoded: { vcmdq: 3 }, reason: { name: 'VCMDQ_UNCLEARED_ERROR' } });
  });

  it('look-alike texts of other drivers are not taken', () => {
    expect(scanText('usb 1-1: VINTF0: hello, STATUS=0x1')).toHaveLength(0);
    expect(scanText('foo bar: failed to enable, STATUS=0x00000001')).toHaveLength(0);
    expect(scanText('foo bar: unexpected error reported. code 5')).toHaveLength(0);
  });
});
