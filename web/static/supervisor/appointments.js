// Today's 预约 of the centre (docs/hours.md "Appointments"): by start time, numbers masked, with the
// state (已预约 / 已签到 / 未到 / 已取消). A booking not yet checked in can be cancelled with a note;
// its number then shows in full, for the call that tells the resident.
import { HttpError, getJson, postJson } from "../common/http.js";
import { el, role } from "./dom.js";
import { button } from "./followups.js";
import { T } from "./texts.js";

function item(a) {
  const note = el("input", { class: "s-note", attrs: { maxlength: "500", placeholder: T.appointment_note,
    "aria-label": T.appointment_note } });
  const error = el("p", { class: "s-error", attrs: { hidden: "" } });
  const cancel = async () => {
    try {
      await postJson(`/api/v1/appointments/${a.id}/cancel`, { note: note.value });
      await loadAppointments();
    } catch (failure) {
      error.textContent = failure instanceof HttpError && failure.message ? failure.message : T.appointment_failed;
      error.hidden = false;
    }
  };
  return el("li", {
    class: "s-followup", data: { testid: "appointment-item", appointmentId: a.id, state: a.state },
  }, [
    el("div", { class: "s-followup-head" }, [
      el("strong", { text: `${a.starts_at.slice(11, 16)}–${a.ends_at.slice(11, 16)}` }),
      el("span", { class: "s-pill", text: T.appointment_states[a.state] || a.state }),
      el("span", { text: a.matter_name }),
      el("strong", { class: "s-phone", text: a.phone, data: { testid: "appointment-phone-shown" } }),
      el("span", { class: "s-muted", text: T.appointment_code(a.code) }),
    ]),
    ...(a.note ? [el("pre", { class: "s-note-log", text: a.note })] : []),
    el("div", { class: "s-actions" }, a.state === "booked" ? [note, button(T.appointment_cancel, cancel,
      "appointment-cancel")] : []),
    error,
  ]);
}

/** Read and draw today's appointments. */
export async function loadAppointments() {
  const day = await getJson("/api/v1/appointments");
  role("appointments").replaceChildren(...day.items.map(item));
  role("appointments-empty").hidden = day.items.length > 0;
  const booked = day.items.filter((a) => a.state === "booked").length;
  const arrived = day.items.filter((a) => a.state === "checked_in").length;
  role("appointment-counts").textContent = T.appointment_counts(day.date, booked, arrived);
}
