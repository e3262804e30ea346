import { describe, expect, it } from 'vitest';
import { parseWalkInput, requestFromRecord, requestView } from '../../../src/extension/walk-request';
import { scanText } from '../../../src/core/logs/scanner';

describe('walk requests', () => {
  it('come from a fault record (SMMUv3 raw event built from the Linux 6.1 format strings)', () => {
    const [r] = scanText([
      'arm-smmu-v3 9050000.smmuv3: event 0x10 received:',
      'arm-smmu-v3 9050000.smmuv3: \t0x0000001000000010',
      'arm-smmu-v3 9050000.smmuv3: \t0x0000000800000000',
      'arm-smmu-v3 9050000.smmuv3: \t0x00000000ffeb4206',
      'arm-smmu-v3 9050000.smmuv3: \t0x0000000000000000',
    ].join('\n'));
    const req = requestFromRecord(r!)!;
    expect(req.iova).toBe(0xffeb4206n);
    expect(req.streamId).toBe(0x10);
    expect(req.access).toBe('read');
    expect(requestView(req)).toEqual({ iova: '0xffeb4206', streamId: '0x10', access: 'read' });
  });

  it('come from a VT-d record with its PCI device', () => {
    const [r] = scanText('DMAR: [DMA Read NO_PASID] Request device [0000:00:02.0] fault addr 0x7f3a1000 [fault reason 0x06] PTE Read access is not set');
    const req = requestFromRecord(r!)!;
    expect(req.device).toBe('0000:00:02.0');
    expect(req.iova).toBe(0x7f3a1000n);
  });

  it('parse what the user types, decimal or hex', () => {
    expect(parseWalkInput('0x8424cb148 stream=16 cb=0 access=write').request).toEqual({ iova: 0x8424cb148n, streamId: 16, contextBank: 0, access: 'write' });
    expect(parseWalkInput('0x1000 sid=0x877 pasid=0x1').request).toEqual({ iova: 0x1000n, streamId: 0x877, pasid: 1 });
    expect(parseWalkInput('0x1000 device=00:02.0').request).toEqual({ iova: 0x1000n, device: '0000:00:02.0' });
  });

  it('reject bad input with a message', () => {
    expect(parseWalkInput('').error).toMatch(/type an address/);
    expect(parseWalkInput('zz').error).toBe('not an address: zz');
    expect(parseWalkInput('0x1000 color=red').error).toMatch(/unknown word color/);
    expect(parseWalkInput('0x1000 access=fly').error).toMatch(/access must be/);
    expect(parseWalkInput('0x1000 device=xyz').error).toMatch(/bad PCI device/);
  });
});

describe('which snapshot fits which fault', () => {
  it('matches the IOMMU model to the printing family', async () => {
    const { snapshotFits } = await import('../../../src/extension/walk-request');
    expect(snapshotFits('arm-smmu-v3', 'arm-smmu-v3')).toBe(true);
    expect(snapshotFits('intel-vtd', 'arm-smmu-v3')).toBe(false);
    expect(snapshotFits('arm-smmu', 'arm-smmu-v2')).toBe(true);
    expect(snapshotFits('amd-vi', 'intel-vtd')).toBe(false);
    expect(snapshotFits('rockchip', 'arm-lpae')).toBe(true);
    expect(snapshotFits('mediatek', 'arm-v7s')).toBe(true);
    expect(snapshotFits('mediatek', 'intel-vtd')).toBe(false);
  });
});
