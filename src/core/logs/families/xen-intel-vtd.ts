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

// ---------------------------------------------------------------------------------------------
// Queued invalidation wait timeout (vtd/qinval.c queue_invalidate_wait): print_qi_regs() dumps
// "DMAR_IQA_REG = %"PRIx64, IQH, IQT, then Xen 4.8+ warns "[VT-D] Queue invalidate wait descriptor
// timed out" (older Xen panicked: "queue invalidate wait descriptor was not executed"); a
// device-TLB flush that timed out adds "dom%d: ATS device %pp flush failed" (passthrough/pci.c).
// Linux prints none of these, so the lines are Xen's even when quoted without "(XEN)".

const RE_QI_REG = /(?:^|\s)DMAR_(IQA|IQH|IQT)_REG = ([0-9a-fA-F]{1,16})\s*$/;
const RE_QI_WAIT = /(?:^|[\s\]:])(?:Q|q)ueue invalidate wait descriptor (timed out|was not executed)\s*$/;
const RE_ATS_FLUSH = /(?:^|\s)dom(\d{1,5}): ATS device ((?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]) flush failed\s*$/;

const QI_WAIT_TEXT = 'queue invalidate wait descriptor timed out: the invalidation queue stopped (IQH/IQT show where)';

function qiWaitRecord(line: LogLine): FaultRecord {
  return {
    line: line.line, family: FAMILY, host: 'xen', kind: 'queue-error',
    reason: { name: 'QI_WAIT_TIMEOUT', text: QI_WAIT_TEXT }, decoded: { errors: ['QI_WAIT_TIMEOUT'] },
  };
}

/** IQH/IQT hold the descriptor index in bits 18:4 (Xen's 128-bit descriptors). */
function applyQiReg(rec: FaultRecord, which: string, value: string): void {
  const v = BigInt('0x' + value);
  (rec.registers ??= {})[which.toLowerCase()] = hex(v)!;
  if (which !== 'IQA') ((rec.decoded ??= {}) as Record<string, unknown>)[which === 'IQH' ? 'qiHead' : 'qiTail'] = Number((v >> 4n) & 0x7fffn);
}

function applyAtsFlush(rec: FaultRecord, m: RegExpExecArray): void {
  const dev = normalizeBdf(m[2]);
  if (dev) rec.device = dev;
  const d = (rec.decoded ??= {}) as Record<string, unknown>;
  d.xenDomain = Number(m[1]);
  d.atsFlushFailed = true;
}

/** The rest of the timeout report: the registers not yet read, the warning, then the ATS line. */
function qiWaitContinuation(rec: FaultRecord, warned: boolean): Continuation {
  let seenWarning = warned;
  const cont: Continuation = {
    window: 3,
    feed(l: LogLine): Feed {
      const msg = l.message;
      if (!seenWarning) {
        const r = RE_QI_REG.exec(msg);
        if (r) {
          if (rec.registers?.[r[1]!.toLowerCase()] !== undefined) return 'end'; // the next dump
          applyQiReg(rec, r[1]!, r[2]!);
          return 'more';
        }
        const w = RE_QI_WAIT.exec(msg);
        if (w) {
          seenWarning = true;
          if (w[1] === 'was not executed') ((rec.decoded ??= {}) as Record<string, unknown>).panic = true;
          return 'more';
        }
        // older Xen panics: its banner ("****...", "Panic on CPU 0:") comes before the text
        return msg.includes('Panic on CPU') || /^\*{8,80}\s*$/.test(msg) ? 'skip' : 'end';
      }
      const a = RE_ATS_FLUSH.exec(msg);
      if (a) { applyAtsFlush(rec, a); return 'done'; }
      return 'end';
    },
  };
  return cont;
}

function recognizeQiWait(line: LogLine, msg: string): Recognition | undefined {
  let m = RE_QI_REG.exec(msg);
  if (m) {
    if (m[1] !== 'IQA') return undefined; // a dump always starts with IQA
    const rec = qiWaitRecord(line);
    applyQiReg(rec, m[1], m[2]!);
    return { record: rec, more: qiWaitContinuation(rec, false) };
  }
  m = RE_QI_WAIT.exec(msg);
  if (m) {
    const rec = qiWaitRecord(line);
    if (m[1] === 'was not executed') ((rec.decoded ??= {}) as Record<string, unknown>).panic = true;
    return { record: rec, more: qiWaitContinuation(rec, true) };
  }
  m = RE_ATS_FLUSH.exec(msg);
  if (m) {
    const rec: FaultRecord = {
      line: line.line, family: FAMILY, host: 'xen', kind: 'queue-error',
      reason: { name: 'ATS_FLUSH_FAILED', text: 'a device-TLB (ATS) invalidation did not complete in time: Xen stopped using the device' },
    };
    applyAtsFlush(rec, m);
    return { record: rec };
  }
  return undefined;
}

export const xenIntelVtdRecognizer: Recognizer = {
  family: FAMILY,
  // "_IQA_REG = ", not "DMAR_...": every line of a Linux VT-d storm holds "DMAR"
  keys: ['Request device [', 'iommu_fault_status: Invalidation', '[VT-D]DMAR:[', '_IQA_REG = ', 'invalidate wait descriptor', ': ATS device '],
  recognize(line: LogLine): Recognition | undefined {
    const msg = line.message.length > 2000 ? line.message.slice(0, 2000) : line.message;
    // Xen's own wording: no Linux print to tell apart, "(XEN)" or not
    if (msg.includes('_REG = ') || msg.includes('invalidate wait') || msg.includes('ATS device')) {
      const q = recognizeQiWait(line, msg);
      if (q) return q;
    }
    if (!isXenLine(line)) return undefined;
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
