/**
 * MediaTek IOMMU (drivers/iommu/mtk_iommu.c, mtk_iommu_v1.c), dev_err_ratelimited:
 *
 *   ≥ 5.16 (v2)  mtk-iommu 14016000.iommu: fault type=0x5 iova=0xfec23000 pa=0x0 master=0x51000008(larb=0 port=2) layer=1 read
 *   older  (v2)  mtk-iommu 10205000.iommu: fault type=0x5 iova=0xfcff0001 pa=0x0 larb=0 port=0 layer=1 read
 *   v1           fault type=0x%x iova=0x%x pa=0x%x larb=%d port=%d            (no direction printed)
 *
 * type= is REG_MMU_FAULT_ST1 (the int_state), master= is REG_MMU0_INT_ID.
 */
import type { Continuation, Recognizer } from '../recognizer';
import type { FaultRecord } from '../record';
import { hex } from '../normalize';
import { decodedFields } from '../../decode/register';
import { MTK_FAULT_ST1, MTK_INT_ID } from '../../decode/registers/soc-iommus';
import { devPrefixAt } from './dev-prefix';
import { unquote, byPatterns, wrappedContinuation } from './wrapped';

const FAMILY = 'mediatek';
// A print quoted inline in Markdown ends at its closing backtick (prose may follow).
const RE = /fault type=(0x[0-9a-fA-F]{1,8}) iova=(0x[0-9a-fA-F]{1,16}) pa=(0x[0-9a-fA-F]{1,16})(?: master=(0x[0-9a-fA-F]{1,8})\(larb=(\d{1,3}) port=(\d{1,3})\)| larb=(\d{1,3}) port=(\d{1,3}))(?: layer=(\d) (read|write))?\s*(?:`.{0,200})?$/;
// The start of a print that a mail client or tracker wrapped: "fault type=0x5 iova=... larb=3" + "port=0" + ...
const RE_HEAD = /fault type=(0x[0-9a-fA-F]{1,8})(?: (?:iova|pa|master|larb|port|layer)=\S{0,40}){0,6}(?: (?:read|write))?\s*$/;
// "... 10205000.iommu: " when the "mtk-iommu" column was left on the line before
const RE_DEVICE_ONLY = /(?:^|[\s>|])([\w.-]{1,96}iommu): $/;

function iommuOf(message: string, at: number): string | undefined {
  const p = devPrefixAt(message, at);
  if (p) return p.device;
  return RE_DEVICE_ONLY.exec(message.slice(Math.max(0, at - 120), at))?.[1];
}

function setReason(rec: FaultRecord, st1: string, where: string): void {
  const set = MTK_FAULT_ST1.fields.filter((f) => (Number(BigInt(st1) >> BigInt(f.bits[0])) & 1) === 1);
  const names = set.map((f) => f.name);
  const texts = set.map((f) => f.doc ?? f.title);
  rec.reason = {
    code: st1,
    name: names.length ? names.join('+') : 'FAULT',
    text: `${texts.length ? texts.join('; ') : 'fault'}${where}`,
  };
}

/** Fill a record from a whole "fault type=... iova=... pa=... larb=... port=..." print. */
function fill(rec: FaultRecord, m: RegExpExecArray): void {
  rec.iova = hex(m[2]!);
  const larb = Number(m[5] ?? m[7]);
  const port = Number(m[6] ?? m[8]);
  rec.device = `larb${larb}/port${port}`;
  if (m[10]) rec.access = m[10];
  const st1 = hex(m[1]!)!;
  rec.registers = { fault_st1: st1 };
  const d: Record<string, unknown> = { pa: hex(m[3]!), larb, port };
  d.fault_st1 = decodedFields(MTK_FAULT_ST1, BigInt(st1));
  if (m[4]) {
    rec.registers.int_id = hex(m[4])!;
    rec.streamId = rec.registers.int_id;
    d.int_id = decodedFields(MTK_INT_ID, BigInt(m[4]));
  }
  if (m[9] !== undefined) d.layer = Number(m[9]);
  rec.decoded = d;
  setReason(rec, st1, `; master larb ${larb} port ${port}${rec.access ? `, ${rec.access}` : ''}`);
}

const RE_LAYER = /^layer=(\d) (read|write)\s*$/;

/** The v2 print's last two fields, when the wrap left them on a line of their own. */
function layerContinuation(rec: FaultRecord): Continuation {
  return {
    window: 1,
    feed(l) {
      const m = l.time === undefined ? RE_LAYER.exec(unquote(l.message)) : null;
      if (!m) return 'end';
      rec.access = m[2]!;
      (rec.decoded ??= {}).layer = Number(m[1]);
      rec.reason!.text += `, ${m[2]}`;
      return 'done';
    },
  };
}

// mtk_iommu_tlb_flush_range_sync(): the range invalidation did not complete in time.
const RE_TLB_TIMEOUT = /(?:^|[\s\]>|])([\w.-]{1,64}) ([\w.:@-]{1,96}): Partial TLB flush timed out(?:,(?: falling back to(?: full flush)?)?)?\s*$/;

export const mediatekRecognizer: Recognizer = {
  family: FAMILY,
  keys: ['fault type=', 'Partial TLB flush timed out'],
  recognize(line) {
    const msg = line.message;
    const t = RE_TLB_TIMEOUT.exec(msg);
    if (t) {
      if (!/mtk|mediatek/.test(t[1]!)) return undefined;
      return {
        record: {
          line: line.line, family: FAMILY, kind: 'queue-error', iommu: t[2]!,
          reason: { name: 'TLB_SYNC_TIMEOUT', text: 'a range TLB invalidation did not complete in time; the driver flushed the whole TLB instead (the IOMMU or its power/clock domain is stalled)' },
        },
      };
    }
    const m = RE.exec(msg);
    if (m) {
      const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'page-fault' };
      const iommu = iommuOf(msg, m.index);
      if (iommu) rec.iommu = iommu;
      fill(rec, m);
      return { record: rec };
    }
    const h = RE_HEAD.exec(msg);
    if (!h) return undefined;
    const iommu = iommuOf(msg, h.index);
    // Without the driver's columns "fault type=" is too common a phrase to claim.
    if (!iommu) return undefined;
    const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'page-fault', iommu };
    const st1 = hex(h[1]!)!;
    rec.registers = { fault_st1: st1 };
    setReason(rec, st1, '; the rest of the print was cut off');
    const more = wrappedContinuation(h[0], byPatterns(RE, RE_HEAD, (f) => fill(rec, f), 3), () => (rec.decoded?.layer === undefined ? layerContinuation(rec) : undefined));
    return { record: rec, more };
  },
};
