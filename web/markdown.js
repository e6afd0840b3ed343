// A safe Markdown subset for the assistant's answers, rendered straight to DOM nodes.
// Everything the model writes ends up in text nodes; HTML in the input is shown as the text it
// is. There is no innerHTML here and no way to produce an element outside the list below.
//
// Blocks: paragraphs, headings (#…######, shown one level below the panel's own heading),
// bullet lists (-, *, +), numbered lists (1. or 1)), one level of nesting by indentation,
// fenced code (``` or ~~~), block quotes (>), rules (---, ***), pipe tables (| a | b |).
// Inline: `code`, **strong** / __strong__, *em* / _em_, ~~strike~~, [text](https://…) links
// (http, https and mailto only; anything else stays text), hard line breaks (two spaces or a
// backslash at the end of a line), backslash escapes.
// Unfinished constructs (a stream cut mid-answer) are shown as plain text until they close.
import { h, scrollable } from './dom.js';

const SAFE_LINK = /^(https?:\/\/|mailto:)[^\s<>"']+$/i;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+-]*)\s*$/;
const QUOTE = /^ {0,3}>\s?(.*)$/;
const BULLET = /^( *)([-*+])\s+(.*)$/;
const ORDERED = /^( *)(\d{1,9})[.)]\s+(.*)$/;
const TABLE_SEP = /^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$/;

/**
 * Renders `text` to a DocumentFragment.
 * @param {string} text
 * @param {{headingBase?: number}} [options] headingBase: the level `#` maps to (default 3)
 */
export function renderMarkdown(text, { headingBase = 3 } = {}) {
  const frag = document.createDocumentFragment();
  const lines = String(text ?? '').replace(/\r\n?/g, '\n').split('\n');
  for (const node of blocks(lines, headingBase)) frag.append(node);
  return frag;
}

function blocks(lines, headingBase) {
  const out = [];
  let i = 0;
  let para = [];
  const flush = () => {
    if (para.length) out.push(h('p', {}, inlineLines(para)));
    para = [];
  };
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) { flush(); i++; continue; }

    const fence = FENCE.exec(line);
    if (fence) {
      flush();
      const marker = fence[1];
      const body = [];
      i++;
      while (i < lines.length && !new RegExp(`^ {0,3}${marker[0]}{${marker.length},}\\s*$`).test(lines[i])) {
        body.push(lines[i]);
        i++;
      }
      i++; // the closing fence (or the end of the text)
      const code = h('code', {}, body.join('\n'));
      if (fence[2]) code.dataset.lang = fence[2];
      out.push(h('pre', { class: 'md-code' }, code));
      continue;
    }

    const heading = HEADING.exec(line);
    if (heading) {
      flush();
      const level = Math.min(6, headingBase + heading[1].length - 1);
      out.push(h(`h${level}`, { class: 'md-h' }, inline(heading[2])));
      i++;
      continue;
    }

    if (RULE.test(line) && !para.length) {
      out.push(h('hr'));
      i++;
      continue;
    }

    if (QUOTE.test(line)) {
      flush();
      const inner = [];
      while (i < lines.length && QUOTE.test(lines[i])) {
        inner.push(QUOTE.exec(lines[i])[1]);
        i++;
      }
      out.push(h('blockquote', {}, blocks(inner, headingBase)));
      continue;
    }

    if (BULLET.test(line) || ORDERED.test(line)) {
      flush();
      const [list, next] = parseList(lines, i, headingBase);
      out.push(list);
      i = next;
      continue;
    }

    if (line.includes('|') && i + 1 < lines.length && TABLE_SEP.test(lines[i + 1]) && lines[i + 1].includes('-')) {
      flush();
      const [tbl, next] = parseTable(lines, i);
      out.push(tbl);
      i = next;
      continue;
    }

    para.push(line);
    i++;
  }
  flush();
  return out;
}

function listMatch(line) {
  const b = BULLET.exec(line);
  if (b) return { indent: b[1].length, ordered: false, start: 1, text: b[3] };
  const o = ORDERED.exec(line);
  if (o) return { indent: o[1].length, ordered: true, start: Number(o[2]), text: o[3] };
  return null;
}

/** A list starting at lines[start]; items indented deeper than the first form a nested list. */
function parseList(lines, start, headingBase) {
  const first = listMatch(lines[start]);
  const list = h(first.ordered ? 'ol' : 'ul', first.ordered && first.start !== 1 ? { start: first.start } : {});
  let i = start;
  let item = null;
  let itemText = [];
  const closeItem = () => {
    if (item) item.prepend(...inlineLines(itemText));
    itemText = [];
  };
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      // A blank line ends the list unless another item of it follows.
      const after = i + 1 < lines.length ? listMatch(lines[i + 1]) : null;
      if (after && after.indent >= first.indent && after.ordered === first.ordered) { i++; continue; }
      break;
    }
    const m = listMatch(line);
    if (m && m.indent < first.indent) break; // back to an outer list
    if (m && m.indent < first.indent + 2) {
      if (m.ordered !== first.ordered) break;
      closeItem();
      item = h('li');
      list.append(item);
      itemText = [m.text];
      i++;
    } else if (m && item) {
      // A nested list inside the current item.
      const [nested, next] = parseList(lines, i, headingBase);
      closeItem();
      item.append(nested);
      i = next;
    } else if (item && /^\s+\S/.test(line)) {
      itemText.push(line.trim()); // a continuation line of the item
      i++;
    } else {
      break;
    }
  }
  closeItem();
  return [list, i];
}

function splitRow(line) {
  let s = line.trim();
  if (s.startsWith('|')) s = s.slice(1);
  if (s.endsWith('|') && !s.endsWith('\\|')) s = s.slice(0, -1);
  const cells = [];
  let cur = '';
  for (let k = 0; k < s.length; k++) {
    if (s[k] === '\\' && s[k + 1] === '|') { cur += '|'; k++; continue; }
    if (s[k] === '|') { cells.push(cur.trim()); cur = ''; continue; }
    cur += s[k];
  }
  cells.push(cur.trim());
  return cells;
}

function parseTable(lines, start) {
  const head = splitRow(lines[start]);
  const aligns = splitRow(lines[start + 1]).map((c) => (
    c.endsWith(':') ? (c.startsWith(':') ? 'center' : 'num') : ''));
  const body = [];
  let i = start + 2;
  while (i < lines.length && lines[i].trim() && lines[i].includes('|')) {
    body.push(splitRow(lines[i]));
    i++;
  }
  const cell = (tag, text, k, extra = {}) => h(tag, { class: aligns[k] || null, ...extra }, inline(text || ''));
  const table = h('table', {},
    h('thead', {}, h('tr', {}, head.map((c, k) => cell('th', c, k, { scope: 'col' })))),
    h('tbody', {}, body.map((row) => h('tr', {}, head.map((_, k) => cell('td', row[k], k))))));
  const tbl = scrollable(h('div', { class: 'table-wrap md-table' }, table), head.join(' · '), table);
  return [tbl, i];
}

/** Paragraph lines joined with spaces; a hard break where a line ends in two spaces or `\`. */
function inlineLines(lines) {
  const out = [];
  lines.forEach((raw, k) => {
    const hard = / {2,}$/.test(raw) || /\\$/.test(raw);
    const line = raw.replace(/\\$/, '').trim();
    out.push(...inline(line));
    if (k < lines.length - 1) out.push(hard ? h('br') : ' ');
  });
  return out;
}

const ESCAPABLE = '\\`*_{}[]()#+-.!|~>';

/** Inline Markdown to a list of nodes and strings. */
export function inline(text) {
  const out = [];
  let buf = '';
  const push = (node) => {
    if (buf) { out.push(buf); buf = ''; }
    out.push(node);
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length && ESCAPABLE.includes(text[i + 1])) {
      buf += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '`') {
      const run = /^`+/.exec(text.slice(i))[0];
      const end = text.indexOf(run, i + run.length);
      if (end > 0) {
        push(h('code', {}, text.slice(i + run.length, end).replace(/^ (.*) $/, '$1')));
        i = end + run.length;
        continue;
      }
      buf += run;
      i += run.length;
      continue;
    }
    if ((c === '*' || c === '_' || c === '~') && text[i + 1] === c) {
      const marker = c + c;
      const end = findClose(text, marker, i + 2);
      if (end > 0) {
        const tag = c === '~' ? 's' : 'strong';
        push(h(tag, {}, inline(text.slice(i + 2, end))));
        i = end + 2;
        continue;
      }
    } else if ((c === '*' || c === '_') && text[i + 1] && !/\s/.test(text[i + 1])
      && !(c === '_' && /\w/.test(text[i - 1] || ''))) {
      const end = findClose(text, c, i + 1);
      if (end > 0) {
        push(h('em', {}, inline(text.slice(i + 1, end))));
        i = end + 1;
        continue;
      }
    }
    if (c === '[') {
      const link = parseLink(text, i);
      if (link) {
        const children = inline(link.label);
        if (SAFE_LINK.test(link.url)) {
          push(h('a', { href: link.url, rel: 'noopener noreferrer nofollow', target: '_blank', class: 'md-link' }, children));
        } else {
          // Not a link we follow: the label, then the target as text.
          out.push(buf); buf = '';
          out.push(...children, ` (${link.url})`);
        }
        i = link.end;
        continue;
      }
    }
    buf += c;
    i++;
  }
  if (buf) out.push(buf);
  return out;
}

/** The index of the closing `marker` after `from` (not right after whitespace), or -1. */
function findClose(text, marker, from) {
  let k = from;
  while (k < text.length) {
    if (text[k] === '\\') { k += 2; continue; }
    if (text[k] === '`') {
      const run = /^`+/.exec(text.slice(k))[0];
      const end = text.indexOf(run, k + run.length);
      k = end > 0 ? end + run.length : k + run.length;
      continue;
    }
    if (text.startsWith(marker, k) && k > from && !/\s/.test(text[k - 1])) {
      // `***` closing `**…*…***`: the last two close the strong, the first one the inner em.
      if (marker.length === 2) {
        let run = 0;
        while (text[k + run] === marker[0]) run++;
        return k + run - 2;
      }
      // `**` must not be read as the close of a single `*`.
      if (marker.length === 1 && text[k + 1] === marker) { k += 2; continue; }
      if (marker === '_' && /\w/.test(text[k + 1] || '')) { k++; continue; }
      return k;
    }
    k++;
  }
  return -1;
}

/** [label](url) starting at text[i] === '['. */
function parseLink(text, i) {
  let depth = 0;
  let k = i;
  for (; k < text.length; k++) {
    if (text[k] === '\\') { k++; continue; }
    if (text[k] === '[') depth++;
    else if (text[k] === ']') { depth--; if (depth === 0) break; }
  }
  if (k >= text.length || text[k + 1] !== '(') return null;
  const close = text.indexOf(')', k + 2);
  if (close < 0) return null;
  const url = text.slice(k + 2, close).trim();
  if (!url || /\s/.test(url)) return null;
  return { label: text.slice(i + 1, k), url, end: close + 1 };
}
