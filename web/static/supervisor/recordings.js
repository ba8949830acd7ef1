// Today's recordings (全程录音录像): the answered sessions with their recording state, the count of
// those without a complete recording (also a tile of the live board), and one session's detail
// with the player. The player reads GET /api/v1/sessions/{id}/recording with byte ranges; the
// server writes every request to the audit log.
import { getJson } from "../common/http.js";
import { el, failureText, role } from "./dom.js";
import { T } from "./texts.js";

function stateText(recording) {
  const reason = recording.reason ? ` · ${T.rec_reasons[recording.reason] || recording.reason}` : "";
  return `${T.rec_states[recording.state] || recording.state}${reason}`;
}

function line(item) {
  const play = el("button", { class: "s-button", text: T.rec_play, attrs: { type: "button" },
    data: { testid: "recording-open" } });
  play.disabled = item.recording.chunks === 0 || item.recording.reason === "purged";
  play.addEventListener("click", () => openSession(item.id));
  return el("tr", { data: { testid: "recording-row", sessionId: item.id, state: item.recording.state } }, [
    el("td", { text: item.ticket_number }),
    el("td", { text: item.matter }),
    el("td", { text: item.caseworker || "" }),
    el("td", { class: "s-rec-state", text: stateText(item.recording), data: { state: item.recording.state } }),
    el("td", {}, [play]),
  ]);
}

/** Read and draw today's recordings and the board's count. */
export async function loadRecordings() {
  const data = await getJson("/api/v1/recordings");
  role("recordings").replaceChildren(...data.items.map(line));
  role("recording-counts").textContent = T.recording_counts(data);
  document.querySelector('[data-testid="stat-recordings-missing"]').textContent = String(data.without_complete);
  role("recordings-tile").dataset.alert = data.without_complete > 0 ? "1" : "0";
}

const REFRESH_MS = 20_000;

/** Load now and every 20 s (a call that ends changes the count). */
export async function startRecordings() {
  setInterval(() => loadRecordings().catch(() => {}), REFRESH_MS);
  await loadRecordings();
}

/** One session's detail: title, duration and size, and the player; a failure is said there. */
export async function openSession(sessionId) {
  const detail = role("session-detail");
  let session;
  try {
    session = await getJson(`/api/v1/sessions/${encodeURIComponent(sessionId)}`);
  } catch (error) {
    role("detail-title", detail).textContent = failureText(error, "rec_failed");
    role("detail-facts", detail).textContent = "";
    detail.querySelector('[data-testid="recording-player"]').removeAttribute("src");
    detail.hidden = false;
    return;
  }
  const recording = session.recording;
  role("detail-title", detail).textContent = `${session.ticket_number} · ${session.matter} · ${stateText(recording)}`;
  role("detail-facts", detail).textContent = `${T.rec_facts(recording)} · ${T.rec_viewed_note}`;
  const player = detail.querySelector('[data-testid="recording-player"]');
  player.dataset.sessionId = sessionId;
  player.src = `/api/v1/sessions/${encodeURIComponent(sessionId)}/recording?variant=player`;
  detail.hidden = false;
}
