/**
 * AMD-Vi walk emulator: Device Table Base register -> 256-bit Device Table Entry -> v1 I/O page
 * tables (levels 6..1, level skipping, NextLevel=7 large pages), or -> GCR3 table -> guest
 * x86-64 tables (v2) when DTE.GV=1, with the host v1 tables translating guest-physical addresses
 * when DTE.Mode is not 0.
 *
 * Follows reference/pagetable-formats.md section 5 (AMD spec behaviour as VirtualBox implements it);
 * QEMU's simplifications (no level skipping, no event for TV=0) are noted in the rule texts.
 * Faults carry the AMD-Vi event that hardware would log, with IO_PAGE_FAULT flags.
 */
import type { Snapshot } from '../snapshot/types';
import type { PhysicalMemory } from '../snapshot/memory';
import type { Access, SanityFinding, WalkFault, WalkRequest, WalkResult, WalkStage, WalkStep } from './types';
import { hexAddr } from './types';
import { hexn, pow2, readWordsLE } from './words';
import { TWO32, addr4k, bitsOf, hex8, hexN, loOf, hiOf, parseDevice, qhex, splitQ, whex, type Requester } from './intel-vtd';

const EVENTS: Record<number, string> = {
  1: 'ILLEGAL_DEV_TABLE_ENTRY',
  2: 'IO_PAGE_FAULT',
  3: 'DEV_TAB_HARDWARE_ERROR',
  4: 'PAGE_TAB_HARDWARE_ERROR',
};

/** IO_PAGE_FAULT flag bits (event bits 59:48, as Linux prints flags=0x%04x) */
const F_GN = 0x001, F_NX = 0x002, F_US = 0x004, F_PR = 0x010, F_RW = 0x020, F_PE = 0x040, F_RZ = 0x080;

function flagNames(f: number): string {
  const n: string[] = [];
  if (f & F_GN) n.push('GN');
  if (f & F_NX) n.push('NX');
  if (f & F_US) n.push('US');
  if (f & 0x008) n.push('I');
  if (f & F_PR) n.push('PR');
  if (f & F_RW) n.push('RW');
  if (f & F_PE) n.push('PE');
  if (f & F_RZ) n.push('RZ');
  if (f & 0x100) n.push('TR');
  return n.join(' ');
}

const INTR_LO = 0xfee00000;
const INTR_HI = 0xfeefffff;

/** default page size of a leaf at level L: 2^(12+9(L-1)) */
function levelShift(L: number): number {
  return 12 + 9 * (L - 1);
}

// batches walk many addresses of one device: remember the last text parsed
let lastDevice: string | undefined;
let lastParsed: Requester | string = '';

function parseDeviceId(req: WalkRequest): { seg: number; id: number } | string {
  if (req.device !== undefined) {
    if (req.device !== lastDevice) { lastParsed = parseDevice(req.device); lastDevice = req.device; }
    const p = lastParsed;
    return typeof p === 'string' ? p : { seg: p.seg, id: (p.bus << 8) | p.devfn };
  }
  if (req.streamId !== undefined) {
    if (!Number.isInteger(req.streamId) || req.streamId < 0 || req.streamId > 0xffff) return `DeviceID ${req.streamId} is not a 16-bit value`;
    return { seg: 0, id: req.streamId };
  }
  return 'an AMD-Vi walk needs the requester: --device BDF (or a 16-bit DeviceID)';
}

/** register steps shared (frozen) between the walks of one snapshot while the register is unchanged */
interface SnapInfo {
  control?: bigint;
  controlStep?: WalkStep;
  dtb?: bigint;
  dtbStep?: WalkStep;
  /** successful page-table entry steps by "level*8+stageKind" then address, valid while the value is unchanged */
  entries: (Map<number, { lo: number; hi: number; step: WalkStep }> | undefined)[];
  /** valid v1 DTE steps by address, with the 8 words they decode */
  dtes: Map<number, { words: Uint32Array; step: WalkStep }>;
}

const INFO = new WeakMap<Snapshot, SnapInfo>();
const CACHE_MAX = 1 << 16;

function frozen(s: WalkStep): WalkStep {
  if (s.decoded) Object.freeze(s.decoded);
  return Object.freeze(s);
}

/** scratch of AmdWalk.read(): one walk runs at a time */
const QWORD = new Uint32Array(2);

class AmdWalk {
  readonly steps: WalkStep[] = [];
  findings: SanityFinding[] | undefined;
  private readonly mem: PhysicalMemory;
  private readonly access: Access | undefined;
  private readonly isWrite: boolean;
  private readonly iova: bigint;
  private readonly iovaLo: number;
  private readonly iovaHi: number;
  private flagsBase = 0;
  // scratch for 64-bit reads
  lo = 0;
  hi = 0;
  private readonly info: SnapInfo;
  private readonly dte = new Uint32Array(8);
  // outputs of a v1 walk
  private outPa = 0;
  private outSize = 0;
  private outR = true;
  private outW = true;

  constructor(private readonly snap: Snapshot, private readonly req: WalkRequest) {
    this.mem = snap.memory;
    this.access = req.access;
    this.isWrite = req.access === 'write';
    this.iova = BigInt.asUintN(64, req.iova);
    splitQ(this.iova, this);
    this.iovaLo = this.lo;
    this.iovaHi = this.hi;
    let info = INFO.get(snap);
    if (!info) INFO.set(snap, (info = { entries: [], dtes: new Map() }));
    this.info = info;
    if (this.isWrite) this.flagsBase |= F_RW;
    if (req.pasid !== undefined) this.flagsBase |= F_GN;
    if (req.access === 'exec') this.flagsBase |= F_NX;
    if (req.pasid !== undefined && req.privileged !== true) this.flagsBase |= F_US;
  }

  /** 64-bit little-endian read into lo/hi; false when not in the snapshot */
  private read(addr: number): boolean {
    if (!readWordsLE(this.mem, addr, QWORD)) return false;
    this.lo = QWORD[0]!;
    this.hi = QWORD[1]!;
    return true;
  }

  /** output address of the request after a successful v1 walk: page base + offset, in Numbers up to 4 GiB pages */
  private v1Pa(): bigint | number {
    const size = this.outSize;
    if (size <= TWO32) return this.outPa + (this.iovaLo - Math.floor(this.iovaLo / size) * size);
    return BigInt(this.outPa) + (this.iova & BigInt(size - 1));
  }

  private finding(severity: SanityFinding['severity'], where: string, message: string): void {
    (this.findings ??= []).push({ severity, where, message });
  }

  private done(r: WalkResult): WalkResult {
    if (this.findings) r.findings = this.findings;
    return r;
  }

  private event(stage: WalkStage, code: number, level: number | undefined, flags: number | undefined, text: string): WalkResult {
    const name = EVENTS[code]!;
    const full = flags === undefined ? text : `${text} [flags=0x${flags.toString(16).padStart(4, '0')}${flags ? ': ' + flagNames(flags) : ''}]`;
    const fault: WalkFault = { stage, reason: { code, name, text: full } };
    if (level !== undefined) fault.level = level;
    return this.done({ result: 'fault', steps: this.steps, fault });
  }

  private other(stage: WalkStage, name: string, text: string): WalkResult {
    return this.done({ result: 'fault', steps: this.steps, fault: { stage, reason: { name, text } } });
  }

  private absent(structure: string, address: number, rule: string, level?: number, stage?: string): void {
    const s: WalkStep = { structure, address: hexN(address), decoded: { inSnapshot: false }, rule: `${rule}: address not in the snapshot's memory (read as a hardware error)`, ok: false };
    if (level !== undefined) s.level = level;
    if (stage) s.stage = stage;
    this.steps.push(s);
  }

  private translated(pa: bigint | number, pageSize: number | undefined, read: boolean, write: boolean, user?: boolean, exec?: boolean): WalkResult {
    const r: WalkResult = { result: 'translated', pa: typeof pa === 'number' ? hexn(pa) : hexAddr(pa), steps: this.steps, permissions: { read, write, exec: exec ?? read } };
    if (user !== undefined) r.permissions!.user = user;
    if (pageSize !== undefined) r.pageSize = pageSize;
    return this.done(r);
  }

  run(): WalkResult {
    const rq = parseDeviceId(this.req);
    if (typeof rq === 'string') return this.other('configuration', 'NO_REQUESTER', rq);
    if (rq.seg !== 0) this.finding('warning', 'request', `segment ${rq.seg.toString(16).padStart(4, '0')}: the snapshot does not record which PCI segment this IOMMU serves; walked as if it serves it`);
    if (this.req.pasid !== undefined && (!Number.isInteger(this.req.pasid) || this.req.pasid < 0 || this.req.pasid > 0xfffff)) {
      return this.other('configuration', 'BAD_PASID', `PASID ${this.req.pasid} is not a 20-bit value`);
    }
    if (this.req.iova < 0n || this.req.iova >= 1n << 64n) return this.other('configuration', 'BAD_IOVA', `address ${this.req.iova} is not a 64-bit value`);
    const devId = rq.id;
    const regs = this.snap.registers;

    const control = regs['control'];
    if (control !== undefined) {
      const cl = loOf(control), ch = hiOf(control);
      const en = cl & 1;
      const seg = bitsOf(cl, ch, 34, 2);
      const info = this.info;
      if (info.control !== control || !info.controlStep) {
        info.control = control;
        info.controlStep = frozen({
          structure: 'Control', value: '0x' + qhex(control),
          decoded: { IommuEn: en, EventLogEn: (cl >>> 2) & 1, CmdBufEn: (cl >>> 12) & 1, GTEn: (cl >>> 16) & 1, GAEn: (cl >>> 17) & 1, DevTblSegEn: seg },
          rule: en ? 'AMD IOMMU Control (MMIO 0x0018): IommuEn=1, translation enabled' : 'AMD IOMMU Control (MMIO 0x0018): IommuEn=0, DMA passes untranslated',
          ok: true,
        });
      }
      this.steps.push(info.controlStep);
      if (!en) return this.translated(this.iova, undefined, true, true);
      if (seg !== 0) return this.other('configuration', 'SEGMENTED_DEVICE_TABLE', `Control.DevTblSegEn=${seg}: the device table is split into segments whose base registers (MMIO 0x100-0x130) the snapshot does not carry`);
    }

    const dtb = regs['dev_table_base'];
    if (dtb === undefined) return this.other('configuration', 'NO_DEV_TABLE_BASE', 'the snapshot has no dev_table_base register: the Device Table cannot be found');
    const bl = loOf(dtb), bh = hiOf(dtb);
    const base = addr4k(bl, bh);
    const size = bl & 0x1ff;
    const entries = (size + 1) * 128;
    if (devId >= entries) {
      this.steps.push({
        structure: 'Device Table Base', value: '0x' + qhex(dtb),
        decoded: { base: hexN(base), Size: size, bytes: (size + 1) * 4096, entries },
        rule: `AMD IOMMU Device Table Base (MMIO 0x0000): (Size+1) x 4 KiB holds ${entries} DTEs, DeviceID 0x${devId.toString(16)} is beyond it`,
        ok: false,
      });
      return this.event('device-entry', 1, undefined, undefined, `DeviceID 0x${devId.toString(16)} is beyond the Device Table (${entries} entries): ILLEGAL_DEV_TABLE_ENTRY`);
    }
    if (this.info.dtb !== dtb || !this.info.dtbStep) {
      this.info.dtb = dtb;
      this.info.entries = [];
      this.info.dtes.clear();
      this.info.dtbStep = frozen({
        structure: 'Device Table Base', value: '0x' + qhex(dtb),
        decoded: { base: hexN(base), Size: size, bytes: (size + 1) * 4096, entries },
        rule: 'AMD IOMMU Device Table Base (MMIO 0x0000): base at bits 51:12, (Size+1) x 4 KiB, 32 bytes per DeviceID',
        ok: true,
      });
    }
    this.steps.push(this.info.dtbStep);

    // interrupt range: not translated by the page tables
    if (this.iovaHi === 0 && this.iovaLo >= INTR_LO && this.iovaLo <= INTR_HI && this.req.pasid === undefined) {
      this.steps.push({ structure: 'interrupt address range', rule: 'AMD IOMMU: 0xFEEx_xxxx is the interrupt range, handled by interrupt remapping (IntCtl), not by the I/O page tables', ok: this.access !== 'read' });
      if (this.access === 'read') return this.other('configuration', 'INTERRUPT_RANGE_READ', 'read request to the interrupt address range: not a DMA translation');
      return this.translated(this.iova, undefined, false, true);
    }

    // --- DTE
    const dteAddr = base + 32 * devId;
    const q = this.dte;
    for (let i = 0; i < 4; i++) {
      if (!this.read(dteAddr + 8 * i)) {
        this.absent('DTE', dteAddr, `AMD IOMMU 2.2.2: Device Table Entry for DeviceID 0x${devId.toString(16)} at base + 32*DeviceID`);
        return this.event('device-entry', 3, undefined, this.isWrite ? F_RW : 0, `DEV_TAB_HARDWARE_ERROR at 0x${dteAddr.toString(16)}`);
      }
      q[2 * i] = this.lo;
      q[2 * i + 1] = this.hi;
    }
    const l0 = q[0]!, h0 = q[1]!, l1 = q[2]!, l2 = q[4]!, h2 = q[5]!, l3 = q[6]!, h3 = q[7]!;
    const v = l0 & 1, tv = (l0 >>> 1) & 1, mode = (l0 >>> 9) & 7;
    const root = addr4k(l0, h0);
    const ir = (h0 >>> 29) & 1, iw = (h0 >>> 30) & 1;
    const gv = (h0 >>> 23) & 1, glx = (h0 >>> 24) & 3, giov = (h0 >>> 22) & 1;
    const perm = (r: number, w: number) => (this.access === 'read' || this.access === 'exec' ? r === 1 : this.isWrite ? w === 1 : true);
    const rsvd = (l0 & 0x7c) !== 0 || (h0 & 0x80000000) !== 0 || (h2 & 0x300000) !== 0 || (l3 & 0x7fff) !== 0 || (h3 & 0x3f0000) !== 0;
    // the common case, a valid v1 DTE that allows the access: reuse its step while the DTE is unchanged
    if (v && tv && !rsvd && !gv && mode !== 0 && mode !== 7 && perm(ir, iw)) {
      const c = this.info.dtes.get(dteAddr);
      if (c !== undefined && c.words[0] === l0 && c.words[1] === h0 && c.words[2] === l1 && c.words[3] === q[3] && c.words[4] === l2 && c.words[5] === h2 && c.words[6] === l3 && c.words[7] === h3) {
        this.steps.push(c.step);
        return this.v1Result(root, mode, ir, iw);
      }
    }
    const gcr3 = bitsOf(l0, h0, 58, 3) * 0x1000 + bitsOf(l1, q[3]!, 16, 16) * 0x8000 + bitsOf(l1, q[3]!, 43, 21) * 0x80000000;
    const domain = l1 & 0xffff;
    let value = '0x';
    for (let i = 7; i >= 0; i--) value += hex8(q[i]!);
    const decoded: Record<string, unknown> = {
      deviceId: hexN(devId), V: v, TV: tv, Mode: mode, pageTableRoot: hexN(root), IR: ir, IW: iw, domainId: hexN(domain),
      GV: gv, GIoV: giov, GLX: glx, GCR3: hexN(gcr3), PPR: (h0 >>> 20) & 1, HAD: (l0 >>> 7) & 3,
      I: q[3]! & 1, SE: (q[3]! >>> 1) & 1, SA: (q[3]! >>> 2) & 1, SD: (q[3]! >>> 6) & 1, EX: (q[3]! >>> 7) & 1, SysMgt: (q[3]! >>> 8) & 3,
      IV: l2 & 1, IntTabLen: (l2 >>> 1) & 0xf, guestPagingLevels: ((h2 >>> 22) & 3) === 1 ? 5 : 4,
    };
    const step: WalkStep = { structure: 'DTE', address: hexN(dteAddr), value, decoded, rule: '', ok: false };
    this.steps.push(step);
    if (!v) {
      step.rule = 'AMD IOMMU 2.2.2: DTE.V=0: the entry is not valid, DMA passes untranslated without an event';
      step.ok = true;
      return this.translated(this.iova, undefined, true, true);
    }
    // QEMU AMDVI_DTE_QUAD*_RESERVED: qword0 bits 6:2 and 63, qword2 bits 53:52, qword3 bits 14:0 and 53:48
    if (rsvd) {
      step.rule = 'AMD IOMMU 2.2.2: reserved DTE bits set (qword0 6:2 or 63, qword2 53:52, qword3 14:0 or 53:48): ILLEGAL_DEV_TABLE_ENTRY';
      return this.event('device-entry', 1, undefined, F_RZ | (this.isWrite ? F_RW : 0), `ILLEGAL_DEV_TABLE_ENTRY at 0x${dteAddr.toString(16)}`);
    }
    if (!tv) {
      step.rule = 'AMD IOMMU 2.2.2: DTE.TV=0: translation information not valid, the request is aborted (VirtualBox logs IO_PAGE_FAULT; QEMU logs nothing)';
      return this.event('device-entry', 2, undefined, this.flagsBase, 'IO_PAGE_FAULT: DTE translation information not valid (TV=0)');
    }
    if (mode === 7) {
      step.rule = 'AMD IOMMU 2.2.2: DTE.Mode=7 is reserved: IO_PAGE_FAULT (VirtualBox; QEMU logs nothing)';
      return this.event('configuration', 2, undefined, this.flagsBase | F_PR, 'IO_PAGE_FAULT: invalid DTE paging mode 7');
    }
    if (gv) return this.v2(step, mode, root, ir, iw, gcr3, glx, giov, (h2 >>> 22) & 3);
    if (mode === 0) {
      const ok = perm(ir, iw);
      step.rule = `AMD IOMMU 2.2.2: Mode=0: no translation, access controlled by DTE.IR=${ir} IW=${iw}`;
      step.ok = ok;
      if (!ok) return this.other('permission', 'TARGET_ABORT', `Mode=0 DTE does not allow this ${this.access} (IR=${ir}, IW=${iw}): the request is target-aborted without an event (VirtualBox)`);
      return this.translated(this.iova, undefined, ir === 1, iw === 1);
    }
    if (!perm(ir, iw)) {
      step.rule = `AMD IOMMU 2.2.2: DTE IR=${ir} IW=${iw} do not allow this ${this.access}: IO_PAGE_FAULT (PR=1, PE=1)`;
      return this.event('permission', 2, undefined, this.flagsBase | F_PR | F_PE, 'IO_PAGE_FAULT: DTE permissions deny the access');
    }
    step.rule = `AMD IOMMU 2.2.2: DTE valid, ${mode}-level v1 I/O page table at 0x${root.toString(16)}, domain 0x${domain.toString(16)}`;
    step.ok = true;
    if (this.info.dtes.size >= CACHE_MAX) this.info.dtes.clear();
    this.info.dtes.set(dteAddr, { words: q.slice(), step: frozen(step) });
    return this.v1Result(root, mode, ir, iw);
  }

  private v1Result(root: number, mode: number, ir: number, iw: number): WalkResult {
    const f = this.v1(root, mode, this.iova, this.iovaLo, this.iovaHi, ir, iw, undefined, false);
    if (f) return f;
    return this.translated(this.v1Pa(), this.outSize, this.outR, this.outW);
  }

  /**
   * v1 walk (AMD IOMMU 2.2.3) of `addr` from the level-`mode` table `root`. Success: outPa (page
   * base), outSize, outR, outW set and undefined returned. `forTable`: the address is a guest table
   * (v2 nested), read permission is what matters.
   */
  private v1(root: number, mode: number, addr: bigint, aLo: number, aHi: number, ir: number, iw: number, stage: string | undefined, forTable: boolean): WalkResult | undefined {
    const wantR = forTable || this.access === 'read' || this.access === 'exec';
    const wantW = !forTable && this.isWrite;
    const flags0 = forTable ? this.flagsBase & ~F_RW : this.flagsBase;
    // Mode m covers addresses below 2^(12+9m) (Mode 6: all 64 bits)
    if (mode < 6) {
      const width = 12 + 9 * mode;
      const beyond = width >= 32 ? aHi >= pow2(width - 32) : aHi !== 0 || aLo >= pow2(width);
      if (beyond) {
        const s: WalkStep = { structure: 'PDE', level: mode, decoded: { input: hexAddr(addr), width }, rule: `AMD IOMMU 2.2.3: address 0x${addr.toString(16)} is beyond the ${width}-bit range of a Mode ${mode} table: IO_PAGE_FAULT`, ok: false };
        if (stage) s.stage = stage;
        this.steps.push(s);
        return this.event('table-entry', 2, mode, flags0, 'IO_PAGE_FAULT: address beyond the page-table range of DTE.Mode');
      }
    }
    let table = root;
    let L = mode;
    let r = ir === 1, w = iw === 1;
    const sk = stage ? 1 : 0;
    for (let guard = 0; guard < 7; guard++) {
      const shift = levelShift(L);
      const idx = L === 6 ? bitsOf(aLo, aHi, 57, 7) : bitsOf(aLo, aHi, shift, 9);
      const ea = table + 8 * idx;
      if (!this.read(ea)) {
        this.absent(`L${L} ${L === 1 ? 'PTE' : 'PDE'}`, ea, `AMD IOMMU 2.2.3: level-${L} entry at table 0x${table.toString(16)} + 8*index ${idx}`, L, stage);
        return this.event(L === mode ? 'table-root' : 'table-entry', 4, L, flags0 & F_RW, `PAGE_TAB_HARDWARE_ERROR at 0x${ea.toString(16)}`);
      }
      const lo = this.lo, hi = this.hi;
      const pr = lo & 1, nl = (lo >>> 9) & 7, er = (hi >>> 29) & 1, ew = (hi >>> 30) & 1;
      const addrF = addr4k(lo, hi);
      const leaf = nl === 0 || nl === 7;
      const kind = L * 2 + sk;
      const c = this.info.entries[kind]?.get(ea);
      const cached = c !== undefined && c.lo === lo && c.hi === hi ? c.step : undefined;
      const sec = 'AMD IOMMU 2.2.3';
      let rule: string | undefined, failStage: WalkStage = 'configuration', flags = 0, text = '';
      let size = 0;
      if (nl === 7) {
        // size = 2^(13 + number of consecutive 1 bits from bit 12 of the address field)
        let ones = 0;
        while (ones < 40 && bitsOf(lo, hi, 12 + ones, 1) === 1) ones++;
        size = pow2(13 + ones);
      } else if (nl === 0) size = pow2(shift);
      if (!pr) {
        rule = `${sec}: PR=0: not present: IO_PAGE_FAULT (PR=0)`;
        failStage = 'table-entry'; flags = flags0; text = 'IO_PAGE_FAULT: page-table entry not present';
      } else if (leaf ? (hi & 0x07f00000) !== 0 : (hi & 0x1ff00000) !== 0) {
        // reserved: PDE bits 60:52, PTE bits 58:52 (U and FC are PTE fields)
        rule = `${sec}: reserved bits set (${leaf ? '58:52' : '60:52'}): IO_PAGE_FAULT (RZ=1)`;
        flags = flags0 | F_PR | F_RZ; text = 'IO_PAGE_FAULT: reserved bit set in a page-table entry';
      } else if (nl === 7 && (size <= pow2(shift) || size >= pow2(shift + 9))) {
        rule = `${sec}: NextLevel=7 encodes a 2^${Math.log2(size)}-byte page, not between the level-${L} default size 2^${shift} and the next level's 2^${shift + 9}: IO_PAGE_FAULT`;
        flags = flags0 | F_PR; text = 'IO_PAGE_FAULT: invalid large-page size encoding';
      } else if (!leaf && nl >= L) {
        rule = `${sec}: NextLevel=${nl} is not below the entry's level ${L}: invalid level encoding, IO_PAGE_FAULT`;
        flags = flags0 | F_PR; text = 'IO_PAGE_FAULT: invalid NextLevel encoding';
      } else if ((wantR && !er) || (wantW && !ew)) {
        rule = `${sec}: ${wantW ? 'write with IW=0' : 'read with IR=0'}: IO_PAGE_FAULT (PR=1, PE=1)`;
        failStage = 'permission'; flags = flags0 | F_PR | F_PE; text = `IO_PAGE_FAULT: ${wantW ? 'write' : 'read'} permission denied`;
      } else if (!leaf && nl < L - 1) {
        // level skipping: IOVA index bits of the skipped levels must be 0
        const lowBit = levelShift(nl + 1), highBit = levelShift(L);
        let nonzero = false;
        for (let bit = lowBit; bit < highBit && !nonzero; bit += 31) nonzero = bitsOf(aLo, aHi, bit, Math.min(31, highBit - bit)) !== 0;
        if (nonzero) {
          rule = `${sec}: NextLevel=${nl} skips levels ${L - 1}..${nl + 1}, but address bits ${highBit - 1}:${lowBit} are not zero: IO_PAGE_FAULT`;
          failStage = 'table-entry'; flags = flags0 | F_PR; text = 'IO_PAGE_FAULT: address bits of skipped levels are not zero';
        }
      }
      if (rule !== undefined) {
        const step = this.v1Step(L, ea, lo, hi, idx, nl, size, stage);
        step.rule = rule;
        this.steps.push(step);
        return this.event(failStage, 2, L, flags, text);
      }
      r = r && er === 1; w = w && ew === 1;
      if (cached) this.steps.push(cached);
      else {
        const step = this.v1Step(L, ea, lo, hi, idx, nl, size, stage);
        step.rule = leaf
          ? `${sec}: ${nl === 7 ? 'NextLevel=7: large page' : 'NextLevel=0: default-size page'} of ${size >= 0x40000000 ? size / 0x40000000 + ' GiB' : size >= 0x100000 ? size / 0x100000 + ' MiB' : size / 1024 + ' KiB'} at 0x${(addrF - (addrF % size)).toString(16)}`
          : `${sec}: PDE points to the level-${nl} table at 0x${addrF.toString(16)}${nl < L - 1 ? ` (skips ${L - 1 - nl} level${L - 1 - nl > 1 ? 's' : ''})` : ''}`;
        step.ok = true;
        let m = this.info.entries[kind];
        if (!m) m = this.info.entries[kind] = new Map();
        else if (m.size >= CACHE_MAX) m.clear();
        m.set(ea, { lo, hi, step: frozen(step) });
        this.steps.push(step);
      }
      if (leaf) {
        this.outPa = addrF - (addrF % size); this.outSize = size; this.outR = r; this.outW = w;
        return undefined;
      }
      if (addrF === table) this.finding('warning', `L${L} PDE`, `entry at 0x${ea.toString(16)} points to its own table: a looping table`);
      table = addrF;
      L = nl;
    }
    return this.other('configuration', 'WALK_DEPTH', 'page walk deeper than 6 levels');
  }

  private v1Step(L: number, ea: number, lo: number, hi: number, idx: number, nl: number, size: number, stage: string | undefined): WalkStep {
    const leaf = nl === 0 || nl === 7;
    const addrF = addr4k(lo, hi);
    const decoded: Record<string, unknown> = { index: idx, PR: lo & 1, NextLevel: nl, IR: (hi >>> 29) & 1, IW: (hi >>> 30) & 1, A: (lo >>> 5) & 1 };
    if (nl === 7) decoded['pageSize'] = hexN(size);
    if (leaf) decoded['page'] = hexN(addrF - (addrF % size));
    else {
      decoded['next'] = hexN(addrF);
      if (nl < L - 1 && nl > 0) decoded['skipped'] = `levels ${L - 1}..${nl + 1}`;
    }
    const step: WalkStep = { structure: leaf ? `L${L} PTE` : `L${L} PDE`, level: L, address: hexN(ea), value: '0x' + whex(lo, hi), decoded, rule: '', ok: false };
    if (stage) step.stage = stage;
    return step;
  }

  /**
   * v2 (AMD IOMMU v2 (GCR3)): GCR3 table indexed by PASID, then guest x86-64 tables (4/5 levels). With
   * Mode != 0 every guest-physical address (GCR3 entries, guest tables, output) goes through v1.
   */
  private v2(step: WalkStep, mode: number, root: number, ir: number, iw: number, gcr3: number, glx: number, giov: number, gptLevel: number): WalkResult {
    let pasid = this.req.pasid;
    if (pasid === undefined) {
      if (!giov) {
        // without GIoV, requests without PASID use the host (v1) translation only
        step.rule = `AMD IOMMU 2.2.2: GV=1 but request without PASID and GIoV=0: host translation (Mode ${mode}) only`;
        step.ok = true;
        if (mode === 0) return this.translated(this.iova, undefined, ir === 1, iw === 1);
        const f = this.v1(root, mode, this.iova, this.iovaLo, this.iovaHi, ir, iw, undefined, false);
        if (f) return f;
        return this.translated(this.v1Pa(), this.outSize, this.outR, this.outW);
      }
      pasid = 0;
    }
    const nested = mode !== 0;
    const levels = glx + 1;
    step.rule = `AMD IOMMU 2.2.2: GV=1: ${levels}-level GCR3 table at 0x${gcr3.toString(16)} for PASID 0x${pasid.toString(16)}${nested ? `, guest addresses through the ${mode}-level host table` : ''}`;
    step.ok = true;
    if (levels > 2) return this.other('configuration', 'BAD_GLX', `DTE.GLX=${glx} is reserved`);
    if (levels === 1 && pasid >= 512) return this.event('pasid-entry', 2, undefined, this.flagsBase, `IO_PAGE_FAULT: PASID 0x${pasid.toString(16)} beyond a 1-level GCR3 table`);
    // guest-physical -> system-physical for table reads
    const sysAddr = (gpa: number, what: string): number | WalkResult => {
      if (!nested) return gpa;
      const f = this.v1(root, mode, BigInt(gpa), gpa >>> 0, Math.floor(gpa / TWO32), ir, iw, 'stage 2 (host)', true);
      if (f) { this.finding('info', what, `the guest-physical address 0x${gpa.toString(16)} of the ${what} did not translate through the host table`); return f; }
      return this.outPa + (gpa % this.outSize);
    };
    let table = gcr3;
    for (let lv = levels - 1; lv >= 0; lv--) {
      const idx = (pasid >>> (9 * lv)) & 0x1ff;
      const ga = table + 8 * idx;
      const sa = sysAddr(ga, 'GCR3 table');
      if (typeof sa !== 'number') return sa;
      if (!this.read(sa)) {
        this.absent('GCR3 entry', sa, `AMD IOMMU v2 (GCR3): GCR3 table level ${lv + 1} entry for PASID 0x${pasid.toString(16)}`, lv + 1, 'stage 1 (guest)');
        return this.event('pasid-entry', 4, lv + 1, this.flagsBase & F_RW, `PAGE_TAB_HARDWARE_ERROR at 0x${sa.toString(16)}`);
      }
      const valid = this.lo & 1, ptr = addr4k(this.lo, this.hi);
      const s: WalkStep = { structure: 'GCR3 entry', level: lv + 1, address: hexN(sa), value: '0x' + whex(this.lo, this.hi), decoded: { index: idx, V: valid, [lv ? 'next' : 'guestCR3']: hexN(ptr) }, rule: '', ok: valid === 1, stage: 'stage 1 (guest)' };
      this.steps.push(s);
      if (!valid) {
        s.rule = 'AMD IOMMU v2 (GCR3): GCR3 entry not valid: no guest table for this PASID: IO_PAGE_FAULT';
        return this.event('pasid-entry', 2, lv + 1, this.flagsBase, 'IO_PAGE_FAULT: GCR3 entry not valid');
      }
      s.rule = lv ? 'AMD IOMMU v2 (GCR3): GCR3 entry points to the next GCR3 level' : 'AMD IOMMU v2 (GCR3): guest CR3: root of the guest x86-64 page table';
      table = ptr;
    }
    // guest x86-64 walk
    const gl = gptLevel === 1 ? 5 : 4;
    const top = gl === 5 ? 56 : 47;
    const hiTop = top === 47 ? this.iovaHi >>> 15 : this.iovaHi >>> 24;
    if (!(hiTop === 0 || hiTop === (top === 47 ? 0x1ffff : 0xff))) {
      this.steps.push({ structure: `guest PML${gl}E`, level: gl, decoded: { input: hexAddr(this.iova) }, rule: `AMD IOMMU v2 (GCR3): guest address not canonical for ${gl}-level paging: IO_PAGE_FAULT`, ok: false, stage: 'stage 1 (guest)' });
      return this.event('table-entry', 2, gl, this.flagsBase, 'IO_PAGE_FAULT: non-canonical guest address');
    }
    const names = ['', 'guest PTE', 'guest PDE', 'guest PDPE', 'guest PML4E', 'guest PML5E'];
    let w = true, u = true, nx = false;
    for (let L = gl; L >= 1; L--) {
      const idx = bitsOf(this.iovaLo, this.iovaHi, 12 + 9 * (L - 1), 9);
      const ga = table + 8 * idx;
      const sa = sysAddr(ga, names[L]!);
      if (typeof sa !== 'number') return sa;
      if (!this.read(sa)) {
        this.absent(names[L]!, sa, `AMD IOMMU v2 (GCR3): guest level-${L} entry`, L, 'stage 1 (guest)');
        return this.event(L === gl ? 'table-root' : 'table-entry', 4, L, this.flagsBase & F_RW, `PAGE_TAB_HARDWARE_ERROR at 0x${sa.toString(16)}`);
      }
      const lo = this.lo, hi = this.hi;
      const p = lo & 1, rw = (lo >>> 1) & 1, us = (lo >>> 2) & 1, ps = (lo >>> 7) & 1, xd = hi >>> 31;
      const leaf = L === 1 || (ps === 1 && (L === 2 || L === 3));
      const next = addr4k(lo, hi);
      const s: WalkStep = { structure: names[L]!, level: L, address: hexN(sa), value: '0x' + whex(lo, hi), decoded: { index: idx, P: p, RW: rw, US: us, PS: ps, XD: xd, [leaf ? 'page' : 'next']: hexN(next) }, rule: '', ok: false, stage: 'stage 1 (guest)' };
      this.steps.push(s);
      if (!p) {
        s.rule = 'x86-64 paging (AMD IOMMU v2 guest table): P=0: IO_PAGE_FAULT (PR=0)';
        return this.event('table-entry', 2, L, this.flagsBase, 'IO_PAGE_FAULT: guest page-table entry not present');
      }
      if ((L >= 4 && ps) || (leaf && L === 2 && (lo & 0x1fe000)) || (leaf && L === 3 && (lo & 0x3fffe000))) {
        s.rule = 'x86-64 paging: reserved bits set (PS in PML4E/PML5E or large-page alignment bits): IO_PAGE_FAULT (RZ=1)';
        return this.event('configuration', 2, L, this.flagsBase | F_PR | F_RZ, 'IO_PAGE_FAULT: reserved bit set in a guest page-table entry');
      }
      w = w && rw === 1; u = u && us === 1; nx = nx || xd === 1;
      const userReq = this.req.privileged !== true;
      if ((userReq && !us) || (this.isWrite && !rw) || (this.access === 'exec' && xd)) {
        s.rule = `x86-64 paging: ${userReq && !us ? 'user request and U/S=0' : this.isWrite && !rw ? 'write and R/W=0' : 'execute and XD=1'}: IO_PAGE_FAULT (PR=1, PE=1)`;
        return this.event('permission', 2, L, this.flagsBase | F_PR | F_PE, 'IO_PAGE_FAULT: guest page-table permission denied');
      }
      if (leaf) {
        const size = L === 1 ? 0x1000 : L === 2 ? 0x200000 : 0x40000000;
        const gbase = next - (next % size);
        s.rule = `x86-64 paging: leaf, ${size / 1024} KiB guest page at 0x${gbase.toString(16)}`;
        s.ok = true;
        const goff = Number(this.iova & BigInt(size - 1));
        const gpa = gbase + goff;
        if (!nested) return this.translated(BigInt(gpa), size, true, w, u, !nx);
        const f = this.v1(root, mode, BigInt(gpa), gpa >>> 0, Math.floor(gpa / TWO32), ir, iw, 'stage 2 (host)', false);
        if (f) return f;
        const pa = this.outPa + (gpa % this.outSize);
        return this.translated(BigInt(pa), Math.min(size, this.outSize), this.outR, w && this.outW, u, !nx && this.outR);
      }
      s.rule = `x86-64 paging: points to the level-${L - 1} guest table`;
      s.ok = true;
      table = next;
    }
    return this.other('configuration', 'WALK_DEPTH', 'guest walk ended without a leaf');
  }
}

/** Walk one request through an AMD-Vi snapshot. Never throws on bad snapshot contents. */
export function walkAmdVi(snap: Snapshot, req: WalkRequest): WalkResult {
  return new AmdWalk(snap, req).run();
}
