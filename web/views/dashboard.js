// The dashboard: headline figures, the grade distribution, "sync now" with live progress, and
// the client list with search, filters (grade, bank, status), sorting and pages of 20.
//
// Search and filters live in the route (#/clients?q=…&grade=A&bank=abank&status=ACTIVE&sort=score), so
// a reload, the Back button or signing in again after the session ended shows the same list.
// Pages follow `pageInfo.endCursor`; the cursors seen are kept so Previous works. The server
// orders by name, score or balance (`orderBy`; a cursor belongs to its order, so changing the
// order starts at the first page); "last sync" sorts the page shown. The portfolio view (grades
// with their average score, the banks with their health and totals, spending by category)
// comes from `portfolio`.
import { h, replace, table, tableRow, focusHeading } from '../dom.js';
import { label, t } from '../i18n.js';
import { date, dateTime, integer, money, moneyList, percent } from '../format.js';
import { barChart } from '../charts.js';
import { FEATURES } from '../features.js';
import { BANKS, BOOK_WALLET, DASHBOARD, PAGE_SIZE, PORTFOLIO } from '../queries.js';
import { bankNames, captureFocus, gradeBadge, moneyLines, preserveFocus, renderStatus, statusBadge } from './common.js';
import { SyncControl } from './sync.js';
import { NewClientForm } from './new-client.js';

const SEARCH_DELAY_MS = 350;
const GRADES = ['A', 'B', 'C'];
const STATUSES = ['ACTIVE', 'INACTIVE'];
export const SORTS = ['name', 'score', 'balance', 'synced'];
/** The server's order for each sort; the others sort the page shown. */
const ORDER_BY = { name: 'NAME', score: 'SCORE_DESC', balance: 'BALANCE_DESC' };
const PORTFOLIO_DAYS = 30;

/** The dashboard's state from the route's query string. */
export function parseDashboardQuery(query) {
  const p = new URLSearchParams(query || '');
  const pick = (v, allowed) => (allowed.includes(v) ? v : '');
  return {
    search: (p.get('q') || '').trim(),
    grade: pick(p.get('grade'), GRADES),
    bank: (p.get('bank') || '').trim().toLowerCase(),
    status: pick(p.get('status'), STATUSES),
    sort: pick(p.get('sort'), SORTS) || 'name',
  };
}

export function dashboardHash(state) {
  const p = new URLSearchParams();
  if (state.search) p.set('q', state.search);
  if (state.grade) p.set('grade', state.grade);
  if (state.bank) p.set('bank', state.bank);
  if (state.status) p.set('status', state.status);
  if (state.sort && state.sort !== 'name') p.set('sort', state.sort);
  const q = p.toString();
  return q ? `#/clients?${q}` : '#/clients';
}

/** The latest `lastSyncedAt` of a client's links, or null. */
function lastSynced(links) {
  let best = null;
  for (const l of links || []) if (l.lastSyncedAt && (!best || l.lastSyncedAt > best)) best = l.lastSyncedAt;
  return best;
}

function orderBy(sort) {
  return ORDER_BY[sort] || 'NAME';
}

function healthClass(health) {
  switch (health) {
    case 'OK': return 'ok';
    case 'DEGRADED': return 'warn';
    case 'UNAVAILABLE': return 'bad';
    default: return 'off';
  }
}

export class DashboardView {
  /** @param {import('../app.js').Context} ctx */
  constructor(ctx) {
    this.ctx = ctx;
    this.state = parseDashboardQuery('');
    this.cursors = [null]; // `after` of each page seen; the last one is the current page
    this.data = null;
    this.portfolio = null;
    this.portfolioError = '';
    this.wallet = null;
    this.walletError = '';
    this.banks = [];
    this.loading = false;
    this.error = '';
    this.seq = 0; // answers to superseded requests are dropped
    this.timer = 0;
    this.names = new Map(); // client id → name, for the sync log
    this.sync = new SyncControl(ctx, {
      id: 'sync-all',
      clientName: (id) => this.names.get(String(id)) || t('clientNumber', id),
      onFinished: () => { this.loadPortfolio(); this.loadWallet(); this.load(); },
    });
    this.newClient = new NewClientForm(ctx);
    this.el = h('section', { class: 'view dashboard', 'aria-labelledby': 'dashboard-title' });
  }

  title() {
    return t('dashboardTitle');
  }

  /** The route's query changed (or the view is shown again). */
  setQuery(query) {
    const next = parseDashboardQuery(query);
    const same = ['search', 'grade', 'bank', 'status', 'sort'].every((k) => next[k] === this.state[k]);
    if (!same) this.cursors = [null];
    this.state = next;
  }

  async show() {
    this.build();
    const loads = [this.load(), this.loadPortfolio(), this.loadWallet()];
    if (!this.banks.length) loads.push(this.loadBanks());
    await Promise.all(loads);
    // Not when the focus went into the page meanwhile (e.g. "New client" opened before the
    // figures came): that would take it from under the user's hands.
    if (!this.el.contains(document.activeElement)) focusHeading(this.el.querySelector('h1'));
  }

  render() {
    this.build();
  }

  build() {
    preserveFocus(() => {
      const s = this.state;
      const input = h('input', {
        id: 'client-search', type: 'search', name: 'q', autocomplete: 'off',
        placeholder: t('searchPlaceholder'), enterkeyhint: 'search',
        on: { input: () => this.searchSoon(input.value) },
      });
      input.value = s.search;
      const select = (id, key, options, allLabel) => {
        const el = h('select', { id, name: key, on: { change: () => this.setFilter(key, el.value) } },
          h('option', { value: '' }, allLabel),
          options.map(([value, text]) => h('option', { value }, text)));
        el.value = s[key] || '';
        return el;
      };
      const bankOptions = this.banks.map((b) => [b.code, b.name]);
      if (s.bank && !this.banks.some((b) => b.code === s.bank)) bankOptions.push([s.bank, s.bank]);
      const sort = h('select', { id: 'client-sort', name: 'sort', on: { change: () => this.setFilter('sort', sort.value) } },
        SORTS.map((k) => h('option', { value: k }, t(`sort_${k}`))));
      sort.value = s.sort;

      const form = h('form', {
        class: 'filters', role: 'search', 'aria-label': t('filtersLabel'),
        on: { submit: (ev) => { ev.preventDefault(); this.setFilter('search', input.value); } },
      },
      h('div', { class: 'field grow' },
        h('label', { for: 'client-search' }, t('searchLabel')),
        h('div', { class: 'inline' }, input,
          h('button', { type: 'submit', id: 'client-search-submit' }, t('searchSubmit')))),
      h('div', { class: 'field' }, h('label', { for: 'filter-grade' }, t('filterGrade')),
        select('filter-grade', 'grade', GRADES.map((g) => [g, t('gradeOption', g)]), t('allGrades'))),
      h('div', { class: 'field' }, h('label', { for: 'filter-bank' }, t('filterBank')),
        select('filter-bank', 'bank', bankOptions, t('allBanks'))),
      h('div', { class: 'field' }, h('label', { for: 'filter-status' }, t('filterStatus')),
        select('filter-status', 'status', STATUSES.map((v) => [v, label('ClientStatus', v)]), t('allStatuses'))),
      h('div', { class: 'field' }, h('label', { for: 'client-sort' }, t('sortLabel')), sort),
      h('div', { class: 'field end' },
        h('button', {
          type: 'button', id: 'filters-reset', class: 'secondary',
          hidden: !(s.search || s.grade || s.bank || s.status || s.sort !== 'name'),
          on: { click: () => this.resetFilters() },
        }, t('filtersReset'))));

      this.parts = {
        stats: h('div', { class: 'stats', role: 'list', 'aria-label': t('statsLabel') }),
        grades: h('section', { class: 'card grades', 'aria-labelledby': 'grades-title' }),
        banks: h('section', { class: 'bank-status', id: 'bank-status', 'aria-labelledby': 'banks-title' }),
        categories: h('section', { class: 'card portfolio-categories', id: 'portfolio-categories', 'aria-labelledby': 'portfolio-categories-title' }),
        wallet: h('section', { class: 'card book-wallet', id: 'book-wallet', 'aria-labelledby': 'book-wallet-title' }),
        status: h('p', { class: 'status', 'aria-live': 'polite' }),
        list: h('div', { class: 'list', 'aria-busy': 'false' }),
        pager: h('nav', { class: 'pager', 'aria-label': t('pagination') }),
      };
      const canSync = this.ctx.user() && this.ctx.user().role === 'ADMIN';
      this.sync.render();
      replace(this.el,
        h('div', { class: 'view-head' },
          h('h1', { id: 'dashboard-title' }, t('dashboardTitle')),
          h('div', { class: 'view-actions' },
            this.newClient.toggle(),
            FEATURES.exports
              ? h('a', { class: 'button secondary', href: '/export/portfolio.xlsx', download: '', id: 'export-portfolio' }, t('exportPortfolio'))
              : null)),
        this.newClient.render(),
        this.parts.stats,
        h('div', { class: 'dash-grid' },
          this.parts.grades,
          h('section', { class: 'card sync-card', 'aria-labelledby': 'sync-title' },
            h('h2', { id: 'sync-title' }, t('syncTitle')),
            canSync ? this.sync.el : h('p', { class: 'muted' }, t('syncViewerNote')))),
        this.parts.banks,
        this.parts.categories,
        this.parts.wallet,
        h('h2', { id: 'clients-title' }, t('clientsCaption')),
        form,
        this.parts.status,
        this.parts.list,
        this.parts.pager);
      this.update();
      this.renderPortfolio();
      this.renderWallet();
    });
  }

  searchSoon(value) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.setFilter('search', value), SEARCH_DELAY_MS);
  }

  setFilter(key, value) {
    clearTimeout(this.timer);
    const v = key === 'search' ? String(value).trim() : value;
    if (this.state[key] === v) return;
    const before = this.state;
    this.state = { ...this.state, [key]: v };
    this.syncRoute();
    // Sorting the page shown needs no request; any other change starts at the first page.
    if (key === 'sort' && orderBy(before.sort) === orderBy(v)) { this.update(); return; }
    this.cursors = [null];
    this.load();
  }

  resetFilters() {
    this.state = parseDashboardQuery('');
    this.cursors = [null];
    this.syncRoute();
    this.build();
    this.load();
    const search = document.getElementById('client-search');
    if (search) search.focus();
  }

  /** Puts the filters in the address without a new history entry or a reload. */
  syncRoute() {
    const hash = dashboardHash(this.state);
    if (location.hash !== hash && !(hash === '#/' && !location.hash)) history.replaceState(null, '', hash);
    const reset = document.getElementById('filters-reset');
    const s = this.state;
    if (reset) reset.hidden = !(s.search || s.grade || s.bank || s.status || s.sort !== 'name');
  }

  filter() {
    const s = this.state;
    const f = {};
    if (s.search) f.search = s.search;
    if (s.grade) f.rating = s.grade;
    if (s.bank) f.bank = s.bank;
    if (s.status) f.status = s.status;
    return Object.keys(f).length ? f : null;
  }

  async load() {
    const seq = ++this.seq;
    const restoreFocus = captureFocus();
    this.loading = true;
    this.error = '';
    this.update();
    try {
      const data = await this.ctx.request(DASHBOARD, {
        after: this.cursors[this.cursors.length - 1], filter: this.filter(), orderBy: orderBy(this.state.sort),
      });
      if (seq !== this.seq) return;
      this.data = data;
      this.dataPage = this.cursors.length - 1; // the page these rows are
      for (const { node } of data.clients.edges) this.names.set(String(node.id), node.displayName);
      this.loading = false;
    } catch (e) {
      if (seq !== this.seq || e.handled) return;
      this.loading = false;
      this.error = this.ctx.errorMessage(e);
    }
    this.update();
    restoreFocus(['clients-next', 'clients-prev', 'client-search']);
  }

  async loadPortfolio() {
    const to = new Date();
    const from = new Date(to.getTime() - PORTFOLIO_DAYS * 86400000);
    try {
      const data = await this.ctx.request(PORTFOLIO, { from: from.toISOString(), to: to.toISOString() });
      this.portfolio = data.portfolio;
      this.portfolioError = '';
    } catch (e) {
      if (e.handled) return;
      this.portfolioError = this.ctx.errorMessage(e);
    }
    this.renderPortfolio();
  }

  async loadWallet() {
    try {
      const data = await this.ctx.request(BOOK_WALLET);
      this.wallet = data.bookWallet;
      this.walletError = '';
    } catch (e) {
      if (e.handled) return;
      this.walletError = this.ctx.errorMessage(e);
    }
    this.renderWallet();
  }

  /** The book's share of wallet and its products held elsewhere. */
  renderWallet() {
    if (!this.parts) return;
    const el = this.parts.wallet;
    const head = h('h2', { id: 'book-wallet-title' }, t('bookWalletTitle'));
    if (!this.wallet) {
      replace(el, head, h('p', { class: this.walletError ? 'error' : 'muted' }, this.walletError || t('loading')));
      return;
    }
    const w = this.wallet;
    const s = w.share;
    if (!s) {
      replace(el, head, h('p', { class: 'muted' }, t('walletNoHome')));
      return;
    }
    const pct = (d) => (d.percent === null || d.percent === undefined ? t('none') : percent(Number(d.percent) / 100));
    const stat = (key, d) => h('div', { class: 'stat', role: 'listitem', dataset: { dimension: key } },
      h('span', { class: 'stat-label' }, t(key)),
      h('strong', { class: 'stat-value' }, pct(d)),
      h('span', { class: 'stat-detail' }, t('walletHomeOfTotal', money(d.home.amount, d.home.currency), money(d.total.amount, d.total.currency))));
    const columns = [
      { title: t('colProduct') },
      { title: t('bookWalletColCount'), class: 'num' },
      { title: t('bookWalletColClients'), class: 'num' },
      { title: t('colAmount'), class: 'num' },
      { title: t('colMonthlyPayment'), class: 'num' },
    ];
    const rows = w.heldAway.map((k) => [
      label('HeldAwayKind', k.kind),
      integer(k.count),
      integer(k.clients),
      [k.withAmount ? money(k.amount.amount, k.amount.currency) : t('none'),
        k.withAmount < k.count ? h('span', { class: 'sub' }, t('bookWalletWithAmount', integer(k.withAmount), integer(k.count))) : null],
      Number(k.monthlyPayments.amount) ? money(k.monthlyPayments.amount, k.monthlyPayments.currency) : t('none'),
    ]);
    replace(el, head,
      h('p', { class: 'small muted' }, t('walletPeriod', s.homeBankName, date(s.from), date(s.to), s.currency)),
      h('div', { class: 'stats', role: 'list', 'aria-label': t('bookWalletTitle') },
        stat('walletBalances', s.balances), stat('walletIncome', s.income), stat('walletSpending', s.spending)),
      table({
        caption: t('bookWalletHeldAway', integer(w.clientsWithHeldAway), integer(w.clients), s.homeBankName),
        columns, rows, empty: t('heldAwayNone'), className: 'book-held-away cards',
      }));
  }

  async loadBanks() {
    try {
      const data = await this.ctx.request(BANKS);
      this.banks = data.banks;
    } catch (e) {
      this.banks = [];
    }
    this.fillBankFilter();
  }

  /** Puts the banks into the bank filter without rebuilding the view (typing goes on). */
  fillBankFilter() {
    const select = this.el.querySelector('#filter-bank');
    if (!select) return;
    const value = select.value || this.state.bank;
    const options = this.banks.map((b) => [b.code, b.name]);
    if (value && !this.banks.some((b) => b.code === value)) options.push([value, value]);
    select.replaceChildren(h('option', { value: '' }, t('allBanks')), ...options.map(([v, text]) => h('option', { value: v }, text)));
    select.value = value;
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

  update() {
    if (!this.parts) return;
    const { stats, status, list, pager } = this.parts;
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
    const card = (key, value, detail, cls) => h('div', { class: ['stat', cls], role: 'listitem' },
      h('span', { class: 'stat-label' }, t(key)),
      h('strong', { class: 'stat-value' }, value),
      detail ? h('span', { class: 'stat-detail' }, detail) : null);
    const balances = moneyList(s.balances);
    const debts = moneyList(s.debts);
    replace(el,
      card('statClients', integer(s.clients.total), t('statClientsDetail', integer(s.clients.active), integer(s.clients.inactive))),
      card('statTransactions', integer(tx.count)),
      card('statBalances', balances[0] || money('0', cur), balances.slice(1).join(' · ') || null),
      card('statDebts', debts[0] || money('0', cur), debts.slice(1).join(' · ') || null, 'debit'),
      card('statIncome', money(tx.income, cur), null, 'credit'),
      card('statExpense', money(tx.expense, cur), null, 'debit'),
      card('statNet', money(tx.balance, cur)),
      card('statBanks', integer(s.banks)));
  }

  renderPortfolio() {
    if (!this.parts) return;
    this.renderGrades();
    this.renderBanks();
    this.renderCategories();
  }

  /** A heading and "Loading…" or the error while the portfolio is not in yet; null after. */
  portfolioPending(el, head) {
    if (this.portfolio) return false;
    replace(el, head, h('p', { class: this.portfolioError ? 'error' : 'muted' }, this.portfolioError || t('loading')));
    return true;
  }

  renderGrades() {
    const el = this.parts.grades;
    const head = h('h2', { id: 'grades-title' }, t('gradesTitle'));
    if (this.portfolioPending(el, head)) return;
    const rows = this.portfolio.grades;
    const total = rows.reduce((n, g) => n + g.count, 0);
    const share = (n) => (total ? Math.round((n / total) * 100) : 0);
    const items = rows.map((g) => ({
      label: g.grade ? t('gradeOption', g.grade) : t('gradeUnrated'),
      value: g.count,
      display: t('gradeCount', integer(g.count), share(g.count)),
      average: g.grade && g.count ? integer(g.averageScore) : t('none'),
      cls: g.grade ? `grade-${g.grade.toLowerCase()}` : 'grade-none',
    }));
    replace(el, head,
      barChart({
        title: t('gradesChartTitle'),
        desc: t('gradesChartDesc', ...items.map((i) => `${i.label}: ${i.display}`)),
        items,
        columns: [t('colGrade'), t('gradesColClients'), t('gradesColAverage')],
        extra: (d) => ({ content: d.average, class: 'num' }),
        className: 'grades-chart',
      }),
      h('p', { class: 'grade-links' }, t('gradesShow'), ' ',
        GRADES.map((k, i) => [i ? ' · ' : null, h('a', { href: dashboardHash({ ...this.state, grade: k }), class: 'grade-link' }, t('gradeOption', k))])));
  }

  renderBanks() {
    const el = this.parts.banks;
    const head = h('h2', { id: 'banks-title' }, t('banksTitle'));
    if (this.portfolioPending(el, head)) return;
    const columns = [
      { title: t('colBank') },
      { title: t('colHealth') },
      { title: t('colConsents') },
      { title: t('colFailing'), class: 'num' },
      { title: t('colLastSync') },
      { title: t('colAccounts'), class: 'num' },
      { title: t('colBalance'), class: 'num' },
      { title: t('colDebts'), class: 'num' },
      { title: t('colTransactions'), class: 'num' },
    ];
    const rows = this.portfolio.banks.map((b) => {
      const st = b.bank.status;
      return [
        { content: [h('span', { class: 'bank-name' }, b.bank.name), h('span', { class: 'sub' }, t('bankClients', integer(b.clients)))], class: 'nowrap' },
        [h('span', { class: ['badge', healthClass(st.health)], dataset: { health: st.health } }, label('BankHealth', st.health)),
          st.circuitOpenSecs ? h('span', { class: 'sub circuit' }, t('bankCircuitOpen', st.circuitOpenSecs)) : null],
        [t('bankConsents', integer(st.authorizedConsents), integer(st.awaitingConsents)),
          st.unansweredConsents || st.revokedConsents || st.rejectedConsents || st.expiredConsents
            ? h('span', { class: 'sub consents-lost' }, t('bankConsentsLost', integer(st.unansweredConsents || 0),
              integer((st.revokedConsents || 0) + (st.rejectedConsents || 0) + (st.expiredConsents || 0))))
            : null],
        { content: integer(st.failingLinks), class: st.failingLinks ? 'debit failing' : 'failing' },
        { content: st.lastSyncedAt ? dateTime(st.lastSyncedAt) : t('never'), class: 'nowrap' },
        integer(b.accounts),
        moneyLines(b.balance),
        { content: moneyLines(b.debts), class: (b.debts || []).some((m) => Number(m.amount) !== 0) ? 'debit' : null },
        integer(b.transactions),
      ];
    });
    const tbl = table({ caption: t('banksTitle'), columns, rows, empty: t('noBanksConfigured'), className: 'banks cards' });
    // Each row says which bank it is, for the tests and for styling.
    tbl.querySelectorAll('tbody tr').forEach((tr, k) => {
      const b = this.portfolio.banks[k];
      if (b) tr.dataset.bank = b.bank.code;
    });
    replace(el, head, tbl);
  }

  renderCategories() {
    const el = this.parts.categories;
    const head = h('h2', { id: 'portfolio-categories-title' }, t('portfolioCategoriesTitle', PORTFOLIO_DAYS));
    if (this.portfolioPending(el, head)) return;
    const list = this.portfolio.categories.slice(0, 8);
    const items = list.map((c) => ({
      label: label('Category', c.category),
      value: Number(c.amount) || 0,
      display: `${money(c.amount, c.currency)} · ${percent(c.share)}`,
      count: c.count,
    }));
    replace(el, head, items.length
      ? barChart({
        title: t('portfolioCategoriesTitle', PORTFOLIO_DAYS),
        desc: t('spendingDesc', items.slice(0, 5).map((i) => `${i.label} ${i.display}`).join('; ')),
        items,
        columns: [t('colCategory'), t('colAmount'), t('colCount')],
        extra: (d) => ({ content: integer(d.count), class: 'num' }),
        className: 'portfolio-spending',
      })
      : h('p', { class: 'muted' }, t('chartNoData')));
  }

  sortedEdges(edges) {
    const s = this.state.sort;
    if (ORDER_BY[s]) return edges; // the server's order
    const key = { synced: (n) => lastSynced(n.links) || '' }[s];
    return [...edges].sort((x, y) => {
      const a = key(x.node);
      const b = key(y.node);
      return a < b ? 1 : a > b ? -1 : 0;
    });
  }

  renderClients(el, conn) {
    const columns = [
      { title: t('colName') },
      { title: t('colGrade'), class: 'center' },
      { title: t('colScore'), class: 'num' },
      { title: t('colBalance'), class: 'num' },
      { title: t('colBanks') },
      { title: t('colLastSync') },
      { title: t('colStatus') },
    ];
    const filtered = this.filter();
    const empty = filtered ? t('noClientsFound') : t('noClients');
    const tbl = table({ caption: t('clientsCaption'), columns, rows: [], empty: conn.edges.length ? null : empty, className: 'clients cards' });
    const body = tbl.querySelector('tbody');
    for (const { node } of this.sortedEdges(conn.edges)) {
      const href = `#/client/${encodeURIComponent(node.id)}`;
      const synced = lastSynced(node.links);
      const row = tableRow(columns, [
        { content: h('a', { href, class: 'client-link' }, node.displayName), class: 'name' },
        { content: gradeBadge(node.rating), class: 'center' },
        node.rating ? integer(node.rating.score) : t('none'),
        moneyLines(node.totalBalance),
        { content: bankNames(node.links), class: 'wrap-any' },
        { content: synced ? dateTime(synced) : t('never'), class: 'nowrap' },
        statusBadge(node.status),
      ], { class: 'clickable', dataset: { clientId: node.id } });
      // The whole row opens the client for the mouse; the link inside serves the keyboard.
      row.addEventListener('click', (ev) => {
        if (ev.target.closest('a, button') || String(window.getSelection()).length) return;
        this.ctx.navigate(href);
      });
      body.append(row);
    }
    const sortNote = !ORDER_BY[this.state.sort] && conn.edges.length
      ? h('p', { class: 'muted small' }, t('sortPageNote')) : null;
    replace(el, sortNote, tbl);
  }

  renderPager(el, conn) {
    const page = this.dataPage || 0;
    const from = conn.edges.length ? page * PAGE_SIZE + 1 : 0;
    const to = page * PAGE_SIZE + conn.edges.length;
    replace(el,
      h('span', { class: 'muted range', id: 'clients-range' }, t('range', integer(from), integer(to), integer(conn.totalCount))),
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

  destroy() {
    clearTimeout(this.timer);
  }
}
