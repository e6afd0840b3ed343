// A client's spending by category over a chosen period and the monthly cashflow of the last
// twelve months, as SVG charts with a table of the same numbers under each.
import { h, replace, table } from '../dom.js';
import { label, t } from '../i18n.js';
import { integer, money, percent, sumDecimal } from '../format.js';
import { barChart, cashflowChart } from '../charts.js';
import { CLIENT_ANALYTICS } from '../queries.js';
import { renderStatus } from './common.js';

export const PERIODS = [30, 90, 365];

export class AnalyticsSection {
  /** @param {import('../app.js').Context} ctx */
  constructor(ctx, { clientId }) {
    this.ctx = ctx;
    this.clientId = clientId;
    this.days = 90;
    this.data = null;
    this.loading = false;
    this.error = '';
    this.seq = 0;
    this.el = h('section', { class: 'analytics', 'aria-labelledby': 'analytics-title' });
  }

  render() {
    const period = h('select', { id: 'spending-period', on: { change: () => { this.days = Number(period.value); this.load(); } } },
      PERIODS.map((d) => h('option', { value: String(d) }, t(`period_${d}`))));
    period.value = String(this.days);
    this.parts = {
      status: h('p', { class: 'status', 'aria-live': 'polite' }),
      spending: h('div', { class: 'card chart-card', id: 'spending-chart' }),
      cashflow: h('div', { class: 'card chart-card', id: 'cashflow-chart' }),
      merchants: h('div', { class: 'top-merchants', id: 'top-merchants' }),
    };
    replace(this.el,
      h('h2', { id: 'analytics-title' }, t('analyticsTitle')),
      h('div', { class: 'field inline-field' }, h('label', { for: 'spending-period' }, t('spendingPeriod')), period),
      this.parts.status,
      h('div', { class: 'charts-grid' }, this.parts.spending, this.parts.cashflow),
      this.parts.merchants);
    this.update();
  }

  async load() {
    if (!this.parts) this.render();
    const seq = ++this.seq;
    this.loading = true;
    this.error = '';
    this.update();
    const to = new Date();
    const from = new Date(to.getTime() - this.days * 86400000);
    try {
      const data = await this.ctx.request(CLIENT_ANALYTICS, { id: this.clientId, from: from.toISOString(), to: to.toISOString() });
      if (seq !== this.seq) return;
      this.data = data.client;
    } catch (e) {
      if (seq !== this.seq || e.handled) return;
      this.error = this.ctx.errorMessage(e);
    }
    this.loading = false;
    this.update();
  }

  update() {
    if (!this.parts) return;
    const { status, spending, cashflow, merchants } = this.parts;
    renderStatus(status, { loading: this.loading, error: this.error, onRetry: () => this.load(), retryId: 'analytics-retry' });
    if (!this.data) { replace(spending); replace(cashflow); replace(merchants); return; }
    this.renderMerchants(merchants, this.data.topMerchants || []);

    const spend = this.data.spendingByCategory || [];
    const currency = spend.length ? spend[0].currency : 'RUB';
    const items = spend.map((s) => ({
      label: label('Category', s.category),
      value: Number(s.amount) || 0,
      display: money(s.amount, s.currency),
      share: s.share,
      count: s.count,
    }));
    const spendTitle = t('spendingTitle', t(`period_${this.days}`));
    replace(spending, h('h3', {}, spendTitle),
      items.length
        ? barChart({
          title: spendTitle,
          desc: t('spendingDesc', items.slice(0, 5).map((i) => `${i.label} ${i.display} (${percent(i.share)})`).join('; ')),
          items: items.map((i) => ({ ...i, display: `${i.display} · ${percent(i.share)}` })),
          columns: [t('colCategory'), t('colAmount'), t('colCount')],
          extra: (d) => ({ content: String(d.count), class: 'num' }),
          className: 'spending-chart',
        })
        : h('p', { class: 'muted' }, t('spendingNone', currency)));

    const months = this.data.cashflow || [];
    const flowCurrency = months.length ? months[0].currency : currency;
    const flowTitle = t('cashflowTitle');
    const withData = months.filter((m) => Number(m.income) || Number(m.expense));
    replace(cashflow, h('h3', {}, flowTitle),
      withData.length
        ? cashflowChart({
          title: flowTitle,
          desc: t('cashflowDesc', months.length,
            money(sumDecimal(months.map((m) => m.income)), flowCurrency),
            money(sumDecimal(months.map((m) => m.expense)), flowCurrency)),
          months,
          currency: flowCurrency,
        })
        : h('p', { class: 'muted' }, t('cashflowNone')));
    const moved = sumDecimal(months.map((m) => m.movedOut || '0'));
    if (Number(moved)) {
      cashflow.append(h('p', { class: 'muted own-transfers' },
        t('ownTransfersNote', months.length, money(moved, flowCurrency))));
    }
  }

  renderMerchants(el, list) {
    const title = t('topMerchantsTitle', t(`period_${this.days}`));
    const columns = [
      { title: t('colMerchant') },
      { title: t('colAmount'), class: 'num' },
      { title: t('colCount'), class: 'num' },
      { title: t('colShare'), class: 'num' },
    ];
    const rows = list.map((m) => [
      { content: m.merchant, class: 'wrap-any' },
      money(m.amount.amount, m.amount.currency),
      integer(m.count),
      percent(m.share),
    ]);
    replace(el, h('h3', { id: 'top-merchants-title' }, title),
      table({ caption: title, columns, rows, empty: t('topMerchantsNone'), className: 'merchants compact cards' }));
  }
}
