/**
 * Linux AMD-Vi prints (drivers/iommu/amd, formerly arch/x86/kernel/amd_iommu.c), every era:
 *
 *   AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:03:00.0 domain=0x000d address=0xfffe0000 flags=0x0020]
 *   amdgpu 0000:07:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0007 address=0xffffc02000 flags=0x0000]
 *   AMD-Vi: Event logged [IO_PAGE_FAULT device=07:00.0 domain=0x0007 address=0x... flags=0x0000]    (< v6.0)
 *   AMD IOMMU: Event logged [IO_PAGE_FAULT device=00:14.0 domain=0x0000 address=0x00000000fdf8f000 flags=0x0010]
 *   iommu ivhd0: AMD-Vi: Event logged [ILLEGAL_DEV_TABLE_ENTRY device=... pasid=0x00000 ...]  + Control Reg + DTE[0..3]
 *   ... [ILLEGAL_COMMAND_ERROR address=0x...] + CMD[0..3]
 *   ... [UNKNOWN event[0]=0x... event[1]=0x... event[2]=0x... event[3]=0x...     (no closing bracket)
 *   AMD-Vi: Event logged [Device not attached to domain properly]  +  "  device=... domain=0x...."
 *   AMD-Vi: PPR logged [Request ignored due to GN=0 (device=... pasid=... address=... flags=... tag=...]
 *   AMD-Vi: Completion-Wait loop timed out / IOMMU event log overflow / IOMMU %s log restarting
 *
 * Mail clients wrap "Event logged" and the bracket onto two lines; the very old driver printed
 * the bracket's content with a second printk. Both are assembled into one record.
 */
import type { Continuation, Recognition, Recognizer } from '../recognizer';
import type { LogLine } from '../line';
import type { FaultRecord } from '../record';
import { bdfFromId, hex, normalizeBdf, parseHex } from '../normalize';
import { decodedFields } from '../../decode/register';
import { AMD_CMD_OPCODES, AMD_DTE0, AMD_PPR_FLAGS } from '../../decode/registers/amd-vi';
import { applyEventDwords, applyFlags, dword, eventCodeOf, eventNameOf, eventReason } from './amd-vi-event';

const FAMILY = 'amd-vi';

// Where the printed text starts: after "AMD-Vi: " (pr_fmt) or the old "AMD IOMMU: ".
const RE_PREFIX = /(?:^|[\s\]])(AMD-Vi|AMD IOMMU): (?:AMD-Vi: )?/;
// "driver device: " in front of the prefix (dev_err / pci_err), also right after a Markdown backtick.
const RE_DEV = /(?:^|[\s\]>|`])([\w.-]{1,64}) ([\w.:@-]{1,80}): $/;
// "=3D" is "=" in quoted-printable mail archives (bugzilla mails, list digests).
const RE_KV = /(?:^|[\s(\[,])([a-z_]{1,12}(?:\[[0-3]\])?)=(?:3D)?(0x[0-9a-fA-F]{1,16}|[0-9a-fA-F]{1,4}:[0-9a-fA-F]{1,2}:[0-9a-fA-F]{1,2}\.[0-7]|[0-9a-fA-F]{1,2}:[0-9a-fA-F]{1,2}\.[0-7]|\d{1,10})(?=[\s,\])]|$)/g;
const RE_EVENT_NAME = /^\s{0,4}\[?\s{0,2}([A-Z][A-Z0-9_]{2,40})(?=[\s\]]|$)/;
const RE_NOT_ATTACHED = /^\s{0,4}\[?Device not attached to domain properly\]?/;

interface Where {
  /** text after the prefix */
  rest: string;
  device?: string;
  iommu?: string;
  driver?: string;
}

function locate(message: string): Where | undefined {
  const m = RE_PREFIX.exec(message);
  if (!m) return locateBare(message);
  const start = m.index + m[0].indexOf(m[1]!);
  const w: Where = { rest: message.slice(m.index + m[0].length) };
  const d = RE_DEV.exec(message.slice(Math.max(0, start - 160), start));
  if (d) applyDev(w, d);
  return w;
}

function applyDev(w: Where, d: RegExpExecArray): void {
  w.driver = d[1]!;
  const bdf = normalizeBdf(d[2]!);
  if (bdf) w.device = bdf;
  else if (/^ivhd\d{1,4}$/.test(d[2]!)) w.iommu = d[2]!;
  else w.device = d[2]!;
}

const EVENT_LIT = 'Event logged [';

/**
 * Kernels whose dev_err() prints had no dev_fmt (4.20 to 5.x) printed events without "AMD-Vi: ":
 * "amdgpu 0000:05:00.0: Event logged [IO_PAGE_FAULT domain=... address=... flags=...]",
 * "iommu ivhd0: Event logged [...]". The phrase alone is too common: the prefix must name a PCI
 * device or an IOMMU, and the bracket an AMD-Vi event.
 */
function locateBare(message: string): Where | undefined {
  const at = message.indexOf(EVENT_LIT);
  if (at < 0 || at > 400) return undefined;
  const name = /^[A-Z][A-Z_]{2,40}/.exec(message.slice(at + EVENT_LIT.length, at + EVENT_LIT.length + 48));
  if (!name || eventCodeOf(name[0]) === undefined) return undefined;
  const d = RE_DEV.exec(message.slice(Math.max(0, at - 160), at));
  if (!d || !(normalizeBdf(d[2]!) || /^ivhd\d{1,4}$/.test(d[2]!))) return undefined;
  const w: Where = { rest: message.slice(at) };
  applyDev(w, d);
  return w;
}

function kvs(body: string): Map<string, string> {
  const out = new Map<string, string>();
  RE_KV.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = RE_KV.exec(body))) if (!out.has(m[1]!)) out.set(m[1]!, m[2]!);
  return out;
}

function num(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const v = /^0x/i.test(s) ? parseHex(s) : /^\d+$/.test(s) ? BigInt(s) : parseHex(s);
  return v === undefined || v > 0xffffffffn ? undefined : Number(v);
}

function base(line: LogLine, w: Where, kind: string): FaultRecord {
  const r: FaultRecord = { line: line.line, family: FAMILY, kind };
  if (w.device) r.device = w.device;
  if (w.iommu) r.iommu = w.iommu;
  return r;
}

/** Fill a record from the body of "Event logged [...]": event name and key=value pairs. */
function applyEventBody(rec: FaultRecord, body: string): boolean {
  if (RE_NOT_ATTACHED.test(body)) {
    rec.reason = { code: 0x2, name: 'IO_PAGE_FAULT', text: 'Device not attached to domain properly: a DMA fault from a device whose IOMMU driver data has no domain (attach/detach race or failed attach)' };
    (rec.decoded ??= {}).notAttached = true;
    return true;
  }
  const n = RE_EVENT_NAME.exec(body);
  if (!n) return false;
  const name = n[1]!;
  const kv = kvs(body.slice(n[0].length));
  if (name === 'UNKNOWN') {
    const dw = [0, 1, 2, 3].map((i) => dword(kv.get(`event[${i}]`) ?? ''));
    if (dw.every((x) => x !== undefined)) {
      const seg = rec.device && /^[0-9a-f]{4}:/.test(rec.device) ? parseInt(rec.device.slice(0, 4), 16) : 0;
      const printedDevice = rec.device;
      applyEventDwords(rec, dw as number[], seg);
      // The UNKNOWN print comes from the IOMMU device, so any device prefix is not the requester.
      if (printedDevice && rec.device === undefined) rec.device = printedDevice;
      rec.decoded!.printedAs = 'UNKNOWN';
    } else {
      // 2.6-era kernels printed only "UNKNOWN type=0x%02x]".
      const type = num(kv.get('type'));
      rec.reason = type !== undefined
        ? { code: type, name: eventNameOf(type), text: `event code 0x${type.toString(16)} that this kernel does not decode` }
        : { name: 'UNKNOWN', text: 'event with a code this kernel does not know; raw dwords incomplete' };
      if (type !== undefined) (rec.decoded ??= {}).printedAs = 'UNKNOWN';
    }
    return true;
  }
  const code = eventCodeOf(name);
  const dev = normalizeBdf(kv.get('device'));
  if (dev) rec.device = dev;
  const domain = kv.get('domain');
  if (domain !== undefined) rec.domain = hex(domain);
  const pasid = kv.get('pasid');
  if (pasid !== undefined) rec.pasid = hex(pasid);
  const addr = kv.get('address') ?? kv.get('gpa');
  if (addr !== undefined) {
    // ILLEGAL_COMMAND, COMMAND_HARDWARE_ERROR and IOTLB_INV_TIMEOUT log the system physical
    // address of a command in the command buffer, not a device address.
    if (code === 0x5 || code === 0x6 || code === 0x7) (rec.decoded ??= {}).commandAddress = hex(addr);
    else rec.iova = hex(addr);
  }
  const spa = kv.get('spa');
  if (spa !== undefined) (rec.decoded ??= {}).spa = hex(spa);
  const vmg = kv.get('vmg_tag');
  if (vmg !== undefined) (rec.decoded ??= {}).vmg_tag = hex(vmg);
  const frmp = kv.get('flags_rmp');
  if (frmp !== undefined) (rec.registers ??= {}).flags_rmp = hex(frmp)!;
  const tag = kv.get('tag');
  if (tag !== undefined) (rec.registers ??= {}).tag = hex(tag)!;
  const flags = num(kv.get('flags'));
  if (flags !== undefined) applyFlags(rec, code, flags & 0xfff);
  rec.reason = eventReason(code, name, flags);
  return true;
}

/** Lines that follow an event: the DTE dump, the control register, the command dump. */
function dumpContinuation(rec: FaultRecord, what: 'dte' | 'cmd'): Continuation {
  const dte: (bigint | undefined)[] = [];
  let got = 0;
  return {
    window: 3,
    feed(l) {
      const msg = l.message;
      const c = /(?:^|\s)Control Reg : 0x([0-9a-fA-F]{1,16})\s*$/.exec(msg);
      if (c && what === 'dte') {
        (rec.registers ??= {}).control = hex('0x' + c[1]!)!;
        return 'more';
      }
      const re = what === 'dte' ? /(?:^|\s)DTE\[([0-7])\]: ([0-9a-fA-F]{8,16})\s*$/ : /(?:^|\s)CMD\[([0-3])\]: ([0-9a-fA-F]{8})\s*$/;
      const m = re.exec(msg);
      if (!m) return /Event logged/.test(msg) ? 'end' : 'skip';
      const i = Number(m[1]);
      const v = BigInt('0x' + m[2]!);
      got++;
      if (what === 'cmd') {
        (rec.registers ??= {})[`cmd${i}`] = hex(v)!;
        return got >= 4 ? 'done' : 'more';
      }
      if (m[2]!.length <= 8) {
        // Old kernels dumped the 256-bit entry as eight dwords, low dword first.
        const q = i >> 1;
        dte[q] = (dte[q] ?? 0n) | (i & 1 ? v << 32n : v);
        (rec.registers ??= {})[`dte${q}`] = hex(dte[q]!)!;
        return got >= 8 ? 'done' : 'more';
      }
      (rec.registers ??= {})[`dte${i}`] = hex(v)!;
      return got >= 4 ? 'done' : 'more';
    },
    finish() {
      const d = (rec.decoded ??= {});
      if (what === 'cmd') {
        const c1 = rec.registers?.cmd1 ? Number(parseHex(rec.registers.cmd1)! & 0xffffffffn) : undefined;
        if (c1 !== undefined) d.commandOpcode = AMD_CMD_OPCODES[c1 >>> 28]?.name ?? `0x${(c1 >>> 28).toString(16)}`;
        return;
      }
      const d0 = rec.registers?.dte0 ? parseHex(rec.registers.dte0) : undefined;
      if (d0 === undefined) return;
      const f = decodedFields(AMD_DTE0, d0);
      d.dte0 = f;
      const why: string[] = [];
      if (!f.V) why.push('DTE V=0');
      if (f.V && !f.TV) why.push('TV=0 (no translation information)');
      if (f.Mode === 'RESERVED') why.push('illegal paging mode 7');
      if (why.length && rec.reason) rec.reason.text = `${rec.reason.text ?? ''}; ${why.join(', ')}`.replace(/^; /, '');
    },
  };
}

/**
 * The wrapped second half of "Event logged" (mail wrap, or the two-printk era). Another CPU's
 * line may come between the two printk calls: past the very next line only a known event's
 * body is taken.
 */
function bodyOnNextLine(rec: FaultRecord): Continuation {
  return {
    window: 2,
    feed(l) {
      const t = l.message.trimStart();
      const m = /^\[?\s{0,2}(?:([A-Z][A-Z0-9_]{2,40})|Device not attached)/.exec(t);
      // an event name, "UNKNOWN event[0]=..." or the not-attached text: anything else is someone else's line
      if (m && (m[1] === undefined || m[1] === 'UNKNOWN' || eventCodeOf(m[1]) !== undefined)) return applyEventBody(rec, t) ? 'done' : 'end';
      return l.message.includes('Event logged') || l.message.includes('AMD-Vi') ? 'end' : 'skip';
    },
  };
}

// The second printk of the two-printk era on its own: "IO_PAGE_FAULT device=04:00.0 domain=0x0002 address=... flags=0x0070]"
const RE_BARE_BODY = /^\s{0,4}(IO_PAGE_FAULT|INVALID_DEVICE_REQUEST) device=[0-9a-fA-F:.]{7,12} [^\]]{8,200}\]\s*$/;

function isBareBody(t: string): boolean {
  return RE_BARE_BODY.test(t);
}

/**
 * A two-printk era body whose "AMD-Vi: Event logged [" line is not there (an excerpt starting
 * between the two, or other lines between them): the fields alone make the record.
 */
function bareBody(line: LogLine): Recognition | undefined {
  const t = line.message.length > 400 ? '' : line.message;
  if (!isBareBody(t)) return undefined;
  const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'event' };
  return applyEventBody(rec, t) ? { record: rec } : undefined;
}

// A mail client broke the line inside the bracket: the name (and maybe some fields) are here,
// the rest of the fields and the "]" on the next line.
const RE_OPEN_BRACKET = /^\s{0,4}\[\s{0,2}[A-Z][A-Z0-9_]{2,40}(?:\s|$)[^\]]{0,200}$/;
// Quote marks, indentation and bar quoting in front of the wrapped half.
const RE_QUOTE_LEAD = /^[\s>|]{0,24}/;

/**
 * A quoted-printable soft break ("=" ending a mail line) inside the bracket: "device=3D05:0=",
 * "[IO_PAGE_FA=". A key with its value on the next line ("flags=") is a plain wrap.
 */
function softBroken(body: string): boolean {
  const t = body.trimEnd();
  if (t.charCodeAt(t.length - 1) !== 61 || t.includes(']')) return false; // '='
  const c = t.charCodeAt(t.length - 2);
  return !(c === 95 || (c >= 97 && c <= 122)); // not '_' nor a-z
}

/** The fields of an event whose bracket was wrapped after the event name (or cut by soft breaks). */
function fieldsContinuation(rec: FaultRecord, body: string, then: (() => Continuation | undefined)): Continuation {
  let next: Continuation | undefined;
  let joins = 0;
  return {
    window: 1,
    feed(l) {
      if (next) {
        const v = next.feed(l);
        this.window = next.window;
        return v;
      }
      const soft = softBroken(body);
      const t = soft ? l.message.trimEnd() : l.message.replace(RE_QUOTE_LEAD, '');
      if (!soft && !/^[a-z_]{1,12}=/.test(t)) return 'end';
      body = soft ? body.trimEnd().slice(0, -1) + t : `${body.trimEnd()} ${t}`;
      // a soft break may cut the bracket again on this line
      if (++joins < 4 && (softBroken(body) || (soft && RE_OPEN_BRACKET.test(body)))) return 'more';
      applyEventBody(rec, body);
      next = then();
      if (!next) return 'done';
      this.window = next.window;
      return 'more';
    },
    finish() {
      next?.finish?.();
    },
  };
}

function afterEvent(rec: FaultRecord): Continuation | undefined {
  const code = rec.reason?.code;
  if (code === 0x1) return dumpContinuation(rec, 'dte');
  if (code === 0x5) return dumpContinuation(rec, 'cmd');
  return undefined;
}

function eventLogged(line: LogLine, w: Where, body: string): Recognition {
  const rec = base(line, w, 'event');
  if (body.trim() === '' || body.trim() === '[') {
    rec.reason = { text: 'event details printed on the next line' };
    return { record: rec, more: bodyOnNextLine(rec) };
  }
  if (softBroken(body)) {
    // what precedes the break, unless the break cut the event name itself ("[IO_PAGE_FA=")
    const partial = body.trimEnd().slice(0, -1);
    const n = RE_EVENT_NAME.exec(partial);
    if (n && eventCodeOf(n[1]!) !== undefined) applyEventBody(rec, partial);
    return { record: rec, more: fieldsContinuation(rec, body, () => afterEvent(rec)) };
  }
  if (!applyEventBody(rec, body)) return { record: rec };
  // "UNKNOWN event[0]=..." has no closing bracket by design (printedAs is set for it)
  if (RE_OPEN_BRACKET.test(body) && rec.decoded?.printedAs === undefined && rec.reason?.name !== 'UNKNOWN') {
    return { record: rec, more: fieldsContinuation(rec, body, () => afterEvent(rec)) };
  }
  const after = afterEvent(rec);
  if (after) return { record: rec, more: after };
  if (rec.decoded?.notAttached) {
    return {
      record: rec,
      more: {
        window: 2,
        feed(l) {
          const kv = kvs(l.message);
          const dev = normalizeBdf(kv.get('device'));
          if (!dev || !/^\s{0,4}(?:AMD-Vi:\s{1,4})?device=/.test(l.message.replace(/^.*?AMD-Vi: /, 'AMD-Vi: '))) return 'skip';
          rec.device = dev;
          const dom = kv.get('domain');
          if (dom) rec.domain = hex(dom);
          return 'done';
        },
      },
    };
  }
  return { record: rec };
}

function pprLogged(line: LogLine, w: Where, body: string): Recognition {
  const rec = base(line, w, 'page-request');
  const kv = kvs(body);
  const dev = normalizeBdf(kv.get('device'));
  if (dev) rec.device = dev;
  const pasid = kv.get('pasid');
  if (pasid !== undefined) rec.pasid = hex(pasid);
  const addr = kv.get('address');
  if (addr !== undefined) rec.iova = hex(addr);
  const tag = kv.get('tag');
  if (tag !== undefined) (rec.registers ??= {}).tag = hex(tag)!;
  const t = num(tag);
  // PPR_TAG: bits 8:0 the page request group index, bit 9 the group's last request (reference §4.5)
  if (t !== undefined) (rec.decoded ??= {}).ppr = { prgIndex: t & 0x1ff, lastPage: (t & 0x200) !== 0 };
  const flags = num(kv.get('flags'));
  if (flags !== undefined) {
    (rec.registers ??= {}).ppr_flags = hex(flags)!;
    const f = decodedFields(AMD_PPR_FLAGS, BigInt(flags));
    (rec.decoded ??= {}).ppr_flags = f;
    const acc = [f.READ ? 'read' : '', f.WRITE ? 'write' : '', f.EXEC ? 'exec' : ''].filter(Boolean).join('+');
    if (acc) rec.access = acc;
  }
  const why = /^\s{0,4}\[([A-Za-z][^(\]]{2,80}?)\s{0,2}\(/.exec(body);
  rec.reason = { name: 'PPR', text: why ? `page request not handled: ${why[1]!.trim()}` : 'peripheral page request logged' };
  return { record: rec };
}

const QUEUE_ERRORS: readonly [RegExp, string, string][] = [
  [/^Completion-Wait loop timed out/, 'COMPLETION_WAIT_TIMEOUT', 'the IOMMU did not complete a COMPLETION_WAIT command: the command queue is stuck (IOMMU hang, or an earlier ILLEGAL_COMMAND_ERROR)'],
  [/^Command buffer timeout/, 'COMMAND_BUFFER_TIMEOUT', 'no space freed in the command buffer: the IOMMU stopped fetching commands'],
  [/^No event written to event log/, 'NO_EVENT_WRITTEN', 'the event log tail moved but the entry stayed zero (erratum 732 retry exhausted)'],
  [/^IOMMU [Ee]vent log overflow/, 'EVENT_LOG_OVERFLOW', 'event log overflowed: events were lost; the log was restarted'],
  [/^IOMMU (Event|PPR|GA) log restarting/, 'LOG_RESTART', 'the IOMMU log overflowed and was restarted: entries were lost'],
  [/^IOMMU (PPR|GA) [Ll]og overflow/, 'LOG_OVERFLOW', 'the IOMMU log overflowed: entries were lost'],
];

export const amdViRecognizer: Recognizer = {
  family: FAMILY,
  keys: ['AMD-Vi', 'AMD IOMMU', 'Event logged [', 'IO_PAGE_FAULT device=', 'INVALID_DEVICE_REQUEST device='],
  recognize(line) {
    const w = locate(line.message);
    if (!w) return bareBody(line);
    const rest = w.rest;
    let m: RegExpExecArray | null;
    if ((m = /^Event logged ?/.exec(rest))) return eventLogged(line, w, rest.slice(m[0].length));
    if ((m = /^PPR logged ?/.exec(rest))) return pprLogged(line, w, rest.slice(m[0].length));
    if (/^Unknown PPR request received/.test(rest)) {
      const rec = base(line, w, 'page-request');
      rec.reason = { name: 'PPR', text: 'PPR log entry of an unknown request type' };
      return { record: rec };
    }
    if ((m = /^Invalid PASID : 0x([0-9a-fA-F]{1,5}), device : 0x([0-9a-fA-F]{1,4})/.exec(rest))) {
      const rec = base(line, w, 'page-request');
      rec.pasid = hex('0x' + m[1]!);
      rec.device = bdfFromId(parseInt(m[2]!, 16));
      rec.reason = { name: 'PPR', text: 'page request with an invalid PASID (0, or not below the device\'s maximum): answered with failure' };
      return { record: rec };
    }
    for (const [re, name, text] of QUEUE_ERRORS) {
      const q = re.exec(rest);
      if (!q) continue;
      const rec = base(line, w, 'queue-error');
      rec.reason = { name: q[1] ? `${q[1].toUpperCase()}_${name}` : name, text };
      return { record: rec };
    }
    return undefined;
  },
};
