import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { decodeRegister, decodedFields } from '../../../src/core/decode/register';
import { decodeNamedValues, decodeRecordRegisters, registerToText } from '../../../src/core/decode/explain';
import { registerById, registersOfFamily } from '../../../src/core/decode/registers';
import { AMD_CMD1, AMD_DTE0, AMD_DTE2, AMD_EVENT1, AMD_FLAGS, AMD_PPR_FLAGS } from '../../../src/core/decode/registers/amd-vi';
import { DART_T8020_ERROR, IPMMU_IMSTR, RK_PTE } from '../../../src/core/decode/registers/soc-iommus';
import { scanText } from '../../../src/core/logs/scanner';

describe('AMD-Vi register descriptions', () => {
  it('are registered under the family and keys the records use', () => {
    const m = registersOfFamily('amd-vi');
    for (const k of ['flags', 'event_code', 'event0', 'event1', 'event2', 'event3', 'ppr_flags', 'tag', 'dte0', 'dte1', 'dte2', 'dte3', 'control', 'cmd1']) {
      expect(m.has(k), k).toBe(true);
    }
    expect(registerById('apple-dart.error')?.key).toBe('error');
    expect(registersOfFamily('ipmmu').get('imstr')).toBe(IPMMU_IMSTR);
  });

  it('no two fields of a description overlap, bits inside the width', () => {
    for (const d of [AMD_FLAGS, AMD_EVENT1, AMD_PPR_FLAGS, AMD_DTE0, AMD_DTE2, AMD_CMD1, RK_PTE, DART_T8020_ERROR]) {
      let used = 0n;
      for (const f of d.fields) {
        expect(f.bits[0]).toBeGreaterThanOrEqual(f.bits[1]);
        expect(f.bits[0]).toBeLessThan(d.width);
        const mask = ((1n << BigInt(f.bits[0] - f.bits[1] + 1)) - 1n) << BigInt(f.bits[1]);
        expect(used & mask, `${d.id} ${f.name}`).toBe(0n);
        used |= mask;
      }
    }
  });

  it('IO_PAGE_FAULT flags: every bit, Xen label order', () => {
    const all = decodedFields(AMD_FLAGS, 0x1ffn);
    expect(all).toEqual({ GN: true, NX: true, US: true, I: 'INTERRUPT', PR: 'PRESENT', RW: 'WRITE', PE: true, RZ: true, TR: true, TYPE: 0 });
    expect(decodedFields(AMD_FLAGS, 0n)).toMatchObject({ I: 'MEMORY', PR: 'NOT_PRESENT', RW: 'READ', GN: false });
    const d = decodeRegister(AMD_FLAGS, 0x0050n);
    expect(d.summary).toBe('I=MEMORY, PR=PRESENT, RW=READ, PE');
    expect(decodeRegister(AMD_FLAGS, 0xe00n).summary).toContain('TYPE=0x7');
  });

  it('event dword 1: domain, flags and event code names', () => {
    expect(decodedFields(AMD_EVENT1, 0x2020000dn)).toEqual({ DomainID: 0xd, Flags: 0x20, EventCode: 'IO_PAGE_FAULT' });
    for (const [c, n] of [[1, 'ILLEGAL_DEV_TABLE_ENTRY'], [3, 'DEV_TAB_HARDWARE_ERROR'], [4, 'PAGE_TAB_HARDWARE_ERROR'], [5, 'ILLEGAL_COMMAND_ERROR'], [6, 'COMMAND_HARDWARE_ERROR'], [7, 'IOTLB_INV_TIMEOUT'], [8, 'INVALID_DEVICE_REQUEST'], [9, 'INVALID_PPR_REQUEST'], [0xd, 'RMP_PAGE_FAULT'], [0xe, 'RMP_HW_ERROR']] as const) {
      expect(decodedFields(AMD_EVENT1, BigInt(c) << 28n).EventCode).toBe(n);
    }
    expect(decodedFields(AMD_EVENT1, 0xa0000000n).EventCode).toBe(0xa);
  });

  it('DTE qword 0 and 2, PPR flags, command opcode', () => {
    expect(decodedFields(AMD_DTE0, 0x6000000103a4b603n)).toMatchObject({ V: true, TV: true, Mode: '3-LEVEL', PTRootPtr: 0x103a4b, IR: true, IW: true, GV: false });
    expect(decodeRegister(AMD_DTE0, 0x6000000103a4b603n).fields.find((f) => f.name === 'PTRootPtr')!.meaning).toBe('address bits → 0x103a4b000');
    expect(decodedFields(AMD_DTE2, (2n << 60n) | (0x1234560n << 6n) | (9n << 1n) | 1n)).toMatchObject({ IV: true, IntTabLen: 9, IntCtl: 'REMAP', IntTableRootPtr: 0x1234560 });
    expect(decodedFields(AMD_PPR_FLAGS, 0x124n)).toMatchObject({ READ: true, WRITE: true, EXEC: false, GN: true, US: false });
    expect(decodedFields(AMD_CMD1, 0x70000000n).Opcode).toBe('COMPLETE_PPR_REQUEST');
  });

  it('decode of a log line and of named values (what the CLI prints)', () => {
    const [r] = scanText('AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:03:00.0 domain=0x000d address=0xfffe0000 flags=0x0020]');
    const regs = decodeRecordRegisters(r!);
    expect(regs).toHaveLength(1);
    expect(regs[0]!.summary).toBe('I=MEMORY, PR=NOT_PRESENT, RW=WRITE');
    const { decoded, unknown } = decodeNamedValues('amd-vi', { flags: '0x0020', event1: '0x2020000d', bogus: '1' });
    expect(unknown).toEqual(['bogus']);
    expect(registerToText(decoded[0]!)).toMatch(/RW +\[ +5\] +1 WRITE +write transaction/);
    expect(decoded[1]!.summary).toContain('EventCode=IO_PAGE_FAULT');
  });

  const cli = resolve(__dirname, '../../../dist/cli.js');
  it.skipIf(!existsSync(cli))('node dist/cli.js decode prints the full decode', () => {
    const line = execFileSync('node', [cli, 'decode', 'AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:03:00.0 domain=0x000d address=0xfffe0000 flags=0x0020]'], { encoding: 'utf8' });
    expect(line).toContain('device: 0000:03:00.0');
    expect(line).toContain('IO_PAGE_FAULT');
    expect(line).toMatch(/RW +\[ +5\] +1 WRITE/);
    const named = execFileSync('node', [cli, 'decode', '--family', 'amd-vi', 'flags=0x0020'], { encoding: 'utf8' });
    expect(named).toMatch(/PR +\[ +4\] +0 NOT_PRESENT/);
  });
});
