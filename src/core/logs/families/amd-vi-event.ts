/**
 * What an AMD-Vi event means, shared by the Linux and Xen recognisers: event names, the
 * flags field in words, the access it implies, and the decoding of raw event dwords (Linux's
 * "UNKNOWN event[0]=..." print and Xen's "%s %08x %08x %08x %08x" print).
 */
import type { FaultReason, FaultRecord } from '../record';
import { bdfFromId, hex } from '../normalize';
import { decodedFields } from '../../decode/register';
import { AMD_EVENT_CODES, AMD_FLAGS, XEN_EVENT_NAMES } from '../../decode/registers/amd-vi';

const CODE_BY_NAME = new Map<string, number>();
for (const [code, v] of Object.entries(AMD_EVENT_CODES)) CODE_BY_NAME.set(v.name, Number(code));
for (const [name, code] of Object.entries(XEN_EVENT_NAMES)) CODE_BY_NAME.set(name, code);

/** Event code of a printed event name (Linux or Xen spelling), or undefined. */
export function eventCodeOf(name: string): number | undefined {
  return CODE_BY_NAME.get(name);
}

/** Linux tag of an event code ("IO_PAGE_FAULT"), or "EVENT_0xN" for codes no print names. */
export function eventNameOf(code: number): string {
  return AMD_EVENT_CODES[code]?.name ?? `EVENT_0x${code.toString(16)}`;
}

const F_GN = 0x001, F_NX = 0x002, F_US = 0x004, F_I = 0x008, F_PR = 0x010, F_RW = 0x020, F_PE = 0x040, F_RZ = 0x080, F_TR = 0x100;

/** Events whose flags carry the RW bit of the faulting transaction. */
const HAS_ACCESS = new Set([0x1, 0x2, 0x3, 0x4, 0xd]);

/**
 * INVALID_DEVICE_REQUEST has no RW bit: its TYPE field (flags bits 11:9) says what was refused
 * (AMD IOMMU spec, INVALID_DEVICE_REQUEST event; 0x0a00 = type 5 is the common "posted write to
 * the interrupt range" one). [text, access]
 */
const INV_DEV_REQ_TYPES: Readonly<Record<number, readonly [string, string | undefined]>> = {
  0: ['read request or non-posted write in the interrupt address range', undefined],
  1: ['pretranslated (ATS) transaction from a device whose DTE has I=0 or V=0', undefined],
  2: ['port I/O space transaction from a device whose DTE has IoCtl=00b', undefined],
  3: ['posted write to the system management address range from a device whose DTE has SysMgt=00b', 'write'],
  5: ['posted write to the interrupt/EOI address range from a device whose DTE has IntCtl=00b (interrupts from this device are blocked)', 'write'],
};

/** Access implied by the flags of an event: interrupt requests have none (an MSI, not a memory access). */
export function accessFromFlags(code: number | undefined, flags: number): string | undefined {
  if (code === 0x8) return INV_DEV_REQ_TYPES[(flags >> 9) & 7]?.[1];
  if (code !== undefined && !HAS_ACCESS.has(code)) return undefined;
  if (flags & F_I) return undefined;
  return flags & F_RW ? 'write' : 'read';
}

/** The flags of an IO_PAGE_FAULT in one sentence: what was attempted and why it failed. */
export function ioPageFaultText(flags: number): string {
  const who = flags & F_TR ? 'ATS translation request' : `DMA ${flags & F_RW ? 'write' : 'read'}`;
  const user = flags & F_US ? ' (user)' : '';
  const guest = flags & F_GN ? ' with PASID (guest/GCR3 tables)' : '';
  if (flags & F_I) {
    return 'interrupt request (I=1): the device\'s interrupt remapping entry was missing, invalid or disabled; the address is the MSI/interrupt address, not memory';
  }
  let why: string;
  if (flags & F_RZ) why = 'a page-table entry had reserved bits set or an illegal next-level encoding';
  else if (flags & F_PR && flags & F_PE) why = 'the page is mapped but its permissions deny this access';
  else if (flags & F_PR) why = 'the page is present but the access was refused';
  else why = 'no translation is present for the address: never mapped, already unmapped, or a stale/wrong address';
  const nx = flags & F_NX ? ' (execute requested: NX)' : '';
  return `${who}${user}${guest}${nx}: ${why}`;
}

export function eventReason(code: number | undefined, name: string, flags: number | undefined): FaultReason {
  const r: FaultReason = code !== undefined ? { code, name } : { name };
  if (code === 0x2 && flags !== undefined) r.text = ioPageFaultText(flags);
  else if (code === 0x8 && flags !== undefined) {
    const type = (flags >> 9) & 7;
    r.text = `the device issued a request it is not allowed to make: ${INV_DEV_REQ_TYPES[type]?.[0] ?? `request type ${type}`}`;
  }
  else if (code !== undefined && AMD_EVENT_CODES[code]) r.text = AMD_EVENT_CODES[code]!.text;
  return r;
}

/** Put the flags into a record: raw register, decoded fields, access. */
export function applyFlags(rec: FaultRecord, code: number | undefined, flags: number): void {
  (rec.registers ??= {}).flags = hex(flags)!;
  (rec.decoded ??= {}).flags = decodedFields(AMD_FLAGS, BigInt(flags));
  const access = accessFromFlags(code, flags);
  if (access) rec.access = access;
  if (code === 0x2 && flags & F_GN && rec.domain !== undefined) {
    // Linux passes the PASID as the domain= argument when GN is set (iommu_print_event).
    rec.pasid = rec.domain;
    delete rec.domain;
    rec.decoded.domainFieldHolds = 'PASID[15:0] (GN=1)';
  }
}

/** Everything that can be read out of the four event dwords. */
export function applyEventDwords(rec: FaultRecord, dw: readonly number[], segment = 0): void {
  const [e0, e1, e2, e3] = dw.map((d) => d >>> 0) as [number, number, number, number];
  const regs = (rec.registers ??= {});
  regs.event0 = hex(e0)!;
  regs.event1 = hex(e1)!;
  regs.event2 = hex(e2)!;
  regs.event3 = hex(e3)!;
  const code = e1 >>> 28;
  const flags = (e1 >>> 16) & 0xfff;
  const devid = e0 & 0xffff;
  const name = eventNameOf(code);
  const addr = (BigInt(e3) << 32n) | BigInt(e2);
  rec.device = bdfFromId(devid, segment);
  const d = (rec.decoded ??= {});
  d.eventCode = code;
  switch (code) {
    case 0x1: case 0x4: case 0x8:
      rec.pasid = hex((e0 & 0xf0000) | (e1 & 0xffff));
      rec.iova = hex(addr);
      break;
    case 0x2:
      if (flags & F_GN) rec.pasid = hex((e0 & 0xf0000) | (e1 & 0xffff));
      else rec.domain = hex(e1 & 0xffff);
      rec.iova = hex(addr);
      break;
    case 0x3:
      rec.iova = hex(addr);
      break;
    case 0x5: case 0x6:
      delete rec.device; // the address is that of the command; no requester
      d.commandAddress = hex(addr);
      break;
    case 0x7:
      // the device that did not answer, and the address of the INVALIDATE_IOTLB_PAGES command
      d.commandAddress = hex((BigInt(e3) << 32n) | BigInt(e2 & 0xfffffff0));
      break;
    case 0x9:
      rec.pasid = hex((((e1 >>> 10) & 0xf) << 16) | (e0 >>> 16));
      d.tag = e1 & 0x3ff;
      rec.iova = hex(addr);
      break;
    case 0xd:
      d.vmg_tag = hex(e1 & 0xffff);
      d.flags_rmp = hex((e0 >>> 16) & 0xff);
      rec.iova = hex(addr);
      break;
    case 0xe:
      d.vmg_tag = hex(e1 & 0xffff);
      d.spa = hex((BigInt(e3) << 32n) | BigInt(e2 & 0xfffffff8));
      break;
    default:
      rec.iova = hex(addr);
  }
  if (code !== 0x5) applyFlags(rec, code, flags);
  rec.reason = eventReason(AMD_EVENT_CODES[code] ? code : undefined, name, flags);
  if (!AMD_EVENT_CODES[code]) rec.reason.code = code;
}

/** Parse one hex dword ("0x0000a0f8" or "0000a0f8"). */
export function dword(s: string): number | undefined {
  if (!/^(?:0x)?[0-9a-fA-F]{1,8}$/.test(s)) return undefined;
  return parseInt(s.replace(/^0x/i, ''), 16) >>> 0;
}
