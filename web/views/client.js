// One client: profile, bank links, total balance, rating with its factors, accounts, and the
// transactions newest first, 50 at a time ("Show more" follows pageInfo.endCursor).
import { h, replace, table, focusHeading } from '../dom.js';
import { label, t } from '../i18n.js';
import { dateTime, integer, money, signedMoney, signedNumber } from '../format.js';
import { CLIENT_PAGE } from '../queries.js';
import { captureFocus, gradeBadge, moneyLines, preserveFocus, renderStatus, statusBadge } from './common.js';

export class ClientView {
  /**
   * @param {import('../app.js').Context} ctx
   * @param {string} id  the client's id
   */
  constructor(ctx, id) {
    this.ctx = ctx;
    this.id = id;
    this.client = null;
    this.edges = [];
    this.tx = null; // { totalCount, pageInfo } of the latest page
    this.loading = false;
    this.error = '';
    this.seq = 0;
    this.el = h('section', { class: 'view client', 'aria-labelledby': 'client-title' });
  }

  title() {
    return this.client ? this.client.displayName : t('clientTitle');
  }

  async show() {
    this.build();
    await this.load(false);
    focusHeading(this.el.querySelector('h1'));
  }

  render() {
    this.build();
  }

  build() {
    preserveFocus(() => {
      this.parts = {
        heading: h('h1', { id: 'client-title' }),
        status: h('p', { class: 'status', 'aria-live': 'polite' }),
        body: h('div', { class: 'client-body', 'aria-busy': 'false' }),
      };
      replace(this.el,
        h('p', { class: 'back' }, h('a', { href: '#/', id: 'client-back' }, t('backToClients'))),
        this.parts.heading,
        this.parts.status,
        this.parts.body);
      this.update();
    });
  }

  /** Loads the first page of transactions (more=false) or the next one (more=true). */
  async load(more) {
    if (this.loading) return;
    const seq = ++this.seq;
    const restoreFocus = captureFocus();
    const after = more && this.tx ? this.tx.pageInfo.endCursor : null;
    this.loading = true;
    this.error = '';
    this.update();
    try {
      const data = await this.ctx.request(CLIENT_PAGE, { id: this.id, after });
      if (seq !== this.seq) return;
      const c = data.client;
      this.client = c;
      this.edges = more ? this.edges.concat(c.transactions.edges) : c.transactions.edges;
      this.tx = { totalCount: c.transactions.totalCount, pageInfo: c.transactions.pageInfo };
      this.ctx.setTitle(this.title());
    } catch (e) {
      if (seq !== this.seq || e.handled) return;
      this.error = this.ctx.errorMessage(e);
    }
    this.loading = false;
    this.update();
    restoreFocus(['transactions-title']);
  }

  update() {
    if (!this.parts) return;
    const { heading, status, body } = this.parts;
    body.setAttribute('aria-busy', String(this.loading));
    renderStatus(status, {
      loading: this.loading, error: this.error,
      onRetry: () => this.load(Boolean(this.client)), retryId: 'client-retry',
    });
    const c = this.client;
    if (!c) {
      replace(heading, t('clientTitle'));
      replace(body);
      return;
    }
    replace(heading, h('span', {}, c.displayName), ' ', statusBadge(c.status));
    replace(body,
      h('div', { class: 'client-grid' },
        this.profileCard(c),
        this.ratingCard(c)),
      h('h2', { id: 'accounts-title' }, t('accountsTitle')),
      this.accountsTable(c.accounts),
      h('h2', { id: 'transactions-title', tabindex: '-1' }, t('transactionsTitle')),
      this.transactionsTable(c.accounts),
      this.transactionsPager());
  }

  profileCard(c) {
    const row = (key, value) => [h('dt', {}, t(key)), h('dd', {}, value || t('none'))];
    const links = c.links && c.links.length
      ? h('ul', { class: 'plain' }, c.links.map((l) => h('li', {},
        h('span', {}, l.bank.name), ' ',
        h('span', { class: 'muted' }, `· ${l.externalClientId}`),
        l.consentStatus && l.consentStatus !== 'AUTHORIZED'
          ? h('span', { class: 'muted' }, ` · ${label('ConsentStatus', l.consentStatus)}`) : null)))
      : null;
    return h('section', { class: 'card', 'aria-labelledby': 'profile-title' },
      h('h2', { id: 'profile-title' }, t('profile')),
      h('dl', { class: 'profile' },
        row('email', c.email),
        row('phone', c.phone),
        row('status', label('ClientStatus', c.status)),
        row('bankLinks', links),
        row('totalBalance', h('span', { class: 'num' }, moneyLines(c.totalBalance)))));
  }

  ratingCard(c) {
    const r = c.rating;
    const head = h('h2', { id: 'rating-title' }, t('rating'));
    if (!r) {
      return h('section', { class: 'card', 'aria-labelledby': 'rating-title' }, head, h('p', { class: 'muted' }, t('ratingNone')));
    }
    const columns = [
      { title: t('factor') },
      { title: t('factorValue') },
      { title: t('factorImpact'), class: 'num' },
    ];
    const rows = (r.factors || []).map((f) => [
      { content: f.name, class: 'wrap-any' },
      { content: f.value, class: 'wrap-any' },
      { content: signedNumber(f.impact), class: Number(f.impact) < 0 ? 'debit' : Number(f.impact) > 0 ? 'credit' : '' },
    ]);
    return h('section', { class: 'card', 'aria-labelledby': 'rating-title' },
      head,
      h('p', { class: 'rating-line' }, gradeBadge(r), ' ', h('span', {}, t('scoreOf', integer(r.score)))),
      rows.length ? table({ caption: t('factorsTitle'), columns, rows, className: 'factors' }) : null);
  }

  accountsTable(accounts) {
    const columns = [
      { title: t('colBank') },
      { title: t('colAccount') },
      { title: t('colType') },
      { title: t('colCurrency') },
      { title: t('colAccountStatus') },
      { title: t('colBalance'), class: 'num' },
    ];
    const rows = accounts.map((a) => [
      { content: a.bank.name, class: 'nowrap' },
      { content: a.name, class: 'wrap-any' },
      a.type,
      a.currency,
      label('AccountStatus', a.status),
      a.balance ? money(a.balance.amount, a.balance.currency) : t('none'),
    ]);
    return table({ caption: t('accountsTitle'), columns, rows, empty: t('noAccounts'), className: 'accounts cards' });
  }

  transactionsTable(accounts) {
    const byId = new Map(accounts.map((a) => [a.id, a]));
    const columns = [
      { title: t('colDate') },
      { title: t('colDescription') },
      { title: t('colCategory') },
      { title: t('colAccount') },
      { title: t('colAmount'), class: 'num' },
    ];
    const rows = this.edges.map(({ node: x }) => {
      const account = x.account && byId.get(x.account.id);
      const detail = [
        x.merchant ? `${t('merchant')}: ${x.merchant}` : null,
        x.mcc ? `${t('mcc')} ${x.mcc}` : null,
      ].filter(Boolean).join(' · ');
      return [
        { content: dateTime(x.bookedAt), class: 'nowrap' },
        [h('span', { class: 'description' }, x.description), detail ? h('span', { class: 'sub' }, detail) : null],
        [h('span', {}, label('Category', x.category)),
          h('span', { class: 'sub' }, t('categorySourceHint', label('CategorySource', x.categorySource)))],
        account
          ? { content: [h('span', {}, account.bank.name), h('span', { class: 'sub' }, account.name)], class: 'wrap-any' }
          : t('none'),
        { content: signedMoney(x.amount, x.currency, x.direction), class: x.direction === 'DEBIT' ? 'debit' : 'credit' },
      ];
    });
    return table({ caption: t('transactionsTitle'), columns, rows, empty: t('noTransactions'), className: 'transactions cards' });
  }

  transactionsPager() {
    if (!this.tx) return null;
    return h('div', { class: 'pager' },
      h('span', { class: 'muted range' }, t('shownOf', integer(this.edges.length), integer(this.tx.totalCount))),
      this.tx.pageInfo.hasNextPage
        ? h('button', { type: 'button', id: 'transactions-more', class: 'secondary', on: { click: () => this.load(true) } }, t('loadMore'))
        : null);
  }
}
