// 回访 phone: after a 1-2 star rating, an optional offer to leave a phone number so that the centre
// can call the resident about it (docs/hours.md "回访 phone"). Typed on the big keypad, sent as
// `followup_phone` for the session just rated, and forgotten here when the screen is left.
import { showError } from "../common/dom.js";
import { role } from "./dom.js";
import { setupNumpad } from "./numpad.js";
import * as screens from "./screens.js";
import { state } from "./state.js";
import { T } from "./texts.js";

let root = null;

/** Wire the screen; `request(message)` sends a protocol request, `done()` leaves when skipped. */
export function setupFollowupPhone({ request, done }) {
  root = document.querySelector('[data-screen="followup-phone"]');
  const input = root.querySelector('[data-testid="followup-phone"]');
  const error = role("revisit-error", root);
  setupNumpad(role("revisit-keypad", root), input, () => showError(error, ""));
  root.querySelector('[data-testid="followup-phone-skip"]').addEventListener("click", done);
  const submit = root.querySelector('[data-testid="followup-phone-submit"]');
  submit.addEventListener("click", async () => {
    submit.disabled = true;
    try {
      await request({ type: "followup_phone", session_id: state.rateSessionId, phone: input.value });
      input.value = "";
      role("revisit-form", root).hidden = true;
      root.querySelector('[data-testid="followup-phone-done"]').hidden = false;
    } catch (failure) {
      showError(error, failure.message || T.revisit_failed);
    } finally {
      submit.disabled = false;
    }
  });
  screens.register("followup-phone", {
    enter: () => {
      input.value = "";
      role("revisit-form", root).hidden = false;
      root.querySelector('[data-testid="followup-phone-done"]').hidden = true;
      showError(error, "");
    },
    leave: () => { input.value = ""; },
  });
}
