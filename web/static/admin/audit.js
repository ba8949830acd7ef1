// The audit log: filter, read, export the same selection as CSV.
import { getJson } from "./api.js";
import { guard, role, row } from "./dom.js";
import { ACTIONS, DETAILS, OBJECTS } from "./texts.js";

/** An entry's details as "名称：值" pairs (the JSON stays in the CSV export and the API). */
function details(data) {
  return Object.entries(data || {}).map(([key, value]) => {
    const shown = Array.isArray(value) ? value.join("、") : typeof value === "object" && value !== null
      ? JSON.stringify(value) : String(value);
    return `${DETAILS[key] || key}：${shown}`;
  }).join("；");
}

function query() {
  const form = role("audit-filter");
  const params = {};
  for (const name of ["action", "actor", "from", "to"]) {
    const value = form.elements.namedItem(name).value.trim();
    if (value) params[name] = value;
  }
  return params;
}

/** Read the log again with the current filter, and point the CSV link at the same selection. */
export async function loadAudit() {
  const params = query();
  role("audit-csv").href = `/api/v1/admin/audit?${new URLSearchParams({ ...params, format: "csv" })}`;
  const { entries } = await getJson("/api/v1/admin/audit", params);
  role("audit").replaceChildren(...entries.map((e) => row([
    new Date(e.at).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai" }), e.actor, ACTIONS[e.action] || e.action,
    e.object_type ? `${OBJECTS[e.object_type] || e.object_type} ${e.object_id}` : "", details(e.data)],
  { attrs: { "data-testid": "audit-row" }, data: { action: e.action } })));
}

/** Wire the audit section. */
export function startAudit() {
  role("audit-filter").addEventListener("input", () => guard(loadAudit));
}
