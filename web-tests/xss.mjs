// Hostile text stays text: a client name, bank descriptions and merchants with <script>,
// <img onerror>, <svg onload> and javascript: links (seeded through the API), and assistant
// answers with the same (scripted: the test plays the model). Nothing of it may become an
// element, run, open a dialog or trip the CSP.
import { assert, assertClean, axe, env, launch, log, openPage, run, screenshot, text, until, VIEWPORTS } from './lib/harness.mjs';
import { mockAssistant } from './lib/assistant-mock.mjs';

const hostile = env.seed.hostile;

const HOSTILE_ANSWER = [
  'Ответ с **разметкой** и <script>window.__xss = "answer-script"</script> внутри.',
  '',
  '<img src=x onerror="window.__xss = \'answer-img\'">',
  '',
  '- [безопасная ссылка](https://example.org/x)',
  '- [опасная ссылка](javascript:window.__xss=\'answer-link\')',
  '- <a href="javascript:alert(1)">сырой html</a>',
  '- `<b>код</b>`',
  '',
  '```html',
  '<iframe src="javascript:alert(1)"></iframe>',
  '```',
  '',
  '| <svg onload=alert(1)> | **b** |',
  '|---|---|',
  '| <img src=x onerror=alert(1)> | ok |',
].join('\n');

/** In the page: no element that hostile text could have produced, and nothing ran. */
async function assertInert(page, where) {
  const found = await page.evaluate(() => {
    const main = document.querySelector('.layout');
    return {
      xss: window.__xss || null,
      scripts: [...main.querySelectorAll('script')].length,
      imgs: [...main.querySelectorAll('img')].length,
      iframes: [...main.querySelectorAll('iframe, object, embed')].length,
      handlers: [...main.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => /^on/i.test(a.name))).map((el) => el.outerHTML.slice(0, 80)),
      jsLinks: [...document.querySelectorAll('a[href]')].filter((a) => !/^(https?:|mailto:|#|\/)/i.test(a.getAttribute('href'))).map((a) => a.getAttribute('href')),
      svgs: [...main.querySelectorAll('svg')].filter((s) => !s.classList.contains('chart')).length,
    };
  });
  assert(!found.xss, `${where}: hostile text ran (${found.xss})`);
  assert(found.scripts === 0, `${where}: a <script> element appeared`);
  assert(found.imgs === 0, `${where}: an <img> element appeared`);
  assert(found.iframes === 0, `${where}: an <iframe>/<object> appeared`);
  assert(!found.handlers.length, `${where}: elements with on* attributes: ${found.handlers.join(', ')}`);
  assert(!found.jsLinks.length, `${where}: links that are not http(s)/mailto: ${found.jsLinks.join(', ')}`);
  assert(found.svgs === 0, `${where}: an SVG element that is not one of our charts`);
}

run('xss', async () => {
  const browser = await launch();
  for (const [vp, viewport] of Object.entries(VIEWPORTS)) {
    log(`== ${vp}`);
    const { context, page } = await openPage(browser, viewport);
    const seen = await mockAssistant(page, {
      suggestions: ['<img src=x onerror="window.__xss=\'chip\'">Вопрос'],
      answer: () => HOSTILE_ANSWER,
      chunk: 40,
      delayMs: 60,
    });
    await page.goto(`${env.base}/`);
    await page.fill('#login-username', env.username);
    await page.fill('#login-password', env.password);
    await page.click('#login-submit');
    // My day lists the recently changed clients: the name is text there too.
    await until(page, () => document.querySelector('#recent-clients .client-link'), null, 'My day');
    assert((await text(page, '#recent-clients .client-link')) === hostile.name.replace(/\s+/g, ' '), 'the name is text on My day');
    await assertInert(page, `${vp} my day`);
    await page.click('#clients-link');
    await until(page, () => document.querySelector('table.clients .client-link'), null, 'the dashboard');

    // The name shows as typed, in the list and in the title of the client page.
    const listed = await text(page, 'table.clients .client-link');
    assert(listed === hostile.name.replace(/\s+/g, ' '), `the name is shown as text: ${listed}`);
    await assertInert(page, `${vp} dashboard`);
    await screenshot(page, `${vp}-01-dashboard`);

    await page.click('table.clients .client-link');
    await page.waitForSelector('#tab-transactions');
    await page.click('#tab-transactions');
    await until(page, () => document.querySelectorAll('table.transactions tbody tr[data-tx-id]').length === 3, null, 'the hostile transactions');
    const shown = await page.$$eval('table.transactions tbody tr .description', (els) => els.map((e) => e.textContent));
    for (const d of hostile.descriptions) assert(shown.includes(d), `description shown literally: ${d}\n  got: ${shown.join(' | ')}`);
    const rowsText = await page.$eval('table.transactions tbody', (el) => el.textContent);
    for (const m of hostile.merchants) assert(rowsText.includes(m), `merchant shown literally: ${m}`);
    // The analytics repeat the merchants (top merchants): as text there too.
    await page.click('#tab-analytics');
    await until(page, () => document.querySelector('#top-merchants tbody tr:not(.empty)'), null, 'the top merchants');
    const top = await page.$$eval('#top-merchants tbody td:first-child', (tds) => tds.map((td) => td.textContent));
    for (const m of hostile.merchants) assert(top.includes(m), `top merchant shown literally: ${m}\n  got: ${top.join(' | ')}`);
    assert((await text(page, '#client-title')).includes('<script>'), 'the heading shows the name as text');
    assert(!(await page.title()).includes('undefined') && (await page.title()).includes('<img'), 'the document title is text too');
    await assertInert(page, `${vp} client`);
    await axe(page, `${vp} hostile client page`);
    await screenshot(page, `${vp}-02-client`);

    // The assistant's answer: Markdown works, HTML is shown as text.
    await page.click('#assistant-toggle');
    await page.waitForSelector('#assistant .chip');
    assert((await text(page, '#assistant .chip')).includes('<img'), 'a suggestion is text');
    await page.fill('#assistant-question', 'Покажи всё');
    await page.click('#assistant-send');
    await until(page, () => document.querySelector('.assistant-log .qa-done'), null, 'the hostile answer finished', 30000);
    const answer = await page.$eval('.assistant-log .qa-done .assistant-answer', (el) => ({
      text: el.textContent,
      strong: [...el.querySelectorAll('strong')].map((s) => s.textContent),
      links: [...el.querySelectorAll('a')].map((a) => ({ href: a.getAttribute('href'), rel: a.rel, target: a.target })),
      code: [...el.querySelectorAll('pre code')].map((c) => c.textContent),
    }));
    for (const piece of ['<script>window.__xss = "answer-script"</script>', '<img src=x onerror="window.__xss = \'answer-img\'">', '<a href="javascript:alert(1)">сырой html</a>', '<iframe src="javascript:alert(1)"></iframe>', '<svg onload=alert(1)>']) {
      assert(answer.text.includes(piece), `the answer shows as text: ${piece}`);
    }
    assert(answer.strong.includes('разметкой'), 'Markdown emphasis still works');
    assert(answer.links.length === 1 && answer.links[0].href === 'https://example.org/x', `only the https link is a link: ${JSON.stringify(answer.links)}`);
    assert(/noopener/.test(answer.links[0].rel) && answer.links[0].target === '_blank', 'links open safely');
    assert(answer.text.includes('(javascript:window.__xss=\'answer-link\')'), 'the javascript: target is shown as text');
    assert(answer.code.length === 1, 'the fenced block is code');
    // (My day, where the page started, subscribed to `myTasksChanged` as well.)
    assert(seen.subscribes.filter((m) => m.payload.operationName === 'AskStream').length === 1, 'one subscription for the question');
    await assertInert(page, `${vp} assistant`);
    await screenshot(page, `${vp}-03-assistant`);

    // Reloaded from the tab's history: still text.
    await page.reload();
    await page.waitForSelector('#client-title');
    await page.click('#assistant-toggle');
    await until(page, () => document.querySelector('.assistant-log .qa'), null, 'the conversation is kept in the tab');
    await assertInert(page, `${vp} assistant history`);
    assertClean(page, `${vp} hostile text`);
    await context.close();
  }
});
