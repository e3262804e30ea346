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

  it('notices wrapped by mail clients, terminals and quoted-printable soft breaks are still storm records', () => {
    const recs = scanText([
      '[  100.100000] dmar_fault: 1234 callbacks',
      ' suppressed',
      '[  100.200000] dmar_fault: 55 callbacks suppre=',
      'ssed',
      '> [  100.300000] amd_iommu_report_page_fault: 7 callbacks supp',
      '> ressed',
      '[  100.400000] dmar_fault: 56 callbacks=',
      ' suppressed',
      '[  100.500000] arm_smmu_context_fault: 9 callbacks sup',
      'pre',
      'ssed',
    ].join('\n'));
    expect(recs.map((r) => [r.line, r.endLine, r.family, r.kind, r.time, (r.decoded as { function: string }).function, (r.decoded as { suppressed: number }).suppressed])).toEqual([
      [1, 2, 'intel-vtd', 'storm-suppressed', 100.1, 'dmar_fault', 1234],
      [3, 4, 'intel-vtd', 'storm-suppressed', 100.2, 'dmar_fault', 55],
      [5, 6, 'amd-vi', 'storm-suppressed', 100.3, 'amd_iommu_report_page_fault', 7],
      [7, 8, 'intel-vtd', 'storm-suppressed', 100.4, 'dmar_fault', 56],
      [9, 11, 'arm-smmu', 'storm-suppressed', 100.5, 'arm_smmu_context_fault', 9],
    ]);
  });

  it('x86 handlers\' notices cut before "callbacks", inside it, or inside the count', () => {
    const recs = scanText([
      'Mar 21 17:09:43 host kernel: [  144.480629] dmar_fault: 893',
      'callbacks suppressed',
      '[  100.200000] dmar_fault: 55 callba=',
      'cks suppressed',
      '[  100.300000] amd_iommu_report_page_fault: 12=',
      ' callbacks suppressed',
      '[  100.400000] dmar_fault: 89=',
      '3 callbacks suppressed',
      '> [  100.500000] amd_iommu_report_page_fault: 4',
      '> callbacks',
      '> suppressed',
    ].join('\n'));
    expect(recs.map((r) => [r.line, r.endLine, r.family, (r.decoded as { function: string }).function, (r.decoded as { suppressed: number }).suppressed])).toEqual([
      [1, 2, 'intel-vtd', 'dmar_fault', 893],
      [3, 4, 'intel-vtd', 'dmar_fault', 55],
      [5, 6, 'amd-vi', 'amd_iommu_report_page_fault', 12],
      [7, 8, 'intel-vtd', 'dmar_fault', 893],
      [9, 11, 'amd-vi', 'amd_iommu_report_page_fault', 4],
    ]);
    expect(recs[0]!.time).toBe(144.480629);
  });

  it('a count cut by a soft break and never completed is left out; a stack frame is no notice', () => {
    const recs = scanText(['[ 1.0] dmar_fault: 89=', '[ 2.0] dmar_fault+0x12/0x30', '[ 3.0] dmar_fault: 7', '[ 3.1] e1000e: link up'].join('\n'));
    expect(recs.map((r) => [r.line, r.endLine, r.decoded])).toEqual([
      [1, undefined, { function: 'dmar_fault' }],
      [3, undefined, { function: 'dmar_fault', suppressed: 7 }],
    ]);
  });

  it('a wrapped notice takes no line that does not finish "suppressed"; other subsystems and other words stay out', () => {
    const recs = scanText([
      '[ 1.0] dmar_fault: 3 callbacks',
      'ssed',
      '[ 2.0] dmar_fault: 4 callbacks',
      '[ 2.1] DMAR: DRHD: handling fault status reg 2',
      '[ 3.0] net_ratelimit: 5 callbacks',
      ' suppressed',
      '[ 4.0] rcu: 12 callbacks queued',
      '[ 5.0] dmar_fault: 6 callbacks discarded',
    ].join('\n'));
    expect(recs.filter((r) => r.kind === 'storm-suppressed').map((r) => [r.line, r.endLine, (r.decoded as { suppressed: number }).suppressed])).toEqual([
      [1, undefined, 3], [3, undefined, 4],
    ]);
  });

  it('hostile "callbacks" lines stay linear', () => {
    const evil = ['a'.repeat(100000) + ': 1 callbacks', 'f: 1 callbacks' + ' '.repeat(100000) + 'x', 'f: ' + '1'.repeat(100000) + ' callbacks s=\n' + '='.repeat(100000)];
    const t0 = Date.now();
    for (const l of evil) expect(() => scanText(l)).not.toThrow();
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
