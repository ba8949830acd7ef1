// A centre's service hours (docs/hours.md): the weekly hours with an optional lunch break, dates
// closed or with their own hours, and the next two weeks as the kiosks will see them. The server
// checks every edit whole and answers what is wrong in Chinese; nothing is written then.
import { showError } from "../common/dom.js";
import { getJson, sendJson } from "./api.js";
import { change, el, fill, fmt, guard, role, row } from "./dom.js";
import { T } from "./texts.js";
import { clean, mayLeave, watch } from "./unsaved.js";

const TIMES = ["opens", "closes", "lunch_start", "lunch_end"];
const TIME_NAMES = { opens: "col_opens", closes: "col_closes", lunch_start: "col_lunch_start", lunch_end: "col_lunch_end" };
const base = () => `/api/v1/admin/centres/${role("hours-centre").value}`;

/** Read the centres into the select, then the chosen centre's hours. */
export async function loadHours() {
  const { centres } = await getJson("/api/v1/admin/centres");
  fill(role("hours-centre"), centres.map((c) => [String(c.id), c.name]));
  if (centres.length) await loadCentre();
}

let shownCentre = ""; // the centre whose hours are on screen (a refused switch goes back to it)

async function loadCentre() {
  shownCentre = role("hours-centre").value;
  render(await getJson(`${base()}/hours`));
  clean(role("hours-week"));
}

function timeInput(day, name, value) {
  return el("input", {
    attrs: { type: "time", name, value, "aria-label": fmt("hours_time_aria", { day: T.weekdays[day], what: T[TIME_NAMES[name]] }) },
    data: { testid: `hours-${name.replace("_", "-")}` },
  });
}

function dayRow(day, hours) {
  const open = el("input", {
    attrs: { type: "checkbox", "aria-label": fmt("hours_open_aria", { day: T.weekdays[day] }) },
    data: { testid: "hours-open" },
  });
  open.checked = Boolean(hours);
  const inputs = TIMES.map((name) => timeInput(day, name, hours ? hours[name] : ""));
  const sync = () => { for (const input of inputs) input.disabled = !open.checked; };
  open.addEventListener("change", () => {
    // A day just opened starts from the usual hours, so only the exceptions need typing.
    if (open.checked && !inputs[0].value && !inputs[1].value) {
      inputs[0].value = "09:00";
      inputs[1].value = "17:00";
    }
    sync();
  });
  sync();
  return row([T.weekdays[day], open, ...inputs], { data: { testid: "hours-day", weekday: String(day) } });
}

/** Show a centre's hours; `week: false` leaves the weekday rows as they are (a date's override
 * was set or removed: unsaved edits of the week must not be redrawn away). */
let weekVersion = null; // the stored week the form shows (sent back: another tab's save is not undone)

function render(data, { week = true } = {}) {
  if (week) {
    weekVersion = data.week_version;
    const byDay = new Map(data.week.map((d) => [d.weekday, d]));
    role("hours-days").replaceChildren(...T.weekdays.map((_, day) => dayRow(day, byDay.get(day))));
    showAlwaysOpen();
  }
  role("overrides").replaceChildren(...data.overrides.map((o) => {
    const remove = el("button", { class: "s-button", text: T.override_remove,
      attrs: { type: "button", "aria-label": `${T.override_remove} ${o.date}` }, data: { testid: "override-remove" } });
    remove.addEventListener("click", () => change(async () => {
      render(await sendJson("DELETE", `${base()}/overrides/${o.date}`), { week: false });
    }, remove));
    return row([o.date, o.closed ? T.override_closed : span(o), o.note, remove],
      { data: { testid: "override-item", date: o.date } });
  }));
  role("overrides-empty").hidden = data.overrides.length > 0;
  role("hours-preview").replaceChildren(...data.calendar.days.map((d) => el("li", {
    text: `${d.date.slice(5)} ${T.weekdays[(new Date(`${d.date}T12:00:00Z`).getUTCDay() + 6) % 7]} `
      + `${d.open ? (d.reason === "always_open" ? T.preview_always : d.periods.join(" ")) : T.preview_closed}`
      + `${d.holiday || d.note ? `（${[d.holiday, d.note].filter(Boolean).join("，")}）` : ""}`,
    data: { date: d.date, open: String(d.open) },
  })));
}

/** Say what an empty week means while no weekday is ticked. */
function showAlwaysOpen() {
  role("hours-always-open").hidden = [...role("hours-days").querySelectorAll('[data-testid="hours-open"]')]
    .some((box) => box.checked);
}

function span(h) {
  return h.lunch_start ? `${h.opens}-${h.lunch_start} ${h.lunch_end}-${h.closes}` : `${h.opens}-${h.closes}`;
}

/** The server's refusal under a form: its message, and each problem when there are several. */
function showRefusal(node, failure) {
  const details = failure.details || [];
  node.replaceChildren(el("p", { text: failure.message || T.hours_failed }),
    ...(details.length > 1 ? [el("ul", {}, details.map((d) => el("li", { text: d })))] : []));
  node.hidden = false;
}

async function submit(node, send, options = {}) {
  node.hidden = true;
  try {
    render(await send(), options);
    return true;
  } catch (failure) {
    showRefusal(node, failure);
    return false;
  }
}

/** Wire the hours section. */
export function startHours() {
  const centre = role("hours-centre");
  centre.addEventListener("change", () => {
    if (!mayLeave()) {
      centre.value = shownCentre; // stay on the centre whose week is being edited
      return;
    }
    guard(loadCentre);
  });
  role("hours-days").addEventListener("change", showAlwaysOpen);
  const week = role("hours-week");
  watch(week);
  week.addEventListener("submit", async (event) => {
    event.preventDefault();
    role("hours-week-saved").textContent = "";
    const days = [...role("hours-days").querySelectorAll('[data-testid="hours-day"]')]
      .filter((tr) => tr.querySelector('[data-testid="hours-open"]').checked)
      .map((tr) => Object.fromEntries([["weekday", Number(tr.dataset.weekday)],
        ...TIMES.map((name) => [name, tr.querySelector(`input[name="${name}"]`).value])]));
    if (await submit(role("hours-week-error"), () => sendJson("PUT", `${base()}/hours`, { days, base_week: weekVersion }))) {
      role("hours-week-saved").textContent = T.hours_saved;
      clean(week);
    }
  });
  const form = role("override-form");
  const kind = form.elements.namedItem("kind");
  kind.addEventListener("change", () => { role("override-times").hidden = kind.value !== "open"; });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = role("override-error");
    const value = (name) => form.elements.namedItem(name).value;
    if (!value("day")) {
      showError(error, T.override_pick_date);
      return;
    }
    const body = { closed: kind.value === "closed", note: value("note"),
      ...(kind.value === "open" ? Object.fromEntries(TIMES.map((name) => [name, value(name)])) : {}) };
    if (await submit(error, () => sendJson("PUT", `${base()}/overrides/${value("day")}`, body), { week: false })) {
      form.reset();
      role("override-times").hidden = true;
    }
  });
}
