// The notice and consent before queueing (PIPL art. 14, 17, 29): what will happen in the call,
// which documents are photographed, how long they are kept, and whether the call is recorded.
// 同意并继续 queues with consent "accepted"; 不同意 offers a consultation without any capture
// ("declined") or the way home. The server keeps the answer with the notice's version.
import * as api from "./api.js";
import { el, role, setText } from "./dom.js";
import * as screens from "./screens.js";
import { state } from "./state.js";

let root;
let version = null;
let onChoice = () => {};

/** Wire the consent screen; `next({version, choice})` queues the resident with that answer. */
export function setupConsent({ next }) {
  root = document.querySelector('[data-screen="consent"]');
  onChoice = next;
  root.querySelector('[data-testid="consent-accept"]').addEventListener("click", () => choose("accepted"));
  root.querySelector('[data-testid="consent-decline"]').addEventListener("click", showDeclined);
  root.querySelector('[data-testid="consent-consult"]').addEventListener("click", () => choose("declined"));
  screens.register("consent", { enter, leave: () => { version = null; } });
}

/** The screen's status line (loading, or why the notice could not be shown). */
function consentStatus() {
  return role("consent-status", root);
}

async function enter() {
  version = null;
  showChoices(true);
  setButtons(false);
  const status = consentStatus();
  status.dataset.state = "idle";
  setText(status, "consent_loading");
  role("consent-paragraphs", root).replaceChildren();
  role("consent-decline-note", root).textContent = "";
  try {
    const notice = await api.notice(state.matter.id);
    if (screens.currentScreen() !== "consent") return;
    render(notice);
    status.textContent = "";
    setButtons(true);
  } catch {
    status.dataset.state = "warn";
    setText(status, "consent_failed");
  }
}

function render(notice) {
  version = notice.version;
  role("consent-title", root).textContent = notice.title;
  role("consent-paragraphs", root).replaceChildren(...notice.paragraphs.map((text) => el("p", { text })));
  role("consent-decline-note", root).textContent = notice.decline;
}

function showDeclined() {
  showChoices(false);
}

function showChoices(first) {
  role("consent-body", root).hidden = !first;
  role("consent-choices", root).hidden = !first;
  role("consent-declined", root).hidden = first;
  role("consent-after-decline", root).hidden = first;
}

function setButtons(enabled) {
  for (const button of root.querySelectorAll('[data-testid^="consent-"]')) {
    if (button.tagName === "BUTTON") button.disabled = !enabled;
  }
}

function choose(choice) {
  if (!version) return;
  onChoice({ version, choice });
}
