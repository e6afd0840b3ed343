// The manager's app: sign in, the client list with headline figures, one client's accounts and
// transactions. Everything from the API is inserted as text (never as HTML): bank descriptions
// are untrusted input.
import { gql } from './api.js';
import { strings } from './i18n.js';

const DASHBOARD = `query Dashboard($after: String, $filter: ClientFilter) {
  stats { clients { total active inactive } transactions { count income expense balance } banks }
  clients(first: 20, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id displayName status
      rating { grade score factors { name value impact } }
      totalBalance { amount currency }
      links { bank { code name } externalClientId } } }
  }
}`;

const CLIENT = `query ClientPage($id: ID!, $after: String) {
  client(id: $id) {
    id displayName email phone status
    accounts { id bank { code name } name type currency status balance { amount currency } }
    transactions(first: 50, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id bookedAt amount currency direction description merchant category account { id } } }
    }
  }
}`;

const $ = (id) => document.getElementById(id);
let lang = localStorage.getItem('lang') === 'en' ? 'en' : 'ru';
const t = (key) => strings[lang][key];
const state = { search: '', after: null, shown: 0, clientId: null, txAfter: null, txShown: 0 };

function money(amount, currency) {
  const n = Number(amount);
  try {
    return new Intl.NumberFormat(lang === 'ru' ? 'ru-RU' : 'en-GB', { style: 'currency', currency }).format(n);
  } catch (e) {
    return `${amount} ${currency}`;
  }
}

function cell(row, text, cls) {
  const td = document.createElement('td');
  td.textContent = text == null || text === '' ? t('none') : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function headers(rowId, keys) {
  const row = $(rowId);
  row.replaceChildren(...keys.map((k) => {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = t(k);
    return th;
  }));
}

function show(view) {
  for (const v of ['login-view', 'dashboard-view', 'client-view']) $(v).hidden = v !== view;
  $('logout').hidden = view === 'login-view';
}

function fail(e) {
  if (e.code === 'UNAUTHENTICATED') {
    show('login-view');
    $('who').textContent = '';
    return;
  }
  $('status').textContent = e.message;
}

function applyStrings() {
  document.documentElement.lang = lang;
  const text = { lang: 'lang', 'graphiql-link': 'graphiql', logout: 'logout', 'login-title': 'loginTitle',
    'username-label': 'username', 'password-label': 'password', 'login-submit': 'signIn',
    'search-label': 'search', 'search-submit': 'find', 'clients-caption': 'clientsCaption',
    'clients-first': 'first', 'clients-more': 'more', 'tx-more': 'more', back: 'back',
    'accounts-title': 'accounts', 'tx-title': 'transactions' };
  for (const [id, key] of Object.entries(text)) $(id).textContent = t(key);
  $('search').placeholder = t('search');
  headers('clients-head', ['name', 'status', 'grade', 'score', 'balance', 'banks']);
  headers('accounts-head', ['account', 'bank', 'currency', 'status', 'balance']);
  headers('tx-head', ['date', 'amount', 'description', 'category']);
}

function renderStats(s) {
  const items = [
    [t('statClients'), `${s.clients.total} (${s.clients.active} ${t('statActive')})`],
    [t('statTx'), String(s.transactions.count)],
    [t('statIncome'), money(s.transactions.income, 'RUB')],
    [t('statExpense'), money(s.transactions.expense, 'RUB')],
    [t('statBanks'), String(s.banks)],
  ];
  $('stats').replaceChildren(...items.map(([label, value]) => {
    const div = document.createElement('div');
    div.className = 'stat';
    const v = document.createElement('strong');
    v.textContent = value;
    const l = document.createElement('span');
    l.textContent = label;
    div.append(v, l);
    return div;
  }));
}

async function loadClients(reset) {
  if (reset) { state.after = null; state.shown = 0; $('clients').tBodies[0].replaceChildren(); }
  const filter = state.search ? { search: state.search } : null;
  const data = await gql(DASHBOARD, { after: state.after, filter });
  renderStats(data.stats);
  const body = $('clients').tBodies[0];
  for (const { node } of data.clients.edges) {
    const row = document.createElement('tr');
    const nameCell = cell(row, '');
    const link = document.createElement('a');
    link.href = `#client/${encodeURIComponent(node.id)}`;
    link.textContent = node.displayName;
    nameCell.replaceChildren(link);
    cell(row, t(node.status));
    cell(row, node.rating && node.rating.grade);
    cell(row, node.rating && node.rating.score);
    cell(row, node.totalBalance.map((m) => money(m.amount, m.currency)).join(' · '), 'num');
    cell(row, node.links.map((l) => l.bank.name).join(', '));
    body.appendChild(row);
  }
  state.shown += data.clients.edges.length;
  state.after = data.clients.pageInfo.endCursor;
  $('clients-count').textContent = t('shown')(state.shown, data.clients.totalCount);
  $('clients-more').hidden = !data.clients.pageInfo.hasNextPage;
  $('clients-first').hidden = state.shown <= 20;
}

async function loadClient(id, more) {
  if (!more) { state.clientId = id; state.txAfter = null; state.txShown = 0; $('transactions').tBodies[0].replaceChildren(); }
  const data = await gql(CLIENT, { id: state.clientId, after: state.txAfter });
  const c = data.client;
  $('client-name').textContent = c.displayName;
  const profile = [[t('email'), c.email], [t('phone'), c.phone], [t('status'), t(c.status)]];
  $('client-profile').replaceChildren(...profile.flatMap(([k, v]) => {
    const dt = document.createElement('dt'); dt.textContent = k;
    const dd = document.createElement('dd'); dd.textContent = v || t('none');
    return [dt, dd];
  }));
  if (!more) {
    $('accounts').tBodies[0].replaceChildren(...c.accounts.map((a) => {
      const row = document.createElement('tr');
      cell(row, a.name); cell(row, a.bank.name); cell(row, a.currency); cell(row, a.status);
      cell(row, a.balance ? money(a.balance.amount, a.balance.currency) : null, 'num');
      return row;
    }));
  }
  const body = $('transactions').tBodies[0];
  for (const { node } of c.transactions.edges) {
    const row = document.createElement('tr');
    cell(row, new Date(node.bookedAt).toLocaleString(lang === 'ru' ? 'ru-RU' : 'en-GB'));
    const sign = node.direction === 'DEBIT' ? '−' : '+';
    cell(row, `${sign}${money(node.amount, node.currency)}`, node.direction === 'DEBIT' ? 'num debit' : 'num credit');
    cell(row, node.merchant ? `${node.description} (${node.merchant})` : node.description);
    cell(row, node.category);
    body.appendChild(row);
  }
  state.txShown += c.transactions.edges.length;
  state.txAfter = c.transactions.pageInfo.endCursor;
  $('tx-count').textContent = t('shown')(state.txShown, c.transactions.totalCount);
  $('tx-more').hidden = !c.transactions.pageInfo.hasNextPage;
}

async function route() {
  $('status').textContent = '';
  try {
    const me = await gql('query Me { me { id username role } }');
    $('who').textContent = `${me.me.username} (${me.me.role})`;
    const m = location.hash.match(/^#client\/(.+)$/);
    if (m) {
      show('client-view');
      await loadClient(decodeURIComponent(m[1]), false);
    } else {
      show('dashboard-view');
      await loadClients(true);
    }
  } catch (e) {
    fail(e);
  }
}

function wire() {
  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('login-error').textContent = '';
    try {
      await gql('mutation Login($username: String!, $password: String!) { login(username: $username, password: $password) { user { id username role } } }',
        { username: $('username').value, password: $('password').value });
      $('password').value = '';
      await route();
    } catch (e) {
      $('login-error').textContent = e.message;
    }
  });
  $('logout').addEventListener('click', async () => {
    try { await gql('mutation Logout { logout }'); } catch (e) { /* the session is gone either way */ }
    location.hash = '';
    show('login-view');
    $('who').textContent = '';
  });
  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    state.search = $('search').value.trim();
    loadClients(true).catch(fail);
  });
  $('clients-more').addEventListener('click', () => loadClients(false).catch(fail));
  $('clients-first').addEventListener('click', () => loadClients(true).catch(fail));
  $('tx-more').addEventListener('click', () => loadClient(state.clientId, true).catch(fail));
  $('back').addEventListener('click', () => { location.hash = ''; });
  $('lang').addEventListener('click', () => {
    lang = lang === 'ru' ? 'en' : 'ru';
    localStorage.setItem('lang', lang);
    applyStrings();
    route();
  });
  window.addEventListener('hashchange', route);
}

applyStrings();
wire();
route();
