/**
 * Real published Arm SMMUv2 and SMMUv3 excerpts from outside ../shared/corpus, batch 4
 * (test/fixtures/real-logs/{arm-smmu,arm-smmu-v3}.txt, corpus format). Each carries the damage
 * it was published with: prints broken before a comma, quoted-printable soft breaks inside a
 * value, TAB-wrapped GFSR lines, printk stamps reflowed onto the line before, bar quoting.
 */
import { describe, expect, it } from 'vitest';
import { scan } from '../../helpers/real-logs';

const V2 = 'arm-smmu.txt';
const V3 = 'arm-smmu-v3.txt';
const TF = { code: 2, name: 'TF' };
const USF = { code: 2, name: 'USF' };

describe('real logs 4: Arm SMMUv2 context faults', () => {
  it('6.11+ print broken before the comma of ",iova=": one record with the wrapped fields', () => {
    const recs = scan(V2, 'index id 43479349422');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'arm-smmu', host: 'linux', kind: 'context-fault', line: 3, endLine: 7, time: 157.563136,
      iommu: '15000000.iommu', iova: '0xd65504710', contextBank: 6, streamId: '0x0', access: 'write', reason: TF,
      registers: { fsr: '0x402', fsynr0: '0x100011', cbfrsynra: '0x0' },
    });
  });

  it('quoted v5.2 print at IOVA 0 on MSM8998', () => {
    const recs = scan(V2, 'index id 27517316442');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 1, time: 20.501062, iommu: '16c0000.iommu', iova: '0x0', contextBank: 0, streamId: '0x1900',
      access: 'read', reason: TF, registers: { fsr: '0x402', fsynr0: '0x1', cbfrsynra: '0x1900' },
    });
    expect(recs[0]!.endLine).toBeUndefined();
  });

  it('quoted-printable soft break inside the IOVA value ("0x=" + "01003000"), in a diff comment', () => {
    const recs = scan(V2, 'index id 13534157291');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 2, endLine: 3, iommu: 'b40000.iommu', iova: '0x1003000', contextBank: 0, streamId: '0x0',
      access: 'write', reason: { code: 8, name: 'PF' },
      registers: { fsr: '0x408', fsynr0: '0x13', cbfrsynra: '0x0' },
    });
  });
});

describe('real logs 4: Arm SMMUv2 context faults, more prefixes', () => {
  it('journalctl line with its date cut off ("mobian kernel: ")', () => {
    const recs = scan(V2, 'index id 70936864184');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      host: 'linux', iommu: '15000000.iommu', iova: '0x1fffff000', contextBank: 18, streamId: '0x5a1', access: 'read',
      reason: TF, registers: { fsr: '0x402', fsynr0: '0x780001', cbfrsynra: '0x5a1' },
    });
    expect(recs[0]!.time).toBeUndefined();
  });

  it('untimed downstream print after a debug line: FAR and the bare SID line join it', () => {
    const recs = scan(V2, 'index id 66213972233');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 2, endLine: 5, iommu: '15000000.apps-smmu', iova: '0xa58c00d8', contextBank: 5, streamId: '0x40',
      access: 'read', reason: TF, registers: { fsr: '0x40000402', fsynr0: '0x360003', far: '0xa58c00d8' },
    });
  });

  it('v4.x print (no fsr) inside a C comment', () => {
    const recs = scan(V2, 'index id 10905099973');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      kind: 'context-fault', time: 1092.12504, iommu: '5000000.iommu', iova: '0x6030040', contextBank: 0,
      access: 'write', registers: { fsynr0: '0x12' },
    });
    expect(recs[0]!.reason).toBeUndefined();
  });

  it('print quoted as Markdown inline code, fields without commas', () => {
    const recs = scan(V2, 'index id 70153789147');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      iommu: '15000000.iommu', iova: '0xffc00000', contextBank: 11, streamId: '0x1401', registers: { cbfrsynra: '0x1401' },
    });
  });

  it("Xen: SMMUv3 event then the SMMUv2 print cut right after \"iova=\" by a quoted-printable soft break", () => {
    const recs = scan(V2, 'index id 18947307290');
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({
      family: 'arm-smmu-v3', host: 'xen', kind: 'event', line: 2, endLine: 6, iommu: '/smmuv3@9050000', streamId: '0x8',
      iova: '0x8090040', access: 'write', reason: { code: 16, name: 'F_TRANSLATION' },
    });
    expect(recs[1]).toMatchObject({
      family: 'arm-smmu', host: 'xen', kind: 'context-fault', line: 8, endLine: 9, iommu: '/axi/smmu@fd800000',
      iova: '0xf9030040', contextBank: 0, access: 'write', reason: TF, registers: { fsr: '0x402', fsynr0: '0x12' },
    });
  });
});

describe('real logs 4: Xen SMMUv2 print under nine quote levels', () => {
  it('wrapped after "Unhandled context fault:": one record, the dom0 line left alone', () => {
    const recs = scan(V2, 'index id 24659276353');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'arm-smmu', host: 'xen', kind: 'context-fault', line: 5, endLine: 6, iommu: '/smmu@fd800000',
      iova: '0x8424cb148', contextBank: 0, access: 'read', reason: TF, registers: { fsr: '0x402', fsynr0: '0xb0001' },
    });
  });
});

describe('real logs 4: Arm SMMUv2 global faults', () => {
  it("Xen's port: DT path name, TAB before GFSR", () => {
    const recs = scan(V2, 'index id 17694142828');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'arm-smmu', host: 'xen', kind: 'global-fault', line: 1, endLine: 2, iommu: '/soc/iommu@5000000',
      streamId: '0x42a', reason: USF,
      registers: { gfsr: '0x80000002', gfsynr0: '0x0', gfsynr1: '0x42a', gfsynr2: '0x0' },
    });
  });

  it('GFSR line wrapped with TABs behind quote marks: GFSYNR1/2 joined, two records', () => {
    const recs = scan(V2, 'index id 25089632743');
    expect(recs.map((r) => [r.line, r.endLine, r.streamId, r.registers?.gfsynr1, r.registers?.gfsynr2])).toEqual([
      [2, 4, '0x781', '0x781', '0x0'], [7, 9, '0x461', '0x461', '0x0'],
    ]);
    for (const r of recs) expect(r).toMatchObject({ iommu: '15000000.iommu', reason: USF, registers: { gfsr: '0x80000002', gfsynr0: '0x0' } });
  });

  it('quoted-printable soft break inside the GFSYNR1 value ("0x0=" + "0000043")', () => {
    const recs = scan(V2, 'index id 25738628317');
    expect(recs.map((r) => [r.line, r.endLine, r.streamId, r.registers?.gfsynr1])).toEqual([
      [3, 5, '0x43', '0x43'], [8, 10, '0x4c3', '0x4c3'],
    ]);
    for (const r of recs) expect(r).toMatchObject({ kind: 'global-fault', access: 'write', reason: USF, registers: { gfsr: '0x2', gfsynr0: '0x2', gfsynr2: '0x0' } });
  });

  it('Xen global fault behind "> >>>>> " quotes, blanks before GFSR', () => {
    const recs = scan(V2, 'index id 34280700002');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      host: 'xen', kind: 'global-fault', line: 6, endLine: 7, iommu: '/smmu@fd800000', streamId: '0x877', reason: USF,
      registers: { gfsr: '0x80000002', gfsynr0: '0x0', gfsynr1: '0x877', gfsynr2: '0x0' },
    });
  });

  it('Juno shutdown: invalid context fault among other SMMUs\' lines', () => {
    const recs = scan(V2, 'index id 35748314733');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      kind: 'global-fault', line: 6, endLine: 7, time: 6893.49265, iommu: '7fb10000.iommu',
      reason: { code: 1, name: 'ICF' }, registers: { gfsr: '0x80000001', gfsynr0: '0x0', gfsynr1: '0x0', gfsynr2: '0x0' },
    });
  });
});

describe('real logs 4: Arm SMMUv3', () => {
  const HISI = {
    family: 'arm-smmu-v3', kind: 'event', line: 1, endLine: 5, time: 478.907684, iommu: 'arm-smmu-v3.2.auto',
    streamId: '0x3102', iova: '0x0', access: 'read', reason: { code: 16, name: 'F_TRANSLATION' },
    registers: { event0: '0x310200000010', event1: '0x2088000007f', event2: '0x0', event3: '0x0' },
  };

  it('raw event dwords without decoded lines, other drivers after', () => {
    const recs = scan(V3, 'index id 19450405301');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject(HISI);
    expect((recs[0]!.decoded as Record<string, { STALL?: boolean }>).event1!.STALL).toBe(true);
  });

  it('the same event reflowed by a mail client: each stamp\'s "[" ends the line before', () => {
    const recs = scan(V3, 'index id 37550906236');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject(HISI);
  });

  it('untimed, indented event (STAG 0x80)', () => {
    const recs = scan(V3, 'index id 35067378509');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      kind: 'event', line: 1, endLine: 5, iommu: 'arm-smmu-v3.1.auto', streamId: '0x7d00', iova: '0xf47cf000',
      access: 'read', reason: { code: 16, name: 'F_TRANSLATION' },
      registers: { event0: '0x7d0000000010', event1: '0x20900000080', event2: '0xf47cf000', event3: '0xf47cf000' },
    });
    expect(recs[0]!.time).toBeUndefined();
  });

  it('C_BAD_STE (event 0x04): stream only, no address', () => {
    const recs = scan(V3, 'index id 25671873356');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      kind: 'event', line: 4, endLine: 8, time: 10501.943881, iommu: 'arm-smmu-v3.2.auto', streamId: '0x7d11',
      reason: { code: 4, name: 'C_BAD_STE' },
      registers: { event0: '0x7d1100000004', event1: '0x100800000080', event2: '0xfe040000', event3: '0x7e04c440' },
    });
    expect(recs[0]!.iova).toBeUndefined();
  });

  it('6.14+ decoded lines cut by quoted-printable soft breaks: the client device still joins', () => {
    const recs = scan(V3, 'index id 36031711926');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      kind: 'event', line: 2, endLine: 10, iommu: '490d0000.iommu', device: '0000:01:00.0', streamId: '0x11',
      iova: '0x9b0cc000', access: 'read', reason: { code: 16, name: 'F_TRANSLATION' },
    });
    expect((recs[0]!.decoded as Record<string, { privileged?: boolean }>).event!.privileged).toBe(true);
  });

  it('CMDQ error quoted without its device prefix: ATC invalidate timeout', () => {
    const recs = scan(V3, 'index id 53428076769');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'arm-smmu-v3', kind: 'command-error', line: 4, registers: { cmdq_cons: '0x3000003' },
      reason: { code: 3, name: 'CERROR_ATC_INV_SYNC', text: 'ATC invalidate timeout' },
    });
    expect(recs[0]!.iommu).toBeUndefined();
  });

  it('CMD_SYNC timeout broken before "[hwprod", bar quoted, "platform" driver column', () => {
    const recs = scan(V3, 'index id 11275904264');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      family: 'arm-smmu-v3', kind: 'command-error', line: 4, endLine: 5, iommu: 'arm-smmu-v3.0.auto',
      reason: { name: 'CMD_SYNC_TIMEOUT' }, registers: { cmdq_prod: '0x146', cmdq_cons: '0x0' },
      decoded: { syncAt: '0x146' },
    });
  });
});
