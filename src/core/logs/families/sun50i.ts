/**
 * Allwinner H6/H616 IOMMU (drivers/iommu/sun50i-iommu.c sun50i_iommu_report_fault, 5.8+),
 * dev_err, one line per fault:
 *
 *   sun50i-iommu 30f0000.iommu: Page fault for 0x0000000012345000 (master 3, dir rd)
 *   sun50i-iommu 30f0000.iommu: Page fault while iommu not attached to any domain?
 *
 * The interrupt that raised it (invalid L1 entry, invalid L2 entry, or a permission fault) is
 * not printed; for the two invalid-entry cases the driver cannot tell the direction and prints
 * "rd". The master is the index of the blamed bit in the interrupt status.
 */
import type { Continuation, Recognizer } from '../recognizer';
import type { FaultRecord } from '../record';
import { hex } from '../normalize';
import { devPrefixAt } from './dev-prefix';

const FAMILY = 'sun50i';
// A print quoted inline in Markdown ends at its closing backtick.
const RE_FAULT = /Page fault for (0x[0-9a-fA-F]{1,16}) \(master (\d{1,2}), dir (rd|wr)\)\s*(?:`.{0,200})?$/;
// Without a "driver device: " prefix: nothing but quote marks before it, or the driver's name alone.
const RE_BARE_HEAD = /^[\s>|`]{0,24}(?:sun50i[\w-]{0,16}: )?$/;
const RE_NO_DOMAIN = /Page fault while iommu not attached to any domain\?\s*$/;

function noDomain(rec: FaultRecord, iommu: string | undefined): Continuation {
  return {
    window: 1,
    feed(l) {
      const m = RE_NO_DOMAIN.exec(l.message);
      if (!m || (iommu !== undefined && devPrefixAt(l.message, m.index)?.device !== iommu)) return 'end';
      (rec.decoded ??= {}).notAttached = true;
      rec.reason!.text += '; the IOMMU was not attached to a domain';
      return 'done';
    },
  };
}

export const sun50iRecognizer: Recognizer = {
  family: FAMILY,
  keys: ['Page fault for 0x'],
  recognize(line) {
    const msg = line.message;
    const m = RE_FAULT.exec(msg);
    if (!m) return undefined;
    const p = devPrefixAt(msg, m.index);
    if (!p && !RE_BARE_HEAD.test(msg.slice(0, m.index))) return undefined;
    const write = m[3] === 'wr';
    const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'page-fault', iova: hex(m[1]!), access: write ? 'write' : 'read' };
    if (p) rec.iommu = p.device;
    rec.decoded = { master: Number(m[2]) };
    rec.reason = {
      name: 'PAGE_FAULT',
      text: write
        ? `write by master ${m[2]} at IOVA ${rec.iova} refused: the page is mapped read-only`
        : `master ${m[2]} faulted at IOVA ${rec.iova}: no valid L1/L2 entry, or a permission fault (the driver prints "rd" when it cannot tell the direction)`,
    };
    return { record: rec, more: noDomain(rec, p?.device) };
  },
};
