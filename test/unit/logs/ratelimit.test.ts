import { describe, expect, it } from 'vitest';
import { scanText } from '../../../src/core/logs/scanner';
import { corpusEntries } from '../../helpers/corpus';

describe('ratelimit "callbacks suppressed" notices', () => {
  it('real lines: SMMUv2 storm and DMAR storm', () => {
    // source: corpus/arm-smmu.txt (linux-tegra storm, "arm_smmu_global_fault: 559609 callbacks suppressed")
    const arm = corpusEntries('arm-smmu.txt').flatMap((e) => e.lines).filter((l) => l.includes('callbacks suppressed'));
    expect(arm.length).toBeGreaterThan(3);
    const recs = scanText(arm.join('\n')).filter((r) => r.kind === 'storm-suppressed');
    expect(recs).toHaveLength(arm.length);
    expect(recs.every((r) => r.family === 'arm-smmu')).toBe(true);
    expect(recs.some((r) => (r.decoded as { suppressed: number }).suppressed === 559609)).toBe(true);
    // source: corpus/intel-dmar.txt ("dmar_fault: 2474 callbacks suppressed")
    const [d] = scanText('    [10677.928602] dmar_fault: 2474 callbacks suppressed');
    expect(d).toMatchObject({ family: 'intel-vtd', kind: 'storm-suppressed', time: 10677.928602, decoded: { function: 'dmar_fault', suppressed: 2474 } });
  });

  it('built lines for other handlers; other subsystems ignored', () => {
    expect(scanText('[ 1.0] arm_smmu_evtq_thread: 12 callbacks suppressed')[0]).toMatchObject({ family: 'arm-smmu-v3', decoded: { suppressed: 12 } });
    expect(scanText('[ 1.0] iommu_print_event: 3 callbacks suppressed')[0]).toMatchObject({ family: 'amd-vi' });
    expect(scanText('[ 1.0] rk_iommu_irq: 3 callbacks suppressed')[0]).toMatchObject({ family: 'rockchip' });
    expect(scanText('[ 1.0] net_ratelimit: 3 callbacks suppressed')).toHaveLength(0);
  });
});
