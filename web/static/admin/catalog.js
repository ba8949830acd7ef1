// The catalog: search matters, edit one (validated by the server as the spreadsheet import is),
// import a spreadsheet with a preview diff, and restore a published version.
import { getJson, postJson, sendJson, upload } from "./api.js";
import { button, change, el, fill, fmt, guard, role, row } from "./dom.js";
import { T } from "./texts.js";
import { clean, mayLeave, watch } from "./unsaved.js";

const MODES = ["handle", "consult", "both"];
let editing = null;
let editingVersion = null;
let catalogFile = null;

async function openMatter(id) {
  if (!mayLeave()) return; // the same matter too: opening it again reloads the form
  const { matter, materials_text: materials, version } = await getJson(`/api/v1/admin/matters/${encodeURIComponent(id)}`);
  editing = matter.id;
  editingVersion = version; // sent back: an edit made elsewhere since is not silently undone
  const form = role("matter-edit");
  form.hidden = false;
  role("matter-id").textContent = `${matter.id} · ${matter.department}`;
  for (const name of ["name", "guide", "skill", "mode", "typical_minutes"]) form.elements.namedItem(name).value = matter[name];
  form.elements.namedItem("materials").value = materials;
  form.elements.namedItem("on_the_spot").checked = matter.on_the_spot;
  role("matter-errors").replaceChildren();
  clean(form);
}

let searches = 0; // the latest search's number: an earlier one answering late is dropped

async function search() {
  const mine = ++searches;
  const { matters } = await getJson("/api/v1/matters", { q: role("matter-search").value.trim() });
  if (mine !== searches) return;
  role("matters").replaceChildren(...matters.map((m) => {
    // A button inside the item, so the keyboard reaches and opens a matter too (Enter, Space).
    const item = el("li", { data: { matterId: m.id } },
      [el("button", { text: `${m.name}（${m.department}）`, attrs: { type: "button" } })]);
    item.addEventListener("click", () => guard(() => openMatter(m.id)));
    return item;
  }));
}

async function save(form) {
  const value = (name) => form.elements.namedItem(name).value;
  if (value("typical_minutes").trim() === "") {
    role("matter-errors").replaceChildren(el("li", { text: T.minutes_required }));
    return;
  }
  try {
    const out = await sendJson("PUT", `/api/v1/admin/matters/${encodeURIComponent(editing)}`, {
      name: value("name"), guide: value("guide"), materials: value("materials"), skill: value("skill"),
      mode: value("mode"), on_the_spot: form.elements.namedItem("on_the_spot").checked,
      typical_minutes: Number(value("typical_minutes")), base_version: editingVersion });
    if (out.applied) editingVersion = out.version;
    const said = out.applied ? fmt("matter_saved", { version: out.version }) : fmt("matter_unchanged", {});
    role("matter-errors").replaceChildren(el("li", { class: "a-ok", text: said }));
    clean(form);
    await Promise.all([search(), loadVersions()]);
  } catch (failure) {
    const lines = failure.details && failure.details.length ? failure.details : [failure.message];
    role("matter-errors").replaceChildren(...lines.map((text) => el("li", { text })));
  }
}

function showDiff(out) {
  const box = role("catalog-preview");
  box.hidden = false;
  const lines = [fmt("preview_added", { n: out.added.length }), fmt("preview_changed", { n: out.changed.length }),
    fmt("diff_retired", { n: out.retired.length }), fmt("preview_errors", { n: out.errors.length })];
  box.replaceChildren(el("p", { text: lines.join("，") }),
    el("ul", {}, out.errors.map((text) => el("li", { class: "a-bad", text }))));
  role("catalog-publish").disabled = out.applied || out.errors.length > 0;
}

/** Read the published versions again. */
export async function loadVersions() {
  const { versions } = await getJson("/api/v1/admin/catalog/versions");
  role("versions").replaceChildren(...versions.map((v) => row([v.version, new Date(v.created_at).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai" }),
    v.actor, String(v.matters), v.current ? T.current : button("restore", "catalog-restore", async () => {
      if (!window.confirm(fmt("confirm_restore", { version: v.version }))) return;
      await postJson(`/api/v1/admin/catalog/restore/${encodeURIComponent(v.version)}`, {});
      await Promise.all([search(), loadVersions()]);
    })])));
}

/** Wire the catalog section. */
export async function startCatalog() {
  fill(role("mode-select"), MODES.map((m) => [m, T[`mode_${m}`]]));
  role("matter-search").addEventListener("input", () => guard(search));
  watch(role("matter-edit"));
  role("matter-edit").addEventListener("submit", (event) => {
    event.preventDefault();
    change(() => save(event.target), event.target);
  });
  role("catalog-file").addEventListener("change", (event) => guard(async () => {
    catalogFile = event.target.files[0] || null;
    if (catalogFile) showDiff(await upload("/api/v1/admin/catalog/import?dry_run=true", catalogFile));
  }));
  const publish = role("catalog-publish");
  publish.addEventListener("click", () => change(async () => {
    showDiff(await upload("/api/v1/admin/catalog/import?dry_run=false", catalogFile));
    await Promise.all([search(), loadVersions()]);
  }, publish));
  await Promise.all([search(), loadVersions()]);
}
