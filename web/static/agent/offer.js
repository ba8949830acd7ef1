// The offer prompt: matter, site, street, how long the resident has waited (ticking), a ring,
// and accept / reject. The offer expires on the server after expires_in_s; the card counts down
// so the caseworker knows, and `offer_withdrawn` takes it away.
import { role, showError } from "./dom.js";
import { startRing, stopRing } from "./ring.js";
import { T, clock, errorText } from "./texts.js";

let card;
let client;
let offer = null;
let shownAt = 0;
let timer = null;
let busy = false;
let hooks = { accepting: () => {}, acceptFailed: () => {} };

/**
 * Wire the offer card to the protocol client. `accepting(ticketId)` runs right after the accept
 * is sent (the prepared offer follows it on the same socket); `acceptFailed()` when it is refused.
 */
export function setupOffer(wsClient, { accepting, acceptFailed } = {}) {
  client = wsClient;
  hooks = { accepting: accepting || hooks.accepting, acceptFailed: acceptFailed || hooks.acceptFailed };
  card = role("offer-card");
  card.querySelector('[data-action="offer-accept"]').addEventListener("click", acceptOffer);
  card.querySelector('[data-action="offer-reject"]').addEventListener("click", rejectOffer);
}

/** The offer on screen, or null. */
export function currentOffer() {
  return offer;
}

/** Show an `offer`, or hide the card with null. */
export function showOffer(newOffer) {
  offer = newOffer;
  clearInterval(timer);
  showError(role("offer-error", card), "");
  if (!offer) {
    stopRing();
    card.hidden = true;
    return;
  }
  shownAt = Date.now();
  card.querySelector('[data-testid="offer-matter"]').textContent = offer.matter_name;
  card.querySelector('[data-testid="offer-site"]').textContent = offer.site;
  card.querySelector('[data-testid="offer-street"]').textContent = offer.street;
  const badge = role("offer-priority", card);
  badge.textContent = T.priority[offer.priority] || "";
  badge.hidden = !badge.textContent;
  card.hidden = false;
  // Focus on accept: Enter then accepts, whatever button was clicked last (e.g. 接单).
  card.querySelector('[data-action="offer-accept"]').focus();
  tick();
  timer = setInterval(tick, 1000);
  startRing();
}

function tick() {
  const since = (Date.now() - shownAt) / 1000;
  card.querySelector('[data-testid="offer-waited"]').textContent = clock(offer.waited_s + since);
  role("offer-expires", card).textContent = T.offer_expires(Math.max(0, Math.ceil(offer.expires_in_s - since)));
}

/** Enter / the button. */
export function acceptOffer() {
  return accept();
}

/** Esc / the button. */
export function rejectOffer() {
  return reject();
}

async function accept() {
  if (!offer || busy) return;
  const taken = offer;
  busy = true;
  stopRing();
  try {
    const accepted = client.request({ type: "accept", ticket_id: taken.ticket_id, fence: taken.fence });
    hooks.accepting(taken.ticket_id);
    await accepted;
    if (offer === taken) showOffer(null);
  } catch (error) {
    hooks.acceptFailed();
    // A refusal of an offer no longer on the card says nothing about the one that is.
    if (offer === taken) showError(role("offer-error", card), T.offer_failed + errorText(error));
  } finally {
    busy = false;
  }
}

async function reject() {
  if (!offer || busy) return;
  const declined = offer;
  busy = true;
  try {
    await client.request({ type: "reject", ticket_id: declined.ticket_id, fence: declined.fence });
    if (offer === declined) showOffer(null);
  } catch (error) {
    if (offer === declined) showError(role("offer-error", card), errorText(error));
  } finally {
    busy = false;
  }
}
