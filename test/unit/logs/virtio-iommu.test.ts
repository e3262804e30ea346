import { describe, expect, it } from 'vitest';
import { scanText } from '../../../src/core/logs/scanner';
import { corpusAvailable, corpusEntries } from '../../helpers/corpus';

// Lines built from viommu_fault_handler(): dev_err_ratelimited(viommu->dev,
//   "%s fault from EP %u at %#llx [%s%s%s]\n" | "%s fault from EP %u\n")
const DEV = 'virtio_iommu virtio0: ';

describe('virtio-iommu fault events', () => {
  it('mapping fault with address and access letters', () => {
    const [r, ...rest] = scanText(`[   42.123456] ${DEV}page fault from EP 8 at 0x8000 [W]`);
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({
      line: 1, family: 'virtio-iommu', host: 'linux', kind: 'event', time: 42.123456, iommu: 'virtio0',
      streamId: '0x8', iova: '0x8000', access: 'write',
      reason: { code: 2, name: 'VIRTIO_IOMMU_FAULT_R_MAPPING' },
      registers: { reason: '0x2', flags: '0x102' },
      decoded: { endpoint: 8, reasonPrinted: 'page', flags: { F_READ: false, F_WRITE: true, F_EXEC: false, F_ADDRESS: true } },
    });
  });

  it('domain fault without address (F_ADDRESS clear)', () => {
    const [r] = scanText(`${DEV}domain fault from EP 256`);
    expect(r).toMatchObject({ streamId: '0x100', reason: { code: 1, name: 'VIRTIO_IOMMU_FAULT_R_DOMAIN' }, registers: { reason: '0x1', flags: '0x0' } });
    expect(r!.iova).toBeUndefined();
    expect(r!.access).toBeUndefined();
  });

  it('unknown reason, all access letters, zero address; empty letters', () => {
    expect(scanText(`${DEV}unknown fault from EP 3 at 0xfffff000 [RWX]`)[0]).toMatchObject({
      reason: { code: 0, name: 'VIRTIO_IOMMU_FAULT_R_UNKNOWN' }, access: 'read+write+exec', registers: { flags: '0x107' }, iova: '0xfffff000',
    });
    const z = scanText(`${DEV}page fault from EP 1 at 0 []`)[0]!;
    expect(z).toMatchObject({ iova: '0x0', registers: { flags: '0x100' } });
    expect(z.access).toBeUndefined();
  });

  it('non-mainline nested series: PASID and extra reason words', () => {
    expect(scanText(`${DEV}permission fault from EP 8 PASID 2 at 0x1000 [R]`)[0]).toMatchObject({
      pasid: '0x2', reason: { code: 5, name: 'VIRTIO_IOMMU_FAULT_R_PERMISSION' }, access: 'read',
    });
    const w = scanText(`${DEV}page walk external abort fault from EP 8 PASID 0 at 0x2000 [W]`)[0]!;
    expect(w).toMatchObject({ reason: { code: 3 }, iova: '0x2000' });
    const a = scanText(`${DEV}access fault from EP 9`)[0]!;
    expect(a.reason).toMatchObject({ name: 'VIRTIO_IOMMU_FAULT_R_ACCESS' });
    expect(a.reason!.code).toBeUndefined();
    expect(a.registers!.reason).toBeUndefined();
  });

  it('not taken: other texts, hostile lines', () => {
    expect(scanText(`${DEV}bogus fault from EP 8`)).toHaveLength(0);
    expect(scanText(`${DEV}page fault from EP ${'9'.repeat(100000)}`)).toHaveLength(0);
    const t0 = Date.now();
    scanText('x: '.repeat(50000) + 'page fault from EP 1');
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it.runIf(corpusAvailable())('every corpus line with "fault from EP" is recognised', () => {
    const lines = corpusEntries('other.txt').flatMap((e) => e.lines).filter((l) => l.includes(' fault from EP '));
    const recs = scanText(lines.join('\n')).filter((r) => r.family === 'virtio-iommu');
    expect(recs).toHaveLength(lines.length);
  });
});
