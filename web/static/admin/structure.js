// Streets, centres and sites: add forms, the site sheet import (preview, then apply) and the lists.
import { getJson, postJson, upload } from "./api.js";
import { change, el, fill, fmt, guard, role, row } from "./dom.js";
import { T } from "./texts.js";

const KINDS = ["committee", "park", "building"];
let pendingFile = null;

/** Read streets, centres and sites again and fill the lists and every street/site/centre select. */
export async function loadStructure() {
  const [{ streets }, { centres }, { sites }] = await Promise.all([
    getJson("/api/v1/admin/streets"), getJson("/api/v1/admin/centres"), getJson("/api/v1/admin/sites")]);
  for (const select of document.querySelectorAll('[data-role="street-select"]')) {
    fill(select, streets.map((s) => [String(s.id), s.name]));
  }
  fill(role("site-select"), sites.map((s) => [String(s.id), s.name]));
  fill(role("centre-select"), [["", T.no_centre], ...centres.map((c) => [String(c.id), c.name])]);
  role("centres").replaceChildren(...streets.map((s) => row(
    [s.name, centres.filter((c) => c.street_id === s.id).map((c) => `${c.name} ${c.phone}`).join("；")])));
  role("sites").replaceChildren(...sites.map((s) => row([s.name, s.street, T[`kind_${s.kind}`], s.address])));
  role("site-count").textContent = fmt("count", { n: sites.length });
}

function submitter(formRole, path, fields) {
  const form = role(formRole);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    change(async () => {
      const data = Object.fromEntries(fields.map((name) => [name, form.elements.namedItem(name).value.trim()]));
      await postJson(path, data);
      form.reset();
      await loadStructure();
    }, form);
  });
}

function showPreview(result) {
  const box = role("site-import-preview");
  box.hidden = false;
  const summary = [fmt("preview_added", { n: result.added.length }), fmt("preview_changed", { n: result.changed.length }),
    fmt("preview_unchanged", { n: result.unchanged }), fmt("preview_errors", { n: result.errors.length })];
  if (result.applied) summary.unshift(T.preview_applied);
  box.dataset.errors = String(result.errors.length);
  box.dataset.applied = String(result.applied);
  box.replaceChildren(el("p", { text: summary.join("，") }),
    el("ul", {}, result.errors.map((e) => el("li", { class: "a-bad", text: e.message, data: { row: e.row } }))));
  role("site-import-apply").disabled = result.applied || (result.errors.length > 0 && !role("valid-only").checked);
}

async function preview() {
  if (!pendingFile) return;
  showPreview(await upload("/api/v1/admin/sites/import?dry_run=true", pendingFile));
}

/** Wire the structure section. */
export function startStructure() {
  fill(role("kind-select"), KINDS.map((k) => [k, T[`kind_${k}`]]));
  submitter("street-form", "/api/v1/admin/streets", ["name"]);
  submitter("centre-form", "/api/v1/admin/centres", ["name", "street", "address", "phone"]);
  submitter("site-form", "/api/v1/admin/sites", ["name", "street", "kind", "address"]);
  role("site-import-file").addEventListener("change", (event) => {
    pendingFile = event.target.files[0] || null;
    guard(preview);
  });
  role("valid-only").addEventListener("change", () => guard(preview));
  const apply = role("site-import-apply");
  apply.addEventListener("click", () => change(async () => {
    const validOnly = role("valid-only").checked;
    showPreview(await upload(`/api/v1/admin/sites/import?dry_run=false&valid_only=${validOnly}`, pendingFile));
    await loadStructure();
  }, apply));
}
