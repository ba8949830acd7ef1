// The administration pages' DOM helpers: the shared ones (common/dom.js) with the text helpers
// bound to admin/texts.js, plus a text formatter and a small table-row builder.
import { el, role, showError, textHelpers } from "../common/dom.js";
import { T } from "./texts.js";

export { el, role };
export const { applyTexts } = textHelpers(T);

/** A text from the table with {name} placeholders filled. */
export function fmt(key, values = {}) {
  return T[key].replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

/** A table row: cells are strings or nodes. */
export function row(cells, options = {}) {
  return el("tr", options, cells.map((cell) => (cell instanceof Node ? el("td", {}, [cell]) : el("td", { text: cell }))));
}

/** A button that runs an action; failures show in the page's error line. */
export function button(key, testid, action) {
  const node = el("button", { class: "s-button", text: T[key], attrs: { type: "button", "data-testid": testid } });
  node.addEventListener("click", () => guard(action));
  return node;
}

/** Run an action, showing its failure (the server's Chinese message) in the error line. */
export async function guard(action) {
  const line = role("action-error");
  showError(line, "");
  try {
    return await action();
  } catch (failure) {
    showError(line, fmt("error", { message: failure.message }));
    return undefined;
  }
}

/** Replace a select's options ([value, label] pairs). */
export function fill(select, options) {
  const current = select.value;
  select.replaceChildren(...options.map(([value, label]) => el("option", { text: label, attrs: { value } })));
  if (options.some(([value]) => value === current)) select.value = current;
}
