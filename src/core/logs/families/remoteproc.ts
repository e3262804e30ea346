/**
 * The remoteproc core's IOMMU fault handler (drivers/remoteproc/remoteproc_core.c
 * rproc_iommu_fault, 3.4+; OMAP's remoteproc had the same text before), dev_err:
 *
 *   omap-rproc 55020000.ipu: iommu fault: da 0x9f000000 flags 0x0
 *
 * "da" is the remote processor's device address, "flags" the report_iommu_fault() flags
 * (IOMMU_FAULT_WRITE = 0x1; the OMAP IOMMU always passes 0, so 0 does not mean a read). The
 * IOMMU driver's own print (omap-iommu "errs:...") usually follows; the remote processor is
 * then crashed and recovered ("crash detected in ...: type mmufault").
 */
import type { Recognizer } from '../recognizer';
import type { FaultRecord } from '../record';
import { hex } from '../normalize';
import { devPrefixAt } from './dev-prefix';

const FAMILY = 'remoteproc';
const RE = /iommu fault: da (0x[0-9a-fA-F]{1,16}) flags (0x[0-9a-fA-F]{1,8})\s*$/;

export const remoteprocRecognizer: Recognizer = {
  family: FAMILY,
  keys: ['iommu fault: da 0x'],
  recognize(line) {
    const msg = line.message;
    const m = RE.exec(msg);
    if (!m) return undefined;
    const p = devPrefixAt(msg, m.index);
    if (!p && !/^[\s>|`]{0,24}$/.test(msg.slice(0, m.index))) return undefined;
    const flags = Number(m[2]);
    const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'page-fault', iova: hex(m[1]!)! };
    if (p) rec.device = p.device;
    if (flags & 1) rec.access = 'write';
    rec.decoded = { flags };
    rec.reason = {
      name: 'MMUFAULT',
      text: `the remote processor accessed device address ${rec.iova}, which its IOMMU does not map; remoteproc reports a crash (mmufault) and recovers the processor`,
    };
    return { record: rec };
  },
};
