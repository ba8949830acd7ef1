// The matter's materials checklist (call.materials). A ticked item has been checked by the
// caseworker; unticked items are what 材料不全 reports as missing. Materials photographed at the
// kiosk (capture: true) get a "拍照" button and, once an image is accepted, its thumbnail.
import { el, role } from "./dom.js";
import { T } from "./texts.js";

let list;
let onCapture = () => {};
let onChange = () => {};

/**
 * @param {object} handlers
 * @param {(material: string) => void} handlers.capture the caseworker asked for a photo
 * @param {() => void} handlers.change a tick changed (the outcome form shows what is missing)
 */
export function setupChecklist({ capture, change }) {
  list = role("materials-checklist");
  onCapture = capture;
  onChange = change;
  list.addEventListener("click", (event) => {
    const button = event.target.closest('[data-testid="request-capture"]');
    if (button) onCapture(button.dataset.material);
  });
  list.addEventListener("change", () => onChange());
}

let captureBlocked = false;

/**
 * Show the materials of a new call (all unticked). `captureBlocked` (the resident declined the
 * notice) keeps every capture button disabled, with the reason as its tooltip.
 */
export function renderChecklist(materials, { captureBlocked: blocked = false } = {}) {
  captureBlocked = blocked;
  list.replaceChildren(...(materials.length ? materials.map(item) : [el("li", { class: "a-muted", text: T.materials_none })]));
  onChange();
}

function item(material) {
  const box = el("input", { attrs: { type: "checkbox", "data-testid": "material-check" } });
  box.value = material.name;
  const label = el("label", { class: "a-material" }, [
    box,
    el("span", { class: "a-material-name", text: material.name }),
    el("span", { class: "a-doc-type", text: T.document_types[material.document_type] || material.document_type }),
  ]);
  const row = el("li", { data: { material: material.name } }, [label]);
  if (material.capture) {
    row.append(el("button", {
      class: "a-button a-small",
      text: T.capture_button,
      attrs: { type: "button", "data-testid": "request-capture", "data-material": material.name,
        ...(captureBlocked ? { disabled: "", title: T.capture_refused_consent } : {}) },
    }));
  }
  return row;
}

/** Names of the materials not ticked, in checklist order. */
export function missingMaterials() {
  return [...list.querySelectorAll('input[type="checkbox"]')].filter((box) => !box.checked).map((box) => box.value);
}

/** An accepted capture: tick the material and show its thumbnail (click = full image). */
export function markCaptured(material, imageUrl, originalUrl) {
  const row = rowOf(material);
  if (!row) return;
  const box = row.querySelector('input[type="checkbox"]');
  box.checked = true;
  row.querySelector(".a-captured")?.remove();
  const thumb = el("a", { class: "a-captured", attrs: { href: imageUrl, target: "_blank", rel: "noopener" } }, [
    el("img", { attrs: { src: imageUrl, alt: material, "data-testid": "capture-thumb" } }),
  ]);
  const original = el("a", { class: "a-link a-small-link", text: T.capture_original,
    attrs: { href: originalUrl, target: "_blank", rel: "noopener" } });
  row.append(el("div", { class: "a-captured-wrap" }, [thumb, el("span", { class: "a-ok-text", text: T.capture_accepted }), original]));
  const button = row.querySelector('[data-testid="request-capture"]');
  if (button) button.textContent = T.capture_again;
  onChange();
}

/** Disable every capture button while one capture is open (the kiosk has one camera). */
export function setCaptureBusy(busy) {
  for (const button of list.querySelectorAll('[data-testid="request-capture"]')) button.disabled = busy || captureBlocked;
}

function rowOf(material) {
  return [...list.children].find((row) => row.dataset.material === material) || null;
}
