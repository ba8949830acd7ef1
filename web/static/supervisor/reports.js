// Reports (summary by a dimension, with exports) and the Erlang C staffing chart.
import { getJson } from "../common/http.js";
import { drawCategories } from "./charts.js";
import { el, failureText, fillSelect, role, today } from "./dom.js";
import { T, minutes, percent } from "./texts.js";

const COLUMNS = [
  ["col_group", (g) => g.label || T.unassigned],
  ["col_offered", (g) => g.offered],
  ["col_answered", (g) => g.answered],
  ["col_abandoned", (g) => g.abandoned],
  ["col_avg_wait", (g) => minutes(g.avg_wait_s)],
  ["col_p90_wait", (g) => minutes(g.p90_wait_s)],
  ["col_max_wait", (g) => minutes(g.max_wait_s)],
  ["col_handle", (g) => minutes(g.avg_handle_s)],
  ["col_sl", (g) => percent(g.sl)],
  ["col_sl2", (g) => percent(g.sl2)],
  ["col_rating", (g) => (g.avg_rating === null ? "—" : g.avg_rating.toFixed(2))],
  ["col_bad", (g) => g.ratings["1"] + g.ratings["2"]],
];

function exportLinks(form) {
  const query = new URLSearchParams({ from: form.elements.namedItem("from").value, to: form.elements.namedItem("to").value });
  role("export-csv").href = `/api/v1/reports/sessions.csv?${query}`;
  role("export-xlsx").href = `/api/v1/reports/sessions.xlsx?${query}`;
}

async function runSummary(form) {
  exportLinks(form);
  const params = Object.fromEntries(["from", "to", "by"].map((n) => [n, form.elements.namedItem(n).value]));
  const body = role("report-body");
  let data;
  try {
    data = await getJson("/api/v1/reports/summary", params);
  } catch (error) {
    body.replaceChildren(el("tr", {}, [el("td", { text: failureText(error, "report_failed") })]));
    drawCategories(role("report-chart"), [], []); // the old chart would answer another question
    return;
  }
  const groups = data.groups.length ? [...data.groups, { ...data.total, label: "合计", key: "total" }] : [];
  role("report-head").replaceChildren(el("tr", {}, COLUMNS.map(([key]) => el("th", { text: T[key] }))));
  body.replaceChildren(...(groups.length
    ? groups.map((g) => el("tr", { data: { key: g.key } }, COLUMNS.map(([, value]) => el("td", { text: value(g) }))))
    : [el("tr", {}, [el("td", { text: T.report_empty })])]));
  const chartGroups = data.groups;
  drawCategories(role("report-chart"), chartGroups.map((g) => g.label || T.unassigned), [
    { label: T.series_offered, values: chartGroups.map((g) => g.offered), kind: "bar" },
    { label: T.series_answered, values: chartGroups.map((g) => g.answered), kind: "line" },
    { label: T.series_abandoned, values: chartGroups.map((g) => g.abandoned), kind: "line" },
  ]);
}

async function runStaffing(form) {
  const target = Number(form.elements.namedItem("target").value || 80) / 100;
  let data;
  try {
    data = await getJson("/api/v1/reports/staffing", { date: form.elements.namedItem("date").value, target });
  } catch (error) {
    role("staffing-note").textContent = failureText(error, "staffing_failed");
    role("staffing-open").textContent = "";
    drawCategories(role("staffing-chart"), [], []);
    return;
  }
  role("staffing-note").textContent = T.staffing_note(data);
  role("staffing-open").textContent = T.staffing_open(data.open_hours);
  const hours = data.hours;
  // Hours in which no centre was open are marked on the axis: their arrivals met a closed notice.
  const labels = hours.map((h) => T.hour_label(h.hour) + (h.open_share > 0 ? "" : T.hour_closed));
  drawCategories(role("staffing-chart"), labels, [
    { label: T.series_arrivals, values: hours.map((h) => h.arrivals), kind: "bar" },
    { label: T.series_needed, values: hours.map((h) => h.needed), kind: "line" },
    { label: T.series_on_duty, values: hours.map((h) => h.on_duty_avg), kind: "line" },
  ]);
}

/** Wire both forms and draw today's reports. */
export async function startReports() {
  const form = role("report-form");
  form.elements.namedItem("from").value = today(-6);
  form.elements.namedItem("to").value = today();
  fillSelect(form.elements.namedItem("by"), Object.entries(T.by));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    runSummary(form);
  });
  form.addEventListener("change", () => exportLinks(form));
  const staffing = role("staffing-form");
  staffing.elements.namedItem("date").value = today();
  staffing.addEventListener("submit", (event) => {
    event.preventDefault();
    runStaffing(staffing).catch((error) => console.warn("staffing failed", error));
  });
  await Promise.all([runSummary(form), runStaffing(staffing).catch((error) => console.warn("staffing failed", error))]);
}
