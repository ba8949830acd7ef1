// The step before the queue: can the resident be served now (GET /api/v1/availability), and an
// optional priority (老人 / 残疾人). Closed: say when service starts next and offer no queue.
// Nobody with the skill signed in, or a long wait: say so, and let the resident queue anyway.
import * as api from "./api.js";
import { showError } from "../common/dom.js";
import { role, setText } from "./dom.js";
import * as screens from "./screens.js";
import { state } from "./state.js";
import { T } from "./texts.js";
import { whenText } from "./when.js";

let root = null;
let onJoin = null;
let serverNow = null; // the server's idea of now (its service clock), for 今天/明天

/** Wire the screen; `join(priority)` queues the resident (rejects with the server's error). */
export function setupAvailability({ join }) {
  root = document.querySelector('[data-screen="availability"]');
  onJoin = join;
  root.addEventListener("click", (event) => {
    const option = event.target.closest("[data-priority]");
    // 我有预约 goes to the check-in screen (appointment_checkin.js), which queues with the booking.
    if (option && option.dataset.priority !== "appointment") queue(option.dataset.priority);
    else if (event.target.closest('[data-action="priority-none"]')) queue("normal");
  });
  screens.register("availability", { enter: (notice) => (notice ? showEnded(notice) : check()) });
}

/** The server ended the waiting ticket (`service_notice`): say why, and when service starts again. */
function showEnded(notice) {
  serverNow = notice.now || null;
  if (notice.reason === "centre_closed") {
    showClosed(notice.next_open);
    return;
  }
  const box = root.querySelector('[data-testid="no-staff-notice"]');
  box.dataset.state = "ended";
  setText(role("notice-text", root), "availability_ended_no_staff");
  show(["notice", "ended"]);
}

function show(part) {
  for (const name of ["checking", "closed", "notice", "choices", "ended"]) {
    role(`availability-${name}`, root).hidden = !part.includes(name);
  }
}

async function check() {
  show(["checking"]);
  showError(role("availability-error", root), "");
  let found;
  try {
    found = await api.availability(state.matter.id);
  } catch {
    found = { state: "queue", est_wait_s: null }; // the join itself still refuses a closed centre
  }
  serverNow = found.now || null;
  if (found.state === "closed") return showClosed(found.next_open);
  const notice = root.querySelector('[data-testid="no-staff-notice"]');
  notice.dataset.state = found.state;
  if (found.state === "no_staff") setText(role("notice-text", root), "availability_no_staff");
  else if (found.state === "long_wait") {
    role("notice-text", root).textContent = T.availability_long_wait(Math.round(found.est_wait_s / 60));
  }
  const wait = role("availability-wait", root);
  wait.hidden = found.state !== "queue" || typeof found.est_wait_s !== "number";
  if (!wait.hidden) wait.textContent = T.availability_wait(Math.round(found.est_wait_s / 60));
  setText(role("priority-none", root), found.state === "queue" ? "priority_none" : "queue_anyway");
  show(found.state === "queue" ? ["choices"] : ["notice", "choices"]);
}

function showClosed(nextOpen) {
  const notice = root.querySelector('[data-testid="closed-notice"]');
  notice.dataset.nextOpen = nextOpen || "";
  role("closed-when", root).textContent = nextOpen ? T.closed_next(whenText(nextOpen, serverNow || undefined))
    : T.closed_no_date;
  show(["closed"]);
}

async function queue(priority) {
  for (const button of root.querySelectorAll("button")) button.disabled = true;
  try {
    await onJoin(priority);
  } catch (error) {
    if (error.code === "closed") {
      await check();
      return;
    }
    showError(role("availability-error", root), T.join_failed);
  } finally {
    for (const button of root.querySelectorAll("button")) button.disabled = false;
  }
}
