/**
 * Real log excerpts from ../shared/corpus (see its README): each entry is a `### source:` line
 * followed by the lines exactly as published. Tests use them as they are.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const SHARED = resolve(__dirname, '../../../shared');
export const CORPUS = join(SHARED, 'corpus');

export interface CorpusEntry {
  file: string;
  source: string;
  /** 1-based line of the `### source:` line in the corpus file */
  at: number;
  lines: string[];
}

export function corpusAvailable(): boolean {
  return existsSync(CORPUS);
}

/** Entries of a file in the corpus format (`### source:` line, lines as published, blank line). */
export function entriesOf(path: string, file = path): CorpusEntry[] {
  const text = readFileSync(path, 'utf8');
  const out: CorpusEntry[] = [];
  let cur: CorpusEntry | undefined;
  text.split('\n').forEach((l, i) => {
    if (l.startsWith('### source:')) {
      cur = { file, source: l.slice('### source:'.length).trim(), at: i + 1, lines: [] };
      out.push(cur);
    } else if (cur) {
      if (l.trim() === '' && cur.lines.length) cur = undefined;
      else if (l.trim() !== '') cur.lines.push(l);
    }
  });
  return out;
}

export function corpusEntries(file: string): CorpusEntry[] {
  return entriesOf(join(CORPUS, file), file);
}
