/**
 * virtio-iommu fault events (Linux `drivers/iommu/virtio-iommu.c` viommu_fault_handler()):
 *
 *     dev_err_ratelimited(viommu->dev, "%s fault from EP %u at %#llx [%s%s%s]\n", ...)  (F_ADDRESS set)
 *     dev_err_ratelimited(viommu->dev, "%s fault from EP %u\n", ...)
 *
 * e.g. `virtio_iommu virtio0: page fault from EP 8 at 0x8000 [W]`. The reason word maps back to
 * VIRTIO_IOMMU_FAULT_R_*, and the R/W/X letters plus the presence of the address give back the
 * flags exactly (no other flag bits are defined). The endpoint ID is the virtio-iommu's stream
 * identifier (for PCI usually the requester ID), reported as streamId.
 * A non-mainline nested-translation series adds "PASID %u" and more reason words; they are
 * recognised too.
 */
import type { FaultRecord } from '../record';
import type { Recognizer } from '../recognizer';
import { accessOf, hex } from '../normalize';
import { decodedFields } from '../../decode/register';
import { VIRTIO_IOMMU_REGISTERS } from '../../decode/registers/arm-smmu-v3';

const FAMILY = 'virtio-iommu';

/** Printed reason word → [code, name, text]. Codes 3–5 exist only in the non-mainline series. */
const REASONS: Readonly<Record<string, [number | undefined, string, string]>> = {
  unknown: [0, 'VIRTIO_IOMMU_FAULT_R_UNKNOWN', 'unknown fault reason'],
  domain: [1, 'VIRTIO_IOMMU_FAULT_R_DOMAIN', 'the endpoint is not attached to a domain'],
  page: [2, 'VIRTIO_IOMMU_FAULT_R_MAPPING', 'no valid mapping for the address, or the access is not permitted'],
  'page walk external abort': [3, 'VIRTIO_IOMMU_FAULT_R_WALK_EABT', 'external abort while walking the page tables (non-mainline)'],
  'pte fetch': [4, 'VIRTIO_IOMMU_FAULT_R_PTE_FETCH', 'page table entry fetch failed (non-mainline)'],
  permission: [5, 'VIRTIO_IOMMU_FAULT_R_PERMISSION', 'permission fault (non-mainline)'],
  access: [undefined, 'VIRTIO_IOMMU_FAULT_R_ACCESS', 'access flag fault (non-mainline)'],
  'output address': [undefined, 'VIRTIO_IOMMU_FAULT_R_OOR_ADDRESS', 'output address out of range (non-mainline)'],
};

const RE_PREFIX = /^(?:(\S{1,64}) )?(\S{1,128}): /;
const RE_FAULT = /^(unknown|domain|page walk external abort|page|pte fetch|permission|access|output address) fault from EP (\d{1,10})(?: PASID (\d{1,10}))?(?: at (0x[0-9a-fA-F]{1,16}|0) \[(R?)(W?)(X?)\])?\s*$/;

const DESC = new Map(VIRTIO_IOMMU_REGISTERS.map((d) => [d.key, d]));

export const virtioIommuRecognizer: Recognizer = {
  family: FAMILY,
  keys: [' fault from EP '],
  recognize(line) {
    let rest = line.message;
    let iommu: string | undefined;
    const p = RE_PREFIX.exec(rest);
    if (p && !RE_FAULT.test(rest)) {
      rest = rest.slice(p[0].length);
      iommu = p[2];
    }
    const m = RE_FAULT.exec(rest);
    if (!m) return undefined;
    const [code, name, text] = REASONS[m[1]!]!;
    const r: FaultRecord = { line: line.line, family: FAMILY, kind: 'event' };
    if (iommu) r.iommu = iommu;
    r.streamId = hex(Number(m[2]));
    if (m[3] !== undefined) r.pasid = hex(Number(m[3]));
    r.reason = { name, text };
    if (code !== undefined) r.reason.code = code;
    let flags = 0;
    if (m[4] !== undefined) {
      r.iova = hex(m[4]);
      flags = 0x100 | (m[5] ? 1 : 0) | (m[6] ? 2 : 0) | (m[7] ? 4 : 0);
      const access = accessOf({ read: !!m[5], write: !!m[6], exec: !!m[7] });
      if (access) r.access = access;
    }
    r.registers = { flags: hex(flags)! };
    if (code !== undefined) r.registers.reason = hex(code)!;
    r.decoded = {
      endpoint: Number(m[2]),
      reasonPrinted: m[1],
      flags: decodedFields(DESC.get('flags')!, BigInt(flags)),
      flagsFrom: 'rebuilt from the printed R/W/X letters and the presence of an address',
    };
    return { record: r };
  },
};
