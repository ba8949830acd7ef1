// 回电: the resident leaves a phone number (typed on the big keypad) and the centre calls back.
// The number goes to the server only (callback_request) and is forgotten here when the screen is left.
// The resident may say when a call suits them (上午 / 下午; 都可以 by default): the caseworker sees it.
import { showError } from "../common/dom.js";
import { role } from "./dom.js";
import { setupNumpad } from "./numpad.js";
import * as screens from "./screens.js";
import { state } from "./state.js";
import { T } from "./texts.js";
import { whenText } from "./when.js";

let root = null;
let send = null;

/** Wire the callback screen; `request(message)` sends a protocol request (rejects with its error). */
export function setupCallback({ request }) {
  root = document.querySelector('[data-screen="callback"]');
  send = request;
  const input = root.querySelector('[data-testid="callback-phone"]');
  setupNumpad(role("callback-keypad", root), input, () => showError(role("callback-error", root), ""));
  root.querySelector('[data-testid="callback-submit"]').addEventListener("click", submit);
  for (const option of whenOptions()) option.addEventListener("click", () => choose(option.dataset.preferred));
  screens.register("callback", { enter, leave: () => { input.value = ""; } });
  document.addEventListener("click", (event) => {
    if (event.target.closest('[data-testid="callback-request"]')) screens.show("callback", null, { push: true });
  });
}

/** 工作人员会在 明天 10:00 前给您回电: the due time the server set, said as the resident says it. */
function showDue(callback) {
  const done = root.querySelector('[data-testid="callback-done"]');
  const line = role("callback-done-body", done);
  if (callback && callback.due_at) {
    done.dataset.due = callback.due_at;
    line.textContent = T.callback_done_due(whenText(callback.due_at, callback.now));
  } else {
    line.textContent = T.callback_done_body;
  }
}

function whenOptions() {
  return root.querySelectorAll('[data-testid="callback-preferred"]');
}

function choose(preferred) {
  for (const option of whenOptions()) option.setAttribute("aria-pressed", String(option.dataset.preferred === preferred));
}

function chosen() {
  const pressed = root.querySelector('[data-testid="callback-preferred"][aria-pressed="true"]');
  return pressed ? pressed.dataset.preferred : "";
}

function enter() {
  root.querySelector('[data-testid="callback-phone"]').value = "";
  choose("");
  role("callback-form", root).hidden = false;
  root.querySelector('[data-testid="callback-done"]').hidden = true;
  showError(role("callback-error", root), "");
}

async function submit() {
  const input = root.querySelector('[data-testid="callback-phone"]');
  const button = root.querySelector('[data-testid="callback-submit"]');
  if (!state.matter) return;
  button.disabled = true;
  try {
    const reply = await send({
      type: "callback_request", matter_id: state.matter.id, phone: input.value, preferred: chosen(),
    });
    input.value = "";
    showDue(reply.callback);
    role("callback-form", root).hidden = true;
    root.querySelector('[data-testid="callback-done"]').hidden = false;
  } catch (error) {
    showError(role("callback-error", root), error.message || T.callback_failed);
  } finally {
    button.disabled = false;
  }
}
