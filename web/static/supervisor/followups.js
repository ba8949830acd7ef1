// Follow-ups of bad ratings: list (unresolved first), mark contacted, resolve with a note.
import { HttpError, getJson, postJson } from "../common/http.js";
import { el, role } from "./dom.js";
import { openSession } from "./recordings.js";
import { T } from "./texts.js";

function item(f) {
  const note = el("textarea", { class: "s-note", attrs: { rows: "2", maxlength: "2000", placeholder: T.followup_note } });
  const error = el("p", { class: "s-error", attrs: { hidden: "" } });
  const act = async (state) => {
    if (state === "resolved" && !note.value.trim()) {
      error.textContent = T.followup_note_required;
      error.hidden = false;
      return;
    }
    try {
      await postJson(`/api/v1/followups/${f.id}`, { state, note: note.value });
      await loadFollowups();
    } catch (failure) {
      error.textContent = failure instanceof HttpError && failure.message ? failure.message : T.followup_failed;
      error.hidden = false;
    }
  };
  const actions = f.state === "resolved" ? [] : [
    note,
    el("div", { class: "s-actions" }, [
      ...(f.state === "open" ? [button(T.followup_contacted, () => act("contacted"), "followup-contacted")] : []),
      button(T.followup_resolve, () => act("resolved"), "followup-resolve"),
    ]),
    error,
  ];
  return el("li", {
    class: "s-followup",
    data: { testid: "followup-item", followupId: f.id, state: f.state, overdue: f.overdue ? "1" : "0" },
  }, [
    el("div", { class: "s-followup-head" }, [
      el("span", { class: `s-pill s-fu-${f.state}`, text: T.followup_states[f.state] }),
      ...(f.overdue ? [el("span", { class: "s-pill s-danger", text: T.followup_overdue })] : []),
      el("span", { class: "s-stars", text: f.rating ? T.stars(f.rating) : "" }),
      el("strong", { text: f.matter }),
      el("span", { class: "s-muted", text: `${f.street} · ${f.site} · ${f.ticket_number} · ${f.caseworker || ""}` }),
    ]),
    el("p", { class: "s-comment", text: f.comment || "" }),
    el("p", { class: "s-muted", text: T.followup_due(f.due_at.slice(0, 16).replace("T", " ")) }),
    ...(f.note ? [el("pre", { class: "s-note-log", text: f.note })] : []),
    // The call's recording is what a complaint is checked against.
    el("div", { class: "s-actions" }, [button(T.followup_recording, () => {
      openSession(f.session_id).then(() => document.getElementById("recordings").scrollIntoView());
    }, "followup-recording")]),
    ...actions,
  ]);
}

/** A small action button with a test id. */
export function button(text, onClick, testid) {
  const node = el("button", { class: "s-button", text, attrs: { type: "button" }, data: { testid } });
  node.addEventListener("click", onClick);
  return node;
}

/** Read and draw the follow-up list. */
export async function loadFollowups() {
  const data = await getJson("/api/v1/followups");
  role("followups").replaceChildren(...data.items.map(item));
  role("followups-empty").hidden = data.items.length > 0;
  role("followup-counts").textContent = T.followup_counts(data);
}
