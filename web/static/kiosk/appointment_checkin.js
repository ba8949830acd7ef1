// 预约签到: at any kiosk, the resident types the 6-digit code (or the phone number the booking was made
// with) on the big keypad; `appointment_checkin` queues them with priority `appointment`, and the
// `ticket` that follows brings the waiting screen. Too early, too late, a wrong code: the server's
// Chinese message is shown as it is.
import { showError } from "../common/dom.js";
import { role } from "./dom.js";
import { setupNumpad } from "./numpad.js";
import * as screens from "./screens.js";
import { state } from "./state.js";
import { T } from "./texts.js";

let root = null;
let send = null;

/** Wire the check-in screen; `request(message)` sends a protocol request (rejects with its error). */
export function setupCheckin({ request }) {
  root = document.querySelector('[data-screen="checkin"]');
  send = request;
  const input = role("appointment-code-input", root);
  const error = role("checkin-error", root);
  setupNumpad(role("checkin-keypad", root), input, () => showError(error, ""));
  role("appointment-checkin-submit", root).addEventListener("click", submit);
  screens.register("checkin", {
    enter: () => {
      input.value = "";
      showError(error, "");
    },
    leave: () => { input.value = ""; },
  });
  document.addEventListener("click", (event) => {
    // From the start screen, or 我有预约 among the priority choices before queueing.
    if (event.target.closest('[data-testid="appointment-checkin"], [data-priority="appointment"]')) {
      screens.show("checkin", null, { push: true });
    }
  });
}

async function submit() {
  const input = role("appointment-code-input", root);
  const button = role("appointment-checkin-submit", root);
  button.disabled = true;
  try {
    await send({ type: "appointment_checkin", code: input.value, consent: state.consent || undefined });
    input.value = "";
    if (screens.currentScreen() === "checkin") screens.show("waiting");
  } catch (error) {
    showError(role("checkin-error", root), error.message || T.checkin_failed);
  } finally {
    button.disabled = false;
  }
}
