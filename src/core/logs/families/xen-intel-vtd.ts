/**
 * Xen's own VT-d fault prints (xen/drivers/passthrough/vtd/iommu.c iommu_page_fault_do_one,
 * reference §3.8), every generation:
 *   old dprintk form:  "[VT-D]iommu.c:NNN: DMAR:[DMA Read] Request device [00:1f.2] fault addr A, iommu reg = P"
 *                      + "DMAR:[fault reason 06h] TEXT"
 *   4.10 … 4.14:       "[VT-D]DMAR:[DMA Read] Request device [0000:00:1f.2] fault addr A[, iommu reg = P]"
 *   4.15 … HEAD:       "[VT-D]DMAR:[DMA Read] Request device [%pp] fault addr A"
 *                      + "[VT-D]DMAR: reason 05 - TEXT[ on iommu:N]"
 * with INTR-REMAP ("fault index I") and UNKNOWN variants. The two lines become one record.
 * Listed before the Linux recogniser: a Xen line must never be read as a Linux one.
 */
import type { LogLine } from '../line';
import type { Feed, Recognition, Recognizer } from '../recognizer';
import { FAMILY, FaultPrint, parseHead, recordFromHead } from './intel-vtd';

const RE_STATUS = /iommu_fault_status: (Invalidation Queue Error|Invalidation Completion Error|Invalidation Time-out Error)\s*$/;
const STATUS_NAMES: Record<string, string> = {
  'Invalidation Queue Error': 'IQE', 'Invalidation Completion Error': 'ICE', 'Invalidation Time-out Error': 'ITE',
};

function isXen(line: LogLine): boolean {
  return line.host === 'xen' || line.message.includes('[VT-D]');
}

export const xenIntelVtdRecognizer: Recognizer = {
  family: FAMILY,
  keys: ['Request device [', 'iommu_fault_status: Invalidation'],
  recognize(line: LogLine): Recognition | undefined {
    if (!isXen(line)) return undefined;
    const msg = line.message.length > 2000 ? line.message.slice(0, 2000) : line.message;
    const h = parseHead(msg);
    if (h) {
      const rec = recordFromHead(line, h, 'xen');
      const p = new FaultPrint(rec, 16);
      p.start(line, h);
      if (p.complete) return { record: rec };
      return {
        record: rec,
        more: {
          window: 2,
          feed(l: LogLine): Feed {
            if (p.offer(l)) return p.complete ? 'done' : 'more';
            if (parseHead(l.message)) return 'end';
            // guests' and other CPUs' lines may interleave before the reason line
            return p.state === 'need-reason' ? 'skip' : 'end';
          },
        },
      };
    }
    const m = RE_STATUS.exec(msg);
    if (m) {
      const name = STATUS_NAMES[m[1]!]!;
      return {
        record: {
          line: line.line, family: FAMILY, host: 'xen', kind: 'queue-error',
          reason: { name, text: m[1]! }, decoded: { errors: [name] },
        },
      };
    }
    return undefined;
  },
};
