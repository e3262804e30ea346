import { describe, expect, it } from 'vitest';
import { scanText } from '../../../src/core/logs/scanner';
import type { FaultRecord } from '../../../src/core/logs/record';
import { corpusAvailable, corpusEntries } from '../../helpers/corpus';

/** printf for the conversions the GPU drivers use, so test lines come from the exact C literals. */
function cfmt(fmt: string, ...args: (number | bigint | string)[]): string {
  let i = 0;
  return fmt.replace(/%([-#0-9.]*)(llx|lx|x|X|llX|d|u|s)/g, (_m, flags: string, conv: string) => {
    const a = args[i++]!;
    if (conv === 's' || conv === 'd' || conv === 'u') return String(a);
    let s = BigInt(a).toString(16);
    if (conv.endsWith('X')) s = s.toUpperCase();
    const w = /(\d+)/.exec(flags.replace('.', ''));
    if (w) s = s.padStart(Number(w[1]), flags.includes('0') || flags.includes('.') ? '0' : ' ');
    return s;
  }).replace(/\n$/, '');
}

const gpu = (text: string): FaultRecord[] => scanText(text).filter((r) => r.family === 'gpu-mmu');

describe('gpu-mmu: real lines', () => {
  it.skipIf(!corpusAvailable())('adreno prints of arm-smmu.txt, both formats, beside the SMMU lines', () => {
    const entries = corpusEntries('arm-smmu.txt');
    const ci = entries.find((e) => e.source.includes('drm CI expectation'))!;
    const recs = gpu(ci.lines.join('\n'));
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({
      family: 'gpu-mmu', kind: 'page-fault', host: 'linux', iova: '0x0', access: 'read',
      registers: { ttbr0: '0x1042fc000' }, reason: { name: 'TRANSLATION' },
      decoded: { source: 'CP', cpScratch: [0, 0, 0, 0] },
    });
    expect(recs[0]!.time).toBeCloseTo(153.639162, 6);
    expect(recs[1]).toMatchObject({ iova: '0x20' });

    const msm = entries.find((e) => e.source.includes('msm8953-mainline'))!;
    const m = gpu(msm.lines.join('\n'));
    // four "*** gpu fault" prints, two of them inside lines pasted run together
    expect(m.map((r) => r.iova)).toEqual(['0x1047dc0', '0x1047de0', '0x1047e00', '0x1047e20']);
    for (const r of m) expect(r).toMatchObject({ access: 'read', decoded: { flags: 0, cpScratch: [0, 0, 0, 0] } });
    // the SMMU lines of the same entry are still recognised as arm-smmu
    const smmu = scanText(msm.lines.join('\n')).filter((r) => r.family === 'arm-smmu');
    expect(smmu.map((r) => r.iova)).toEqual(['0x1047dc0', '0x1047de0', '0x1047e00', '0x1047e20']);
  });

  // Source: drivers/gpu/drm/ci/xfails/msm-apq8096-skips.txt (IGT msm_mapping shadow)
  it('adreno permission fault with a hex source (a5xx FSYNR1)', () => {
    const [r] = gpu('[   80.177812] *** gpu fault: ttbr0=0000000101fd5000 iova=0000000001074000 dir=WRITE type=PERMISSION source=1f030000 (0,0,0,0)');
    expect(r).toMatchObject({ iova: '0x1074000', access: 'write', reason: { name: 'PERMISSION' }, registers: { ttbr0: '0x101fd5000' }, decoded: { source: '1f030000' } });
  });

  // Source: lore "iommu/arm-smmu: ... SDM845 ... 16K" thread (Konrad Dybcio, 2024), wrapped by the mail client
  it('adreno print wrapped after dir=', () => {
    const recs = gpu('*** gpu fault: ttbr0=0000000000000000 iova=000100000000c000 dir=READ\ntype=TRANSLATION source=CP (0,0,0,0)');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ iova: '0x100000000c000', endLine: 2, reason: { name: 'TRANSLATION' }, decoded: { source: 'CP' } });
  });

  // Source: lore "[PATCH v5 0/6] Allwinner H6 Mali GPU support" (Clément Péron, 2019), one line unwrapped
  it('panfrost multi-line print, with the next unrelated line not taken', () => {
    const text = [
      '[  345.204813] panfrost 1800000.gpu: mmu irq status=1',
      '[  345.209617] panfrost 1800000.gpu: Unhandled Page fault in AS0 at VA 0x0000000002400400',
      '[  345.209617] Reason: TODO',
      '[  345.209617] raw fault status: 0x800002C1',
      '[  345.209617] decoded fault status: SLAVE FAULT',
      '[  345.209617] exception type 0xC1: TRANSLATION_FAULT_LEVEL1',
      '[  345.209617] access type 0x2: READ',
      '[  345.209617] source id 0x8000',
      '[  345.729957] panfrost 1800000.gpu: gpu sched timeout, js=0, status=0x8, head=0x2400400, tail=0x2400400, sched_job=000000009e204de9',
    ].join('\n');
    const recs = gpu(text);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 2, endLine: 8, device: '1800000.gpu', iommu: '1800000.gpu', iova: '0x2400400', access: 'read',
      registers: { as_faultstatus: '0x800002c1' }, reason: { code: 0xc1, name: 'TRANSLATION_FAULT_LEVEL1' },
      decoded: { addressSpace: 0, sourceId: 0x8000, decodedStatus: 'SLAVE FAULT' },
    });
    expect((recs[0]!.decoded as any).as_faultstatus).toMatchObject({ EXCEPTION_TYPE: 'TRANSLATION_FAULT_1', ACCESS_TYPE: 'READ', SOURCE_ID: 0x8000, DECODER_FAULT: false });
  });

  // Source: same thread as quoted (wrapped after "at VA")
  it('panfrost print with the VA wrapped onto its own line', () => {
    const text = [
      '[  346.060680] panfrost 1800000.gpu: Unhandled Page fault in AS0 at VA',
      '0x0000000002C00A00',
      '[  346.060680] Reason: TODO',
      '[  346.060680] raw fault status: 0x810002C1',
      '[  346.060680] decoded fault status: SLAVE FAULT',
      '[  346.060680] exception type 0xC1: TRANSLATION_FAULT_LEVEL1',
      '[  346.060680] access type 0x2: READ',
      '[  346.060680] source id 0x8100',
    ].join('\n');
    const [r] = gpu(text);
    expect(r).toMatchObject({ iova: '0x2c00a00', endLine: 8, decoded: { sourceId: 0x8100 } });
  });

  // Source: dri-devel "drm/panfrost: ... MT8188 ... AARCH64_4K" (Ariel D'Alessandro), Mali-G57
  it('panfrost on Valhall: instruction fetch fault, new exception names', () => {
    const text = [
      '[   80.129083] panfrost 13000000.gpu: Unhandled Page fault in AS0 at VA 0x0000000000000000',
      '[   80.129083] Reason: TODO',
      '[   80.129083] raw fault status: 0x1C2',
      '[   80.129083] decoded fault status: SLAVE FAULT',
      '[   80.129083] exception type 0xC2: TRANSLATION_FAULT_2',
      '[   80.129083] access type 0x1: EXECUTE',
      '[   80.129083] source id 0x0',
    ].join('\n');
    const [r] = gpu(text);
    expect(r).toMatchObject({ iova: '0x0', access: 'exec', reason: { code: 0xc2, name: 'TRANSLATION_FAULT_2' }, registers: { as_faultstatus: '0x1c2' } });
  });

  it('panthor / kbase variants: no Reason line, "raw fault status 0x" and a pid line', () => {
    const panthor = 'Unhandled Page fault in AS%d at VA 0x%016llX\nraw fault status: 0x%X\ndecoded fault status: %s\nexception type 0x%X: %s\naccess type 0x%X: %s\nsource id 0x%X\n';
    const lines = cfmt(panthor, 2, 0xdead000n, 0x3c9, 'SLAVE FAULT', 0xc9, 'PERMISSION_FAULT_1', 3, 'WRITE', 0).split('\n');
    const [p] = gpu(lines.map((l, i) => (i === 0 ? 'panthor fb000000.gpu: ' : '') + l).join('\n'));
    expect(p).toMatchObject({ iova: '0xdead000', access: 'write', reason: { code: 0xc9, name: 'PERMISSION_FAULT_1' }, decoded: { addressSpace: 2 } });

    const kbase = 'Unhandled Page fault in AS%d at VA 0x%016llX\nReason: %s\nraw fault status 0x%X\ndecoded fault status: %s\nexception type 0x%X: %s\naccess type 0x%X: %s\nsource id 0x%X\npid: %d\n';
    const k = cfmt(kbase, 1, 0x4000n, 'Permission failure', 0x2c8, 'DECODER FAULT', 0xc8, 'PERMISSION_FAULT', 2, 'READ', 0, 4242).split('\n');
    const recs = gpu(k.map((l, i) => (i === 0 ? 'mali 13000000.gpu: ' : '') + l).join('\n'));
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ endLine: 8, registers: { as_faultstatus: '0x2c8' }, decoded: { pid: 4242, reasonText: 'Permission failure' } });
  });

  // Source: dri-devel "lima: mmu page fault" report on ST-Ericsson U8500 (Linus Walleij), wrapped after "from bus"
  it('lima, old format (wrapped as published) and new format', () => {
    const text = [
      '[   48.662336] lima a0300000.gpu: mmu page fault at 0x2020400 from bus',
      'id 0 of type read on ppmmu0',
      '[   48.662464] lima a0300000.gpu: fail to save task state from phoc',
    ].join('\n');
    const recs = gpu(text);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ device: 'a0300000.gpu', iova: '0x2020400', access: 'read', endLine: 2, decoded: { busId: 0, mmu: 'ppmmu0' } });
    const [n] = gpu('lima 1c40000.gpu: ' + cfmt('%s page fault at 0x%x from bus id %d of type %s\n', 'gpmmu', 0x286000, 3, 'write'));
    expect(n).toMatchObject({ device: '1c40000.gpu', iova: '0x286000', access: 'write', decoded: { busId: 3, mmu: 'gpmmu' } });
    const [o] = gpu('lima 1c40000.gpu: ' + cfmt('mmu page fault at 0x%x from bus id %d of type %s on %s\n', 0x1000, 1, 'read', 'ppmmu1'));
    expect(o).toMatchObject({ iova: '0x1000', decoded: { busId: 1, mmu: 'ppmmu1' } });
  });
});

describe('gpu-mmu: formats built from the driver sources', () => {
  it('KGSL generation with "addr=0x%lx pid=%d name=%s contextidr=%d" and "context=%s TTBR0=0x%llx (%s %s fault)"', () => {
    const dev = 'kgsl kgsl-3d0: ';
    const recs = gpu([
      dev + cfmt('GPU PAGE FAULT: addr=0x%lx pid=%d name=%s contextidr=%d\n', 0x4040389c, 5123, 'surfaceflinger', 9),
      dev + cfmt('context=%s TTBR0=0x%llx (%s %s fault)\n', 'gfx3d_user', 0x10000febeb000n, 'write', 'permission'),
    ].join('\n'));
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      line: 1, endLine: 2, iommu: 'kgsl-3d0', iova: '0x4040389c', access: 'write', registers: { ttbr0: '0x10000febeb000' },
      reason: { name: 'PERMISSION' }, decoded: { driver: 'kgsl', pid: 5123, process: 'surfaceflinger', contextidr: 9, context: 'gfx3d_user' },
    });
  });

  it('v3d 4.18: "MMU error from client %d at 0x%08llx%s%s%s", the AXI ID without a client name', () => {
    const [r] = gpu('v3d fec00000.v3d: ' + cfmt('MMU error from client %d at 0x%08llx%s%s%s\n', 13, 0x3bb1000, ', write violation', '', ''));
    expect(r).toMatchObject({ iommu: 'fec00000.v3d', iova: '0x3bb1000', access: 'write', reason: { name: 'WRITE_VIOLATION' }, decoded: { driver: 'v3d', axiId: 13 } });
    expect((r!.decoded as Record<string, unknown>).client).toBeUndefined();
  });

  it('panthor drm_err(): "[drm] *ERROR* " (and 5.x "[drm:func [module]] *ERROR* ") before the text, the rest of the printk unprefixed', () => {
    const body = cfmt('Unhandled Page fault in AS%d at VA 0x%016llX\nraw fault status: 0x%X\ndecoded fault status: %s\nexception type 0x%X: %s\naccess type 0x%X: %s\nsource id 0x%X\n',
      1, 0xa00000, 0x20002c3, 'SLAVE FAULT', 0xc3, 'TRANSLATION_FAULT_3', 2, 'READ', 0x200);
    for (const col of ['[drm] *ERROR* ', '[drm:panthor_mmu_irq_handler [panthor]] *ERROR* ']) {
      const recs = gpu(`[  12.000001] panthor fb000000.gpu: ${col}${body}`);
      expect(recs).toHaveLength(1);
      expect(recs[0]).toMatchObject({
        line: 1, endLine: 6, iommu: 'fb000000.gpu', iova: '0xa00000', access: 'read', registers: { as_faultstatus: '0x20002c3' },
        reason: { code: 0xc3, name: 'TRANSLATION_FAULT_3' }, decoded: { addressSpace: 1, sourceId: 0x200 },
      });
    }
  });

  it('adreno print with the context bank and both banks\' TTBR0 (cb0_ttbr0 must not pass for ttbr0)', () => {
    const [r] = gpu(cfmt('*** gpu fault: cb=%d ttbr0=%.16llx cb0_ttbr0=%.16llx cb1_ttbr0=%.16llx iova=%.16lx dir=%s type=%s source=%s (%u,%u,%u,%u)\n',
      1, 0x1000082e9c000n, 0x819a5000, 0x1000082aaa000n, 0x100246000, 'WRITE', 'TRANSLATION', 'CP', 0, 0, 0, 1));
    expect(r).toMatchObject({
      contextBank: 1, iova: '0x100246000', access: 'write',
      registers: { ttbr0: '0x1000082e9c000', cb0_ttbr0: '0x819a5000', cb1_ttbr0: '0x1000082aaa000' },
      reason: { name: 'TRANSLATION' }, decoded: { source: 'CP', cpScratch: [0, 0, 0, 1] },
    });
  });

  it('adreno older formats and the msm_iommu fallback', () => {
    const [a] = gpu(cfmt('*** gpu fault: iova=%08lx, flags=%d (%u,%u,%u,%u)\n', 0x1047dc0, 1, 5, 6, 7, 8));
    expect(a).toMatchObject({ iova: '0x1047dc0', access: 'write', decoded: { flags: 1, cpScratch: [5, 6, 7, 8] } });
    const [b] = gpu(cfmt('*** fault: iova=%16lx, flags=%d\n', 0xabc000, 0));
    expect(b).toMatchObject({ iova: '0xabc000', access: 'read', decoded: { driver: 'msm_iommu' } });
  });

  const AMD = 'amdgpu 0000:03:00.0: amdgpu: ';
  it('amdgpu gmc v9+ (6.x): header, task, address, status and decoded lines as one record', () => {
    const text = [
      AMD + cfmt('[%s] %s page fault (src_id:%u ring:%u vmid:%u pasid:%u)\n', 'gfxhub0', 'no-retry', 0, 24, 3, 32771),
      AMD + cfmt(' Process %s pid %d thread %s pid %d\n', 'gnome-shell', 1234, 'gnome-shel:cs0', 1240),
      AMD + cfmt('  in page starting at address 0x%016llx from IH client 0x%x (%s)\n', 0x800104c00000n, 0x1b, 'UTCL2'),
      'usb 1-1: interleaved',
      AMD + cfmt('VM_L2_PROTECTION_FAULT_STATUS:0x%08X\n', 0x00301031),
      AMD + cfmt('\t Faulty UTCL2 client ID: %s (0x%x)\n', 'TCP (0x8)', 0x8),
      AMD + cfmt('\t MORE_FAULTS: 0x%lx\n', 1),
      AMD + cfmt('\t WALKER_ERROR: 0x%lx\n', 0),
      AMD + cfmt('\t PERMISSION_FAULTS: 0x%lx\n', 3),
      AMD + cfmt('\t MAPPING_ERROR: 0x%lx\n', 0),
      AMD + cfmt('\t RW: 0x%x\n', 0),
      AMD + 'something else',
    ].join('\n');
    const recs = gpu(text);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      device: '0000:03:00.0', line: 1, endLine: 11, iova: '0x800104c00000', pasid: '0x8003', access: 'read',
      registers: { vm_l2_protection_fault_status: '0x301031' }, reason: { name: 'PERMISSION_FAULTS', code: 3 },
      decoded: { hub: 'gfxhub0', retry: false, vmid: 3, ring: 24, process: 'gnome-shell', pid: 1234, tid: 1240, clientId: 0x1b, client: 'UTCL2', utcl2Client: 'TCP (0x8)', utcl2ClientId: 8, MORE_FAULTS: 1 },
    });
    expect((recs[0]!.decoded as any).vm_l2_protection_fault_status).toMatchObject({ VMID: 3, MAPPING_ERROR: false, PERMISSION_FAULTS: 3, MORE_FAULTS: true });
  });

  it('amdgpu 5.x header with the task inline and "from client %d"; GCVM on gfx10 and a write', () => {
    const text = [
      AMD + cfmt('[%s] page fault (src_id:%u ring:%u vmid:%u pasid:%u, for process %s pid %d thread %s pid %d)\n', 'gfxhub', 0, 0, 8, 32769, '', 0, '', 0),
      AMD + cfmt('  in page starting at address 0x%016llx from client %d\n', 0x7f0000000000n, 27),
      AMD + cfmt('GCVM_L2_PROTECTION_FAULT_STATUS:0x%08X\n', 0x00800932),
      AMD + cfmt('\t Faulty UTCL2 client ID: 0x%lx\n', 4),
      AMD + cfmt('\t MORE_FAULTS: 0x%lx\n', 0),
      AMD + cfmt('\t WALKER_ERROR: 0x%lx\n', 1),
      AMD + cfmt('\t PERMISSION_FAULTS: 0x%lx\n', 3),
      AMD + cfmt('\t MAPPING_ERROR: 0x%lx\n', 1),
      AMD + cfmt('\t RW: 0x%lx\n', 1),
    ].join('\n');
    const [r] = gpu(text);
    expect(r).toMatchObject({ iova: '0x7f0000000000', pasid: '0x8001', access: 'write', reason: { name: 'MAPPING_ERROR' }, decoded: { hub: 'gfxhub', vmid: 8, clientId: 27, utcl2ClientId: 4, statusRegister: 'GCVM_L2_PROTECTION_FAULT_STATUS' } });
  });

  it('amdgpu gmc v8 and radeon "GPU fault detected" prints', () => {
    const A = 'amdgpu 0000:01:00.0: amdgpu: ';
    const text = [
      A + cfmt('GPU fault detected: %d 0x%08x\n', 146, 0x0a80480c),
      A + cfmt('  VM_CONTEXT1_PROTECTION_FAULT_ADDR   0x%08X\n', 0x00100a10),
      A + cfmt('  VM_CONTEXT1_PROTECTION_FAULT_STATUS 0x%08X\n', 0x0e04800c),
      A + cfmt("VM fault (0x%02x, vmid %d, pasid %d) at page %u, %s from '%s' (0x%08x) (%d)\n", 0x0c, 7, 32770, 1051152, 'read', 'TC6', 0x54433600, 72),
    ].join('\n');
    const [r] = gpu(text);
    expect(r).toMatchObject({ endLine: 4, iova: '0x100a10000', access: 'read', pasid: '0x8002', registers: { vm_context1_protection_fault_addr: '0x100a10', vm_context1_protection_fault_status: '0xe04800c' }, decoded: { vmid: 7, client: 'TC6', mcId: 72 } });
    const R = 'radeon 0000:01:00.0: ';
    const rad = [
      R + cfmt('GPU fault detected: %d 0x%08x\n', 146, 0x00022402),
      R + cfmt('  VM_CONTEXT1_PROTECTION_FAULT_ADDR   0x%08X\n', 0x1500),
      R + cfmt('  VM_CONTEXT1_PROTECTION_FAULT_STATUS 0x%08X\n', 0x0d024002),
      R + cfmt('VM fault (0x%02x, vmid %d) at page %u, %s from %s (%d)\n', 0x02, 1, 0x1500, 'write', 'CB', 36),
    ].join('\n');
    const [q] = gpu(rad);
    expect(q).toMatchObject({ iova: '0x1500000', access: 'write', device: '0000:01:00.0', decoded: { vmid: 1, client: 'CB', mcId: 36 } });
  });

  it('nouveau gk104+, gf100 and nv50 trap prints', () => {
    const N = 'nouveau 0000:01:00.0: fifo: ';
    const gk = N + cfmt('fault %02x [%s] at %016llx engine %02x [%s] client %02x [%s%s] reason %02x [%s] on channel %d [%010llx %s]\n', 1, 'WRITE', 0x500000n, 0, 'gr', 0x13, 'GPC0/', 'T1_0', 2, 'PTE', 2, 0xff85c000n, 'Xorg[1234]');
    const [a] = gpu(gk);
    expect(a).toMatchObject({ device: '0000:01:00.0', iova: '0x500000', access: 'write', reason: { code: 2, name: 'PTE' }, decoded: { engine: 'gr', client: 'GPC0/T1_0', channel: 2, process: 'Xorg[1234]' } });
    const gf = N + cfmt('%s fault at %010llx engine %02x [%s] client %02x [%s%s] reason %02x [%s] on channel %d [%010llx %s]\n', 'read', 0x200000n, 0, 'PGRAPH', 4, 'GPC0/', 'TEX', 0, 'PT_NOT_PRESENT', 3, 0x7f5e3000n, 'X[1234]');
    const [b] = gpu(gf);
    expect(b).toMatchObject({ iova: '0x200000', access: 'read', reason: { code: 0, name: 'PT_NOT_PRESENT' }, decoded: { channel: 3 } });
    const nv = 'nouveau 0000:01:00.0: fb: ' + cfmt('trapped %s at %02x%04x%04x on channel %d [%08x %s] engine %02x [%s] client %02x [%s] subclient %02x [%s] reason %08x [%s]\n', 'read', 0x00, 0x2000, 0x9000, 2, 0x0fb2c000, 'Xorg[1110]', 0, 'PGRAPH', 3, 'DISPATCH', 0, 'M2M_IN', 2, 'PAGE_NOT_PRESENT');
    const [c] = gpu(nv);
    expect(c).toMatchObject({ iova: '0x20009000', access: 'read', reason: { code: 2, name: 'PAGE_NOT_PRESENT' }, decoded: { engine: 'PGRAPH', client: 'DISPATCH', subclient: 'M2M_IN', channel: 2 } });
  });

  it('v3d and etnaviv MMU prints', () => {
    const [v] = gpu('v3d fec00000.v3d: ' + cfmt('MMU error from client %s (0x%x) at 0x%llx%s%s%s\n', 'CLE', 0x4, 0x1fff000n, '', ', pte invalid', ''));
    expect(v).toMatchObject({ device: 'fec00000.v3d', iova: '0x1fff000', reason: { name: 'PTE_INVALID' }, decoded: { driver: 'v3d', client: 'CLE', axiId: 4 } });
    const [w] = gpu('v3d fec00000.v3d: ' + cfmt('MMU error from client %s (%d) at 0x%llx%s%s%s\n', 'TFU', 5, 0x1000n, ', write violation', '', ''));
    expect(w).toMatchObject({ access: 'write', reason: { name: 'WRITE_VIOLATION' }, decoded: { axiId: 5 } });
    const [e] = gpu('etnaviv-gpu 130000.gpu: ' + cfmt('MMU %d fault (%s) addr 0x%08x\n', 0, 'page not present', 0xfe001000));
    expect(e).toMatchObject({ device: '130000.gpu', iova: '0xfe001000', reason: { name: 'PAGE_NOT_PRESENT' }, decoded: { driver: 'etnaviv', mmu: 0 } });
    const [o] = gpu('etnaviv-gpu 130000.gpu: ' + cfmt('MMU %d fault addr 0x%08x\n', 1, 0x1000));
    expect(o).toMatchObject({ iova: '0x1000', decoded: { mmu: 1 } });
    expect(o!.reason).toBeUndefined();
  });

  it('"dmesg -x --time-format iso" columns: the ISO stamp with ",usec" is followed by the message, not host/proc', () => {
    const pre = (s: number) => `kern  :err   : 2025-01-01T00:00:0${s},000000+00:00 `;
    const r = gpu([
      pre(0) + 'amdgpu 0000:03:00.0: amdgpu: [mmhub0] no-retry page fault (src_id:0 ring:0 vmid:0 pasid:0, for process  pid 0 thread  pid 0)',
      pre(1) + 'amdgpu 0000:03:00.0: amdgpu:   in page starting at address 0x0000000000001000 from IH client 0x12 (VMC)',
    ].join('\n'));
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ device: '0000:03:00.0', endLine: 2, iova: '0x1000', pasid: '0x0', decoded: { hub: 'mmhub0', client: 'VMC' } });
    expect(r[0]!.time).toBe(Date.UTC(2025, 0, 1) / 1000);
  });

  it('Qualcomm KGSL (Android): every generation of the head and the context line', () => {
    const dev = '[  100.000001] kgsl kgsl-3d0: ';
    // (the driver prints %lX; cfmt has no "l" modifier for X)
    // msm-3.10: "context = %d FSR = %X FSYNR0 = %X FSYNR1 = %X(%s fault)"
    const a = gpu([
      dev + cfmt('GPU PAGE FAULT: addr = %X pid = %d\n', 0xbf049400n, 5944),
      dev + cfmt('context = %d FSR = %X FSYNR0 = %X FSYNR1 = %X(%s fault)\n', 1, 0x2, 0x10, 0x20001, 'write'),
      dev + '---- nearby memory ----',
    ].join('\n'));
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({
      kind: 'page-fault', line: 1, endLine: 3, iommu: 'kgsl-3d0', iova: '0xbf049400', access: 'write',
      registers: { fsr: '0x2', fsynr0: '0x10', fsynr1: '0x20001' }, decoded: { driver: 'kgsl', pid: 5944, context: 1 },
    });
    // msm-3.18: "context = %d TTBR0 = %pa (%s %s fault)"
    const b = gpu([dev + cfmt('GPU PAGE FAULT: addr = %X pid = %d\n', 0x10040000n, 662), dev + 'context = 1 TTBR0 = 0x00000000a7b2c000 (read translation fault)'].join('\n'));
    expect(b[0]).toMatchObject({ iova: '0x10040000', access: 'read', registers: { ttbr0: '0xa7b2c000' }, reason: { name: 'TRANSLATION' } });
    // msm-4.x: "pid= %d" and "context=%s TTBR0=0x%llx CIDR=0x%x (%s %s fault)"
    const c = gpu([
      dev + cfmt('GPU PAGE FAULT: addr = %X pid= %d\n', 0x7f0e1000n, 1234),
      dev + cfmt('context=%s TTBR0=0x%llx CIDR=0x%x (%s %s fault)\n', 'gfx3d_user', 0x5000012345000n, 0x4d2, 'write', 'permission'),
    ].join('\n'));
    expect(c[0]).toMatchObject({
      iova: '0x7f0e1000', access: 'write', registers: { ttbr0: '0x5000012345000', contextidr: '0x4d2' },
      reason: { name: 'PERMISSION' }, decoded: { pid: 1234, context: 'gfx3d_user' },
    });
    // a second fault closes the first
    const d = gpu([dev + 'GPU PAGE FAULT: addr = 1000 pid = 1', dev + 'GPU PAGE FAULT: addr = 2000 pid = 1'].join('\n'));
    expect(d.map((r) => r.iova)).toEqual(['0x1000', '0x2000']);
  });

  it('does not take other families\' lines and never throws on junk', () => {
    expect(gpu('rk_iommu ff940300.iommu: Page fault at 0x7f4bda00 of type read')).toHaveLength(0);
    expect(gpu('tegra-mc 70019000.memory-controller: display0a: read @0xfe000000: Page fault (SMMU translation error [--S])')).toHaveLength(0);
    const junk = [
      '*** gpu fault: ' + 'iova='.repeat(50000), 'x y: [gfxhub0] page fault (src_id:' + '9'.repeat(100000), 'Unhandled Page fault in AS1 at VA ' + '0'.repeat(100000), 'a b: fault 01 [' + ']'.repeat(100000) + ' engine ',
      // wrapped adreno, quoted-printable, nouveau wrapped by mail, device columns found later in the line
      '*** gpu fault: ttbr0=0 iova=1 dir=', '='.repeat(100000), '=3D'.repeat(100000),
      'nouveau 0000:01:00.0: fifo: read fault at 0', 'engine '.repeat(50000), '[' + '0'.repeat(100000),
      'x '.repeat(100000) + 'v3d a.b: MMU error from client L2T (0) at 0x1, pte invalid', '[ +' + '1'.repeat(100000) + ']',
    ].join('\n');
    const t0 = Date.now();
    expect(() => scanText(junk)).not.toThrow();
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
