// Supervisor dashboard entry: sign in (supervisor or admin), then the live part over the
// WebSocket and the on-demand parts (reports, staffing, follow-ups, kiosks).
import { HttpError } from "../common/http.js";
import { showLogout, signIn } from "../common/staff_sign_in.js";
import { WsClient } from "../common/ws_client.js";
import { applyTexts, role } from "./dom.js";
import { loadAppointments } from "./appointments.js";
import { loadCallbacks } from "./callbacks.js";
import { loadFollowups } from "./followups.js";
import { loadKiosks } from "./kiosks.js";
import { onPushed, refresh, startLive } from "./live.js";
import { startRecordings } from "./recordings.js";
import { startReports } from "./reports.js";
import { T } from "./texts.js";

const ROLES = new Set(["supervisor", "admin"]);
const LIST_REFRESH_MS = 20_000;
const LISTS = [["followups", loadFollowups], ["callbacks", loadCallbacks], ["appointments", loadAppointments]];

/** Whether a list may be redrawn: nothing in it has the focus or holds typed text. */
function idle(list) {
  if (list.contains(document.activeElement)) return false;
  return ![...list.querySelectorAll("input, textarea")].some((field) => field.value.trim() !== "");
}

function loginMessage(failure) {
  return failure instanceof HttpError && failure.status === 401 ? T.login_failed : T.login_error;
}

function connect() {
  const status = document.querySelector('[data-testid="connection"]');
  const show = (state, key) => {
    status.dataset.state = state;
    status.textContent = T[key];
  };
  show("connecting", "conn_connecting");
  const ws = new WsClient();
  // A (re)connect may have missed pushes: read the whole picture again, then follow the pushes.
  ws.on("welcome", () => {
    show("live", "conn_live");
    refresh();
  });
  ws.on("close", () => show("lost", "conn_lost"));
  // Signed out in another tab (or the account was disabled): reconnecting cannot help. Say so and
  // offer the reload that leads to the sign-in form, rather than "reconnecting" for ever.
  ws.on("fatal", () => {
    show("signed_out", "conn_signed_out");
    const reload = document.createElement("button");
    reload.type = "button";
    reload.className = "s-link";
    reload.dataset.testid = "connection-reload";
    reload.textContent = T.reload;
    reload.addEventListener("click", () => location.reload());
    status.append(" ", reload);
  });
  ws.on("stats", (message) => onPushed(message.stats));
  ws.start();
  return ws;
}

async function main() {
  applyTexts();
  const me = await signIn({ roles: ROLES, failureText: loginMessage, wrongRoleText: T.login_wrong_role });
  role("user-label").textContent = me.username;
  showLogout();
  role("nav").hidden = false;
  role("dashboard").hidden = false;
  await loadKiosks().catch((error) => console.warn("kiosks failed", error));
  await startLive();
  connect();
  document.body.dataset.ready = "1"; // for tests and screenshots: first figures are on screen
  await Promise.all([
    startReports().catch((error) => console.warn("reports failed", error)),
    loadFollowups().catch((error) => console.warn("follow-ups failed", error)),
    loadCallbacks().catch((error) => console.warn("callbacks failed", error)),
    loadAppointments().catch((error) => console.warn("appointments failed", error)),
    startRecordings().catch((error) => console.warn("recordings failed", error)),
  ]);
  document.body.dataset.loaded = "1";
  // Ratings, callbacks and bookings arrive without a queue change (no push): read these lists
  // again now and then, but never under a supervisor's hands (a note being typed stays).
  setInterval(() => {
    for (const [list, load] of LISTS) if (idle(role(list))) load().catch(() => {});
  }, LIST_REFRESH_MS);
}


main();
