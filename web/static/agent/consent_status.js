// The resident's answer to the notice shown before queueing (call.consent = {version, choice, at}).
// A declined consent means a consultation without any capture: the checklist's capture buttons
// stay disabled and the server refuses capture requests with `consent_declined`.
import { role } from "./dom.js";
import { T } from "./texts.js";

/** True when the resident declined: nothing may be photographed (or recorded) in this call. */
export function consentDeclined(consent) {
  return Boolean(consent && consent.choice === "declined");
}

/** Show the call's consent in the side panel (`consent-status`, data-choice accepted|declined|none). */
export function renderConsent(consent) {
  const node = role("consent-status");
  const choice = consent ? consent.choice : "none";
  node.dataset.choice = choice;
  node.textContent = T.consent[choice](consent ? consent.version : "");
}
