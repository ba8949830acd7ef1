// 好差评: five big choices (5 = 非常满意 … 1 = 非常不满意), optional comment by tapping phrases or
// typing, sent as `rate`. A rating of 1-2 opens a supervisor follow-up on the server side.
import { el, role, setText } from "./dom.js";
import * as screens from "./screens.js";
import { state } from "./state.js";
import { T } from "./texts.js";

const SCORES = [5, 4, 3, 2, 1];

let root;
let score = null;

/** Wire the rating screen; `submit(sessionId, score, comment)` sends it, `done(rated, score)` follows
 * success or skip. */
export function setupRating({ submit, done }) {
  root = document.querySelector('[data-screen="rating"]');
  role("rating-options", root).replaceChildren(...SCORES.map((value) => el("button", {
    class: `k-rating k-rating-${value}`,
    text: T.ratings[value],
    data: { testid: "rating-option", rating: String(value) },
    attrs: { type: "button", "aria-pressed": "false" },
  })));
  role("comment-chips", root).replaceChildren(...T.comment_chips.map((phrase) => el("button", {
    class: "k-chip", text: phrase, attrs: { type: "button", "aria-pressed": "false" },
  })));
  role("rating-options", root).addEventListener("click", (event) => {
    const button = event.target.closest("[data-rating]");
    if (!button) return;
    score = Number(button.dataset.rating);
    for (const option of root.querySelectorAll("[data-rating]")) {
      option.setAttribute("aria-pressed", String(option === button));
    }
    role("rating-status", root).textContent = "";
  });
  role("comment-chips", root).addEventListener("click", (event) => {
    const chip = event.target.closest(".k-chip");
    if (chip) chip.setAttribute("aria-pressed", String(chip.getAttribute("aria-pressed") !== "true"));
  });
  root.querySelector('[data-action="rating-skip"]').addEventListener("click", () => done(false));
  const submitButton = root.querySelector('[data-testid="rating-submit"]');
  submitButton.addEventListener("click", async () => {
    if (!score) {
      setText(role("rating-status", root), "rating_choose_first");
      return;
    }
    submitButton.disabled = true;
    try {
      await submit(state.rateSessionId, score, comment());
      done(true, score);
    } catch (error) {
      // Rated already (e.g. a double tap that raced): nothing left to do but thank them.
      if (error.code === "already_rated") done(true, score);
      else setText(role("rating-status", root), "rating_failed");
    } finally {
      submitButton.disabled = false;
    }
  });
  screens.register("rating", { enter: reset });
}

function comment() {
  const phrases = [...root.querySelectorAll('.k-chip[aria-pressed="true"]')].map((chip) => chip.textContent);
  const typed = role("comment", root).value.trim();
  // The box takes 460 characters and every phrase together is under 40: the 500 the server keeps
  // always hold what the resident typed, whole.
  return [...phrases, typed].filter(Boolean).join("；").slice(0, 500);
}

function reset() {
  score = null;
  for (const node of root.querySelectorAll("[aria-pressed]")) node.setAttribute("aria-pressed", "false");
  role("comment", root).value = "";
  role("rating-status", root).textContent = "";
}
