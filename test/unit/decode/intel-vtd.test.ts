import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRegister, decodedFields, type RegisterDescription } from '../../../src/core/decode/register';
import { decodeNamedValues, decodeRecordRegisters } from '../../../src/core/decode/explain';
import { registersOfFamily } from '../../../src/core/decode/registers';
import {
  INTEL_VTD_REGISTERS, VTD_CAP, VTD_ECAP, VTD_FAULT_REASONS, VTD_FRCD, VTD_FRCD_HI, VTD_FRCD_LO, VTD_FSTS,
  VTD_PRQ_QW0, VTD_PRQ_QW1, VTD_REASON, VTD_RTADDR, vtdFaultReason,
} from '../../../src/core/decode/registers/intel-vtd';
import { scanText } from '../../../src/core/logs/scanner';
import { SHARED } from '../../helpers/corpus';

const REF = join(SHARED, 'reference/fault-encodings.md');

/** Rows "| 0x06 | `text` | `xen text` |" of reference §3.3–3.5 (ranges like 0x33–0x37 skipped). */
function referenceReasons(): Map<number, { text: string; xen?: string }> {
  const md = readFileSync(REF, 'utf8');
  const start = md.indexOf('### 3.3');
  const end = md.indexOf('### 3.6');
  const out = new Map<number, { text: string; xen?: string }>();
  for (const line of md.slice(start, end).split('\n')) {
    const m = /^\| (0x[0-9a-f]{2}) \| `([^`]+)` \|(?: `([^`]+)`)?/.exec(line);
    if (!m) continue;
    out.set(parseInt(m[1]!, 16), m[3] ? { text: m[2]!, xen: m[3] } : { text: m[2]! });
  }
  return out;
}

/** Linux iommu.h accessors, to cross-check field positions. */
const linuxCap = {
  ndoms: (c: bigint) => 1n << (4n + 2n * (c & 7n)),
  sagaw: (c: bigint) => (c >> 8n) & 0x1fn,
  mgaw: (c: bigint) => ((c >> 16n) & 0x3fn) + 1n,
  faultRegOffset: (c: bigint) => ((c >> 24n) & 0x3ffn) * 16n,
  superPageVal: (c: bigint) => (c >> 34n) & 0xfn,
  numFaultRegs: (c: bigint) => ((c >> 40n) & 0xffn) + 1n,
  maxAmaskVal: (c: bigint) => (c >> 48n) & 0x3fn,
};

function field(desc: RegisterDescription, value: bigint, name: string) {
  const f = decodeRegister(desc, value).fields.find((x) => x.name === name);
  if (!f) throw new Error(`no field ${name}`);
  return f;
}

describe('VT-d fault reason table', () => {
  it.runIf(existsSync(REF))('names every code of the reference with the kernel text (and Xen text where it differs)', () => {
    const ref = referenceReasons();
    expect(ref.size).toBe(14 + 7 + 46); // legacy + IR + named SM codes
    for (const [code, want] of ref) {
      const got = vtdFaultReason(code);
      expect(got, `0x${code.toString(16)}`).toBeDefined();
      expect(got!.text).toBe(want.text);
      if (want.xen) expect(got!.xenText).toBe(want.xen);
    }
    expect(VTD_FAULT_REASONS).toHaveLength(ref.size);
  });

  it('short names are unique upper snake case; tables follow the kernel lookup ranges', () => {
    const names = VTD_FAULT_REASONS.map((x) => x.name);
    expect(new Set(names).size).toBe(names.length);
    for (const x of VTD_FAULT_REASONS) {
      expect(x.name).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(x.explain.length).toBeGreaterThan(20);
      if (x.code < 0x0e) expect(x.table).toBe('legacy');
      else if (x.code >= 0x20 && x.code <= 0x26) { expect(x.table).toBe('interrupt-remapping'); expect(x.name).toMatch(/^IR/); }
      else { expect(x.code).toBeGreaterThanOrEqual(0x30); expect(x.code).toBeLessThanOrEqual(0x90); expect(x.name).toMatch(/^SM_/); }
    }
    expect(vtdFaultReason(0x06)).toMatchObject({ name: 'PTE_READ', stage: 'permission' });
    expect(vtdFaultReason(0x02)).toMatchObject({ name: 'CONTEXT_NOT_PRESENT', stage: 'device-entry' });
    expect(vtdFaultReason(0x59)).toMatchObject({ name: 'SM_PASID_ENTRY_NOT_PRESENT', stage: 'pasid-entry' });
    expect(vtdFaultReason(0x33)).toBeUndefined();
  });

  it('the FR description decodes a code to its name and the kernel text with an explanation', () => {
    const d = decodeRegister(VTD_REASON, 0x06n);
    expect(d.summary).toBe('FR=PTE_READ');
    expect(d.fields[0]).toMatchObject({ name: 'FR', value: '0x6', valueName: 'PTE_READ' });
    expect(d.fields[0]!.meaning).toMatch(/^PTE Read access is not set — .*not mapped/);
    expect(decodeRegister(VTD_REASON, 0x25n).fields[0]!.valueName).toBe('IR_COMPAT_BLOCKED');
    expect(decodeRegister(VTD_REASON, 0x33n).fields[0]!.valueName).toBeUndefined();
  });
});

describe('VT-d registers', () => {
  it('CAP of the QEMU q35 snapshot (0xd2008c22260206) agrees with the Linux accessors', () => {
    const cap = 0xd2008c22260206n;
    const f = decodedFields(VTD_CAP, cap);
    expect(f).toMatchObject({ ND: '64K', SAGAW: '3-level', MGAW: '39-bit', FRO: '0x220', SLLPS: '2MB, 1GB', NFR: '1', MAMV: 18, PSI: true, DWD: true, DRD: true, CM: false, FL1GP: false, PI: false });
    expect(linuxCap.ndoms(cap)).toBe(65536n);
    expect(linuxCap.sagaw(cap)).toBe(2n);
    expect(linuxCap.mgaw(cap)).toBe(39n);
    expect(linuxCap.faultRegOffset(cap)).toBe(0x220n);
    expect(linuxCap.superPageVal(cap)).toBe(3n);
    expect(linuxCap.numFaultRegs(cap)).toBe(1n);
    expect(linuxCap.maxAmaskVal(cap)).toBe(18n);
    expect(field(VTD_CAP, cap, 'FRO').meaning).toMatch(/offset 0x220/);
  });

  it('ECAP of the snapshot (0xf00f4a): QI, IR, pass-through, IOTLB at 0xf0', () => {
    const f = decodedFields(VTD_ECAP, 0xf00f4an);
    expect(f).toMatchObject({ C: false, QI: true, DT: false, IR: true, EIM: false, PT: true, SC: false, IRO: '0xf0', MHMV: 15, SMTS: false, PASID: false, PRS: false });
    // a scalable-mode capable unit
    const sm = (1n << 43n) | (1n << 40n) | (19n << 35n) | (1n << 29n) | (1n << 47n) | (1n << 46n);
    expect(decodedFields(VTD_ECAP, sm)).toMatchObject({ SMTS: true, PASID: true, PSS: '20-bit', PRS: true, FLTS: true, SLTS: true });
  });

  it('every description covers its width without overlapping fields', () => {
    for (const d of INTEL_VTD_REGISTERS) {
      let mask = 0n;
      for (const f of d.fields) {
        expect(f.bits[0], `${d.id}.${f.name}`).toBeGreaterThanOrEqual(f.bits[1]);
        const m = ((1n << BigInt(f.bits[0] - f.bits[1] + 1)) - 1n) << BigInt(f.bits[1]);
        expect(mask & m, `${d.id}.${f.name} overlaps`).toBe(0n);
        mask |= m;
      }
      const full = d.id === 'intel-vtd.reason' ? 0xffn : (1n << BigInt(d.width)) - 1n;
      expect(mask, d.id).toBe(full);
    }
  });

  it('FSTS 0x102: primary pending fault in record 1', () => {
    expect(decodedFields(VTD_FSTS, 0x102n)).toMatchObject({ PPF: true, PFO: false, FRI: 1, ITE: false });
    expect(decodeRegister(VTD_FSTS, 0x41n).summary).toBe('PFO, ITE');
  });

  it('FRCD built from the Linux accessors decodes back; the 64-bit halves agree with the 128-bit view', () => {
    // DMA read, PASID 0x21 present, reason 0x59, SID 00:02.0, page 0x7f3a1000
    const hi = (1n << 63n) | (1n << 62n) | (0x21n << 40n) | (0x59n << 32n) | (1n << 31n) | 0x0010n;
    const lo = 0x7f3a1000n;
    const frcd = (hi << 64n) | lo;
    const f = decodedFields(VTD_FRCD, frcd);
    expect(f).toMatchObject({ F: true, T: 'READ', PV: 0x21, FR: 'SM_PASID_ENTRY_NOT_PRESENT', PP: true, SID: 0x10, FI: 0x7f3a1 });
    expect(field(VTD_FRCD, frcd, 'FI').meaning).toBe('address bits → 0x7f3a1000');
    expect(decodedFields(VTD_FRCD_HI, hi)).toMatchObject({ F: true, T: 'READ', PV: 0x21, FR: 'SM_PASID_ENTRY_NOT_PRESENT', PP: true, SID: 0x10 });
    expect(decodedFields(VTD_FRCD_LO, lo)).toEqual({ FI: 0x7f3a1 });
  });

  it('RTADDR translation table mode; page request descriptor', () => {
    expect(decodedFields(VTD_RTADDR, 0x2629000n)).toMatchObject({ TTM: 'LEGACY', RTA: 0x2629 });
    expect(decodedFields(VTD_RTADDR, 0x103027400n)).toMatchObject({ TTM: 'SCALABLE' });
    expect(decodedFields(VTD_PRQ_QW0, 0x0000002100500101n)).toMatchObject({ TYPE: 1, PASID_PRESENT: true, RID: 0x50, PASID: 0x21, EXE: false, PM: false });
    expect(decodedFields(VTD_PRQ_QW1, 0x80000000001dn)).toMatchObject({ RD: true, WR: false, LPIG: true, PRG_INDEX: 3, ADDR: 0x800000000 });
  });
});

describe('VT-d decode entry points (CLI decode, hover)', () => {
  it('decode --family intel-vtd reason=0x06 cap=0xd2008c22260206', () => {
    const { decoded, unknown } = decodeNamedValues('intel-vtd', { reason: '0x06', cap: '0xd2008c22260206' });
    expect(unknown).toEqual([]);
    expect(decoded.map((d) => d.id)).toEqual(['intel-vtd.reason', 'intel-vtd.cap']);
    expect(decoded[0]!.summary).toBe('FR=PTE_READ');
    expect(decoded[1]!.summary).toContain('MGAW=39-bit');
  });

  it('a scanned fault print decodes its FSTS and its printed reason code', () => {
    const [r] = scanText('DMAR: DRHD: handling fault status reg 2\nDMAR: [DMA Read NO_PASID] Request device [0000:00:02.0] fault addr 0x7f3a1000 [fault reason 0x06] PTE Read access is not set');
    const regs = decodeRecordRegisters(r!);
    expect(regs.map((d) => [d.id, d.summary])).toEqual([['intel-vtd.fsts', 'PPF'], ['intel-vtd.reason', 'FR=PTE_READ']]);
  });

  it('every description is reachable by its record key', () => {
    const m = registersOfFamily('intel-vtd');
    for (const k of ['reason', 'fsts', 'frcd', 'frcd_lo', 'frcd_hi', 'fectl', 'gsts', 'ver', 'rtaddr', 'cap', 'ecap', 'prq_qw0', 'prq_qw1']) expect(m.has(k), k).toBe(true);
  });
});
