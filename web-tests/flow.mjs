// What a manager does, at desktop (1280×800) and phone (390×844) widths: sign in (a wrong
// password first, and throttling), the dashboard with the seeded clients, paging, filtering by
// grade, searching, "sync now" with live progress, a client with its charts, paging through and
// filtering transactions, recategorising one (persisted), editing the profile, the assistant
// streaming its answer (and being stopped), the theme and language, the session ending, and
// signing out. axe-core runs on every page; each page is saved as a screenshot.
import {
  assert, assertClean, assertEq, axe, env, launch, log, openPage, openPages, run, screenshot, serverHas, text, until, VIEWPORTS,
} from './lib/harness.mjs';
import { mockAssistant } from './lib/assistant-mock.mjs';

const seed = env.seed;
const clients = seed.clients;
const byName = [...clients].sort((a, b) => a.name.localeCompare(b.name, 'ru'));
const gradeA = clients.filter((c) => c.grade === 'A');

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
  await page.waitForSelector('#dashboard-title');
}

async function dashboardSteps(page, vp) {
  await until(page, () => document.querySelectorAll('table.clients tbody tr.clickable').length === 20, null, 'the first page of 20 clients');
  const stat = await text(page, '.stats .stat:first-child .stat-value');
  assertEq(stat, String(clients.length), 'the clients figure');
  const first = await text(page, 'table.clients tbody tr:first-child .client-link');
  assertEq(first, byName[0].name, 'clients are in name order');
  assert((await text(page, '#clients-range')).includes(`из ${clients.length}`), 'the range says how many');
  await until(page, () => document.querySelector('.grades svg[role=img] title'), null, 'the grade distribution chart');
  const gradesTable = await page.locator('.grades details table tbody tr').count();
  assertEq(gradesTable, 4, 'the grade distribution has A, B, C and unrated');
  await axe(page, `${vp} dashboard`);
  await screenshot(page, `${vp}-04-dashboard`);

  // Next page and back.
  await page.click('#clients-next');
  await until(page, (n) => document.querySelector('#clients-range')?.textContent.startsWith('21')
    && document.querySelectorAll('table.clients tbody tr.clickable').length === n, clients.length - 20, 'the second page with the rest of the clients');
  await page.click('#clients-prev');
  await until(page, () => document.querySelector('#clients-range')?.textContent.startsWith('1'), null, 'back on the first page');

  // Filter by grade A.
  await page.selectOption('#filter-grade', 'A');
  await until(page, (n) => document.querySelectorAll('table.clients tbody tr.clickable').length === n
    && [...document.querySelectorAll('table.clients tbody tr.clickable')].every((r) => r.querySelector('.badge.grade-a')), gradeA.length, 'only grade A clients');
  assert(page.url().includes('grade=A'), `the filter is in the address: ${page.url()}`);
  await screenshot(page, `${vp}-05-dashboard-grade-a`);

  // Sorting the page by score: highest first.
  await page.selectOption('#client-sort', 'score');
  const scores = await page.$$eval('table.clients tbody tr.clickable td:nth-child(3)', (tds) => tds.map((td) => Number(td.textContent.replace(/\D/g, ''))));
  assert(scores.every((s, i) => i === 0 || scores[i - 1] >= s), `sorted by score: ${scores}`);
  await page.click('#filters-reset');
  await until(page, () => document.querySelectorAll('table.clients tbody tr.clickable').length === 20, null, 'filters reset');

  // Search.
  await page.fill('#client-search', 'петров');
  await page.press('#client-search', 'Enter');
  await until(page, () => document.querySelectorAll('table.clients tbody tr.clickable').length === 1, null, 'one client found');
  assertEq(await text(page, 'table.clients tbody tr .client-link'), seed.busy.name, 'the search finds the client');
  assertClean(page, `${vp} dashboard`);
}

async function syncSteps(page, vp) {
  // Live progress arrives over the websocket: watch its frames.
  const frames = [];
  const onSocket = (ws) => {
    if (!ws.url().endsWith('/graphql/ws')) return;
    ws.on('framereceived', (f) => { try { frames.push(JSON.parse(String(f.payload))); } catch (e) { /* binary */ } });
  };
  page.on('websocket', onSocket);
  await page.click('#sync-all-button');
  await until(page, () => document.querySelector('.sync')?.dataset.state === 'done', null, 'the sync finished', 20000);
  page.off('websocket', onSocket);
  const progress = frames.filter((f) => f.type === 'next' && f.payload && f.payload.data && f.payload.data.syncProgress).map((f) => f.payload.data.syncProgress);
  assert(progress.some((p) => p.kind === 'STARTED'), `a STARTED event arrived live: ${JSON.stringify(frames)}`);
  assert(progress.some((p) => p.kind === 'FINISHED' && p.run && p.run.status), 'a FINISHED event arrived live');
  const status = await text(page, '#sync-all-status');
  assert(/успешно|частично|с ошибкой/.test(status), `the outcome is shown: ${status}`);
  assert(/Счетов: \d+/.test(await text(page, '.sync-summary')), 'the counts are shown');
  await screenshot(page, `${vp}-06-dashboard-synced`);
  assertClean(page, `${vp} sync`);
}

async function clientSteps(page, vp) {
  await page.click(`table.clients tbody tr .client-link`);
  await until(page, (name) => document.querySelector('#client-title') && document.querySelector('#client-title')?.textContent.includes(name), seed.busy.name, 'the client page');
  assert(page.url().includes(`#/client/${seed.busy.id}`), 'the client route');
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
  const grade = await text(page, '.rating-line .badge');
  assertEq(grade, clients.find((c) => c.id === seed.busy.id).grade, 'the rating the API holds');
  assert((await page.locator('table.factors tbody tr').count()) >= 3, 'the rating factors');
  await axe(page, `${vp} client`);
  await screenshot(page, `${vp}-07-client`);

  // Paging through transactions.
  const total = seed.busy.transactions;
  assertEq(await text(page, '#tx-range'), `1–50 из ${total}`, 'the first page of transactions');
  assertEq(await page.locator('table.transactions tbody tr').count(), 50, '50 on a page');
  await page.click('#tx-next');
  await until(page, (t) => document.querySelector('#tx-range')?.textContent.trim() === `51–${t} из ${t}`
    && document.querySelectorAll('table.transactions tbody tr').length === t - 50, total, 'the second page with the rest of the transactions');
  await screenshot(page, `${vp}-08-transactions-page-2`);
  await page.click('#tx-prev');
  await until(page, () => document.querySelector('#tx-range')?.textContent.startsWith('1–50'), null, 'back on the first page');

  // Filters: money in only, then a text search.
  const onlyRows = (re) => until(page, (src) => {
    const range = document.querySelector('#tx-range');
    const rows = [...document.querySelectorAll('table.transactions tbody tr[data-tx-id]')];
    return range && /^1–10 из 10$/.test(range.textContent.trim()) && rows.length === 10
      && rows.every((r) => new RegExp(src, 'i').test(r.textContent));
  }, re, `ten rows matching /${re}/`);
  await page.selectOption('#tx-direction', 'CREDIT');
  await page.click('#tx-apply');
  await onlyRows('Зарплата');
  await page.click('#tx-reset');
  await until(page, () => /^1–50 из/.test(document.querySelector('#tx-range')?.textContent.trim() || ''), null, 'filters reset');
  await page.fill('#tx-search', 'аптека');
  await page.press('#tx-search', 'Enter');
  await onlyRows('Аптека');

  // Recategorise the newest one: by keyboard.
  const row = page.locator('table.transactions tbody tr').first();
  const txId = await row.getAttribute('data-tx-id');
  await row.locator('button.link').focus();
  await page.keyboard.press('Enter');
  await until(page, (id) => document.activeElement && document.activeElement.id === `tx-cat-${id}`, txId, 'the category list has the focus');
  await page.selectOption(`#tx-cat-${txId}`, 'ENTERTAINMENT');
  await page.click(`#tx-save-${txId}`);
  await until(page, (id) => {
    const r = document.querySelector(`tr[data-tx-id="${id}"]`);
    return r?.querySelector('.category-name')?.textContent === 'Развлечения' && /вручную/.test(r.textContent);
  }, txId, 'the new category shown');
  assertEq(await page.evaluate(() => document.activeElement.id), `tx-edit-${txId}`, 'the focus returns to the row');
  await screenshot(page, `${vp}-09-recategorised`);
  // Persisted: a fresh load shows it too.
  await page.reload();
  await page.waitForSelector('#tx-range');
  await page.fill('#tx-search', 'аптека');
  await page.press('#tx-search', 'Enter');
  await onlyRows('Аптека');
  await until(page, (id) => {
    const r = document.querySelector(`tr[data-tx-id="${id}"]`);
    return r?.querySelector('.category-name')?.textContent === 'Развлечения';
  }, txId, 'the category persisted');
  // Put it back for the next viewport.
  await page.click(`#tx-edit-${txId}`);
  await page.selectOption(`#tx-cat-${txId}`, 'HEALTH');
  await page.click(`#tx-save-${txId}`);
  await until(page, (id) => document.querySelector(`tr[data-tx-id="${id}"] .category-name`)?.textContent === 'Здоровье', txId, 'category set back');

  // The profile is editable.
  const phone = vp === 'desktop' ? '+7 900 000-00-01' : '+7 900 000-00-02';
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
  await page.goto(`${env.base}/#/client/${seed.busy.id}`);
  await page.waitForSelector('#client-title .badge');
  await page.click('#assistant-toggle');
  await page.waitForSelector('#assistant:not([hidden])');
  assertEq(await page.getAttribute('#assistant-toggle', 'aria-expanded'), 'true', 'the toggle says the panel is open');
  assert((await text(page, '#assistant-context')).includes(seed.busy.name), 'questions are about this client');
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
  await context.clearCookies();
  await page.fill('#tx-search', '');
  await page.press('#tx-search', 'Enter');
  await page.waitForSelector('#login-form');
  assert(/Сессия закончилась/.test(await text(page, '#login-message')), 'the login says the session ended');
  assert(page.url().includes(`#/client/${seed.busy.id}`), 'the route is kept');
  await signIn(page);
  await until(page, (name) => document.querySelector('#client-title') && document.querySelector('#client-title')?.textContent.includes(name), seed.busy.name, 'back on the same client');
  assertClean(page, `${vp} session`);
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
    await loginSteps(page, vp, first);
    log(`${vp}: signed in`);
    await dashboardSteps(page, vp);
    log(`${vp}: dashboard, paging, grade filter, sort, search`);
    await syncSteps(page, vp);
    log(`${vp}: sync now with live progress`);
    await clientSteps(page, vp);
    log(`${vp}: client, charts, transactions, recategorised, profile`);
    await assistantSteps(context, vp, realAssistant);
    log(`${vp}: assistant streamed and stopped`);
    await sessionSteps(page, context, vp);
    log(`${vp}: session expiry keeps the route`);
    await frameSteps(page, vp);
    log(`${vp}: theme, language, signed out`);
    await context.close();
    first = false;
  }
});
