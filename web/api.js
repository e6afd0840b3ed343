// A tiny GraphQL client: JSON over POST with the session cookie. Errors keep their
// `extensions.code` so the app can react (UNAUTHENTICATED shows the login form).

export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

export async function gql(query, variables = {}) {
  let res;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new ApiError(String(e), 'NETWORK');
  }
  let body;
  try {
    body = await res.json();
  } catch (e) {
    throw new ApiError(`HTTP ${res.status}`, 'BAD_RESPONSE');
  }
  if (body.errors && body.errors.length) {
    const first = body.errors[0];
    throw new ApiError(first.message, (first.extensions && first.extensions.code) || 'UNKNOWN');
  }
  return body.data;
}
