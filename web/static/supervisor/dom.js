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

/** What a person reads for a failed request: the server's own message, or what went wrong on the
 * way (`fallback`: a text key for an answer without a message). */
export function failureText(error, fallback) {
  if (error instanceof TypeError) return T.network_error; // fetch itself failed: no answer at all
  if (error && error.status === 401) return T.conn_signed_out;
  return (error && error.message) || T[fallback];
}

/** A table row from cell texts. */
export function row(cells, data) {
  return el("tr", { data }, cells.map((text) => el("td", { text })));
}

const DISTRICT_DATE = new Intl.DateTimeFormat("en-US", {
  timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
});

/**
 * The district's date YYYY-MM-DD (Asia/Shanghai, as the server counts report days), offsetDays
 * from today: not the browser's own time zone, which on a machine set to UTC is a day behind
 * for eight hours of every day.
 */
export function today(offsetDays = 0) {
  const parts = Object.fromEntries(DISTRICT_DATE.formatToParts(new Date(Date.now() + offsetDays * 86400000))
    .map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}
