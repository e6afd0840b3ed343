// The client's balance forecast (Client.forecast): one chart per currency of its money, then the
// expected income and payments with the pattern each comes from. A section of the Analytics tab
// (views/client-sections.js), read with the page's query.
import { h, table } from '../dom.js';
import { label, t } from '../i18n.js';
import { date, money } from '../format.js';
import { balanceChart } from '../charts.js';

export const FORECAST_DAYS = 30;

export const FORECAST_FIELDS = `forecast(days: ${FORECAST_DAYS}) {
  days from
  currencies {
    currency start { amount currency } end { date balance { amount currency } }
    lowest { date balance { amount currency } } everydayPerDay { amount currency } lookbackDays
    points { date balance { amount currency } }
  }
  items {
    date kind label amount { amount currency }
    evidence { interval dayOfMonth occurrences lastSeenAt agreementId payeeKey }
  }
}`;

function currencyChart(c, days) {
  const title = t('forecastChartTitle', c.currency, days);
  return h('div', { class: 'forecast-currency', dataset: { currency: c.currency } },
    h('h3', {}, title),
    balanceChart({
      title,
      desc: t('forecastDesc', money(c.start.amount, c.currency), money(c.end.balance.amount, c.currency),
        money(c.lowest.balance.amount, c.currency), date(c.lowest.date)),
      points: c.points,
      currency: c.currency,
    }),
    h('p', { class: 'muted small forecast-everyday' },
      t('forecastEveryday', money(c.everydayPerDay.amount, c.currency), c.lookbackDays)));
}

function itemsTable(items) {
  const columns = [
    { title: t('colExpected') },
    { title: t('colKind') },
    { title: t('forecastColParty') },
    { title: t('colAmount'), class: 'num' },
    { title: t('colBasis') },
  ];
  const rows = items.map((i) => [
    { content: date(i.date), class: 'nowrap' },
    label('ForecastItemKind', i.kind),
    { content: i.label, class: 'wrap-any' },
    { content: money(i.amount.amount, i.amount.currency), class: 'num' },
    [label('PaymentInterval', i.evidence.interval),
      h('span', { class: 'sub' }, t('forecastBasis', i.evidence.occurrences, date(i.evidence.lastSeenAt)))],
  ]);
  return table({ caption: t('forecastItemsTitle'), columns, rows, empty: t('forecastItemsNone'), className: 'forecast-items cards' });
}

/** The section's content for a client read with FORECAST_FIELDS. */
export function forecastSection(client) {
  const f = client.forecast;
  if (!f) return null;
  if (!f.currencies.length) return h('p', { class: 'muted' }, t('forecastNone'));
  return h('div', { class: 'forecast' },
    f.currencies.map((c) => currencyChart(c, f.days)),
    h('h3', {}, t('forecastItemsTitle')),
    itemsTable(f.items));
}
