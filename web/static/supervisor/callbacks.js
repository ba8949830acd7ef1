// 回电 requests left at kiosks, and numbers left for the 回访 after a 1-2 star rating (差评回访): by
// due time, numbers masked; take one (its number then shows in full to you), close it as 已回电 or
// 联系不上 with a note (docs/hours.md "Callbacks").
import { HttpError, getJson, postJson } from "../common/http.js";
import { el, role } from "./dom.js";
import { button } from "./followups.js";
import { T } from "./texts.js";

function item(c) {
  const note = el("input", { class: "s-note", attrs: { maxlength: "500", placeholder: T.callback_note } });
  const error = el("p", { class: "s-error", attrs: { hidden: "" } });
  const act = async (state) => {
    try {
      await postJson(`/api/v1/callbacks/${c.id}`, { state, note: note.value });
      await loadCallbacks();
    } catch (failure) {
      error.textContent = failure instanceof HttpError && failure.message ? failure.message : T.callback_failed;
      error.hidden = false;
    }
  };
  const actions = c.state === "open" ? [button(T.callback_take, () => act("taken"), "callback-take")]
    : c.state === "taken" ? [note, button(T.callback_done, () => act("done"), "callback-close"),
      button(T.callback_unreachable, () => act("unreachable"), "callback-unreachable")] : [];
  return el("li", {
    class: "s-followup",
    data: { testid: "callback-item", callbackId: c.id, state: c.state, overdue: c.overdue ? "1" : "0" },
  }, [
    el("div", { class: "s-followup-head" }, [
      el("span", { class: "s-pill", text: T.callback_states[c.state] }),
      // A number left for the 回访 of a 1-2 star rating (its follow-up is in the list above).
      ...(c.kind === "followup" ? [el("span", { class: "s-pill", text: T.callback_followup,
        data: { testid: "callback-kind" } })] : []),
      ...(c.overdue ? [el("span", { class: "s-pill s-danger", text: T.followup_overdue })] : []),
      el("strong", { class: "s-phone", text: c.phone, data: { testid: "callback-phone-shown" } }),
      el("span", { class: "s-muted", text: [c.matter_name || c.matter_id, c.preferred].filter(Boolean).join(" · ") }),
    ]),
    el("p", { class: "s-muted", text: T.callback_due(c.due_at.slice(0, 16).replace("T", " ")) }),
    ...(c.note ? [el("pre", { class: "s-note-log", text: c.note })] : []),
    el("div", { class: "s-actions" }, actions),
    error,
  ]);
}

/** Read and draw the open and taken callbacks. */
export async function loadCallbacks() {
  const [open, taken] = await Promise.all([getJson("/api/v1/callbacks", { state: "open" }),
    getJson("/api/v1/callbacks", { state: "taken" })]);
  const items = [...open.items, ...taken.items];
  role("callbacks").replaceChildren(...items.map(item));
  role("callbacks-empty").hidden = items.length > 0;
  role("callback-counts").textContent = T.callback_counts(items.length, open.overdue + taken.overdue);
}
