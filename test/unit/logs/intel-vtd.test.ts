import { describe, expect, it } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { scanText } from '../../../src/core/logs/scanner';
import type { FaultRecord } from '../../../src/core/logs/record';
import { corpusAvailable, corpusEntries, SHARED } from '../../helpers/corpus';
import { VTD_FAULT_REASONS } from '../../../src/core/decode/registers/intel-vtd';

const vtd = (text: string): FaultRecord[] => scanText(text).filter((r) => r.family === 'intel-vtd');

/** Minimal C printf for the kernel/Xen format strings of reference §3.6 and §3.8. */
function printf(fmt: string, ...args: (string | number | bigint)[]): string {
  let i = 0;
  return fmt.replace(/%(0?)(\d*)(?:ll|l|h)?(pp|[xdusp%])/g, (_m, zero: string, width: string, conv: string) => {
    if (conv === '%') return '%';
    const a = args[i++]!;
    let s: string;
    if (conv === 's' || conv === 'pp') s = String(a);
    else if (conv === 'x' || conv === 'p') s = BigInt(a).toString(16);
    else s = BigInt(a).toString(10);
    const w = Number(width || 0);
    return s.length < w ? (zero ? '0' : ' ').repeat(w - s.length) + s : s;
  });
}
const PRIx64 = 'llx';

// Source id 0x0010 = 00:02.0; PCI_SLOT/PCI_FUNC as the kernel computes them.
const SID = 0x0010;
const bus = SID >> 8, slot = (SID & 0xff) >> 3, fn = SID & 7;

describe('intel-vtd: real lines (corpus/intel-dmar.txt)', () => {
  it.runIf(corpusAvailable())('every entry gives the expected records', () => {
    const entries = corpusEntries('intel-dmar.txt');
    const got = entries.map((e) => vtd(e.lines.join('\n')));

    // OpenComputeProject ONL PR #897: 4.x format, decimal reason, DRHD headers, ratelimit
    const onl = got[0]!;
    expect(onl.map((r) => [r.kind, r.line, r.endLine])).toEqual([
      ['dma-fault', 1, undefined], ['dma-fault', 2, 3], ['dma-fault', 4, 5], ['dma-fault', 6, undefined],
      ['storm-suppressed', 7, undefined], ['dma-fault', 8, undefined],
    ]);
    expect(onl[0]).toMatchObject({ host: 'linux', device: '0000:00:12.0', iova: '0x0', access: 'write', time: 10672.86894, reason: { code: 5, name: 'PTE_WRITE', text: 'PTE Write access is not set' } });
    expect(onl[1]).toMatchObject({ registers: { fsts: '0x2' }, device: '0000:00:12.0', reason: { code: 5 } });
    // a header whose fault print was ratelimited away stays a fault record with FSTS only
    expect(onl[3]!.device).toBeUndefined();
    expect(onl[3]!.registers).toEqual({ fsts: '0x2' });

    // Geminilake igfx (v5.4–v5.13 "PASID ffffffff" form)
    expect(got[1]).toHaveLength(1);
    expect(got[1]![0]).toMatchObject({ kind: 'dma-fault', device: '0000:00:02.0', iova: '0x7fa8a78000', access: 'write', registers: { fsts: '0x2' }, reason: { code: 5, name: 'PTE_WRITE' }, decoded: { pasidPresent: false } });
    expect(got[1]![0]!.pasid).toBeUndefined();

    // mlx5 INTR-REMAP, decimal "37" = 0x25, dmesg -T timestamps, interleaved driver lines
    expect(got[2]!.map((r) => [r.kind, r.device, r.reason?.code, r.reason?.name, r.registers?.fsts, (r.decoded as { faultIndex?: string }).faultIndex]))
      .toEqual([
        ['intr-remap-fault', '0000:42:00.2', 0x25, 'IR_COMPAT_BLOCKED', '0x2', '0x1600'],
        ['intr-remap-fault', '0000:42:00.2', 0x25, 'IR_COMPAT_BLOCKED', '0x102', '0x1600'],
      ]);
    expect(got[2]![0]!.time).toBe(Date.UTC(2020, 9, 22, 8, 54, 51) / 1000);

    // i915 hot re-plug: print wrapped after "PASID ffffffff"
    expect(got[3]).toHaveLength(1);
    expect(got[3]![0]).toMatchObject({ line: 1, endLine: 3, registers: { fsts: '0x2' }, device: '0000:00:02.0', iova: '0x0', access: 'write', reason: { code: 2, name: 'CONTEXT_NOT_PRESENT', text: 'Present bit in context entry is clear' } });

    // Marvell 88SE9128 journalctl (lowercase month, not a known prefix), header 9 lines before the print, print wrapped
    expect(got[4]).toHaveLength(1);
    expect(got[4]![0]).toMatchObject({ line: 1, endLine: 11, device: '0000:09:00.1', iova: '0xfff00000', access: 'read', registers: { fsts: '0x2' }, reason: { code: 2 } });

    // scalable-mode 0x90 wrapped over three lines
    expect(got[5]).toHaveLength(1);
    expect(got[5]![0]).toMatchObject({ line: 1, endLine: 4, device: '0000:aa:00.0', iova: '0x10c3a6000', access: 'read', reason: { code: 0x90, name: 'SM_FL_AD_NO_SNOOP', text: 'SM: A/D bit update needed in first-level entry when set up in no snoop' }, decoded: { pasidPresent: false, reason: { table: 'scalable-mode' } } });

    // VMD: v5.14 "0x" bus/device form
    expect(got[6]!.map((r) => [r.kind, r.device, r.reason?.code, (r.decoded as { faultIndex?: string }).faultIndex])).toEqual([
      ['intr-remap-fault', '0000:64:00.5', 0x25, '0x8800'], ['intr-remap-fault', '0000:64:00.5', 0x25, '0x8800'],
    ]);

    // RK3588 endpoint: Invalidation Time-out Error
    expect(got[7]).toHaveLength(1);
    expect(got[7]![0]).toMatchObject({ kind: 'queue-error', device: '0000:00:00.0', reason: { name: 'ITE', text: 'Invalidation Time-out Error' }, decoded: { errors: ['ITE'], iteSid: '0x0' } });

    // IRTE race: ftrace lines around, reason 0x22
    expect(got[8]).toHaveLength(1);
    expect(got[8]![0]).toMatchObject({ kind: 'intr-remap-fault', device: '0000:65:00.0', time: 76561.10309, reason: { code: 0x22, name: 'IRTE_NOT_PRESENT' }, decoded: { faultIndex: '0x25' } });

    // newest format with PCI domain, wrapped before the reason
    expect(got[9]).toHaveLength(1);
    expect(got[9]![0]).toMatchObject({ line: 1, endLine: 2, device: '0000:00:03.0', iova: '0x2410000', access: 'read', reason: { code: 0x71, name: 'SM_FL_NOT_PRESENT' } });
    expect(got).toHaveLength(10);
  });

  it.runIf(corpusAvailable())('capability, dump and symptom lines are not VT-d records', () => {
    for (const f of ['dumps.txt', 'context.txt', 'other.txt', 'amd-vi.txt', 'arm-smmu.txt', 'arm-smmu-v3.txt']) {
      const text = corpusEntries(f).flatMap((e) => e.lines).join('\n');
      expect(vtd(text), f).toEqual([]);
    }
    const boot = [
      '[    0.000000] DMAR: Host address width 39',
      '[    0.000000] DMAR: DRHD base: 0x000000fed90000 flags: 0x0',
      '[    0.000000] DMAR: dmar0: reg_base_addr fed90000 ver 1:0 cap d2008c22260206 ecap f00f4a',
      '[    1.145795] DMAR: dmar0: Using Queued invalidation',
      '[    1.218403] DMAR: Intel(R) Virtualization Technology for Directed I/O',
      ' DMAR: fault 7fa8a78000 (level=1) PTE = 149efc003',
    ].join('\n');
    expect(vtd(boot)).toEqual([]);
  });

  it.runIf(existsSync(join(SHARED, 'snapshots/vtd-q35-legacy/console.log')))('a whole real boot console has no VT-d fault', () => {
    const text = readFileSync(join(SHARED, 'snapshots/vtd-q35-legacy/console.log'), 'utf8');
    expect(vtd(text)).toEqual([]);
  });
});

describe('intel-vtd: Xen (corpus/xen.txt)', () => {
  it.runIf(corpusAvailable())('two-line and wrapped Xen prints', () => {
    const entries = corpusEntries('xen.txt');
    const hpet = vtd(entries[0]!.lines.join('\n'));
    expect(hpet).toEqual([expect.objectContaining({
      line: 1, endLine: 2, host: 'xen', kind: 'intr-remap-fault', device: '0000:00:1f.0',
      reason: { code: 0x25, name: 'IR_COMPAT_BLOCKED', text: 'Blocked a compatibility format interrupt request' },
    })]);
    expect((hpet[0]!.decoded as { faultIndex: string }).faultIndex).toBe('0x0');
    const be3 = vtd(entries[4]!.lines.join('\n'));
    expect(be3.map((r) => [r.line, r.endLine, r.host, r.device, r.iova, r.access])).toEqual([
      [1, 2, 'xen', '0000:04:00.4', '0xbdf80000', 'write'],
      [3, 4, 'xen', '0000:04:00.5', '0xbdf80000', 'write'],
      [5, 6, 'xen', '0000:04:00.6', '0xbdf80000', 'write'],
      [7, 8, 'xen', '0000:04:00.7', '0xbdf80000', 'write'],
    ]);
    // the other entries are AMD-Vi / SMMU prints
    for (const i of [1, 2, 3, 5, 6]) expect(vtd(entries[i]!.lines.join('\n'))).toEqual([]);
  });
});

describe('intel-vtd: Linux print generations built from their format strings (reference §3.6)', () => {
  it('old two-line printk: one record with endLine, decimal reason', () => {
    const text = printf('DMAR:[%s] Request device [%02x:%02x.%d] fault addr %llx \nDMAR:[fault reason %02d] %s\n', 'DMA Read', bus, slot, fn, 0x7f3a1000n, 6, 'PTE Read access is not set');
    const lines = text.trimEnd().split('\n');
    for (const variant of [
      lines.join('\n'),
      `[  12.5] ${lines[0]}\n${lines[1]}`,
      `[  12.5] DMAR: ${lines[0]}\n[  12.5] ${lines[1]}`, // pr_err with pr_fmt "DMAR: "
    ]) {
      const r = vtd(variant);
      expect(r, variant).toHaveLength(1);
      expect(r[0]).toMatchObject({ line: 1, endLine: 2, kind: 'dma-fault', device: '0000:00:02.0', iova: '0x7f3a1000', access: 'read', reason: { code: 6, name: 'PTE_READ', text: 'PTE Read access is not set' } });
    }
    // the reason line waits past one interleaved line
    const r = vtd(`${lines[0]}\nsome other driver: hello\n${lines[1]}`);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ endLine: 3, reason: { code: 6 } });
  });

  it('old two-line INTR-REMAP with "[[" bdf', () => {
    const text = printf('INTR-REMAP: Request device [[%02x:%02x.%d] fault index %llx\nINTR-REMAP:[fault reason %02d] %s\n', 0x42, 0, 2, 0x1600n, 0x22, 'Present field in the IRTE entry is clear');
    const r = vtd(text.trimEnd());
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ line: 1, endLine: 2, kind: 'intr-remap-fault', device: '0000:42:00.2', reason: { code: 0x22, name: 'IRTE_NOT_PRESENT' }, decoded: { faultIndex: '0x1600' } });
  });

  it('v4.x single line, v5.4 PASID, v5.14 0x bus, v5.15+ NO_PASID / PASID', () => {
    const cases: [string, Partial<FaultRecord>][] = [
      [printf('DMAR: [%s] Request device [%02x:%02x.%d] fault addr %llx [fault reason %02d] %s', 'DMA Write', bus, slot, fn, 0x1000n, 12, 'non-zero reserved fields in PTE'),
        { kind: 'dma-fault', access: 'write', iova: '0x1000', reason: { code: 0x0c, name: 'PTE_RESERVED', text: 'non-zero reserved fields in PTE' } }],
      [printf('DMAR: [INTR-REMAP] Request device [%02x:%02x.%d] fault index %llx [fault reason %02d] %s', bus, slot, fn, 0x8800n, 0x26, 'Blocked an interrupt request due to source-id verification failure'),
        { kind: 'intr-remap-fault', reason: { code: 0x26, name: 'IR_SID_VERIFY', text: 'Blocked an interrupt request due to source-id verification failure' }, decoded: { faultIndex: '0x8800' } }],
      [printf('DMAR: [%s] Request device [%02x:%02x.%d] PASID %x fault addr %llx [fault reason %02d] %s', 'DMA Read', bus, slot, fn, 0x5, 0x7e7d000n, 0x59, 'SM: Present bit in PASID Table Entry is clear'),
        { pasid: '0x5', iova: '0x7e7d000', reason: { code: 0x59, name: 'SM_PASID_ENTRY_NOT_PRESENT' } }],
      [printf('DMAR: [%s NO_PASID] Request device [0x%02x:0x%02x.%d] fault addr 0x%llx [fault reason 0x%02x] %s', 'DMA Read', bus, slot, fn, 0x7e7d000n, 6, 'PTE Read access is not set'),
        { access: 'read', iova: '0x7e7d000', reason: { code: 6 }, decoded: { pasidPresent: false } }],
      [printf('DMAR: [INTR-REMAP] Request device [0x%02x:0x%02x.%d] fault index 0x%llx [fault reason 0x%02x] %s', 0x64, 0, 5, 0x8800n, 0x25, 'Blocked a compatibility format interrupt request'),
        { kind: 'intr-remap-fault', device: '0000:64:00.5', reason: { code: 0x25 } }],
      [printf('DMAR: [%s PASID 0x%x] Request device [%02x:%02x.%d] fault addr 0x%llx [fault reason 0x%02x] %s', 'DMA Write', 0x2, bus, slot, fn, 0xffffd000n, 0x85, 'SM: No write permission for Write/AtomicOp request'),
        { pasid: '0x2', access: 'write', iova: '0xffffd000', reason: { code: 0x85, name: 'SM_NO_WRITE' } }],
      [printf('DMAR: [%s NO_PASID] Request device [%02x:%02x.%d] fault addr 0x%llx [fault reason 0x%02x] %s', 'DMA Read', bus, slot, fn, 0x7e7d000n, 6, 'PTE Read access is not set'),
        { device: '0000:00:02.0', iova: '0x7e7d000', reason: { code: 6, name: 'PTE_READ' } }],
    ];
    for (const [line, want] of cases) {
      const r = vtd(`[ 3.25] ${line}`);
      expect(r, line).toHaveLength(1);
      expect(r[0], line).toMatchObject({ line: 1, family: 'intel-vtd', host: 'linux', time: 3.25, device: '0000:00:02.0', ...want });
      expect(r[0]!.endLine, line).toBeUndefined();
    }
  });

  it('every named reason code, in decimal (pre-5.14) and hex (5.14+) prints', () => {
    for (const x of VTD_FAULT_REASONS) {
      const ir = x.table === 'interrupt-remapping';
      const head = ir ? '[INTR-REMAP] Request device [00:02.0] fault index 0x10' : '[DMA Read NO_PASID] Request device [00:02.0] fault addr 0x1000';
      for (const code of [`0x${x.code.toString(16).padStart(2, '0')}`, String(x.code).padStart(2, '0')]) {
        const line = `DMAR: ${head} [fault reason ${code}] ${x.text}`;
        const r = vtd(line);
        expect(r, line).toHaveLength(1);
        expect(r[0]!.reason, line).toEqual({ code: x.code, name: x.name, text: x.text });
        expect(r[0]!.kind).toBe(ir ? 'intr-remap-fault' : 'dma-fault');
      }
    }
  });

  it('unknown reasons are printed with the DMA format as "Unknown"', () => {
    for (const code of [0x0e, 0x33, 0x4f, 0x91, 0xff]) {
      const r = vtd(`DMAR: [DMA Write NO_PASID] Request device [00:1f.2] fault addr 0x2000 [fault reason 0x${code.toString(16).padStart(2, '0')}] Unknown`);
      expect(r).toHaveLength(1);
      expect(r[0]).toMatchObject({ kind: 'dma-fault', device: '0000:00:1f.2', reason: { code, name: 'UNKNOWN', text: 'Unknown' }, decoded: { reason: { table: 'unknown' } } });
    }
  });

  it('DRHD header joins the first fault print; queue-only FSTS is a queue error', () => {
    const r = vtd([
      '[ 5.0] DMAR: DRHD: handling fault status reg 3',
      '[ 5.0] DMAR: [DMA Read NO_PASID] Request device [00:02.0] fault addr 0x1000 [fault reason 0x06] PTE Read access is not set',
      '[ 5.0] DMAR: [DMA Read NO_PASID] Request device [00:02.0] fault addr 0x2000 [fault reason 0x06] PTE Read access is not set',
      '[ 6.0] DMAR: DRHD: handling fault status reg 40',
    ].join('\n'));
    expect(r.map((x) => [x.line, x.endLine, x.kind, x.iova, x.registers?.fsts])).toEqual([
      [1, 2, 'dma-fault', '0x1000', '0x3'],
      [3, undefined, 'dma-fault', '0x2000', undefined],
      [4, undefined, 'queue-error', undefined, '0x40'],
    ]);
    expect(r[0]!.decoded).toMatchObject({ fsts: { PFO: true, PPF: true, ITE: false, FRI: 0 } });
    expect(r[2]!.decoded).toMatchObject({ fsts: { ITE: true, PPF: false } });
  });
});

describe('intel-vtd: the kernel\'s own walk after a fault (CONFIG_DMAR_DEBUG, dmar_fault_dump_ptes)', () => {
  it('legacy-mode dump joins the fault record and names the IOMMU', () => {
    const r = vtd([
      '[ 7.1] DMAR: DRHD: handling fault status reg 2',
      '[ 7.1] DMAR: [DMA Read NO_PASID] Request device [00:02.0] fault addr 0x7e7d000 [fault reason 0x06] PTE Read access is not set',
      printf('[ 7.1] DMAR: Dump %s table entries for IOVA 0x%llx', 'dmar0', 0x7e7d000n),
      printf('[ 7.1] DMAR: root entry: 0x%016llx', 0x102e30001n),
      printf('[ 7.1] DMAR: context entry: hi 0x%016llx, low 0x%016llx', 0x102n, 0x102e31001n),
      printf('[ 7.1] DMAR: pte level: %d, pte value: 0x%016llx', 3, 0x102e32003n),
      printf('[ 7.1] DMAR: pte level: %d, pte value: 0x%016llx', 2, 0n),
      printf('[ 7.1] DMAR: page table not present at level %d', 1),
      '[ 7.2] e1000e 0000:00:02.0: something else',
    ].join('\n'));
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({
      line: 1, endLine: 8, iommu: 'dmar0', iova: '0x7e7d000', registers: { fsts: '0x2' },
      decoded: { dump: { iommu: 'dmar0', iova: '0x7e7d000', rootEntry: { lo: '0x102e30001' }, contextEntry: { hi: '0x102', lo: '0x102e31001' }, ptes: [{ level: 3, value: '0x102e32003' }, { level: 2, value: '0x0' }], notPresent: 'page table at level 1' } },
    });
  });

  it('a complete print waits exactly one line for its dump (the scanner skips lines that cannot start one)', () => {
    const fault = '[ 7.1] DMAR: [DMA Read NO_PASID] Request device [00:02.0] fault addr 0x7e7d000 [fault reason 0x06] PTE Read access is not set';
    const dump = [
      printf('[ 7.1] DMAR: Dump %s table entries for IOVA 0x%llx', 'dmar0', 0x7e7d000n),
      printf('[ 7.1] DMAR: pte level: %d, pte value: 0x%016llx', 3, 0x102e32003n),
    ];
    const joined = vtd([fault, ...dump, '[ 7.2] usb 1-1: new device', fault].join('\n'));
    expect(joined).toHaveLength(2);
    expect(joined[0]).toMatchObject({ line: 1, endLine: 3, iommu: 'dmar0' });
    expect(joined[1]).toMatchObject({ line: 5 });
    expect(joined[1]!.endLine).toBeUndefined();
    // another printer's line first: the dump is no longer this record's
    const apart = vtd([fault, '[ 7.1] usb 1-1: new device', ...dump].join('\n'));
    expect(apart).toHaveLength(1);
    expect(apart[0]!.endLine).toBeUndefined();
    expect((apart[0]!.decoded as Record<string, unknown>).dump).toBeUndefined();
  });

  it('scalable-mode dump with PASID entries; a dump for another IOVA is not joined', () => {
    const lines = [
      'DMAR: [DMA Write PASID 0x1] Request device [00:0a.0] fault addr 0x1000 [fault reason 0x71] SM: Present bit in first-level paging entry is clear',
      printf('DMAR: Dump %s table entries for IOVA 0x%llx', 'dmar1', 0x1000n),
      printf('DMAR: scalable mode root entry: hi 0x%016llx, low 0x%016llx', 0n, 0x44dd3f001n),
      printf('DMAR: context entry: hi 0x%016llx, low 0x%016llx', 0x100000n, 0x435460e1dn),
      printf('DMAR: pasid dir entry: 0x%016llx', 0x44d6e1001n),
      ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => printf('DMAR: pasid table entry[%d]: 0x%016llx', i, i === 0 ? 0x49n : 0n)),
      printf('DMAR: pte level: %d, pte value: 0x%016llx', 4, 0n),
      printf('DMAR: page table not present at level %d', 3),
    ];
    const r = vtd(lines.join('\n'));
    expect(r).toHaveLength(1);
    const d = (r[0]!.decoded as { dump: Record<string, unknown> }).dump;
    expect(r[0]).toMatchObject({ endLine: lines.length, iommu: 'dmar1', pasid: '0x1', access: 'write' });
    expect(d).toMatchObject({ rootEntry: { hi: '0x0', lo: '0x44dd3f001' }, pasidDirEntry: '0x44d6e1001', ptes: [{ level: 4, value: '0x0' }], notPresent: 'page table at level 3' });
    expect((d.pasidTableEntry as string[])).toHaveLength(8);
    const other = vtd([lines[0], printf('DMAR: Dump %s table entries for IOVA 0x%llx', 'dmar1', 0x2000n)].join('\n'));
    expect(other[0]!.endLine).toBeUndefined();
    expect((other[0]!.decoded as Record<string, unknown>).dump).toBeUndefined();
  });

  it('patch-era "[%s w/o PASID]" / "[%s w/ PASID %x]" prints with "%02xh" reasons', () => {
    // format strings of the CONFIG_DMAR_DEBUG patch series as posted (release of this exact text unverified)
    const a = vtd(printf('DMAR: [%s w/o PASID] Request device [%02x:%02x.%d] fault addr %llx [fault reason %02xh] %s', 'DMA Read', 0, 2, 0, 0x7e7d000n, 0x06, 'PTE Read access is not set'));
    expect(a[0]).toMatchObject({ device: '0000:00:02.0', iova: '0x7e7d000', reason: { code: 6, name: 'PTE_READ' } });
    const b = vtd(printf('DMAR: [%s w/ PASID %x] Request device [%02x:%02x.%d] fault addr %llx [fault reason %02xh] %s', 'DMA Write', 0x3, 0, 2, 0, 0x1000n, 0x59, 'SM: Present bit in PASID Table Entry is clear'));
    expect(b[0]).toMatchObject({ pasid: '0x3', reason: { code: 0x59 } });
  });
});

describe('intel-vtd: retyped prints', () => {
  it('lowercase "DMA write", "NO PASID", "[Fault reason", a table bar after the text', () => {
    const r = vtd('| DMAR: [DMA write NO PASID] Request device [00:14.0] fault addr 0x8000 [Fault reason 0x05] PTE Write access is not set |');
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ device: '0000:00:14.0', iova: '0x8000', access: 'write', reason: { code: 5, text: 'PTE Write access is not set' }, decoded: { pasidPresent: false } });
    // other spellings of the type stay unknown
    expect(vtd('DMAR: [DMA READ] Request device [00:14.0] fault addr 0x8000 [fault reason 0x05] PTE Write access is not set')).toEqual([]);
  });
});

describe('intel-vtd: a log flattened into one line', () => {
  it('finds the print far along the line', () => {
    const before = Array.from({ length: 14 }, (_, i) => `[ 44.97${i.toString().padStart(4, '0')}] megaraid_sas 0000:02:00.0: FW supports sync cache : Yes`).join(' ');
    const line = `${before} [ 45.235288] DMAR: DRHD: handling fault status reg 3 [ 45.235366] ` +
      printf('DMAR: [%s NO_PASID] Request device [%02x:%02x.%d] fault addr 0x%llx [fault reason 0x%02x] %s', 'DMA Write', 2, 0, 0, 0xfff00000n, 2, 'Present bit in context entry is clear');
    expect(line.indexOf('Request device')).toBeGreaterThan(400);
    const r = vtd(line);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ kind: 'dma-fault', device: '0000:02:00.0', iova: '0xfff00000', access: 'write', reason: { code: 2, name: 'CONTEXT_NOT_PRESENT' } });
  });
});

describe('intel-vtd: the v5.17-6.12 dump texts (before "Fix checks and print in dmar_fault_dump_ptes()")', () => {
  const fault = [
    '[ 9.0] DMAR: DRHD: handling fault status reg 2',
    '[ 9.0] DMAR: [DMA Write NO_PASID] Request device [00:1a.0] fault addr 0x5000 [fault reason 0x05] PTE Write access is not set',
    printf('[ 9.0] DMAR: Dump %s table entries for IOVA 0x%llx', 'dmar0', 0x5000n),
  ];
  it('"PTE not present at level %d" names the PTE the old walk stopped at', () => {
    const r = vtd([...fault,
      printf('[ 9.0] DMAR: root entry: 0x%016llx', 0x127f42001n),
      printf('[ 9.0] DMAR: context entry: hi 0x%016llx, low 0x%016llx', 0x1502n, 0x12d8ab001n),
      printf('[ 9.0] DMAR: pte level: %d, pte value: 0x%016llx', 4, 0x10a0c6003n),
      printf('[ 9.0] DMAR: PTE not present at level %d', 3),
    ].join('\n'));
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ endLine: 7, decoded: { dump: { ptes: [{ level: 4, value: '0x10a0c6003' }], notPresent: 'PTE at level 3' } } });
  });
  it('"... entry is not present" texts end the dump and name the missing table', () => {
    const cases: [string, string][] = [
      ['root table entry is not present', 'root table'],
      ['context table entry is not present', 'context table'],
      ['pasid directory entry is not present', 'pasid directory table'],
      ['pasid table entry is not present', 'pasid table'],
    ];
    for (const [text, notPresent] of cases) {
      const r = vtd([...fault, `[ 9.0] DMAR: ${text}`, '[ 9.1] e1000e 0000:00:19.0 eth0: link up'].join('\n'));
      expect(r, text).toHaveLength(1);
      expect(r[0], text).toMatchObject({ endLine: 4, decoded: { dump: { notPresent } } });
    }
  });
});

describe('intel-vtd: invalidation queue errors', () => {
  it('VMD sequence (lore: PCI: vmd, Adrian Huang, 2023) is one record', () => {
    // source: https://lore.kernel.org/ linux-pci "[PATCH] PCI: vmd: Fix boot failure when trying to clean up domain before enumeration" quoted dmesg
    const r = vtd([
      '  DMAR: VT-d detected Invalidation Queue Error: Reason f',
      '  DMAR: VT-d detected Invalidation Time-out Error: SID ffff',
      '  DMAR: VT-d detected Invalidation Completion Error: SID ffff',
      '  DMAR: QI HEAD: UNKNOWN qw0 = 0x0, qw1 = 0x0',
      '  DMAR: QI PRIOR: UNKNOWN qw0 = 0x0, qw1 = 0x0',
      '  DMAR: Invalidation Time-out Error (ITE) cleared',
    ].join('\n'));
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({
      line: 1, endLine: 6, kind: 'queue-error', device: '0000:ff:1f.7',
      reason: { code: 0xf, name: 'IQE+ITE+ICE', text: 'Invalidation Queue Error; Invalidation Time-out Error; Invalidation Completion Error' },
      decoded: { errors: ['IQE', 'ITE', 'ICE'], iqei: 15, iteSid: '0xffff', iceSid: '0xffff', cleared: ['ITE'], qiHead: { qw0: '0x0', typeName: 'UNKNOWN' } },
    });
  });

  it('ITE with the Device-TLB invalidation that timed out names the device', () => {
    const r = vtd([
      '01:46:35 DMAR: VT-d detected Invalidation Time-out Error: SID 0',
      '01:46:35 DMAR: QI PRIOR: Device-TLB Invalidation qw0 = 0x5300530000000003, qw1 = 0x7ffffffffffff001',
      '01:46:35 DMAR: Invalidation Time-out Error (ITE) cleared',
    ].join('\n'));
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ endLine: 3, decoded: { qiPrior: { type: 3, typeName: 'Device-TLB Invalidation', device: '0000:53:00.0' } } });
  });

  it('older invalid-descriptor print and lone "cleared" lines', () => {
    expect(vtd('DMAR: VT-d detected invalid descriptor: qw0 = 3000000000002, qw1 = 0')[0]).toMatchObject({ kind: 'queue-error', reason: { name: 'IQE' }, decoded: { invalidDescriptor: { qw0: '0x3000000000002', type: 2 } } });
    expect(vtd('DMAR: Invalidation Completion Error (ICE) cleared')[0]).toMatchObject({ kind: 'queue-error', reason: { name: 'ICE', text: 'Invalidation Completion Error' } });
  });
});

describe('intel-vtd: page requests (reference §3.7)', () => {
  // qw0: PASID 0x21, RID 0x0050 (00:0a.0), pasid_present, type 1; qw1: addr 0x800000000000 (not canonical), prg 3, lpig, read
  const qw0 = 0x0000002100500101n;
  const qw1 = 0x800000000000n | (3n << 3n) | 4n | 1n;

  it('a descriptor line whose values are cut joins only the same IOMMU\'s reason line', () => {
    const r = vtd(['[ 9.1] IOMMU: dmar1: Page request in Privilege Mode', '[ 9.1] dmar12: Invalid page request: [...]', '[ 9.1] dmar1: Invalid page request: 0000'].join('\n'));
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ line: 1, endLine: 3, iommu: 'dmar1', reason: { name: 'PRQ_PRIV_MODE' } });
    expect(r[0]!.registers).toBeUndefined();
  });

  it('bad request reason line joins the raw descriptor', () => {
    const r = vtd([
      '[ 9.1] IOMMU: dmar1: Address is not canonical',
      printf('[ 9.1] %s: Invalid page request: %08llx %08llx', 'dmar1', qw0, qw1),
    ].join('\n'));
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({
      line: 1, endLine: 2, kind: 'page-request', iommu: 'dmar1', device: '0000:00:0a.0', pasid: '0x21', iova: '0x800000000000', access: 'read',
      reason: { name: 'PRQ_NON_CANONICAL', text: 'Address is not canonical' },
      registers: { prq_qw0: '0x2100500101', prq_qw1: '0x80000000001d' },
      decoded: { prq: { rid: '0x50', pasidPresent: true, lpig: true, prgIndex: 3, rd: true, wr: false, exe: false, priv: false } },
    });
  });

  it('descriptor-only and old svm.c prints', () => {
    expect(vtd(printf('%s: Invalid page request: %08llx %08llx', 'dmar0', qw0, qw1))[0]).toMatchObject({ kind: 'page-request', iommu: 'dmar0', reason: { name: 'PRQ_INVALID' }, device: '0000:00:0a.0' });
    expect(vtd(printf('DMAR: %s: Page request without PASID: %08llx %08llx', 'dmar0', 0x00500001n, 0x1000n | 2n))[0]).toMatchObject({ reason: { name: 'PRQ_NO_PASID' }, access: 'write', iova: '0x1000' });
    const p = vtd(printf('%s: Page request for invalid PASID %d: %08llx %08llx', 'dmar2', 7, 0x0000000700500101n, 0x5000n | 1n))[0]!;
    expect(p).toMatchObject({ iommu: 'dmar2', pasid: '0x7', reason: { name: 'PRQ_INVALID_PASID' } });
    for (const why of ['Page request without PASID', 'Page request in Privilege Mode', 'Execution request not supported']) {
      expect(vtd(`IOMMU: dmar0: ${why}`)[0], why).toMatchObject({ kind: 'page-request', iommu: 'dmar0', reason: { text: why } });
    }
  });

  it('PRQ overflow detected/cleared is one queue error', () => {
    const r = vtd('IOMMU: dmar3: PRQ overflow detected\nunrelated\nIOMMU: dmar3: PRQ overflow cleared');
    expect(r).toEqual([expect.objectContaining({ kind: 'queue-error', iommu: 'dmar3', line: 1, endLine: 3, reason: { name: 'PRQ_OVERFLOW', text: 'PRQ overflow detected' }, decoded: { cleared: true } })]);
  });

  it('prq_report trace lines (Lu Baolu, "iommu/vt-d: Add prq_report trace event", commit message)', () => {
    // source: lore iommu list, Lu Baolu 2021 patch adding TRACE_EVENT(prq_report); lines as in its commit message ("| " prefix)
    const r = vtd([
      '| prq_report: dmar0/0000:00:0a.0 seq# 7: rid=0x50 addr=0x559ef6f9a r---- pasid=0x2 index=0x1',
      '| prq_report: dmar0/0000:00:0a.0 seq# 8: rid=0x50 addr=0x559ef6f9f rw--l pasid=0x2 index=0x1',
      '  kworker/2:1-123 [002] ..... 4512.250001: prq_report: dmar1/0000:6a:01.0 seq# 3: rid=0x6a08 addr=0x7f0 -wx-l pasid=0x1f index=0x1ff private=0x1/0x2',
    ].join('\n'));
    expect(r.map((x) => [x.kind, x.iommu, x.device, x.iova, x.access, x.pasid])).toEqual([
      ['page-request', 'dmar0', '0000:00:0a.0', '0x559ef6f9a000', 'read', '0x2'],
      ['page-request', 'dmar0', '0000:00:0a.0', '0x559ef6f9f000', 'read+write', '0x2'],
      ['page-request', 'dmar1', '0000:6a:01.0', '0x7f0000', 'write+exec', '0x1f'],
    ]);
    expect(r[1]!.decoded).toMatchObject({ prq: { seq: 8, lpig: true, prgIndex: 1 } });
    expect(r[2]!.decoded).toMatchObject({ prq: { requester: '0000:6a:01.0', privateData: ['0x1', '0x2'] } });
    expect(r[2]!.time).toBeCloseTo(4512.250001, 6);
  });
});

describe('intel-vtd: Xen print generations built from their format strings (reference §3.8)', () => {
  const X = '(XEN) [VT-D]';
  it('4.10 (iommu reg), 4.14, 4.15+ (%pp), HEAD (on iommu:N): two lines, one record', () => {
    const reason = (kind: string, code: number, text: string) => printf(`${X}%s: reason %02x - %s`, kind, code, text);
    const cases: [string[], Partial<FaultRecord>, Record<string, unknown>][] = [
      [[printf(`${X}DMAR:[%s] Request device [%04x:%02x:%02x.%u] fault addr %${PRIx64}, iommu reg = %p`, 'DMA Read', 0, 0, 0x1f, 2, 0x7ffff000n, 0xffff82c000203000n), reason('DMAR', 6, 'PTE Read access is not set')],
        { kind: 'dma-fault', device: '0000:00:1f.2', iova: '0x7ffff000', access: 'read', reason: { code: 6, name: 'PTE_READ', text: 'PTE Read access is not set' } }, { iommuReg: '0xffff82c000203000' }],
      [[printf(`${X}DMAR:[%s] Request device [%04x:%02x:%02x.%u] fault addr %${PRIx64}`, 'DMA Write', 0, 0, 0x1f, 2, 0x7fd5000n), reason('DMAR', 5, 'PTE Write access is not set')],
        { kind: 'dma-fault', iova: '0x7fd5000', access: 'write', reason: { code: 5, name: 'PTE_WRITE' } }, {}],
      [[printf(`${X}INTR-REMAP: Request device [%04x:%02x:%02x.%u] fault index %${PRIx64}`, 1, 0x80, 0, 1, 0x12n), reason('INTR-REMAP', 0x22, 'Present field in the IRTE entry is clear') + ' on iommu:1'],
        { kind: 'intr-remap-fault', device: '0001:80:00.1', iommu: 'iommu:1', reason: { code: 0x22, name: 'IRTE_NOT_PRESENT', text: 'Present field in the IRTE entry is clear' } }, { faultIndex: '0x12' }],
      [[printf(`${X}UNKNOWN: Request device [%04x:%02x:%02x.%u] fault addr %${PRIx64}`, 0, 3, 0, 0, 0xabc000n), reason('UNKNOWN', 0x0e, 'Unknown')],
        { kind: 'dma-fault', device: '0000:03:00.0', iova: '0xabc000', reason: { code: 0x0e, name: 'UNKNOWN', text: 'Unknown' } }, {}],
      [[printf(`${X}DMAR:[%s] Request device [%04x:%02x:%02x.%u] fault addr %${PRIx64}`, 'DMA Read', 0, 0, 2, 0, 0x1000n), reason('DMAR', 0x0d, 'Blocked a DMA translation request')],
        { reason: { code: 0x0d, name: 'TRANSLATION_BLOCKED', text: 'Blocked a DMA translation request' } }, {}],
    ];
    for (const [lines, want, decoded] of cases) {
      const r = vtd(lines.join('\n'));
      expect(r, lines[0]).toHaveLength(1);
      expect(r[0], lines[0]).toMatchObject({ line: 1, endLine: 2, host: 'xen', family: 'intel-vtd', ...want });
      expect(r[0]!.decoded, lines[0]).toMatchObject(decoded);
    }
  });

  it('old dprintk form with "[fault reason 06h]" second line, and guest lines interleaved', () => {
    const r = vtd([
      '(XEN) [VT-D]iommu.c:782: DMAR:[DMA Read] Request device [00:02.0] fault addr 7fff000, iommu reg = ffff82c3fff57000',
      '(XEN) DMAR:[fault reason 06h] PTE Read access is not set',
      '(XEN) [VT-D]DMAR:[DMA Write] Request device [0000:00:02.0] fault addr 1000',
      '(d1) guest says hello',
      '(XEN) [VT-D]DMAR: reason 0c - non-zero reserved fields in PTE',
    ].join('\n'));
    expect(r.map((x) => [x.line, x.endLine, x.host, x.device, x.iova, x.reason?.code])).toEqual([
      [1, 2, 'xen', '0000:00:02.0', '0x7fff000', 6],
      [3, 5, 'xen', '0000:00:02.0', '0x1000', 0x0c],
    ]);
  });

  it.runIf(corpusAvailable())('print_vtd_entries walk (real lines, corpus/dumps.txt) joins the fault it follows; alone it is no record', () => {
    const walk = corpusEntries('dumps.txt').find((e) => e.lines[0]!.includes('print_vtd_entries'))!.lines;
    expect(vtd(walk.join('\n'))).toEqual([]);
    const fault = [
      printf(`Oct 16 15:58:05.110770 VM hypervisor: ${X}DMAR:[%s] Request device [%pp] fault addr %${PRIx64}`, 'DMA Read', '0000:00:02.0', 0xea0c4f000n),
      printf(`Oct 16 15:58:05.110772 VM hypervisor: ${X}%s: reason %02x - %s`, 'DMAR', 6, 'PTE Read access is not set'),
    ];
    const r = vtd([...fault, ...walk].join('\n'));
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({
      host: 'xen', device: '0000:00:02.0', iova: '0xea0c4f000', endLine: 2 + walk.length,
      decoded: { dump: { iommu: 'iommu:0', gmfn: '0xea0c4f', rootEntry: '0x46e129001', contextEntry: { hi: '0x2', lo: '0x46e128001' }, ptes: [{ level: 4, index: 0, value: '0x46e11b003' }, { level: 3, index: 0x3a, value: '0x0' }], notPresent: 'l3[03a]' } },
    });
  });

  it('reason line wrapped after "reason %02x -" or inside its text: the printed text, joined, is the reason', () => {
    const head = (a: bigint) => printf(`${X}DMAR:[%s] Request device [%pp] fault addr %${PRIx64}`, 'DMA Read', '0000:00:02.0', a);
    const r = vtd([
      head(0x1000n), printf(`${X}%s: reason %02x -`, 'DMAR', 0x0d), 'Blocked a DMA translation request',
      head(0x2000n), printf(`${X}%s: reason %02x - %s`, 'DMAR', 6, 'PTE Read'), '> access is not set on iommu:1',
      head(0x3000n), printf(`${X}%s: reason %02x - %s`, 'DMAR', 5, 'PTE Write acc='), 'ess is not set',
      head(0x4000n), printf(`${X}%s: reason %02x -`, 'DMAR', 0x0c), '(XEN) [VT-D]iommu.c:1000: something else',
    ].join('\n'));
    expect(r.map((x) => [x.line, x.endLine, x.iova, x.iommu, x.reason?.code, x.reason?.text])).toEqual([
      // Xen's own text for 0x0d, not Linux's "PCE for translation request specifies blocking"
      [1, 3, '0x1000', undefined, 0x0d, 'Blocked a DMA translation request'],
      [4, 6, '0x2000', 'iommu:1', 6, 'PTE Read access is not set'],
      [7, 9, '0x3000', undefined, 5, 'PTE Write access is not set'],
      // the next line is Xen's own: the text stays the table's
      [10, 11, '0x4000', undefined, 0x0c, 'non-zero reserved fields in PTE'],
    ]);
  });

  it('a reason line cut after its code takes a custom text, but not a stamped line or a line that continues another text', () => {
    const head = printf(`${X}DMAR:[%s] Request device [%pp] fault addr %${PRIx64}`, 'DMA Write', '0000:00:1f.2', 0x7fd5000n);
    const custom = vtd([head, printf(`${X}%s: reason %02x -`, 'DMAR', 5), 'Write permission denied by a custom build'].join('\n'));
    expect(custom[0]).toMatchObject({ endLine: 3, reason: { code: 5, name: 'PTE_WRITE', text: 'Write permission denied by a custom build' } });
    const stamped = vtd([head, printf(`${X}%s: reason %02x -`, 'DMAR', 5), '[ 5.0] e1000e: link up'].join('\n'));
    expect(stamped[0]).toMatchObject({ endLine: 2, reason: { code: 5, text: 'PTE Write access is not set' } });
    const other = vtd([head, printf(`${X}%s: reason %02x - %s`, 'DMAR', 5, 'PTE Write'), 'guest kernel panicked'].join('\n'));
    expect(other[0]).toMatchObject({ endLine: 2, reason: { code: 5, text: 'PTE Write access is not set' } });
    // Linux's old two-line form, its reason line wrapped after the code
    const old = vtd(['DMAR:[DMA Read] Request device [00:02.0] fault addr 7fff000', 'DMAR:[fault reason 06]', 'PTE Read access is not set'].join('\n'));
    expect(old[0]).toMatchObject({ line: 1, endLine: 3, iova: '0x7fff000', reason: { code: 6, text: 'PTE Read access is not set' } });
  });

  it('a cut reason line still lets print_vtd_entries follow', () => {
    const r = vtd([
      printf(`${X}DMAR:[%s] Request device [%pp] fault addr %${PRIx64}`, 'DMA Read', '0000:00:02.0', 0xea0c4f000n),
      printf(`${X}%s: reason %02x -`, 'DMAR', 6),
      '(XEN) print_vtd_entries: iommu #0 dev 0000:00:02.0 gmfn ea0c4f',
      '(XEN)     root_entry[00] = 46e129001',
    ].join('\n'));
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ endLine: 4, reason: { code: 6, text: 'PTE Read access is not set' }, decoded: { dump: { gmfn: '0xea0c4f', rootEntry: '0x46e129001' } } });
  });

  it('Xen reason codes are hex: "reason 25" is 0x25', () => {
    const r = vtd('(XEN) [VT-D]INTR-REMAP: Request device [0000:00:1f.0] fault index 0\n(XEN) [VT-D]INTR-REMAP: reason 25 - Blocked a compatibility format interrupt request');
    expect(r[0]!.reason?.code).toBe(0x25);
  });

  it('queued invalidation wait timeout: print_qi_regs() dump, the 4.8+ warning, the ATS flush failure; the old panic', () => {
    const regs = (iqa: bigint, iqh: bigint, iqt: bigint) => [
      printf(`(XEN) DMAR_IQA_REG = %${PRIx64}`, iqa), printf(`(XEN) DMAR_IQH_REG = %${PRIx64}`, iqh), printf(`(XEN) DMAR_IQT_REG = %${PRIx64}`, iqt),
    ];
    const r = vtd([
      ...regs(0x44f30d000n, 0x1a0n, 0x1c0n),
      `${X} Queue invalidate wait descriptor timed out`,
      printf('(XEN) dom%d: ATS device %pp flush failed', 1, '0000:03:00.0'),
      `${X} Queue invalidate wait descriptor timed out`,
      ...regs(0x44f30d000n, 0x20n, 0x30n),
      '(XEN) ****************************************',
      '(XEN) Panic on CPU 0:',
      '(XEN) queue invalidate wait descriptor was not executed',
      '(XEN) ****************************************',
    ].join('\n'));
    expect(r.map((x) => [x.line, x.endLine, x.kind, x.reason?.name, x.device])).toEqual([
      [1, 5, 'queue-error', 'QI_WAIT_TIMEOUT', '0000:03:00.0'],
      [6, undefined, 'queue-error', 'QI_WAIT_TIMEOUT', undefined],
      [7, 12, 'queue-error', 'QI_WAIT_TIMEOUT', undefined],
    ]);
    expect(r[0]).toMatchObject({ host: 'xen', registers: { iqa: '0x44f30d000', iqh: '0x1a0', iqt: '0x1c0' }, decoded: { qiHead: 0x1a, qiTail: 0x1c, xenDomain: 1, atsFlushFailed: true } });
    expect(r[2]).toMatchObject({ registers: { iqh: '0x20', iqt: '0x30' }, decoded: { qiHead: 2, qiTail: 3, panic: true } });
    // quoted without "(XEN)": the wording is Xen's alone; an ATS failure alone is its own record
    const q = vtd(['> DMAR_IQA_REG = 1000', '> DMAR_IQH_REG = 40', '> DMAR_IQT_REG = 50', '> [VT-D] Queue invalidate wait descriptor timed out', 'dom3: ATS device 0000:65:00.1 flush failed'].join('\n'));
    expect(q.map((x) => [x.line, x.endLine, x.reason?.name, x.device])).toEqual([[1, 5, 'QI_WAIT_TIMEOUT', '0000:65:00.1']]);
    expect(vtd('(XEN) dom2: ATS device 0000:05:00.0 flush failed')[0]).toMatchObject({ kind: 'queue-error', reason: { name: 'ATS_FLUSH_FAILED' }, device: '0000:05:00.0', decoded: { xenDomain: 2 } });
    // a dump starts with IQA: a lone IQH line is nothing
    expect(vtd('(XEN) DMAR_IQH_REG = 40')).toEqual([]);
  });

  it('Xen invalidation errors from iommu_fault_status', () => {
    expect(vtd('(XEN) [VT-D]iommu.c:900: iommu_fault_status: Invalidation Time-out Error')[0]).toMatchObject({ host: 'xen', kind: 'queue-error', reason: { name: 'ITE' } });
    expect(vtd('(XEN) [VT-D]iommu.c:900: iommu_fault_status: Primary Pending Fault')).toEqual([]);
  });
});

describe('intel-vtd: hostile input', () => {
  it('long and malformed lines neither throw nor take long', () => {
    const evil = [
      'DMAR: [DMA Read] Request device [' + '['.repeat(100000),
      'DMAR: [DMA Read] Request device [00:02.0] fault addr ' + '0'.repeat(100000),
      'DMAR: [DMA Read] Request device [00:02.0] fault addr 0x1 [fault reason ' + '9'.repeat(100000),
      'IOMMU: dmar0: ' + 'Page request '.repeat(10000),
      'prq_report: dmar0/' + 'x'.repeat(100000),
      'DMAR: DRHD: handling fault status reg ' + 'f'.repeat(100000),
      'DMAR: VT-d detected Invalidation Queue Error: Reason ' + 'f'.repeat(100000),
      // cut before the BDF, quoted-printable soft breaks, quote marks, code fences
      'DMAR: [DMA Read NO_PASID] Request device\n[' + '0'.repeat(100000),
      'DMAR: [INTR-REMAP] Request device [f0:1f.0] fault index 0=\n' + '='.repeat(100000),
      'DMAR: [DMA Write] Request device [00:02.0] fault\n' + '>'.repeat(100000) + ' addr',
      '(XEN) [VT-D]DMAR:[DMA Read] Request device [0000:00:02.0] fault addr 1' + '`'.repeat(100000),
      // reason line cut after its code, Xen's queue timeout lines
      '(XEN) [VT-D]DMAR:[DMA Read] Request device [0000:00:02.0] fault addr 1\n(XEN) [VT-D]DMAR: reason 06 -\n' + 'a '.repeat(50000),
      ' '.repeat(100000) + 'DMAR_IQA_REG = 1' + ' '.repeat(100000) + 'x',
      'DMAR_IQA_REG = ' + '1'.repeat(100000),
      'dom1: ATS device ' + '0'.repeat(100000),
      ' Queue invalidate wait descriptor timed out'.repeat(3000),
    ];
    const t0 = Date.now();
    for (const l of evil) expect(() => scanText(l + '\n' + l)).not.toThrow();
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('VT-d: reasons read once per printed text', () => {
  it('gives every record its own reason objects, base by base', () => {
    const line = (dev: string, addr: string, r: string) =>
      `DMAR: [DMA Read NO_PASID] Request device [${dev}] fault addr 0x${addr} [fault reason ${r}] PTE Read access is not set`;
    const recs = vtd([line('0000:04:1d.0', 'f3d2e000', '0x06'), line('0000:00:02.0', '1000', '0x06'), line('0000:00:02.0', '2000', '06')].join('\n'));
    expect(recs.map((r) => [r.device, r.iova, r.reason?.code, r.reason?.name, r.reason?.text])).toEqual([
      ['0000:04:1d.0', '0xf3d2e000', 6, 'PTE_READ', 'PTE Read access is not set'],
      ['0000:00:02.0', '0x1000', 6, 'PTE_READ', 'PTE Read access is not set'],
      ['0000:00:02.0', '0x2000', 6, 'PTE_READ', 'PTE Read access is not set'],
    ]);
    expect(recs[0]!.reason).not.toBe(recs[1]!.reason);
    expect((recs[0]!.decoded as Record<string, unknown>).reason).not.toBe((recs[1]!.decoded as Record<string, unknown>).reason);
    // the same reason text in a Xen print (hex base) is read on its own
    const xen = scanText('(XEN) [VT-D]DMAR:[DMA Read] Request device [0000:00:02.0] fault addr 1000\n(XEN) [VT-D]DMAR: reason 06 - PTE Read access is not set');
    expect(xen[0]?.reason?.code).toBe(6);
  });
});

describe('VT-d: parseHead reads canonical devices without the device regex', () => {
  it('answers as RE_DEVICE + deviceOf for every device shape', async () => {
    const { parseHead } = await import('../../../src/core/logs/families/intel-vtd');
    const { deviceOf } = await import('../../../src/core/logs/families/intel-vtd-parse');
    const RE_DEVICE = /^\[{1,2}((?:[0-9a-fA-F]{4}:)?(?:0x)?[0-9a-fA-F]{1,2}:(?:0x)?[0-9a-fA-F]{1,2}\.[0-7])\]/;
    const devices = ['[0000:04:1d.0]', '[04:1d.0]', '[0000:04:1D.0]', '[0A:1d.7]', '[[42:00.2]', '[0x64:0x00.5]', '[0000:04:1d.8]',
      '[0000:04:1d.0', '[04:1d.0 ', '[00004:1d.0]', '[0000:041d.0]', '[0000:04:1d:0]', '[4:1d.0]', '[04:d.0]', '[0000:4:1d.0]', '[04:1d.0]]'];
    for (const dev of devices) {
      for (const rest of ['', ' fault addr 1000', '] x']) {
        const after = dev + rest;
        const d = RE_DEVICE.exec(after);
        const got = parseHead(`DMAR: [DMA Write] Request device ${after}`);
        if (!d) { expect(got, after).toBeUndefined(); continue; }
        expect(got?.device, after).toBe(deviceOf(d[1]!));
        expect(got?.tail, after).toBe(after.slice(d[0].length));
      }
    }
    expect(parseHead('DMAR: [DMA Read NO_PASID] Request device [0000:04:1d.0] fault addr 0x1000')).toEqual({
      type: 'dma', tail: ' fault addr 0x1000', device: '0000:04:1d.0', access: 'read', noPasid: true,
    });
  });
});
