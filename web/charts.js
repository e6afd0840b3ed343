// Charts as SVG built with DOM calls (no markup strings), readable without colour: every bar
// carries its value as text, series differ by pattern (solid, hatched, dashed line with dots)
// as well as colour, and each chart has a <title>/<desc> and a table with the same numbers.
// Colours come from style.css classes; the SVG is redrawn at the width of its container.
import { h, svg, replace, table } from './dom.js';
import { t } from './i18n.js';
import { compactNumber, date, money, monthLabel } from './format.js';

let seq = 0;
const uid = (prefix) => `${prefix}-${++seq}`;

/**
 * A figure that draws `draw(width)` into itself now and whenever its width changes.
 * @param {(width: number) => SVGElement} draw
 */
function responsive(draw, minWidth = 280) {
  const box = h('div', { class: 'chart-box' });
  let last = 0;
  const redraw = (width) => {
    const w = Math.max(minWidth, Math.floor(width));
    if (!width || Math.abs(w - last) < 8) return;
    last = w;
    replace(box, draw(w));
  };
  if (typeof ResizeObserver === 'function') {
    new ResizeObserver((entries) => {
      for (const e of entries) redraw(e.contentRect.width);
    }).observe(box);
  }
  // A first drawing at a sensible width, so the chart is there before layout.
  replace(box, draw(640));
  last = 640;
  return box;
}

function frame(width, height, id, title, desc) {
  return svg('svg', {
    class: 'chart', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img',
    'aria-labelledby': `${id}-title ${id}-desc`, focusable: 'false',
  },
  svg('title', { id: `${id}-title` }, title),
  svg('desc', { id: `${id}-desc` }, desc));
}

function patterns(id) {
  return svg('defs', {},
    svg('pattern', { id: `${id}-hatch`, width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
      svg('rect', { width: 6, height: 6, class: 'pat-bg-expense' }),
      svg('line', { x1: 0, y1: 0, x2: 0, y2: 6, class: 'pat-line-expense', 'stroke-width': 3 })));
}

/**
 * Horizontal bars, largest first, with the label and the value as text.
 * @param {{title: string, desc: string, items: {label: string, value: number, display: string}[],
 *          columns: [string, string, string?], extra?: (item) => string}} spec
 *   columns: the table's headings (label, value, and optionally the `extra` column)
 */
export function barChart({ title, desc, items, columns, extra, className = '' }) {
  const id = uid('bars');
  const max = Math.max(0, ...items.map((d) => d.value));
  const draw = (width) => {
    const narrow = width < 520;
    const rowH = narrow ? 42 : 30;
    const labelW = narrow ? 0 : Math.min(200, Math.round(width * 0.3));
    const longest = Math.max(4, ...items.map((d) => String(d.display).length));
    const valueW = narrow ? 0 : Math.min(240, Math.round(longest * 7.4) + 12);
    const barX = labelW + 8;
    const barMax = Math.max(20, width - barX - valueW - 8);
    const height = Math.max(rowH, items.length * rowH) + 4;
    const root = frame(width, height, id, title, desc);
    items.forEach((d, k) => {
      const y = k * rowH + 2;
      const w = max > 0 ? Math.max(d.value > 0 ? 2 : 0, Math.round((d.value / max) * (narrow ? width - 8 : barMax))) : 0;
      const g = svg('g', { class: `bar-row ${d.cls || ''}` }, svg('title', {}, `${d.label}: ${d.display}`));
      if (narrow) {
        g.append(
          svg('text', { x: 0, y: y + 13, class: 'chart-label' }, d.label),
          svg('text', { x: width, y: y + 13, class: 'chart-value', 'text-anchor': 'end' }, d.display),
          svg('rect', { x: 0, y: y + 20, width: w, height: 14, rx: 2, class: 'bar' }));
      } else {
        g.append(
          svg('text', { x: labelW, y: y + rowH / 2 + 5, class: 'chart-label', 'text-anchor': 'end' }, d.label),
          svg('rect', { x: barX, y: y + 5, width: w, height: rowH - 10, rx: 2, class: 'bar' }),
          svg('text', { x: barX + w + 6, y: y + rowH / 2 + 5, class: 'chart-value' }, d.display));
      }
      root.append(g);
    });
    return root;
  };
  return h('figure', { class: ['chart-figure', className] },
    h('figcaption', { class: 'chart-caption' }, title),
    responsive(draw),
    dataTable(title, columns, items.map((d) => [d.label, { content: d.display, class: 'num' }, extra ? extra(d) : null]
      .filter((c) => c !== null))));
}

/**
 * Income and spending per month as paired columns (solid and hatched), the net as a dashed line
 * with dots, a zero line and a few grid lines.
 * @param {{title: string, desc: string, currency: string,
 *          months: {month: string, income: string, expense: string, net: string}[]}} spec
 */
export function cashflowChart({ title, desc, months, currency }) {
  const id = uid('flow');
  const num = (v) => Number(v) || 0;
  const values = months.flatMap((m) => [num(m.income), num(m.expense), num(m.net)]);
  const top = Math.max(0, ...values);
  const bottom = Math.min(0, ...values);
  const ticks = niceTicks(bottom, top, 4);
  const lo = ticks[0];
  const hi = ticks[ticks.length - 1] || 1;

  const draw = (width) => {
    const height = 260;
    const left = 64;
    const right = 8;
    const topPad = 10;
    const bottomPad = 28;
    const plotW = width - left - right;
    const plotH = height - topPad - bottomPad;
    const y = (v) => topPad + plotH - ((v - lo) / (hi - lo || 1)) * plotH;
    const n = Math.max(1, months.length);
    const groupW = plotW / n;
    const barW = Math.max(3, Math.min(22, (groupW * 0.78) / 2));
    const root = frame(width, height, id, title, desc);
    root.append(patterns(id));

    root.append(valueGrid(ticks, y, left, width - right));

    const every = groupW < 34 ? Math.ceil(34 / groupW) : 1;
    const points = [];
    months.forEach((m, k) => {
      const cx = left + groupW * k + groupW / 2;
      const inc = num(m.income);
      const exp = num(m.expense);
      const label = monthLabel(m.month);
      const g = svg('g', { class: 'month' },
        svg('title', {}, `${label}: ${t('chartIncome')} ${money(m.income, currency)}, ${t('chartExpense')} ${money(m.expense, currency)}, ${t('chartNet')} ${money(m.net, currency)}`),
        svg('rect', { x: cx - barW - 1, y: y(Math.max(inc, 0)), width: barW, height: Math.abs(y(inc) - y(0)), class: 'bar-income' }),
        svg('rect', { x: cx + 1, y: y(Math.max(exp, 0)), width: barW, height: Math.abs(y(exp) - y(0)), fill: `url(#${id}-hatch)`, class: 'bar-expense' }));
      if (k % every === 0) {
        g.append(svg('text', { x: cx, y: height - 10, 'text-anchor': 'middle', class: 'chart-tick' }, monthLabel(m.month, true)));
      }
      root.append(g);
      points.push([cx, y(num(m.net))]);
    });
    if (points.length) {
      root.append(svg('polyline', { points: points.map((p) => p.join(',')).join(' '), class: 'net-line', fill: 'none' }));
      for (const [px, py] of points) root.append(svg('circle', { cx: px, cy: py, r: 3.5, class: 'net-dot' }));
    }
    return root;
  };

  const legend = h('ul', { class: 'chart-legend' },
    h('li', {}, h('span', { class: 'swatch swatch-income', 'aria-hidden': 'true' }), t('chartIncomeLegend')),
    h('li', {}, h('span', { class: 'swatch swatch-expense', 'aria-hidden': 'true' }), t('chartExpenseLegend')),
    h('li', {}, h('span', { class: 'swatch swatch-net', 'aria-hidden': 'true' }), t('chartNetLegend')));

  return h('figure', { class: 'chart-figure' },
    h('figcaption', { class: 'chart-caption' }, title),
    legend,
    responsive(draw),
    dataTable(title, [t('chartMonth'), t('chartIncome'), t('chartExpense'), t('chartNet')],
      months.map((m) => [monthLabel(m.month),
        { content: money(m.income, currency), class: 'num' },
        { content: money(m.expense, currency), class: 'num' },
        { content: money(m.net, currency), class: 'num' }])));
}

/** Horizontal grid lines at `ticks` (the zero line stronger) from `x1` to `x2`, labelled left. */
function valueGrid(ticks, y, x1, x2) {
  const grid = svg('g', { class: 'chart-grid' });
  for (const v of ticks) {
    grid.append(
      svg('line', { x1, x2, y1: y(v), y2: y(v), class: v === 0 ? 'axis-zero' : 'grid-line' }),
      svg('text', { x: x1 - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'chart-tick' }, compactNumber(v)));
  }
  return grid;
}

/** The numbers of a chart as a table, behind a disclosure. */
function dataTable(caption, headings, rows) {
  const columns = headings.filter(Boolean).map((title, k) => ({ title, class: k ? 'num' : '' }));
  return h('details', { class: 'chart-table' },
    h('summary', {}, t('chartAsTable')),
    table({ caption, columns, rows, empty: t('chartNoData'), className: 'compact' }));
}

/** About `count` round steps covering [lo, hi], including 0. */
export function niceTicks(lo, hi, count) {
  if (hi === lo) return hi === 0 ? [0, 1] : [Math.min(0, lo), Math.max(0, hi)];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const start = Math.floor(lo / step) * step;
  const out = [];
  for (let v = start; v < hi + step * 0.999; v += step) out.push(Math.round(v / step) * step);
  return out;
}

/**
 * A balance over days as a solid line with a zero line, a few grid lines and dated ticks; the
 * lowest point is marked with a dot and its value.
 * @param {{title: string, desc: string, currency: string,
 *          points: {date: string, balance: {amount: string}}[]}} spec
 */
export function balanceChart({ title, desc, points, currency }) {
  const id = uid('balance');
  const values = points.map((p) => Number(p.balance.amount) || 0);
  const min = Math.min(...values);
  const max = Math.max(0, ...values);
  // From zero, unless the balance stays far above it (then its movement would be a flat line).
  const ticks = niceTicks(min > max / 2 ? min : Math.min(0, min), max, 4);
  const lo = ticks[0];
  const hi = ticks[ticks.length - 1] || 1;
  const low = values.reduce((k, v, i) => (v < values[k] ? i : k), 0);

  const draw = (width) => {
    const height = 220;
    const left = 64;
    const right = 12;
    const topPad = 14;
    const bottomPad = 28;
    const plotW = width - left - right;
    const plotH = height - topPad - bottomPad;
    const x = (i) => left + (points.length > 1 ? (i / (points.length - 1)) * plotW : plotW / 2);
    const y = (v) => topPad + plotH - ((v - lo) / (hi - lo || 1)) * plotH;
    const root = frame(width, height, id, title, desc);
    root.append(valueGrid(ticks, y, left, width - right));
    const every = Math.max(1, Math.ceil(points.length / Math.max(2, Math.floor(plotW / 70))));
    points.forEach((p, i) => {
      if (i % every === 0) {
        const anchor = x(i) > width - right - 36 ? 'end' : 'middle';
        root.append(svg('text', { x: x(i), y: height - 10, 'text-anchor': anchor, class: 'chart-tick' }, date(p.date)));
      }
    });
    if (points.length) {
      root.append(svg('polyline', {
        points: values.map((v, i) => `${x(i)},${y(v)}`).join(' '), class: 'balance-line', fill: 'none',
      }));
      const lp = points[low];
      root.append(svg('g', { class: 'balance-low' },
        svg('title', {}, `${t('chartLowest')}: ${date(lp.date)}, ${money(lp.balance.amount, currency)}`),
        svg('circle', { cx: x(low), cy: y(values[low]), r: 4, class: 'net-dot' }),
        svg('text', {
          x: Math.min(Math.max(x(low), left + 40), width - right - 40), y: Math.max(y(values[low]) - 8, topPad + 2),
          'text-anchor': 'middle', class: 'chart-value',
        }, money(lp.balance.amount, currency))));
    }
    return root;
  };
  return h('figure', { class: 'chart-figure' },
    h('figcaption', { class: 'chart-caption' }, title),
    responsive(draw),
    dataTable(title, [t('chartDate'), t('chartBalance')],
      points.map((p) => [date(p.date), { content: money(p.balance.amount, currency), class: 'num' }])));
}
