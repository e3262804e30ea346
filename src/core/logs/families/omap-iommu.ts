/**
 * TI OMAP IOMMU (drivers/iommu/omap-iommu.c iommu_fault_handler; OMAP3/4/5, DRA7/AM57xx IPU and
 * DSP MMUs), dev_err when no fault handler took the fault, one line:
 *
 *   omap-iommu 55082000.mmu: 55082000.mmu: errs:0x00000002 da:0x9f000000 pgd:0x(ptrval) *pgd:px00000000
 *   omap-iommu 58882000.mmu: mmu_ipu2: errs:0x00000002 da:0x60000000 pgd:0xe0f4a800 *pgd:0x9e4c0001 pte:0xde3cb000 *pte:0x00000000
 *
 * "%s: errs:0x%08x da:0x%08x pgd:0x%p *pgd:px%08x" when the first-level entry is not a table
 * (the "px" is the driver's own typo), else "... *pgd:0x%08x pte:0x%p *pte:0x%08x". The first
 * %s is the MMU's name (platform data name in old kernels, the device name in newer ones);
 * errs is MMU_IRQSTATUS, da the faulting device address.
 */
import type { Recognizer } from '../recognizer';
import type { FaultRecord } from '../record';
import { hex } from '../normalize';
import { decodedFields } from '../../decode/register';
import { OMAP_IOPGD, OMAP_IOPTE, OMAP_MMU_IRQSTATUS } from '../../decode/registers/soc-iommus';
import { devPrefixAt } from './dev-prefix';

const FAMILY = 'omap-iommu';
// %p: a hashed pointer, "(ptrval)" early in boot, or a raw pointer in old kernels.
const RE = /(?:^|[\s\]>|])([\w.:-]{1,48}): errs:0x([0-9a-fA-F]{1,8}) da:0x([0-9a-fA-F]{1,8}) pgd:0x(\S{1,24}) \*pgd:(?:px|0x)([0-9a-fA-F]{1,8})(?: pte:0x(\S{1,24}) \*pte:0x([0-9a-fA-F]{1,8}))?\s*$/;

/** The interrupt bits in the order of what they say about the fault, most telling first. */
const CAUSES: readonly [string, string, string][] = [
  ['TABLEWALKFAULT', 'TABLE_WALK_FAULT', 'bus error while the MMU read its page table (table address points to no memory)'],
  ['MULTIHITFAULT', 'MULTI_HIT', 'several TLB entries matched the address (overlapping TLB loads or a missed flush)'],
  ['TRANSLATIONFAULT', 'TRANSLATION_FAULT', 'no valid mapping for the device address'],
  ['EMUMISS', 'EMU_MISS', 'a debugger access missed the TLB'],
  ['TLBMISS', 'TLB_MISS', 'TLB miss with table walking disabled'],
];

function explain(rec: FaultRecord, pgd: bigint, pte: bigint | undefined): string {
  const at = `device address ${rec.iova}`;
  const pgdType = Number(pgd & 3n);
  if (pte === undefined) {
    if (pgdType === 0) return `${at}: first-level entry invalid, nothing mapped in this 1 MiB region`;
    return `${at}: first-level entry is a section mapping (0x${pgd.toString(16)}): the section maps it, suspect a stale TLB or the mapping changed`;
  }
  if ((pte & 3n) === 0n) return `${at}: second-level entry invalid, the page is not mapped`;
  return `${at}: the tables map this page: stale TLB (missing flush) or the mapping changed after the fault`;
}

export const omapIommuRecognizer: Recognizer = {
  family: FAMILY,
  keys: [': errs:0x'],
  recognize(line) {
    const msg = line.message;
    const m = RE.exec(msg);
    if (!m) return undefined;
    const start = m.index + (m[0].startsWith(m[1]!) ? 0 : 1);
    const p = devPrefixAt(msg, start);
    const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'page-fault', iova: hex('0x' + m[3])! };
    rec.iommu = p?.device ?? m[1]!;
    const errs = BigInt('0x' + m[2]);
    const pgd = BigInt('0x' + m[5]);
    const pte = m[7] !== undefined ? BigInt('0x' + m[7]) : undefined;
    rec.registers = { irqstatus: hex('0x' + m[2])!, pgd: hex('0x' + m[5])! };
    if (pte !== undefined) rec.registers.pte = hex('0x' + m[7])!;
    const status = decodedFields(OMAP_MMU_IRQSTATUS, errs);
    rec.decoded = { mmuName: m[1], irqstatus: status, pgd: decodedFields(OMAP_IOPGD, pgd) };
    if (pte !== undefined) rec.decoded.pte = decodedFields(OMAP_IOPTE, pte);
    const cause = CAUSES.find(([bit]) => status[bit] === true);
    const where = explain(rec, pgd, pte);
    rec.reason = cause
      ? { code: Number(errs), name: cause[1], text: `${cause[2]}; ${where}` }
      : { code: Number(errs), name: 'FAULT', text: where };
    return { record: rec };
  },
};
