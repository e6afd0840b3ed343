// The dashboard: headline figures, a client search and the client list, 20 at a time.
// Pages follow `pageInfo.endCursor`; the cursors of the pages seen are kept so Previous works.
// The view object lives as long as the app, so coming back from a client keeps the search and page.
import { h, replace, table, tableRow, focusHeading } from '../dom.js';
import { t } from '../i18n.js';
import { integer, money, moneyList } from '../format.js';
import { DASHBOARD, PAGE_SIZE } from '../queries.js';
import { bankNames, captureFocus, gradeBadge, moneyLines, preserveFocus, renderStatus, statusBadge } from './common.js';

const SEARCH_DELAY_MS = 350;

export class DashboardView {
  /** @param {import('../app.js').Context} ctx */
  constructor(ctx) {
    this.ctx = ctx;
    this.search = '';
    this.cursors = [null]; // `after` of each page seen; the last one is the current page
    this.data = null;
    this.loading = false;
    this.error = '';
    this.seq = 0; // answers to superseded requests are dropped
    this.timer = 0;
    this.el = h('section', { class: 'view dashboard', 'aria-labelledby': 'dashboard-title' });
  }

  title() {
    return t('dashboardTitle');
  }

  /** Shows the view and (re)loads the current page. */
  async show() {
    this.build();
    await this.load();
    focusHeading(this.el.querySelector('h1'));
  }

  /** Builds the fixed parts (they only change with the language). */
  build() {
    preserveFocus(() => {
      const input = h('input', {
        id: 'client-search', type: 'search', name: 'search', autocomplete: 'off',
        placeholder: t('searchPlaceholder'), value: this.search, enterkeyhint: 'search',
        on: { input: () => this.searchSoon(input.value) },
      });
      input.value = this.search;
      const form = h('form', {
        class: 'toolbar', role: 'search',
        on: { submit: (ev) => { ev.preventDefault(); this.setSearch(input.value, true); } },
      },
      h('label', { for: 'client-search', class: 'sr-only' }, t('searchLabel')),
      input,
      h('button', { type: 'submit', id: 'client-search-submit' }, t('searchSubmit')),
      h('button', {
        type: 'button', id: 'client-search-clear', class: 'secondary', hidden: !this.search,
        on: { click: () => { input.value = ''; this.setSearch('', true); input.focus(); } },
      }, t('searchClear')));

      this.parts = {
        stats: h('div', { class: 'stats' }),
        status: h('p', { class: 'status', 'aria-live': 'polite' }),
        list: h('div', { class: 'list', 'aria-busy': 'false' }),
        pager: h('nav', { class: 'pager', 'aria-label': t('pagination') }),
        clear: form.querySelector('#client-search-clear'),
      };
      replace(this.el,
        h('h1', { id: 'dashboard-title' }, t('dashboardTitle')),
        this.parts.stats,
        form,
        this.parts.status,
        this.parts.list,
        this.parts.pager);
      this.update();
    });
  }

  /** Re-renders everything (after a language switch). */
  render() {
    this.build();
  }

  searchSoon(value) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.setSearch(value, false), SEARCH_DELAY_MS);
  }

  setSearch(value, now) {
    clearTimeout(this.timer);
    const search = value.trim();
    if (search === this.search && !now) return;
    this.search = search;
    this.cursors = [null];
    this.load();
  }

  async load() {
    const seq = ++this.seq;
    const restoreFocus = captureFocus();
    this.loading = true;
    this.error = '';
    this.update();
    const filter = this.search ? { search: this.search } : null;
    try {
      const data = await this.ctx.request(DASHBOARD, { after: this.cursors[this.cursors.length - 1], filter });
      if (seq !== this.seq) return;
      this.data = data;
      this.loading = false;
    } catch (e) {
      if (seq !== this.seq || e.handled) return;
      this.loading = false;
      this.error = this.ctx.errorMessage(e);
    }
    this.update();
    restoreFocus(['clients-next', 'clients-prev', 'client-search']);
  }

  next() {
    if (this.loading) return;
    const info = this.data && this.data.clients.pageInfo;
    if (!info || !info.hasNextPage || !info.endCursor) return;
    this.cursors.push(info.endCursor);
    this.load();
  }

  previous() {
    if (this.loading || this.cursors.length < 2) return;
    this.cursors.pop();
    this.load();
  }

  first() {
    if (this.loading) return;
    this.cursors = [null];
    this.load();
  }

  /** Updates the data-driven parts from this.data / this.loading / this.error. */
  update() {
    if (!this.parts) return;
    const { stats, status, list, pager, clear } = this.parts;
    clear.hidden = !this.search;
    list.setAttribute('aria-busy', String(this.loading));
    renderStatus(status, {
      loading: this.loading, error: this.error, onRetry: () => this.load(), retryId: 'dashboard-retry',
    });
    if (!this.data) {
      replace(stats);
      replace(list);
      replace(pager);
      return;
    }
    this.renderStats(stats, this.data.stats);
    this.renderClients(list, this.data.clients);
    this.renderPager(pager, this.data.clients);
  }

  renderStats(el, s) {
    const tx = s.transactions;
    const cur = tx.currency || 'RUB';
    const card = (key, value, detail, cls) => h('div', { class: ['stat', cls] },
      h('span', { class: 'stat-label' }, t(key)),
      h('strong', { class: 'stat-value' }, value),
      detail ? h('span', { class: 'stat-detail' }, detail) : null);
    const balances = moneyList(s.balances);
    replace(el,
      card('statClients', integer(s.clients.total), t('statClientsDetail', integer(s.clients.active), integer(s.clients.inactive))),
      card('statTransactions', integer(tx.count)),
      card('statIncome', money(tx.income, cur), null, 'credit'),
      card('statExpense', money(tx.expense, cur), null, 'debit'),
      card('statNet', money(tx.balance, cur)),
      balances.length ? card('statBalances', balances[0], balances.slice(1).join(' · ') || null) : null,
      card('statBanks', integer(s.banks)));
  }

  renderClients(el, conn) {
    const columns = [
      { title: t('colName') },
      { title: t('colStatus') },
      { title: t('colGrade'), class: 'center' },
      { title: t('colScore'), class: 'num' },
      { title: t('colBalance'), class: 'num' },
      { title: t('colBanks') },
    ];
    const empty = this.search ? t('noClientsFound', this.search) : t('noClients');
    const tbl = table({ caption: t('clientsCaption'), columns, rows: [], empty: conn.edges.length ? null : empty, className: 'clients cards' });
    const body = tbl.querySelector('tbody');
    for (const { node } of conn.edges) {
      const href = `#/client/${encodeURIComponent(node.id)}`;
      const row = tableRow(columns, [
        { content: h('a', { href, class: 'client-link' }, node.displayName), class: 'name' },
        statusBadge(node.status),
        gradeBadge(node.rating),
        node.rating ? integer(node.rating.score) : t('none'),
        moneyLines(node.totalBalance),
        { content: bankNames(node.links), class: 'wrap-any' },
      ], { class: 'clickable' });
      // The whole row opens the client for the mouse; the link inside serves the keyboard.
      row.addEventListener('click', (ev) => {
        if (ev.target.closest('a, button') || String(window.getSelection()).length) return;
        this.ctx.navigate(href);
      });
      body.append(row);
    }
    replace(el, tbl);
  }

  renderPager(el, conn) {
    const page = this.cursors.length - 1;
    const from = conn.edges.length ? page * PAGE_SIZE + 1 : 0;
    const to = page * PAGE_SIZE + conn.edges.length;
    replace(el,
      h('span', { class: 'muted range' }, t('range', integer(from), integer(to), integer(conn.totalCount))),
      page > 1 ? h('button', { type: 'button', id: 'clients-first', class: 'secondary', on: { click: () => this.first() } }, t('firstPage')) : null,
      h('button', {
        type: 'button', id: 'clients-prev', class: 'secondary', disabled: page === 0,
        on: { click: () => this.previous() },
      }, t('prevPage')),
      h('button', {
        type: 'button', id: 'clients-next', class: 'secondary',
        disabled: !conn.pageInfo.hasNextPage,
        on: { click: () => this.next() },
      }, t('nextPage')));
  }
}
