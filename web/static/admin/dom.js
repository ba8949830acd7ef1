// The administration pages' DOM helpers: the shared ones (common/dom.js) with the text helpers
// bound to admin/texts.js, plus a text formatter and a small table-row builder.
import { HttpError } from "../common/http.js";
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
  node.addEventListener("click", () => change(action, node));
  return node;
}

/** Run an action, showing its failure (the server's Chinese message) in the error line. */
export async function guard(action) {
  const line = role("action-error");
  showError(line, "");
  try {
    return await action();
  } catch (failure) {
    showError(line, fmt("error", { message: failureText(failure) }));
    return undefined;
  }
}

const busy = new WeakSet(); // controls whose change is being sent

/** guard() for a change the person asked for (a create, save, publish, removal) through `control`
 * (the button, form or field): while it runs, that control takes no second one (a double click
 * must not enrol two kiosks, nor report the second, refused copy of a request that succeeded) and
 * says so (`aria-busy`, shown dimmed); other controls stay usable. */
export async function change(action, control) {
  if (busy.has(control)) return undefined;
  busy.add(control);
  // Not `disabled`: what the action itself enables or disables must stay as it leaves it.
  control.setAttribute("aria-busy", "true");
  try {
    return await guard(action);
  } finally {
    busy.delete(control);
    control.removeAttribute("aria-busy");
  }
}

/** What a person reads for a failure: the server's own message, or what went wrong on the way. */
function failureText(failure) {
  if (failure instanceof HttpError && failure.status === 401) return T.signed_out;
  if (failure instanceof TypeError) return T.network_error; // fetch itself failed: no answer at all
  return failure.message;
}

/** Replace a select's options ([value, label] pairs). */
export function fill(select, options) {
  const current = select.value;
  select.replaceChildren(...options.map(([value, label]) => el("option", { text: label, attrs: { value } })));
  if (options.some(([value]) => value === current)) select.value = current;
}
