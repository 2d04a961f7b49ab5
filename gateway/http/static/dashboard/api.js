// The dashboard's only way to the data: GraphQL documents POSTed to /graphql with the bearer token, and the
// export files their `downloadUrl` names. The token lives in this tab's session storage: closing the tab
// forgets it, and no cookie carries it (so no other site can make the browser use it).

const TOKEN_KEY = "analytics-gateway.token";
const ORIGIN_KEY = "analytics-gateway.token-origin";
export const ENDPOINT = "/graphql";

/** The operation documents, by file name, as the page carries them (see gateway/http/dashboard.py). */
export const documents = JSON.parse(document.getElementById("documents").textContent);

/** An error the graph or the gateway answered, with its code (`UNAUTHENTICATED`, `RATE_LIMITED`, ...). */
export class GraphQLError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code || "";
    this.status = status;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Keep `value` for this tab; `origin` says how it was had (`login` tokens are revoked on sign-out). */
export function setToken(value, origin) {
  sessionStorage.setItem(TOKEN_KEY, value);
  sessionStorage.setItem(ORIGIN_KEY, origin);
}

export function tokenOrigin() {
  return sessionStorage.getItem(ORIGIN_KEY);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(ORIGIN_KEY);
}

let onSignedOut = () => {};

/** Called when the gateway no longer accepts the token (revoked, or the account deleted). */
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

/**
 * Run operation `name` of document `file` with `variables`; resolves to its `data`, rejects with a
 * GraphQLError (the first error's message and code; `NETWORK` when the gateway cannot be reached).
 */
export async function run(file, name, variables = {}, { signal, bearer = token(), quiet = false } = {}) {
  const headers = {
    "Content-Type": "application/json",
    Accept: "application/graphql-response+json, application/json",
  };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers,
      body: JSON.stringify({ query: documents[file], operationName: name, variables }),
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new GraphQLError("The gateway cannot be reached. Check that it is running, then try again.", "NETWORK", 0);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const first = body && Array.isArray(body.errors) ? body.errors[0] : null;
  if (first || !body || !body.data) {
    const code = (first && first.extensions && first.extensions.code) || `HTTP_${response.status}`;
    const message = (first && first.message) || `The gateway answered ${response.status} ${response.statusText}.`;
    const error = new GraphQLError(message, code, response.status);
    // the stored token stopped working: everything else would fail too (`quiet`: the caller handles it)
    if (response.status === 401 && bearer && bearer === token() && !quiet) onSignedOut(error);
    throw error;
  }
  return body.data;
}

/** The file at `url` (an export's `downloadUrl`), fetched with the token: it needs the bearer header. */
export async function download(url) {
  const response = await fetch(url, { headers: { Authorization: `Bearer ${token()}` } });
  if (!response.ok) {
    let message = `The download failed: ${response.status} ${response.statusText}.`;
    try {
      const body = await response.json();
      if (body && body.error) message = `The download failed: ${body.error}.`;
    } catch {
      // not JSON: the status says enough
    }
    throw new GraphQLError(message, `HTTP_${response.status}`, response.status);
  }
  const disposition = response.headers.get("Content-Disposition") || "";
  const named = /filename="([^"]+)"/.exec(disposition);
  return { blob: await response.blob(), filename: named ? named[1] : "export" };
}
