// The waiting screen: ticket number, place in line, estimated wait, cancel (with a confirmation,
// since a mis-tap would cost an elderly resident their place).
import { role, setText } from "./dom.js";
import * as screens from "./screens.js";
import { state } from "./state.js";
import { T } from "./texts.js";

let root;

/** Wire the waiting screen; `cancel()` must leave the queue (returns a promise). */
export function setupWaiting({ cancel }) {
  root = document.querySelector('[data-screen="waiting"]');
  const dialog = role("cancel-dialog", root);
  root.querySelector('[data-testid="queue-cancel"]').addEventListener("click", () => { dialog.hidden = false; });
  root.querySelector('[data-action="cancel-no"]').addEventListener("click", () => { dialog.hidden = true; });
  root.querySelector('[data-action="cancel-yes"]').addEventListener("click", async () => {
    dialog.hidden = true;
    await cancel();
  });
  screens.register("waiting", { enter: (note) => { setNote(note); renderTicket(); }, leave: () => { dialog.hidden = true; } });
}

/** Show a one-off note under the board (requeued, transferred…), or the default hint. */
export function setNote(key) {
  setText(role("waiting-note", root), key || "waiting_hint");
}

/** Redraw from state.ticket (called on every `ticket` message while waiting). */
export function renderTicket() {
  const ticket = state.ticket;
  if (!ticket) return;
  root.querySelector('[data-testid="queue-ticket"]').textContent = ticket.number;
  role("waiting-matter", root).textContent = ticket.matter_name;
  const position = root.querySelector('[data-testid="queue-position"]');
  const offered = ticket.state === "offered";
  position.dataset.position = ticket.position ?? "";
  position.textContent = ticket.position ? `${ticket.position} ${T.position_unit}` : "—";
  const wait = root.querySelector('[data-testid="queue-wait"]');
  // Offered: a caseworker is being asked right now, whatever the estimate says.
  wait.textContent = offered ? T.wait_soon : waitText(ticket.est_wait_s);
  wait.classList.toggle("is-unknown", !offered && ticket.est_wait_s == null);
  let title = "waiting_title";
  if (offered) title = "waiting_offered";
  else if (ticket.position === 1) title = "position_next";
  setText(role("waiting-title", root), title);
}

function waitText(seconds) {
  if (seconds == null) return T.wait_unknown;
  const minutes = Math.round(seconds / 60);
  return minutes < 1 ? T.wait_soon : T.wait_minutes(minutes);
}
