import { describe, expect, it } from 'vitest';
import { scanText } from '../../../src/core/logs/scanner';
import type { FaultRecord } from '../../../src/core/logs/record';
import { corpusAvailable, corpusEntries } from '../../helpers/corpus';

/** printf for the conversions the SMMU drivers use, so test lines come from the exact C literals. */
function cfmt(fmt: string, ...args: (number | bigint | string)[]): string {
  let i = 0;
  return fmt.replace(/%([#0-9.]*)(hx|llx|lx|x|X|d|u|s|pa|pK)/g, (_m, flags: string, conv: string) => {
    const a = args[i++]!;
    if (conv === 's') return String(a);
    if (conv === 'd' || conv === 'u') return String(a);
    if (conv === 'pa' || conv === 'pK') return '0x' + BigInt(a).toString(16).padStart(16, '0');
    let s = BigInt(a).toString(16);
    if (conv === 'X') s = s.toUpperCase();
    const w = /0?(\d+)/.exec(flags.replace('#', '').replace('.', ''));
    if (w) s = s.padStart(Number(w[1]), '0');
    return (flags.includes('#') ? '0x' : '') + s;
  }).replace(/\n$/, '');
}

const armSmmu = (recs: FaultRecord[]) => recs.filter((r) => r.family === 'arm-smmu' && r.kind !== 'storm-suppressed');
const scan = (text: string) => armSmmu(scanText(text));

// Exact C literals from the reference (§1.7, 1.8, 1.10).
const F_V49_UNEXPECTED = 'Unexpected context fault (fsr 0x%x)\n';
const F_V49 = 'Unhandled context fault: iova=0x%08lx, fsynr=0x%x, cb=%d\n';
const F_V410 = 'Unhandled context fault: fsr=0x%x, iova=0x%08lx, fsynr=0x%x, cb=%d\n';
const F_V52 = 'Unhandled context fault: fsr=0x%x, iova=0x%08lx, fsynr=0x%x, cbfrsynra=0x%x, cb=%d\n';
const F_611_FSR = 'FSR    = %08x [%s%sFormat=%u%s%s%s%s%s%s%s%s], SID=0x%x\n';
const F_611_FSYNR0 = 'FSYNR0 = %08x [S1CBNDX=%u%s%s%s%s%s%s PLVL=%u]\n';
const F_QCOM_IOMMU = 'Unhandled context fault: fsr=0x%x, ' + 'iova=0x%016llx, fsynr=0x%x, cb=%d\n';
const F_GLOBAL = 'Unexpected global fault, this could be serious\n';
const F_GLOBAL_REGS = '\tGFSR 0x%08x, GFSYNR0 0x%08x, GFSYNR1 0x%08x, GFSYNR2 0x%08x\n';
const F_BLOCKED = 'Blocked unknown Stream ID 0x%hx; boot with "arm-smmu.disable_bypass=0" to allow, but this may have security implications\n';
const DEV = 'arm-smmu 15000000.iommu: ';

describe('arm-smmu: real corpus lines', () => {
  it.skipIf(!corpusAvailable())('every context and global fault entry of arm-smmu.txt', () => {
    const entries = corpusEntries('arm-smmu.txt');
    const bySource = (s: string) => entries.find((e) => e.source.includes(s))!;

    // LS1028 6.12.22: one context fault, the call trace after it is not part of the record.
    const ls = scan(bySource('openwrt/mt76/issues/1007').lines.join('\n'));
    expect(ls).toHaveLength(1);
    expect(ls[0]).toMatchObject({
      family: 'arm-smmu', host: 'linux', kind: 'context-fault', iommu: '5000000.iommu',
      iova: '0xff3cf000', contextBank: 10, streamId: '0x409', access: 'read',
      registers: { fsr: '0x402', fsynr0: '0x300003', cbfrsynra: '0x409' },
      reason: { code: 2, name: 'TF' },
    });
    expect(ls[0]!.endLine).toBeUndefined();
    expect((ls[0]!.decoded as any).fsynr0.PLVL).toBe('L3');
    expect((ls[0]!.decoded as any).fsynr0.S1CBNDX).toBe(0x30);
    expect((ls[0]!.decoded as any).fsr.FORMAT).toBe('AArch64');

    // ZynqMP macb: two identical faults between driver lines.
    const z = scan(bySource('sashal@kernel.org').lines.join('\n'));
    expect(z).toHaveLength(2);
    for (const r of z) {
      expect(r).toMatchObject({ iommu: 'fd800000.smmu', iova: '0x3165687460', contextBank: 1, streamId: '0x877', access: 'read', reason: { name: 'TF' } });
    }
    expect(z[0]!.time).toBeCloseTo(74.959989, 6);

    // Jetson TX2 stmmac: iova printed as 0x00000000, WNR set.
    const tx2 = scan(bySource('ae11deb4').lines.join('\n'));
    expect(tx2).toEqual([expect.objectContaining({ iova: '0x0', contextBank: 0, streamId: '0x14', access: 'write', registers: { fsr: '0x402', fsynr0: '0x1c0011', cbfrsynra: '0x14' } })]);

    // SM8450 PCIe
    const sm = scan(bySource('741887b5').lines.join('\n'));
    expect(sm).toEqual([expect.objectContaining({ iommu: '15000000.iommu', iova: '0x91517088', streamId: '0x1c00', contextBank: 5 })]);

    // TX2 global fault: two lines -> one record
    const g = scan(bySource('8756d681').lines.join('\n'));
    expect(g).toHaveLength(1);
    expect(g[0]).toMatchObject({
      kind: 'global-fault', iommu: '12000000.iommu', streamId: '0x14', endLine: 2,
      registers: { gfsr: '0x2', gfsynr0: '0x0', gfsynr1: '0x14', gfsynr2: '0x0' },
      reason: { name: 'USF' }, access: 'read',
    });
  });

  it.skipIf(!corpusAvailable())('Tegra global fault storm with ratelimit lines between header and registers', () => {
    const e = corpusEntries('arm-smmu.txt').find((x) => x.source.includes('CAHMsQjWSy3ck'))!;
    const recs = scan(e.lines.join('\n'));
    const headers = e.lines.filter((l) => l.includes('Unexpected global fault')).length;
    expect(headers).toBe(31);
    expect(recs).toHaveLength(headers);
    for (const r of recs) {
      expect(r.kind).toBe('global-fault');
      expect(r.registers?.gfsr).toBe('0x80000002');
      expect(r.reason).toMatchObject({ name: 'USF', code: 2 });
      expect(r.endLine).toBeGreaterThan(r.line);
      expect(r.streamId).toBe('0x' + BigInt(r.registers!.gfsynr1!).toString(16));
    }
    // line 102 of the file is "callbacks suppressed", between header (103) and registers (105)
    const storm = recs.find((r) => r.registers?.gfsynr1 === '0x1409' && r.time! > 10)!;
    expect(storm.endLine! - storm.line).toBe(2);
    expect((storm.decoded as any).gfsr.MULTI).toBe(true);
  });

  it.skipIf(!corpusAvailable())('qcom_iommu storm, including lines pasted run together', () => {
    const e = corpusEntries('arm-smmu.txt').find((x) => x.source.includes('msm8953-mainline'))!;
    const recs = scan(e.lines.join('\n'));
    // lines 1 and 3 of the excerpt carry faults pasted run together with other lines
    expect(recs.map((r) => [r.iova, r.line])).toEqual([['0x1047dc0', 1], ['0x1047de0', 2], ['0x1047e00', 3], ['0x1047e20', 5]]);
    for (const r of recs) {
      expect(r).toMatchObject({ iommu: '1c48000.iommu-ctx', contextBank: 0, access: 'read', registers: { fsr: '0x40000202', fsynr0: '0x3' }, reason: { name: 'TF' } });
      expect((r.decoded as any).fsr.SS).toBe(true);
    }
  });

  it.skipIf(!corpusAvailable())('Xen smmu lines of xen.txt, both eras, and the mail-wrapped GFSR line', () => {
    const recs = corpusEntries('xen.txt').flatMap((e) => scan(e.lines.join('\n')));
    expect(recs).toHaveLength(3);
    expect(recs[0]).toMatchObject({
      host: 'xen', kind: 'context-fault', iommu: '/smmu@fd800000', iova: '0x8424cb148', contextBank: 0,
      registers: { fsr: '0x402', fsynr0: '0xb0001' }, reason: { name: 'TF' }, access: 'read',
    });
    expect(recs[0]!.streamId).toBeUndefined();
    expect(recs[1]).toMatchObject({ host: 'xen', iommu: '/axi/smmu@fd800000', iova: '0xf9030040', access: 'write', registers: { fsynr0: '0x12' } });
    expect(recs[2]).toMatchObject({
      host: 'xen', kind: 'global-fault', iommu: '/axi/smmu@fd800000', streamId: '0x871', endLine: 2,
      registers: { gfsr: '0x2', gfsynr0: '0x0', gfsynr1: '0x871', gfsynr2: '0x0' }, reason: { name: 'USF' },
    });
  });
});

describe('arm-smmu: every print era, built from the C format strings', () => {
  it('global fault mailed as quoted-printable: soft break inside "serious" and inside a register name', () => {
    const dev = 'arm-smmu 2b400000.iommu: ';
    const recs = scanText([
      dev + 'Unexpected global fault, this could be seri=',
      'ous',
      dev + cfmt('\tGFSR 0x%08x, GFSYNR0 0x%08x, GFSYNR=', 0x2, 0x2),
      cfmt('1 0x%08x, GFSYNR2 0x%08x', 0x417, 0),
    ].join('\n')).filter((r) => r.family === 'arm-smmu');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ kind: 'global-fault', line: 1, endLine: 4, streamId: '0x417', registers: { gfsr: '0x2', gfsynr1: '0x417', gfsynr2: '0x0' }, reason: { name: 'USF' } });
  });

  it('downstream head retyped without "!": bare register lines right after it join it, a prefixed line ends that', () => {
    const dev = 'arm-smmu 15000000.apps-smmu: ';
    const recs = scanText([
      dev + 'Unhandled arm-smmu context fault from a600000.dwc3',
      'FAR 0x00000000efbb0000',
      '> FSR 0x40000408 [PF W SS]',
      dev + cfmt('FSYNR0    = 0x%x\n', 0x300013),
      'FSYNR1 0x1',
    ].join('\n')).filter((r) => r.family === 'arm-smmu');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ line: 1, endLine: 4, device: 'a600000.dwc3', iova: '0xefbb0000', access: 'write', registers: { far: '0xefbb0000', fsr: '0x40000408', fsynr0: '0x300013' }, reason: { name: 'PF' } });
    expect(recs[0]!.registers!.fsynr1).toBeUndefined();
  });

  it('≤ v4.9: "Unexpected context fault" then the iova line, one record', () => {
    const text = [
      DEV + cfmt(F_V49_UNEXPECTED, 0x404),
      'some-other 1.dev: unrelated line',
      DEV + cfmt(F_V49, 0x12345000, 0x10, 3),
    ].join('\n');
    const [r, ...more] = scan(text);
    expect(more).toHaveLength(0);
    expect(r).toMatchObject({ line: 1, endLine: 3, iova: '0x12345000', contextBank: 3, access: 'write', registers: { fsr: '0x404', fsynr0: '0x10' }, reason: { name: 'AFF', code: 4 } });
  });

  it('≤ v4.9: the iova line alone (FSR not in FSR_IGN) is a record without fsr', () => {
    const [r] = scan(DEV + cfmt(F_V49, 0xdead0000, 0x0, 1));
    expect(r).toMatchObject({ iova: '0xdead0000', contextBank: 1, access: 'read', registers: { fsynr0: '0x0' } });
    expect(r!.reason).toBeUndefined();
  });

  it('≤ v4.9: "Unexpected context fault" alone', () => {
    const recs = scan([DEV + cfmt(F_V49_UNEXPECTED, 0x20), DEV + cfmt(F_V410, 0x2, 0x1000, 0, 0)].join('\n'));
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ registers: { fsr: '0x20' }, reason: { name: 'TLBMCF' } });
    expect(recs[1]).toMatchObject({ registers: { fsr: '0x2' }, iova: '0x1000' });
  });

  it('v4.10 … v5.1 (and Xen ≥ 4.12 text)', () => {
    const [r] = scan(DEV + cfmt(F_V410, 0x408, 0xffff0000, 0x51, 2));
    expect(r).toMatchObject({ iova: '0xffff0000', contextBank: 2, access: 'write', reason: { name: 'PF', code: 8 }, registers: { fsr: '0x408', fsynr0: '0x51' } });
    expect((r!.decoded as any).fsynr0).toMatchObject({ WNR: true, PNU: false, PLVL: 'L1' });
  });

  it('v5.2 … v6.10 (also NVIDIA): cbfrsynra gives the stream ID', () => {
    const [r] = scan('arm-smmu 12000000.iommu: ' + cfmt(F_V52, 0x80000402, 0x8000a000, 0x0, 0x1a0019, 7));
    expect(r).toMatchObject({ iommu: '12000000.iommu', streamId: '0x19', contextBank: 7, reason: { name: 'TF' } });
    expect((r!.decoded as any).cbfrsynra).toEqual({ SSD: 0x1a, SID: 0x19 });
    expect((r!.decoded as any).fsr.MULTI).toBe(true);
  });

  it('v6.11+: three lines assembled, with another CPU\'s print and a call trace between', () => {
    const fsr = 0x40000402, fsynr0 = 0x00300053, cbfr = 0x19c3;
    const text = [
      `[  10.000001] ${DEV}${cfmt(F_V52, fsr, 0x1234567000, fsynr0, cbfr, 4)}`,
      '[  10.000002] usb 1-1: new high-speed USB device number 2',
      `[  10.000003] ${DEV}${cfmt(F_611_FSR, fsr, 'SS ', '', 2, '', '', '', '', '', '', '', ' TF', cbfr)}`,
      ' dump_backtrace+0x98/0x120',
      `[  10.000004] ${DEV}${cfmt(F_611_FSYNR0, fsynr0, 0x30, '', '', '', ' IND', '', ' WNR', 3)}`,
      '[  10.000005] mydriver 1.dev: next thing',
    ].join('\n');
    const recs = scan(text);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 1, endLine: 5, time: 10.000001, iova: '0x1234567000', contextBank: 4, streamId: '0x19c3',
      registers: { fsr: '0x40000402', fsynr0: '0x300053', cbfrsynra: '0x19c3' }, access: 'write',
    });
    expect((recs[0]!.decoded as any).fsrLabels).toBe('SS Format=2 TF');
    expect(cfmt(F_611_FSR, 0x402, '', '', 2, '', '', '', '', '', '', '', ' TF', 0x19c3)).toBe('FSR    = 00000402 [Format=2 TF], SID=0x19c3');
  });

  it('6.11-rc: the FSR/FSYNR0 pair alone (first line was dev_dbg) is one record', () => {
    const text = [
      DEV + cfmt(F_611_FSR, 0x402, '', '', 2, '', '', '', '', '', '', '', ' TF', 0x19c3),
      DEV + cfmt(F_611_FSYNR0, 0x300003, 0x30, '', '', '', '', '', '', 3),
    ].join('\n');
    const recs = scan(text);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ kind: 'context-fault', iommu: '15000000.iommu', endLine: 2, streamId: '0x19c3', access: 'read', registers: { fsr: '0x402', fsynr0: '0x300003' }, reason: { name: 'TF' } });
    expect(recs[0]!.iova).toBeUndefined();
  });

  it('v6.11+: instruction fetch (IND, not WNR) is exec', () => {
    const text = [DEV + cfmt(F_V52, 0x8, 0x4000, 0x41, 0x5, 0), DEV + cfmt(F_611_FSR, 0x8, '', '', 0, '', '', '', '', '', ' PF', '', '', 0x5), DEV + cfmt(F_611_FSYNR0, 0x41, 0, '', '', '', ' IND', '', '', 1)].join('\n');
    const [r] = scan(text);
    expect(r).toMatchObject({ access: 'exec', reason: { name: 'PF' }, endLine: 3 });
    expect((r!.decoded as any).fsr.FORMAT).toBe('AArch32-S');
  });

  it('a new fault from the same SMMU closes the previous record', () => {
    const text = [DEV + cfmt(F_V52, 0x402, 0x1000, 0, 0x10, 0), DEV + cfmt(F_V52, 0x402, 0x2000, 0, 0x11, 0)].join('\n');
    const recs = scan(text);
    expect(recs.map((r) => [r.line, r.endLine, r.iova, r.streamId])).toEqual([[1, undefined, '0x1000', '0x10'], [2, undefined, '0x2000', '0x11']]);
  });

  it('Qualcomm TBU debug lines fold into the record (6.10 "[TF ]" and 6.11+ styles)', () => {
    const text = [
      'arm-smmu 15000000.iommu: Unhandled context fault: fsr=0x402, iova=0x00001000, fsynr=0x1, cbfrsynra=0x19c3, cb=2',
      'arm-smmu 15000000.iommu: FSR    = 00000402 [TF ], SID=0x19c3',
      'arm-smmu 15000000.iommu: soft iova-to-phys=0x0000000000000000',
      'arm-smmu 15000000.iommu: SOFTWARE TABLE WALK FAILED! Looks like 3d00000.gpu accessed an unmapped address!',
      'arm-smmu 15000000.iommu: hard iova-to-phys (ATOS) failed',
    ].join('\n');
    const [r, ...rest] = scan(text);
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({ endLine: 5, streamId: '0x19c3', contextBank: 2, reason: { name: 'TF' } });
    expect(r!.decoded).toMatchObject({ softIovaToPhys: '0x0', softwareWalkFailed: '3d00000.gpu', atosFailed: true });
    const [h] = scan([text.split('\n')[0]!, 'arm-smmu 15000000.iommu: hard iova-to-phys (ATOS)=0x0000000081234000'].join('\n'));
    expect(h!.decoded).toMatchObject({ hardIovaToPhys: '0x81234000' });
  });

  it('qcom_iommu (qcom,msm-iommu-v1): 64-bit iova, no cbfrsynra', () => {
    const [r] = scan('qcom-iommu-ctx 1c48000.iommu-ctx: ' + cfmt(F_QCOM_IOMMU, 0x40000202, 0x1047dc0n, 0x3, 0));
    expect(r).toMatchObject({ iommu: '1c48000.iommu-ctx', iova: '0x1047dc0', contextBank: 0, reason: { name: 'TF' } });
    expect(r!.streamId).toBeUndefined();
  });

  it('Qualcomm downstream print_fault_regs: one record from all the register lines', () => {
    const d = 'arm-smmu 15000000.apps-smmu: ';
    const text = [
      d + 'Unhandled arm-smmu context fault from 1c00000.qcom,pcie!',
      d + 'FAR    = 0x00000000deadb000',
      d + 'PAR    = 0x0000000000000000',
      d + 'FSR    = 0x40000402 [TF W SS ]',
      d + 'FSYNR0    = 0x200011',
      d + 'FSYNR1    = 0x2a051',
      d + 'context bank#    = 0x9',
      d + 'TTBR0  = 0x0000000123456000',
      d + 'SCTLR  = 0x000003e3 ACTLR  = 0x00000003',
      d + 'CBAR  = 0x00030003',
      d + 'MAIR0   = 0xf404ff44 MAIR1   = 0x0000efe4',
      d + 'SID = 0x1c01',
      d + 'Client info: BID=0x5, PID=0x0, MID=0x51',
      d + 'soft iova-to-phys=0x0000000000000000',
      d + 'hard iova-to-phys (ATOS)=0x0000000000000000',
      'other 1.x: not ours',
    ].join('\n');
    const recs = scan(text);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      iommu: '15000000.apps-smmu', device: '1c00000.qcom,pcie', iova: '0xdeadb000', contextBank: 9, streamId: '0x1c01',
      access: 'write', endLine: 15, reason: { name: 'TF' },
      registers: { far: '0xdeadb000', par: '0x0', fsr: '0x40000402', fsynr0: '0x200011', fsynr1: '0x2a051', ttbr0: '0x123456000', sctlr: '0x3e3', actlr: '0x3', cbar: '0x30003', mair0: '0xf404ff44', mair1: '0xefe4' },
    });
    expect(recs[0]!.decoded).toMatchObject({ client: { bid: 5, pid: 0, mid: 0x51 }, fsynr1: { BID: 5, PID: 0, MID: 0x51 }, sctlr: { M: true, CFIE: true, CFCFG: true } });
  });

  it('old Qualcomm msm_iommu print_ctx_regs (legacy FSR layout)', () => {
    const text = [
      'msm_iommu: Unexpected IOMMU page fault!',
      'msm_iommu: base = fd000000',
      'msm_iommu: Fault occurred in context 1.',
      'msm_iommu: Interesting registers:',
      'msm_iommu: FAR    = 40001000    PAR    = 00000000',
      'msm_iommu: FSR    = 00000020 [HTWDEEF ]',
      'msm_iommu: FSYNR0 = 00000010    FSYNR1 = 00000000',
      'msm_iommu: TTBR0  = 8f000000    TTBR1  = 00000000',
      'msm_iommu: SCTLR  = 00000001    ACTLR  = 00000000',
      'msm_iommu: PRRR   = 00000000    NMRR   = 00000000',
    ].join('\n');
    const [r, ...rest] = scan(text);
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({ contextBank: 1, iova: '0x40001000', endLine: 10, access: 'write', reason: { name: 'HTWDEEF' } });
    expect(r!.registers).toMatchObject({ msm_iommu_fsr: '0x20', fsynr0: '0x10', ttbr0: '0x8f000000', prrr: '0x0', nmrr: '0x0' });
    expect(r!.registers!.fsr).toBeUndefined();
    // the register is renamed when it is read, after the lines before it (the order --json prints)
    expect(Object.keys(r!.registers!)).toEqual(['far', 'par', 'msm_iommu_fsr', 'fsynr0', 'fsynr1', 'ttbr0', 'ttbr1', 'sctlr', 'actlr', 'prrr', 'nmrr']);
  });

  it('msm_iommu v1/v2 downstream: name, context and the one-line pairs', () => {
    const text = [
      'Unexpected IOMMU page fault!',
      'name = mdp_iommu',
      'context = mdp_0 (2)',
      'fsr=0x402, iova=0x0badf000, fsynr=0x1, cb=2',
    ].join('\n');
    const [r] = scan(text);
    expect(r).toMatchObject({ iommu: 'mdp_iommu', device: 'mdp_0', contextBank: 2, iova: '0xbadf000', reason: { name: 'TF' }, registers: { fsr: '0x402' } });
  });

  it('global fault: header + registers; "Blocked unknown Stream ID" (USF)', () => {
    const g = scan([DEV + cfmt(F_GLOBAL), DEV + cfmt(F_GLOBAL_REGS, 0x4, 0xa, 0x20, 0)].join('\n'));
    expect(g).toEqual([expect.objectContaining({ kind: 'global-fault', endLine: 2, streamId: '0x20', access: 'write', reason: expect.objectContaining({ name: 'SMCF' }) })]);
    expect((g[0]!.decoded as any).gfsynr0).toMatchObject({ WNR: true, IND: true });

    const b = scan([DEV + cfmt(F_BLOCKED, 0x1c0), DEV + cfmt(F_GLOBAL_REGS, 0x2, 0x0, 0x101c0, 0)].join('\n'));
    expect(b).toHaveLength(1);
    expect(b[0]).toMatchObject({ kind: 'global-fault', streamId: '0x1c0', reason: { name: 'USF', code: 2 }, endLine: 2 });
    const alone = scan(DEV + cfmt(F_BLOCKED, 0x1c0));
    expect(alone[0]).toMatchObject({ streamId: '0x1c0', reason: { name: 'USF' } });
  });

  it('Xen ≤ 4.11 and ≥ 4.12 context faults, and the PCI-named prefix', () => {
    const a = scan('(XEN) smmu: /smmu@fd800000: ' + cfmt(F_V49, 0x1000, 0x11, 1));
    expect(a[0]).toMatchObject({ host: 'xen', iommu: '/smmu@fd800000', iova: '0x1000', contextBank: 1, access: 'write' });
    const b = scan('(XEN) smmu: /smmu@fd800000: ' + cfmt(F_V410, 0x402, 0x2000, 0x1, 0));
    expect(b[0]).toMatchObject({ host: 'xen', registers: { fsr: '0x402' }, reason: { name: 'TF' } });
    const g = scan(['(XEN) smmu: /smmu@fd800000: ' + cfmt(F_GLOBAL), '(XEN) smmu: /smmu@fd800000: ' + cfmt(F_GLOBAL_REGS, 2, 0, 0x871, 0)].join('\n'));
    expect(g).toEqual([expect.objectContaining({ host: 'xen', kind: 'global-fault', endLine: 2, streamId: '0x871' })]);
    const p = scan('(XEN) smmu: 0000:00:01.0: ' + cfmt(F_V410, 0x402, 0x3000, 0x1, 0));
    expect(p[0]).toMatchObject({ host: 'xen', device: '0000:00:01.0', iova: '0x3000' });
    expect(p[0]!.iommu).toBeUndefined();
  });

  it('NVIDIA Tegra downstream print (smmu index, decimal sid with its name, page-table entries), also wrapped', () => {
    const F_T19X = 'Unhandled context fault: smmu%d, iova=0x%08lx, fsynr=0x%x, cb=%d, sid=%d(0x%x - %s), pgd=%llx, pud=%llx, pmd=%llx, pte=%llx\n';
    const line = cfmt(F_T19X, 1, 0x2d8bf8000n, 0x200011, 3, 20, 20, 'SDMMCRA', 0x1234000003n, 0x1234000003n, 0x1235000003n, 0);
    const one = scan('arm-smmu 12000000.iommu: ' + line);
    expect(one[0]).toMatchObject({
      iova: '0x2d8bf8000', contextBank: 3, streamId: '0x14', access: 'write',
      decoded: { pageTableEntries: { pgd: '0x1234000003', pmd: '0x1235000003', pte: '0x0' } },
    });
    const cut = line.indexOf(' iova=');
    const wrapped = scan(['> arm-smmu 12000000.iommu: ' + line.slice(0, cut), '> ' + line.slice(cut + 1)].join('\n'));
    expect(wrapped).toHaveLength(1);
    expect(wrapped[0]).toMatchObject({ line: 1, endLine: 2, iova: '0x2d8bf8000', contextBank: 3, streamId: '0x14' });
  });

  it('never throws and stays fast on hostile lines', () => {
    const junk = [
      'arm-smmu ' + 'a'.repeat(200000) + ': Unhandled context fault: fsr=0x' + 'f'.repeat(100000),
      'Unhandled context fault: ' + 'fsr=0x1, '.repeat(50000),
      'arm-smmu x: FSR    = ' + '0'.repeat(100000),
      'arm-smmu x: Unexpected global fault, this could be serious',
      'arm-smmu x:         GFSR ' + '0x1, '.repeat(50000),
      'Unexpected IOMMU page fault!\n' + 'name = '.repeat(10000),
      // wrapped, quoted and quoted-printable paths
      '>'.repeat(100000) + ' arm-smmu 1.iommu: Unhandled context fault: fsr=0x402,',
      '> ' + 'iova=0x1, '.repeat(50000),
      'arm-smmu 1.iommu: Unhandled context fault:' + ' '.repeat(100000),
      '=3D'.repeat(100000) + '==',
      'x '.repeat(100000) + 'a b.c: Unhandled context fault',
      '[  T1] '.repeat(50000) + 'arm-smmu 1.iommu: FAR    = ' + '0'.repeat(100000),
      'arm-smmu 1.iommu: FAR    = 0x0000000000001000',
      'arm-smmu 1.iommu: Unhandled context fault: ' + 'iova=0x1,'.repeat(50000),
    ].join('\n');
    const t0 = Date.now();
    expect(() => scanText(junk)).not.toThrow();
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
