// Calls the JSON helpers of common/http.js do not cover: PATCH/PUT bodies and file uploads.
import { HttpError } from "../common/http.js";

export { getJson, postJson } from "../common/http.js";

async function parse(response) {
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (data && data.error) || {};
    const failure = new HttpError(response.status, error.code, error.message);
    failure.details = error.details || [];
    throw failure;
  }
  return data;
}

/** Send a JSON body with any method (PATCH, PUT). */
export async function sendJson(method, path, body) {
  return parse(await fetch(path, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body),
  }));
}

/** Upload a file as the multipart field `file`. */
export async function upload(path, file) {
  const form = new FormData();
  form.append("file", file);
  return parse(await fetch(path, { method: "POST", credentials: "same-origin", body: form }));
}
