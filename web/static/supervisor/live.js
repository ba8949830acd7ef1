// The live part: tiles, alerts, caseworkers, today's tables and kiosk dots, from one `stats` document.
//
// The page GETs /api/v1/stats/live once, then the server pushes `stats` messages over the WebSocket
// whenever the queue changes (server/reports/push.py). Pushed figures are unfiltered with default
// thresholds; when the supervisor narrows the view or sets own thresholds, each push instead
// triggers one GET with those parameters (event-driven, never a timer poll). Between pushes the
// longest wait and time-in-state keep counting up locally from the snapshot time.
import { getJson } from "../common/http.js";
import { el, fillSelect, role, row } from "./dom.js";
import { T, minutes, percent } from "./texts.js";
import { markKiosks } from "./kiosks.js";

const state = {
  stats: null, receivedAt: 0, params: {}, fetching: null, again: false, departments: [], matters: [],
  skills: new Map(), // skill id -> its name (/api/v1/skills): the caseworker table names skills as people do
};

function $(testid) {
  return document.querySelector(`[data-testid="${testid}"]`);
}

/** Query parameters of the current filters and thresholds (empty when all defaults). */
function currentParams() {
  const form = role("filters");
  const params = {};
  for (const name of ["centre", "street", "department", "matter"]) {
    const value = form.elements.namedItem(name).value;
    if (value) params[name] = value;
  }
  const wait = threshold(form.elements.namedItem("wait_alert_s"), 10, 86400, "alert_wait_range");
  const abandon = threshold(form.elements.namedItem("abandon_alert"), 1, 100, "alert_abandon_range");
  const problems = [wait, abandon].filter((t) => t.problem).map((t) => T[t.problem]);
  const error = role("filters-error");
  const said = problems.join("；");
  if (error.textContent !== said) {
    // Only a change is written: an alert region re-announces every write, and pushes come often.
    error.textContent = said;
    error.hidden = problems.length === 0;
  }
  const defaults = state.stats ? state.stats.thresholds : null;
  if (defaults && wait.value && wait.value !== defaults.wait_alert_s) params.wait_alert_s = wait.value;
  if (defaults && abandon.value && abandon.value / 100 !== defaults.abandon_alert) {
    params.abandon_alert = abandon.value / 100;
  }
  return params;
}

/** A threshold input's value when it is a number within [min, max]; otherwise none (the server's
 * default applies) and the text key of the problem, so the figures keep updating. */
function threshold(input, min, max, problem) {
  if (input.value === "") {
    input.setAttribute("aria-invalid", "false");
    return { value: null, problem: null };
  }
  const value = Number(input.value);
  const valid = Number.isFinite(value) && value >= min && value <= max;
  input.setAttribute("aria-invalid", valid ? "false" : "true");
  return valid ? { value, problem: null } : { value: null, problem };
}

/** Fetch the figures with the page's parameters; concurrent calls coalesce into one more fetch. */
export async function refresh() {
  if (state.fetching) {
    state.again = true;
    return state.fetching;
  }
  state.fetching = (async () => {
    do {
      state.again = false;
      try {
        render(await getJson("/api/v1/stats/live", currentParams()));
        markStale(false);
      } catch (error) {
        console.warn("live figures failed", error);
        markStale(true); // the figures on screen are older than they look: say so
      }
    } while (state.again);
    state.fetching = null;
  })();
  return state.fetching;
}

/** Show (or clear) that the last refresh failed, on the connection badge. */
function markStale(stale) {
  const badge = $("connection");
  if (stale && badge.dataset.state === "live") {
    badge.dataset.state = "stale";
    badge.textContent = T.conn_stale;
  } else if (!stale && badge.dataset.state === "stale") {
    badge.dataset.state = "live";
    badge.textContent = T.conn_live;
  }
}

/** A pushed `stats` message. */
export function onPushed(stats) {
  if (Object.keys(currentParams()).length) {
    refresh();
  } else {
    render(stats);
  }
}

function render(stats) {
  const first = state.stats === null;
  state.stats = stats;
  state.receivedAt = Date.now();
  if (first) initFilters(stats);
  const today = stats.today;
  $("stat-waiting").textContent = stats.waiting;
  $("stat-available").textContent = stats.caseworkers.available;
  $("stat-in-call").textContent = stats.caseworkers.in_call;
  $("stat-sl").textContent = percent(today.sl);
  $("stat-sl2").textContent = percent(today.sl2);
  $("stat-offered").textContent = today.offered;
  $("stat-answered").textContent = today.answered;
  $("stat-abandoned").textContent = today.abandoned;
  $("stat-avg-wait").textContent = minutes(today.avg_wait_s);
  $("stat-p90-wait").textContent = minutes(today.p90_wait_s);
  $("stat-handle").textContent = minutes(today.avg_handle_s);
  role("sl-sub").textContent = T.sl_sub(stats.thresholds.sl_s);
  role("caseworker-counts").textContent = T.counts(stats.caseworkers);
  renderAlerts(stats.alerts);
  renderCaseworkers(stats.caseworker_list);
  renderTable("by-matter", stats.by_matter, (m) => m.matter);
  renderTable("by-street", stats.by_street, (s) => s.street);
  markKiosks(stats.kiosks.items);
  tick();
}

function renderAlerts(alerts) {
  const list = role("alerts");
  list.replaceChildren(...alerts.map((a) => el("li", {
    class: `s-alert s-alert-${a.level}`, text: T.alerts[a.code](a), data: { code: a.code, testid: "alert" },
  })));
  list.hidden = alerts.length === 0;
}

function renderCaseworkers(list) {
  const body = role("caseworkers");
  body.replaceChildren(...list.map((cw) => {
    const tr = el("tr", { data: { state: cw.state, since: cw.since ?? "", caseworkerId: cw.id } }, [
      el("td", { text: cw.name }),
      el("td", {}, [el("span", { class: `s-pill s-state-${cw.state}`, text: T.states[cw.state] || cw.state })]),
      el("td", { class: "s-in-state" }),
      el("td", { class: "s-muted", text: cw.skills.map((id) => state.skills.get(id) || id).join("、") }),
    ]);
    return tr;
  }));
}

function renderTable(name, items, label) {
  const rows = items.map((x) => row([label(x), x.waiting, x.offered, x.answered, x.abandoned, percent(x.sl)]));
  role(name).replaceChildren(...(rows.length ? rows : [row([T.none, "", "", "", "", ""])]));
}

/** Advance the clock-driven figures without asking the server. */
export function tick() {
  const stats = state.stats;
  if (!stats) return;
  const elapsed = (Date.now() - state.receivedAt) / 1000;
  const longest = stats.longest_wait_s === null ? null : stats.longest_wait_s + elapsed;
  const tile = $("stat-longest-wait");
  tile.textContent = longest === null ? "—" : minutes(longest);
  tile.closest(".s-tile").dataset.alert = longest !== null && longest > stats.thresholds.wait_alert_s ? "1" : "";
  const now = Date.now() / 1000;
  for (const tr of role("caseworkers").children) {
    const since = Number(tr.dataset.since);
    tr.querySelector(".s-in-state").textContent = since ? minutes(now - since) : "—";
  }
}

function initFilters(stats) {
  const form = role("filters");
  const all = ["", T.filter_all];
  fillSelect(form.elements.namedItem("centre"), [all, ...stats.places.centres.map((c) => [String(c.id), c.name])]);
  fillSelect(form.elements.namedItem("street"), [all, ...stats.places.streets.map((s) => [String(s.id), s.name])]);
  fillSelect(form.elements.namedItem("department"), [all, ...state.departments.map((d) => [d.name, d.name])]);
  fillSelect(form.elements.namedItem("matter"), [all, ...state.matters.map((m) => [m.id, m.name])]);
  form.elements.namedItem("wait_alert_s").value = stats.thresholds.wait_alert_s;
  form.elements.namedItem("abandon_alert").value = Math.round(stats.thresholds.abandon_alert * 100);
}

/** Load the catalog lists for the filters, wire the form, fetch the first figures. */
export async function startLive() {
  try {
    const [departments, matters, skills] = await Promise.all([getJson("/api/v1/departments"),
      getJson("/api/v1/matters"), getJson("/api/v1/skills")]);
    state.departments = departments.departments;
    state.matters = matters.matters;
    state.skills = new Map(skills.skills.map((s) => [s.id, s.name]));
  } catch (error) {
    console.warn("catalog lists failed", error);
  }
  const form = role("filters");
  form.addEventListener("change", () => refresh());
  form.addEventListener("submit", (event) => event.preventDefault());
  await refresh();
  setInterval(tick, 1000); // local clock only: no request
}
