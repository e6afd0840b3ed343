// The manager's web app: session, routing and the page frame. Views live in ./views/.
//
// Routes (in the URL hash, so the static server needs no rewrites):
//   #/                 my day: my tasks (overdue, today, this week), recently changed clients
//   #/clients          dashboard: headline figures and the client list
//   #/clients?q=…&grade=A…  the same with search, filters and sort
//   #/client/ID        one client
//   #/client/ID?tab=timeline  one client, a tab of its page open
//   #/rules            category rules
//   #/rules?pattern=…&field=…&category=…  the same, the new rule's form filled in
//   #/review           needs review: the book's transactions the categoriser was unsure of
//   #/admin/users      users (administrators)
//   #/admin/teams      teams (administrators)
// Signed out, every route shows the login form and goes on to the route after signing in; when
// the session ends (UNAUTHENTICATED from any request, or the websocket closed with 4401) the
// login form comes back and the route is kept.
// Everything that comes from the API is inserted as text, never as HTML (see dom.js).
import { gql } from './api.js';
import { h, replace } from './dom.js';
import { label, lang, onLangChange, setLang, t } from './i18n.js';
import { BANKS, CATEGORIES, LOGOUT, ME } from './queries.js';
import { FEATURES } from './features.js';
import { GraphQLWsClient } from './ws.js';
import { effectiveTheme, nextThemeMode, onThemeChange, setThemeMode, themeMode } from './theme.js';
import { LoginView } from './views/login.js';
import { DashboardView } from './views/dashboard.js';
import { MyDayView } from './views/my-day.js';
import { ClientView } from './views/client.js';
import { RulesView } from './views/rules.js';
import { ReviewView } from './views/review.js';
import { PasswordView } from './views/password.js';
import { TeamsView, UsersView } from './views/admin.js';
import { AssistantPanel } from './views/assistant.js';

/**
 * What views get from the app.
 * @typedef {object} Context
 * @property {(query: string, variables?: object, options?: {quiet?: boolean}) => Promise<object>} request
 *   runs an operation; on UNAUTHENTICATED (unless quiet) the login form replaces the view and
 *   the error is rethrown with `handled = true`
 * @property {(request: {query: string, variables?: object}, sink: object) => () => void} subscribe
 *   a subscription over the shared websocket (see ws.js); returns a function that stops it
 * @property {() => Promise<void>} wsRoundTrip  resolves once the server has read what was sent
 * @property {(e: Error) => string} errorMessage  the text to show for an error
 * @property {(hash: string) => void} navigate
 * @property {(title: string) => void} setTitle   the document title's first part
 * @property {(text: string) => void} announce    says `text` to screen readers (polite)
 * @property {() => ({id: string, username: string, role: string, timeZone: string}|null)} user
 *   the signed-in user (`timeZone`: the IANA zone of their day; times of tasks, notes and the
 *   timeline are shown on its clock)
 * @property {() => Promise<object[]>} categories  the category taxonomy (fetched once)
 * @property {() => Promise<object[]>} banks       the banks the CRM knows (fetched once)
 * @property {() => (object[]|null)} banksCached
 * @property {(context: {clientId: string, name: string}|null) => void} assistantContext
 * @property {() => void} openAssistant
 */

const $ = (id) => document.getElementById(id);

const app = {
  user: null,
  view: null,
  dashboard: null,
  graphiql: false, // whether the server serves /graphiql (off in production by default)
  ws: new GraphQLWsClient(),
  categories: null,
  banks: null,
  assistant: null,
};

/** After a session ends every running subscription learns it; this checks it really ended. */
async function checkSession() {
  if (!app.user) return;
  try {
    await gql(ME);
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED' && app.user) sessionLost(t('sessionExpired'));
  }
}

/** @type {Context} */
const ctx = {
  async request(query, variables = {}, { quiet = false } = {}) {
    try {
      return await gql(query, variables);
    } catch (e) {
      if (!quiet && e.code === 'UNAUTHENTICATED' && app.user) {
        e.handled = true;
        sessionLost(t('sessionExpired'));
      }
      throw e;
    }
  },

  subscribe(request, sink) {
    return app.ws.subscribe(request, {
      next: sink.next,
      complete: sink.complete,
      error: (e) => {
        if (e.code === 'UNAUTHENTICATED' && app.user) {
          e.handled = true;
          sessionLost(t('sessionExpired'));
        } else if (e.code === 'WS_UNAVAILABLE') {
          // A refused upgrade looks like any other failure from here: ask over HTTP.
          checkSession();
        }
        if (sink.error) sink.error(e);
      },
    });
  },

  wsRoundTrip() {
    return app.ws.roundTrip();
  },

  errorMessage(e) {
    switch (e && e.code) {
      case 'NETWORK': return t('errNetwork');
      case 'BAD_RESPONSE': return t('errBadResponse', e.status);
      case 'UNAUTHENTICATED': return t('sessionExpired');
      case 'FORBIDDEN': return t('errForbidden');
      case 'NOT_FOUND': return t('errNotFound');
      case 'RATE_LIMITED': return t('errRateLimited', Math.max(1, Math.ceil((e.retryAfter || 60) / 60)));
      case 'BANK_UNAVAILABLE': return t('errBank', e.message);
      case 'CONSENT_REQUIRED': return t('errConsent', e.message);
      case 'AI_UNAVAILABLE': return t('errAi', e.message);
      case 'WS_UNAVAILABLE':
      case 'WS_CLOSED': return t('errLive');
      case 'INTERNAL': return t('errInternal', e.message);
      default: return (e && e.message) || String(e);
    }
  },

  navigate(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },

  setTitle(title) {
    document.title = title ? `${title} · ${t('appName')}` : t('appName');
  },

  announce(text) {
    const el = $('announcer');
    if (!el || !text) return;
    // Emptied first, so the same text twice is announced twice.
    replace(el);
    setTimeout(() => replace(el, text), 50);
  },

  user() {
    return app.user;
  },

  async categories() {
    if (!app.categories) {
      app.categories = ctx.request(CATEGORIES).then((d) => d.categories).catch((e) => { app.categories = null; throw e; });
    }
    return app.categories;
  },

  async banks() {
    if (!app.banks) {
      app.banks = ctx.request(BANKS).then((d) => { app.banksList = d.banks; return d.banks; })
        .catch((e) => { app.banks = null; throw e; });
    }
    return app.banks;
  },

  banksCached() {
    return app.banksList || null;
  },

  assistantContext(context) {
    if (app.assistant) app.assistant.setContext(context);
  },

  openAssistant() {
    if (app.assistant) app.assistant.open();
  },
};

// ---- the frame: header, language, theme, user, logout ---------------------------------------

function renderFrame() {
  document.documentElement.lang = lang();
  replace($('skip-link'), t('skipToContent'));
  const other = lang() === 'ru' ? 'en' : 'ru';
  const toggle = $('lang-toggle');
  replace(toggle, t('switchLanguage'));
  toggle.lang = other;
  toggle.title = t('switchLanguageLabel');
  const theme = $('theme-toggle');
  replace(theme, t(`theme_${themeMode()}`));
  theme.title = t('themeNext', t(`theme_${nextThemeMode()}`));
  theme.dataset.effective = effectiveTheme();
  replace($('graphiql-link'), t('graphiql'));
  replace($('day-link'), t('dayLink'));
  replace($('clients-link'), t('clientsLink'));
  replace($('review-link'), t('reviewLink'));
  replace($('rules-link'), t('rulesLink'));
  replace($('password-link'), t('passwordLink'));
  replace($('admin-link'), t('adminLink'));
  replace($('logout'), t('logout'));
  $('top-nav').setAttribute('aria-label', t('topNav'));
  const signedIn = Boolean(app.user);
  $('logout').hidden = !signedIn;
  $('graphiql-link').hidden = !(signedIn && app.graphiql);
  $('rules-link').hidden = !signedIn || app.user.passwordChangeRequired;
  $('day-link').hidden = !signedIn || app.user.passwordChangeRequired;
  $('clients-link').hidden = !signedIn || app.user.passwordChangeRequired;
  $('review-link').hidden = !signedIn || app.user.passwordChangeRequired;
  markCurrentNav();
  $('password-link').hidden = !signedIn;
  $('admin-link').hidden = !signedIn || app.user.role !== 'ADMIN' || app.user.passwordChangeRequired;
  const assistantButton = $('assistant-toggle');
  replace(assistantButton, t('assistantTitle'));
  assistantButton.hidden = !(signedIn && FEATURES.assistant && !app.user.passwordChangeRequired);
  replace($('who'), signedIn ? t('signedInAs', app.user.username, label('Role', app.user.role)) : '');
  if (app.view) ctx.setTitle(app.view.title());
}

/** The header link of the page shown says so (`aria-current`). */
function markCurrentNav() {
  const hash = location.hash || '#/';
  const current = /^#\/?$/.test(hash) ? 'day-link'
    : /^#\/clients\b/.test(hash) ? 'clients-link'
      : /^#\/review\b/.test(hash) ? 'review-link' : null;
  for (const id of ['day-link', 'clients-link', 'review-link']) {
    if (id === current) $(id).setAttribute('aria-current', 'page');
    else $(id).removeAttribute('aria-current');
  }
}

async function mount(view) {
  if (app.view && app.view !== view && app.view !== app.dashboard && app.view.destroy) app.view.destroy();
  app.view = view;
  replace($('main'), view.el);
  ctx.setTitle(view.title());
  await view.show();
}

// ---- session -------------------------------------------------------------------------------

function showLogin({ notice = '', error = '' } = {}) {
  mount(new LoginView(ctx, {
    notice,
    error,
    onLogin(user) {
      app.user = user;
      // A new session: the socket (authenticated at upgrade) must be opened again.
      app.ws.close();
      renderFrame();
      route();
    },
  }));
}

function forget() {
  app.user = null;
  if (app.dashboard) app.dashboard.destroy();
  app.dashboard = null;
  app.categories = null;
  app.banks = null;
  app.banksList = null;
  app.ws.close();
  if (app.assistant) app.assistant.reset();
}

/** The session is gone (expired, revoked, or the server restarted): forget everything shown. */
function sessionLost(notice) {
  forget();
  renderFrame();
  showLogin({ notice });
}

async function logout() {
  try {
    await gql(LOGOUT);
  } catch (e) {
    /* the session is gone either way */
  }
  forget();
  renderFrame();
  if (location.hash && location.hash !== '#/') history.replaceState(null, '', '#/');
  showLogin({ notice: t('loggedOut') });
}

// ---- routing -------------------------------------------------------------------------------

function route() {
  if (!app.user) {
    if (!(app.view instanceof LoginView)) showLogin();
    return;
  }
  // A temporary password (an administrator's reset) must be changed before anything else.
  if (app.user.passwordChangeRequired || /^#\/password\b/.test(location.hash)) {
    ctx.assistantContext(null);
    mount(new PasswordView(ctx, {
      required: Boolean(app.user.passwordChangeRequired),
      onChanged(user) {
        app.user = user;
        // The change opened a new session: the socket must be opened again.
        app.ws.close();
        renderFrame();
      },
    }));
    return;
  }
  const m = /^#\/client\/([^?]+)(?:\?(.*))?$/.exec(location.hash);
  if (m) {
    let id;
    try {
      id = decodeURIComponent(m[1]);
    } catch (e) {
      id = m[1];
    }
    const tab = new URLSearchParams(m[2] || '').get('tab') || '';
    // Another tab of the client shown: the same page, that tab.
    if (app.view instanceof ClientView && app.view.id === id) {
      app.view.selectTab(tab);
      return;
    }
    mount(new ClientView(ctx, id, tab));
    return;
  }
  const rules = /^#\/rules(?:\?(.*))?$/.exec(location.hash);
  if (rules) {
    ctx.assistantContext(null);
    markCurrentNav();
    const q = new URLSearchParams(rules[1] || '');
    mount(new RulesView(ctx, { pattern: q.get('pattern') || '', field: q.get('field') || '', category: q.get('category') || '' }));
    return;
  }
  if (/^#\/review\b/.test(location.hash)) {
    ctx.assistantContext(null);
    markCurrentNav();
    mount(new ReviewView(ctx));
    return;
  }
  const admin = /^#\/admin\/(users|teams)\b/.exec(location.hash);
  if (admin) {
    ctx.assistantContext(null);
    mount(admin[1] === 'teams' ? new TeamsView(ctx) : new UsersView(ctx));
    return;
  }
  markCurrentNav();
  const clients = /^#\/clients(?:\?(.*))?$/.exec(location.hash);
  if (clients) {
    if (!app.dashboard) app.dashboard = new DashboardView(ctx);
    app.dashboard.setQuery(clients[1] || '');
    ctx.assistantContext(null);
    mount(app.dashboard);
    return;
  }
  // The old dashboard addresses (#/?q=…) keep working.
  const old = /^#\/?\?(.*)$/.exec(location.hash);
  if (old) {
    history.replaceState(null, '', `#/clients?${old[1]}`);
    route();
    return;
  }
  ctx.assistantContext(null);
  mount(new MyDayView(ctx));
}

/** Shows the GraphiQL link only when the server has GraphiQL on. */
async function probeGraphiql() {
  try {
    const res = await fetch('/graphiql', { method: 'HEAD', credentials: 'same-origin' });
    app.graphiql = res.ok;
  } catch (e) {
    app.graphiql = false;
  }
  renderFrame();
}

async function start() {
  if (FEATURES.assistant) {
    app.assistant = new AssistantPanel(ctx, { toggle: $('assistant-toggle') });
    $('assistant-slot').replaceWith(app.assistant.el);
    $('assistant-toggle').addEventListener('click', () => app.assistant.toggle());
  }
  renderFrame();
  probeGraphiql();
  $('lang-toggle').addEventListener('click', () => setLang(lang() === 'ru' ? 'en' : 'ru'));
  $('theme-toggle').addEventListener('click', () => setThemeMode(nextThemeMode()));
  $('logout').addEventListener('click', logout);
  // The skip link must not change the hash: the hash is the route.
  $('skip-link').addEventListener('click', (ev) => {
    ev.preventDefault();
    $('main').focus();
  });
  window.addEventListener('hashchange', route);
  onLangChange(() => {
    renderFrame();
    if (app.view) app.view.render();
    if (app.assistant) app.assistant.render();
  });
  onThemeChange(() => {
    renderFrame();
    // Charts take their colours from CSS; nothing to redraw.
  });

  try {
    const data = await gql(ME);
    app.user = data.me;
    renderFrame();
    route();
  } catch (e) {
    // Not signed in, or the server is unreachable: either way the login form, with the reason
    // when it is not simply "not signed in".
    showLogin({ error: e.code === 'UNAUTHENTICATED' ? '' : ctx.errorMessage(e) });
  }
}

start();
