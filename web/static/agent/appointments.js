// Today's 预约 of the caseworker's centre (docs/hours.md "Appointments"): who is expected when, for
// which matter, and who has checked in (their ticket reaches the queue with priority 预约). Read-only:
// supervisors cancel. Read again every 60 s and on every (re)connect.
import { getJson } from "../common/http.js";
import { el, role } from "./dom.js";
import { T } from "./texts.js";

const REFRESH_MS = 60000;
let timer = null;

/** Start (or after a reconnect, refresh) the day's list. */
export function startAppointments() {
  if (timer === null) timer = setInterval(refreshAppointments, REFRESH_MS);
  return refreshAppointments();
}

async function refreshAppointments() {
  let day;
  try {
    day = await getJson("/api/v1/appointments");
  } catch {
    return; // offline or signed out: keep what is shown
  }
  role("appointment-list").replaceChildren(...day.items.map((a) => el("li", {
    class: "a-appointment", data: { testid: "appointment-item", appointmentId: a.id, state: a.state },
  }, [
    el("strong", { text: a.starts_at.slice(11, 16) }),
    el("span", { text: a.matter_name }),
    el("span", { class: "a-muted", text: a.phone }),
    el("span", { class: `a-pill a-appt-${a.state}`, text: T.appointment_states[a.state] || a.state }),
  ])));
  role("appointments-empty").hidden = day.items.length > 0;
  const booked = day.items.filter((a) => a.state === "booked").length;
  role("appointment-counts").textContent = day.items.length ? T.appointment_counts(day.items.length, booked) : "";
}
