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
import type { Continuation, Feed, Recognition, Recognizer } from '../recognizer';
import type { FaultRecord } from '../record';
import { hex, normalizeBdf } from '../normalize';
import { FAMILY, FaultPrint, isXenLine, parseHead, recordFromHead, type FaultHead } from './intel-vtd';
import { handOver, unquote } from './wrapped';

const RE_STATUS = /iommu_fault_status: (Invalidation Queue Error|Invalidation Completion Error|Invalidation Time-out Error)\s*$/;
const STATUS_NAMES: Record<string, string> = {
  'Invalidation Queue Error': 'IQE', 'Invalidation Completion Error': 'ICE', 'Invalidation Time-out Error': 'ITE',
};

// print_vtd_entries() (vtd/utils.c, printed after a DMA fault when iommu_verbose): Xen's own walk.
const RE_ENTRIES = /print_vtd_entries: iommu #(\d{1,4}) dev ([0-9a-fA-F:.]{7,14}) gmfn ([0-9a-fA-F]{1,16})\s*$/;
const ENTRY_LINES: readonly [RegExp, (d: Record<string, unknown>, m: RegExpExecArray) => void][] = [
  [/^\s*root_entry\[([0-9a-fA-F]{2})\] = ([0-9a-fA-F]{1,16})\s*$/, (d, m) => { d.rootEntry = hex(m[2]); }],
  [/^\s*context\[([0-9a-fA-F]{2})\] = ([0-9a-fA-F]{1,16})_([0-9a-fA-F]{1,16})\s*$/, (d, m) => { d.contextEntry = { hi: hex(m[2]), lo: hex(m[3]) }; }],
  [/^\s*l(\d)\[([0-9a-fA-F]{3})\] = ([0-9a-fA-F]{1,16})(?: ([r-])([w-]))?\s*$/, (d, m) => { ((d.ptes ??= []) as unknown[]).push({ level: Number(m[1]), index: Number.parseInt(m[2]!, 16), value: hex(m[3]) }); }],
  [/^\s*(root_entry|ctxt_entry|l\d)\[([0-9a-fA-F]{2,3})\] not present\s*$/, (d, m) => { d.notPresent = `${m[1]}[${m[2]}]`; }],
  [/^\s*iommu->root_maddr = 0\s*$/, (d) => { d.notPresent = 'root table'; }],
];

// A print wrapped right after its type: "(XEN) [VT-D]DMAR:[DMA Read]" + "Request device [0000:00:02.0] fault addr ..."
const RE_CUT_TYPE = /\[VT-D\]DMAR: ?(?:\[(DMA Read|DMA Write)\]|\[INTR-REMAP\])\s{0,4}$/;

/** Collects print_vtd_entries lines that follow a Xen DMA fault into `decoded.dump`. */
class XenEntriesDump {
  private dump: Record<string, unknown> | undefined;
  /** start line cut by mail wrapping, waiting for its end */
  private pending: string | undefined;
  constructor(private readonly rec: FaultRecord) {}

  offer(line: LogLine): boolean {
    const msg = line.message.length > 300 ? line.message.slice(0, 300) : line.message;
    if (!this.dump) {
      // both patterns below need the literal: most lines offered here are the next record's
      if (this.pending === undefined && !msg.includes('print_vtd_entries:')) return false;
      const text = this.pending !== undefined ? `${this.pending} ${msg.trim()}` : msg;
      const m = RE_ENTRIES.exec(text);
      if (!m) {
        if (this.pending === undefined && /print_vtd_entries:[^\n]{0,60}$/.test(msg)) { this.pending = msg.trimEnd(); return true; }
        return false;
      }
      this.pending = undefined;
      const iova = this.rec.iova ? BigInt(this.rec.iova) >> 12n : undefined;
      // the walk names device and frame: they must be this fault's
      if (normalizeBdf(m[2]) !== this.rec.device || (iova !== undefined && BigInt('0x' + m[3]) !== iova)) return false;
      this.dump = { iommu: `iommu:${m[1]}`, gmfn: hex(m[3]) };
      ((this.rec.decoded ??= {}) as Record<string, unknown>).dump = this.dump;
      return true;
    }
    for (const [re, apply] of ENTRY_LINES) {
      const m = re.exec(msg);
      if (m) { apply(this.dump, m); return true; }
    }
    return false;
  }
}


/** The rest of a print whose first line (`line`, head `h`) is in `rec`; undefined when it is complete. */
function printContinuation(rec: FaultRecord, line: LogLine, h: FaultHead): Continuation | undefined {
  const p = new FaultPrint(rec, 16);
  p.start(line, h);
  if (p.complete) return undefined;
  const dump = rec.kind === 'dma-fault' ? new XenEntriesDump(rec) : undefined;
  const cont = {
    window: 2,
    feed(l: LogLine): Feed {
      if (p.complete) return dump && dump.offer(l) ? 'more' : 'end';
      if (p.offer(l)) {
        if (!p.complete) return 'more';
        if (!dump) return 'done';
        cont.window = 1;
        return 'more';
      }
      // a cut reason line stopped waiting for its text at this line, which may still start the walk
      if (p.complete) return dump && dump.offer(l) ? 'more' : 'end';
      if (parseHead(l.message)) return 'end';
      // guests' and other CPUs' lines may interleave before the reason line
      return p.state === 'need-reason' ? 'skip' : 'end';
    },
  };
  return cont;
}

/** A print cut after its type: the next line, untimed, must start with "Request device [". */
function cutTypeContinuation(rec: FaultRecord, first: string): Continuation {
  return handOver((l) => {
    if (l.time !== undefined) return 'end';
    const next = unquote(l.message).trim();
    if (!next.startsWith('Request device [')) return 'end';
    const h = parseHead(`${first} ${next}`);
    if (!h) return 'end';
    Object.assign(rec, recordFromHead(l, h, 'xen'), { line: rec.line });
    return printContinuation(rec, l, h) ?? 'done';
  });
}

export const xenIntelVtdRecognizer: Recognizer = {
  family: FAMILY,
  keys: ['Request device [', 'iommu_fault_status: Invalidation', '[VT-D]DMAR:['],
  recognize(line: LogLine): Recognition | undefined {
    if (!isXenLine(line)) return undefined;
    const msg = line.message.length > 2000 ? line.message.slice(0, 2000) : line.message;
    const h = parseHead(msg);
    if (h) {
      const rec = recordFromHead(line, h, 'xen');
      const more = printContinuation(rec, line, h);
      return more ? { record: rec, more } : { record: rec };
    }
    const cut = msg.endsWith(']') || msg.endsWith(' ') ? RE_CUT_TYPE.exec(msg) : null;
    if (cut) {
      const rec: FaultRecord = { line: line.line, family: FAMILY, host: 'xen', kind: cut[1] ? 'dma-fault' : 'intr-remap-fault' };
      if (cut[1]) rec.access = cut[1] === 'DMA Read' ? 'read' : 'write';
      const at = msg.lastIndexOf('[VT-D]');
      return { record: rec, more: cutTypeContinuation(rec, msg.slice(at).trimEnd()) };
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
