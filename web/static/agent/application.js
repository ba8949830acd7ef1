// The application form of the call's matter (同屏确认): the caseworker fills `call.form`, the console
// checks each field (application_checks.js) and names the first wrong one, then sends it
// (`form_send`); the kiosk shows it read-only and the resident's answer comes back as `form_status`
// (sent → confirmed | change_requested). After 需要修改 the caseworker edits and sends again. After
// 确认无误 the resident signs on the kiosk: `form_status` signed, and the signature image is shown.
import { firstProblem } from "./application_checks.js";
import { el, role, showError } from "./dom.js";
import { T, errorText } from "./texts.js";

let client;
let panel;
let callId = null;
let fields = [];
let version = 0; // the last version sent in this call

/** Wire the form panel to the protocol client. */
export function setupApplication(wsClient) {
  client = wsClient;
  panel = role("application");
  role("application-form", panel).addEventListener("submit", (event) => {
    event.preventDefault();
    send().catch((error) => console.error("form not sent", error));
  });
  client.on("form_status", (status) => {
    // Only the latest version counts: an answer to an older one (delivered late) does not.
    if (status.call_id !== callId || status.version < version) return;
    version = status.version;
    renderStatus(status.state);
  });
}

/** Show the form of a new call (empty), or hide the panel when the matter has none. */
export function resetApplication(call) {
  callId = call ? call.call_id : null;
  fields = (call && call.form) || [];
  version = 0;
  panel.hidden = fields.length === 0;
  const box = role("application-fields", panel);
  box.replaceChildren(...fields.map(fieldInput));
  showError(role("application-error", panel), "");
  renderStatus("none");
  // A reloaded console takes up the last version sent in this call: its values and where it stands.
  const last = call && call.form_last;
  if (last) {
    version = last.version;
    for (const field of last.fields) {
      const input = box.querySelector(`[data-field="${field.key}"]`);
      if (input) input.value = field.value;
    }
    renderStatus(last.state);
  }
}

function fieldInput(field) {
  const attrs = { name: field.key, "data-testid": "form-field", "aria-required": String(field.required) };
  let input;
  if (field.type === "choice") {
    input = el("select", { attrs }, [el("option", { text: T.form_choose, attrs: { value: "" } }),
      ...field.choices.map((choice) => el("option", { text: choice, attrs: { value: choice } }))]);
  } else {
    input = el("input", { attrs: { ...attrs, type: "text", autocomplete: "off", maxlength: "200",
      placeholder: T.form_placeholders[field.type] || "" } });
  }
  input.dataset.field = field.key;
  const label = el("span", { text: field.required ? `${field.label} *` : field.label });
  return el("label", { class: "a-form-row" }, [label, input]);
}

function values() {
  const filled = {};
  for (const input of panel.querySelectorAll('[data-testid="form-field"]')) {
    if (input.value.trim()) filled[input.dataset.field] = input.value.trim();
  }
  return filled;
}

async function send() {
  if (!callId) return;
  const error = role("application-error", panel);
  const filled = values();
  const problem = firstProblem(fields, filled);
  if (problem) {
    const [code, field] = problem;
    showError(error, T.form_errors[code](field.label));
    panel.querySelector(`[data-field="${field.key}"]`)?.focus();
    return;
  }
  showError(error, "");
  try {
    await client.request({ type: "form_send", call_id: callId, values: filled });
  } catch (refused) {
    showError(error, errorText(refused));
  }
}

/** The form's state line (`form-status`, data-state none|sent|confirmed|change_requested|signed). */
function renderStatus(state) {
  const node = role("form-status", panel);
  node.dataset.state = state;
  node.textContent = T.form_states[state] || "";
  // The image is fetched (and its view audited) only once the server says it is there.
  const image = role("signature-image", panel);
  const url = state === "signed" && callId ? `/api/v1/sessions/${encodeURIComponent(callId)}/signature.png` : "";
  if (url && image.getAttribute("src") !== url) {
    image.addEventListener("load", () => image.scrollIntoView({ block: "nearest" }), { once: true });
    image.src = url;
  }
  if (!url) image.removeAttribute("src");
  image.hidden = !url;
}

