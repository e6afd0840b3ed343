// What a manager does, at desktop (1280×800) and phone (390×844) widths, against the server's
// demo mode: sign in (a wrong password first, and throttling), the dashboard with the demo
// clients, the portfolio (grades, banks with their health) and its export, paging, filtering by
// grade, sorting by score, searching, "sync now" with live progress, a client with its charts,
// rating, insights, income, recurring payments, offers and top merchants, paging through and
// filtering transactions, recategorising one (persisted), the exports, editing the profile, the
// assistant streaming its answer (and being stopped) and its stored conversations, the session
// ending, a category rule added and deleted, the administration (a team, a manager in it, a
// password reset shown once, a client created, assigned and deleted with a confirmation, the
// manager's first sign-in), a demo manager's workbench (My day with an overdue task arriving
// live, their time zone, a client's notes and tasks, its timeline tab), a meeting brief (shown,
// its PDF, the print view), the theme and language,
// and signing out. Values
// are compared with what the API says (the seed, or a query from the page), not hard-coded.
// axe-core runs on every page; each page is saved as a screenshot.
import {
  assert, assertClean, assertEq, axe, env, launch, log, openPage, openPages, run, screenshot, serverHas, text, until, VIEWPORTS,
} from './lib/harness.mjs';
import { mockAssistant } from './lib/assistant-mock.mjs';

// What the server's demo mode made, as the API describes it (crates/server/tests/browser.rs).
const seed = env.seed;
const clients = seed.clients; // in the API's (name) order
const busy = seed.busy;
// The grade to filter by: A when there are A clients, else the most common grade.
const countOf = (g) => clients.filter((c) => c.grade === g).length;
const filterGrade = countOf('A') ? 'A' : ['B', 'C'].reduce((best, g) => (countOf(g) > countOf(best) ? g : best));
const inGrade = clients.filter((c) => c.grade === filterGrade);
const digits = (s) => String(s).replace(/\D/g, '');

/** Runs fetch() in the page (with its session cookie) and returns what came back. */
async function pageFetch(page, url, { body = null, text = true } = {}) {
  return page.evaluate(async ({ url, body, text }) => {
    const res = await fetch(url, body
      ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
      : {});
    const buf = new Uint8Array(await res.arrayBuffer());
    return {
      status: res.status,
      type: res.headers.get('content-type') || '',
      disposition: res.headers.get('content-disposition') || '',
      head: [...buf.slice(0, 2)].map((b) => String.fromCharCode(b)).join(''),
      text: text ? new TextDecoder().decode(buf) : '',
    };
  }, { url, body, text });
}

/** A GraphQL query from the page, as the app would send it; returns `data`. */
async function api(page, query, variables = {}) {
  const res = await pageFetch(page, '/graphql', { body: { query, variables } });
  const parsed = JSON.parse(res.text);
  assert(!parsed.errors, `the API answered with errors: ${res.text}`);
  return parsed.data;
}

async function signIn(page, password = env.password, { keyboard = false } = {}) {
  await page.waitForSelector('#login-username');
  if (keyboard) {
    await page.focus('#login-username');
    await page.keyboard.press('Control+A');
    await page.keyboard.type(env.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(password);
    await page.keyboard.press('Enter');
  } else {
    await page.fill('#login-username', env.username);
    await page.fill('#login-password', password);
    await page.click('#login-submit');
  }
}

async function loginSteps(page, vp, first) {
  await page.goto(`${env.base}/`);
  await page.waitForSelector('#login-form');
  assertEq(await page.evaluate(() => document.activeElement.id), 'login-username', 'the username field has the focus');
  await axe(page, `${vp} login`);
  await screenshot(page, `${vp}-01-login`);

  if (first) {
    // Throttling: three failures lock the account; the next attempt says for how long.
    await page.fill('#login-username', seed.throttleUser);
    for (let i = 0; i < 4; i++) {
      await page.fill('#login-password', `wrong-${i}`);
      await page.click('#login-submit');
      await until(page, () => !document.querySelector('#login-submit')?.textContent.includes('…'), null, 'login answered');
      await until(page, () => document.querySelector('#login-message')?.textContent.trim().length > 0, null, 'a login message');
    }
    const msg = await text(page, '#login-message');
    assert(/Слишком много неудачных попыток/.test(msg) && /мин|с\b/.test(msg), `throttling is explained: ${msg}`);
    assert(await page.isDisabled('#login-submit'), 'the sign-in button is off while throttled');
    await screenshot(page, `${vp}-02-login-throttled`);
    await page.reload();
    await page.waitForSelector('#login-form');
  }

  // A wrong password: an inline error, the form stays.
  await signIn(page, `${env.password}-wrong`);
  await until(page, () => /Неверный логин или пароль/.test(document.querySelector('#login-message')?.textContent), null, 'wrong password shown inline');
  assertEq(await page.getAttribute('#login-message', 'role'), 'alert', 'the error is announced');
  assertEq(await page.inputValue('#login-password'), '', 'the password field is emptied');
  await screenshot(page, `${vp}-03-login-error`);
  assertClean(page, `${vp} login`);

  // The right one, with the keyboard only.
  await signIn(page, env.password, { keyboard: true });
  await page.waitForSelector('#day-title');
  assertEq(await page.getAttribute('#day-link', 'aria-current'), 'page', 'a signed-in user lands on My day');
}

async function dashboardSteps(page, vp) {
  await page.click('#clients-link');
  await page.waitForSelector('#dashboard-title');
  assert(page.url().endsWith('#/clients'), `the client list's route: ${page.url()}`);
  await until(page, () => document.querySelectorAll('table.clients tbody tr.clickable').length === 20, null, 'the first page of 20 clients');
  const stat = await text(page, '.stats .stat:first-child .stat-value');
  assertEq(stat, String(clients.length), 'the clients figure');
  // The demo clients, in the server's order.
  const names = await page.$$eval('table.clients tbody tr .client-link', (as) => as.map((a) => a.textContent));
  assertEq(JSON.stringify(names), JSON.stringify(clients.slice(0, 20).map((c) => c.name)), 'the first page shows the demo clients by name');
  assert((await text(page, '#clients-range')).includes(`из ${clients.length}`), 'the range says how many');
  await until(page, () => document.querySelector('.grades svg[role=img] title'), null, 'the grade distribution chart');
  // The grade distribution: A, B, C and unrated, with the counts and average scores of `portfolio`.
  const gradeRows = await page.$$eval('.grades details table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())));
  assertEq(gradeRows.length, 4, 'the grade distribution has A, B, C and unrated');
  seed.grades.forEach((g, k) => {
    assert(gradeRows[k][1].startsWith(`${g.count} (`), `grade ${g.grade}: ${g.count} clients shown (${gradeRows[k]})`);
    if (g.grade && g.count) assertEq(gradeRows[k][2], String(g.averageScore), `grade ${g.grade}: the average score`);
  });
  // The banks with their health, consents, failures and totals.
  await until(page, (n) => document.querySelectorAll('#bank-status tbody tr[data-bank]').length === n, seed.banks.length, 'a row per bank');
  const banks = await page.$$eval('#bank-status tbody tr[data-bank]', (trs) => trs.map((tr) => ({
    code: tr.dataset.bank,
    health: tr.querySelector('[data-health]')?.dataset.health,
    cells: [...tr.querySelectorAll('td')].map((td) => td.textContent.replace(/\s+/g, ' ').trim()),
  })));
  seed.banks.forEach((b, k) => {
    const row = banks[k];
    assertEq(row.code, b.code, 'banks in the API\'s order');
    assertEq(row.health, b.status.health, `${b.code}: health`);
    assert(row.cells[2].includes(String(b.status.authorizedConsents)) && row.cells[2].includes(String(b.status.awaitingConsents)), `${b.code}: consents ${row.cells[2]}`);
    assertEq(digits(row.cells[3]), String(b.status.failingLinks), `${b.code}: failing links`);
    assertEq(digits(row.cells[5]), String(b.accounts), `${b.code}: accounts`);
    assertEq(digits(row.cells[8]), String(b.transactions), `${b.code}: transactions`);
  });
  await until(page, () => document.querySelector('#portfolio-categories svg[role=img]'), null, 'the portfolio spending chart');
  // The portfolio export is a real spreadsheet.
  const xlsx = await pageFetch(page, await page.getAttribute('#export-portfolio', 'href'), { text: false });
  assert(xlsx.status === 200 && /spreadsheetml/.test(xlsx.type) && /attachment/.test(xlsx.disposition) && xlsx.head === 'PK', `the portfolio export: ${JSON.stringify(xlsx)}`);
  await axe(page, `${vp} dashboard`);
  await screenshot(page, `${vp}-04-dashboard`);

  // Next page and back.
  await page.click('#clients-next');
  await until(page, (n) => document.querySelector('#clients-range')?.textContent.startsWith('21')
    && document.querySelectorAll('table.clients tbody tr.clickable').length === n, clients.length - 20, 'the second page with the rest of the clients');
  await page.click('#clients-prev');
  await until(page, () => document.querySelector('#clients-range')?.textContent.startsWith('1'), null, 'back on the first page');

  // Filter by grade.
  await page.selectOption('#filter-grade', filterGrade);
  await until(page, ({ n, cls }) => document.querySelectorAll('table.clients tbody tr.clickable').length === n
    && [...document.querySelectorAll('table.clients tbody tr.clickable')].every((r) => r.querySelector(`.badge.${cls}`)),
  { n: inGrade.length, cls: `grade-${filterGrade.toLowerCase()}` }, `only the ${inGrade.length} grade ${filterGrade} clients`);
  const shown = await page.$$eval('table.clients tbody tr .client-link', (as) => as.map((a) => a.textContent));
  assertEq(JSON.stringify(shown), JSON.stringify(inGrade.map((c) => c.name)), `the grade ${filterGrade} clients`);
  assert(page.url().includes(`grade=${filterGrade}`), `the filter is in the address: ${page.url()}`);
  await screenshot(page, `${vp}-05-dashboard-grade-${filterGrade.toLowerCase()}`);
  await page.click('#filters-reset');
  await until(page, () => document.querySelectorAll('table.clients tbody tr.clickable').length === 20, null, 'filters reset');

  // Sorting by score is the server's: the page is the API's `orderBy: SCORE_DESC` page.
  await page.selectOption('#client-sort', 'score');
  await until(page, (want) => JSON.stringify([...document.querySelectorAll('table.clients tbody tr .client-link')].map((a) => a.textContent)) === want,
    JSON.stringify(seed.byScore), 'the clients by score, highest first, as the API orders them');
  const scores = await page.$$eval('table.clients tbody tr.clickable td:nth-child(3)', (tds) => tds.map((td) => Number(td.textContent.replace(/\D/g, '')) || 0));
  assert(scores.every((v, i) => i === 0 || scores[i - 1] >= v), `sorted by score: ${scores}`);
  await page.click('#filters-reset');
  await until(page, (first) => document.querySelectorAll('table.clients tbody tr.clickable').length === 20
    && document.querySelector('table.clients tbody tr .client-link')?.textContent === first, clients[0].name, 'filters reset');

  // Search.
  const query = busy.name.toLowerCase();
  await page.fill('#client-search', query);
  await page.press('#client-search', 'Enter');
  await until(page, (name) => {
    const rows = [...document.querySelectorAll('table.clients tbody tr .client-link')].map((a) => a.textContent);
    return rows.length >= 1 && rows.length <= 3 && rows.includes(name);
  }, busy.name, 'the search finds the client');
  assertClean(page, `${vp} dashboard`);
}

/**
 * Records the frames the app's websocket receives from now on, into `page.wsFrames`. Installed
 * before signing in: the socket is shared and opened by the first subscription (My day's), so a
 * step that wants its frames cannot wait for a new socket.
 */
function watchSocket(page) {
  page.wsFrames = [];
  page.on('websocket', (ws) => {
    if (!ws.url().endsWith('/graphql/ws')) return;
    ws.on('framereceived', (f) => { try { page.wsFrames.push(JSON.parse(String(f.payload))); } catch (e) { /* binary */ } });
  });
}

async function syncSteps(page, vp) {
  // Live progress arrives over the websocket: its frames from the click on.
  const from = page.wsFrames.length;
  await page.click('#sync-all-button');
  await until(page, () => document.querySelector('.sync')?.dataset.state === 'done', null, 'the sync finished', 90000);
  const frames = page.wsFrames.slice(from);
  const progress = frames.filter((f) => f.type === 'next' && f.payload && f.payload.data && f.payload.data.syncProgress).map((f) => f.payload.data.syncProgress);
  assert(progress.some((p) => p.kind === 'STARTED'), `a STARTED event arrived live: ${JSON.stringify(frames)}`);
  assert(progress.some((p) => p.kind === 'FINISHED' && p.run && p.run.status), 'a FINISHED event arrived live');
  const status = await text(page, '#sync-all-status');
  assert(/успешно|частично|с ошибкой/.test(status), `the outcome is shown: ${status}`);
  // SBank links wait for their clients: the run is partial and says which links and why.
  assert(/частично/.test(status), `a run with skipped links is not a success: ${status}`);
  assert(await page.locator('.sync-links li[data-code="CONSENT_WAITING"]').count() > 0, 'the links waiting for a consent are listed');
  assert(/Счетов: \d+/.test(await text(page, '.sync-summary')), 'the counts are shown');
  await screenshot(page, `${vp}-06-dashboard-synced`);
  assertClean(page, `${vp} sync`);
}

async function waitingLinkSteps(page, vp) {
  const waiting = seed.waiting;
  await page.evaluate((id) => { location.hash = `#/client/${id}`; }, waiting.id);
  await until(page, (name) => document.querySelector('#client-title')?.textContent.includes(name), waiting.name, 'the waiting client\'s page');
  const badge = `.links-table [data-state="CONSENT_WAITING"]`;
  await until(page, (sel) => document.querySelector(sel), badge, 'the link\'s state');
  assertEq(await text(page, badge), 'ждёт подтверждения', 'the link says it waits for the client');
  const action = await text(page, `#link-action-${waiting.linkId}`);
  assertEq(action, 'Проверить согласие', 'the action the manager can take');
  await axe(page, `${vp} waiting link`);
  await screenshot(page, `${vp}-06b-waiting-link`);
  await page.evaluate(() => { location.hash = '#/clients'; });
  await until(page, () => document.querySelector('table.clients tbody tr .client-link'), null, 'back on the dashboard');
}

async function clientSteps(page, vp) {
  await page.locator('table.clients tbody tr .client-link', { hasText: busy.name }).first().click();
  await until(page, (name) => document.querySelector('#client-title') && document.querySelector('#client-title')?.textContent.includes(name), busy.name, 'the client page');
  assert(page.url().includes(`#/client/${busy.id}`), 'the client route');
  await until(page, () => document.querySelector('#tx-range'), null, 'transactions loaded');
  await until(page, () => document.querySelector('#spending-chart svg[role=img]') && document.querySelector('#cashflow-chart svg[role=img]'), null, 'both charts drawn');
  for (const id of ['spending-chart', 'cashflow-chart']) {
    const { title, desc, bars, rows } = await page.$eval(`#${id}`, (el) => ({
      title: el.querySelector('svg > title').textContent,
      desc: el.querySelector('svg > desc').textContent,
      bars: el.querySelectorAll('svg rect').length,
      rows: el.querySelectorAll('details table tbody tr').length,
    }));
    assert(title && desc.length > 20, `${id} has a title and a description`);
    assert(bars > 2, `${id} has bars`);
    assert(rows > 1, `${id} has a table with the same numbers`);
  }
  const legend = await text(page, '#cashflow-chart .chart-legend');
  assert(/штриховка/.test(legend), 'the legend names the patterns, not only colours');
  assertEq(await text(page, '.rating-line .badge'), busy.grade, 'the rating');
  assertEq(await page.locator('table.factors tbody tr').count(), busy.factors, 'the rating factors');
  assert(await page.locator('#client-assets').count() === 1 && await page.locator('#client-debts').count() === 1, 'money and debts apart on the profile');
  // The page is in tabs; Overview first, the others hidden until chosen.
  assertEq(await page.getAttribute('#tab-overview', 'aria-selected'), 'true', 'Overview is the first tab');
  assert(await page.isHidden('#panel-transactions') && await page.isVisible('#panel-overview'), 'one tab panel at a time');
  await axe(page, `${vp} client`);
  await screenshot(page, `${vp}-07-client`);
  await openTab(page, busy.id, 'products');
  // Accounts say whether they are open; deposits and loans, and cards, have sections of their own.
  const accountStates = await page.$$eval('table.accounts tbody tr[data-status]', (trs) => trs.map((tr) => tr.dataset.status));
  assert(accountStates.length > 0 && accountStates.every((s) => s === 'OPEN' || s === 'CLOSED'), `account rows say OPEN or CLOSED: ${accountStates}`);
  assert(await page.isVisible('#agreements-title') && await page.isVisible('#cards-title'), 'the deposits/loans and cards sections');
  // The home bank's share of this client's money and the products held elsewhere: the page
  // shows the API's figures, one row per held-away product.
  const wallet = (await api(page, 'query($id: ID!) { client(id: $id) { shareOfWallet { balances { percent } } heldAway { key } } }', { id: busy.id })).client;
  await until(page, () => document.querySelector('#wallet .wallet-share[data-dimension="walletBalances"]'), null, 'the share of wallet');
  const shown = await text(page, '#wallet .wallet-share[data-dimension="walletBalances"] .wallet-share-pct');
  const pct = wallet.shareOfWallet.balances.percent;
  assert(pct === null ? shown === '—' : shown.replace(/\s/g, '') === `${String(Number(pct)).replace('.', ',')}%`, `the balances' share on the page (${shown}) is the API's (${pct})`);
  assertEq(await page.locator('#wallet table.held-away tbody tr:not(.empty)').count(), wallet.heldAway.length, 'a row per product held elsewhere');
  await axe(page, `${vp} client products`);
  await screenshot(page, `${vp}-07c-client-products`);
  await openTab(page, busy.id, 'analytics');
  await analyticsChecks(page, vp);
  await axe(page, `${vp} client analytics`);
  await openTab(page, busy.id, 'transactions');

  // Paging through transactions.
  const total = busy.transactions;
  const range = async () => (await text(page, '#tx-range')).replace(/\s/g, '');
  assertEq(await range(), `1–50из${total}`, 'the first page of transactions');
  assertEq(await page.locator('table.transactions tbody tr').count(), 50, '50 on a page');
  await page.click('#tx-next');
  const second = Math.min(100, total);
  await until(page, ({ want, n }) => document.querySelector('#tx-range')?.textContent.replace(/\s/g, '') === want
    && document.querySelectorAll('table.transactions tbody tr').length === n, { want: `51–${second}из${total}`, n: second - 50 }, 'the second page of transactions');
  await screenshot(page, `${vp}-08-transactions-page-2`);
  await page.click('#tx-prev');
  await until(page, () => document.querySelector('#tx-range')?.textContent.startsWith('1–50'), null, 'back on the first page');

  // Filters: money in only (the API's count of credits), then a text search.
  await page.selectOption('#tx-direction', 'CREDIT');
  await page.click('#tx-apply');
  await until(page, (n) => {
    const r = document.querySelector('#tx-range')?.textContent.replace(/\s/g, '') || '';
    const rows = [...document.querySelectorAll('table.transactions tbody tr[data-tx-id]')];
    return r.endsWith(`из${n}`) && rows.length === Math.min(50, n) && rows.every((tr) => tr.querySelector('td.credit'));
  }, busy.credits, `the ${busy.credits} credits only`);
  await page.click('#tx-reset');
  await until(page, () => /^1–50 из/.test(document.querySelector('#tx-range')?.textContent.trim() || ''), null, 'filters reset');
  const search = busy.search;
  const onlySearch = () => until(page, ({ n, q }) => {
    const r = document.querySelector('#tx-range')?.textContent.replace(/\s/g, '') || '';
    const rows = [...document.querySelectorAll('table.transactions tbody tr[data-tx-id]')];
    return r === `1–${n}из${n}` && rows.length === n && rows.every((tr) => tr.textContent.toLowerCase().includes(q));
  }, { n: search.count, q: search.text.toLowerCase() }, `the ${search.count} rows matching "${search.text}"`);
  await page.fill('#tx-search', search.text);
  await page.press('#tx-search', 'Enter');
  await onlySearch();

  // Recategorise the newest one, by keyboard, to another category of its direction.
  const row = page.locator('table.transactions tbody tr').first();
  const txId = await row.getAttribute('data-tx-id');
  assertEq(txId, String(search.firstId), 'the newest matching transaction comes first');
  await row.locator('button.link').focus();
  await page.keyboard.press('Enter');
  await until(page, (id) => document.activeElement && document.activeElement.id === `tx-cat-${id}`, txId, 'the category list has the focus');
  const options = await page.$$eval(`#tx-cat-${txId} option`, (os) => os.map((o) => [o.value, o.textContent]));
  const [next, nextLabel] = options.find(([v]) => v && v !== search.firstCategory);
  const original = options.find(([v]) => v === search.firstCategory);
  assert(original, `the list offers the current category ${search.firstCategory}`);
  await page.selectOption(`#tx-cat-${txId}`, next);
  await page.click(`#tx-save-${txId}`);
  await until(page, ({ id, label }) => {
    const r = document.querySelector(`tr[data-tx-id="${id}"]`);
    return r?.querySelector('.category-name')?.textContent === label && /вручную/.test(r.textContent);
  }, { id: txId, label: nextLabel }, 'the new category shown');
  assertEq(await page.evaluate(() => document.activeElement.id), `tx-edit-${txId}`, 'the focus returns to the row');
  await screenshot(page, `${vp}-09-recategorised`);
  // Persisted: a fresh load shows it too, and so does the API.
  await page.reload();
  await page.waitForSelector('#tx-range');
  await page.fill('#tx-search', search.text);
  await page.press('#tx-search', 'Enter');
  await onlySearch();
  await until(page, ({ id, label }) => document.querySelector(`tr[data-tx-id="${id}"] .category-name`)?.textContent === label,
    { id: txId, label: nextLabel }, 'the category persisted');
  const stored = await api(page, 'query($id: ID!, $q: String!) { client(id: $id) { transactions(first: 1, filter: { search: $q }) { edges { node { id category categorySource } } } } }', { id: busy.id, q: search.text });
  const node = stored.client.transactions.edges[0].node;
  assertEq(`${node.id} ${node.category} ${node.categorySource}`, `${txId} ${next} MANUAL`, 'the API has the new category, set by hand');
  // Put it back for the next viewport.
  await page.click(`#tx-edit-${txId}`);
  await page.selectOption(`#tx-cat-${txId}`, original[0]);
  await page.click(`#tx-save-${txId}`);
  await until(page, ({ id, label }) => document.querySelector(`tr[data-tx-id="${id}"] .category-name`)?.textContent === label, { id: txId, label: original[1] }, 'category set back');

  // The exports: the CSV has a line per transaction, the Excel file is a spreadsheet.
  const csv = await pageFetch(page, await page.getAttribute('#export-csv', 'href'));
  assert(csv.status === 200 && /text\/csv/.test(csv.type) && /attachment/.test(csv.disposition), `the CSV export: ${csv.status} ${csv.type} ${csv.disposition}`);
  const lines = csv.text.split('\r\n').filter((l) => l.length);
  assertEq(lines.length - 1, total, 'the CSV export has a line per transaction (and a header)');
  const xlsx = await pageFetch(page, await page.getAttribute('#export-xlsx', 'href'), { text: false });
  assert(xlsx.status === 200 && /spreadsheetml/.test(xlsx.type) && xlsx.head === 'PK', `the Excel export: ${JSON.stringify(xlsx)}`);

  // The profile is editable.
  const phone = vp === 'desktop' ? '+7 900 000-00-01' : '+7 900 000-00-02';
  await openTab(page, busy.id, 'overview');
  await page.click('#profile-edit');
  assertEq(await page.evaluate(() => document.activeElement.id), 'profile-name', 'editing starts at the name');
  await page.fill('#profile-phone', phone);
  await axe(page, `${vp} profile form`);
  await page.click('#profile-save');
  await until(page, (p) => [...document.querySelectorAll('.profile dd')].some((dd) => dd.textContent === p), phone, 'the new phone shown');
  if (vp === 'phone') {
    // The narrowest phones: 360px, nothing scrolls sideways.
    const size = page.viewportSize();
    await page.setViewportSize({ width: 360, height: size.height });
    await page.waitForTimeout(200);
    await axe(page, '360px client');
    await screenshot(page, `${vp}-09b-client-360`);
    await page.setViewportSize(size);
  }
  assertClean(page, `${vp} client`);
}

/** Insights, income, recurring payments, offers and top merchants show what the API says. */
async function analyticsChecks(page, vp) {
  await page.waitForSelector('#insights');
  const insights = await page.$$eval('#insights .insight-text', (els) => els.map((e) => e.textContent));
  assertEq(JSON.stringify(insights), JSON.stringify(busy.insights), 'the insights, warnings first, as the API words them');
  const avg = busy.income.monthlyAverageIncome;
  assertEq(digits(await text(page, '#income-average')), digits(Number(avg.amount).toFixed(2)), 'the average monthly income');
  const salary = await page.$$eval('#income dt', (dts) => dts.map((dt) => dt.textContent));
  assertEq(salary.includes('Работодатель'), busy.income.salaryDetected, 'the employer is shown when a salary is found');
  if (busy.income.employer) assert((await text(page, '#income')).includes(busy.income.employer), 'the employer named');
  const recurring = await page.$$eval('#recurring tbody tr:not(.empty) td:first-child .cell > span:first-child', (els) => els.map((e) => e.textContent));
  assertEq(JSON.stringify(recurring), JSON.stringify(busy.recurring), 'the recurring payments');
  const offers = await page.$$eval('#offers .offer-title', (els) => els.map((e) => e.textContent));
  assertEq(JSON.stringify(offers), JSON.stringify(busy.offers), 'the offers');
  assert(busy.insights.length > 0 || busy.offers.length > 0, 'the demo client has something to say');
  // Top merchants follow the period; the page's list is the API's for the same 90 days.
  await until(page, () => document.querySelector('#top-merchants tbody tr'), null, 'the top merchants');
  const shown = await page.$$eval('#top-merchants tbody tr:not(.empty) td:first-child', (tds) => tds.map((td) => td.textContent));
  const to = new Date();
  const from = new Date(to.getTime() - 90 * 86400000);
  const top = await api(page, 'query($id: ID!, $from: DateTime!, $to: DateTime!) { client(id: $id) { topMerchants(from: $from, to: $to, first: 10) { merchant } } }',
    { id: busy.id, from: from.toISOString(), to: to.toISOString() });
  assertEq(JSON.stringify(shown), JSON.stringify(top.client.topMerchants.map((m) => m.merchant)), `${vp}: the top merchants of the last 90 days`);
  // The forecast: a chart per currency of the client's money, and the API's expected items.
  const fc = await api(page, 'query($id: ID!) { client(id: $id) { forecast(days: 30) { currencies { currency } items { label } } } }', { id: busy.id });
  const charts = await page.$$eval('#forecast .forecast-currency', (els) => els.map((e) => e.dataset.currency));
  assertEq(JSON.stringify(charts), JSON.stringify(fc.client.forecast.currencies.map((c) => c.currency)), `${vp}: a forecast chart per currency`);
  assert(charts.length > 0 && (await page.$$('#forecast svg.chart polyline.balance-line')).length === charts.length, `${vp}: each currency's balance drawn as a line`);
  const expected = await page.$$eval('#forecast .forecast-items tbody tr:not(.empty) td:nth-child(3)', (tds) => tds.map((td) => td.textContent));
  assertEq(JSON.stringify(expected), JSON.stringify(fc.client.forecast.items.map((i) => i.label)), `${vp}: the forecast's expected items`);
  await screenshot(page, `${vp}-07b-client-analytics`);
}

async function assistantSteps(context, vp, realAssistant) {
  const page = await context.newPage();
  openPages.add(page);
  page.problems = [];
  page.allowedConsole = [];
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`console: ${m.text()}`); });
  page.on('dialog', (d) => { page.problems.push(`dialog: ${d.message()}`); d.dismiss().catch(() => {}); });
  let seen = null;
  if (!realAssistant) {
    seen = await mockAssistant(page, {
      suggestions: ['Проанализируй расходы клиента', 'Что предложить клиенту?'],
      answer: (q) => (/предложить/.test(q)
        ? '## Предложения\n\n1. Кэшбэк-карта на **продукты**\n2. Накопительный счёт под 14%\n\nНа этом всё, но ответ длинный, чтобы его можно было остановить посередине. '.repeat(4)
        : '## Расходы\n\nКрупнейшие категории:\n\n- **Покупки** — 34 990 ₽\n- *Продукты* — 12 499 ₽\n\n| Категория | Доля |\n|---|---:|\n| Покупки | 41% |\n| Продукты | 15% |\n\nИтог: расходы стабильны.'),
    });
  }
  await page.goto(`${env.base}/#/client/${busy.id}`);
  await page.waitForSelector('#client-title .badge');
  await page.click('#assistant-toggle');
  await page.waitForSelector('#assistant:not([hidden])');
  assertEq(await page.getAttribute('#assistant-toggle', 'aria-expanded'), 'true', 'the toggle says the panel is open');
  assert((await text(page, '#assistant-context')).includes(busy.name), 'questions are about this client');
  await page.waitForSelector('#assistant .chip');

  // Ask a suggested question and watch the answer arrive in several steps.
  await page.evaluate(() => {
    window.__answerSteps = [];
    const panel = document.querySelector('#assistant');
    new MutationObserver(() => {
      const a = [...document.querySelectorAll('.assistant-answer')].pop();
      if (a) window.__answerSteps.push(a.textContent.length);
    }).observe(panel, { subtree: true, childList: true, characterData: true });
  });
  await page.locator('#assistant .chip').first().click();
  await until(page, () => !document.querySelector('#assistant-stop')?.hidden, null, 'the stop button while streaming');
  await until(page, () => document.querySelector('.assistant-log .qa-done'), null, 'the answer finished', 60000);
  const steps = await page.evaluate(() => [...new Set(window.__answerSteps)].filter((n) => n > 0));
  assert(steps.length >= 3, `the answer arrived in several steps: ${steps}`);
  assert(await page.isHidden('#assistant-stop'), 'no stop button after the answer');
  const answer = page.locator('.assistant-log .qa-done .assistant-answer').last();
  if (!realAssistant) {
    assert((await answer.locator('.md-h').count()) === 1 && (await answer.locator('ul > li').count()) === 2, 'Markdown headings and lists render');
    assert((await answer.locator('table td').count()) === 4, 'the Markdown table renders');
    assert(/scripted-test-model/.test(await text(page, '.assistant-log .qa-done .assistant-state')), 'the model is named');
  }
  await axe(page, `${vp} assistant`);
  await screenshot(page, `${vp}-10-assistant`);

  // A second question, stopped halfway.
  await page.fill('#assistant-question', 'Что предложить клиенту?');
  await page.press('#assistant-question', 'Enter');
  await until(page, () => !document.querySelector('#assistant-stop')?.hidden
    && [...document.querySelectorAll('.assistant-answer')].pop()?.textContent.length > 20, null, 'the second answer streaming');
  await page.click('#assistant-stop');
  await until(page, () => document.querySelector('.assistant-log .qa-stopped'), null, 'the answer stopped');
  if (seen) {
    await page.waitForTimeout(300);
    assert(seen.stops.length >= 1, 'the stop button sent `complete` for the subscription');
    const first = seen.frames[0];
    assertEq(first && first.type, 'connection_init', 'the socket starts with connection_init');
  }
  assertEq(await page.locator('.assistant-log .qa').count(), 2, 'the conversation keeps both questions');

  if (realAssistant) {
    // The server keeps the conversations: the panel lists the client's earlier ones as the API
    // has them, and opening one shows its turns.
    const CONV = 'query($id: ID!) { client(id: $id) { conversations(first: 10) { id title turns { question } } } }';
    const stored = (await api(page, CONV, { id: busy.id })).client.conversations;
    assert(stored.length >= 1, 'the answered question is stored as a conversation');
    await until(page, (n) => document.querySelector('#assistant-past-summary')?.textContent.includes(`(${n})`), stored.length,
      `the panel lists the ${stored.length} stored conversations`);
    await page.click('#assistant-past-summary');
    const listed = await page.$$eval('#assistant-past li.past', (lis) => lis.map((li) => li.dataset.conversationId));
    assertEq(JSON.stringify(listed), JSON.stringify(stored.map((c) => c.id)), 'the conversations in the API\'s order');
    // The stopped answer may still be landing on the server: reopen until the page and the
    // API agree (the page asks the server for the conversation each time it is opened).
    const ONE = 'query($id: ID!) { conversation(id: $id) { turns { question } } }';
    let agreed = null;
    for (let attempt = 0; attempt < 20 && !agreed; attempt++) {
      if (!(await page.evaluate(() => document.querySelector('#assistant-past details')?.open))) await page.click('#assistant-past-summary');
      await page.locator('#assistant-past li.past button').first().click();
      await until(page, () => document.querySelectorAll('.assistant-log .qa-done').length > 0, null, 'the earlier conversation shown');
      await page.waitForTimeout(150);
      const want = (await api(page, ONE, { id: stored[0].id })).conversation.turns.map((t) => t.question);
      const got = await page.$$eval('.assistant-log .assistant-q', (ps) => ps.map((p) => p.lastChild.textContent));
      if (JSON.stringify(want) === JSON.stringify(got)) agreed = got;
    }
    assert(agreed && agreed.length >= 1, 'the earlier conversation is shown turn by turn, as the API has it');
    await screenshot(page, `${vp}-10b-assistant-history`);
  }

  // Escape closes the panel and gives the focus back to its button.
  await page.focus('#assistant-question');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#assistant', { state: 'hidden' });
  assertEq(await page.evaluate(() => document.activeElement.id), 'assistant-toggle', 'focus back on the toggle');
  const problems = page.problems.filter((p) => !/favicon/.test(p));
  assert(!problems.length, `${vp} assistant: ${problems.join('\n')}`);
  await page.close();
}

async function sessionSteps(page, context, vp) {
  // The session ends under the manager's feet: the next request brings the login back, and
  // signing in returns to the same client.
  await openTab(page, busy.id, 'transactions');
  await context.clearCookies();
  await page.fill('#tx-search', '');
  await page.press('#tx-search', 'Enter');
  await page.waitForSelector('#login-form');
  assert(/Сессия закончилась/.test(await text(page, '#login-message')), 'the login says the session ended');
  assert(page.url().includes(`#/client/${busy.id}`), 'the route is kept');
  await signIn(page);
  await until(page, (name) => document.querySelector('#client-title') && document.querySelector('#client-title')?.textContent.includes(name), busy.name, 'back on the same client');
  await until(page, () => document.querySelector('#tab-transactions')?.getAttribute('aria-selected') === 'true', null, 'on the same tab');
  assertClean(page, `${vp} session`);
}

async function rulesSteps(page, vp) {
  // Category rules: add one (it starts a re-categorisation, shown until it ends, with the
  // API's numbers), see it listed, delete it.
  await page.click('#rules-link');
  await page.waitForSelector('#rules-title');
  await until(page, () => document.querySelector('#rule-category option'), null, 'the categories in the form');
  const pattern = `browsertest${vp}`;
  await page.fill('#rule-pattern', pattern);
  await page.selectOption('#rule-field', 'MERCHANT');
  await page.selectOption('#rule-category', 'ENTERTAINMENT');
  await page.fill('#rule-priority', '5');
  await page.press('#rule-priority', 'Enter');
  await until(page, (p) => [...document.querySelectorAll('.rules-table tbody tr[data-rule-id]')].some((tr) => tr.textContent.includes(p)), pattern, 'the new rule listed');
  await until(page, () => ['FINISHED', 'FAILED'].includes(document.querySelector('#recat')?.dataset.status), null, 'the re-categorisation ended', 60000);
  const data = await api(page, '{ categoryRules { id pattern field category priority } recategorisation { id status rowsScanned rowsChanged } }');
  const rule = data.categoryRules.find((r) => r.pattern === pattern);
  assert(rule && rule.field === 'MERCHANT' && rule.category === 'ENTERTAINMENT' && rule.priority === 5, `the API has the rule: ${JSON.stringify(data.categoryRules)}`);
  const run = data.recategorisation;
  assertEq(run.status, 'FINISHED', 'the re-categorisation finished');
  const line = (await text(page, '#recat')).replace(/\s/g, '');
  assert(line.includes(`просмотрено${run.rowsScanned.toLocaleString('ru-RU').replace(/\s/g, '')}`) && line.includes(`изменено${run.rowsChanged}`),
    `the re-categorisation's numbers are the API's (${run.rowsScanned} scanned, ${run.rowsChanged} changed): ${line}`);
  assertEq(await page.locator('.rules-table tbody tr[data-rule-id]').count(), data.categoryRules.length, 'every rule listed');
  await axe(page, `${vp} rules`);
  await screenshot(page, `${vp}-14-rules`);
  await page.click(`#rule-delete-${rule.id}`);
  await until(page, (id) => !document.querySelector(`tr[data-rule-id="${id}"]`), rule.id, 'the rule deleted');
  await until(page, () => ['FINISHED', 'FAILED'].includes(document.querySelector('#recat')?.dataset.status), null, 'the re-categorisation after the deletion ended', 60000);
  const after = await api(page, '{ categoryRules { id } }');
  assert(!after.categoryRules.some((r) => r.id === rule.id), 'the API no longer has the rule');
  assertClean(page, `${vp} rules`);
  await page.goBack();
  await page.waitForSelector('#client-title .badge');
}

const REVIEW_API = `{ transactionsToReview(first: 100) { totalCount edges { node { id category categorySource categoryConfidence description merchant client { id displayName } } } } }`;

async function reviewSteps(page, vp) {
  // Needs review: the rows the categoriser was unsure of, as the API lists them; one confirmed
  // (it becomes a person's choice and leaves the list), another corrected to another category,
  // a third's "rule" opening the rules form filled in with its merchant or brand.
  const before = (await api(page, REVIEW_API)).transactionsToReview;
  assert(before.totalCount >= 3, `the demo has rows to review: ${before.totalCount}`);
  await page.click('#review-link');
  await page.waitForSelector('#review-title');
  await until(page, () => document.querySelector('.review-table tbody tr[data-tx-id] select option'), null, 'the rows with their category choices');
  const ids = await page.$$eval('.review-table tbody tr[data-tx-id]', (rows) => rows.map((r) => r.dataset.txId));
  assertEq(ids.slice(0, 5).join(), before.edges.slice(0, 5).map((e) => e.node.id).join(), 'the rows in the API\'s order');
  const count = (await text(page, '#review-count')).replace(/\s/g, '');
  assert(count.endsWith(String(before.totalCount)), `the count says the API's total ${before.totalCount}: ${count}`);
  const first = before.edges[0].node;
  assert(first.categoryConfidence < 60, `a row below the bar: ${JSON.stringify(first)}`);
  const firstRow = page.locator(`tr[data-tx-id="${first.id}"]`);
  assert((await firstRow.textContent()).includes(first.client.displayName), 'the row names its client');
  await axe(page, `${vp} review`);
  await screenshot(page, `${vp}-14b-review`);

  // Confirm the first row, with the keyboard.
  await page.focus(`#review-confirm-${first.id}`);
  await page.keyboard.press('Enter');
  await until(page, (id) => !document.querySelector(`tr[data-tx-id="${id}"]`), first.id, 'the confirmed row left the list');
  await until(page, (d) => document.getElementById('announcer').textContent.includes(d), first.description, 'the confirmation announced');
  assert((await text(page, '#announcer')).includes('подтверждена'), 'said as a confirmation');

  // Correct the second row to another category of its direction.
  const second = before.edges[1].node;
  const other = await page.$eval(`#review-cat-${second.id}`, (el) => [...el.options].map((o) => o.value).find((v) => v !== el.value));
  await page.selectOption(`#review-cat-${second.id}`, other);
  await page.click(`#review-correct-${second.id}`);
  await until(page, (id) => !document.querySelector(`tr[data-tx-id="${id}"]`), second.id, 'the corrected row left the list');

  const after = (await api(page, REVIEW_API)).transactionsToReview;
  assertEq(after.totalCount, before.totalCount - 2, 'two rows fewer to review in the API');
  const stored = async (x) => (await api(page, 'query($c: ID!, $s: String!) { client(id: $c) { transactions(first: 100, filter: { search: $s }) { edges { node { id category categorySource categoryConfidence } } } } }',
    { c: x.client.id, s: x.description })).client.transactions.edges.map((e) => e.node).find((n) => n.id === x.id);
  const confirmed = await stored(first);
  assert(confirmed.category === first.category && confirmed.categorySource === 'MANUAL' && confirmed.categoryConfidence === null, `confirmed in the API: ${JSON.stringify(confirmed)}`);
  const corrected = await stored(second);
  assert(corrected.category === other && corrected.categorySource === 'MANUAL', `corrected in the API to ${other}: ${JSON.stringify(corrected)}`);
  const count2 = (await text(page, '#review-count')).replace(/\s/g, '');
  assert(count2.endsWith(String(after.totalCount)), `the count follows: ${count2}`);
  assertClean(page, `${vp} review`);

  // The rule action: the rules form with the row's merchant (or brand) and category filled in.
  const third = (await Promise.all(after.edges.map(async (e) => ((await page.locator(`#review-rule-${e.node.id}`).count()) ? e.node : null)))).find(Boolean);
  assert(third, 'a row offers a rule');
  await page.click(`#review-rule-${third.id}`);
  await page.waitForSelector('#rules-title');
  await until(page, () => document.querySelector('#rule-category option'), null, 'the categories in the form');
  const pattern = await page.inputValue('#rule-pattern');
  if (third.merchant) assertEq(pattern, third.merchant.trim(), 'the pattern is the merchant');
  else assert(pattern && third.description.startsWith(pattern), `the pattern is the description's beginning: ${pattern}`);
  assertEq(await page.inputValue('#rule-field'), third.merchant ? 'MERCHANT' : 'DESCRIPTION', 'the field filled in');
  assertEq(await page.inputValue('#rule-category'), third.category, 'the category filled in');
  await page.goBack();
  await page.waitForSelector('#review-title');
  await page.goBack();
  await page.waitForSelector('#client-title .badge');
}

async function notesSteps(page, vp) {
  // A note on the client: written, listed newest first with its kind, author and Markdown,
  // then deleted by its author.
  await openTab(page, busy.id, 'notes');
  await page.waitForSelector('#notes-title');
  const body = `Звонок: обсудили **вклад** (${vp})`;
  await page.selectOption('#note-kind', 'CALL');
  await page.fill('#note-body', body);
  await page.click('#note-submit');
  await until(page, () => document.querySelector('#notes-list .note'), null, 'the note listed');
  const first = page.locator('#notes-list .note').first();
  const head = await first.locator('.note-head').textContent();
  assert(/Звонок/.test(head) && head.includes(env.username), `the note's kind and author: ${head}`);
  assertEq(await first.locator('.note-body strong').textContent(), 'вклад', 'the note\'s Markdown is shown');
  await axe(page, `${vp} notes`);
  await first.scrollIntoViewIfNeeded();
  await screenshot(page, `${vp}-16-notes`);
  const id = await first.getAttribute('data-note-id');
  await page.click(`#note-delete-${id}`);
  await until(page, (i) => !document.querySelector(`[data-note-id="${i}"]`), id, 'the note deleted');
  assertClean(page, `${vp} notes`);
}

async function briefSteps(page, vp) {
  // A meeting brief: written from the client's page, shown as the API stored it, its PDF
  // downloaded (a PDF with the Cyrillic font in it), and printed: the print view shows the
  // brief without the app's navigation.
  await openTab(page, busy.id, 'overview');
  // The page opens on the client's latest brief (the other viewport's): wait for a new one.
  const before = await page.evaluate(() => document.querySelector('#brief')?.dataset.briefId || null);
  await page.click('#brief-generate');
  await until(page, (b) => {
    const el = document.querySelector('#brief');
    return el && el.dataset.briefId !== b && el.querySelector('.brief-text li')
      && !document.querySelector('#brief-generate').disabled;
  }, before, 'the new brief shown');
  const stored = (await api(page, `query($id: ID!) { client(id: $id) { briefs(first: 1) { id text pdfUrl } } }`,
    { id: busy.id })).client.briefs[0];
  assertEq(await page.getAttribute('#brief', 'data-brief-id'), stored.id, 'the brief shown is the one stored');
  const shown = await text(page, '#brief .brief-text');
  const squeeze = (s) => s.replace(/\s+/g, ' ').trim();
  const lines = stored.text.split('\n').filter((l) => l.startsWith('- ') && /\d/.test(l));
  assert(lines.length >= 3, `the brief has lines with figures: ${stored.text}`);
  for (const line of lines) assert(shown.includes(squeeze(line.slice(2))), `the page shows "${line}"`);
  const href = await page.getAttribute('#brief-pdf', 'href');
  assertEq(href, stored.pdfUrl, 'the PDF link is the brief\'s');
  const pdf = await pageFetch(page, href);
  assertEq(pdf.status, 200, 'the PDF downloads');
  assertEq(pdf.type, 'application/pdf', 'the PDF\'s type');
  assert(pdf.text.startsWith('%PDF-'), 'a PDF file');
  assert(pdf.text.includes('DejaVuSans'), 'the Cyrillic font is embedded');
  assert(/^attachment; filename="brief-\d+-\d+-\d{8}\.pdf"$/.test(pdf.disposition), `a safe file name: ${pdf.disposition}`);
  await axe(page, `${vp} brief`);
  await page.emulateMedia({ media: 'print' });
  assert(await page.isVisible('#brief .brief-text'), 'the brief is printed');
  for (const chrome of ['header.top', '#brief-generate', '.tabs', '#client-title', '#brief-print']) {
    assert(!(await page.isVisible(chrome)), `${chrome} is not printed`);
  }
  await screenshot(page, `${vp}-16-brief-print`);
  const printed = await page.pdf({ format: 'A4' });
  assert(printed.subarray(0, 5).toString() === '%PDF-', 'the print view prints to PDF');
  await page.emulateMedia({ media: 'screen' });
  await page.click('#brief-close');
  await until(page, () => !document.querySelector('#brief') && !document.body.classList.contains('has-brief'), null, 'the brief hidden');
  assertClean(page, `${vp} brief`);
}

/** A browser of its own signed in as `username` with a temporary password: only the password page. */
async function signInTemporary(browser, viewport, username, temporary) {
  const opened = await openPage(browser, viewport);
  const { page } = opened;
  await page.goto(`${env.base}/`);
  await page.waitForSelector('#login-username');
  await page.fill('#login-username', username);
  await page.fill('#login-password', temporary);
  await page.click('#login-submit');
  await page.waitForSelector('#password-title');
  assert(/временным паролем/.test(await text(page, '#password-required')), 'the page says why');
  return opened;
}

async function passwordSteps(browser, adminPage, vp, viewport) {
  // An administrator resets a manager's password; the manager signs in with the temporary one,
  // can do nothing but choose a new password, then sees their book (empty: no clients yet).
  const username = `browser-${vp}`;
  const created = await api(adminPage, 'mutation($u: String!) { createUser(input: { username: $u, password: "first-password-123", role: MANAGER }) { id } }', { u: username });
  const reset = await api(adminPage, 'mutation($id: ID!) { resetPassword(userId: $id) { password } }', { id: created.createUser.id });
  const temporary = reset.resetPassword.password;
  const { context, page } = await signInTemporary(browser, viewport, username, temporary);
  assert(await page.locator('#rules-link').isHidden(), 'nothing else is offered');
  await page.fill('#password-current', temporary);
  await page.fill('#password-new', 'second-password-123');
  await page.fill('#password-repeat', 'second-password-12');
  await page.click('#password-submit');
  await until(page, () => /не совпадают/.test(document.querySelector('#password-message')?.textContent || ''), null, 'a mismatch is refused');
  await axe(page, `${vp} password`);
  await screenshot(page, `${vp}-15-password`);
  await page.fill('#password-repeat', 'second-password-123');
  await page.click('#password-submit');
  await until(page, () => /Пароль изменён/.test(document.querySelector('#password-message')?.textContent || ''), null, 'the password changed');
  await page.goto(`${env.base}/#/clients`);
  await page.waitForSelector('#dashboard-title');
  const me = await api(page, '{ me { passwordChangeRequired } clients { totalCount } }');
  assertEq(me.me.passwordChangeRequired, false, 'no change is required any more');
  assertEq(me.clients.totalCount, 0, 'a new manager\'s book is empty');
  assertClean(page, `${vp} password`);
  await context.close();
}

/** Switches the language, runs `fn` in English, and switches back to Russian. */
async function inEnglish(page, heading, english, fn) {
  await page.click('#lang-toggle');
  await until(page, ({ sel, want }) => document.querySelector(sel)?.textContent.includes(want), { sel: heading, want: english }, `${heading} in English`);
  await fn();
  await page.click('#lang-toggle');
  await until(page, (sel) => document.documentElement.lang === 'ru' && document.querySelector(sel), heading, 'Russian again');
}

/** On a client's page: deletes it through the confirmation step (a wrong name first). */
async function deleteClientSteps(page, vp, name, { shots = false } = {}) {
  await page.click('#delete-client');
  await until(page, () => document.activeElement?.id === 'delete-confirm-name', null, 'the confirmation asks for the name, focused');
  await page.keyboard.type(`${name} нет`);
  await page.keyboard.press('Enter');
  await until(page, () => /не совпадает/.test(document.querySelector('#delete-message')?.textContent || ''), null, 'a wrong name is refused');
  assertEq(await page.evaluate(() => document.activeElement.id), 'delete-confirm-name', 'the focus stays on the name');
  if (shots) {
    await axe(page, `${vp} delete confirmation`);
    await screenshot(page, `${vp}-21-delete-confirm`);
  }
  // Escape cancels, keeping the client; then again, with the right name.
  await page.keyboard.press('Escape');
  await until(page, () => document.activeElement?.id === 'delete-client', null, 'Escape cancels, the focus back on the button');
  await page.keyboard.press('Enter');
  await until(page, () => document.activeElement?.id === 'delete-confirm-name', null, 'the confirmation again');
  await page.keyboard.type(name);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#dashboard-title');
  await until(page, () => document.querySelectorAll('table.clients tbody tr.clickable').length > 0, null, 'the dashboard after the deletion');
  const left = await api(page, 'query($q: String!) { clients(filter: { search: $q }) { edges { node { displayName } } } }', { q: name });
  assert(!left.clients.edges.some((e) => e.node.displayName === name), `the API no longer has ${name}`);
}

/** Creates a client from the dashboard's form; resolves on the new client's page with its id. */
async function newClientSteps(page, vp, name, { shots = false } = {}) {
  await page.evaluate(() => { location.hash = '#/clients'; });
  await page.waitForSelector('#new-client-toggle');
  await page.click('#new-client-toggle');
  await until(page, () => document.activeElement?.id === 'new-client-name', null, 'the new client form, name focused');
  // Nothing typed: the form says what is missing.
  await page.click('#new-client-submit');
  await until(page, () => /Укажите имя/.test(document.querySelector('#new-client-message')?.textContent || ''), null, 'a name is required');
  await page.fill('#new-client-name', name);
  assertEq(await text(page, '#new-client-message'), '', 'typing the name takes the "enter the name" away');
  await page.fill('#new-client-email', `${vp}.client@example.org`);
  if (shots) {
    await axe(page, `${vp} new client`);
    await screenshot(page, `${vp}-19-new-client`);
    await inEnglish(page, '#new-client-title', 'New client', async () => {
      assertEq(await page.inputValue('#new-client-name'), name, 'what was typed survives the language switch');
      await screenshot(page, `${vp}-19-new-client-en`);
    });
  }
  await page.click('#new-client-submit');
  await until(page, (n) => document.querySelector('#client-title')?.textContent.includes(n), name, 'the new client\'s page');
  const id = decodeURIComponent(/#\/client\/([^?]+)/.exec(page.url())[1]);
  const stored = await api(page, 'query($id: ID!) { client(id: $id) { displayName email status } }', { id });
  assertEq(JSON.stringify(stored.client), JSON.stringify({ displayName: name, email: `${vp}.client@example.org`, status: 'ACTIVE' }), 'the API has the new client');
  await page.waitForSelector('#client-book');
  return id;
}

async function adminSteps(browser, page, vp, viewport) {
  // An administrator makes a team and a manager in it, resets the manager's password (shown
  // once), gives the team the manager as its lead, creates a client and deletes it (with the
  // confirmation), creates another and assigns it to the manager; the manager signs in with the
  // temporary password, must choose a new one, and finds the client on the dashboard.
  const team = `Отдел ${vp}`;
  const username = `mgr-${vp}`;
  await page.click('#admin-link');
  await page.waitForSelector('#admin-title');
  assertEq(await text(page, '#admin-title'), 'Пользователи', 'the users page');
  await until(page, () => document.querySelector('.users-table tbody tr[data-user-id]'), null, 'the users listed');
  const before = await api(page, '{ users { id username } }');
  assertEq(await page.locator('.users-table tbody tr[data-user-id]').count(), before.users.length, 'every user listed');

  // A team first.
  await page.click('#admin-tab-teams');
  await page.waitForSelector('#team-name');
  await page.click('#team-submit');
  await until(page, () => /Укажите название/.test(document.querySelector('#team-message')?.textContent || ''), null, 'a name is required');
  assertEq(await page.evaluate(() => document.activeElement.id), 'team-name', 'the focus goes to the field');
  await page.fill('#team-name', team);
  await page.click('#team-submit');
  await until(page, (n) => document.querySelector('#team-message')?.textContent === `Команда «${n}» создана.`, team, 'the team created');
  assertEq(await page.evaluate(() => document.activeElement.id), 'team-message', 'the focus goes to the result');
  const teams = await api(page, '{ teams { id name lead { username } } }');
  const made = teams.teams.find((x) => x.name === team);
  assert(made && !made.lead, `the API has the team, no lead yet: ${JSON.stringify(teams.teams)}`);
  // The same name again: the server's refusal is shown next to the form.
  await page.fill('#team-name', team);
  await page.click('#team-submit');
  await until(page, () => /Сервер не принял данные/.test(document.querySelector('#team-message')?.textContent || ''), null, 'a taken name is refused');
  assertEq(await page.getAttribute('#team-message', 'role'), 'alert', 'the refusal is announced');
  await page.fill('#team-name', '');

  // A manager in that team.
  await page.click('#admin-tab-users');
  await page.waitForSelector('#user-username');
  await until(page, (n) => [...document.querySelectorAll('#user-team option')].some((o) => o.textContent === n), team, 'the new team offered');
  await page.fill('#user-username', username);
  await page.fill('#user-password', 'short');
  await page.click('#user-submit');
  await until(page, () => /Не короче 12/.test(document.querySelector('#user-message')?.textContent || ''), null, 'a short password is refused');
  await page.fill('#user-password', 'initial-password-123');
  await page.selectOption('#user-role', 'MANAGER');
  await page.selectOption('#user-team', made.id);
  await page.click('#user-submit');
  await until(page, (n) => document.querySelector('#user-message')?.textContent === `Пользователь ${n} создан.`, username, 'the user created');
  const users = await api(page, '{ users { id username role disabled passwordChangeRequired team { id name } } }');
  const user = users.users.find((u) => u.username === username);
  assert(user && user.role === 'MANAGER' && user.team && user.team.id === made.id && !user.disabled, `the API has the manager in the team: ${JSON.stringify(user)}`);
  const row = `.users-table tr[data-user-id="${user.id}"]`;
  await until(page, (sel) => document.querySelector(sel), row, 'the new user listed');
  assertEq(await page.$eval(`#user-team-${user.id}`, (el) => el.selectedOptions[0].textContent), team, 'the row shows the team');
  // The same username again: the server says why.
  await page.fill('#user-username', username);
  await page.fill('#user-password', 'initial-password-123');
  await page.click('#user-submit');
  await until(page, () => /Сервер не принял данные: .*already exists/.test(document.querySelector('#user-message')?.textContent || ''), null, 'a taken username is refused');
  await page.fill('#user-username', '');
  await page.fill('#user-password', '');

  // Disabled and enabled again.
  await page.click(`#user-disable-${user.id}`);
  await until(page, (sel) => document.querySelector(`${sel} [data-state="disabled"]`), row, 'the user disabled');
  assertEq((await api(page, '{ users { username disabled } }')).users.find((u) => u.username === username).disabled, true, 'disabled in the API');
  await page.click(`#user-disable-${user.id}`);
  await until(page, (sel) => document.querySelector(`${sel} [data-state="active"]`), row, 'the user enabled');

  // The temporary password, shown once.
  await page.click(`#user-reset-${user.id}`);
  await until(page, () => document.activeElement?.id === 'temp-password-title', null, 'the temporary password shown and focused');
  const temporary = await text(page, '#temp-password');
  assert(temporary.length >= 12, `a temporary password is shown: ${temporary}`);
  assert(/один раз/.test(await text(page, '#temp-password-box')), 'the box warns it is shown once');
  await until(page, (sel) => document.querySelector(`${sel} [data-state="must-change"]`), row, 'the row says the password must be changed');
  await page.click('#temp-password-copy');
  await until(page, () => (document.querySelector('#temp-password-copied')?.textContent || '').length > 0, null, 'the copy button answers');
  await axe(page, `${vp} users`);
  await screenshot(page, `${vp}-17-admin-users`);
  await inEnglish(page, '#admin-title', 'Users', async () => {
    assertEq(await text(page, '#temp-password'), temporary, 'the password stays while the page is open');
    await axe(page, `${vp} users (English)`);
    await screenshot(page, `${vp}-17-admin-users-en`);
  });
  await page.click('#temp-password-done');
  await until(page, () => !document.querySelector('#temp-password'), null, 'the password hidden');
  assertEq(await page.evaluate(() => document.activeElement.id), `user-reset-${user.id}`, 'the focus back on the row');

  // The team: renamed, the manager as its lead.
  await page.click('#admin-tab-teams');
  await page.waitForSelector(`#team-edit-${made.id}`);
  await page.click(`#team-edit-${made.id}`);
  await until(page, () => document.activeElement?.id === 'team-edit-name', null, 'editing starts at the name');
  await page.fill('#team-edit-name', `${team} продаж`);
  await page.selectOption('#team-edit-lead', user.id);
  await page.click('#team-edit-save');
  await until(page, ({ id, lead }) => document.querySelector(`tr[data-team-id="${id}"] .team-lead`)?.textContent === lead, { id: made.id, lead: username }, 'the new lead shown');
  assertEq(await page.evaluate(() => document.activeElement.id), `team-edit-${made.id}`, 'the focus back on the row');
  const members = await page.$eval(`tr[data-team-id="${made.id}"] .members`, (el) => el.textContent);
  assert(members.includes(username), `the manager is a member: ${members}`);
  const edited = (await api(page, '{ teams { id name lead { username } } }')).teams.find((x) => x.id === made.id);
  assertEq(`${edited.name} ${edited.lead && edited.lead.username}`, `${team} продаж ${username}`, 'the API has the new name and lead');
  await axe(page, `${vp} teams`);
  await screenshot(page, `${vp}-18-admin-teams`);
  await page.click(`#team-edit-${made.id}`);
  await inEnglish(page, '#admin-title', 'Teams', async () => {
    await axe(page, `${vp} teams (English)`);
    await screenshot(page, `${vp}-18-admin-teams-en`);
  });
  await page.focus('#team-edit-name');
  await page.keyboard.press('Escape');
  await until(page, (id) => !document.querySelector('#team-edit-form') && document.activeElement?.id === `team-edit-${id}`, made.id, 'Escape closes the form, the focus back on the row');
  assertClean(page, `${vp} administration`);

  // A client created and deleted again.
  const gone = `Удаляемый клиент ${vp}`;
  await newClientSteps(page, vp, gone, { shots: true });
  await deleteClientSteps(page, vp, gone, { shots: true });

  // A client for the manager.
  const theirs = `Клиент менеджера ${vp}`;
  const clientId = await newClientSteps(page, vp, theirs);
  await until(page, (id) => [...document.querySelectorAll('#assign-owner option')].some((o) => o.value === id), user.id, 'the manager offered');
  await page.selectOption('#assign-owner', user.id);
  await page.click('#assign-submit');
  await until(page, (n) => document.querySelector('#client-owner')?.textContent === n, username, 'the new owner on the profile');
  assertEq(await page.evaluate(() => document.activeElement.id), 'assign-message', 'the focus goes to the result');
  const owned = await api(page, 'query($id: ID!) { client(id: $id) { owner { username } team { name } } }', { id: clientId });
  assertEq(`${owned.client.owner.username} ${owned.client.team.name}`, `${username} ${team} продаж`, 'the API has the new owner and team');
  await axe(page, `${vp} client assigned`);
  await screenshot(page, `${vp}-20-client-assigned`);
  await inEnglish(page, '#client-book-title', 'Manager and deletion', async () => {
    assertEq(await text(page, '#assign-message'), `The client now belongs to ${username}.`, 'the result follows the language');
    await screenshot(page, `${vp}-20-client-assigned-en`);
  });
  assertClean(page, `${vp} clients`);

  // The manager: the temporary password, a new one, and the client on the dashboard.
  const manager = await signInTemporary(browser, viewport, username, temporary);
  const mp = manager.page;
  assert(await mp.locator('#admin-link').isHidden(), 'no administration for a manager');
  await mp.fill('#password-current', temporary);
  await mp.fill('#password-new', 'managers-own-password');
  await mp.fill('#password-repeat', 'managers-own-password');
  await mp.click('#password-submit');
  await until(mp, () => /Пароль изменён/.test(document.querySelector('#password-message')?.textContent || ''), null, 'the password changed');
  await mp.goto(`${env.base}/#/clients`);
  await until(mp, () => document.querySelector('table.clients tbody tr .client-link'), null, 'the manager\'s clients');
  const names = await mp.$$eval('table.clients tbody tr .client-link', (as) => as.map((a) => a.textContent));
  assert(names.includes(theirs), `the assigned client is on the manager's dashboard: ${names}`);
  assert(await mp.locator('#new-client-toggle').isVisible(), 'a manager may create clients');
  assert(await mp.locator('#admin-link').isHidden(), 'still no administration');
  await axe(mp, `${vp} manager's dashboard`);
  await screenshot(mp, `${vp}-22-manager-dashboard`);
  // The client's owner may delete it but not give it away (that is for leads and administrators,
  // and the manager leads the team: still no list of users to offer).
  await mp.click(`a.client-link[href="#/client/${clientId}"]`);
  await mp.waitForSelector('#client-book');
  assert(await mp.locator('#delete-client').isVisible(), 'the owner may delete the client');
  assert(await mp.locator('#assign-form').count() === 0, 'no assignment without a list of users');
  assertClean(mp, `${vp} manager`);
  await manager.context.close();

  // The administrator deletes it again, so the next round sees the demo as it was.
  await page.reload();
  await page.waitForSelector('#client-book');
  await deleteClientSteps(page, vp, theirs);
  // Where the next steps expect to be: the busiest client's page.
  await page.evaluate((id) => { location.hash = `#/client/${id}`; }, busy.id);
  await page.waitForSelector('#client-title .badge');
  assertClean(page, `${vp} administration done`);
}

/** Opens a tab of the client's page by clicking it: selected, its panel shown, the tab in the route. */
async function openTab(page, clientId, tab) {
  await page.click(`#tab-${tab}`);
  await until(page, (k) => document.querySelector(`#tab-${k}`)?.getAttribute('aria-selected') === 'true'
    && !document.querySelector(`#panel-${k}`)?.hidden, tab, `the ${tab} tab shown`);
  const want = tab === 'overview' ? `#/client/${clientId}` : `#/client/${clientId}?tab=${tab}`;
  assert(page.url().endsWith(want), `the tab is in the route: ${page.url()} (want ${want})`);
}

/** The instant `h` hours from now (negative: ago), as the API takes it. */
const hoursFromNow = (h) => new Date(Date.now() + h * 3600000).toISOString();

/**
 * The manager's workbench, as a demo manager (signs in with the administrator's password):
 * only their book on the client list; My day shows an overdue task made through the API (live,
 * over `myTasksChanged`), the time zone is changed and back; on a client of theirs a note and a
 * task are added (due time on the manager's clock, sent as UTC), an assignee who cannot see the
 * client is refused next to the form, the task completed; both are on the timeline tab (the tab
 * in the route, kept by a reload; arrow keys move between tabs), a note from elsewhere arrives
 * live. Both languages, axe and screenshots.
 */
async function workbenchSteps(browser, adminPage, vp, viewport) {
  // A manager of each team: ivanova (Центр) at the desktop, smirnova (Северо-Запад) on the phone.
  const username = vp === 'desktop' ? 'ivanova' : 'smirnova';
  const outsider = vp === 'desktop' ? 'kozlov' : 'petrov';
  const users = (await api(adminPage, '{ users { id username } }')).users;
  const outsiderId = users.find((u) => u.username === outsider).id;
  const { context, page } = await openPage(browser, viewport);
  await page.goto(`${env.base}/`);
  await page.waitForSelector('#login-username');
  await page.fill('#login-username', username);
  await page.fill('#login-password', env.password);
  await page.click('#login-submit');
  await page.waitForSelector('#day-title');
  await until(page, () => document.querySelector('#tasks-overdue'), null, 'My day\'s lists');

  // Only their book: the client list is the API's list for them, a part of all the clients.
  const book = (await api(page, '{ me { id timeZone } clients(first: 100) { totalCount edges { node { id displayName } } } }'));
  const mine = book.clients.edges.map((e) => e.node);
  assert(mine.length > 0 && mine.length < clients.length, `${username} sees a part of the ${clients.length} clients: ${mine.length}`);
  await page.click('#clients-link');
  await until(page, (n) => document.querySelectorAll('table.clients tbody tr.clickable').length === n, Math.min(20, mine.length), 'their clients listed');
  const listed = await page.$$eval('table.clients tbody tr .client-link', (as) => as.map((a) => a.textContent));
  assert(listed.every((n) => mine.some((c) => c.displayName === n)), `only their clients: ${listed}`);
  assert((await text(page, '.stats .stat:first-child .stat-value')) === String(mine.length), 'the figures count their book');
  await page.click('#day-link');
  await page.waitForSelector('#tasks-overdue');

  // An overdue task made through the API arrives on the open page (myTasksChanged).
  const client = mine[0];
  const overdueTitle = `Перезвонить (${vp})`;
  await page.waitForSelector('.my-day[data-live="on"]', { state: 'attached' }); // the server has the subscription
  const made = (await api(page, 'mutation($i: CreateTaskInput!) { createTask(input: $i) { id overdue } }',
    { i: { clientId: client.id, title: overdueTitle, dueAt: hoursFromNow(-2), priority: 'HIGH' } })).createTask;
  assert(made.overdue, 'the API says the task is overdue');
  const overdueItem = `#tasks-overdue li[data-task-id="${made.id}"]`;
  await until(page, (sel) => document.querySelector(sel), overdueItem, 'the overdue task on My day, live');
  const itemText = await text(page, overdueItem);
  assert(itemText.includes(overdueTitle) && itemText.includes('просрочена') && itemText.includes(client.displayName) && itemText.includes('высокий'),
    `the task says overdue in words, its client and priority: ${itemText}`);
  assertEq(await page.getAttribute(`${overdueItem} a.task-client`, 'href'), `#/client/${client.id}`, 'the task links to its client');
  assert((await text(page, '#tz-current')) === book.me.timeZone, 'the time zone is shown');
  await axe(page, `${vp} my day`);
  await screenshot(page, `${vp}-23-my-day`);
  await inEnglish(page, '#day-title', 'My day', async () => {
    assert((await text(page, overdueItem)).includes('overdue'), 'overdue in English too');
    await axe(page, `${vp} my day (English)`);
    await screenshot(page, `${vp}-23-my-day-en`);
  });

  // Signals of their book (the demo's, computed after the start's sync) on My day, each task
  // made for one shows the signal's evidence; completing the task closes the signal; another
  // signal is dismissed with a reason (an empty reason is refused next to the field).
  const signals = (await api(page, '{ signals(first: 50) { totalCount edges { node { id title kind task { id status assignee { username } } } } } }')).signals;
  const open = signals.edges.map((e) => e.node);
  assert(signals.totalCount > 0, `${username}'s book has signals`);
  // Its task is the owner's: theirs unless the client came to them from someone else.
  const withTask = open.find((x) => x.task && x.task.status === 'OPEN' && x.task.assignee?.username === username);
  // The desktop's manager owns clients with signals; the phone's (a team lead) sees the team's,
  // whose tasks are their owners'.
  assert(withTask || vp === 'phone', `a signal with an open task of ${username}'s: ${JSON.stringify(open)}`);
  const shown = withTask || open[0];
  await until(page, (id) => document.querySelector(`#day-signals li[data-signal-id="${id}"]`), shown.id, 'the signal listed on My day');
  await page.click(`#day-signals li[data-signal-id="${shown.id}"] details.evidence summary`);
  await until(page, (id) => document.querySelector(`#day-signals li[data-signal-id="${id}"] details.evidence`)?.open, shown.id, "the signal's evidence opened");
  const evidence = await text(page, `#day-signals li[data-signal-id="${shown.id}"] details.evidence`);
  assert(/\d/.test(evidence) && evidence.includes('Основания'), `the evidence has figures: ${evidence}`);
  await axe(page, `${vp} my day with signals`);
  await screenshot(page, `${vp}-24-signals`);
  const english = (await api(page, 'query($id: ID!) { signal(id: $id) { title(lang: EN) summary(lang: EN) } }', { id: shown.id })).signal;
  await inEnglish(page, '#day-signals-title', 'Signals in your book', async () => {
    await until(page, ({ id, want }) => document.querySelector(`#day-signals li[data-signal-id="${id}"] .signal-summary`)?.textContent === want,
      { id: shown.id, want: english.summary }, 'the signal written in English');
    assert((await text(page, `#day-signals li[data-signal-id="${shown.id}"]`)).includes(english.title), 'its kind in English');
    await axe(page, `${vp} my day with signals (English)`);
    await screenshot(page, `${vp}-24-signals-en`);
  });
  if (withTask) {
    const signalTask = `.day-list li.task[data-task-id="${withTask.task.id}"]`;
    await until(page, (sel) => document.querySelector(sel), signalTask, "the signal's task on My day");
    await page.click(`${signalTask} details.evidence summary`);
    await until(page, (sel) => document.querySelector(`${sel} details.evidence`)?.open, signalTask, "the task's evidence opened");
    await page.click(`#day-complete-${withTask.task.id}`);
    await until(page, (id) => !document.querySelector(`#day-signals li[data-signal-id="${id}"]`), withTask.id, 'the signal closed by its task');
    const closed = (await api(page, 'query($id: ID!) { signal(id: $id) { state resolution } }', { id: withTask.id })).signal;
    assertEq(`${closed.state} ${closed.resolution}`, 'DONE TASK_DONE', 'the API has the signal done by its task');
  }
  const other = open.find((x) => x.id !== (withTask || {}).id);
  if (other) {
    await page.click(`#sig-dismiss-${other.id}`);
    await until(page, (id) => document.activeElement?.id === `sig-reason-${id}`, other.id, 'the reason field focused');
    await page.click(`#sig-dismiss-confirm-${other.id}`);
    await until(page, (id) => document.querySelector(`#sig-reason-${id}-error`), other.id, 'an empty reason refused');
    await page.fill(`#sig-reason-${other.id}`, 'Клиент уже в курсе, обсудили по телефону');
    await page.click(`#sig-dismiss-confirm-${other.id}`);
    await until(page, (id) => !document.querySelector(`#day-signals li[data-signal-id="${id}"]`), other.id, 'the dismissed signal gone');
    const dismissed = (await api(page, 'query($id: ID!) { signal(id: $id) { state dismissReason } }', { id: other.id })).signal;
    assertEq(dismissed.state, 'DISMISSED', 'the API has it dismissed');
  }

  // The time zone: another one, then a typed IANA name, then back.
  await page.selectOption('#tz-select', 'Asia/Vladivostok');
  await page.click('#tz-save');
  await until(page, () => document.querySelector('#tz-current')?.textContent === 'Asia/Vladivostok', null, 'the new zone shown');
  assertEq((await api(page, '{ me { timeZone } }')).me.timeZone, 'Asia/Vladivostok', 'the API has the new zone');
  await page.selectOption('#tz-select', 'other');
  await page.fill('#tz-custom', 'Mars/Olympus');
  await page.click('#tz-save');
  await until(page, () => document.querySelector('#tz-message')?.getAttribute('role') === 'alert', null, 'an unknown zone is refused');
  await page.fill('#tz-custom', book.me.timeZone);
  await page.click('#tz-save');
  await until(page, (z) => document.querySelector('#tz-current')?.textContent === z, book.me.timeZone, 'the zone back');

  // Completed from My day, then reopened from the completed list.
  await page.click(`#day-complete-${made.id}`);
  await until(page, (id) => document.querySelector(`#tasks-done li[data-task-id="${id}"]`) && !document.querySelector(`#tasks-overdue li[data-task-id="${id}"]`), made.id, 'the task among the completed');
  assertEq((await api(page, 'query($id: ID!) { task(id: $id) { status } }', { id: made.id })).task.status, 'DONE', 'the API has it done');
  await page.click(`#day-reopen-${made.id}`);
  await until(page, (sel) => document.querySelector(sel), overdueItem, 'the task overdue again');

  // The client's page, from the task's link: a note and a task on the Notes & tasks tab.
  await page.click(`${overdueItem} a.task-client`);
  await until(page, (n) => document.querySelector('#client-title')?.textContent.includes(n), client.displayName, 'the client\'s page');
  await openTab(page, client.id, 'notes');
  const note = `Встреча в отделении (${vp})`;
  await page.selectOption('#note-kind', 'MEETING');
  await page.fill('#note-body', note);
  await page.click('#note-submit');
  await until(page, (b) => document.querySelector('#notes-list .note .note-body')?.textContent.includes(b), note, 'the note listed');
  await until(page, (id) => document.querySelector(`#tasks-list li[data-task-id="${id}"].overdue`), made.id, 'the overdue task listed first, marked');
  assert((await text(page, `#tasks-list li[data-task-id="${made.id}"]`)).includes('просрочена'), 'overdue in words');
  // Refused: an assignee who cannot see the client (offered here by hand; the form offers only those who can).
  const title = `Отправить предложение по вкладу (${vp})`;
  await page.fill('#task-title', title);
  await page.evaluate(({ id, name }) => {
    const select = document.querySelector('#task-assignee');
    select.append(new Option(name, id));
    select.value = id;
    select.dispatchEvent(new Event('change'));
  }, { id: outsiderId, name: outsider });
  await page.click('#task-submit');
  await until(page, () => document.querySelector('#task-message')?.getAttribute('role') === 'alert'
    && document.querySelector('#task-message')?.textContent.length > 0, null, 'the server\'s refusal next to the form');
  const refusal = await text(page, '#task-message');
  log(`  an assignee who cannot see the client: ${refusal}`);
  await screenshot(page, `${vp}-24-task-refused`);
  const before = (await api(page, 'query($id: ID!) { client(id: $id) { tasks { id } } }', { id: client.id })).client.tasks.length;
  // Now for themself, due tomorrow at 10:00 on their clock.
  await page.selectOption('#task-assignee', book.me.id);
  await page.fill('#task-details', 'Ставка 14%, срок 6 месяцев');
  const tomorrow = await page.evaluate((zone) => {
    const d = new Date(Date.now() + 86400000);
    return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
  }, book.me.timeZone);
  await page.fill('#task-due-date', tomorrow);
  await page.fill('#task-due-time', '10:00');
  await page.selectOption('#task-priority', 'URGENT');
  await page.click('#task-submit');
  await until(page, (t) => [...document.querySelectorAll('#tasks-list .task-title strong')].some((s) => s.textContent === t), title, 'the new task listed');
  const stored = (await api(page, 'query($id: ID!) { client(id: $id) { tasks { id title dueAt priority assignee { username } } } }', { id: client.id })).client.tasks;
  assertEq(stored.length, before + 1, 'the refused task was not stored, the new one was');
  const task = stored.find((x) => x.title === title);
  const localDue = await page.evaluate(({ at, zone }) => new Intl.DateTimeFormat('en-CA', {
    timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).format(new Date(at)), { at: task.dueAt, zone: book.me.timeZone });
  assertEq(localDue, `${tomorrow}, 10:00`, 'the due time is 10:00 on the manager\'s clock (sent as UTC)');
  assertEq(`${task.priority} ${task.assignee.username}`, `URGENT ${username}`, 'priority and assignee');
  await axe(page, `${vp} notes and tasks`);
  await screenshot(page, `${vp}-25-notes-tasks`);
  // Edit: the form comes back with the task's fields on the manager's clock; a new priority is saved.
  await page.click(`#task-edit-${task.id}`);
  await until(page, () => document.querySelector('#task-form-title')?.textContent === 'Изменить задачу', null, 'the form edits the task');
  assertEq(await page.inputValue('#task-title'), title, 'the title in the form');
  assertEq(`${await page.inputValue('#task-due-date')} ${await page.inputValue('#task-due-time')}`, `${tomorrow} 10:00`, 'the due time on the manager\'s clock');
  await page.selectOption('#task-priority', 'HIGH');
  await page.click('#task-submit');
  await until(page, () => document.querySelector('#task-form-title')?.textContent === 'Новая задача', null, 'the form is for a new task again');
  const edited = (await api(page, 'query($id: ID!) { task(id: $id) { title priority dueAt } }', { id: task.id })).task;
  assertEq(`${edited.title} ${edited.priority} ${edited.dueAt}`, `${title} HIGH ${task.dueAt}`, 'only the priority changed');
  await page.click(`#task-complete-${task.id}`);
  await until(page, (id) => document.querySelector(`#tasks-list li[data-task-id="${id}"]`)?.dataset.status === 'DONE', task.id, 'the task completed');
  assertEq(await page.evaluate(() => document.activeElement.id), `task-reopen-${task.id}`, 'the focus follows the task to Reopen');
  await inEnglish(page, '#tab-notes', 'Notes & tasks', async () => {
    await axe(page, `${vp} notes and tasks (English)`);
    await screenshot(page, `${vp}-25-notes-tasks-en`);
  });

  // The timeline: the note, the task made and completed, newest first; kept by a reload.
  await openTab(page, client.id, 'timeline');
  await until(page, () => document.querySelectorAll('#timeline-list .timeline-entry').length > 0, null, 'the timeline');
  const entries = async () => page.$$eval('#timeline-list .timeline-entry', (lis) => lis.map((li) => ({ kind: li.dataset.kind, text: li.textContent })));
  const seen = await entries();
  const at = (kind, words) => seen.findIndex((e) => e.kind === kind && e.text.includes(words));
  assert(at('TASK_COMPLETED', title) >= 0 && at('TASK_CREATED', title) > at('TASK_COMPLETED', title), `the task created, then completed: ${JSON.stringify(seen.slice(0, 6))}`);
  assert(seen[at('TASK_CREATED', title)].text.includes('Новая задача'), 'the summary in Russian');
  assert(at('NOTE', username) >= 0, `the note with its author: ${JSON.stringify(seen.slice(0, 6))}`);
  await page.reload();
  await until(page, () => document.querySelector('#tab-timeline')?.getAttribute('aria-selected') === 'true'
    && document.querySelectorAll('#timeline-list .timeline-entry').length > 0, null, 'the timeline tab after a reload');
  // Filter chips: tasks only.
  await page.click('#timeline-chip-tasks');
  await until(page, () => {
    const kinds = [...document.querySelectorAll('#timeline-list .timeline-entry')].map((li) => li.dataset.kind);
    return kinds.length > 0 && kinds.every((k) => k.startsWith('TASK_'));
  }, null, 'only tasks');
  await page.click('#timeline-chip-all');
  await until(page, () => [...document.querySelectorAll('#timeline-list .timeline-entry')].some((li) => li.dataset.kind === 'NOTE'), null, 'everything again');
  // Live: a note written elsewhere arrives.
  await page.waitForSelector('.timeline-section[data-live="on"]', { state: 'attached' });
  const liveNote = `Письмо от клиента (${vp})`;
  await api(page, 'mutation($c: ID!, $b: String!) { addNote(clientId: $c, kind: EMAIL, body: $b) { id } }', { c: client.id, b: liveNote });
  await until(page, (b) => document.querySelector('#timeline-list .timeline-entry')?.textContent.includes(b), liveNote, 'the new note on top, live');
  // "Load more" follows the cursor when there is more.
  const count = await page.locator('#timeline-list .timeline-entry').count();
  if (await page.locator('#timeline-more').count()) {
    await page.click('#timeline-more');
    await until(page, (n) => document.querySelectorAll('#timeline-list .timeline-entry').length > n, count, 'more entries');
  }
  // Arrow keys move between the tabs; Back returns to the tab before.
  await page.focus('#tab-timeline');
  await page.keyboard.press('ArrowRight');
  await until(page, () => document.activeElement?.id === 'tab-products' && document.querySelector('#tab-products').getAttribute('aria-selected') === 'true', null, 'ArrowRight: Products');
  await page.keyboard.press('ArrowLeft');
  await until(page, () => document.activeElement?.id === 'tab-timeline', null, 'ArrowLeft: Timeline again');
  await axe(page, `${vp} timeline`);
  await screenshot(page, `${vp}-26-timeline`);
  await inEnglish(page, '#timeline-title', 'Client timeline', async () => {
    await until(page, (t) => [...document.querySelectorAll('#timeline-list .timeline-entry[data-kind="TASK_CREATED"] .timeline-summary')]
      .some((p) => p.textContent.startsWith('New task') && p.textContent.includes(t)), title, 'the summaries in English (asked again)');
    await axe(page, `${vp} timeline (English)`);
    await screenshot(page, `${vp}-26-timeline-en`);
  });
  await page.goBack();
  await until(page, () => document.querySelector('#tab-notes')?.getAttribute('aria-selected') === 'true', null, 'Back: the notes tab');
  assertClean(page, `${vp} workbench`);
  await context.close();
}

async function frameSteps(page, vp) {
  await page.click('#client-back');
  await page.waitForSelector('#dashboard-title');
  await until(page, () => document.querySelectorAll('table.clients tbody tr.clickable').length > 0, null, 'dashboard again');
  // Dark theme by the toggle (system → light → dark).
  await page.click('#theme-toggle');
  await page.click('#theme-toggle');
  assertEq(await page.getAttribute('html', 'data-theme'), 'dark', 'the dark theme is on');
  await axe(page, `${vp} dashboard (dark)`);
  await screenshot(page, `${vp}-11-dashboard-dark`);
  await page.click('#theme-toggle');
  assertEq(await page.getAttribute('html', 'data-theme'), null, 'back to the system theme');
  // English and back.
  await page.click('#lang-toggle');
  await until(page, () => document.querySelector('#dashboard-title')?.textContent === 'Clients', null, 'the English interface');
  assertEq(await page.getAttribute('html', 'lang'), 'en', 'the page language follows');
  await screenshot(page, `${vp}-12-dashboard-en`);
  await page.click('#lang-toggle');
  await until(page, () => document.querySelector('#dashboard-title')?.textContent === 'Клиенты', null, 'Russian again');
  // Sign out.
  await page.click('#logout');
  await page.waitForSelector('#login-form');
  assert(/Вы вышли/.test(await text(page, '#login-message')), 'signed out');
  const me = await page.evaluate(async () => (await fetch('/graphql', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ me { id } }' }),
  })).json());
  assertEq(me.errors && me.errors[0].extensions.code, 'UNAUTHENTICATED', 'the session is gone on the server');
  await screenshot(page, `${vp}-13-signed-out`);
  assertClean(page, `${vp} sign-out`);
}

async function checkHeaders() {
  const res = await fetch(`${env.base}/`);
  const csp = res.headers.get('content-security-policy') || '';
  assert(/script-src 'self'/.test(csp) && !/unsafe-inline/.test(csp.split(';').find((d) => d.includes('script-src')) || ''), `a strict CSP: ${csp}`);
  assert(/style-src 'self'(;|$)/.test(csp), `styles from files only: ${csp}`);
}

run('flow', async () => {
  await checkHeaders();
  const realAssistant = await serverHas('assistantSuggestions');
  log(`assistant: ${realAssistant ? 'the server\'s' : 'scripted (the server has none yet)'}`);
  const browser = await launch();
  let first = true;
  for (const [vp, viewport] of Object.entries(VIEWPORTS)) {
    log(`== ${vp} ${viewport.width}×${viewport.height}`);
    const { context, page } = await openPage(browser, viewport);
    watchSocket(page);
    await loginSteps(page, vp, first);
    log(`${vp}: signed in`);
    await dashboardSteps(page, vp);
    log(`${vp}: dashboard, paging, grade filter, sort, search`);
    await syncSteps(page, vp);
    log(`${vp}: sync now with live progress`);
    await waitingLinkSteps(page, vp);
    log(`${vp}: a link waiting for the client says so`);
    await clientSteps(page, vp);
    log(`${vp}: client, charts, transactions, recategorised, profile`);
    await assistantSteps(context, vp, realAssistant);
    log(`${vp}: assistant streamed and stopped`);
    await sessionSteps(page, context, vp);
    log(`${vp}: session expiry keeps the route`);
    await notesSteps(page, vp);
    log(`${vp}: a note added, shown and deleted`);
    await briefSteps(page, vp);
    log(`${vp}: a meeting brief written, shown, downloaded as PDF and printed`);
    await rulesSteps(page, vp);
    log(`${vp}: category rule added, listed, deleted`);
    await reviewSteps(page, vp);
    log(`${vp}: needs review: one row confirmed, one corrected, a rule prefilled`);
    await passwordSteps(browser, page, vp, viewport);
    log(`${vp}: a reset password changed at the first login`);
    await adminSteps(browser, page, vp, viewport);
    log(`${vp}: users, teams, a client created, assigned and deleted; the manager sees theirs`);
    await workbenchSteps(browser, page, vp, viewport);
    log(`${vp}: a manager's day, a client's notes, tasks and timeline`);
    await frameSteps(page, vp);
    log(`${vp}: theme, language, signed out`);
    await context.close();
    first = false;
  }
});
