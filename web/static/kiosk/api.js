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

/** Can this kiosk queue a resident for a matter now: {state, est_wait_s, next_open, now}. */
export function availability(matterId) {
  return getJson("/api/v1/availability", { matter: matterId });
}

/** The kiosk centre's appointment slots for a matter: {now, slot_minutes, days: [{date, reason, holiday, slots}]}. */
export function appointmentSlots(matterId) {
  return getJson("/api/v1/appointments/slots", { matter: matterId });
}

/** The notice shown before queueing for a matter: {version, title, paragraphs, decline, captures, recording}. */
export function notice(matterId) {
  return getJson("/api/v1/kiosk/notice", { matter_id: matterId });
}

/** What came of a session: {session_id, state, outcome, case_number} (outcome null until its call ends). */
export function sessionResult(sessionId) {
  return getJson(`/api/v1/sessions/${encodeURIComponent(sessionId)}/result`);
}

/** The receipt of an ended session (受理 or 材料不全); rejects with HttpError 404 when there is none (yet). */
export function receipt(sessionId) {
  return getJson(`/api/v1/sessions/${encodeURIComponent(sessionId)}/receipt`);
}
