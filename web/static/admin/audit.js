// The audit log: filter, read, export the same selection as CSV.
import { getJson } from "./api.js";
import { guard, role, row } from "./dom.js";
import { ACTIONS } from "./texts.js";

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
    e.object_type ? `${e.object_type} ${e.object_id}` : "", JSON.stringify(e.data)],
  { attrs: { "data-testid": "audit-row" }, data: { action: e.action } })));
}

/** Wire the audit section. */
export function startAudit() {
  role("audit-filter").addEventListener("input", () => guard(loadAudit));
}
