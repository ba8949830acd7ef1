// 同屏确认: the caseworker sent the application form (`form`); the resident reads it in large type
// over the call (ID numbers arrive masked except the last four) with the captured materials, and
// taps 确认无误 or 需要修改 (`form_reply` for the version shown). A newer version replaces the
// one on screen; the panel goes away after the answer and when the call ends. 确认无误 leads to the
// signature (signature.js).
import { el, role } from "./dom.js";
import { hideSignature, showSignature, signing } from "./signature.js";
import { T } from "./texts.js";

let client;
let panel;
let shown = null; // {callId, version} on screen

/** Wire the confirmation panel to the protocol client. */
export function setupConfirmForm(wsClient) {
  client = wsClient;
  panel = role("confirm-form");
  client.on("form", (form) => show(form));
  panel.querySelector('[data-action="confirm-ok"]').addEventListener("click", () => answer("confirmed"));
  panel.querySelector('[data-action="confirm-change"]').addEventListener("click", () => answer("change_requested"));
}

function show(form) {
  hideSignature(); // a new version replaces whatever was being signed
  shown = { callId: form.call_id, version: form.version };
  role("confirm-fields", panel).replaceChildren(...form.fields.map((field) => el("div", {
    class: "k-confirm-row", data: { testid: "confirm-field", field: field.key } }, [
    el("dt", { text: field.label }), el("dd", { text: field.value || T.confirm_empty })])));
  const materials = role("confirm-materials", panel);
  materials.textContent = form.materials.length ? T.confirm_materials(form.materials.join("、")) : "";
  materials.hidden = form.materials.length === 0;
  role("confirm-error", panel).hidden = true;
  setBusy(false);
  panel.hidden = false;
}

function setBusy(busy) {
  for (const button of panel.querySelectorAll("button")) button.disabled = busy;
}

async function answer(choice) {
  if (!shown) return;
  setBusy(true);
  const { callId, version } = shown; // the version answered, whatever is on screen when the reply comes
  try {
    await client.request({ type: "form_reply", call_id: callId, version, choice });
    hideConfirmForm();
    if (choice === "confirmed") showSignature(callId, version);
  } catch (error) {
    if (error?.code === "form_already_answered" && error.answer) {
      // An earlier tap reached the caseworker after this kiosk gave up waiting for it: that
      // answer stands, so follow it rather than stay on a form that can't be answered again
      // (unless the call ended or a newer version replaced it meanwhile).
      if (shown && shown.callId === callId && shown.version === version) {
        hideConfirmForm();
        if (error.answer === "confirmed") showSignature(callId, version);
      }
      return;
    }
    const line = role("confirm-error", panel);
    line.textContent = T.confirm_failed;
    line.hidden = false;
    setBusy(false);
    console.warn("form reply refused", error?.code);
  }
}

/** A (re)announced call: show the version still awaiting an answer (`call.form_last`), e.g. after a
 * reload, or the signing area when the resident confirmed it but has not signed yet. */
export function restoreConfirmForm(call) {
  const last = call && call.form_last;
  if (last && last.state === "sent" && !(shown && shown.version === last.version)) {
    show({ call_id: call.call_id, version: last.version, fields: last.fields, materials: last.materials });
  } else if (last && last.state === "confirmed" && !signing(last.version)) {
    showSignature(call.call_id, last.version);
  }
}

/** Take the panel away (answered, call ended, going home). */
export function hideConfirmForm() {
  shown = null;
  if (panel) panel.hidden = true;
}

/** The call ended or the kiosk goes home: neither the form nor the signing area stays. */
export function hideAcceptance() {
  hideConfirmForm();
  hideSignature();
}
