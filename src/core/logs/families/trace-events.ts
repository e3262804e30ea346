/**
 * Generic IOMMU trace events as ftrace (`/sys/kernel/tracing/trace`) and `trace-cmd report` print
 * them, plus the IOMMU core's own page-fault notices:
 *
 *   io_page_fault       "IOMMU:%s %s iova=0x%016llx flags=0x%04x" (driver, device; mainline
 *                       include/trace/events/iommu.h, report_iommu_fault())
 *   dev_fault           "IOMMU:%s type=%d reason=%d addr=0x%016llx fetch=0x%016llx pasid=%d group=%d flags=%x prot=%d"
 *                       and the earlier "... addr=0x%016llx pasid=%d group=%d last=%d prot=%d"
 *   dev_page_response   "IOMMU:%s code=%d pasid=%d group=%d", with " addr=0x%016llx" after code in one revision
 *   "iopf with pasid %d aborted" / "iopf (pasid %d) without domain attached or handler installed"
 *                       (io-pgfault.c: the core answered the group itself because no handler took it)
 *
 *   smmu_resume         "sid=0x%x stag=0x%x resp=0x%x" (SMMUv3 CMD_RESUME of a stalled transaction)
 *
 * dev_fault, dev_page_response and smmu_resume come from the SVA/nested series posted to the
 * IOMMU list (vendor and development kernels carry them); their fault types follow that era's
 * uapi: 1 = unrecoverable DMA fault, 2 = page request. Intel's prq_report trace is recognised by
 * the intel-vtd family.
 */
import type { Recognition, Recognizer } from '../recognizer';
import type { LogLine } from '../line';
import type { FaultRecord } from '../record';
import { accessOf, decToHex, hex, normalizeBdf } from '../normalize';
import { devPrefixAt } from './dev-prefix';

const FAMILY = 'iommu';
const EVENTS = ['io_page_fault', 'dev_fault', 'dev_page_response', 'smmu_resume'] as const;
type EventName = (typeof EVENTS)[number];

// The ftrace columns in front of "event: " end with the timestamp "SSSS.UUUUUU: ".
const RE_TS = /(?:^|\s)(\d{1,10})\.(\d{1,9}): {0,24}$/;
const RE_IO_PAGE_FAULT = /^IOMMU:(\S{0,64}) (\S{1,96}) iova=0x([0-9a-fA-F]{1,16}) flags=0x([0-9a-fA-F]{1,8})/;
const RE_DEV_FAULT = /^IOMMU:(\S{1,96}) type=(\d{1,3}) reason=(\d{1,3}) addr=0x([0-9a-fA-F]{1,16})(?: fetch=0x([0-9a-fA-F]{1,16}))? pasid=(\d{1,10}) group=(\d{1,10}) (?:flags=([0-9a-fA-F]{1,8})|last=(\d{1,3})) prot=(\d{1,3})/;
const RE_DEV_PAGE_RESPONSE = /^IOMMU:(\S{1,96}) code=(\d{1,3})(?: addr=0x([0-9a-fA-F]{1,16}))? pasid=(\d{1,10}) group=(\d{1,10})/;
const RE_SMMU_RESUME = /^sid=0x([0-9a-fA-F]{1,8}) stag=0x([0-9a-fA-F]{1,4}) resp=0x([0-9a-fA-F]{1,2})/;
const RE_IOPF_ABORTED = /iopf (?:with pasid (\d{1,10}) aborted|\(pasid (\d{1,10})\) without domain attached or handler installed)\s*$/;

/** enum iommu_fault_reason of the same uapi era as dev_fault */
const FAULT_REASONS: readonly { name: string; text: string }[] = [
  { name: 'UNKNOWN', text: 'unknown reason' },
  { name: 'PASID_FETCH', text: 'could not fetch the PASID table entry' },
  { name: 'BAD_PASID_ENTRY', text: 'the PASID table entry is invalid or has reserved bits set' },
  { name: 'PASID_INVALID', text: 'the PASID is out of range (or its entry is not present)' },
  { name: 'WALK_EABT', text: 'external abort while walking the page tables' },
  { name: 'PTE_FETCH', text: 'could not fetch a page-table entry' },
  { name: 'PERMISSION', text: 'the access is not allowed by the page tables' },
  { name: 'ACCESS', text: 'access flag fault' },
  { name: 'OOR_ADDRESS', text: 'the address is outside the range of the page tables' },
];

/** IOMMU_PAGE_RESP_* (the generic codes every driver's page_response() receives) */
export const RESPONSE_CODES: Record<number, 'success' | 'invalid' | 'failure'> = { 0: 'success', 1: 'invalid', 2: 'failure' };

function setDevice(rec: FaultRecord, name: string): void {
  rec.device = normalizeBdf(name) ?? name;
}

function permAccess(prot: number): string | undefined {
  return accessOf({ read: (prot & 1) !== 0, write: (prot & 2) !== 0, exec: (prot & 4) !== 0 });
}

function ioPageFault(rec: FaultRecord, body: string): boolean {
  const m = RE_IO_PAGE_FAULT.exec(body);
  if (!m) return false;
  rec.kind = 'dma-fault';
  setDevice(rec, m[2]!);
  rec.iova = hex(m[3]!)!;
  const flags = parseInt(m[4]!, 16);
  rec.access = (flags & 1) !== 0 ? 'write' : 'read'; // IOMMU_FAULT_WRITE 0x1, IOMMU_FAULT_READ 0x0
  rec.registers = { flags: hex(flags)! };
  rec.decoded = { event: 'io_page_fault', ...(m[1] ? { driver: m[1] } : {}) };
  return true;
}

function devFault(rec: FaultRecord, body: string): boolean {
  const m = RE_DEV_FAULT.exec(body);
  if (!m) return false;
  setDevice(rec, m[1]!);
  const type = Number(m[2]);
  const reason = Number(m[3]);
  const flags = m[8] !== undefined ? parseInt(m[8], 16) : undefined;
  const prot = Number(m[10]);
  rec.kind = type === 2 ? 'page-request' : 'dma-fault';
  rec.iova = hex(m[4]!)!;
  const pasidValid = flags === undefined ? true : (flags & 1) !== 0;
  if (pasidValid) rec.pasid = decToHex(m[6]!)!;
  const a = permAccess(prot);
  if (a) rec.access = a;
  const r = FAULT_REASONS[reason];
  if (type !== 2) rec.reason = r ? { code: reason, ...r } : { code: reason, name: 'UNKNOWN', text: 'reason code not in the uapi table' };
  const last = m[9] !== undefined ? m[9] !== '0' : flags !== undefined && (flags & 2) !== 0;
  const d: Record<string, unknown> = { event: 'dev_fault', type, grpid: Number(m[7]), last, privileged: (prot & 8) !== 0 };
  if (m[5] !== undefined && m[5] !== '0'.repeat(m[5].length)) d.fetchAddr = hex(m[5]);
  if (flags !== undefined) { d.flags = hex(flags); rec.registers = { flags: hex(flags)! }; }
  rec.decoded = d;
  return true;
}

function devPageResponse(rec: FaultRecord, body: string): boolean {
  const m = RE_DEV_PAGE_RESPONSE.exec(body);
  if (!m) return false;
  setDevice(rec, m[1]!);
  rec.kind = 'page-response';
  const code = Number(m[2]);
  if (m[3] !== undefined) rec.iova = hex(m[3])!;
  rec.pasid = decToHex(m[4]!)!;
  rec.decoded = { event: 'dev_page_response', code, response: RESPONSE_CODES[code] ?? 'unknown', grpid: Number(m[5]) };
  return true;
}

/** CMDQ_RESUME_0_RESP_*: TERM 0 and ABORT 2 fail the transaction, RETRY 1 lets it go on (arm_smmu_page_response maps SUCCESS to RETRY). */
const RESUME_RESPONSES: Record<number, { name: string; response: 'success' | 'failure' }> = {
  0: { name: 'TERM', response: 'failure' }, 1: { name: 'RETRY', response: 'success' }, 2: { name: 'ABORT', response: 'failure' },
};

function smmuResume(rec: FaultRecord, body: string): boolean {
  const m = RE_SMMU_RESUME.exec(body);
  if (!m) return false;
  rec.family = 'arm-smmu-v3';
  rec.kind = 'page-response';
  rec.streamId = hex(m[1]!)!;
  const resp = parseInt(m[3]!, 16);
  const r = RESUME_RESPONSES[resp];
  rec.decoded = { event: 'smmu_resume', stag: hex(m[2]!), resp: r?.name ?? resp, response: r?.response ?? 'unknown' };
  return true;
}

const PARSERS: Record<EventName, (rec: FaultRecord, body: string) => boolean> = {
  io_page_fault: ioPageFault,
  dev_fault: devFault,
  dev_page_response: devPageResponse,
  smmu_resume: smmuResume,
};

function traceEvent(line: LogLine, msg: string): Recognition | undefined {
  for (const ev of EVENTS) {
    const at = msg.indexOf(ev + ':');
    if (at < 0) continue;
    let body = msg.slice(at + ev.length + 1);
    let i = 0;
    while (i < body.length && i < 64 && body.charCodeAt(i) === 32) i++; // trace-cmd pads the event column
    body = body.slice(i);
    const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'dma-fault' };
    if (!PARSERS[ev](rec, body)) continue;
    const ts = RE_TS.exec(msg.slice(Math.max(0, at - 40), at));
    if (ts) rec.time = Number(ts[1]) + Number('0.' + ts[2]);
    return { record: rec };
  }
  return undefined;
}

function iopfAborted(line: LogLine, msg: string): Recognition | undefined {
  const m = RE_IOPF_ABORTED.exec(msg);
  if (!m) return undefined;
  const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'page-response' };
  const dev = devPrefixAt(msg, m.index);
  if (dev) setDevice(rec, dev.device);
  rec.pasid = decToHex(m[1] ?? m[2]!)!;
  rec.reason = m[1] !== undefined
    ? { name: 'IOPF_ABORTED', text: 'the fault handler refused or could not take the page-request group: the IOMMU core answered it with a failure' }
    : { name: 'IOPF_NO_HANDLER', text: 'no domain attached or no fault handler installed for this PASID: the IOMMU core answered the page request itself' };
  rec.decoded = { auto: true, response: 'failure' };
  return { record: rec };
}

export const traceEventsRecognizer: Recognizer = {
  family: FAMILY,
  keys: ['io_page_fault:', 'dev_fault:', 'dev_page_response:', 'smmu_resume:', 'iopf with pasid', 'iopf (pasid'],
  recognize(line) {
    const msg = line.message.length > 1000 ? line.message.slice(0, 1000) : line.message;
    return msg.includes('iopf ') && !msg.includes('IOMMU:') ? iopfAborted(line, msg) : traceEvent(line, msg);
  },
};
