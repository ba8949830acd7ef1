// The resident's signature after 确认无误: a signing area (signature_pad, vendored) with 重写 and
// 确认签名. Too little ink (a tap, a short flick) is refused here with a message, and again by the
// server; a good one is sent as a PNG for the form version the resident confirmed
// (POST /api/v1/sessions/{id}/signature?version=N). The panel goes away once signed and when the call ends.
import SignaturePad from "../vendor/signature_pad/signature_pad.js";
import { role } from "./dom.js";
import { guardTaps } from "./screens.js";
import { T } from "./texts.js";

// How long an upload may take before the resident is told it failed and may send it again.
const SEND_TIMEOUT_MS = 20000;

// A signature is a few strokes across the area: at least this much drawn line, as a share of the
// area's width, and spread over at least this share of its width and height (the server's rule is alike).
const MIN_LENGTH = 0.6;
const MIN_SPREAD = 0.12;

let panel;
let canvas;
let pad = null;
let shown = null; // {callId, version} being signed

/** Wire the signing panel (once). */
export function setupSignature() {
  panel = role("signature");
  canvas = role("signature-pad", panel);
  canvas.setAttribute("aria-label", T.sign_area);
  pad = new SignaturePad(canvas, { backgroundColor: "rgb(255, 255, 255)", penColor: "rgb(16, 24, 40)",
    minWidth: 1.5, maxWidth: 4 });
  pad.addEventListener("beginStroke", () => showError(""));
  pad.addEventListener("endStroke", () => { canvas.dataset.drawn = "1"; });
  // The canvas holds device pixels for its size on screen: a new size starts the area afresh.
  window.addEventListener("resize", () => { if (shown) fitCanvas(); });
  panel.querySelector('[data-action="signature-clear"]').addEventListener("click", () => {
    clear();
    showError("");
  });
  panel.querySelector('[data-action="signature-submit"]').addEventListener("click", () => {
    submit().catch((error) => console.error("signature not sent", error?.name));
  });
}

/** Ask the resident to sign the form version they just confirmed. */
export function showSignature(callId, version) {
  shown = { callId, version };
  showError("");
  setBusy(false);
  panel.hidden = false;
  guardTaps(); // the rest of a double tap on 确认无误 is not a tap on 确认签名
  fitCanvas();
}

/** True while the signing area is up for this form version. */
export function signing(version) {
  return shown !== null && shown.version === version;
}

/** Take the panel away (signed, call ended, a new form version came). */
export function hideSignature() {
  shown = null;
  if (panel) panel.hidden = true;
}

// The canvas is drawn at device pixels so strokes stay sharp; resizing clears it, so only on show.
function fitCanvas() {
  const ratio = Math.max(window.devicePixelRatio || 1, 1);
  canvas.width = Math.round(canvas.offsetWidth * ratio);
  canvas.height = Math.round(canvas.offsetHeight * ratio);
  canvas.getContext("2d").scale(ratio, ratio);
  clear();
}

function clear() {
  pad.clear();
  canvas.dataset.drawn = "0";
}

/** Too little to be a signature: the drawn length and the spread of the points, in CSS pixels. */
export function tooShort(strokes, width, height) {
  let length = 0;
  const xs = [];
  const ys = [];
  for (const stroke of strokes) {
    stroke.points.forEach((point, i) => {
      xs.push(point.x);
      ys.push(point.y);
      if (i > 0) length += Math.hypot(point.x - stroke.points[i - 1].x, point.y - stroke.points[i - 1].y);
    });
  }
  if (!xs.length) return true;
  const spreadX = Math.max(...xs) - Math.min(...xs);
  const spreadY = Math.max(...ys) - Math.min(...ys);
  return length < MIN_LENGTH * width || spreadX < MIN_SPREAD * width || spreadY < MIN_SPREAD * height;
}

async function submit() {
  if (!shown) return;
  if (pad.isEmpty() || tooShort(pad.toData(), canvas.offsetWidth, canvas.offsetHeight)) {
    showError(pad.isEmpty() ? T.sign_empty : T.sign_too_short);
    return;
  }
  setBusy(true);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  const { callId, version } = shown;
  try {
    const response = await fetch(`/api/v1/sessions/${encodeURIComponent(callId)}/signature?version=${version}`, {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "image/png" }, body: blob,
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS), // a cut network: say so and let them try again
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      const code = body.error && body.error.code;
      if (code === "already_signed") {
        // The first try got through after all (its answer was lost): the signature is kept.
        hideSignature();
        return;
      }
      showError((body.error && body.error.message) || T.sign_failed);
      setBusy(false);
      return;
    }
    hideSignature();
  } catch {
    showError(T.sign_failed);
    setBusy(false);
  }
}

function setBusy(busy) {
  for (const button of panel.querySelectorAll("button")) button.disabled = busy;
}

function showError(text) {
  const line = role("signature-error", panel);
  line.textContent = text;
  line.hidden = !text;
}
