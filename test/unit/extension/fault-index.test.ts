import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scanText } from '../../../src/core/logs/scanner';
import { FaultIndex, SAMPLE, isStall, matchesFilter, timeRange } from '../../../src/extension/fault-index';
import { corpusAvailable, corpusEntries } from '../../helpers/corpus';

const MIXED = readFileSync(join(__dirname, '../../../examples/mixed-faults.log'), 'utf8');

function indexOf(text: string): FaultIndex {
  const idx = new FaultIndex();
  for (const r of scanText(text)) idx.add(r);
  return idx;
}

describe('FaultIndex on examples/mixed-faults.log', () => {
  const idx = indexOf(MIXED);

  it('counts records and ratelimit-suppressed prints separately', () => {
    expect(idx.total).toBe(14);
    expect(idx.suppressed).toBe(2557);
    expect(idx.first).toBe(1.13186);
    expect(idx.last).toBe(6542.670624);
  });

  it('groups instance → device/stream → kind/reason', () => {
    const vtd = idx.iommus.get('intel-vtd|')!;
    expect(vtd.label).toBe('(instance not printed)');
    expect(vtd.count).toBe(9);
    const gpu = vtd.devices.get('0000:00:02.0')!;
    expect(gpu.count).toBe(7);
    const kind = gpu.kinds.get('dma-fault: PTE_READ')!;
    expect(kind.count).toBe(7);
    expect(kind.firstLine).toBe(30);
    expect(kind.lastLine).toBe(43);
    expect(kind.reasonText).toBe('PTE Read access is not set');
    expect(timeRange(kind)).toBe('182.241805–182.741870 s');
    const v2 = idx.iommus.get('arm-smmu|fd800000.iommu')!;
    expect([...v2.devices.keys()]).toEqual(['stream 0x877']);
    const xen = idx.iommus.get('arm-smmu|/axi/smmu@fd800000')!;
    expect([...xen.devices.keys()]).toEqual(['context bank 0']);
    expect(xen.devices.get('context bank 0')!.kinds.get('context-fault: TF')!.count).toBe(2);
  });

  it('orders groups by count, then by first appearance', () => {
    const roots = FaultIndex.sorted(idx.iommus.values()).map((g) => g.label);
    expect(roots[0]).toBe('(instance not printed)');
    expect(roots[1]).toBe('/axi/smmu@fd800000');
  });

  it('filters on every word the user sees', () => {
    const vtd = idx.iommus.get('intel-vtd|')!;
    const gpu = vtd.devices.get('0000:00:02.0')!;
    const kind = gpu.kinds.get('dma-fault: PTE_READ')!;
    expect(matchesFilter('intel-vtd 0000:00:02.0', vtd, gpu, kind)).toBe(true);
    expect(matchesFilter('pte read access', vtd, gpu, kind)).toBe(true);
    expect(matchesFilter('amd-vi', vtd, gpu, kind)).toBe(false);
    expect(matchesFilter('', vtd, gpu, kind)).toBe(true);
  });

  it('has nothing pending: no page request and no stall in this log', () => {
    expect(idx.pending.count).toBe(0);
  });
});

describe('FaultIndex bounds and Pending', () => {
  it('keeps only the first SAMPLE records of a storm but counts all', () => {
    const line = (i: number) => `[  182.${String(241805 + i).padStart(6, '0')}] AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:02:00.0 domain=0x0017 address=0x${(0xbe9f9880 + i * 64).toString(16)} flags=0x0010]`;
    const idx = indexOf(Array.from({ length: SAMPLE + 50 }, (_, i) => line(i)).join('\n'));
    const kind = [...[...idx.iommus.values()][0]!.devices.values()][0]!.kinds.values().next().value!;
    expect(kind.count).toBe(SAMPLE + 50);
    expect(kind.samples.length).toBe(SAMPLE);
    expect(kind.lastLine).toBe(SAMPLE + 50);
  });

  it.skipIf(!corpusAvailable())('puts stalled SMMUv2 transactions (FSR.SS) under Pending, from a real qcom-iommu print', () => {
    const entry = corpusEntries('arm-smmu.txt').find((e) => e.lines.some((l) => l.includes('fsr=0x40000202')))!;
    const line = entry.lines.find((l) => l.startsWith('[   16.363444]'))!;
    const [rec] = scanText(line);
    expect(rec!.registers?.['fsr']).toBe('0x40000202');
    expect(isStall(rec!)).toBe(true);
    const idx = indexOf(line);
    expect(idx.pending.stalls).toBe(1);
    expect(idx.pending.samples[0]!.iova).toBe('0x1047de0');
  });

  it('does not call FSR 0x402 a stall', () => {
    const [rec] = scanText('arm-smmu 5000000.iommu: Unhandled context fault: fsr=0x402, iova=0xff3cf000, fsynr=0x300003, cbfrsynra=0x409, cb=10');
    expect(isStall(rec!)).toBe(false);
  });
});

describe('FaultIndex on hostile input', () => {
  it('stops creating groups after MAX_GROUPS and folds the rest into one', async () => {
    const { MAX_GROUPS } = await import('../../../src/extension/fault-index');
    const idx = new FaultIndex();
    const n = MAX_GROUPS + 5000;
    for (let i = 0; i < n; i++) {
      idx.add({ line: i + 1, family: 'amd-vi', kind: 'event', iommu: 'ivhd0', device: `dev${i}`, reason: { name: 'IO_PAGE_FAULT' } });
    }
    expect(idx.total).toBe(n);
    const ivhd = idx.iommus.get('amd-vi|ivhd0')!;
    expect(ivhd.devices.size).toBeLessThanOrEqual(MAX_GROUPS);
    const other = ivhd.devices.get('(other: too many distinct groups)')!;
    expect(other.count).toBeGreaterThanOrEqual(5000);
    let sum = 0;
    for (const d of ivhd.devices.values()) sum += d.count;
    expect(sum).toBe(n);
  });
});
