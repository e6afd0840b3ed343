// The manager's web app: session, routing and the page frame. Views live in ./views/.
//
// Routes (in the URL hash, so the static server needs no rewrites):
//   #/            dashboard: headline figures and the client list
//   #/client/ID   one client
// Signed out, every route shows the login form and goes on to the route after signing in.
// Everything that comes from the API is inserted as text, never as HTML (see dom.js).
import { gql } from './api.js';
import { h, replace } from './dom.js';
import { label, lang, onLangChange, setLang, t } from './i18n.js';
import { LOGOUT, ME } from './queries.js';
import { LoginView } from './views/login.js';
import { DashboardView } from './views/dashboard.js';
import { ClientView } from './views/client.js';

/**
 * What views get from the app.
 * @typedef {object} Context
 * @property {(query: string, variables?: object, options?: {quiet?: boolean}) => Promise<object>} request
 *   runs an operation; on UNAUTHENTICATED (unless quiet) the login form replaces the view and
 *   the error is rethrown with `handled = true`
 * @property {(e: Error) => string} errorMessage  the text to show for an error
 * @property {(hash: string) => void} navigate
 * @property {(title: string) => void} setTitle   the document title's first part
 */

const $ = (id) => document.getElementById(id);

const app = {
  user: null,
  view: null,
  dashboard: null,
  graphiql: false, // whether the server serves /graphiql (off in production by default)
};

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

  errorMessage(e) {
    switch (e && e.code) {
      case 'NETWORK': return t('errNetwork');
      case 'BAD_RESPONSE': return t('errBadResponse', e.status);
      case 'FORBIDDEN': return e.message || t('errForbidden');
      case 'NOT_FOUND': return e.message || t('errNotFound');
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
};

// ---- the frame: header, language, user, logout -------------------------------------------

function renderFrame() {
  document.documentElement.lang = lang();
  replace($('skip-link'), t('skipToContent'));
  const other = lang() === 'ru' ? 'en' : 'ru';
  const toggle = $('lang-toggle');
  replace(toggle, t('switchLanguage'));
  toggle.lang = other;
  toggle.title = t('switchLanguageLabel');
  replace($('graphiql-link'), t('graphiql'));
  replace($('logout'), t('logout'));
  const signedIn = Boolean(app.user);
  $('logout').hidden = !signedIn;
  $('graphiql-link').hidden = !(signedIn && app.graphiql);
  replace($('who'), signedIn ? t('signedInAs', app.user.username, label('Role', app.user.role)) : '');
  if (app.view) ctx.setTitle(app.view.title());
}

async function mount(view) {
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
      renderFrame();
      route();
    },
  }));
}

/** The session is gone (expired, revoked, or the server restarted): forget everything shown. */
function sessionLost(notice) {
  app.user = null;
  app.dashboard = null;
  renderFrame();
  showLogin({ notice });
}

async function logout() {
  try {
    await gql(LOGOUT);
  } catch (e) {
    /* the session is gone either way */
  }
  app.user = null;
  app.dashboard = null;
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
  const m = /^#\/client\/(.+)$/.exec(location.hash);
  if (m) {
    let id;
    try {
      id = decodeURIComponent(m[1]);
    } catch (e) {
      id = m[1];
    }
    mount(new ClientView(ctx, id));
    return;
  }
  if (!app.dashboard) app.dashboard = new DashboardView(ctx);
  mount(app.dashboard);
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
  renderFrame();
  probeGraphiql();
  $('lang-toggle').addEventListener('click', () => setLang(lang() === 'ru' ? 'en' : 'ru'));
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
