/** The report as Markdown. Every string from the log is escaped: it renders as text, never as markup or HTML. */
import type { Report } from './report';
import { reportDocument, type Block, type Inline } from './report-doc';

/** Escape text for Markdown: markup characters backslashed, HTML-significant ones as entities, no line breaks. */
export function escapeMd(s: string): string {
  return s
    .replace(/[\r\n]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|#~!]/g, '\\$&');
}

function code(s: string): string {
  // A code span cannot escape backticks: use a fence longer than any run inside (bounded by the 300-char cut).
  const t = s.replace(/[\r\n]+/g, ' ').replace(/\|/g, '¦');
  let fence = '`';
  while (t.includes(fence)) fence += '`';
  return `${fence} ${t} ${fence}`;
}

function inline(i: Inline): string {
  if (typeof i === 'string') return escapeMd(i);
  if ('code' in i) return code(i.code);
  return `**${escapeMd(i.strong)}**`;
}

function block(b: Block, out: string[]): void {
  switch (b.t) {
    case 'h': out.push(`${'#'.repeat(b.level)} ${escapeMd(b.text)}`, ''); break;
    case 'p': out.push(b.parts.map(inline).join(''), ''); break;
    case 'list': for (const it of b.items) out.push(`- ${it.map(inline).join('')}`); out.push(''); break;
    case 'table': {
      if (!b.rows.length) break;
      out.push(`| ${b.head.map(escapeMd).join(' | ')} |`);
      out.push(`|${b.head.map((_, i) => (b.right?.includes(i) ? '---:' : '---')).join('|')}|`);
      for (const r of b.rows) out.push(`| ${r.map(inline).join(' | ')} |`);
      out.push('');
      break;
    }
    case 'section':
      out.push(`### ${escapeMd(b.title)}`, '');
      for (const x of b.blocks) block(x.t === 'h' ? { ...x, level: 3 } : x, out);
      break;
  }
}

export function reportToMarkdown(r: Report): string {
  const out: string[] = [];
  for (const b of reportDocument(r)) block(b, out);
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}
