// A client's transactions: filters (dates, category, direction, account, text), pages of 50
// (Previous/Next over cursors) and changing a transaction's category by hand.
import { h, replace, table, tableRow } from '../dom.js';
import { label, t } from '../i18n.js';
import { dateTime, dayStart, integer, signedMoney } from '../format.js';
import { CLIENT_TRANSACTIONS, SET_CATEGORY, TX_PAGE_SIZE } from '../queries.js';
import { captureFocus, preserveFocus, renderStatus } from './common.js';

/**
 * The categories a transaction of `direction` may take (all without one), as [code, label]
 * pairs sorted by label: for the category selects here and in the review list.
 */
export function categoryChoices(categories, direction) {
  return categories
    .filter((c) => !direction || c.direction === direction || c.bothDirections)
    .map((c) => [c.code, label('Category', c.code)])
    .sort((a, b) => a[1].localeCompare(b[1]));
}

const EMPTY_FILTER = { from: '', to: '', category: '', direction: '', accountId: '', search: '' };

export class TransactionsSection {
  /**
   * @param {import('../app.js').Context} ctx
   * @param {{clientId: string, onChanged?: () => void}} options  onChanged: a category changed
   */
  constructor(ctx, { clientId, onChanged }) {
    this.ctx = ctx;
    this.clientId = clientId;
    this.onChanged = onChanged;
    this.accounts = [];
    this.categories = [];
    this.filter = { ...EMPTY_FILTER };
    this.cursors = [null];
    this.conn = null;
    this.loading = false;
    this.error = '';
    this.editing = null; // id of the transaction whose category is being changed
    this.editError = '';
    this.saving = false;
    this.seq = 0;
    this.el = h('section', { class: 'transactions-section', 'aria-labelledby': 'transactions-title' });
  }

  setAccounts(accounts) {
    this.accounts = accounts || [];
  }

  async start() {
    this.render();
    // The taxonomy fills the category list and the "change" buttons when it arrives, without
    // touching what the user may already have typed or selected.
    const categories = this.ctx.categories().then((list) => {
      this.categories = list;
      this.fillCategoryFilter();
      preserveFocus(() => this.update());
    }, () => { this.categories = []; });
    await Promise.all([this.load(), categories]);
  }

  categoryOptions(direction) {
    return categoryChoices(this.categories, direction);
  }

  fillCategoryFilter() {
    const select = this.el.querySelector('#tx-category');
    if (!select) return;
    const value = select.value || this.filter.category;
    select.replaceChildren(h('option', { value: '' }, t('allCategories')),
      ...this.categoryOptions().map(([v, text]) => h('option', { value: v }, text)));
    select.value = value;
  }

  render() {
    const f = this.filter;
    const input = (id, key, attrs = {}) => {
      const el = h('input', { id, name: key, ...attrs });
      el.value = f[key];
      return el;
    };
    const select = (id, key, options, allLabel) => {
      const el = h('select', { id, name: key }, h('option', { value: '' }, allLabel),
        options.map(([value, text]) => h('option', { value }, text)));
      el.value = f[key];
      return el;
    };
    const fields = {
      from: input('tx-from', 'from', { type: 'date' }),
      to: input('tx-to', 'to', { type: 'date' }),
      category: select('tx-category', 'category', this.categoryOptions(), t('allCategories')),
      direction: select('tx-direction', 'direction', [['CREDIT', label('Direction', 'CREDIT')], ['DEBIT', label('Direction', 'DEBIT')]], t('allDirections')),
      accountId: select('tx-account', 'accountId', this.accounts.map((a) => [a.id, `${a.bank.name} · ${a.name}`]), t('allAccounts')),
      search: input('tx-search', 'search', { type: 'search', autocomplete: 'off', placeholder: t('txSearchPlaceholder') }),
    };
    const field = (id, key, el, cls) => h('div', { class: ['field', cls] }, h('label', { for: id }, t(key)), el);
    const form = h('form', {
      class: 'filters tx-filters', 'aria-label': t('txFiltersLabel'),
      on: {
        submit: (ev) => {
          ev.preventDefault();
          this.applyFilter(Object.fromEntries(Object.entries(fields).map(([k, el]) => [k, el.value.trim()])));
        },
      },
    },
    field('tx-from', 'txFrom', fields.from),
    field('tx-to', 'txTo', fields.to),
    field('tx-category', 'colCategory', fields.category),
    field('tx-direction', 'txDirection', fields.direction),
    field('tx-account', 'colAccount', fields.accountId),
    field('tx-search', 'txSearch', fields.search, 'grow'),
    h('div', { class: 'field end buttons' },
      h('button', { type: 'submit', id: 'tx-apply' }, t('txApply')),
      h('button', {
        type: 'button', id: 'tx-reset', class: 'secondary',
        hidden: Object.values(f).every((v) => !v),
        on: { click: () => this.applyFilter({ ...EMPTY_FILTER }, 'tx-from') },
      }, t('filtersReset'))));

    this.parts = {
      status: h('p', { class: 'status', 'aria-live': 'polite' }),
      list: h('div', { class: 'list', 'aria-busy': String(this.loading) }),
      pager: h('nav', { class: 'pager', 'aria-label': t('txPagination') }),
    };
    replace(this.el,
      h('h2', { id: 'transactions-title', tabindex: '-1' }, t('transactionsTitle')),
      form,
      this.parts.status,
      this.parts.list,
      this.parts.pager);
    this.update();
  }

  applyFilter(next, focusId) {
    if (next.from && next.to && next.from > next.to) {
      this.error = t('txBadRange');
      this.update();
      return;
    }
    this.filter = next;
    this.cursors = [null];
    this.conn = null; // the old rows do not answer the new question
    this.render();
    if (focusId) document.getElementById(focusId)?.focus();
    this.load();
  }

  apiFilter() {
    const f = this.filter;
    const out = {};
    if (f.from) out.from = dayStart(f.from);
    if (f.to) out.to = dayStart(f.to, 1); // the last day is included
    if (f.category) out.category = f.category;
    if (f.direction) out.direction = f.direction;
    if (f.accountId) out.accountId = f.accountId;
    if (f.search) out.search = f.search;
    return Object.keys(out).length ? out : null;
  }

  async load() {
    const seq = ++this.seq;
    const restoreFocus = captureFocus();
    this.loading = true;
    this.error = '';
    this.editing = null;
    this.update();
    try {
      const data = await this.ctx.request(CLIENT_TRANSACTIONS, {
        id: this.clientId, after: this.cursors[this.cursors.length - 1], filter: this.apiFilter(),
      });
      if (seq !== this.seq) return;
      this.conn = data.client.transactions;
      this.connPage = this.cursors.length - 1;
    } catch (e) {
      if (seq !== this.seq || e.handled) return;
      this.error = this.ctx.errorMessage(e);
    }
    this.loading = false;
    this.update();
    restoreFocus(['tx-next', 'tx-prev', 'transactions-title']);
  }

  next() {
    const info = this.conn && this.conn.pageInfo;
    if (this.loading || !info || !info.hasNextPage) return;
    this.cursors.push(info.endCursor);
    this.load();
  }

  previous() {
    if (this.loading || this.cursors.length < 2) return;
    this.cursors.pop();
    this.load();
  }

  update() {
    if (!this.parts) return;
    const { status, list, pager } = this.parts;
    list.setAttribute('aria-busy', String(this.loading));
    renderStatus(status, { loading: this.loading, error: this.error, onRetry: () => this.load(), retryId: 'tx-retry' });
    if (!this.conn) { replace(list); replace(pager); return; }
    replace(list, this.table());
    const page = this.connPage || 0;
    const n = this.conn.edges.length;
    const from = n ? page * TX_PAGE_SIZE + 1 : 0;
    replace(pager,
      h('span', { class: 'muted range', id: 'tx-range' }, t('range', integer(from), integer(page * TX_PAGE_SIZE + n), integer(this.conn.totalCount))),
      h('button', { type: 'button', id: 'tx-prev', class: 'secondary', disabled: page === 0, on: { click: () => this.previous() } }, t('prevPage')),
      h('button', { type: 'button', id: 'tx-next', class: 'secondary', disabled: !this.conn.pageInfo.hasNextPage, on: { click: () => this.next() } }, t('nextPage')));
  }

  columns() {
    return [
      { title: t('colDate') },
      { title: t('colDescription') },
      { title: t('colCategory') },
      { title: t('colAccount') },
      { title: t('colAmount'), class: 'num' },
    ];
  }

  table() {
    const columns = this.columns();
    const filtered = this.apiFilter();
    const tbl = table({
      caption: t('transactionsTitle'), columns, rows: [],
      empty: this.conn.edges.length ? null : (filtered ? t('noTransactionsFound') : t('noTransactions')),
      className: 'transactions cards',
    });
    const body = tbl.querySelector('tbody');
    for (const { node } of this.conn.edges) body.append(this.row(columns, node));
    return tbl;
  }

  row(columns, x) {
    const account = this.accounts.find((a) => a.id === (x.account && x.account.id));
    const detail = [
      x.merchant ? `${t('merchant')}: ${x.merchant}` : null,
      x.counterparty ? `${t('counterparty')}: ${x.counterparty}` : null,
      x.mcc ? `${t('mcc')} ${x.mcc}` : null,
      x.status === 'PENDING' ? t('pending') : null,
    ].filter(Boolean).join(' · ');
    return tableRow(columns, [
      { content: dateTime(x.bookedAt), class: 'nowrap' },
      { content: [h('span', { class: 'description' }, x.description), detail ? h('span', { class: 'sub' }, detail) : null], class: 'wrap-any' },
      { content: this.categoryCell(x), class: 'category-cell' },
      account
        ? { content: [h('span', {}, account.bank.name), h('span', { class: 'sub' }, account.name)], class: 'wrap-any' }
        : t('none'),
      { content: signedMoney(x.amount, x.currency, x.direction), class: x.direction === 'DEBIT' ? 'debit' : 'credit' },
    ], { dataset: { txId: x.id } });
  }

  categoryCell(x) {
    const canEdit = this.ctx.user() && this.ctx.user().role !== 'VIEWER';
    if (this.editing !== x.id) {
      return [
        h('span', { class: 'category-name' }, label('Category', x.category)),
        h('span', { class: 'sub' }, t('categorySourceHint', label('CategorySource', x.categorySource))),
        canEdit && this.categories.length
          ? h('button', {
            type: 'button', class: 'link small', id: `tx-edit-${x.id}`,
            'aria-label': t('changeCategoryFor', x.description),
            on: { click: () => this.edit(x.id) },
          }, t('changeCategory'))
          : null,
      ];
    }
    const options = this.categoryOptions(x.direction);
    const select = h('select', { id: `tx-cat-${x.id}`, name: 'category' }, options.map(([v, text]) => h('option', { value: v }, text)));
    select.value = x.category;
    const form = h('form', {
      class: 'category-form',
      on: {
        submit: (ev) => { ev.preventDefault(); this.save(x, select.value); },
        keydown: (ev) => { if (ev.key === 'Escape') { ev.preventDefault(); this.cancel(x.id); } },
      },
    },
    h('label', { for: `tx-cat-${x.id}`, class: 'sr-only' }, t('newCategoryFor', x.description)),
    select,
    h('div', { class: 'inline' },
      h('button', { type: 'submit', id: `tx-save-${x.id}`, disabled: this.saving }, t('save')),
      h('button', { type: 'button', class: 'secondary', disabled: this.saving, on: { click: () => this.cancel(x.id) } }, t('cancel'))),
    this.editError ? h('p', { class: 'error', role: 'alert' }, this.editError) : null);
    return form;
  }

  edit(id) {
    this.editing = id;
    this.editError = '';
    this.update();
    document.getElementById(`tx-cat-${id}`)?.focus();
  }

  cancel(id) {
    this.editing = null;
    this.editError = '';
    this.update();
    document.getElementById(`tx-edit-${id}`)?.focus();
  }

  async save(x, category) {
    if (category === x.category && x.categorySource === 'MANUAL') { this.cancel(x.id); return; }
    this.saving = true;
    this.editError = '';
    this.update();
    try {
      const data = await this.ctx.request(SET_CATEGORY, { id: x.id, category });
      Object.assign(x, data.setTransactionCategory);
      this.saving = false;
      this.editing = null;
      this.update();
      document.getElementById(`tx-edit-${x.id}`)?.focus();
      this.ctx.announce(t('categoryChanged', x.description, label('Category', category)));
      if (this.onChanged) this.onChanged();
    } catch (e) {
      this.saving = false;
      if (e.handled) return;
      this.editError = this.ctx.errorMessage(e);
      this.update();
      document.getElementById(`tx-cat-${x.id}`)?.focus();
    }
  }
}
