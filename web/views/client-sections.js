// Extra sections of the client page, each bringing the fields it reads. The page's query is
// built from the base selection plus every enabled section's `fields`, so a section is added
// here together with the server fields it needs, and nothing is sent for fields the server
// does not have. Sections render in this order, each in its tab of the page.
//
// A section: {
//   id: 'insights',                       // DOM id of the section, also its heading's id prefix
//   enabled: () => boolean,               // e.g. () => FEATURES.insights
//   tab: 'analytics',                     // the tab of the client's page it is shown in
//   fields: 'insights { title text severity }',   // selection inside client { … }
//   title: () => the heading (a string of i18n.js),
//   render: (client, ctx) => Node | null,  // the section's content
// }
//
// Texts the server writes (insights, offer reasons) come in the interface language: the page's
// query has `$lang` and is asked again when the language changes.
import { h, svg, table } from '../dom.js';
import { label, t } from '../i18n.js';
import { date, integer, money, percent } from '../format.js';
import { FORECAST_FIELDS, forecastSection } from './forecast.js';

const FIGURES = 'figures { name kind text }';

function figureList(figures) {
  if (!figures || !figures.length) return null;
  return h('ul', { class: 'figures' }, figures.map((f) => h('li', { class: 'figure', dataset: { figure: f.name } }, f.text)));
}

function insights(client) {
  const list = client.insights || [];
  if (!list.length) return h('p', { class: 'muted' }, t('insightsNone'));
  return h('ul', { class: 'insights plain' }, list.map((i) => h('li', {
    class: ['insight', `insight-${String(i.severity).toLowerCase()}`], dataset: { kind: i.kind },
  },
  h('span', { class: ['badge', severityClass(i.severity)] }, label('InsightSeverity', i.severity)), ' ',
  h('span', { class: 'insight-text' }, i.text),
  figureList(i.figures))));
}

function severityClass(s) {
  return s === 'WARNING' ? 'warn' : s === 'POSITIVE' ? 'ok' : 'off';
}

function income(client) {
  const p = client.income;
  if (!p) return null;
  const row = (key, value) => [h('dt', {}, t(key)), h('dd', {}, value === null || value === undefined ? t('none') : value)];
  const avg = p.monthlyAverageIncome;
  return h('dl', { class: 'profile income-profile' },
    row('incomeAverage', h('span', { id: 'income-average' }, money(avg.amount, avg.currency))),
    row('incomeMonthsObserved', integer(Math.round(p.monthsObserved))),
    row('incomeSalary', p.salaryDetected ? t('yes') : t('no')),
    p.salaryDetected ? [
      row('incomeEmployer', p.employer),
      row('incomeTypical', p.typicalAmount ? money(p.typicalAmount.amount, p.typicalAmount.currency) : null),
      row('incomeDay', p.typicalDay ? t('incomeDayOf', p.typicalDay) : null),
      row('incomeRegularity', t('incomeRegularityValue', percent(p.regularity), p.monthsPaid, p.monthsExpected)),
      row('incomeLast', p.lastPaidAt ? date(p.lastPaidAt) : null),
      row('incomeNext', p.nextExpectedAt ? date(p.nextExpectedAt) : null),
    ] : null);
}

function recurring(client) {
  const list = client.recurringPayments || [];
  const columns = [
    { title: t('colPayee') },
    { title: t('colCategory') },
    { title: t('colInterval') },
    { title: t('colTypical'), class: 'num' },
    { title: t('colMonthly'), class: 'num' },
    { title: t('colNextExpected') },
  ];
  const rows = list.map((r) => [
    { content: [h('span', {}, r.merchant), h('span', { class: 'sub' }, t('recurringTimes', r.occurrences, date(r.firstAt)))], class: 'wrap-any' },
    label('Category', r.category),
    [label('PaymentInterval', r.interval), r.dayOfMonth ? h('span', { class: 'sub' }, t('incomeDayOf', r.dayOfMonth)) : null],
    money(r.typicalAmount.amount, r.typicalAmount.currency),
    money(r.monthlyAmount.amount, r.monthlyAmount.currency),
    { content: date(r.nextExpectedAt), class: 'nowrap' },
  ]);
  return table({ caption: t('recurringTitle'), columns, rows, empty: t('recurringNone'), className: 'recurring cards' });
}

function offers(client) {
  const list = client.offers || [];
  if (!list.length) return h('p', { class: 'muted' }, t('offersNone'));
  return h('ul', { class: 'offers' }, list.map((o) => {
    const p = o.product;
    const terms = [
      p.rate !== null && p.rate !== undefined ? t('offerRate', p.rate) : null,
      p.termMonths ? t('offerTerm', p.termMonths) : null,
      p.minAmount ? t('offerMin', money(p.minAmount.amount, p.minAmount.currency)) : null,
      p.maxAmount ? t('offerMax', money(p.maxAmount.amount, p.maxAmount.currency)) : null,
    ].filter(Boolean);
    return h('li', { class: 'card offer', dataset: { reason: o.reasonCode } },
      h('h3', { class: 'offer-title' }, p.name),
      h('p', { class: 'muted small' }, t('offerFrom', p.bank.name, p.type)),
      terms.length ? h('p', { class: 'offer-terms' }, terms.join(' · ')) : null,
      p.description ? h('p', { class: 'small' }, p.description) : null,
      h('p', { class: 'offer-reason' }, h('strong', {}, t('offerWhy')), ' ', o.reason),
      figureList(o.figures));
  }));
}

const MONEY = '{ amount currency }';
const SHARE = `{ home ${MONEY} total ${MONEY} percent byBank { bankCode bankName amount ${MONEY} } }`;

function shareRow(key, share, home) {
  const pct = share.percent === null || share.percent === undefined ? t('none') : percent(Number(share.percent) / 100);
  const width = share.percent === null || share.percent === undefined ? 0 : Math.max(0, Math.min(100, Number(share.percent)));
  const parts = (share.byBank || []).map((b) => `${b.bankName}: ${money(b.amount.amount, b.amount.currency)}`).join(' · ');
  return h('li', { class: 'wallet-share', dataset: { dimension: key } },
    h('div', { class: 'wallet-share-head' },
      h('span', { class: 'wallet-share-title' }, t(key)),
      h('strong', { class: 'wallet-share-pct' }, pct)),
    svg('svg', { class: 'meter', viewBox: '0 0 100 4', preserveAspectRatio: 'none', role: 'img', 'aria-label': t('walletShareOf', home, pct) },
      svg('rect', { class: 'meter-track', x: 0, y: 0, width: 100, height: 4 }),
      svg('rect', { class: 'meter-fill', x: 0, y: 0, width: width.toFixed(1), height: 4 })),
    h('p', { class: 'small muted' },
      t('walletHomeOfTotal', money(share.home.amount, share.home.currency), money(share.total.amount, share.total.currency)),
      parts ? h('span', { class: 'sub' }, parts) : null));
}

function wallet(client) {
  const s = client.shareOfWallet;
  const held = client.heldAway || [];
  const offersList = client.consolidationOffers || [];
  if (!s) return h('p', { class: 'muted' }, t('walletNoHome'));
  const shares = h('ul', { class: 'wallet-shares plain' },
    shareRow('walletBalances', s.balances, s.homeBankName),
    shareRow('walletIncome', s.income, s.homeBankName),
    shareRow('walletSpending', s.spending, s.homeBankName));
  const columns = [
    { title: t('colProduct') },
    { title: t('colBank') },
    { title: t('colAmount'), class: 'num' },
    { title: t('colMonthlyPayment'), class: 'num' },
    { title: t('colSource') },
  ];
  const rows = held.map((p) => [
    { content: [label('HeldAwayKind', p.kind), p.productName ? h('span', { class: 'sub' }, p.productName) : null] },
    p.bankName,
    p.amount ? money(p.amount.amount, p.amount.currency) : h('span', { class: 'muted' }, t('heldAwayNoAmount')),
    p.monthlyPayment
      ? [money(p.monthlyPayment.amount, p.monthlyPayment.currency), h('span', { class: 'sub' }, t('heldAwayMonths', p.monthsSeen))]
      : p.paidIn ? [t('none'), h('span', { class: 'sub' }, t('heldAwayPaidIn', money(p.paidIn.amount, p.paidIn.currency)))] : t('none'),
    [h('span', { class: ['badge', p.confidence === 'HIGH' ? 'ok' : p.confidence === 'MEDIUM' ? 'off' : 'warn'] }, label('Confidence', p.confidence)),
      h('span', { class: 'sub' }, label('HeldAwaySource', p.source)),
      p.evidenceTransactionIds.length ? h('span', { class: 'sub' }, t('heldAwayEvidence', p.evidenceTransactionIds.length)) : null],
  ]);
  const heldTable = table({ caption: t('heldAwayTitle', s.homeBankName), columns, rows, empty: t('heldAwayNone'), className: 'held-away cards' });
  const offerList = offersList.length
    ? h('ul', { class: 'offers consolidation' }, offersList.map((o) => h('li', { class: 'card offer', dataset: { kind: o.kind } },
      h('h3', { class: 'offer-title' }, label('ConsolidationKind', o.kind)),
      h('p', { class: 'offer-terms' }, t('consolidationStake', money(o.moneyAtStake.amount, o.moneyAtStake.currency)),
        o.yearlyBenefit ? ` · ${t('consolidationBenefit', money(o.yearlyBenefit.amount, o.yearlyBenefit.currency))}` : ''),
      h('p', { class: 'offer-reason' }, o.reason),
      figureList(o.figures))))
    : h('p', { class: 'muted' }, t('consolidationNone'));
  return h('div', { class: 'wallet' },
    h('p', { class: 'small muted' }, t('walletPeriod', s.homeBankName, date(s.from), date(s.to), s.currency)),
    shares, heldTable,
    h('h3', {}, t('consolidationTitle')), offerList);
}

/** @type {Array<{id: string, enabled: () => boolean, tab: string, fields: string, title: () => string, render: (client: object, ctx: object) => Node|null}>} */
export const CLIENT_SECTIONS = [
  {
    id: 'insights',
    enabled: () => true,
    tab: 'analytics',
    fields: `insights(lang: $lang) { kind severity text ${FIGURES} }`,
    title: () => t('insightsTitle'),
    render: insights,
  },
  {
    id: 'income',
    enabled: () => true,
    tab: 'analytics',
    fields: `income {
      salaryDetected employer typicalAmount { amount currency } typicalDay regularity monthsPaid monthsExpected
      lastPaidAt nextExpectedAt monthlyAverageIncome { amount currency } monthsObserved
    }`,
    title: () => t('incomeTitle'),
    render: income,
  },
  {
    id: 'recurring',
    enabled: () => true,
    tab: 'analytics',
    fields: `recurringPayments {
      merchant key category typicalAmount { amount currency } monthlyAmount { amount currency }
      interval intervalDays dayOfMonth occurrences firstAt lastAt nextExpectedAt
    }`,
    title: () => t('recurringTitle'),
    render: recurring,
  },
  {
    id: 'forecast',
    enabled: () => true,
    tab: 'analytics',
    fields: FORECAST_FIELDS,
    title: () => t('forecastTitle'),
    render: forecastSection,
  },
  {
    id: 'wallet',
    enabled: () => true,
    tab: 'products',
    fields: `shareOfWallet { homeBankCode homeBankName currency from to balances ${SHARE} income ${SHARE} spending ${SHARE} }
      heldAway {
        key kind bankName productName amount ${MONEY} amountBasis monthlyPayment ${MONEY} paidIn ${MONEY} monthsSeen
        interestRate source confidence evidenceTransactionIds evidenceAccountIds evidenceAgreementIds
      }
      consolidationOffers(lang: $lang) { kind heldAwayKey fromBankName moneyAtStake ${MONEY} yearlyBenefit ${MONEY} reason ${FIGURES} }`,
    title: () => t('walletTitle'),
    render: wallet,
  },
  {
    id: 'offers',
    enabled: () => true,
    tab: 'products',
    fields: `offers(lang: $lang) {
      reasonCode reason ${FIGURES}
      product { bank { code name } id name type description rate minAmount { amount currency } maxAmount { amount currency } termMonths }
    }`,
    title: () => t('offersTitle'),
    render: offers,
  },
];

export function enabledSections() {
  return CLIENT_SECTIONS.filter((s) => s.enabled());
}
