import { describe, expect, it, vi } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRegister, decodedFields, type RegisterDescription } from '../../../src/core/decode/register';
import { decodeNamedValues, decodeRecordRegisters, registerToText } from '../../../src/core/decode/explain';
import { registersOfFamily, REGISTERS } from '../../../src/core/decode/registers';
import {
  ARM_SMMU_REGISTERS, CB_FSR, CB_FSYNR0, CB_FSYNR1, CBFRSYNRA, FSR_REASONS, GFSR, GFSR_REASONS, GFSYNR0, GFSYNR1, GFSYNR2,
} from '../../../src/core/decode/registers/arm-smmu';
import { GPU_MMU_REGISTERS, MALI_AS_FAULTSTATUS } from '../../../src/core/decode/registers/gpu-mmu';
import { scanText } from '../../../src/core/logs/scanner';
import { runDecode } from '../../../src/cli/decode';
import { SHARED } from '../../helpers/corpus';

const REF = join(SHARED, 'reference/fault-encodings.md');

function section(md: string, from: string, to: string): string {
  return md.slice(md.indexOf(from), md.indexOf(to));
}

/** "| 4 | WNR | ..." / "| 10:9 | FORMAT | ..." rows of a reference table: name -> [msb, lsb]. */
function referenceBits(text: string): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const line of text.split('\n')) {
    const m = /^\| (\d{1,2})(?::(\d{1,2}))? \| \(?([A-Z][A-Z0-9]{1,8})\)? \|/.exec(line);
    if (m) out.set(m[3]!, [Number(m[1]), Number(m[2] ?? m[1])]);
  }
  return out;
}

function fieldBits(d: RegisterDescription, name: string): readonly [number, number] | undefined {
  return d.fields.find((f) => f.name === name)?.bits;
}

describe('arm-smmu register descriptions', () => {
  it('are well formed: unique ids, fields inside the width, no overlaps, every field explained', () => {
    for (const d of [...ARM_SMMU_REGISTERS, ...GPU_MMU_REGISTERS]) {
      expect(d.id).toBe(`${d.family}.${d.key}`);
      const used = new Set<number>();
      for (const f of d.fields) {
        expect(f.bits[0]).toBeGreaterThanOrEqual(f.bits[1]);
        expect(f.bits[0]).toBeLessThan(d.width);
        for (let b = f.bits[1]; b <= f.bits[0]; b++) {
          expect(used.has(b), `${d.id} bit ${b} described twice`).toBe(false);
          used.add(b);
        }
        expect(f.title.length).toBeGreaterThan(2);
        if (!f.reserved) expect(f.doc ?? f.values, `${d.id}.${f.name} needs a meaning`).toBeTruthy();
      }
    }
    const ids = REGISTERS.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...registersOfFamily('arm-smmu').keys()].sort()).toEqual(
      ['cbfrsynra', 'far', 'fsr', 'fsynr0', 'fsynr1', 'gfsr', 'gfsynr0', 'gfsynr1', 'gfsynr2', 'msm_iommu_fsr', 'par', 'sctlr'],
    );
    expect([...registersOfFamily('gpu-mmu').keys()].sort()).toEqual(['as_faultstatus', 'vm_l2_protection_fault_status']);
  });

  it.skipIf(!existsSync(REF))('bit positions agree with the reference tables §1.2, §1.3, §1.6', () => {
    const md = readFileSync(REF, 'utf8');
    const fsr = referenceBits(section(md, '### 1.2', '### 1.3'));
    for (const name of ['MULTI', 'SS', 'FORMAT', 'UUT', 'ASF', 'TLBLKF', 'TLBMCF', 'EF', 'PF', 'AFF', 'TF']) {
      expect(fieldBits(CB_FSR, name), name).toEqual(fsr.get(name));
    }
    const syn = referenceBits(section(md, '### 1.3', '### 1.4'));
    for (const name of ['S1CBNDX', 'AFR', 'PTWF', 'ATOF', 'NSATTR', 'NSSTATE', 'IND', 'PNU', 'WNR', 'PLVL']) {
      expect(fieldBits(CB_FSYNR0, name), name).toEqual(syn.get(name));
    }
    const syn1 = referenceBits(section(md, '### 1.4', '### 1.5'));
    for (const name of ['BID', 'PID', 'MID']) expect(fieldBits(CB_FSYNR1, name), name).toEqual(syn1.get(name));
    const g = referenceBits(section(md, '### 1.6', '### 1.7'));
    for (const name of ['ICF', 'USF', 'SMCF', 'UCBF', 'UCIF', 'CAF', 'EF', 'PF', 'MULTI']) {
      expect(fieldBits(GFSR, name), name).toEqual(g.get(name));
    }
    // Linux's FSR_IGN and FSR_FAULT masks are made of these bits
    const mask = (names: string[]) => names.reduce((m, n) => m | (1 << fieldBits(CB_FSR, n)![1]), 0) >>> 0;
    expect(mask(['AFF', 'ASF', 'TLBMCF', 'TLBLKF'])).toBe(0xe4);
    expect(mask(['MULTI', 'SS', 'UUT', 'EF', 'PF', 'TF', 'AFF', 'ASF', 'TLBMCF', 'TLBLKF'])).toBe(0xc00001fe);
    // reason tables use the same masks as the descriptions
    for (const r of FSR_REASONS) expect(1 << fieldBits(CB_FSR, r.name)![1]).toBe(r.mask);
    for (const r of GFSR_REASONS) expect(1 << fieldBits(GFSR, r.name)![1]).toBe(r.mask);
  });

  it('decodes FSR 0x402 and FSYNR0 0xb0001 (the Xen ZynqMP fault) field by field', () => {
    const fsr = decodeRegister(CB_FSR, 0x402n);
    expect(fsr.summary).toBe('FORMAT=AArch64, TF');
    expect(fsr.fields.find((f) => f.name === 'TF')).toMatchObject({ active: true, value: '1', meaning: expect.stringMatching(/not mapped/) });
    expect(fsr.fields.find((f) => f.name === 'SS')).toMatchObject({ active: false, meaning: expect.stringMatching(/terminated/) });
    const syn = decodeRegister(CB_FSYNR0, 0xb0001n);
    expect(syn.fields.find((f) => f.name === 'S1CBNDX')).toMatchObject({ value: '11' });
    expect(syn.fields.find((f) => f.name === 'PLVL')).toMatchObject({ valueName: 'L1', meaning: 'translation table level 1' });
    expect(syn.fields.find((f) => f.name === 'WNR')).toMatchObject({ active: false, meaning: 'the faulting access was a read' });
    expect(decodeRegister(CB_FSYNR0, 0x10n).fields.find((f) => f.name === 'WNR')!.meaning).toBe('the faulting access was a write');
    expect(decodedFields(CB_FSR, 0x40000402n)).toMatchObject({ SS: true, TF: true, FORMAT: 'AArch64', MULTI: false });
    expect(decodedFields(CBFRSYNRA, 0x1a0019n)).toEqual({ SSD: 0x1a, SID: 0x19 });
    expect(decodedFields(GFSYNR1, 0x00001409n)).toMatchObject({ SID: 0x1409 });
    expect(decodedFields(GFSYNR0, 0xan)).toMatchObject({ WNR: true, IND: true, PNU: false, NESTED: false });
    expect(GFSYNR2.title).toMatch(/implementation defined/i);
    expect(CB_FSYNR1.title).toMatch(/implementation defined/i);
    expect(decodeRegister(CB_FSR, 0x20000402n).summary).toContain('reserved RES_29_11');
  });

  it('decodes every register of a scanned record (explain)', () => {
    const [r] = scanText('arm-smmu 15000000.iommu: Unhandled context fault: fsr=0x402, iova=0x91517088, fsynr=0x640001, cbfrsynra=0x1c00, cb=5');
    const regs = decodeRecordRegisters(r!);
    expect(regs.map((d) => d.name)).toEqual(['CB_FSR', 'CB_FSYNR0', 'CBFRSYNRA']);
    expect(regs[2]!.summary).toBe('SID=0x1c00');
    expect(registerToText(regs[1]!)).toContain('PLVL');
  });

  it('Mali AS_FAULTSTATUS names the exception and access', () => {
    expect(decodedFields(MALI_AS_FAULTSTATUS, 0x800002c1n)).toEqual({ SOURCE_ID: 0x8000, DECODER_FAULT: false, ACCESS_TYPE: 'READ', EXCEPTION_TYPE: 'TRANSLATION_FAULT_1' });
    expect(decodedFields(MALI_AS_FAULTSTATUS, 0x7c9n)).toMatchObject({ DECODER_FAULT: true, ACCESS_TYPE: 'WRITE', EXCEPTION_TYPE: 'PERMISSION_FAULT_1' });
  });
});

describe('iommu-lens decode --family arm-smmu', () => {
  it('prints a full decode of fsr=0x402 fsynr0=0xb0001', () => {
    const { decoded, unknown } = decodeNamedValues('arm-smmu', { fsr: '0x402', fsynr0: '0xb0001' });
    expect(unknown).toEqual([]);
    expect(decoded.map((d) => d.summary)).toEqual(['FORMAT=AArch64, TF', 'S1CBNDX=11, PLVL=L1']);

    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out.push(String(s)); return true; });
    try {
      expect(runDecode(['--family', 'arm-smmu', 'fsr=0x402', 'fsynr0=0xb0001'])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const text = out.join('');
    expect(text).toContain('CB_FSR = 0x402');
    expect(text).toMatch(/TF\s+\[\s*1\]\s+1\s+no valid translation/);
    expect(text).toContain('CB_FSYNR0 = 0xb0001');
    expect(text).toMatch(/PLVL\s+\[\s*1:0\]\s+1 L1\s+translation table level 1/);
  });
});
