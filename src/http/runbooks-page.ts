// GET /runbooks: the runbooks shipped with the program (docs/runbooks.md), as one HTML page
// with an anchor per alert, so an alert's runbook_url resolves wherever the exporter runs.
// The file is the project's own and its markdown is plain (headings, paragraphs, lists, code,
// bold, links): rendered here in a few lines rather than with a markdown library.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { escapeHtml as e } from '../report/html-escape.js';

/** docs/runbooks.md of the package this module belongs to (src/http or dist/http). */
export function runbooksFile(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'runbooks.md');
}

function inline(text: string): string {
  return e(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_m, label: string, href: string) =>
      /^(https?:|#)/.test(href) ? `<a href="${href}">${label}</a>` : label,
    );
}

/** The markdown of the runbooks as HTML; each `## Alert` heading gets the id GitHub would give it. */
export function renderRunbooks(markdown: string): string {
  const out: string[] = [];
  let para: string[] = [];
  let list = false;
  let code = false;
  const flush = (): void => {
    if (para.length > 0) out.push(`<p>${inline(para.join(' '))}</p>`);
    para = [];
  };
  const endList = (): void => {
    if (list) out.push('</ul>');
    list = false;
  };
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) {
      flush();
      endList();
      out.push(code ? '</pre>' : '<pre>');
      code = !code;
      continue;
    }
    if (code) {
      out.push(e(line));
      continue;
    }
    if (line.startsWith('<!--')) continue;
    const h = /^(#{1,3}) (.*)$/.exec(line);
    if (h) {
      flush();
      endList();
      const level = (h[1] as string).length;
      const text = h[2] as string;
      const id = text.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
      out.push(`<h${level} id="${e(id)}">${inline(text)}</h${level}>`);
      continue;
    }
    const li = /^\s*[-*] (.*)$/.exec(line);
    if (li) {
      flush();
      if (!list) out.push('<ul>');
      list = true;
      out.push(`<li>${inline(li[1] as string)}</li>`);
      continue;
    }
    if (line.trim() === '') {
      flush();
      endList();
      continue;
    }
    if (list && /^\s+\S/.test(line)) {
      out[out.length - 1] = (out[out.length - 1] as string).replace(/<\/li>$/, ` ${inline(line.trim())}</li>`);
      continue;
    }
    para.push(line.trim());
  }
  flush();
  endList();
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>hostaudit-exporter runbooks</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}code,pre{background:#f3f4f6;border-radius:3px}pre{padding:.6rem;overflow:auto}h2{border-top:1px solid #ddd;padding-top:1rem}</style>
</head>
<body>
${out.join('\n')}
</body>
</html>
`;
}

/** The page, read and rendered once; undefined when the file is not installed beside the program. */
export function loadRunbooksPage(file = runbooksFile()): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return renderRunbooks(text);
}
