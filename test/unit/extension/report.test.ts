import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scanText } from '../../../src/core/logs/scanner';
import { FaultIndex } from '../../../src/extension/fault-index';
import { reportHtml, reportJson, reportMarkdown } from '../../../src/extension/report';

const idx = new FaultIndex();
const text = readFileSync(join(__dirname, '../../../examples/mixed-faults.log'), 'utf8');
for (const r of scanText(text)) idx.add(r);
idx.lines = text.split('\n').length;
const meta = { source: 'examples/mixed-faults.log', generated: '2026-01-01T00:00:00.000Z' };

describe('Export Report', () => {
  it('JSON: totals and one group per instance/device/kind with an example record', () => {
    const rep = JSON.parse(reportJson(idx, meta));
    expect(rep.format).toBe('iommu-lens-report');
    expect(rep.records).toBe(14);
    expect(rep.suppressed).toBe(2557);
    expect(rep.groups).toHaveLength(7);
    const g = rep.groups.find((x: { device: string }) => x.device === '0000:00:02.0');
    expect(g).toMatchObject({ family: 'intel-vtd', kind: 'dma-fault: PTE_READ', count: 7, lines: '30–43' });
    expect(g.example.iova).toBe('0x7f3a1000');
  });

  it('Markdown: summary table and decoded groups', () => {
    const md = reportMarkdown(idx, meta);
    expect(md.startsWith('# IOMMU fault report: examples/mixed\\-faults.log')).toBe(true);
    expect(md).toContain('| \\(instance not printed\\) | intel\\-vtd | 0000:00:02.0 | dma\\-fault: PTE\\_READ | 7 | 30–43 | 182.241805–182.741870 s |');
    expect(md).toContain('_7 records like this one, lines 30–43._');
  });

  it('HTML: escaped, no script', () => {
    const evil = new FaultIndex();
    const [r] = scanText('arm-smmu 5000000.iommu: Unhandled context fault: fsr=0x402, iova=0xff3cf000, fsynr=0x300003, cbfrsynra=0x409, cb=10');
    r!.iommu = '<script>alert(1)</script>';
    evil.add(r!);
    const html = reportHtml(evil, meta);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(reportHtml(idx, meta)).toContain('<td>0000:00:02.0</td>');
  });
});
