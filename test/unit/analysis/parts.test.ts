import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { analyzeText, type Analysis } from '../../../src/core/analysis/analyzer';
import { PartsAnalyzer } from '../../../src/core/analysis/parts';
import { corpusAvailable, CORPUS } from '../../helpers/corpus';

/** What a parallel report does, on one thread: parts analysed alone (with a warm-up), then absorbed in order. */
function analyzeInParts(text: string, partLines: number, warm = 40): Analysis {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const merged = new PartsAnalyzer();
  let offset = 0;
  for (let start = 0; start < lines.length; start += partLines) {
    const end = Math.min(lines.length, start + partLines);
    const w0 = Math.max(0, start - warm);
    const a = new PartsAnalyzer({ part: { ownFrom: 1 } });
    for (let i = w0; i < start; i++) a.push(lines[i]!, i - start + 1);
    for (let i = start; i < end; i++) a.push(lines[i]!, i - start + 1);
    // records still open at the part's end may take the next part's first lines
    for (let i = end; i < lines.length && a.wantsEveryLine; i++) a.pushContinuation(lines[i]!, i - start + 1);
    a.end();
    merged.absorb(a.chunkState(end - start), offset);
    offset += end - start;
  }
  merged.end();
  return merged.result(lines.length);
}

function digest(a: Analysis) {
  return {
    records: a.records, suppressed: a.suppressed, lines: a.lines,
    groups: a.groups.map((g) => [g.id, g.family, g.iommu, g.device, g.records, g.firstLine, g.lastLine, g.pages.distinct, g.symptomTotal, g.kinds, g.reasons.map((r) => r.count)]),
    pr: a.pageRequests.counts,
    pending: a.pageRequests.pending.map((p) => [p.firstLine, p.group]),
    unattributed: a.symptoms.unattributed.map((h) => h.line),
  };
}

const ts = (t: number) => `[${t.toFixed(6).padStart(12)}] `;

describe('a log analysed in parts gives the analysis of the whole', () => {
  it.skipIf(!corpusAvailable())('every corpus file, cut every 7 lines (multi-line prints and symptoms across cuts)', () => {
    for (const f of ['arm-smmu.txt', 'arm-smmu-v3.txt', 'intel-dmar.txt', 'amd-vi.txt', 'xen.txt', 'other.txt', 'context.txt']) {
      const text = readFileSync(join(CORPUS, f), 'utf8');
      expect(digest(analyzeInParts(text, 7)), f).toEqual(digest(analyzeText(text)));
    }
  });

  it('the example log, cut every 10 lines', () => {
    const text = readFileSync(resolve(__dirname, '../../../examples/mixed-faults.log'), 'utf8');
    expect(digest(analyzeInParts(text, 10))).toEqual(digest(analyzeText(text)));
  });

  it('a storm cut by part boundaries stays one storm', () => {
    const lines: string[] = [];
    for (let i = 0; i < 600; i++) lines.push(`${ts(100 + i * 0.005)}DMAR: [DMA Write] Request device [00:02.0] PASID ffffffff fault addr ${(0x7f000 + (i % 50)).toString(16)}000 [fault reason 05] PTE Write access is not set`);
    lines.push(`${ts(200)}DMAR: [DMA Write] Request device [00:02.0] PASID ffffffff fault addr 1000 [fault reason 05] PTE Write access is not set`);
    const text = lines.join('\n');
    const whole = analyzeText(text);
    const parts = analyzeInParts(text, 128);
    const w = whole.iommus[0]!.storms;
    const p = parts.iommus[0]!.storms;
    expect(w).toHaveLength(1);
    expect(p).toHaveLength(1);
    expect(p[0]!.startLine).toBe(w[0]!.startLine);
    expect(p[0]!.endLine).toBe(w[0]!.endLine);
    expect(p[0]!.ongoing).toBeUndefined();
    // each part needs `threshold` records before it sees the storm again: at most 19 per cut are missed
    expect(p[0]!.printed).toBeGreaterThanOrEqual(w[0]!.printed - 4 * 19);
    expect(parts.groups[0]!.pages.distinct).toBe(51);
    expect(whole.groups[0]!.pages.distinct).toBe(51);
  });
});

describe('iommu-lens report on worker threads', () => {
  it.skipIf(!corpusAvailable())('gives the single-thread report on real logs cut into ranges', async () => {
    const { build } = await import('esbuild');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { spawnSync } = await import('node:child_process');
    const dir = mkdtempSync(join(tmpdir(), 'report-par-'));
    const cli = join(dir, 'cli.js');
    await build({ entryPoints: [resolve(__dirname, '../../../src/cli/main.ts')], outfile: cli, bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent' });
    const run = (args: string[]) => {
      const r = spawnSync('node', [cli, 'report', '--format', 'json', ...args], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      delete j.generated;
      return j;
    };
    for (const f of ['arm-smmu.txt', 'intel-dmar.txt', 'amd-vi.txt', 'xen.txt', 'context.txt']) {
      const path = join(CORPUS, f);
      expect(run([path, '--workers', '3', '--parallel-min', '1']), f).toEqual(run([path, '--workers', '1']));
    }
    // a storm across both cuts stays one storm, with every record counted
    const storm = join(dir, 'storm.log');
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) lines.push(`${ts(100 + i * 0.002)}DMAR: [DMA Write] Request device [00:02.0] PASID ffffffff fault addr ${(0x7f000 + (i % 50)).toString(16)}000 [fault reason 05] PTE Write access is not set`);
    writeFileSync(storm, lines.join('\n') + '\n');
    const par = run([storm, '--workers', '3', '--parallel-min', '1']);
    const seq = run([storm, '--workers', '1']);
    expect(par.iommus[0].storms).toHaveLength(1);
    expect(par.iommus[0].storms[0]).toMatchObject({ startLine: 1, endLine: 3000, printed: 3000 });
    // each range sees the storm again only after `threshold` records: its page tally misses those
    const noFaults = (j: { groups: { storms: { pages: { ranges: { faults?: number }[] } }[] }[] }) => {
      for (const g of j.groups) for (const st of g.storms) for (const r of st.pages.ranges) delete r.faults;
      return j.groups;
    };
    expect(noFaults(par)).toEqual(noFaults(seq));
  }, 60_000);
});
