// Building DOM without HTML strings. Text always goes in as text nodes, so whatever the API
// returns (bank descriptions are hostile input) can never become markup. There is deliberately
// no way to set innerHTML, inline styles (the CSP forbids them) or on* attributes here.

const BLOCKED = /^(on|style$|innerhtml$|outerhtml$|srcdoc$)/i;

/**
 * h('a', { href: '#/', class: 'link', on: { click: fn } }, 'text', child, [more])
 * Props: `class`, `for`, `on` (event listeners), `dataset`, booleans such as `hidden`/`disabled`
 * (false leaves them out), anything else as an attribute. Children: nodes, strings, numbers,
 * arrays of those; null/undefined/false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'on') {
      for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'class') {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    } else if (key === 'for') {
      el.htmlFor = value;
    } else if (BLOCKED.test(key)) {
      throw new Error(`h(): refusing to set ${key}`);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * An SVG element: svg('rect', { x: 0, y: 0, width: 10, height: 5, class: 'bar' }, children).
 * Attributes are set as they are (presentation attributes are fine under the CSP; `style` and
 * `on*` are refused as in h()); text children become text nodes.
 */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (BLOCKED.test(key) || /^href$|^xlink:href$/i.test(key)) throw new Error(`svg(): refusing to set ${key}`);
    el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

/** Appends children (see h) to `el`. */
export function append(el, children) {
  for (const child of [].concat(children).flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A table with a header row; `rows` are arrays of cells (a cell is text, a node, an array of those, or {content, class}). */
export function table({ caption, columns, rows, empty, className }) {
  const head = h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.title)));
  const body = h('tbody');
  if (!rows.length && empty) {
    body.append(h('tr', { class: 'empty' }, h('td', { colspan: columns.length }, empty)));
  }
  for (const row of rows) body.append(tableRow(columns, row));
  const tbl = h('table', { class: className },
    caption ? h('caption', { class: 'sr-only' }, caption) : null,
    h('thead', {}, head),
    body);
  return scrollable(h('div', { class: 'table-wrap' }, tbl), caption, tbl);
}

/**
 * Makes `wrap` reachable with the keyboard while its content is wider than it (so it can be
 * scrolled with the arrow keys): a focusable, labelled region then, a plain box otherwise.
 */
export function scrollable(wrap, name, content = wrap.firstElementChild) {
  if (typeof ResizeObserver !== 'function') return wrap;
  const check = () => {
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      wrap.setAttribute('tabindex', '0');
      wrap.setAttribute('role', 'region');
      if (name) wrap.setAttribute('aria-label', name);
    } else {
      wrap.removeAttribute('tabindex');
      wrap.removeAttribute('role');
      wrap.removeAttribute('aria-label');
    }
  };
  const observer = new ResizeObserver(check);
  observer.observe(wrap);
  if (content) observer.observe(content);
  return wrap;
}

/** One <tr> for `table`; each <td> carries its column title for the narrow (card) layout. */
export function tableRow(columns, row, props = {}) {
  const tr = h('tr', props);
  row.forEach((cell, i) => {
    const col = columns[i] || {};
    const isSpec = cell !== null && typeof cell === 'object' && !(cell instanceof Node) && !Array.isArray(cell);
    const content = isSpec ? cell.content : cell;
    const cls = [col.class, isSpec ? cell.class : null].filter(Boolean).join(' ');
    // One wrapper per cell, so the card layout can put the label beside the whole content.
    tr.append(h('td', { class: cls || null, 'data-label': col.title }, h('div', { class: 'cell' }, content)));
  });
  return tr;
}

/** Moves focus to `el` (made focusable) without scrolling past it, for view changes. */
export function focusHeading(el) {
  if (!el) return;
  if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
  el.focus({ preventScroll: false });
}
