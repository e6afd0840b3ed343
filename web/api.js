// A tiny GraphQL client: JSON over POST to /graphql with the session cookie (same origin).
// Every failure becomes an ApiError whose `code` is the GraphQL error's `extensions.code`
// (UNAUTHENTICATED, BAD_USER_INPUT, FORBIDDEN, ...) or one of our own for transport failures:
// NETWORK (no answer), BAD_RESPONSE (an answer that is not GraphQL JSON).

export const ENDPOINT = '/graphql';

export class ApiError extends Error {
  /**
   * @param {string} message  the server's message (shown to the user as text)
   * @param {string} code     `extensions.code`, or NETWORK / BAD_RESPONSE / UNKNOWN
   * @param {object} [extra]  { status, path, errors }
   */
  constructor(message, code, extra = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = extra.status;
    this.path = extra.path;
    this.errors = extra.errors || [];
    /** For RATE_LIMITED: seconds until the next attempt may succeed (`extensions.retryAfter`). */
    this.retryAfter = extra.retryAfter;
  }
}

/**
 * The ApiError for a GraphQL `errors` list (HTTP answers and websocket `error`/`next` payloads).
 * Errors without a code (e.g. a document that does not validate) get `UNKNOWN`.
 */
export function errorFromGraphQL(errors, status) {
  const first = (errors && errors[0]) || {};
  const ext = first.extensions || {};
  const code = ext.code || 'UNKNOWN';
  const retryAfter = Number.isFinite(Number(ext.retryAfter)) ? Number(ext.retryAfter) : undefined;
  return new ApiError(String(first.message || code), String(code), {
    status, path: first.path, errors: errors || [], retryAfter,
  });
}

/** The name of the document's first operation, sent as `operationName` (shows in server logs). */
export function operationName(query) {
  const m = /^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(query);
  return m ? m[1] : undefined;
}

/**
 * Runs one operation and resolves to its `data`; rejects with an ApiError on any error.
 * @param {string} query
 * @param {object} [variables]
 * @param {{signal?: AbortSignal}} [options]
 */
export async function gql(query, variables = {}, { signal } = {}) {
  let res;
  try {
    res = await fetch(ENDPOINT, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ query, variables, operationName: operationName(query) }),
      signal,
    });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(e && e.message ? e.message : String(e), 'NETWORK');
  }

  let body = null;
  try {
    body = await res.json();
  } catch (e) {
    body = null;
  }

  const errors = body && Array.isArray(body.errors) ? body.errors : [];
  if (errors.length) {
    throw errorFromGraphQL(errors, res.status);
  }
  if (!res.ok || !body || typeof body.data !== 'object' || body.data === null) {
    throw new ApiError(`HTTP ${res.status}`, 'BAD_RESPONSE', { status: res.status });
  }
  return body.data;
}
