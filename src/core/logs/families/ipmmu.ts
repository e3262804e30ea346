/**
 * Renesas R-Car IPMMU (drivers/iommu/ipmmu-vmsa.c ipmmu_domain_irq), dev_err_ratelimited:
 *
 *   ipmmu-vmsa eed40000.iommu: Unhandled fault: status 0x00001502 iova 0xfe000000
 *   ipmmu-vmsa eed40000.iommu: Multiple TLB hits @0x...
 *   ipmmu-vmsa eed40000.iommu: Page Table Walk Abort @0x...
 *
 * "Unhandled fault" comes only when no fault handler took a TF/PF fault; status is IMSTR.
 */
import type { Recognizer } from '../recognizer';
import type { FaultRecord } from '../record';
import { hex } from '../normalize';
import { decodedFields } from '../../decode/register';
import { IPMMU_IMSTR } from '../../decode/registers/soc-iommus';
import { devPrefixAt } from './dev-prefix';

const FAMILY = 'ipmmu';
const RE_UNHANDLED = /Unhandled fault: status (0x[0-9a-fA-F]{1,8}) iova (0x[0-9a-fA-F]{1,16})\s*$/;
const RE_OTHER = /(Multiple TLB hits|Page Table Walk Abort) @(0x[0-9a-fA-F]{1,16})\s*$/;

function explain(imstr: Record<string, unknown>): string {
  const parts: string[] = [];
  if (imstr.TF) parts.push('translation fault (TF): no valid mapping for the IOVA');
  if (imstr.PF) parts.push('page fault (PF)');
  if (imstr.ABORT) parts.push('page table walk aborted');
  if (imstr.MHIT) parts.push('multiple TLB hits');
  if (typeof imstr.ERRCODE === 'string') parts.push(`error code ${imstr.ERRCODE} at level ${imstr.ERRLVL}`);
  return parts.length ? parts.join('; ') : 'fault status without TF/PF bits';
}

export const ipmmuRecognizer: Recognizer = {
  family: FAMILY,
  keys: ['Unhandled fault: status', 'Multiple TLB hits @', 'Page Table Walk Abort @'],
  recognize(line) {
    const msg = line.message;
    let m: RegExpExecArray | null;
    if ((m = RE_UNHANDLED.exec(msg))) {
      const p = devPrefixAt(msg, m.index);
      const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'page-fault', iova: hex(m[2]!) };
      // Xen's port prints "ipmmu: <dt path>: " instead of "driver device: ".
      const dev = p?.device ?? /(?:^|\s)([\w.:@/-]{1,160}): $/.exec(msg.slice(Math.max(0, m.index - 200), m.index))?.[1];
      if (dev) rec.iommu = dev;
      const v = hex(m[1]!)!;
      rec.registers = { imstr: v };
      const f = decodedFields(IPMMU_IMSTR, BigInt(v));
      rec.decoded = { imstr: f };
      rec.reason = { code: v, name: f.TF ? 'TF' : f.PF ? 'PF' : 'FAULT', text: explain(f) };
      return { record: rec };
    }
    if ((m = RE_OTHER.exec(msg))) {
      const p = devPrefixAt(msg, m.index);
      if (!p || !/ipmmu/.test(p.driver + p.device)) return undefined;
      const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'page-fault', iova: hex(m[2]!), iommu: p.device };
      rec.reason = m[1] === 'Multiple TLB hits'
        ? { name: 'MHIT', text: 'several TLB entries matched the IOVA (overlapping mappings or a missed invalidation)' }
        : { name: 'ABORT', text: 'bus error while walking the page tables (table address points to no memory)' };
      return { record: rec };
    }
    return undefined;
  },
};
