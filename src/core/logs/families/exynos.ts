/**
 * Samsung Exynos SysMMU (drivers/iommu/exynos-iommu.c show_fault_information):
 *
 *   ≥ 6.2  exynos-sysmmu 14650000.sysmmu: 14450000.mixer: [READ] PAGE FAULT occurred at 0x20000000
 *   4.10+  exynos-sysmmu 14650000.sysmmu: 14450000.mixer: AR MULTI-HIT FAULT occurred at 0x20000000
 *   ≤ 4.9  PAGE FAULT occurred at 0x20000000 by 14650000.sysmmu(Page table base: 0x...)     (pr_err)
 *   then (dev_dbg, or pr_err before 4.10): "Page table base: %pa", "\tLv1 entry: %#x", "\t Lv2 entry: %#x"
 *
 * Fault names: PAGE, PTW, MULTI-HIT, ACCESS PROTECTION, SECURITY PROTECTION, BUS ERROR, with an
 * AR/AW (read/write channel) prefix in the 4.10–6.1 tables.
 */
import type { Continuation, Recognizer } from '../recognizer';
import type { FaultRecord } from '../record';
import { hex } from '../normalize';
import { decodedFields } from '../../decode/register';
import { EXYNOS_LV1, EXYNOS_LV2 } from '../../decode/registers/soc-iommus';
import { unquote, byPatterns, wrappedContinuation } from './wrapped';

const FAMILY = 'exynos';
const RE_NEW = /(?:^|[\s\]>|])[\w.-]{1,64} ([\w.:@-]{1,96}): ([\w.:@-]{1,96}): (?:\[(READ|WRITE)\] )?([A-Z][A-Z -]{1,40}?) FAULT occurred at (0x[0-9a-fA-F]{1,16}|0)\s*$/;
// The start of a v4.10+ print that a mail client wrapped before or inside the fault name.
const RE_HEAD = /(?:^|[\s\]>|])[\w.-]{0,48}sysmmu[\w.-]{0,16} ([\w.:@-]{1,96}): ([\w.:@-]{1,96}):(?: \[(READ|WRITE)\])?(?: [A-Z][A-Z -]{0,40})?(?: occurred(?: at)?)?\s*$/;
// The ≥ 6.2 text quoted without the driver's columns (commit messages): the [READ]/[WRITE] tag
// keeps other kernels' "PAGE FAULT occurred at" prints out.
const RE_BARE = /^[\s>|]{0,24}\[(READ|WRITE)\] ([A-Z][A-Z -]{1,40}?) FAULT occurred at (0x[0-9a-fA-F]{1,16}|0)\s*$/;
const RE_OLD = /(?:^|\s)([A-Z][A-Z -]{1,40}?) occurred at (0x[0-9a-fA-F]{1,16}|0) by ([\w.:@-]{1,96})\(Page table base: (0x[0-9a-fA-F]{1,16})\)\s*$/;

const TEXT: readonly [RegExp, string][] = [
  [/PTW/, 'page table walk fault: a table entry could not be read or was malformed'],
  [/PAGE/, 'page fault: no valid mapping for the address'],
  [/MULTI-HIT/, 'several TLB entries matched the address'],
  [/ACCESS PROTECTION/, 'the mapping does not allow this access'],
  [/SECURITY PROTECTION/, 'secure/non-secure access violation'],
  [/BUS ERROR/, 'bus error (the access reached the default slave)'],
];

function build(line: number, iommu: string | undefined, master: string | undefined, dir: string | undefined, name: string, addr: string): FaultRecord {
  const rec: FaultRecord = { line, family: FAMILY, kind: /BUS ERROR/.test(name) ? 'bus-error' : 'page-fault', iova: hex(addr) };
  if (iommu) rec.iommu = iommu;
  if (master) rec.device = master;
  const channel = dir ?? (/^AR /.test(name) ? 'READ' : /^AW /.test(name) ? 'WRITE' : undefined);
  if (channel) rec.access = channel === 'READ' ? 'read' : 'write';
  const short = name.replace(/ FAULT$/, '');
  rec.reason = { name: short.replace(/[ -]/g, '_'), text: TEXT.find(([re]) => re.test(short))?.[1] ?? 'SysMMU fault' };
  return rec;
}

function entriesContinuation(rec: FaultRecord): Continuation {
  let baseWrapped = false;
  return {
    // other drivers' lines (and their wrapped halves) may come between the fault and its entries
    window: 3,
    feed(l) {
      const msg = l.message;
      let m: RegExpExecArray | null;
      if (baseWrapped && l.time === undefined && (m = /^(0x[0-9a-fA-F]{1,16})\s*$/.exec(unquote(msg)))) {
        baseWrapped = false;
        (rec.decoded ??= {}).pageTableBase = hex(m[1]!);
        return 'more';
      }
      if ((m = /(?:^|\s)Page table base: (0x[0-9a-fA-F]{1,16})\s*$/.exec(msg))) {
        (rec.decoded ??= {}).pageTableBase = hex(m[1]!);
        return 'more';
      }
      if (/(?:^|\s)Page table base:\s*$/.test(msg)) {
        baseWrapped = true;
        return 'more';
      }
      if ((m = /(?:^|\s)Lv([12]) entry: (0x[0-9a-fA-F]{1,8}|0)\s*$/.exec(msg))) {
        const key = m[1] === '1' ? 'lv1' : 'lv2';
        const v = hex(m[2]!)!;
        (rec.registers ??= {})[key] = v;
        (rec.decoded ??= {})[key] = decodedFields(key === 'lv1' ? EXYNOS_LV1 : EXYNOS_LV2, BigInt(v));
        const type = (rec.decoded[key] as { TYPE: string }).TYPE;
        if (key === 'lv1' && type === 'FAULT') rec.reason!.text += '; Lv1 entry is a fault entry: nothing mapped in this 1 MiB region';
        if (key === 'lv2' && type === 'FAULT') rec.reason!.text += '; Lv2 entry is a fault entry: the page is not mapped';
        return key === 'lv2' || type !== 'PAGE_TABLE' ? 'done' : 'more';
      }
      return 'skip';
    },
  };
}

export const exynosRecognizer: Recognizer = {
  family: FAMILY,
  keys: ['FAULT occurred at', 'occurred at', 'sysmmu'],
  recognize(line) {
    const msg = line.message;
    let m: RegExpExecArray | null;
    if ((m = RE_NEW.exec(msg))) {
      const rec = build(line.line, m[1], m[2], m[3], m[4]!, m[5]!);
      return { record: rec, more: entriesContinuation(rec) };
    }
    if ((m = RE_HEAD.exec(msg))) {
      const rec = build(line.line, m[1], m[2], m[3], 'UNKNOWN FAULT', '0');
      delete rec.iova;
      rec.reason!.text = 'SysMMU fault; the rest of the print was cut off';
      const more = wrappedContinuation(m[0], byPatterns(RE_NEW, RE_HEAD, (f) => Object.assign(rec, build(line.line, f[1], f[2], f[3], f[4]!, f[5]!)), 2), () => entriesContinuation(rec));
      return { record: rec, more };
    }
    if ((m = RE_BARE.exec(msg))) {
      const rec = build(line.line, undefined, undefined, m[1], m[2]!, m[3]!);
      return { record: rec, more: entriesContinuation(rec) };
    }
    if ((m = RE_OLD.exec(msg))) {
      const rec = build(line.line, m[3], undefined, undefined, m[1]!, m[2]!);
      (rec.decoded ??= {}).pageTableBase = hex(m[4]!);
      return { record: rec, more: entriesContinuation(rec) };
    }
    return undefined;
  },
};
