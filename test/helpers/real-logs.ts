/**
 * Real published excerpts kept in this repository (test/fixtures/real-logs/*.txt, corpus format)
 * because they are not in ../shared/corpus.
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import { scanText } from '../../src/core/logs/scanner';
import type { FaultRecord } from '../../src/core/logs/record';
import { entriesOf, type CorpusEntry } from './corpus';

const DIR = join(__dirname, '../fixtures/real-logs');

export function entries(file: string): CorpusEntry[] {
  return entriesOf(join(DIR, file), file);
}

/** The records of the one entry whose source line contains `needle`, optionally of one family. */
export function scan(file: string, needle: string, family?: string): FaultRecord[] {
  const hits = entries(file).filter((e) => e.source.includes(needle));
  expect(hits, `${file}: one entry for "${needle}"`).toHaveLength(1);
  const recs = scanText(hits[0]!.lines.join('\n'));
  return family ? recs.filter((r) => r.family === family) : recs;
}
