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
 * errs is MMU_IRQSTATUS, da the faulting device address. Mailed logs break the long line at
 * blanks; the halves are joined back.
 */
import type { Recognizer } from '../recognizer';
import type { FaultRecord } from '../record';
import { hex } from '../normalize';
import { decodedFields } from '../../decode/register';
import { OMAP_IOPGD, OMAP_IOPTE, OMAP_MMU_IRQSTATUS } from '../../decode/registers/soc-iommus';
import { devPrefixAt } from './dev-prefix';
import { byPatterns, wrappedContinuation } from './wrapped';

const FAMILY = 'omap-iommu';
// %p: a hashed pointer, "(ptrval)" early in boot, or a raw pointer in old kernels.
// "*pgd:px" ends the short print; "*pgd:0x" is always followed by the pte fields.
const BODY = 'errs:0x([0-9a-fA-F]{1,8}) da:0x([0-9a-fA-F]{1,8}) pgd:0x(\\S{1,24}) \\*pgd:(?:px([0-9a-fA-F]{1,8})|0x([0-9a-fA-F]{1,8}) pte:0x(\\S{1,24}) \\*pte:0x([0-9a-fA-F]{1,8}))\\s*$';
const RE = new RegExp(`(?:^|[\\s\\]>|])([\\w.:-]{1,48}): ${BODY}`);
// The whole print once its wrapped halves are joined (the joined text starts at the MMU name).
const RE_WHOLE = new RegExp(`^([\\w.:-]{1,48}): ${BODY}`);
// The print cut at a blank by a mail client (72 columns): the name alone, or a start of the fields.
const RE_CUT = /(?:^|[\s\]>|])([\w.:-]{1,48}):(?: errs:0x[0-9a-fA-F]{1,8}(?: da:0x[0-9a-fA-F]{1,8}(?: pgd:0x\S{1,24}(?: \*pgd:(?:px|0x)[0-9a-fA-F]{1,8}(?: pte:0x\S{1,24})?)?)?)?)?\s*$/;
const RE_JOINED_HEAD = /^[\w.:-]{1,48}:(?: errs:0x[0-9a-fA-F]{1,8}(?: da:0x[0-9a-fA-F]{1,8}(?: pgd:0x\S{1,24}(?: \*pgd:(?:px|0x)[0-9a-fA-F]{1,8}(?: pte:0x\S{1,24})?)?)?)?)?\s*$/;

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

/** Fill a record from a match of the whole print (groups: name, errs, da, pgd pointer, *pgd short, *pgd, pte pointer, *pte). */
function fill(rec: FaultRecord, m: RegExpExecArray): void {
  rec.iova = hex('0x' + m[3])!;
  const errs = BigInt('0x' + m[2]);
  const pgdText = m[5] ?? m[6]!;
  const pgd = BigInt('0x' + pgdText);
  const pte = m[8] !== undefined ? BigInt('0x' + m[8]) : undefined;
  rec.registers = { irqstatus: hex('0x' + m[2])!, pgd: hex('0x' + pgdText)! };
  if (pte !== undefined) rec.registers.pte = hex('0x' + m[8])!;
  const status = decodedFields(OMAP_MMU_IRQSTATUS, errs);
  rec.decoded = { mmuName: m[1], irqstatus: status, pgd: decodedFields(OMAP_IOPGD, pgd) };
  if (pte !== undefined) rec.decoded.pte = decodedFields(OMAP_IOPTE, pte);
  const cause = CAUSES.find(([bit]) => status[bit] === true);
  const where = explain(rec, pgd, pte);
  rec.reason = cause
    ? { code: Number(errs), name: cause[1], text: `${cause[2]}; ${where}` }
    : { code: Number(errs), name: 'FAULT', text: where };
}

/** Where the MMU name starts in a match that may begin with its boundary character. */
function nameAt(m: RegExpExecArray): number {
  return m.index + (m[0].startsWith(m[1]!) ? 0 : 1);
}

export const omapIommuRecognizer: Recognizer = {
  family: FAMILY,
  keys: [': errs:0x', 'omap-iommu '],
  recognize(line) {
    const msg = line.message;
    const m = RE.exec(msg);
    if (m) {
      const p = devPrefixAt(msg, nameAt(m));
      const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'page-fault', iommu: p?.device ?? m[1]! };
      fill(rec, m);
      return { record: rec };
    }
    const c = RE_CUT.exec(msg);
    if (!c) return undefined;
    const at = nameAt(c);
    const p = devPrefixAt(msg, at);
    // the name alone is any "x: y:" line: only the OMAP driver's own prefix makes it a print
    if (!/errs:/.test(c[0]) && !(p && /omap/.test(p.driver))) return undefined;
    const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'page-fault', iommu: p?.device ?? c[1]! };
    rec.decoded = { mmuName: c[1] };
    const head = msg.slice(at).trimEnd();
    return {
      record: rec,
      more: wrappedContinuation(head, byPatterns(RE_WHOLE, RE_JOINED_HEAD, (w) => fill(rec, w), 3)),
    };
  },
};
