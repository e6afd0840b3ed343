// Mounts the vendored GraphiQL 3 (UMD globals React, ReactDOM, GraphiQL) against this server.
// Loaded by graphiql.html as a plain script: no inline code, so script-src 'self' holds.
//
// - Queries and mutations: POST /graphql with JSON, `Content-Type: application/json` (the server
//   refuses other content types) and the session cookie (`credentials: 'same-origin'`).
// - Subscriptions (e.g. syncProgress): the graphql-transport-ws protocol on /graphql/ws; the
//   browser sends the session cookie with the upgrade.
// - Tabs, variables and history are kept in sessionStorage, not localStorage: the login tab
//   holds a password, which should not outlive the browser tab.
// - The password is an argument of the Login mutation rather than a variable because GraphiQL 3
//   does not put the first default tab's variables into the editor on a first visit.
(function () {
  'use strict';

  var root = document.getElementById('graphiql');
  if (typeof GraphiQL === 'undefined' || typeof React === 'undefined' || typeof ReactDOM === 'undefined') {
    root.textContent = 'GraphiQL failed to load (web/vendor/graphiql).';
    return;
  }

  var LOGIN = [
    '# AI-CRM GraphQL API',
    '#',
    '# 1. Sign in: type your password below and run',
    '#    "Login" (the run button, or Ctrl-Enter, and',
    '#    pick the operation). The session is a cookie',
    '#    that the browser sends from then on.',
    '# 2. Open the "Dashboard" tab and run it.',
    '#',
    '# Docs: the book icon on the left.',
    '',
    'mutation Login {',
    '  login(username: "admin", password: "your password") {',
    '    user { id username role }',
    '    expiresAt',
    '  }',
    '}',
    '',
    'query Me {',
    '  me { id username role }',
    '}',
    '',
    'mutation Logout {',
    '  logout',
    '}',
    ''
  ].join('\n');

  var DASHBOARD = [
    '# Headline figures and the first 20 clients.',
    '# Next page: set "after" to pageInfo.endCursor.',
    '# filter.search: part of a name, e-mail or phone.',
    '',
    'query Dashboard($after: String, $filter: ClientFilter) {',
    '  stats {',
    '    clients { total active inactive }',
    '    transactions { count income expense balance currency }',
    '    banks',
    '  }',
    '  clients(first: 20, after: $after, filter: $filter) {',
    '    totalCount',
    '    pageInfo { hasNextPage endCursor }',
    '    edges {',
    '      cursor',
    '      node {',
    '        id displayName status',
    '        rating { grade score factors { name value impact } }',
    '        totalBalance { amount currency }',
    '        links { bank { code name } externalClientId }',
    '      }',
    '    }',
    '  }',
    '}',
    ''
  ].join('\n');

  function sameOriginFetch(url, init) {
    var options = Object.assign({}, init, { credentials: 'same-origin' });
    return window.fetch(url, options);
  }

  var wsUrl = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql/ws';

  // createFetcher sends `content-type: application/json` itself; headers typed into GraphiQL's
  // Headers panel are added to it.
  var fetcher = GraphiQL.createFetcher({
    url: '/graphql',
    subscriptionUrl: wsUrl,
    fetch: sameOriginFetch,
    enableIncrementalDelivery: false
  });

  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    storage: window.sessionStorage,
    defaultQuery: LOGIN,
    defaultTabs: [
      { query: LOGIN },
      { query: DASHBOARD, variables: JSON.stringify({ after: null, filter: { search: null } }, null, 2) }
    ],
    defaultEditorToolsVisibility: 'variables',
    shouldPersistHeaders: false
  }));
})();
