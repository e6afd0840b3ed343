// The app's modules, run in the browser on the server's own origin (so under its CSP): the
// Markdown subset, the graphql-transport-ws client against a scripted socket (the protocol
// message by message) and against the real server (syncProgress, session end), the charts,
// the DOM helpers and formatting.
import { assert, assertClean, env, launch, log, openPage, run, VIEWPORTS } from './lib/harness.mjs';

/** Runs `fn` in the page; it returns {name: error|null}; fails listing every failed case. */
async function cases(page, title, fn, arg) {
  const results = await page.evaluate(fn, arg);
  const failed = Object.entries(results).filter(([, err]) => err);
  for (const [name, err] of Object.entries(results)) log(`  ${err ? 'FAIL' : 'ok  '} ${title}: ${name}${err ? ` — ${err}` : ''}`);
  assert(!failed.length, `${title}: ${failed.length} failed:\n  ${failed.map(([n, e]) => `${n}: ${e}`).join('\n  ')}`);
}

async function markdownCases() {
  const { renderMarkdown } = await import('/markdown.js');
  const ALLOWED = new Set(['P', 'H3', 'H4', 'H5', 'H6', 'UL', 'OL', 'LI', 'STRONG', 'EM', 'CODE', 'PRE', 'S', 'A', 'BR', 'HR', 'BLOCKQUOTE', 'DIV', 'TABLE', 'THEAD', 'TBODY', 'TR', 'TH', 'TD']);
  const render = (md) => { const d = document.createElement('div'); d.append(renderMarkdown(md)); return d; };
  const tags = (d) => [...d.querySelectorAll('*')].map((e) => e.tagName);
  const out = {};
  const check = (name, fn) => {
    try { const r = fn(); out[name] = r === true || r === undefined ? null : String(r); } catch (e) { out[name] = `threw ${e.message}`; }
  };
  check('script stays text', () => {
    const d = render('<script>alert(1)</script>');
    return (d.querySelector('script') === null && d.textContent === '<script>alert(1)</script>') || d.innerHTML;
  });
  check('img onerror stays text', () => {
    const d = render('x <img src=x onerror=alert(1)> y');
    return (!d.querySelector('img') && d.textContent.includes('<img src=x onerror=alert(1)>')) || d.innerHTML;
  });
  check('headings one level below the panel', () => {
    const d = render('# A\n## B\n###### C');
    return tags(d).join(',') === 'H3,H4,H6' || tags(d).join(',');
  });
  check('bullet and numbered lists', () => {
    const d = render('- a\n- b\n\n1. x\n2. y\n3. z');
    return (d.querySelectorAll('ul > li').length === 2 && d.querySelectorAll('ol > li').length === 3) || d.innerHTML;
  });
  check('numbered list keeps its start', () => render('3. c\n4. d').querySelector('ol').getAttribute('start') === '3');
  check('nested list', () => {
    const d = render('- a\n  - b\n  - c\n- d');
    return (d.querySelectorAll('ul > li > ul > li').length === 2 && d.querySelectorAll(':scope > ul > li').length === 2) || d.innerHTML;
  });
  check('inline emphasis, code, strike', () => {
    const d = render('**b** *i* `c` ~~s~~ __u__ _e_');
    return tags(d).join(',') === 'P,STRONG,EM,CODE,S,STRONG,EM' || tags(d).join(',');
  });
  check('nested emphasis', () => render('**bold *and italic***').querySelector('strong em')?.textContent === 'and italic');
  check('https link', () => {
    const a = render('[site](https://example.org/a?b=1)').querySelector('a');
    return (a && a.getAttribute('href') === 'https://example.org/a?b=1' && a.rel.includes('noopener') && a.target === '_blank') || 'no safe link';
  });
  check('javascript: link is text', () => {
    const d = render('[x](javascript:alert(1)) [y](JaVaScRiPt:alert(1)) [z](data:text/html,hi) [w](vbscript:x)');
    return (!d.querySelector('a') && d.textContent.includes('x (javascript:alert(1))')) || d.innerHTML;
  });
  check('link with a quote in the URL is text', () => !render('[x](https://a.b/"onmouseover="alert(1))').querySelector('a'));
  check('unclosed markers are text', () => {
    const d = render('**bold and `code and [link](https://x');
    return (tags(d).join(',') === 'P' && d.textContent === '**bold and `code and [link](https://x') || d.innerHTML;
  });
  check('fenced code keeps markup as text', () => {
    const d = render('```html\n<b>x</b>\n  indented\n```\nafter');
    const code = d.querySelector('pre code');
    return (code && code.textContent === '<b>x</b>\n  indented' && code.dataset.lang === 'html' && d.querySelector('p').textContent === 'after') || d.innerHTML;
  });
  check('an unfinished fence (mid-stream) is still code', () => render('```\nlet a = 1;').querySelector('pre code')?.textContent === 'let a = 1;');
  check('pipe table', () => {
    const d = render('| A | B |\n|:--|--:|\n| 1 | **2** |\n| 3 | 4 |');
    return (d.querySelectorAll('th').length === 2 && d.querySelectorAll('tbody tr').length === 2 && d.querySelector('td strong')?.textContent === '2'
      && d.querySelectorAll('th')[0].getAttribute('scope') === 'col') || d.innerHTML;
  });
  check('escaped pipe in a table cell', () => render('| a |\n|---|\n| x \\| y |').querySelector('td').textContent === 'x | y');
  check('backslash escapes', () => render('\\*not em\\* \\[x\\]').textContent === '*not em* [x]');
  check('snake_case is not emphasis', () => !render('a_b_c and file_name_here').querySelector('em'));
  check('hard and soft breaks', () => {
    const d = render('one  \ntwo\nthree');
    return (d.querySelectorAll('br').length === 1 && d.textContent === 'onetwo three') || d.innerHTML;
  });
  check('quote and rule', () => {
    const d = render('> quoted **b**\n\n---\n\nend');
    return Boolean(d.querySelector('blockquote strong') && d.querySelector('hr')) || d.innerHTML;
  });
  check('every prefix of a stream renders only allowed elements', () => {
    const doc = '# Итог\n\nКлиент **тратит** `больше`, чем [зарабатывает](https://x.y).\n\n- <script>x</script>\n  - вложенный *пункт*\n1. раз\n\n| a | b |\n|---|---|\n| <img src=x> | 2 |\n\n```\n<b>\n```\n> цитата';
    for (let i = 0; i <= doc.length; i++) {
      const bad = tags(render(doc.slice(0, i))).filter((t) => !ALLOWED.has(t));
      if (bad.length) return `prefix ${i}: ${bad.join(',')}`;
    }
    return true;
  });
  check('no attributes but the safe ones', () => {
    const d = render('[a](https://a.b) | x |\n|---|\n| y |\n\n```js\nz\n```\n3. q');
    const attrs = new Set([...d.querySelectorAll('*')].flatMap((e) => [...e.attributes].map((a) => a.name)));
    const allowed = new Set(['href', 'rel', 'target', 'class', 'scope', 'start', 'data-lang', 'tabindex', 'role', 'aria-label']);
    const bad = [...attrs].filter((a) => !allowed.has(a));
    return !bad.length || bad.join(',');
  });
  return out;
}

async function wsScriptedCases() {
  const { GraphQLWsClient, PROTOCOL } = await import('/ws.js');
  const out = {};
  const sockets = [];
  class FakeSocket {
    constructor(url, protocol) {
      this.url = url; this.protocolAsked = protocol; this.protocol = protocol; this.readyState = 0; this.sent = []; this.closedWith = null;
      sockets.push(this);
    }
    send(s) { this.sent.push(JSON.parse(s)); }
    close(code, reason) { this.closedWith = { code, reason }; this.readyState = 3; }
    // test side
    open() { this.readyState = 1; this.onopen && this.onopen(); }
    deliver(msg) { this.onmessage && this.onmessage({ data: typeof msg === 'string' ? msg : JSON.stringify(msg) }); }
    drop(code, reason = '') { this.readyState = 3; this.onclose && this.onclose({ code, reason }); }
  }
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  const sink = () => {
    const s = { data: [], errors: [], completed: 0 };
    s.next = (d) => s.data.push(d); s.error = (e) => s.errors.push(e); s.complete = () => { s.completed++; };
    return s;
  };
  const make = (o = {}) => new GraphQLWsClient({ url: 'ws://test/graphql/ws', WebSocketImpl: FakeSocket, pingIntervalMs: 40, lazyCloseMs: 60, ackTimeoutMs: 200, ...o });
  const check = async (name, fn) => {
    try { const r = await fn(); out[name] = r === true || r === undefined ? null : String(r); } catch (e) { out[name] = `threw ${e.message}`; }
  };

  await check('handshake: init first, subscribe only after ack', async () => {
    const c = make(); const s = sink();
    c.subscribe({ query: 'subscription SyncProgress { syncProgress { kind } }', variables: { a: 1 } }, s);
    const ws = sockets.at(-1);
    if (ws.protocolAsked !== PROTOCOL || PROTOCOL !== 'graphql-transport-ws') return `subprotocol ${ws.protocolAsked}`;
    if (ws.sent.length) return 'sent before open';
    ws.open();
    if (JSON.stringify(ws.sent) !== JSON.stringify([{ type: 'connection_init', payload: {} }])) return JSON.stringify(ws.sent);
    ws.deliver({ type: 'connection_ack' });
    const sub = ws.sent[1];
    if (!sub || sub.type !== 'subscribe' || typeof sub.id !== 'string' || sub.payload.operationName !== 'SyncProgress' || sub.payload.variables.a !== 1) return JSON.stringify(ws.sent);
    c.close();
  });
  await check('next delivers data, complete ends once', async () => {
    const c = make(); const s = sink();
    const stop = c.subscribe({ query: '{ x }' }, s);
    const ws = sockets.at(-1); ws.open(); ws.deliver({ type: 'connection_ack' });
    const id = ws.sent[1].id;
    ws.deliver({ type: 'next', id, payload: { data: { x: 1 } } });
    ws.deliver({ type: 'next', id: 'other', payload: { data: { x: 9 } } });
    ws.deliver({ type: 'complete', id });
    ws.deliver({ type: 'next', id, payload: { data: { x: 2 } } });
    stop();
    if (JSON.stringify(s.data) !== '[{"x":1}]' || s.completed !== 1 || s.errors.length) return JSON.stringify(s);
    if (ws.sent.some((m) => m.type === 'complete')) return 'sent complete for a finished subscription';
    c.close();
  });
  await check('stop sends complete with the id, then silence', async () => {
    const c = make(); const s = sink();
    const stop = c.subscribe({ query: '{ x }' }, s);
    const ws = sockets.at(-1); ws.open(); ws.deliver({ type: 'connection_ack' });
    const id = ws.sent[1].id;
    stop();
    const last = ws.sent.at(-1);
    ws.deliver({ type: 'next', id, payload: { data: { x: 1 } } });
    if (last.type !== 'complete' || last.id !== id) return JSON.stringify(ws.sent);
    if (s.data.length || s.completed || s.errors.length) return 'the sink heard after stop';
    c.close();
  });
  await check('stop before ack sends nothing for it', async () => {
    const c = make(); const s = sink();
    const stop = c.subscribe({ query: '{ x }' }, s);
    const ws = sockets.at(-1); ws.open();
    stop();
    ws.deliver({ type: 'connection_ack' });
    if (ws.sent.some((m) => m.type === 'subscribe' || m.type === 'complete')) return JSON.stringify(ws.sent);
    c.close();
  });
  await check('ping is answered with pong (payload echoed)', async () => {
    const c = make(); c.subscribe({ query: '{ x }' }, sink());
    const ws = sockets.at(-1); ws.open(); ws.deliver({ type: 'connection_ack' });
    ws.deliver({ type: 'ping', payload: { t: 5 } });
    ws.deliver({ type: 'ping' });
    const pongs = ws.sent.filter((m) => m.type === 'pong');
    if (pongs.length !== 2 || pongs[0].payload.t !== 5 || 'payload' in pongs[1]) return JSON.stringify(pongs);
    c.close();
  });
  await check('keep-alive pings while open', async () => {
    const c = make(); c.subscribe({ query: '{ x }' }, sink());
    const ws = sockets.at(-1); ws.open(); ws.deliver({ type: 'connection_ack' });
    await wait(130);
    const pings = ws.sent.filter((m) => m.type === 'ping').length;
    c.close();
    return pings >= 2 || `only ${pings} pings`;
  });
  await check('roundTrip resolves on its pong', async () => {
    const c = make(); c.subscribe({ query: '{ x }' }, sink());
    const ws = sockets.at(-1); ws.open();
    let done = false;
    const p = c.roundTrip().then(() => { done = true; });
    ws.deliver({ type: 'connection_ack' });
    const ping = ws.sent.find((m) => m.type === 'ping' && m.payload && m.payload.marker);
    if (!ping) return 'no ping after ack';
    ws.deliver({ type: 'pong', payload: { marker: 'someone-else' } });
    await wait(5);
    if (done) return 'resolved on a foreign pong';
    ws.deliver({ type: 'pong', payload: ping.payload });
    await p;
    // A server that does not echo the payload: pongs answer pings in order.
    const q = c.roundTrip();
    ws.deliver({ type: 'pong' });
    await q;
    c.close();
  });
  await check('error message ends with the server code', async () => {
    const c = make(); const s = sink();
    c.subscribe({ query: '{ x }' }, s);
    const ws = sockets.at(-1); ws.open(); ws.deliver({ type: 'connection_ack' });
    ws.deliver({ type: 'error', id: ws.sent[1].id, payload: [{ message: 'no', extensions: { code: 'FORBIDDEN' } }] });
    c.close();
    return (s.errors.length === 1 && s.errors[0].code === 'FORBIDDEN' && !s.completed) || JSON.stringify(s);
  });
  await check('next with only errors is an error', async () => {
    const c = make(); const s = sink();
    c.subscribe({ query: '{ x }' }, s);
    const ws = sockets.at(-1); ws.open(); ws.deliver({ type: 'connection_ack' });
    ws.deliver({ type: 'next', id: ws.sent[1].id, payload: { data: null, errors: [{ message: 'gone', extensions: { code: 'AI_UNAVAILABLE' } }] } });
    c.close();
    return (s.errors[0] && s.errors[0].code === 'AI_UNAVAILABLE') || JSON.stringify(s);
  });
  await check('close 4401 is UNAUTHENTICATED for every subscription', async () => {
    const c = make(); const a = sink(); const b = sink();
    c.subscribe({ query: '{ x }' }, a); c.subscribe({ query: '{ y }' }, b);
    const ws = sockets.at(-1); ws.open(); ws.deliver({ type: 'connection_ack' });
    ws.drop(4401, 'session ended');
    return (a.errors[0]?.code === 'UNAUTHENTICATED' && b.errors[0]?.code === 'UNAUTHENTICATED' && a.errors[0].closeCode === 4401) || JSON.stringify([a, b]);
  });
  await check('refused before ack is WS_UNAVAILABLE; later close is WS_CLOSED', async () => {
    const c = make(); const a = sink();
    c.subscribe({ query: '{ x }' }, a);
    sockets.at(-1).drop(1006);
    const c2 = make(); const b = sink();
    c2.subscribe({ query: '{ x }' }, b);
    const ws = sockets.at(-1); ws.open(); ws.deliver({ type: 'connection_ack' }); ws.drop(1011, 'bye');
    return (a.errors[0]?.code === 'WS_UNAVAILABLE' && b.errors[0]?.code === 'WS_CLOSED' && b.errors[0].reason === 'bye') || JSON.stringify([a, b]);
  });
  await check('no ack in time closes with 4408', async () => {
    const c = make(); const a = sink();
    c.subscribe({ query: '{ x }' }, a);
    const ws = sockets.at(-1); ws.open();
    await wait(260);
    return (ws.closedWith?.code === 4408 && a.errors[0]?.code === 'WS_UNAVAILABLE') || JSON.stringify([ws.closedWith, a]);
  });
  await check('a message that is not the protocol closes with 4400', async () => {
    const c = make(); const a = sink();
    c.subscribe({ query: '{ x }' }, a);
    const ws = sockets.at(-1); ws.open(); ws.deliver({ type: 'connection_ack' });
    ws.deliver('not json');
    return (ws.closedWith?.code === 4400 && a.errors.length === 1) || JSON.stringify([ws.closedWith, a]);
  });
  await check('an unknown message type closes with 4400', async () => {
    const c = make(); const a = sink();
    c.subscribe({ query: '{ x }' }, a);
    const ws = sockets.at(-1); ws.open(); ws.deliver({ type: 'connection_ack' });
    ws.deliver({ type: 'data', id: '1' });
    return ws.closedWith?.code === 4400 || JSON.stringify(ws.closedWith);
  });
  await check('one socket for many; closed when idle; a new one later', async () => {
    const before = sockets.length;
    const c = make();
    const s1 = c.subscribe({ query: '{ a }' }, sink());
    const s2 = c.subscribe({ query: '{ b }' }, sink());
    const ws = sockets.at(-1); ws.open(); ws.deliver({ type: 'connection_ack' });
    if (sockets.length !== before + 1) return 'two sockets';
    const ids = ws.sent.filter((m) => m.type === 'subscribe').map((m) => m.id);
    if (new Set(ids).size !== 2) return `ids ${ids}`;
    s1(); s2();
    await wait(120);
    if (ws.closedWith?.code !== 1000) return `not closed when idle: ${JSON.stringify(ws.closedWith)}`;
    c.subscribe({ query: '{ c }' }, sink());
    if (sockets.length !== before + 2) return 'no new socket';
    c.close();
  });
  return out;
}

async function wsServerCases({ username, password }) {
  const { GraphQLWsClient } = await import('/ws.js');
  const { gql } = await import('/api.js');
  const { LOGIN, LOGOUT, SYNC_NOW, SYNC_PROGRESS } = await import('/queries.js');
  const out = {};
  const check = async (name, fn) => {
    try { const r = await fn(); out[name] = r === true || r === undefined ? null : String(r); } catch (e) { out[name] = `threw ${e.code || ''} ${e.message}`; }
  };
  const timeout = (p, ms, what) => Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`timeout: ${what}`)), ms))]);

  await check('signed out: the upgrade is refused (WS_UNAVAILABLE)', async () => {
    const c = new GraphQLWsClient();
    const err = await timeout(new Promise((resolve) => c.subscribe({ query: SYNC_PROGRESS }, { error: resolve, next: () => resolve(null) })), 5000, 'refusal');
    return err?.code === 'WS_UNAVAILABLE' || `got ${err && err.code}`;
  });
  await gql(LOGIN, { username, password });
  await check('syncProgress: STARTED and FINISHED of the run we start', async () => {
    const c = new GraphQLWsClient();
    const events = [];
    let finished;
    const done = new Promise((r) => { finished = r; });
    const stop = c.subscribe({ query: SYNC_PROGRESS }, {
      next: (d) => { events.push(d.syncProgress); if (d.syncProgress.kind === 'FINISHED') finished(); },
      error: (e) => finished(e),
    });
    await timeout(c.roundTrip(), 5000, 'round trip');
    const run = (await gql(SYNC_NOW, {})).syncNow;
    const err = await timeout(done, 10000, 'FINISHED');
    stop();
    c.close();
    if (err) return `error ${err.code}`;
    const mine = events.filter((e) => String(e.runId) === String(run.id));
    return (mine[0]?.kind === 'STARTED' && typeof mine[0].links === 'number' && mine.at(-1).kind === 'FINISHED' && Boolean(mine.at(-1).run.status)) || JSON.stringify(events);
  });
  await check('a document the schema refuses ends with an error', async () => {
    const c = new GraphQLWsClient();
    const err = await timeout(new Promise((resolve) => c.subscribe({ query: 'subscription Nope { noSuchField }' }, { error: resolve, next: () => resolve(null) })), 5000, 'validation error');
    c.close();
    return (err && /noSuchField/.test(err.message)) || `got ${err && err.message}`;
  });
  await check('signing out closes the open socket: UNAUTHENTICATED', async () => {
    const c = new GraphQLWsClient();
    const ended = new Promise((resolve) => c.subscribe({ query: SYNC_PROGRESS }, { error: resolve, complete: () => resolve('complete') }));
    await timeout(c.roundTrip(), 5000, 'round trip');
    await gql(LOGOUT);
    const err = await timeout(ended, 10000, 'close after logout');
    return (err && err.code === 'UNAUTHENTICATED' && err.closeCode === 4401) || `got ${err && (err.code || err)}`;
  });
  return out;
}

async function chartAndDomCases() {
  const { barChart, cashflowChart, niceTicks } = await import('/charts.js');
  const { h, svg } = await import('/dom.js');
  const { money, sumDecimal, dayStart, monthLabel } = await import('/format.js');
  const out = {};
  const check = (name, fn) => {
    try { const r = fn(); out[name] = r === true || r === undefined ? null : String(r); } catch (e) { out[name] = `threw ${e.message}`; }
  };
  const host = document.createElement('div');
  host.className = 'units-host';
  document.body.append(host);
  check('nice ticks cover the range and include 0', () => {
    const t = niceTicks(-1200, 56000, 4);
    return (t.includes(0) && t[0] <= -1200 && t.at(-1) >= 56000 && t.length <= 7) || JSON.stringify(t);
  });
  check('bar chart: labelled SVG, values as text, a table', () => {
    const fig = barChart({ title: 'T', desc: 'D', items: [{ label: 'Продукты', value: 10, display: '10 ₽' }, { label: 'Кафе', value: 5, display: '5 ₽' }], columns: ['К', 'С'] });
    host.replaceChildren(fig);
    const s = fig.querySelector('svg');
    const ids = s.getAttribute('aria-labelledby').split(' ');
    return (s.getAttribute('role') === 'img' && ids.every((id) => document.getElementById(id)) && s.querySelectorAll('.chart-value').length === 2
      && s.textContent.includes('10 ₽') && fig.querySelectorAll('details tbody tr').length === 2) || s.outerHTML.slice(0, 200);
  });
  check('cashflow chart: two series by pattern, net line, zero axis', () => {
    const fig = cashflowChart({ title: 'C', desc: 'D', currency: 'RUB', months: [
      { month: '2026-01', income: '100.00', expense: '150.00', net: '-50.00' },
      { month: '2026-02', income: '200.00', expense: '20.00', net: '180.00' }] });
    host.replaceChildren(fig);
    const s = fig.querySelector('svg');
    return (s.querySelectorAll('.bar-income').length === 2 && s.querySelectorAll('.bar-expense[fill^="url(#"]').length === 2
      && s.querySelector('pattern') && s.querySelector('.net-line') && s.querySelector('.axis-zero')
      && fig.querySelectorAll('details tbody tr').length === 2) || s.outerHTML.slice(0, 300);
  });
  check('h() refuses event handler attributes, style and innerHTML', () => {
    const refused = ['onclick', 'onerror', 'style', 'innerHTML', 'srcdoc'].filter((k) => {
      try { h('div', { [k]: 'x' }); return false; } catch (e) { return true; }
    });
    return refused.length === 5 || `accepted: ${['onclick', 'onerror', 'style', 'innerHTML', 'srcdoc'].filter((k) => !refused.includes(k))}`;
  });
  check('svg() refuses href and handlers', () => {
    let n = 0;
    for (const k of ['href', 'onload', 'style']) { try { svg('a', { [k]: 'x' }); } catch (e) { n++; } }
    return n === 3 || `${3 - n} accepted`;
  });
  check('h() children are text', () => h('p', {}, '<b>x</b>').textContent === '<b>x</b>' && !h('p', {}, '<b>x</b>').querySelector('b'));
  check('exact decimal sums', () => sumDecimal(['0.10', '0.20']) === '0.30' && sumDecimal(['-1.05', '1']) === '-0.05' && sumDecimal(['999999999999.99', '0.01']) === '1000000000000.00');
  check('money the Russian way, exactly', () => {
    const m = money('115038.50', 'RUB').replace(/[\s\u00a0\u202f]/g, ' ');
    return m === '115 038,50 ₽' || m;
  });
  check('local day bounds', () => new Date(dayStart('2026-03-01')).getDate() === 1 && new Date(dayStart('2026-03-01', 1)).getDate() === 2 && dayStart('bad') === null);
  check('month labels', () => /2026/.test(monthLabel('2026-03')) && monthLabel('x') === 'x');
  return out;
}

run('units', async () => {
  const browser = await launch();
  const { context, page } = await openPage(browser, VIEWPORTS.desktop);
  // The refused upgrade of the signed-out case is logged by the browser.
  page.allowedConsole.push(/WebSocket connection to .*graphql\/ws.* failed/);
  await page.goto(`${env.base}/`);
  await page.waitForSelector('#login-form');
  await cases(page, 'markdown', markdownCases);
  await cases(page, 'ws (scripted socket)', wsScriptedCases);
  await cases(page, 'charts, dom, format', chartAndDomCases);
  await cases(page, 'ws (real server)', wsServerCases, { username: env.username, password: env.password });
  assertClean(page, 'units');
  await context.close();
});
