/**
 * The report as one self-contained HTML file: inline CSS, no script, readable offline. Every
 * string is HTML-escaped, so log text can never become markup.
 */
import type { Report } from './report';
import { reportDocument, type Block, type Inline } from './report-doc';

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#1b1f24;background:#fff}
h1{font-size:1.5em}h2{font-size:1.25em;border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:2em}h3{font-size:1.05em;margin-top:1.4em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:13px}th,td{border:1px solid #d0d7de;padding:3px 8px;vertical-align:top;text-align:left}
th{background:#f6f8fa}td.r{text-align:right}code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f6f8fa;padding:1px 3px;border-radius:3px;word-break:break-all}
details{border:1px solid #d0d7de;border-radius:6px;margin:.6em 0;padding:.3em .8em}summary{cursor:pointer;font-weight:600}
@media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}th,code{background:#161b22}th,td,details,h2{border-color:#30363d}}
`;

function inline(i: Inline): string {
  if (typeof i === 'string') return escapeHtml(i);
  if ('code' in i) return `<code>${escapeHtml(i.code)}</code>`;
  return `<strong>${escapeHtml(i.strong)}</strong>`;
}

function block(b: Block): string {
  switch (b.t) {
    case 'h': return `<h${b.level}>${escapeHtml(b.text)}</h${b.level}>`;
    case 'p': return `<p>${b.parts.map(inline).join('')}</p>`;
    case 'list': return `<ul>${b.items.map((it) => `<li>${it.map(inline).join('')}</li>`).join('')}</ul>`;
    case 'table': {
      if (!b.rows.length) return '';
      const head = b.head.some((h) => h) ? `<thead><tr>${b.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>` : '';
      const rows = b.rows.map((r) => `<tr>${r.map((c, i) => `<td${b.right?.includes(i) ? ' class="r"' : ''}>${inline(c)}</td>`).join('')}</tr>`).join('\n');
      return `<table>${head}<tbody>\n${rows}\n</tbody></table>`;
    }
    case 'section':
      return `<details${b.open ? ' open' : ''}><summary>${escapeHtml(b.title)}</summary>\n${b.blocks.map(block).join('\n')}\n</details>`;
  }
}

export function reportToHtml(r: Report): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${escapeHtml(`IOMMU fault report: ${r.source}`)}</title>`,
    `<style>${CSS}</style></head><body>`,
    ...reportDocument(r).map(block),
    '</body></html>',
    '',
  ].join('\n');
}
