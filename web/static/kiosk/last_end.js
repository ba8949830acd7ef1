// What came of the call just ended, kept in this tab's sessionStorage while the ended screen is
// on show (until it moves on to the rating, or the kiosk goes home), so a reload there shows the
// outcome and receipt again instead of starting over: the welcome after a reload carries neither
// the ended call nor its ticket. Only the session id, outcome and 受理编号 are kept, and only for
// RECENT_MS.
const KEY = "jl-last-end";
const RECENT_MS = 10 * 60 * 1000;

/** Remember an ended call: {session_id, outcome, case_number}. */
export function rememberEnd(ended) {
  try {
    sessionStorage.setItem(KEY, JSON.stringify({
      session_id: ended.session_id, outcome: ended.outcome || null, case_number: ended.case_number || "",
      at: Date.now(),
    }));
  } catch {
    // storage refused (private mode, full): a reload then starts at home, as before
  }
}

/** The ended call remembered in the last RECENT_MS, or null. */
export function recentEnd() {
  try {
    const kept = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (kept && kept.session_id && kept.outcome && Date.now() - kept.at < RECENT_MS) return kept;
  } catch {
    // unreadable: as if nothing were kept
  }
  return null;
}

/** Forget it (moved on to the rating, or home). */
export function forgetEnd() {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing to forget
  }
}
