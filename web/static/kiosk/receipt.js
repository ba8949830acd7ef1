// The 受理回执 on the ended screen, for 受理 and 材料不全: matter, centre, case number (受理) or each
// missing material with what it must show (材料不全, 一次性告知), promise, the centre's phone and a QR
// code for later enquiries. 打印回执 prints it (window.print(); the print stylesheet in kiosk.css
// fits an 80 mm receipt printer and A4).
import * as api from "./api.js";
import { el, role } from "./dom.js";
import { T } from "./texts.js";

export const RECEIPT_OUTCOMES = new Set(["accepted", "incomplete"]);
// The receipt is written as the call ends; the kiosk may ask a moment before it is there.
const TRIES = 5;
const RETRY_MS = 600;

let root;
let shownFor = null;

/** Wire the receipt block of the ended screen. */
export function setupReceipt() {
  root = document.querySelector('[data-screen="ended"]');
  root.querySelector('[data-action="print"]').addEventListener("click", () => window.print());
}

/** Hide the receipt (a new ended screen, or one without a receipt). */
export function clearReceipt() {
  shownFor = null;
  role("receipt", root).hidden = true;
  root.querySelector('[data-testid="receipt-print"]').hidden = true;
}

/** Fetch and show the receipt of an ended session; resolves true when one is on show. */
export async function showReceipt(sessionId) {
  shownFor = sessionId;
  for (let attempt = 0; attempt < TRIES; attempt += 1) {
    try {
      const receipt = await api.receipt(sessionId);
      if (shownFor !== sessionId) return false;
      render(receipt);
      return true;
    } catch (error) {
      if (error.status !== 404 || shownFor !== sessionId) return false;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
  return false;
}

function render(receipt) {
  role("receipt-centre", root).textContent = receipt.centre_name;
  role("receipt-matter", root).textContent = receipt.matter_name;
  const hasNumber = Boolean(receipt.case_number);
  role("receipt-case-label", root).hidden = !hasNumber;
  const caseNumber = root.querySelector('[data-testid="receipt-case-number"]');
  caseNumber.hidden = !hasNumber;
  caseNumber.textContent = receipt.case_number || "";
  role("receipt-promise", root).textContent = receipt.promise;
  role("receipt-phone", root).textContent = receipt.centre_phone || "—";
  role("receipt-missing-block", root).hidden = !receipt.missing.length;
  role("receipt-missing-list", root).replaceChildren(...receipt.missing.map((item) => el("li", {
    attrs: { "data-testid": "receipt-missing", "data-material": item.name },
  }, [el("strong", { text: item.name }), el("span", { text: `：${item.must_show}` })])));
  const qr = role("receipt-qr", root);
  qr.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(receipt.qr_svg)}`;
  qr.alt = T.receipt_qr_alt(receipt.qr_text);
  role("receipt", root).hidden = false;
  root.querySelector('[data-testid="receipt-print"]').hidden = false;
}
