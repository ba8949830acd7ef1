// Wrap-up after a call: a countdown to agent.wrap_up_until (server time, see server_clock.js)
// and "结束整理" to be available again early. When the countdown ends the server makes the
// caseworker available by itself; the page just waits for that `agent` message.
import { role } from "./dom.js";
import { serverNow } from "./server_clock.js";
import { T } from "./texts.js";

let card;
let client;
let until = null;
let timer = null;

/** Wire the wrap-up card to the protocol client. */
export function setupWrapUp(wsClient) {
  client = wsClient;
  card = role("wrap-card");
  card.querySelector('[data-action="finish-wrap-up"]').addEventListener("click", finishWrapUp);
}

/** Show the countdown to `wrapUpUntil` (unix seconds), or hide the card with null. */
export function showWrapUp(wrapUpUntil, lastLine = "") {
  clearInterval(timer);
  until = wrapUpUntil;
  card.hidden = until === null;
  if (until === null) return;
  role("wrap-last", card).textContent = lastLine;
  tick();
  timer = setInterval(tick, 250);
}

function tick() {
  const left = Math.max(0, Math.ceil(until - serverNow()));
  card.querySelector('[data-testid="wrap-up-countdown"]').textContent = T.wrap_remaining(left);
}

/** Ctrl+Enter / the button. */
export function finishWrapUp() {
  if (until === null) return;
  client.request({ type: "finish_wrap_up" }).catch(() => {
    // wrap-up already over (timer): the next `agent` message shows the new state
  });
}
