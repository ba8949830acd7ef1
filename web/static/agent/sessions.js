// Today's own sessions (今日已办), from the server's record: GET /api/v1/me/sessions, newest first.
// Refreshed at sign-in, on every (re)connect and after each call, so the list is the same in any
// tab and after any reload (docs/agent.md).
//
// A session this caseworker transferred, or that went back to the line when their console was
// gone, comes with outcome `transfer` or `dropped`; others without an outcome are labelled by
// the call_ended reason this page saw, else by their state.
import { getJson } from "../common/http.js";
import { el, role } from "./dom.js";
import { T, clock } from "./texts.js";

const endReasons = new Map(); // session id -> call_ended reason seen by this page (transferred, peer_gone)
let loading = null;
let again = false;

/** Remember why a call of this page ended, for its row (only reasons other than a normal end). */
export function noteEnded(sessionId, reason) {
  if (reason && reason !== "ended") endReasons.set(sessionId, reason);
}

/** Fetch and show the list; concurrent calls collapse into one more fetch. */
export async function refreshSessions() {
  if (loading) {
    again = true;
    return loading;
  }
  loading = (async () => {
    do {
      again = false;
      try {
        const { sessions } = await getJson("/api/v1/me/sessions");
        render(sessions || []);
      } catch {
        // offline or signed out: keep what is shown; the next call or reconnect refreshes it
      }
    } while (again);
  })();
  try {
    await loading;
  } finally {
    loading = null;
  }
}

/** Forget the list (sign-out). */
export function clearSessions() {
  endReasons.clear();
  render([]);
}

function render(list) {
  role("today-sessions").replaceChildren(...list.map(row));
  role("sessions-empty").hidden = list.length > 0;
  role("sessions-count").textContent = list.length ? T.sessions_count(list.length) : "";
}

/** What became of the session, in the caseworker's words. */
export function outcomeText(session) {
  if (session.outcome) return T.handoffs[session.outcome] || T.outcomes[session.outcome] || session.outcome;
  const reason = endReasons.get(session.id);
  if (reason) return T.ended_reasons[reason] || "";
  return T.session_states[session.state] ?? T.session_states.requeued;
}

function row(s) {
  const at = s.answered_at || s.ended_at;
  const time = at ? new Date(at).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Shanghai" }) : "";
  const seconds = s.answered_at && s.ended_at ? (Date.parse(s.ended_at) - Date.parse(s.answered_at)) / 1000 : null;
  const detail = [s.site, s.case_number, seconds != null ? clock(seconds) : ""].filter(Boolean).join(" · ");
  return el("li", { data: { outcome: s.outcome || endReasons.get(s.id) || s.state || "", sessionId: s.id } }, [
    el("span", { class: "a-session-time", text: time }),
    el("span", { class: "a-session-main" }, [
      el("strong", { text: `${s.ticket_number || ""} ${s.matter_name || ""}` }),
      el("small", { class: "a-muted", text: detail }),
    ]),
    el("span", { class: "a-session-outcome", text: outcomeText(s) }),
  ]);
}
