// The kiosk's HTTP calls: sign-in with the device token and the matters catalog.
import { getJson, postJson } from "../common/http.js";

/** Exchange the device token for the kiosk session cookie; returns {id, site, street_id, label}. */
export async function signIn(token) {
  const data = await postJson("/api/v1/kiosk/session", { token });
  return data.kiosk;
}

/** Who holds the session cookie (rejects with HttpError 401 when nobody does). */
export function whoAmI() {
  return getJson("/api/v1/auth/me");
}

/** Departments with active matters: [{name, matters}]. */
export async function departments() {
  return (await getJson("/api/v1/departments")).departments;
}

/** Matters matching a search text (Chinese, pinyin, initials), department and mode. */
export async function matters({ q, department, mode } = {}) {
  return (await getJson("/api/v1/matters", { q, department, mode })).matters;
}

/** One matter with its materials. */
export function matter(id) {
  return getJson(`/api/v1/matters/${encodeURIComponent(id)}`);
}
