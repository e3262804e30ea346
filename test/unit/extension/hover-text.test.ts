import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordAtLine } from '../../../src/extension/record-at-line';
import { escapeMarkdown, recordMarkdown, walkMarkdown } from '../../../src/extension/record-markdown';
import { decodeRecordRegisters } from '../../../src/core/decode/explain';
import { scanText } from '../../../src/core/logs/scanner';
import { corpusAvailable, corpusEntries } from '../../helpers/corpus';

const LINES = readFileSync(join(__dirname, '../../../examples/mixed-faults.log'), 'utf8').split('\n');
const at = (i: number) => recordAtLine(i, LINES.length, (k) => LINES[k]!);
const find = (s: string) => LINES.findIndex((l) => l.includes(s));

describe('recordAtLine: the record under the cursor, from a window of lines', () => {
  it('returns the VT-d record for its fault line and its DRHD status line', () => {
    const i = find('fault addr 0x7f3a1000');
    expect(at(i)?.iova).toBe('0x7f3a1000');
    expect(at(i)?.line).toBe(i); // record starts at the "handling fault status" line (1-based i)
    expect(at(i - 1)?.iova).toBe('0x7f3a1000');
  });

  it('assembles the SMMUv3 raw event from any of its five lines', () => {
    const i = find('arm-smmu-v3.2.auto: event 0x10 received');
    for (let k = 0; k < 5; k++) {
      const r = at(i + k);
      expect(r?.family).toBe('arm-smmu-v3');
      expect(r?.line).toBe(i + 1);
      expect(r?.endLine).toBe(i + 5);
      expect(r?.reason?.name).toBe('F_TRANSLATION');
    }
  });

  it('assembles the SMMUv2 three-line print from its FSYNR0 line', () => {
    const i = find('FSYNR0 = 00300003');
    const r = at(i)!;
    expect(r.line).toBe(i - 1);
    expect(r.endLine).toBe(i + 1);
    expect(r.registers?.['fsr']).toBe('0x402');
  });

  it('returns nothing on lines that are not part of a fault print', () => {
    expect(at(find('Linux version 6.1.0'))).toBeUndefined();
    expect(at(find('GPU HANG'))).toBeUndefined();
  });

  it.skipIf(!corpusAvailable())('finds the record on the first real arm-smmu corpus line', () => {
    const e = corpusEntries('arm-smmu.txt')[0]!;
    const i = e.lines.findIndex((l) => l.includes('Unhandled context fault'));
    const r = recordAtLine(i, e.lines.length, (k) => e.lines[k]!);
    expect(r?.iova).toBe('0xff3cf000');
    expect(r?.contextBank).toBe(10);
  });
});

describe('hover Markdown', () => {
  it('shows family, kind, reason, identifiers and the decoded FSR', () => {
    const r = at(find('FSR    = 00000402'))!;
    const md = recordMarkdown(r, decodeRecordRegisters(r));
    expect(md).toContain('**arm\\-smmu** context\\-fault');
    expect(md).toContain('stream `0x877` · context bank `2` · address `0xff3cf000`');
    
    expect(md).toMatch(/\*\*CB\\_FSR\*\* `0x402`/);
    expect(md).toMatch(/\| TF \| 1 \| `1` \|/);
  });

  it('escapes log text so it cannot become a link, image or command', () => {
    const [r] = scanText('arm-smmu 5000000.iommu: Unhandled context fault: fsr=0x402, iova=0xff3cf000, fsynr=0x300003, cbfrsynra=0x409, cb=10');
    r!.iommu = '[x](command:workbench.action.quit)';
    r!.reason = { name: 'TF`', text: '![img](http://evil/)' };
    const md = recordMarkdown(r!, []);
    // identifiers sit in code spans (never rendered as links); free text is escaped
    expect(md).toContain('IOMMU `[x](command:workbench.action.quit)` · ');
    expect(md.replace(/`[^`]*`/g, '')).not.toContain('](');
    expect(md).toContain('\\!\\[img\\]\\(http://evil/\\)');
    expect(md).toContain("`TF'`");
    expect(escapeMarkdown('<b>')).toBe('\\<b\\>');
  });

  it('says where a walk fails and who is suspected', () => {
    const md = walkMarkdown({
      snapshot: 'a.iommu.json', request: { iova: '0x1000' },
      result: { result: 'fault', steps: [{ structure: 'PTE', level: 3, ok: false }], fault: { stage: 'table-entry', level: 3, reason: { name: 'F_TRANSLATION', text: 'invalid descriptor' } }, culprit: { party: 'device driver', confidence: 'medium', why: 'leaf PTE invalid' } },
    });
    expect(md).toContain('fails at `table-entry` level 3');
    expect(md).toContain('**Suspected culprit:** device driver (medium confidence)');
    expect(md).toContain('1 step read from `a.iommu.json`');
  });
});
