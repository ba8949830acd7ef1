// The dashboard's DOM helpers: the shared ones (common/dom.js) with the text helpers bound to
// supervisor/texts.js, plus the table and form helpers only this page uses.
import { el, textHelpers } from "../common/dom.js";
import { T } from "./texts.js";

export { el, role } from "../common/dom.js";
export const { applyTexts } = textHelpers(T);

/** Replace a select's options, keeping the current choice when it still exists. */
export function fillSelect(select, options) {
  const current = select.value;
  select.replaceChildren(...options.map(([value, label]) => el("option", { text: label, attrs: { value } })));
  if (options.some(([value]) => value === current)) select.value = current;
}

/** A table row from cell texts. */
export function row(cells, data) {
  return el("tr", { data }, cells.map((text) => el("td", { text })));
}

/** Local date YYYY-MM-DD of the browser (the district's browsers run on Shanghai time). */
export function today(offsetDays = 0) {
  const d = new Date(Date.now() + offsetDays * 86400000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}
