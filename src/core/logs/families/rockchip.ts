/**
 * Rockchip IOMMU (drivers/iommu/rockchip-iommu.c, rk_iommu_irq + log_iova), same text 4.x–6.12:
 *
 *   rk_iommu ff940300.iommu: Page fault at 0x7f4bda00 of type read
 *   rk_iommu ff940300.iommu: iova = 0x7f4bda00: dte_index: 0x1fd pte_index: 0xbd page_offset: 0xa00
 *   rk_iommu ff940300.iommu: mmu_dte_addr: 0x014e0000 dte@0x014e07f4: 0x000000 valid: 0 pte@0x00000000: 0x000000 valid: 0 page@0x00000000 flags: 0x0
 *   rk_iommu ff940300.iommu: Page fault while iommu not attached to domain?
 *   rk_iommu ff940300.iommu: BUS_ERROR occurred at 0x...
 *   rk_iommu ff940300.iommu: unexpected int_status: 0x...
 *
 * The walk the driver prints is folded into the page-fault record: it already says which level
 * was missing.
 */
import type { Continuation, Recognizer } from '../recognizer';
import type { FaultRecord } from '../record';
import { hex } from '../normalize';
import { decodedFields } from '../../decode/register';
import { RK_DTE, RK_INT_STATUS, RK_PTE } from '../../decode/registers/soc-iommus';
import { devPrefixAt } from './dev-prefix';

const FAMILY = 'rockchip';
const HEX = '(0x[0-9a-fA-F]{1,16}|[0-9a-fA-F]{1,16})';
const RE_FAULT = /Page fault at (0x[0-9a-fA-F]{1,16}) of type (read|write)\s*$/;
const RE_IOVA = new RegExp(`iova = ${HEX}: dte_index: ${HEX} pte_index: ${HEX} page_offset: ${HEX}\\s*$`);
const RE_WALK = new RegExp(`mmu_dte_addr: ${HEX} dte@${HEX}: ${HEX} valid: ([01]) pte@${HEX}: ${HEX} valid: ([01]) page@${HEX} flags: ${HEX}\\s*$`);
// A pager (journalctl, less -S) cut the line at the terminal width and marked the cut with '>':
// the fields before the cut are still good.
const RE_IOVA_CUT = new RegExp(`iova = ${HEX}: dte_index: ${HEX}(?: pte_index: ${HEX})?(?: page_offset: ${HEX}?)?[^>]{0,24}>\\s*$`);
const RE_WALK_CUT = new RegExp(`mmu_dte_addr: ${HEX} dte@${HEX}: ${HEX} valid: ([01])(?: pte@${HEX}: ${HEX} valid: ([01]))?[^>]{0,80}>\\s*$`);
const RE_BUS = /BUS_ERROR occurred at (0x[0-9a-fA-F]{1,16})\s*$/;
const RE_UNEXPECTED = /unexpected int_status: (0x[0-9a-fA-F]{1,8}|0)\s*$/;

function h(s: string): string {
  return hex(/^0x/i.test(s) ? s : '0x' + s)!;
}

function explain(rec: FaultRecord, d: Record<string, unknown>): string {
  const where = `${rec.access ?? 'access'} at IOVA ${rec.iova}`;
  if (d.dteValid === false) return `${where}: DTE not valid, no page table for this 4 MiB region (never mapped, or unmapped and its table freed)`;
  if (d.pteValid === false) return `${where}: PTE not valid, the page is not mapped`;
  const pte = d.pte as Record<string, unknown> | undefined;
  if (pte && rec.access === 'write' && pte.WRITABLE === false) return `${where}: page mapped without write permission`;
  if (pte && rec.access === 'read' && pte.READABLE === false) return `${where}: page mapped without read permission`;
  if (d.pteValid === true) return `${where}: the tables map this page: stale IOTLB (missing zap) or the mapping changed after the fault`;
  return `${where}: page fault`;
}

function walkContinuation(rec: FaultRecord, iommu: string | undefined): Continuation {
  const d = (rec.decoded ??= {});
  return {
    window: 2,
    feed(l) {
      const msg = l.message;
      let m: RegExpExecArray | null;
      const mine = (idx: number) => iommu === undefined || devPrefixAt(msg, idx)?.device === iommu;
      if ((m = RE_IOVA.exec(msg) ?? RE_IOVA_CUT.exec(msg)) && mine(m.index)) {
        d.dteIndex = Number(h(m[2]!));
        if (m[3] !== undefined) d.pteIndex = Number(h(m[3]));
        if (m[4] !== undefined) d.pageOffset = Number(h(m[4]));
        if (m[0].trimEnd().endsWith('>')) d.truncated = true;
        return 'more';
      }
      if ((m = RE_WALK_CUT.exec(msg)) && !RE_WALK.test(msg) && mine(m.index)) {
        const regs = (rec.registers ??= {});
        d.mmuDteAddr = h(m[1]!);
        d.dteAddress = h(m[2]!);
        regs.dte = h(m[3]!);
        d.dteValid = m[4] === '1';
        d.dte = decodedFields(RK_DTE, BigInt(regs.dte));
        if (d.dteValid && m[7] !== undefined) {
          d.pteAddress = h(m[5]!);
          regs.pte = h(m[6]!);
          d.pteValid = m[7] === '1';
          d.pte = decodedFields(RK_PTE, BigInt(regs.pte));
        }
        d.truncated = true;
        return 'more';
      }
      if ((m = RE_WALK.exec(msg)) && mine(m.index)) {
        const regs = (rec.registers ??= {});
        d.mmuDteAddr = h(m[1]!);
        d.dteAddress = h(m[2]!);
        regs.dte = h(m[3]!);
        d.dteValid = m[4] === '1';
        d.dte = decodedFields(RK_DTE, BigInt(regs.dte));
        if (d.dteValid) {
          d.pteAddress = h(m[5]!);
          regs.pte = h(m[6]!);
          d.pteValid = m[7] === '1';
          d.pte = decodedFields(RK_PTE, BigInt(regs.pte));
          if (d.pteValid) { d.page = h(m[8]!); d.pageFlags = h(m[9]!); }
        }
        return 'more';
      }
      if (/Page fault while iommu not attached to domain\?/.test(msg) && mine(msg.indexOf('Page fault while'))) {
        d.notAttached = true;
        return 'done';
      }
      return RE_FAULT.test(msg) ? 'end' : 'skip';
    },
    finish() {
      rec.reason!.text = explain(rec, d) + (d.notAttached ? '; the IOMMU was not attached to a domain' : '');
    },
  };
}

export const rockchipRecognizer: Recognizer = {
  family: FAMILY,
  keys: ['Page fault at', 'BUS_ERROR occurred at', 'unexpected int_status'],
  recognize(line) {
    const msg = line.message;
    let m: RegExpExecArray | null;
    if ((m = RE_FAULT.exec(msg))) {
      const p = devPrefixAt(msg, m.index);
      // "Page fault at" alone is too common a phrase; require the rk_iommu driver or an .iommu device.
      if (p && !/rk_iommu|rockchip/.test(p.driver) && !/iommu|mmu/.test(p.device)) return undefined;
      if (!p && !/^\s{0,8}Page fault at/.test(msg)) return undefined;
      const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'page-fault', iova: hex(m[1]!), access: m[2]! };
      if (p) rec.iommu = p.device;
      rec.reason = { name: 'PAGE_FAULT', text: `${m[2]} at IOVA ${rec.iova}` };
      return { record: rec, more: walkContinuation(rec, p?.device) };
    }
    if ((m = RE_BUS.exec(msg))) {
      const p = devPrefixAt(msg, m.index);
      const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'bus-error', iova: hex(m[1]!) };
      if (p) rec.iommu = p.device;
      rec.reason = { name: 'BUS_ERROR', text: 'bus error while the IOMMU read its tables (DTE base or a table address points to no memory)' };
      return { record: rec };
    }
    if ((m = RE_UNEXPECTED.exec(msg))) {
      const p = devPrefixAt(msg, m.index);
      if (!p || !/rk_iommu|rockchip/.test(p.driver)) return undefined;
      const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'interrupt', iommu: p.device, registers: { int_status: hex(m[1]!)! } };
      rec.decoded = { int_status: decodedFields(RK_INT_STATUS, BigInt(rec.registers!.int_status!)) };
      rec.reason = { name: 'UNEXPECTED_INT_STATUS', text: 'interrupt status bits the driver does not handle' };
      return { record: rec };
    }
    return undefined;
  },
};
