import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeRegister } from '../../../src/core/decode/register';
import { decodeNamedValues, decodeRecordRegisters } from '../../../src/core/decode/explain';
import { registerById, registersOfFamily } from '../../../src/core/decode/registers';
import {
  ARM_SMMU_V3_REGISTERS, CMDQ_ERRORS, EVENT_BY_NAME, EVENTS, VIRTIO_IOMMU_REGISTERS,
} from '../../../src/core/decode/registers/arm-smmu-v3';
import { scanText } from '../../../src/core/logs/scanner';
import { runDecode } from '../../../src/cli/decode';

const field = (id: string, v: bigint, name: string) => decodeRegister(registerById(id)!, v).fields.find((f) => f.name === name)!;

describe('SMMUv3 / virtio-iommu descriptions are well formed', () => {
  it('fields fit their width, ids unique, all registered', () => {
    const all = [...ARM_SMMU_V3_REGISTERS, ...VIRTIO_IOMMU_REGISTERS];
    expect(new Set(all.map((d) => d.id)).size).toBe(all.length);
    for (const d of all) {
      expect(registerById(d.id)).toBe(d);
      for (const f of d.fields) {
        expect(f.bits[0], `${d.id}.${f.name}`).toBeLessThan(d.width);
        expect(f.bits[0]).toBeGreaterThanOrEqual(f.bits[1]);
      }
    }
    expect([...registersOfFamily('arm-smmu-v3').keys()].sort()).toEqual(['cmd0', 'cmd1', 'cmdq_cons', 'event0', 'event1', 'event2', 'event3', 'gerror', 'pri0', 'pri1']);
    expect([...registersOfFamily('virtio-iommu').keys()].sort()).toEqual(['flags', 'reason']);
  });

  it('every architected event ID is named (SMMUv3 §7.3)', () => {
    const ids = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x11, 0x12, 0x13, 0x20, 0x21, 0x24, 0x25];
    for (const id of ids) expect(EVENTS[id], `0x${id.toString(16)}`).toBeDefined();
    expect(EVENTS[0x10]!.name).toBe('F_TRANSLATION');
    expect(EVENTS[0x0a]!.name).toBe('C_BAD_CD');
    expect(EVENTS[0x25]!.name).toBe('F_VMS_FETCH');
    expect(EVENTS[0xe3]!.name).toBe('IMPDEF_EVENT3');
    expect(EVENTS[0x0c]).toBeUndefined();
    expect(EVENT_BY_NAME.get('C_BAD_STREAMID')).toBe(0x02);
    expect(CMDQ_ERRORS[3]!.name).toBe('CERROR_ATC_INV_SYNC');
  });
});

describe('decoding SMMUv3 values', () => {
  it('event dword 0: ID, SSV, SSID, SID', () => {
    const d = decodeRegister(registerById('arm-smmu-v3.event0')!, 0x0000010000005810n);
    expect(d.summary).toBe('EVENT_ID=F_TRANSLATION, SSV, SSID=0x5, SID=0x100');
    expect(field('arm-smmu-v3.event0', 0x7d1200000010n, 'SID').value).toBe('0x7d12');
  });

  it('event dword 1: stall, attributes, stage, class', () => {
    const v = (1n << 31n) | 0x2an | (1n << 35n) | (1n << 39n) | (2n << 40n);
    const d = decodeRegister(registerById('arm-smmu-v3.event1')!, v);
    expect(d.summary).toBe('STAG=0x2a, STALL, RnW, S2, CLASS=IN');
    expect(field('arm-smmu-v3.event1', 0n, 'RnW').meaning).toBe('write access');
    expect(field('arm-smmu-v3.event1', 1n << 40n, 'CLASS').meaning).toBe('Stage 1 translation table fetch');
  });

  it('event dword 3: IPA and fetch address', () => {
    expect(field('arm-smmu-v3.event3', 0x812345ff8n, 'IPA').meaning).toBe('address bits → 0x812345000');
    expect(field('arm-smmu-v3.event3', 0x812345ff8n, 'FetchAddr').meaning).toBe('address bits → 0x812345ff8');
  });

  it('GERROR, CMDQ_CONS, command opcode, PRI entry', () => {
    expect(decodeRegister(registerById('arm-smmu-v3.gerror')!, 0x105n).summary).toBe('CMDQ_ERR, EVTQ_ABT_ERR, SFM_ERR');
    expect(decodeRegister(registerById('arm-smmu-v3.gerror')!, 0x2n).summary).toBe('reserved RES1=0x1');
    const cons = decodeRegister(registerById('arm-smmu-v3.cmdq_cons')!, 0x01000022n);
    expect(cons.fields.find((f) => f.name === 'ERR')).toMatchObject({ valueName: 'CERROR_ILL', value: '0x1' });
    expect(field('arm-smmu-v3.cmd0', 0x46n, 'OPCODE').valueName).toBe('CMD_SYNC');
    expect(field('arm-smmu-v3.cmd0', 0x0000010000000041n, 'OPCODE').valueName).toBe('CMD_PRI_RESP');
    expect(decodeRegister(registerById('arm-smmu-v3.pri0')!, (1n << 63n) | (1n << 62n) | (1n << 61n) | (3n << 32n) | 0x100n).summary)
      .toBe('SID=0x100, SSID=0x3, WRITE, LAST, SSV');
    expect(field('arm-smmu-v3.pri1', 0xabcdef005n, 'PRG_IDX').value).toBe('5');
  });

  it('virtio-iommu reason and flags', () => {
    expect(decodeNamedValues('virtio-iommu', { reason: '2', flags: '0x103' }).decoded.map((d) => d.summary)).toEqual([
      'REASON=VIRTIO_IOMMU_FAULT_R_MAPPING', 'F_READ, F_WRITE, F_ADDRESS',
    ]);
  });

  it('a scanned raw dump decodes every dword', () => {
    const rec = scanText([
      'arm-smmu-v3 arm-smmu-v3.0.auto: event 0x10 received:',
      'arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000010000000010',
      'arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000020800000000',
      'arm-smmu-v3 arm-smmu-v3.0.auto: \t0x000000090000f040',
      'arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000000000000000',
    ].join('\n'))[0]!;
    expect(decodeRecordRegisters(rec).map((d) => d.name)).toEqual(['event dword 0', 'event dword 1', 'event dword 2', 'event dword 3']);
    expect(decodeRecordRegisters(rec)[1]!.summary).toBe('RnW, CLASS=IN');
  });
});

describe('iommu-lens decode prints the full SMMUv3 decode', () => {
  afterEach(() => vi.restoreAllMocks());

  it('raw dump given as one argument with newlines', () => {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += String(s); return true; });
    const text = [
      'arm-smmu-v3 arm-smmu-v3.0.auto: event 0x10 received:',
      'arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000010000000010',
      'arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000000880000005',
      'arm-smmu-v3 arm-smmu-v3.0.auto: \t0x000000090000f040',
      'arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000000000000000',
    ].join('\n');
    expect(runDecode([text])).toBe(0);
    expect(out).toContain('arm-smmu-v3 event  line 1–5');
    expect(out).toContain('stream ID: 0x100');
    expect(out).toContain('address: 0x90000f040');
    expect(out).toContain('access: read');
    expect(out).toContain('reason: 16 F_TRANSLATION');
    expect(out).toMatch(/event dword 1 = 0x880000005 .*\[STAG=0x5, STALL, RnW, CLASS=CD\]/);
    expect(out).toMatch(/STALL +\[ +31\] +1 +the transaction is stalled/);
    expect(out).toContain('event dword 2 = 0x90000f040');
  });
});
