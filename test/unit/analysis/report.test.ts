import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { analyzeText } from '../../../src/core/analysis/analyzer';
import { buildReport } from '../../../src/core/analysis/report';
import { reportToMarkdown } from '../../../src/core/analysis/render-markdown';
import { reportToHtml } from '../../../src/core/analysis/render-html';
import { reportToJson } from '../../../src/core/analysis/render-json';
import { analyzeFile, runReport } from '../../../src/cli/report';
import { loadSnapshot } from '../../../src/node/load-snapshot';

const ROOT = resolve(__dirname, '../../..');
const EXAMPLE = join(ROOT, 'examples/mixed-faults.log');
const EXAMPLE_SNAPSHOT = join(ROOT, 'examples/mixed-faults.iommu.json');

const hostile = [
  '[   10.000000] DMAR: [DMA Read NO_PASID] Request device [0000:00:02.0] fault addr 0x7f3a1000 [fault reason 0x06] PTE Read access is not set',
  '[   10.100000] i915 0000:00:02.0: [drm] GPU HANG: <script>alert(1)</script> | `x` **y** <img src=x onerror=alert(2)>',
].join('\n');

describe('buildReport and renderers', () => {
  const r = buildReport(analyzeText(hostile), { source: 'evil<b>.log', generated: '2026-01-01T00:00:00.000Z' });

  it('groups carry a verdict with confidence and reasoning', () => {
    expect(r.groups).toHaveLength(1);
    expect(r.groups[0]!.title).toBe('intel-vtd: 0000:00:02.0');
    expect(r.groups[0]!.verdict).toMatchObject({ basis: 'log', confidence: 'medium' });
    expect(r.groups[0]!.verdict.party).toMatch(/^device driver/);
    expect(r.groups[0]!.verdict.why[0]).toMatch(/PTE_READ/);
    expect(r.notes.join(' ')).toMatch(/No snapshot attached/);
  });

  it('HTML is self-contained, has no script, and escapes every log string', () => {
    const h = reportToHtml(r);
    expect(h.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(h).not.toMatch(/<script|<img|onerror=alert\(2\)>/i);
    expect(h).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(h).toContain('evil&lt;b&gt;.log');
    expect(h).toMatch(/<style>/);
    expect(h).not.toMatch(/<link|src=["']?http/);
  });

  it('Markdown escapes markup and HTML from the log', () => {
    const m = reportToMarkdown(r);
    // log messages sit in code spans (literal text in Markdown, with a fence longer than any backtick run)
    expect(m).toContain('`` i915 0000:00:02.0: [drm] GPU HANG: <script>alert(1)</script> ¦ `x` **y** <img src=x onerror=alert(2)> ``');
    const outsideCode = m.replace(/(`+) [^\n]*? \1/g, '');
    expect(outsideCode).not.toMatch(/<script|<img/);
    expect(m).toMatch(/^# IOMMU fault report: evil&lt;b&gt;\.log/);
  });

  it('Markdown, HTML and JSON carry the same content', () => {
    const m = reportToMarkdown(r);
    const h = reportToHtml(r);
    const j = JSON.parse(reportToJson(r));
    expect(j).toMatchObject({ format: 'iommu-lens-report', version: 1, source: 'evil<b>.log' });
    for (const needle of [r.groups[0]!.verdict.party.slice(0, 40), 'GPU hang or reset', 'PTE Read access is not set']) {
      expect(m.replace(/\\/g, '')).toContain(needle);
      expect(h).toContain(needle);
      expect(JSON.stringify(j)).toContain(needle);
    }
  });
});

describe('snapshot walks in the report', () => {
  it('walks every distinct faulting page of the example log in its VT-d snapshot', () => {
    const snap = loadSnapshot(EXAMPLE_SNAPSHOT);
    try {
      const r = buildReport(analyzeFile(EXAMPLE, { file: 'mixed-faults.log' }), { source: 'mixed-faults.log', snapshot: snap, snapshotName: 'mixed-faults.iommu.json' });
      const gpu = r.groups.find((g) => g.device === '0000:00:02.0')!;
      expect(gpu.walks).toMatchObject({ walked: 7, notWalked: 0 });
      expect(gpu.walks!.outcomes[0]).toMatchObject({ result: 'fault', stage: 'table-entry', pages: 7 });
      expect(gpu.verdict).toMatchObject({ basis: 'snapshot', confidence: 'high' });
      expect(gpu.verdict.why.join(' ')).toMatch(/the log alone suggested/);
      const ahci = r.groups.find((g) => g.device === '0000:00:1f.2')!;
      expect(ahci.walks!.outcomes[0]).toMatchObject({ stage: 'device-entry' });
      expect(ahci.verdict.party).toMatch(/root\/context tables/);
      const smmu = r.groups.find((g) => g.family === 'arm-smmu-v3')!;
      expect(smmu.walkSkipped).toMatch(/snapshot models intel-vtd/);
    } finally {
      snap.close();
    }
  });
});

describe('iommu-lens report (CLI)', () => {
  it('streams a file and writes every format', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    for (const f of ['md', 'html', 'json']) {
      const out = join(dir, `r.${f}`);
      expect(await runReport([EXAMPLE, '--format', f, '--output', out])).toBe(0);
      expect(readFileSync(out, 'utf8').length).toBeGreaterThan(1000);
    }
    const j = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    expect(j.totals).toMatchObject({ records: 14, lines: 85 });
  });

  it('a file read in blocks gives the same analysis as the text in memory, long lines included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    const text = readFileSync(EXAMPLE, 'utf8') + 'x'.repeat(3 << 20) + '\n' + hostile + '\n';
    const p = join(dir, 'big.log');
    writeFileSync(p, text);
    const a = analyzeFile(p, {});
    const b = analyzeText(text);
    expect(a.records).toBe(b.records);
    expect(a.lines).toBe(b.lines);
    expect(a.groups.map((g) => [g.id, g.records, g.symptomTotal])).toEqual(b.groups.map((g) => [g.id, g.records, g.symptomTotal]));
  });

  it('rejects bad usage', async () => {
    await expect(runReport([])).rejects.toThrow(/exactly one LOG/);
    await expect(runReport([EXAMPLE, '--format', 'pdf'])).rejects.toThrow(/--format/);
    await expect(runReport(['/nonexistent.log'])).rejects.toThrow(/no such file/);
  });
});
