import { describe, expect, it } from 'vitest';
import { suspectCulprit, walkIsNested } from '../../../src/core/analysis/culprit';
import type { WalkResult, WalkStage, WalkStep } from '../../../src/core/walk/types';

const step = (structure: string, ok: boolean, extra: Partial<WalkStep> = {}): WalkStep => ({ structure, ok, ...extra });
const fault = (stage: WalkStage, steps: WalkStep[], name = 'F_X', text = 'something'): WalkResult => ({ result: 'fault', steps, fault: { stage, reason: { name, text } } });

describe('suspected culprit', () => {
  it('device entry -> host IOMMU driver or firmware, per model', () => {
    const c = suspectCulprit(fault('device-entry', [step('STE', false, { address: '0x5b660400', value: '0x0', rule: 'IHI0070 5.2: STE.V = 0' })], 'C_BAD_STE', 'STE not valid'), { model: 'arm-smmu-v3' });
    expect(c.party).toBe('host IOMMU driver (arm-smmu-v3 stream table) or firmware description (IORT / DT iommu-map: wrong StreamID)');
    expect(c.confidence).toBe('medium');
    expect(c.why).toContain('C_BAD_STE: STE not valid');
    expect(c.why).toContain('STE at 0x5b660400 = 0x0 (IHI0070 5.2: STE.V = 0)');
    expect(suspectCulprit(fault('device-entry', []), { model: 'intel-vtd' }).party).toMatch(/DMAR device scope/);
    expect(suspectCulprit(fault('device-entry', []), { model: 'amd-vi' }).party).toMatch(/IVRS/);
  });

  it('PASID / CD stage: guest driver when nested, else host side with low confidence', () => {
    const nested = fault('pasid-entry', [step('STE', true, { decoded: { config: 7 } }), step('CD', false)], 'C_BAD_CD');
    expect(suspectCulprit(nested, { model: 'arm-smmu-v3' })).toMatchObject({ party: expect.stringMatching(/^guest IOMMU driver/), confidence: 'medium' });
    const plain = fault('pasid-entry', [step('CD', false)], 'C_BAD_SUBSTREAMID');
    expect(suspectCulprit(plain, { model: 'arm-smmu-v3' })).toMatchObject({ party: expect.stringMatching(/^host IOMMU driver, or host userspace \(VMM\)/), confidence: 'low' });
  });

  it('table root: the owner of the table, guest for a failing nested stage 1', () => {
    const r = fault('table-root', [step('TTB0', true, { stage: 'stage 2' }), step('TTB0', false, { stage: 'stage 1' })]);
    expect(suspectCulprit(r, { model: 'arm-smmu-v3' }).party).toMatch(/^guest IOMMU driver \(owner of the stage-1 page table/);
    expect(suspectCulprit(fault('table-root', [step('SLPTPTR', false)]), { model: 'intel-vtd' }).party).toMatch(/^the IOMMU driver that owns this page table/);
  });

  it('leaf/intermediate PTE: device driver, high confidence when the address is known to have faulted', () => {
    const r = fault('table-entry', [step('PTE', false, { level: 3, address: '0x1000', value: '0x0' })], 'F_TRANSLATION', 'invalid descriptor');
    expect(suspectCulprit(r, { model: 'arm-lpae', faulted: true })).toMatchObject({ party: expect.stringMatching(/^device driver: DMA to an address never mapped/), confidence: 'high' });
    expect(suspectCulprit(r, { model: 'arm-lpae' }).confidence).toBe('medium');
    const s2 = fault('table-entry', [step('L1', true, { stage: 'stage 1' }), step('L2', false, { stage: 'stage 2' })]);
    expect(suspectCulprit(s2, { model: 'arm-lpae' }).party).toMatch(/^host \/ VMM: the stage-2 mapping/);
  });

  it('permission: device driver, wrong direction', () => {
    expect(suspectCulprit(fault('permission', [step('PTE', false)], 'F_PERMISSION'), { model: 'arm-smmu-v3', faulted: true })).toMatchObject({
      party: expect.stringMatching(/wrong direction/),
      confidence: 'high',
    });
  });

  it('memory missing from the snapshot makes the verdict undetermined', () => {
    const r = fault('table-entry', [step('SL-PDE', false, { decoded: { inSnapshot: false } })], 'PTE_READ', 'read failed');
    expect(suspectCulprit(r, { model: 'intel-vtd' })).toMatchObject({ party: expect.stringMatching(/^undetermined/), confidence: 'low' });
  });

  it('a successful walk of a faulting address points at stale IOTLB / races / a later snapshot', () => {
    const ok: WalkResult = { result: 'translated', pa: '0x1234', pageSize: 4096, steps: [step('PTE', true)] };
    const c = suspectCulprit(ok, { model: 'intel-vtd', faulted: true });
    expect(c.party).toMatch(/stale IOTLB \(missing invalidation\), a map that raced with the DMA, or a snapshot taken after the mapping changed/);
    expect(c.confidence).toBe('medium');
    expect(c.why).toContain('to 0x1234, 4096-byte page');
    expect(suspectCulprit(ok, { model: 'intel-vtd' }).confidence).toBe('low');
  });

  it('recognises nesting from steps or decoded fields', () => {
    expect(walkIsNested({ result: 'fault', steps: [step('x', true, { decoded: { PGTT: 3 } })] }, { model: 'intel-vtd' })).toBe(true);
    expect(walkIsNested({ result: 'fault', steps: [step('x', true, { stage: 'stage 1' })] }, { model: 'arm-lpae' })).toBe(false);
  });
});
