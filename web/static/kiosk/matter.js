// The matter page: what to bring, on the spot or 收受分离, how long; then on to the device check.
import * as api from "./api.js";
import { el, role } from "./dom.js";
import * as screens from "./screens.js";
import { state } from "./state.js";
import { T } from "./texts.js";

let root;

/** Wire the matter page; `onStart()` is called when the resident wants to queue for it. */
export function setupMatter({ onStart }) {
  root = document.querySelector('[data-screen="matter"]');
  root.querySelector('[data-testid="matter-start"]').addEventListener("click", () => {
    if (state.matter) onStart();
  });
  screens.register("matter", { enter });
}

/** Load a matter and show its page. */
export async function openMatter(matterId) {
  state.matter = await api.matter(matterId);
  screens.show("matter", null, { push: true });
}

function enter() {
  const matter = state.matter;
  role("matter-name", root).textContent = matter.name;
  role("matter-department", root).textContent = `${matter.department} · ${matter.category}`;
  const spot = role("matter-spot", root);
  spot.textContent = matter.on_the_spot ? T.on_the_spot : T.separated;
  spot.classList.toggle("is-separated", !matter.on_the_spot);
  role("matter-spot-hint", root).textContent = matter.on_the_spot ? "" : T.separated_hint;
  role("matter-minutes", root).textContent = T.typical_minutes(matter.typical_minutes);
  const materials = matter.materials || [];
  role("matter-materials", root).replaceChildren(...(materials.length
    ? materials.map((m) => el("li", {}, [
      el("span", { text: m.name }),
      ...(m.capture ? [el("span", { class: "k-capture-badge", text: T.capture_badge })] : []),
    ]))
    : [el("li", { class: "k-none", text: T.materials_none })]));
  role("matter-guide", root).textContent = matter.guide || "";
  root.querySelector('[data-testid="matter-start"]').textContent =
    state.mode === "consult" ? T.matter_start_consult : T.matter_start_handle;
}
