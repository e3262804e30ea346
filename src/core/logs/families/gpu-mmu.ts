/**
 * Page faults of GPU MMUs, as the GPU drivers print them (family `gpu-mmu`, kind `page-fault`):
 *   msm/adreno  "*** gpu fault: ttbr0=%.16llx iova=%.16lx dir=%s type=%s source=%s (%u,%u,%u,%u)"
 *               newer "*** gpu fault: cb=%d ttbr0=%.16llx cb0_ttbr0=%.16llx cb1_ttbr0=%.16llx iova=%.16lx dir=..."
 *               older "*** gpu fault: iova=%08lx, flags=%d (%u,%u,%u,%u)", "*** gpu fault: iova=%.16lx flags=%d (...)",
 *               msm_iommu fallback "*** fault: iova=%16lx, flags=%d"
 *   panfrost/panthor/kbase (Mali) "Unhandled Page fault in AS%d at VA 0x%016llX\n" + "Reason: %s\n" + "raw fault status: 0x%X\n"
 *               + "decoded fault status: %s\n" + "exception type 0x%X: %s\n" + "access type 0x%X: %s\n" + "source id 0x%X\n" [+ "pid: %d\n"]
 *   lima (Mali-4xx) "mmu page fault at 0x%x from bus id %d of type %s on %s" / "%s page fault at 0x%x from bus id %d of type %s"
 *   amdgpu gmc v9+ "[%s] %s page fault (src_id:%u ring:%u vmid:%u pasid:%u[, for process ...])" + task line +
 *               "  in page starting at address 0x%016llx from [IH ]client ..." + "*VM_L2_PROTECTION_FAULT_STATUS:0x%08X" + decoded lines
 *   amdgpu gmc v6-8 / radeon "GPU fault detected: %d 0x%08x" + "  VM_CONTEXT1_PROTECTION_FAULT_ADDR   0x%08X"
 *               + "  VM_CONTEXT1_PROTECTION_FAULT_STATUS 0x%08X" + "VM fault (0x%02x, vmid %d[, pasid %d]) at page %u, %s from ..."
 *   nouveau     gk104+ "fault %02x [%s] at %016llx engine %02x [%s] client %02x [%s%s] reason %02x [%s] on channel %d [%010llx %s]",
 *               gf100 "%s fault at %010llx engine ...", nv50 "trapped %s at %02x%04x%04x on channel %d [%08x %s] engine ..."
 *   v3d         "MMU error from client %s (%d|0x%x) at 0x%llx%s%s%s" (", write violation", ", pte invalid", ", cap exceeded"),
 *               4.18 "MMU error from client %d at 0x%08llx%s%s%s"
 *   etnaviv     "MMU %d fault (%s) addr 0x%08x", older "MMU %d fault addr 0x%08x"
 *   KGSL        (Qualcomm Android) "GPU PAGE FAULT: addr = %lX pid = %d" + "context = ... (%s %s fault)"
 * Format strings: Linux drivers/gpu/drm/{msm/adreno,panfrost,panthor,lima,amd/amdgpu,radeon,nouveau/nvkm}.
 */
import type { LogLine } from '../line';
import type { FaultRecord } from '../record';
import type { Continuation, Feed, Recognition, Recognizer } from '../recognizer';
import { hex, normalizeBdf } from '../normalize';
import { decodedFields } from '../../decode/register';
import { AMD_VM_L2_PROTECTION_FAULT_STATUS, MALI_AS_FAULTSTATUS, maliExceptionName } from '../../decode/registers/gpu-mmu';
import { unquote, wrappedContinuation } from './wrapped';

// "<driver> <device>: " then, for amdgpu/radeon (dev_fmt) and nouveau (nvkm subdev), one more "name: ".
const RE_DEV = /^([A-Za-z0-9_.,@-]{1,64}) ([^\s]{1,160}?): /;
const RE_SUB = /^([a-z][a-z0-9_]{0,11}): /;

interface Split {
  driver?: string;
  name?: string;
  /** text after the device prefix */
  rest: string;
  /** text after the device prefix and a subsystem prefix, when there is one */
  sub?: string;
}

// Mail/tracker quote marks and indentation; printk caller-id column; "dmesg -H" relative stamps
// ("[ +14.888230]", "[  +0.000132]"), which line.ts leaves in the message; a dmesg stamp whose
// "[" a paste or a photo transcription lost ("494.736451] *** gpu fault: ...").
const RE_LEAD = /^[\s>|]{0,24}/;
const RE_COLUMN = /^(?:\[ {0,6}(?:[TC]\d{1,7}|\+\d{1,6}[.,]\d{1,9})|\d{1,8}\.\d{6})\] ?/;
// The device columns behind columns line.ts does not know ("May 21 14:41:21 kernel: ",
// "[Wed Nov 24 15:10:41 2021] " after blanks). GPU device names hold '.', ':' or '@'.
const RE_DEV_LATER = /(?:^|[\s\]>|"])([A-Za-z][\w.,@-]{0,63}) ([\w/-]{0,64}[.@:][\w.@/:-]{0,96}): /;
const RE_DRM = /^\[drm(?::[^\]\s]{1,64}(?: \[[\w-]{1,32}\])?)?\] (?:\*(?:ERROR|WARNING)\* )?/;
// FreeBSD drm-kmod prints the device alone: "drmn0: [gfxhub0] retry page fault ..."
const RE_BSD_DEV = /^([a-z][a-z_]{0,30}\d{1,3}): /;

function split(message: string): Split {
  let msg = message.replace(RE_LEAD, '');
  for (let i = 0; i < 2; i++) {
    const c = RE_COLUMN.exec(msg);
    if (!c) break;
    msg = msg.slice(c[0].length);
  }
  let m = RE_DEV.exec(msg);
  let at = 0;
  if (!m) {
    const b = RE_BSD_DEV.exec(msg);
    if (b) return { driver: b[1]!, name: b[1]!, rest: msg.slice(b[0].length) };
    m = RE_DEV_LATER.exec(msg.length > 240 ? msg.slice(0, 240) : msg);
    if (!m) return { rest: msg };
    at = m.index;
  }
  let rest = msg.slice(at + m[0].length);
  // drm_err()/drm_warn() put "[drm] *ERROR* " (5.x: "[drm:func [module]] *ERROR* ") after the device
  if (rest.charCodeAt(0) === 91 && rest.startsWith('[drm')) {
    const d = RE_DRM.exec(rest);
    if (d) rest = rest.slice(d[0].length);
  }
  const s = RE_SUB.exec(rest);
  const out: Split = { driver: m[1]!, name: m[2]!, rest };
  if (s) out.sub = rest.slice(s[0].length);
  return out;
}

function newRecord(line: LogLine, name: string | undefined): FaultRecord {
  const r: FaultRecord = { line: line.line, family: 'gpu-mmu', host: 'linux', kind: 'page-fault' };
  if (name !== undefined) {
    r.iommu = name;
    r.device = normalizeBdf(name) ?? name;
  }
  return r;
}

/** A continuation that takes lines while `take` accepts them, stepping over other lines. */
function follow(window: number, take: (l: LogLine) => Feed | undefined, stopOn?: RegExp): Continuation {
  return {
    window,
    feed(l) {
      const v = take(l);
      if (v) return v;
      return stopOn && stopOn.test(l.message) ? 'end' : 'skip';
    },
  };
}

// ---- msm / adreno ------------------------------------------------------------------------

// Transcribed prints may lose the blank after the colon ("*** gpu fault:ttbr0=...").
const RE_ADRENO = /^\*\*\* (gpu )?fault: ?(.{1,300})$/;
const RE_HEX64 = /^(?:0x)?[0-9a-fA-F]{1,16}$/;
const RE_ADRENO_SCRATCH = /\((\d{1,10}),(\d{1,10}),(\d{1,10}),(\d{1,10})\)\s*$/;
const ADRENO_TYPES: Record<string, { name: string; text: string }> = {
  TRANSLATION: { name: 'TRANSLATION', text: 'Translation fault: the GPU address is not mapped in the GPU page tables (SMMU FSR.TF)' },
  PERMISSION: { name: 'PERMISSION', text: 'Permission fault: the GPU address is mapped without the needed permission (SMMU FSR.PF)' },
  EXTERNAL: { name: 'EXTERNAL', text: 'External fault: the bus returned an error (SMMU FSR.EF)' },
  UNKNOWN: { name: 'UNKNOWN', text: 'the SMMU fault type was not translation, permission or external' },
};

/** Quoted-printable mail bodies print "=" as "=3D"; a soft break after "=" leaves "==" once joined. */
function unQp(s: string): string {
  if (s.indexOf('=3D') < 0 && s.indexOf('==') < 0) return s;
  return s.replace(/=3D/g, '=').replace(/={2,8}/g, '=');
}

function applyAdreno(r: FaultRecord, text: string): boolean {
  const kv = new Map<string, string>();
  // a key starts at a word boundary: "cb0_ttbr0=" must not set ttbr0
  const re = /(?<![A-Za-z0-9_])([a-z0-9_]{1,12})= {0,16}([^\s,]{1,40})/g;
  text = unQp(text);
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) kv.set(m[1]!, m[2]!);
  const iova = kv.get('iova');
  // the print's fields are 64-bit: a longer run of digits is damage, not an address
  if (iova === undefined || !RE_HEX64.test(iova) || hex(iova) === undefined) return false;
  r.iova = hex(iova);
  const decoded: Record<string, unknown> = { driver: 'msm' };
  const regs: Record<string, string> = {};
  // the newer print also names the context bank and the TTBR0 of both of the GPU's banks
  for (const k of ['ttbr0', 'cb0_ttbr0', 'cb1_ttbr0']) {
    const v = kv.get(k);
    if (v !== undefined && RE_HEX64.test(v) && hex(v)) regs[k] = hex(v)!;
  }
  if (Object.keys(regs).length) r.registers = regs;
  const cb = kv.get('cb');
  if (cb !== undefined && /^\d{1,3}$/.test(cb)) r.contextBank = Number(cb);
  const dir = kv.get('dir');
  const flags = kv.get('flags');
  if (dir === 'READ' || dir === 'WRITE') r.access = dir === 'WRITE' ? 'write' : 'read';
  else if (flags !== undefined && /^-?\d{1,10}$/.test(flags)) {
    // report_iommu_fault() flags: IOMMU_FAULT_WRITE = 0x1 (qcom_iommu always passes 0)
    r.access = (Number(flags) & 1) ? 'write' : 'read';
    decoded.flags = Number(flags);
  }
  const type = kv.get('type');
  if (type !== undefined) {
    const t = ADRENO_TYPES[type] ?? { name: type, text: `fault type ${type}` };
    r.reason = { name: t.name, text: t.text };
  }
  const source = kv.get('source');
  if (source !== undefined) decoded.source = source;
  const s = RE_ADRENO_SCRATCH.exec(text);
  if (s) decoded.cpScratch = [Number(s[1]), Number(s[2]), Number(s[3]), Number(s[4])];
  r.decoded = decoded;
  return true;
}

/** True when `next` starts with the letters that complete READ or WRITE after the cut `head`. */
function completesDir(head: string, next: string): boolean {
  for (const w of ['READ', 'WRITE']) {
    if (w.length > head.length && w.startsWith(head) && next.startsWith(w.slice(head.length) + ' ')) return true;
  }
  return false;
}

function recognizeAdreno(line: LogLine, sp: Split): Recognition | undefined {
  const m = RE_ADRENO.exec(sp.rest);
  if (!m) return undefined;
  const r = newRecord(line, sp.name);
  if (!applyAdreno(r, m[2]!)) return undefined;
  if (!m[1]) (r.decoded as Record<string, unknown>).driver = 'msm_iommu';
  // A mail client may have wrapped the new format (after "dir=READ", or inside "dir=" with a
  // quoted-printable soft break): take the rest up to the "(n,n,n,n)" scratch registers.
  if (/ttbr0=/.test(m[2]!) && !RE_ADRENO_SCRATCH.test(m[2]!)) {
    let text = m[2]!.trimEnd();
    let taken = 0;
    return {
      record: r,
      more: follow(1, (l) => {
        if (l.time !== undefined || taken >= 2) return 'end';
        const t = unquote(l.message).trimEnd();
        // a terminal or a photo cut inside the direction word: "dir=R" + "EAD type=..."
        const cut = /dir=([A-Z]{1,4})$/.exec(text);
        const joined = cut !== null && completesDir(cut[1]!, t);
        if (!joined && !/^(?:=|=3D|type=|dir=|source=)/.test(t)) return 'end';
        text = joined || text.endsWith('=') ? text + t : `${text} ${t}`;
        taken++;
        applyAdreno(r, text);
        return RE_ADRENO_SCRATCH.test(text) ? 'done' : 'more';
      }),
    };
  }
  return { record: r };
}

// ---- panfrost / panthor / kbase ----------------------------------------------------------

const RE_MALI = /^Unhandled Page fault in AS(\d{1,3}) at VA(?: (0x[0-9a-fA-F]{1,16}))?\s*$/;
const RE_MALI_VA = /^(0x[0-9a-fA-F]{1,16})\s*$/;
const RE_MALI_REASON = /^Reason: (.{0,120})$/;
const RE_MALI_RAW = /^raw fault status:? (0x[0-9a-fA-F]{1,8})/;
const RE_MALI_DECODED = /^decoded fault status: (.{0,40})$/;
const RE_MALI_EXC = /^exception type (0x[0-9a-fA-F]{1,2}): (\S{0,48})/;
const RE_MALI_ACCESS = /^access type (0x[0-9a-fA-F]{1,2}): (\S{0,16})/;
const RE_MALI_SOURCE = /^source id (0x[0-9a-fA-F]{1,8})/;
const RE_MALI_PID = /^pid: (\d{1,10})/;

const MALI_ACCESS: Record<string, string> = { READ: 'read', WRITE: 'write', EXECUTE: 'exec', ATOMIC: 'read+write' };

function recognizeMali(line: LogLine, sp: Split): Recognition | undefined {
  const m = RE_MALI.exec(sp.rest);
  if (!m) return undefined;
  const r = newRecord(line, sp.name);
  const d: Record<string, unknown> = { addressSpace: Number(m[1]) };
  r.decoded = d;
  if (m[2] !== undefined) r.iova = hex(m[2]);
  let sawSource = false;
  const setStatus = (v: string) => {
    const n = BigInt(v);
    r.registers = { as_faultstatus: hex(n)! };
    d.as_faultstatus = decodedFields(MALI_AS_FAULTSTATUS, n);
    const code = Number(n & 0xffn);
    const exc = maliExceptionName(code);
    if (exc && !r.reason) r.reason = { code, name: exc.name, text: exc.text };
    if (!r.access) r.access = MALI_ACCESS[['ATOMIC', 'EXECUTE', 'READ', 'WRITE'][Number((n >> 8n) & 3n)]!];
  };
  const take = (l: LogLine): Feed | undefined => {
    // the continuation lines are the same printk: no device prefix, same timestamp
    const t = l.message.trim();
    let x: RegExpExecArray | null;
    if (r.iova === undefined && (x = RE_MALI_VA.exec(t))) { r.iova = hex(x[1]); return 'more'; }
    if ((x = RE_MALI_REASON.exec(t))) { if (x[1] !== 'TODO') d.reasonText = x[1]; return 'more'; }
    if ((x = RE_MALI_RAW.exec(t))) { setStatus(x[1]!); return 'more'; }
    if ((x = RE_MALI_DECODED.exec(t))) { d.decodedStatus = x[1]; return 'more'; }
    if ((x = RE_MALI_EXC.exec(t))) {
      // the driver's own name wins: it knows the GPU generation's table
      const code = Number(x[1]);
      const known = maliExceptionName(code);
      r.reason = { code, name: x[2] || known?.name || 'UNKNOWN', text: known?.text ?? `Mali MMU exception ${x[1]}` };
      return 'more';
    }
    if ((x = RE_MALI_ACCESS.exec(t))) { const a = MALI_ACCESS[x[2]!]; if (a) r.access = a; return 'more'; }
    if ((x = RE_MALI_SOURCE.exec(t))) { d.sourceId = Number(x[1]); sawSource = true; return 'more'; }
    if (sawSource && (x = RE_MALI_PID.exec(t))) { d.pid = Number(x[1]); return 'done'; }
    return sawSource ? 'end' : undefined;
  };
  return { record: r, more: follow(2, take, RE_MALI) };
}

// ---- lima --------------------------------------------------------------------------------

const RE_LIMA_OLD = /^mmu page fault at 0x([0-9a-fA-F]{1,16}) from bus(?: id (\d{1,5}) of type (read|write) on (\S{1,32}))?\s*$/;
const RE_LIMA_NEW = /^([a-z]{1,8}\d{0,2}) page fault at 0x([0-9a-fA-F]{1,16}) from bus(?: id (\d{1,5}) of type (read|write))?\s*$/;
const RE_LIMA_TAIL = /^id (\d{1,5}) of type (read|write)(?: on (\S{1,32}))?\s*$/;

function recognizeLima(line: LogLine, sp: Split): Recognition | undefined {
  let m = RE_LIMA_OLD.exec(sp.rest);
  let mmu: string | undefined, addr: string, bus: string | undefined, dir: string | undefined;
  if (m) { addr = m[1]!; bus = m[2]; dir = m[3]; mmu = m[4]; }
  else if ((m = RE_LIMA_NEW.exec(sp.rest))) { mmu = m[1]; addr = m[2]!; bus = m[3]; dir = m[4]; }
  else return undefined;
  const r = newRecord(line, sp.name);
  r.iova = hex(addr);
  r.reason = { name: 'PAGE_FAULT', text: 'Mali-4xx MMU page fault: the GPU address is not mapped in the GPU page table' };
  const d: Record<string, unknown> = {};
  r.decoded = d;
  const fill = (b?: string, di?: string, mm?: string) => {
    if (b !== undefined) d.busId = Number(b);
    if (di) r.access = di;
    if (mm) d.mmu = mm;
  };
  fill(bus, dir, mmu);
  if (bus !== undefined) return { record: r };
  // "from bus" then a line break (mail wrapping): the rest is on the next line
  return {
    record: r,
    more: follow(1, (l) => {
      const t = RE_LIMA_TAIL.exec(l.message.trim());
      if (!t) return 'end';
      fill(t[1], t[2], t[3]);
      return 'done';
    }),
  };
}

// ---- amdgpu gmc v9+ ----------------------------------------------------------------------

// Linux 4.15-4.16 printed "[mmhub] VMC page fault (src_id:0 ring:153 vm_id:0 pas_id:0)" + "  at page 0x... from 18".
const RE_AMD_HEAD = /^\[([a-z]{1,8}\d{0,2})\] (?:(retry|no-retry) )?(?:VMC )?page fault \(src_id:(\d{1,10}) ring:(\d{1,10}) vm_?id:(\d{1,10}) pas_?id:(\d{1,10})(?:, for process (.{0,64}?) pid (\d{1,10}) thread (.{0,64}?) pid (\d{1,10}))?\)/;
const RE_AMD_TASK = /^(?:for|in|Process) (?:process )?(.{0,64}?) pid (\d{1,10}) thread (.{0,64}?) pid (\d{1,10})\)?\s*$/;
const RE_AMD_ADDR = /^(?:in page starting at address|at page) 0x([0-9a-fA-F]{1,16}) from (?:(?:IH )?client )?(?:0x([0-9a-fA-F]{1,4})|(\d{1,5}))(?: \(([^)]{0,32})\))?/;
const RE_AMD_COOKIE = /^cookie node_id (\d{1,5}) fault from die (\S{1,32})/;
const RE_AMD_STATUS = /^((?:GC|MM)?VM_L2_PROTECTION_FAULT_STATUS):0x([0-9a-fA-F]{1,8})/;
const RE_AMD_CID = /^Faulty UTCL2 client ID: (?:(.{1,40}?) \(0x([0-9a-fA-F]{1,4})\)|0x([0-9a-fA-F]{1,4}))\s*$/;
const RE_AMD_FIELD = /^(MORE_FAULTS|WALKER_ERROR|PERMISSION_FAULTS|MAPPING_ERROR|RW): 0x([0-9a-fA-F]{1,8})/;

function amdReason(r: FaultRecord, f: Record<string, number>, retry: boolean): void {
  if (f.MAPPING_ERROR) r.reason = { name: 'MAPPING_ERROR', text: 'the GPU virtual address is not mapped (no valid page table entry)' };
  else if (f.PERMISSION_FAULTS) r.reason = { code: f.PERMISSION_FAULTS, name: 'PERMISSION_FAULTS', text: 'the page is mapped but does not allow this access' };
  else if (f.WALKER_ERROR) r.reason = { code: f.WALKER_ERROR, name: 'WALKER_ERROR', text: 'the page table walker failed (bad page directory entry or bus error)' };
  else r.reason = { name: retry ? 'RETRY_PAGE_FAULT' : 'PAGE_FAULT', text: retry ? 'recoverable (retry) GPU page fault that the driver could not resolve' : 'GPU page fault' };
}

function recognizeAmd(line: LogLine, sp: Split): Recognition | undefined {
  const text = sp.sub ?? sp.rest;
  const m = RE_AMD_HEAD.exec(text);
  if (!m) return undefined;
  const r = newRecord(line, sp.name);
  const retry = m[2] === 'retry';
  const d: Record<string, unknown> = { hub: m[1], srcId: Number(m[3]), ring: Number(m[4]), vmid: Number(m[5]) };
  if (m[2]) d.retry = retry;
  r.pasid = hex(Number(m[6]));
  const task = (p: string | undefined, pid: string, th: string | undefined, tid: string) => {
    if (p) d.process = p;
    d.pid = Number(pid);
    if (th) d.thread = th;
    d.tid = Number(tid);
  };
  if (m[8] !== undefined) task(m[7], m[8], m[9], m[10]!);
  r.decoded = d;
  const fields: Record<string, number> = {};
  amdReason(r, fields, retry);
  const name = sp.name;
  const take = (l: LogLine): Feed | undefined => {
    const s = split(l.message);
    if (s.name !== name) return undefined;
    const t = (s.sub !== undefined && !RE_AMD_HEAD.test(s.rest) ? s.sub : s.rest).trim();
    let x: RegExpExecArray | null;
    if (RE_AMD_HEAD.test(t)) return 'end';
    if ((x = RE_AMD_TASK.exec(t))) { task(x[1], x[2]!, x[3], x[4]!); return 'more'; }
    if ((x = RE_AMD_ADDR.exec(t))) {
      r.iova = hex(x[1]);
      d.clientId = x[2] !== undefined ? Number('0x' + x[2]) : Number(x[3]);
      if (x[4]) d.client = x[4];
      return 'more';
    }
    if ((x = RE_AMD_COOKIE.exec(t))) { d.nodeId = Number(x[1]); d.die = x[2]; return 'more'; }
    if ((x = RE_AMD_STATUS.exec(t))) {
      const v = BigInt('0x' + x[2]);
      r.registers = { vm_l2_protection_fault_status: hex(v)! };
      d.statusRegister = x[1];
      d.vm_l2_protection_fault_status = decodedFields(AMD_VM_L2_PROTECTION_FAULT_STATUS, v);
      return 'more';
    }
    // The decoded fields follow the status line; without it they belong to another print
    // (journalctl -r lists a print's lines bottom up).
    if (d.statusRegister === undefined && (RE_AMD_CID.test(t) || RE_AMD_FIELD.test(t))) return 'end';
    if ((x = RE_AMD_CID.exec(t))) {
      if (x[1] !== undefined) { d.utcl2Client = x[1]; d.utcl2ClientId = Number('0x' + x[2]); }
      else d.utcl2ClientId = Number('0x' + x[3]);
      return 'more';
    }
    if ((x = RE_AMD_FIELD.exec(t))) {
      const v = Number('0x' + x[2]);
      fields[x[1]!] = v;
      d[x[1]!] = v;
      amdReason(r, fields, retry);
      if (x[1] === 'RW') { r.access = v ? 'write' : 'read'; return 'done'; }
      return 'more';
    }
    return 'end';
  };
  // Several GPUs fault at once and interleave their prints line by line: step over the others'.
  return { record: r, more: follow(8, take) };
}

// ---- amdgpu gmc v6-8 / radeon ------------------------------------------------------------

const RE_OLD_AMD_HEAD = /^GPU fault detected: (\d{1,5}) 0x([0-9a-fA-F]{1,8})/;
const RE_OLD_AMD_ADDR = /^VM_CONTEXT1_PROTECTION_FAULT_ADDR {1,8}0x([0-9a-fA-F]{1,8})/;
const RE_OLD_AMD_STATUS = /^VM_CONTEXT1_PROTECTION_FAULT_STATUS {1,8}0x([0-9a-fA-F]{1,8})/;
const RE_OLD_AMD_VM = /^VM fault \(0x([0-9a-fA-F]{1,2}), vmid (\d{1,3})(?:, pasid (\d{1,10}))?\) at page (\d{1,12}), (read|write) from '?([^'(]{0,32}?)'? (?:\(0x([0-9a-fA-F]{1,8})\) )?\((\d{1,5})\)/;

function recognizeOldAmd(line: LogLine, sp: Split): Recognition | undefined {
  const text = sp.sub ?? sp.rest;
  const m = RE_OLD_AMD_HEAD.exec(text);
  if (!m) return undefined;
  const r = newRecord(line, sp.name);
  const d: Record<string, unknown> = { srcId: Number(m[1]), srcData: Number('0x' + m[2]) };
  r.decoded = d;
  r.reason = { name: 'VM_FAULT', text: 'GPU VM protection fault' };
  const regs: Record<string, string> = {};
  const name = sp.name;
  const take = (l: LogLine): Feed | undefined => {
    const s = split(l.message);
    // Kernels before 4.x printed the "VM fault" line with a bare printk, without the device.
    if (s.name !== name && !(s.name === undefined && s.rest.startsWith('VM fault ('))) return undefined;
    const t = (s.sub ?? s.rest).trim();
    let x: RegExpExecArray | null;
    if ((x = RE_OLD_AMD_ADDR.exec(t))) {
      // the register holds a GPU page number (4 KiB pages)
      regs.vm_context1_protection_fault_addr = hex(x[1])!;
      r.iova ??= hex(BigInt('0x' + x[1]) << 12n);
      r.registers = regs;
      return 'more';
    }
    if ((x = RE_OLD_AMD_STATUS.exec(t))) { regs.vm_context1_protection_fault_status = hex(x[1])!; r.registers = regs; return 'more'; }
    if ((x = RE_OLD_AMD_VM.exec(t))) {
      d.protections = Number('0x' + x[1]);
      d.vmid = Number(x[2]);
      if (x[3] !== undefined) r.pasid = hex(Number(x[3]));
      r.iova = hex(BigInt(x[4]!) << 12n);
      r.access = x[5];
      if (x[6]) d.client = x[6].trim();
      if (x[7] !== undefined) d.mcClient = Number('0x' + x[7]);
      d.mcId = Number(x[8]);
      return 'done';
    }
    return 'end';
  };
  return { record: r, more: follow(3, take) };
}

// ---- nouveau -----------------------------------------------------------------------------

const TAIL = 'engine ([0-9a-fA-F]{2}) \\[([^\\]]{0,32})\\] client ([0-9a-fA-F]{2}) \\[([^\\]]{0,48})\\] reason ([0-9a-fA-F]{2}) \\[([^\\]]{0,40})\\] on channel (-?\\d{1,5}) \\[([0-9a-fA-F]{1,16}) (.{0,80})\\]';
const RE_NV_GK104 = new RegExp(`^fault ([0-9a-fA-F]{2}) \\[([^\\]]{0,24})\\] at ([0-9a-fA-F]{1,16}) ${TAIL}`);
const RE_NV_GF100 = new RegExp(`^(read|write) fault at ([0-9a-fA-F]{1,16}) ${TAIL}`);
const RE_NV50 = /^trapped (read|write) at ([0-9a-fA-F]{2})([0-9a-fA-F]{4})([0-9a-fA-F]{4}) on channel (-?\d{1,5}) \[([0-9a-fA-F]{1,16}) (.{0,80}?)\] engine ([0-9a-fA-F]{2}) \[([^\]]{0,32})\] client ([0-9a-fA-F]{2}) \[([^\]]{0,32})\] subclient ([0-9a-fA-F]{2}) \[([^\]]{0,32})\] reason ([0-9a-fA-F]{1,8}) \[([^\]]{0,40})\]/;

function nvAccess(name: string): string | undefined {
  const n = name.toUpperCase();
  if (n.includes('ATOMIC')) return 'read+write';
  if (n.includes('WRITE')) return 'write';
  if (n.includes('READ') || n.includes('PREFETCH')) return 'read';
  return undefined;
}

const nvReason = (code: string, name: string) => ({ code: Number('0x' + code), name: name || 'UNKNOWN', text: `nouveau MMU fault reason ${name || '0x' + code}` });

/** Fill a record from a whole nouveau fault print; false when the text is not one. */
function fillNouveau(r: FaultRecord, text: string): boolean {
  let m: RegExpExecArray | null;
  if ((m = RE_NV_GK104.exec(text))) {
    r.iova = hex(m[3]);
    const a = nvAccess(m[2]!);
    if (a) r.access = a;
    r.reason = nvReason(m[8]!, m[9]!);
    r.decoded = { accessCode: Number('0x' + m[1]), accessName: m[2], engine: m[5] || Number('0x' + m[4]), client: m[7], channel: Number(m[10]), instance: hex(m[11]), process: m[12] };
    return true;
  }
  if ((m = RE_NV_GF100.exec(text))) {
    r.iova = hex(m[2]);
    r.access = m[1];
    r.reason = nvReason(m[7]!, m[8]!);
    r.decoded = { engine: m[4] || Number('0x' + m[3]), client: m[6], channel: Number(m[9]), instance: hex(m[10]), process: m[11] };
    return true;
  }
  if ((m = RE_NV50.exec(text))) {
    r.iova = hex(m[2]! + m[3]! + m[4]!);
    r.access = m[1];
    r.reason = { code: Number('0x' + m[14]), name: m[15] || 'UNKNOWN', text: `nouveau NV50 MMU trap ${m[15] || '0x' + m[14]}` };
    r.decoded = { channel: Number(m[5]), instance: hex(m[6]), process: m[7], engine: m[9], client: m[11], subclient: m[13] };
    return true;
  }
  return false;
}

// The start of a gf100/gk104 print that a mail client wrapped ("read fault at 0000000000" + "engine 00 ...").
const RE_NV_HEAD = /^(?:fault ([0-9a-fA-F]{2}) \[([^\]]{0,24})\] at ([0-9a-fA-F]{1,16})|(read|write) fault at ([0-9a-fA-F]{1,16}))(?: engine [^\n]{0,300})?\s*$/;

function recognizeNouveau(line: LogLine, sp: Split): Recognition | undefined {
  const text = sp.sub ?? sp.rest;
  const r = newRecord(line, sp.name);
  if (fillNouveau(r, text)) return { record: r };
  const h = sp.name !== undefined && sp.sub !== undefined ? RE_NV_HEAD.exec(text) : null;
  if (!h) return undefined;
  // what the first half names: the address and, for gk104, the access
  r.iova = hex(h[3] ?? h[5]);
  const a = h[4] ?? (h[2] !== undefined ? nvAccess(h[2]) : undefined);
  if (a) r.access = a;
  const more = wrappedContinuation(text, {
    max: 3,
    complete: (j) => fillNouveau(r, j),
    partial: (j) => RE_NV_HEAD.test(j),
  });
  return { record: r, more };
}

// ---- Qualcomm KGSL (Android downstream adreno driver) --------------------------------------
// kgsl_iommu_fault_handler(), every generation:
//   "GPU PAGE FAULT: addr = %lX pid = %d" / "... pid= %d[ name=%s drawctxt=%d context pid = %d]"
//   / "GPU PAGE FAULT: addr=0x%lx pid=%d name=%s contextidr=%d"
//   then "context = %d[ TTBR0 = %X] FSR = %X FSYNR0 = %X FSYNR1 = %X(%s fault)",
//        "context = %d TTBR0 = %pa (%s %s fault)" or "context=%s TTBR0=0x%llx CIDR=0x%x (%s %s fault)"
// and the "---- nearby memory ----" / "[BF047000 - BF048000] ..." lines of the buffers around it.

// (a later generation prints "addr=0x%lx pid=%d name=%s contextidr=%d")
const RE_KGSL = /GPU PAGE FAULT: addr ?= ?(?:0x)?([0-9a-fA-F]{1,16})(?: pid ?= ?(-?\d{1,10}))?(?: name=(\S{0,64}))?(?: contextidr=(\d{1,10}))?/;
const RE_KGSL_CTX = /^context ?= ?(\S{1,32})(?: TTBR0 ?= ?(?:0x)?([0-9a-fA-F]{1,16}))?(?: CIDR ?= ?(?:0x)?([0-9a-fA-F]{1,8}))?(?: FSR ?= ?([0-9a-fA-F]{1,8}))?(?: FSYNR0 ?= ?([0-9a-fA-F]{1,8}))?(?: FSYNR1 ?= ?([0-9a-fA-F]{1,8}))? ?\((read|write)(?: (translation|permission|external|transaction stalled|unknown))? fault\)/;
const RE_KGSL_NEARBY = /^(?:---- nearby memory ----|\[[0-9a-fA-F]{1,16} - [0-9a-fA-F]{1,16}\]|<- fault @ [0-9a-fA-F]{1,16}|\(no entry found\)|\*EMPTY\*)/;
const KGSL_TYPES: Record<string, { name: string; text: string }> = {
  translation: ADRENO_TYPES.TRANSLATION!, permission: ADRENO_TYPES.PERMISSION!, external: ADRENO_TYPES.EXTERNAL!,
};

function recognizeKgsl(line: LogLine, sp: Split): Recognition | undefined {
  const m = RE_KGSL.exec(sp.rest);
  if (!m || m.index > 80) return undefined;
  const r = newRecord(line, sp.name);
  r.iova = hex(m[1]);
  const d: Record<string, unknown> = { driver: 'kgsl' };
  if (m[2] !== undefined) d.pid = Number(m[2]);
  if (m[3]) d.process = m[3];
  if (m[4] !== undefined) d.contextidr = Number(m[4]);
  r.decoded = d;
  const name = sp.name;
  let sawContext = false;
  const take = (l: LogLine): Feed | undefined => {
    const s = split(l.message);
    if (s.name !== undefined && s.name !== name) return undefined;
    const t = unquote(s.rest).trim();
    let x: RegExpExecArray | null;
    if (!sawContext && (x = RE_KGSL_CTX.exec(t))) {
      sawContext = true;
      d.context = /^\d{1,4}$/.test(x[1]!) ? Number(x[1]) : x[1];
      const regs: Record<string, string> = {};
      if (x[2] !== undefined) regs.ttbr0 = hex(x[2])!;
      if (x[3] !== undefined) regs.contextidr = hex(x[3])!;
      if (x[4] !== undefined) regs.fsr = hex(x[4])!;
      if (x[5] !== undefined) regs.fsynr0 = hex(x[5])!;
      if (x[6] !== undefined) regs.fsynr1 = hex(x[6])!;
      if (Object.keys(regs).length) r.registers = regs;
      r.access = x[7];
      const type = x[8] ? KGSL_TYPES[x[8]] : undefined;
      if (type) r.reason = { name: type.name, text: type.text };
      else if (x[8]) r.reason = { name: x[8].toUpperCase().replace(/ /g, '_'), text: `KGSL ${x[8]} fault` };
      return 'more';
    }
    if (RE_KGSL_NEARBY.test(t)) return 'more';
    return RE_KGSL.test(t) ? 'end' : undefined;
  };
  return { record: r, more: follow(2, take, RE_KGSL) };
}

// ---- Broadcom V3D, Vivante etnaviv -------------------------------------------------------

// The first driver (4.18) printed the AXI ID alone: "MMU error from client %d at 0x%08llx%s%s%s".
const RE_V3D = /^MMU error from client (?:(\S{1,16}) \((?:0x([0-9a-fA-F]{1,8})|(\d{1,10}))\)|(\d{1,10})) at 0x([0-9a-fA-F]{1,16})((?:, (?:write violation|pte invalid|cap exceeded)){0,3})\s*$/;
const RE_ETNAVIV = /^MMU (\d{1,2}) fault(?: \(([a-z ]{1,32})\))? addr 0x([0-9a-fA-F]{1,8})\s*$/;
// dump_mmu_fault() prints VIVS_MMUv2_STATUS first: one exception code per MMU, 4 bits apart.
const RE_ETNAVIV_STATUS = /^MMU fault status 0x([0-9a-fA-F]{1,8})\s*$/;
const ETNAVIV_CODES = ['slave not present', 'page not present', 'write violation', 'out of bounds', 'read security violation', 'write security violation'];

function etnavivReason(r: FaultRecord, text: string, code?: number): void {
  r.reason = { ...(code !== undefined ? { code } : {}), name: text.toUpperCase().replace(/ /g, '_'), text: `Vivante MMU: ${text}` };
  if (text.includes('write')) r.access = 'write';
  else if (text.includes('read')) r.access = 'read';
}

/** The status line and the address line of its first faulting MMU are one record. */
function recognizeEtnavivStatus(line: LogLine, sp: Split, m: RegExpExecArray): Recognition {
  const r = newRecord(line, sp.name);
  const status = parseInt(m[1]!, 16);
  r.registers = { mmu_status: hex(status)! };
  const codes: Record<string, number> = {};
  for (let i = 0; i < 4; i++) {
    const c = (status >>> (i * 4)) & 0x7;
    if (c) codes[`mmu${i}`] = c;
  }
  const d: Record<string, unknown> = { driver: 'etnaviv', exceptions: codes };
  r.decoded = d;
  const first = Object.values(codes)[0];
  if (first !== undefined && ETNAVIV_CODES[first - 1]) etnavivReason(r, ETNAVIV_CODES[first - 1]!, first);
  const name = sp.name;
  return {
    record: r,
    more: follow(2, (l) => {
      const s = split(l.message);
      if (s.name !== name) return undefined;
      const x = RE_ETNAVIV.exec(s.rest);
      if (!x) return 'end';
      const mmu = Number(x[1]);
      r.iova = hex(x[3]);
      d.mmu = mmu;
      const code = mmu < 8 ? (status >>> (mmu * 4)) & 0x7 : 0;
      if (x[2]) etnavivReason(r, x[2], code || undefined);
      else if (ETNAVIV_CODES[code - 1]) etnavivReason(r, ETNAVIV_CODES[code - 1]!, code);
      return 'done';
    }),
  };
}

function recognizeV3dEtnaviv(line: LogLine, sp: Split): Recognition | undefined {
  let m = RE_V3D.exec(sp.rest);
  if (m) {
    const r = newRecord(line, sp.name);
    r.iova = hex(m[5]);
    const flags = m[6] ?? '';
    if (flags.includes('write violation')) {
      r.access = 'write';
      r.reason = { name: 'WRITE_VIOLATION', text: 'write to a page mapped read-only in the V3D MMU' };
    } else if (flags.includes('pte invalid')) r.reason = { name: 'PTE_INVALID', text: 'the V3D page table entry for the address is invalid (not mapped)' };
    else if (flags.includes('cap exceeded')) r.reason = { name: 'CAP_EXCEEDED', text: 'the address is above the V3D MMU address cap' };
    const axiId = m[2] !== undefined ? Number('0x' + m[2]) : Number(m[3] ?? m[4]);
    r.decoded = m[1] !== undefined ? { driver: 'v3d', client: m[1], axiId } : { driver: 'v3d', axiId };
    return { record: r };
  }
  m = RE_ETNAVIV.exec(sp.rest);
  if (m) {
    const r = newRecord(line, sp.name);
    r.iova = hex(m[3]);
    if (m[2]) etnavivReason(r, m[2]);
    r.decoded = { driver: 'etnaviv', mmu: Number(m[1]) };
    return { record: r };
  }
  m = RE_ETNAVIV_STATUS.exec(sp.rest);
  return m ? recognizeEtnavivStatus(line, sp, m) : undefined;
}

const RECOGNIZERS = [recognizeAdreno, recognizeMali, recognizeLima, recognizeAmd, recognizeOldAmd, recognizeNouveau, recognizeV3dEtnaviv, recognizeKgsl];

export const gpuMmuRecognizer: Recognizer = {
  family: 'gpu-mmu',
  keys: ['*** gpu fault', '*** fault: iova', 'Unhandled Page fault in AS', 'page fault at 0x', 'page fault (src_id:', 'GPU fault detected', ' engine ', 'trapped ', 'MMU error from client', ' fault addr 0x', ') addr 0x', 'read fault at ', 'write fault at ', 'fifo: fault ', 'GPU PAGE FAULT: addr', 'MMU fault status 0x'],
  recognize(line) {
    const sp = split(line.message);
    for (const f of RECOGNIZERS) {
      const got = f(line, sp);
      if (got) return got;
    }
    return undefined;
  },
};
