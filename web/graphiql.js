// Mounts GraphiQL against this server. The session is the HttpOnly cookie set by `login`, so
// requests go same-origin with credentials and a JSON content type (the server refuses others).
(function () {
  'use strict';

  var DEFAULT_QUERY = [
    '# Sign in first; the session cookie is kept by the browser.',
    '#',
    '# mutation Login {',
    '#   login(username: "admin", password: "...") { user { id username role } }',
    '# }',
    '',
    'query Dashboard {',
    '  me { username role }',
    '  stats { clients { total active inactive } transactions { count income expense balance } banks }',
    '  clients(first: 20) {',
    '    totalCount',
    '    pageInfo { hasNextPage endCursor }',
    '    edges { node { id displayName status rating { grade score } totalBalance { amount currency } } }',
    '  }',
    '}',
    ''
  ].join('\n');

  function fetcher(params) {
    return fetch('/graphql', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      body: JSON.stringify(params)
    }).then(function (res) { return res.json(); });
  }

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: DEFAULT_QUERY,
    defaultEditorToolsVisibility: true
  }));
})();
