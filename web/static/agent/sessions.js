// Today's own sessions. There is no endpoint for a caseworker's own sessions yet, so the console
// keeps the calls handled since sign-in in sessionStorage: it survives a reload of the tab but
// not a new tab or a new sign-in (docs/agent.md). Newest first.
import { el, role } from "./dom.js";
import { T, clock } from "./texts.js";

const KEY_PREFIX = "jinglin.agent.sessions.";
let key = null;

/** Use the list of this caseworker; `fresh` (an explicit sign-in) starts it empty. */
export function openSessions(username, { fresh = false } = {}) {
  key = KEY_PREFIX + username;
  if (fresh) sessionStorage.removeItem(key);
  render();
}

/** Forget the list (sign-out). */
export function clearSessions() {
  if (key) sessionStorage.removeItem(key);
  key = null;
  render();
}

/** Add (or update, by session id) one handled session. */
export function recordSession(entry) {
  if (!key) return;
  const list = load().filter((s) => s.session_id !== entry.session_id);
  list.unshift(entry);
  sessionStorage.setItem(key, JSON.stringify(list.slice(0, 200)));
  render();
}

/** The most recent session, or null. */
export function lastSession() {
  return load()[0] || null;
}

function load() {
  if (!key) return [];
  try {
    return JSON.parse(sessionStorage.getItem(key) || "[]");
  } catch {
    return [];
  }
}

function render() {
  const list = load();
  const node = role("today-sessions");
  node.replaceChildren(...list.map(row));
  role("sessions-empty").hidden = list.length > 0;
  role("sessions-count").textContent = list.length ? T.sessions_count(list.length) : "";
}

function row(s) {
  const time = new Date(s.ended_at).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit" });
  const outcome = T.ended_reasons[s.reason] || T.outcomes[s.outcome] || s.outcome || "";
  const detail = [s.site, s.case_number, s.duration_s != null ? clock(s.duration_s) : ""].filter(Boolean).join(" · ");
  return el("li", { data: { outcome: s.outcome || s.reason || "" } }, [
    el("span", { class: "a-session-time", text: time }),
    el("span", { class: "a-session-main" }, [
      el("strong", { text: `${s.ticket_number || ""} ${s.matter_name || ""}` }),
      el("small", { class: "a-muted", text: detail }),
    ]),
    el("span", { class: "a-session-outcome", text: outcome }),
  ]);
}
