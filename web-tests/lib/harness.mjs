// Shared pieces of the browser suites: Debian's chromium through playwright-core (never a
// downloaded browser), a page that records console errors, CSP violations, page errors and
// dialogs, axe-core, screenshots, and small assertion helpers.
//
// The suites are started by crates/server/tests/browser.rs with:
//   AICRM_BASE_URL, AICRM_USERNAME, AICRM_PASSWORD, AICRM_SEED (JSON), AICRM_SCREENSHOTS,
//   AICRM_TIMEOUT_MS, CHROMIUM
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

export const env = {
  base: (process.env.AICRM_BASE_URL || '').replace(/\/$/, ''),
  username: process.env.AICRM_USERNAME || 'admin',
  password: process.env.AICRM_PASSWORD || '',
  seed: JSON.parse(process.env.AICRM_SEED || '{}'),
  screenshots: process.env.AICRM_SCREENSHOTS || join(process.cwd(), 'screenshots'),
  timeoutMs: Number(process.env.AICRM_TIMEOUT_MS || 240000),
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
};

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
};

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync',
];

export class AssertionError extends Error {}

export function assert(cond, message) {
  if (!cond) throw new AssertionError(message);
}

export function assertEq(actual, expected, message) {
  if (actual !== expected) throw new AssertionError(`${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

const started = Date.now();
export function log(...parts) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s]`, ...parts);
}

/** Runs `main`, with a hard timeout; exits non-zero with the reason on any failure. */
export function run(name, main) {
  // Each run's pictures only (a failed run's FAILED-*.png must not outlive a good one).
  rmSync(env.screenshots, { recursive: true, force: true });
  const timer = setTimeout(() => {
    console.error(`${name}: timed out after ${env.timeoutMs} ms`);
    process.exit(3);
  }, env.timeoutMs);
  const closeAll = () => Promise.all([...browsers].map((b) => b.close().catch(() => {})));
  main().then(async () => {
    clearTimeout(timer);
    await closeAll();
    log(`${name}: all checks passed`);
    process.exit(0);
  }, async (e) => {
    clearTimeout(timer);
    console.error(`${name}: FAILED: ${e && e.stack ? e.stack : e}`);
    // What the pages showed when it failed.
    let k = 0;
    for (const page of openPages) {
      if (page.isClosed()) continue;
      try {
        const path = await screenshot(page, `FAILED-${++k}`);
        console.error(`  the page at ${page.url()} is in ${path}`);
        const problems = page.problems || [];
        if (problems.length) console.error(`  it reported:\n    ${problems.join('\n    ')}`);
      } catch (err) { /* the browser is gone */ }
    }
    await closeAll();
    process.exit(1);
  });
}

/** Pages to photograph when a suite fails. */
export const openPages = new Set();

const browsers = new Set();

/** Debian's chromium; closed by run() when the suite ends (after failure screenshots). */
export async function launch() {
  const browser = await chromium.launch({ executablePath: env.chromium, args: ARGS, headless: true, timeout: 30000 });
  browsers.add(browser);
  return browser;
}

/**
 * A context and page at `viewport` that records every console error, page error, failed
 * request, CSP violation and dialog in `page.problems` (dialogs are dismissed).
 */
export async function openPage(browser, viewport, { colorScheme = 'light', locale = 'ru-RU' } = {}) {
  const context = await browser.newContext({
    viewport, colorScheme, locale, deviceScaleFactor: 1, reducedMotion: 'reduce',
    isMobile: viewport.width < 500, hasTouch: viewport.width < 500,
  });
  const page = await context.newPage();
  openPages.add(page);
  page.setDefaultTimeout(15000);
  const problems = [];
  page.problems = problems;
  page.allowedConsole = []; // regexes of console errors a step expects
  page.on('console', (msg) => {
    if (msg.type() !== 'error' && msg.type() !== 'warning') return;
    const text = msg.text();
    if (msg.type() === 'warning' && !/Content.Security.Policy|CSP/i.test(text)) return;
    if (page.allowedConsole.some((re) => re.test(text))) return;
    problems.push(`console ${msg.type()}: ${text}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => { problems.push(`dialog (${d.type()}): ${d.message()}`); d.dismiss().catch(() => {}); });
  // CSP violations also as events (instrumentation injected by the driver, not by the page).
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  return { context, page };
}

/** Fails when anything was recorded since the last call. */
export function assertClean(page, where) {
  const found = page.problems.splice(0);
  assert(!found.length, `${where}: the browser reported problems:\n  ${found.join('\n  ')}`);
}

let axeSource = null;

/** axe-core on the whole page; fails on any serious or critical violation, and when the page
 * is wider than the window (nothing may need sideways scrolling, down to a phone's width). */
export async function axe(page, where) {
  const widths = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, win: window.innerWidth }));
  assert(widths.doc <= widths.win + 1, `${where}: the page is ${widths.doc}px wide in a ${widths.win}px window`);
  if (!axeSource) axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated by the driver: the page's CSP (rightly) refuses inline script tags.
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')} — ${n.failureSummary}`),
    }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = result.filter((v) => !bad.includes(v));
  if (minor.length) log(`  axe (${where}): minor: ${minor.map((v) => `${v.id} (${v.impact})`).join(', ')}`);
  assert(!bad.length, `axe-core found serious/critical violations on ${where}:\n${bad.map((v) => `  ${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.join('\n    ')}`).join('\n')}`);
}

export async function screenshot(page, name) {
  mkdirSync(env.screenshots, { recursive: true });
  const path = join(env.screenshots, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  log(`  screenshot ${path}`);
  return path;
}

/** Waits until `fn()` (evaluated in the page) is truthy. */
export async function until(page, fn, arg, message, timeout = 15000) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: 50 });
  } catch (e) {
    const why = /Timeout/i.test(e.message) ? `waited ${timeout} ms` : `the check threw: ${e.message.split('\n')[0]}`;
    throw new AssertionError(`${message} (${why})`);
  }
}

/** Text of the element matching `selector` (trimmed, whitespace collapsed). */
export async function text(page, selector) {
  const t = await page.locator(selector).first().textContent();
  return (t || '').replace(/\s+/g, ' ').trim();
}

/** Asks the server's GraphQL schema (dev servers have introspection on) for Query's fields. */
export async function serverHas(field) {
  const res = await fetch(`${env.base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ __type(name: "Query") { fields { name } } }' }),
  });
  const body = await res.json().catch(() => null);
  const fields = body && body.data && body.data.__type ? body.data.__type.fields.map((f) => f.name) : [];
  return fields.includes(field);
}
