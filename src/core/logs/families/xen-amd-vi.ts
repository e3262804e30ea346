/**
 * Xen's own AMD-Vi prints (xen/drivers/passthrough/amd/iommu_init.c parse_event_log_entry):
 *
 *   ≤ 4.13  AMD-Vi: IO_PAGE_FAULT: domain = 0, device id = 0xa0, fault address = 0xfdf8f000, flags = 0x10
 *           (older still: "device id = 0x%04x" and no flags)
 *   4.14    AMD-Vi: IO_PAGE_FAULT: 0000:00:13.1 d0 addr 00000000000eb380 flags 0x20 RW      (%04x:%02x:%02x.%u)
 *   4.15+   same text through %pp
 *   other events: "%s %08x %08x %08x %08x" (4.14+, no prefix; "event" for unknown codes),
 *           "AMD-Vi: %s %08x ..." / "AMD-Vi: event 0x%08x ..." through AMD_IOMMU_DEBUG before
 *   with iommu=verbose, the page walk follows an IO_PAGE_FAULT (iommu_map.c amd_iommu_print_entries):
 *           "%pp root @ %05lx (%u levels) dfn=%05lx" / "%pp: no root" / "  L%u[%03x] = %lx %c%c"
 *
 * The device table's DomainID under Xen is the Xen domain id, so "d0" is dom0.
 * Lines quoted without "(XEN)" are still Xen's: the formats differ from Linux's.
 */
import type { Continuation, Recognizer } from '../recognizer';
import type { FaultRecord } from '../record';
import { bdfFromId, hex, normalizeBdf } from '../normalize';
import { XEN_EVENT_NAMES } from '../../decode/registers/amd-vi';
import { applyEventDwords, applyFlags, dword, eventReason } from './amd-vi-event';

const FAMILY = 'amd-vi';
const XEN_FLAG_LABELS = '(?: (?:\\?\\?|TR|RZ|PE|RW|PR|I|US|NX|GN)){0,10}';

// The device as letters too: reporters redact it ("DDDD:bb:dd.f"); such a record has no device.
const RE_NEW = new RegExp(
  `(?:^|\\s)AMD-Vi: ([A-Z][A-Z_]{2,40}): ([0-9a-zA-Z]{4}:[0-9a-zA-Z]{2}:[0-9a-zA-Z]{2}\\.[0-9a-zA-Z]) d(\\d{1,5}) addr ([0-9a-fA-F]{1,16}) flags (0x[0-9a-fA-F]{1,3}|0)(${XEN_FLAG_LABELS})\\s*$`,
);
const RE_OLD = /(?:^|\s)AMD-Vi: ([A-Z][A-Z_]{2,40}): domain = (\d{1,5}), device id = (0x[0-9a-fA-F]{1,4}|0), fault address = (0x[0-9a-fA-F]{1,16}|0)(?:, flags = (0x[0-9a-fA-F]{1,3}|0))?\s*$/;
const RE_RAW = /^(?:AMD-Vi: (?:AMD-Vi: )?)?([A-Z][A-Z_]{2,40}|event) (?:0x)?([0-9a-fA-F]{8}) (?:0x)?([0-9a-fA-F]{8}) (?:0x)?([0-9a-fA-F]{8}) (?:0x)?([0-9a-fA-F]{8})\s*$/;
const RE_NO_EVENT = /(?:^|\s)AMD-Vi: (?:AMD-Vi: )?No (event|ppr) written to log/;

const RE_WALK_ROOT = /^\s{0,4}([0-9a-zA-Z]{4}:[0-9a-zA-Z]{2}:[0-9a-zA-Z]{2}\.[0-9a-zA-Z]) root @ ([0-9a-fA-F]{1,16}) \((\d) levels\) dfn=([0-9a-fA-F]{1,16})\s*$/;
const RE_WALK_NOROOT = /^\s{0,4}([0-9a-zA-Z]{4}:[0-9a-zA-Z]{2}:[0-9a-zA-Z]{2}\.[0-9a-zA-Z]): no root\s*$/;
const RE_WALK_LEVEL = /^\s{0,6}L(\d)\[([0-9a-fA-F]{3})\] = ([0-9a-fA-F]{1,16}) ([r\-n])([w\-p])\s*$/;

interface WalkLine { level: number; index: number; value: string; read: boolean; write: boolean; present: boolean }

/** The optional page walk Xen prints after an IO_PAGE_FAULT with iommu=verbose. */
function walkContinuation(rec: FaultRecord, printed: string): Continuation {
  const steps: WalkLine[] = [];
  let rooted = false;
  return {
    window: 1,
    feed(l) {
      const msg = l.message;
      let m: RegExpExecArray | null;
      if (!rooted && (m = RE_WALK_ROOT.exec(msg)) && m[1] === printed) {
        rooted = true;
        (rec.decoded ??= {}).walkRoot = { mfn: hex(m[2]!), levels: Number(m[3]), dfn: hex(m[4]!) };
        return 'more';
      }
      if (!rooted && (m = RE_WALK_NOROOT.exec(msg)) && m[1] === printed) {
        (rec.decoded ??= {}).walkRoot = 'none: the device table entry has no translation (TV=0)';
        return 'done';
      }
      if (rooted && (m = RE_WALK_LEVEL.exec(msg))) {
        const present = m[4] !== 'n';
        steps.push({ level: Number(m[1]), index: parseInt(m[2]!, 16), value: hex(m[3]!)!, read: m[4] === 'r', write: m[5] === 'w', present });
        (rec.decoded ??= {}).walk = steps;
        return present ? 'more' : 'done';
      }
      return 'end';
    },
  };
}

function flagsValue(s: string): number {
  return parseInt(s.replace(/^0x/i, ''), 16) & 0xfff;
}

export const xenAmdViRecognizer: Recognizer = {
  family: FAMILY,
  keys: ['AMD-Vi', ...Object.keys(XEN_EVENT_NAMES).filter((n) => n !== 'IO_PAGE_FAULT')],
  recognize(line) {
    const msg = line.message;
    let m: RegExpExecArray | null;
    if ((m = RE_NEW.exec(msg))) {
      const code = XEN_EVENT_NAMES[m[1]!];
      const rec: FaultRecord = { line: line.line, family: FAMILY, host: 'xen', kind: 'event' };
      const dev = normalizeBdf(m[2]);
      if (dev) rec.device = dev;
      rec.domain = hex(Number(m[3]));
      rec.iova = hex(m[4]!);
      const flags = flagsValue(m[5]!);
      applyFlags(rec, code, flags);
      if (rec.domain !== undefined) rec.decoded!.xenDomain = Number(m[3]); // with GN=1 the field is a PASID
      const labels = m[6]!.trim();
      if (labels) rec.decoded!.xenFlagLabels = labels.split(' ');
      rec.reason = eventReason(code, m[1]!, flags);
      return { record: rec, more: walkContinuation(rec, m[2]!) };
    }
    if ((m = RE_OLD.exec(msg))) {
      const code = XEN_EVENT_NAMES[m[1]!];
      const rec: FaultRecord = { line: line.line, family: FAMILY, host: 'xen', kind: 'event' };
      // "device id" is the 16-bit requester id; this print does not give the segment.
      rec.device = bdfFromId(parseInt(m[3]!.replace(/^0x/i, ''), 16));
      rec.domain = hex(Number(m[2]));
      rec.iova = hex(m[4]!);
      (rec.decoded ??= {}).xenDomain = Number(m[2]);
      let flags: number | undefined;
      if (m[5] !== undefined) {
        flags = flagsValue(m[5]);
        applyFlags(rec, code, flags);
      }
      rec.reason = eventReason(code, m[1]!, flags);
      return { record: rec };
    }
    if ((m = RE_RAW.exec(msg.trimStart()))) {
      const name = m[1]!;
      if (name !== 'event' && XEN_EVENT_NAMES[name] === undefined) return undefined;
      const dw = [m[2], m[3], m[4], m[5]].map((s) => dword(s!)) as number[];
      const rec: FaultRecord = { line: line.line, family: FAMILY, host: 'xen', kind: 'event' };
      applyEventDwords(rec, dw);
      (rec.decoded ??= {}).printedAs = name;
      return { record: rec };
    }
    if ((m = RE_NO_EVENT.exec(msg)) && line.host === 'xen') {
      return {
        record: {
          line: line.line, family: FAMILY, host: 'xen', kind: 'queue-error',
          reason: { name: m[1] === 'ppr' ? 'NO_PPR_WRITTEN' : 'NO_EVENT_WRITTEN', text: 'the log tail moved but the entry stayed zero (erratum 732/733 retry exhausted)' },
        },
      };
    }
    return undefined;
  },
};
