// JSON over HTTP to our own API. Errors come back as {"error": {"code", "message"}} (README, "HTTP");
// they are thrown as HttpError so callers can branch on the status and the code.

/** A non-2xx answer from the API. */
export class HttpError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
  }
}

/** GET a JSON document; `params` become the query string (empty values are left out). */
export async function getJson(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, value);
  }
  const url = query.toString() ? `${path}?${query}` : path;
  return parse(await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }));
}

/** POST a JSON body and return the JSON answer. */
export async function postJson(path, body) {
  return parse(await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  }));
}

async function parse(response) {
  let data;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new HttpError(response.status, error.code, error.message);
  }
  return data;
}
