// The call-ended screen: what came of it (受理 with case number, 办结, 答复, 材料不全), then rating.
import { role } from "./dom.js";
import * as screens from "./screens.js";
import { T } from "./texts.js";

// Long enough to read the outcome and case number aloud, short enough not to lose the resident.
const AUTO_RATE_MS = 12000;

let root;
let timer = null;

/** Wire the ended screen; `goRate()` opens the rating. */
export function setupEnded({ goRate }) {
  root = document.querySelector('[data-screen="ended"]');
  root.querySelector('[data-action="go-rate"]').addEventListener("click", () => goRate());
  screens.register("ended", {
    enter: (ended) => {
      role("ended-outcome", root).textContent = T.outcome[ended.outcome] || "";
      role("ended-case", root).textContent = ended.case_number ? T.case_number(ended.case_number) : "";
      timer = setTimeout(goRate, AUTO_RATE_MS);
    },
    leave: () => clearTimeout(timer),
  });
}
