// Needs review (#/review): the transactions of my book whose category the categoriser was
// unsure of (`transactionsToReview`), newest first. Per row: confirm the category, correct it
// (both a person's choice, `setTransactionCategory`, which takes the row off the list), or open
// the rules page with a rule for the row's merchant filled in.
import { h, replace, table, tableRow, focusHeading } from '../dom.js';
import { label, t } from '../i18n.js';
import { dateTime, integer, signedMoney } from '../format.js';
import { SET_CATEGORY, TRANSACTIONS_TO_REVIEW } from '../queries.js';
import { canChange, preserveFocus, renderStatus } from './common.js';
import { categoryChoices } from './transactions.js';

/**
 * The rule a row suggests: its merchant (field MERCHANT), or else the beginning of its
 * description before any digits or `*` (where acquirers put the brand; field DESCRIPTION).
 */
export function suggestedRule(x) {
  const merchant = (x.merchant || '').trim();
  if (merchant) return { pattern: merchant.slice(0, 200), field: 'MERCHANT' };
  const head = /^[^0-9*#№]*/u.exec(x.description || '')[0].replace(/[^\p{L}\p{N}]+$/u, '').trim();
  return { pattern: head.slice(0, 200), field: 'DESCRIPTION' };
}

export class ReviewView {
  /** @param {import('../app.js').Context} ctx */
  constructor(ctx) {
    this.ctx = ctx;
    this.rows = null; // the nodes listed so far
    this.total = 0;
    this.pageInfo = null;
    this.categories = [];
    this.loading = false;
    this.error = '';
    this.busy = null; // id of the row being saved
    this.rowError = { id: null, message: '' };
    this.el = h('section', { class: 'view review', 'aria-labelledby': 'review-title' });
  }

  title() {
    return t('reviewTitle');
  }

  async show() {
    this.build();
    const categories = this.ctx.categories().then((list) => { this.categories = list; }, () => { this.categories = []; });
    await Promise.all([this.load(), categories]);
    preserveFocus(() => this.update());
    focusHeading(this.el.querySelector('h1'));
  }

  render() {
    this.build();
  }

  canEdit() {
    return canChange(this.ctx);
  }

  build() {
    this.parts = {
      status: h('p', { class: 'status', 'aria-live': 'polite' }),
      list: h('div', { class: 'list' }),
      more: h('div', { class: 'pager' }),
    };
    replace(this.el,
      h('h1', { id: 'review-title' }, t('reviewTitle')),
      h('p', { class: 'muted' }, t('reviewIntro')),
      this.parts.status,
      this.parts.list,
      this.parts.more);
    this.update();
  }

  /** The first page again, or (`more`) the page after the rows listed. */
  async load(more = false) {
    this.loading = true;
    this.error = '';
    this.updateStatus();
    try {
      const after = more && this.pageInfo ? this.pageInfo.endCursor : null;
      const data = await this.ctx.request(TRANSACTIONS_TO_REVIEW, { after });
      const conn = data.transactionsToReview;
      const nodes = conn.edges.map((e) => e.node);
      this.rows = more && this.rows ? [...this.rows, ...nodes] : nodes;
      this.total = conn.totalCount;
      this.pageInfo = conn.pageInfo;
    } catch (e) {
      if (e.handled) return;
      this.error = this.ctx.errorMessage(e);
    }
    this.loading = false;
    preserveFocus(() => this.update());
  }

  updateStatus() {
    if (!this.parts) return;
    renderStatus(this.parts.status, { loading: this.loading, error: this.error, onRetry: () => this.load(), retryId: 'review-retry' });
  }

  columns() {
    return [
      { title: t('colDate') },
      { title: t('colClient') },
      { title: t('colDescription') },
      { title: t('colAmount'), class: 'num' },
      { title: t('colCategory') },
      { title: t('colActions') },
    ];
  }

  update() {
    if (!this.parts) return;
    this.updateStatus();
    if (!this.rows) { replace(this.parts.list); replace(this.parts.more); return; }
    const columns = this.columns();
    const tbl = table({ caption: t('reviewTitle'), columns, rows: [], empty: this.rows.length ? null : t('reviewNone'), className: 'review-table cards' });
    const body = tbl.querySelector('tbody');
    for (const x of this.rows) body.append(this.row(columns, x));
    replace(this.parts.list, tbl);
    replace(this.parts.more,
      h('span', { class: 'muted range', id: 'review-count' }, t('reviewCount', integer(this.rows.length), integer(this.total))),
      this.pageInfo && this.pageInfo.hasNextPage
        ? h('button', { type: 'button', id: 'review-more', class: 'secondary', disabled: this.loading, on: { click: () => this.load(true) } }, t('reviewMore'))
        : null);
  }

  row(columns, x) {
    const detail = x.merchant ? `${t('merchant')}: ${x.merchant}` : null;
    return tableRow(columns, [
      { content: dateTime(x.bookedAt), class: 'nowrap' },
      h('a', { href: `#/client/${encodeURIComponent(x.client.id)}?tab=transactions` }, x.client.displayName),
      { content: [h('span', { class: 'description' }, x.description), detail ? h('span', { class: 'sub' }, detail) : null], class: 'wrap-any' },
      { content: signedMoney(x.amount, x.currency, x.direction), class: x.direction === 'DEBIT' ? 'debit' : 'credit' },
      [
        h('span', { class: 'category-name' }, label('Category', x.category)),
        h('span', { class: 'sub confidence' }, t('reviewConfidence', integer(x.categoryConfidence))),
      ],
      this.canEdit() ? this.actions(x) : t('none'),
    ], { dataset: { txId: x.id } });
  }

  actions(x) {
    const busy = this.busy !== null;
    const select = h('select', { id: `review-cat-${x.id}`, name: 'category', disabled: busy },
      categoryChoices(this.categories, x.direction).map(([v, text]) => h('option', { value: v }, text)));
    select.value = x.category;
    const rule = suggestedRule(x);
    const ruleHref = `#/rules?${new URLSearchParams({ pattern: rule.pattern, field: rule.field, category: x.category })}`;
    return h('div', { class: 'review-actions' },
      h('button', {
        type: 'button', id: `review-confirm-${x.id}`, class: 'small', disabled: busy,
        'aria-label': t('reviewConfirmFor', label('Category', x.category), x.description),
        on: { click: () => this.choose(x, x.category) },
      }, t('reviewConfirm')),
      h('form', {
        class: 'inline review-correct',
        on: { submit: (ev) => { ev.preventDefault(); this.choose(x, select.value); } },
      },
      h('label', { for: `review-cat-${x.id}`, class: 'sr-only' }, t('newCategoryFor', x.description)),
      select,
      h('button', {
        type: 'submit', id: `review-correct-${x.id}`, class: 'secondary small', disabled: busy,
        'aria-label': t('reviewCorrectFor', x.description),
      }, t('reviewCorrect'))),
      rule.pattern
        ? h('a', {
          href: ruleHref, id: `review-rule-${x.id}`, class: 'small',
          'aria-label': t('reviewRuleFor', rule.pattern),
        }, t('reviewRule'))
        : null,
      this.rowError.id === x.id ? h('p', { class: 'error', role: 'alert' }, this.rowError.message) : null);
  }

  /** A person's choice of `category` for `x` (the same one: confirmed); the row leaves the list. */
  async choose(x, category) {
    if (this.busy !== null) return;
    this.busy = x.id;
    this.rowError = { id: null, message: '' };
    preserveFocus(() => this.update());
    try {
      await this.ctx.request(SET_CATEGORY, { id: x.id, category });
      const at = this.rows.indexOf(x);
      this.rows = this.rows.filter((r) => r !== x);
      this.total = Math.max(0, this.total - 1);
      this.busy = null;
      this.update();
      const next = this.rows[Math.min(at, this.rows.length - 1)];
      const focus = next && document.getElementById(`review-confirm-${next.id}`);
      if (focus) focus.focus();
      else focusHeading(this.el.querySelector('h1'));
      this.ctx.announce(category === x.category
        ? t('reviewConfirmed', x.description, label('Category', category))
        : t('categoryChanged', x.description, label('Category', category)));
      // The page ran out but more wait: the next rows.
      if (!this.rows.length && this.total > 0) this.load();
    } catch (e) {
      this.busy = null;
      if (e.handled) return;
      this.rowError = { id: x.id, message: this.ctx.errorMessage(e) };
      this.update();
      document.getElementById(`review-cat-${x.id}`)?.focus();
    }
  }
}
