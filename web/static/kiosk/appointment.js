// 预约: the resident picks a day and a free slot of the kiosk's centre (GET /api/v1/appointments/slots),
// types a phone number on the big keypad, checks the summary, and gets a 6-digit code shown big and
// read aloud on request. The booking is `appointment_book`; the number and the code are cleared
// here as soon as the flow is left (the next resident sees nothing of them).
import * as api from "./api.js";
import { showError } from "../common/dom.js";
import { el, role } from "./dom.js";
import { setupNumpad } from "./numpad.js";
import * as screens from "./screens.js";
import { state } from "./state.js";
import { T } from "./texts.js";
import { whenText } from "./when.js";

const SHOWN_DAYS = 5; // days with a free slot offered at once: one row of big buttons at 1366x768
const CHECKIN_EARLY_MS = 30 * 60000; // docs/hours.md: check-in from 30 minutes before the slot
const CHECKIN_LATE_MS = 15 * 60000; // … until 15 minutes after its start
const MOBILE = /^1[3-9]\d{9}$/;
const LANDLINE = /^(0(10|2\d)-?\d{8}|0[3-9]\d{2}-?\d{7,8})$/;

const screen = (name) => document.querySelector(`[data-screen="${name}"]`);
const booking = { days: [], now: null, day: null, slot: null };
let send = null;

/** Wire the booking screens; `request(message)` sends a protocol request (rejects with its error). */
export function setupAppointment({ request }) {
  send = request;
  document.addEventListener("click", (event) => {
    if (event.target.closest('[data-testid="appointment-book"]')) screens.show("appointment", null, { push: true });
  });
  const pick = screen("appointment");
  role("appointment-days", pick).addEventListener("click", (event) => {
    const day = event.target.closest("[data-day]")?.dataset.day;
    if (day) showDay(day);
  });
  role("appointment-slots", pick).addEventListener("click", (event) => {
    const slot = event.target.closest("[data-slot]")?.dataset.slot;
    if (!slot) return;
    booking.slot = slot;
    screens.show("appointment-phone", null, { push: true });
  });
  screens.register("appointment", { enter: load });
  // 回首页 or the idle timeout from any step: the typed number must not wait for the next resident.
  screens.onChange((name) => { if (name === "start") clearPhone(); });

  const phoneScreen = screen("appointment-phone");
  const phone = role("appointment-phone", phoneScreen);
  const phoneError = role("appointment-phone-error", phoneScreen);
  setupNumpad(role("appointment-keypad", phoneScreen), phone, () => showError(phoneError, ""));
  role("appointment-phone-next", phoneScreen).addEventListener("click", () => {
    if (!MOBILE.test(phone.value) && !LANDLINE.test(phone.value)) showError(phoneError, T.appointment_bad_phone);
    else screens.show("appointment-confirm", null, { push: true });
  });
  screens.register("appointment-phone", {
    enter: () => {
      role("appointment-phone-slot", phoneScreen).textContent = slotText(booking.slot);
      showError(phoneError, "");
    },
  });

  const confirm = screen("appointment-confirm");
  role("appointment-confirm", confirm).addEventListener("click", book);
  screens.register("appointment-confirm", {
    enter: () => {
      role("appointment-sum-matter", confirm).textContent = state.matter?.name || "";
      role("appointment-sum-time", confirm).textContent = slotText(booking.slot);
      role("appointment-sum-phone", confirm).textContent = phone.value;
      showError(role("appointment-confirm-error", confirm), "");
    },
  });

  const done = screen("appointment-done");
  const speak = role("appointment-speak", done);
  speak.hidden = !("speechSynthesis" in window);
  speak.addEventListener("click", () => sayCode(done));
  screens.register("appointment-done", {
    leave: () => {
      window.speechSynthesis?.cancel();
      role("appointment-code", done).replaceChildren();
      delete done.dataset.code;
    },
  });
}

/** Forget what the resident typed for the booking (a new booking, or after it was made). */
function clearPhone() {
  role("appointment-phone", screen("appointment-phone")).value = "";
}

async function load() {
  const pick = screen("appointment");
  clearPhone();
  role("appointment-loading", pick).hidden = false;
  role("appointment-days", pick).replaceChildren();
  role("appointment-slots", pick).replaceChildren();
  role("appointment-day-title", pick).hidden = true;
  role("appointment-none", pick).hidden = true;
  showError(role("appointment-error", pick), "");
  try {
    const found = await api.appointmentSlots(state.matter.id);
    booking.now = found.now;
    booking.days = found.days
      .map((day) => ({ ...day, slots: day.slots.filter((slot) => slot.state === "free") }))
      .filter((day) => day.slots.length > 0)
      .slice(0, SHOWN_DAYS);
  } catch {
    booking.days = [];
    showError(role("appointment-error", pick), T.appointment_failed);
    role("appointment-loading", pick).hidden = true;
    return;
  }
  role("appointment-loading", pick).hidden = true;
  if (booking.days.length === 0) {
    role("appointment-none", pick).hidden = false;
    return;
  }
  role("appointment-days", pick).replaceChildren(...booking.days.map((day) => el("button", {
    class: "k-button k-secondary k-appt-day", text: dayText(day.date),
    data: { testid: "appointment-day", day: day.date }, attrs: { type: "button", "aria-pressed": "false" },
  })));
  showDay(booking.days[0].date);
}

function showDay(date) {
  const pick = screen("appointment");
  const day = booking.days.find((d) => d.date === date);
  if (!day) return;
  booking.day = date;
  for (const button of role("appointment-days", pick).querySelectorAll("[data-day]")) {
    button.setAttribute("aria-pressed", String(button.dataset.day === date));
  }
  const title = role("appointment-day-title", pick);
  title.textContent = T.appointment_day_title(state.matter?.name || "", dayText(date));
  title.hidden = false;
  role("appointment-slots", pick).replaceChildren(...day.slots.map((slot) => el("button", {
    class: "k-button k-secondary k-appt-slot", data: { testid: "appointment-slot", slot: slot.start },
    attrs: { type: "button" },
    // The start alone, big: the heading says every slot lasts 30 minutes.
  }, [el("span", { text: clock(slot.start) }), el("small", { text: T.appointment_free(slot.free) })])));
}

async function book() {
  const confirm = screen("appointment-confirm");
  const button = role("appointment-confirm", confirm);
  const phone = role("appointment-phone", screen("appointment-phone"));
  button.disabled = true;
  try {
    const reply = await send({ type: "appointment_book", matter_id: state.matter.id, slot: booking.slot,
      phone: phone.value });
    clearPhone();
    showDone(reply.appointment);
  } catch (error) {
    showError(role("appointment-confirm-error", confirm), error.message || T.appointment_failed_book);
  } finally {
    button.disabled = false;
  }
}

function showDone(appointment) {
  const done = screen("appointment-done");
  const code = role("appointment-code", done);
  const digits = appointment.code.split("");
  code.replaceChildren(...digits.map((digit) => el("span", { text: digit })));
  code.setAttribute("aria-label", T.appointment_code_aria(digits.join(" ")));
  done.dataset.code = appointment.code;
  done.dataset.when = whenText(appointment.starts_at, booking.now || undefined);
  role("appointment-done-time", done).textContent = `${appointment.matter_name} · ${slotText(appointment.starts_at)}`;
  const start = Date.parse(appointment.starts_at);
  const from = whenText(new Date(start - CHECKIN_EARLY_MS).toISOString(), booking.now || undefined);
  role("appointment-done-hint", done).textContent = T.appointment_done_hint(from,
    clock(new Date(start + CHECKIN_LATE_MS).toISOString()));
  screens.show("appointment-done");
}

function sayCode(done) {
  const digits = (done.dataset.code || "").split("").join("，");
  const speech = new SpeechSynthesisUtterance(T.appointment_speech(digits, done.dataset.when || ""));
  speech.lang = "zh-CN";
  speech.rate = 0.8; // slowly: the resident writes the digits down as they hear them
  window.speechSynthesis.cancel();
  window.speechSynthesis.speak(speech);
}

/** "今天 10:30–11:00" for a slot's ISO start. */
function slotText(startIso) {
  if (!startIso) return "";
  const end = new Date(Date.parse(startIso) + 30 * 60000).toISOString();
  return `${whenText(startIso, booking.now || undefined)}–${clock(end)}`;
}

/** "今天" / "明天" / "3月5日（周四）" for a YYYY-MM-DD date. */
function dayText(date) {
  return whenText(`${date}T00:00:00+08:00`, booking.now || undefined).replace(/ 00:00$/, "").replace(/00:00$/, "");
}

/** HH:MM in district time. */
function clock(iso) {
  return whenText(iso, iso).replace("今天 ", "");
}
