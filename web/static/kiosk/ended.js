// The call-ended screen: what came of it (受理 with case number, 办结, 答复, 材料不全) and, for 受理
// and 材料不全, the receipt (receipt.js); then rating.
import { role } from "./dom.js";
import { idleSeconds } from "./idle.js";
import { RECEIPT_OUTCOMES, clearReceipt, setupReceipt, showReceipt } from "./receipt.js";
import * as screens from "./screens.js";
import { T } from "./texts.js";

// Long enough to read the outcome and case number aloud, short enough not to lose the resident.
const AUTO_RATE_MS = 12000;
// With a receipt on show the resident reads, photographs or prints it: give them time, but go on
// to the rating before the idle timeout would take the kiosk home and skip it.
const AUTO_RATE_RECEIPT_MS = Math.max(AUTO_RATE_MS, Math.min(75000, (idleSeconds() - 15) * 1000));

let root;
let timer = null;

/** Wire the ended screen; `goRate()` opens the rating. */
export function setupEnded({ goRate }) {
  root = document.querySelector('[data-screen="ended"]');
  root.querySelector('[data-action="go-rate"]').addEventListener("click", () => goRate());
  setupReceipt();
  screens.register("ended", {
    enter: (ended) => {
      role("ended-outcome", root).textContent = T.outcome[ended.outcome] || "";
      role("ended-case", root).textContent = ended.case_number ? T.case_number(ended.case_number) : "";
      clearReceipt();
      timer = setTimeout(goRate, AUTO_RATE_MS);
      if (!RECEIPT_OUTCOMES.has(ended.outcome)) return;
      showReceipt(ended.session_id).then((shown) => {
        if (!shown || screens.currentScreen() !== "ended") return;
        role("ended-case", root).textContent = ""; // the receipt shows it
        clearTimeout(timer);
        timer = setTimeout(goRate, AUTO_RATE_RECEIPT_MS);
      });
    },
    leave: () => {
      clearTimeout(timer);
      clearReceipt();
    },
  });
}
