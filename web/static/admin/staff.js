// Staff: create accounts (one-time password shown once), filter, edit skills, disable, reset passwords.
import { getJson, postJson, sendJson } from "./api.js";
import { button, change, el, fill, fmt, guard, role, row } from "./dom.js";
import { T } from "./texts.js";

const ROLES = ["caseworker", "supervisor", "admin"];

function skillsOf(text) {
  return text.split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean);
}

function showOneTime(username, password) {
  const line = role("one-time");
  line.hidden = !password;
  line.textContent = password ? fmt("one_time", { user: username, password }) : "";
}

/** Read the accounts again with the current filter. */
export async function loadUsers() {
  const filter = role("user-filter");
  const { users } = await getJson("/api/v1/admin/users", {
    role: filter.elements.namedItem("role").value, q: filter.elements.namedItem("q").value.trim() });
  role("users").replaceChildren(...users.map((u) => {
    const skills = el("input", { attrs: { "data-testid": "user-skills", value: u.skills.join(", "),
      "aria-label": fmt("aria_user_skills", { user: u.username }) } });
    skills.addEventListener("change", () => change(async () => {
      try {
        await sendJson("PATCH", `/api/v1/admin/users/${encodeURIComponent(u.username)}`, { skills: skillsOf(skills.value) });
      } finally {
        await loadUsers(); // a refused edit must not look saved: the field shows what is stored
      }
    }, skills));
    const actions = document.createElement("span");
    actions.append(
      button(u.enabled ? "disable" : "enable", "user-disable", async () => {
        if (u.enabled && !window.confirm(fmt("confirm_disable_user", { name: u.username }))) return;
        await sendJson("PATCH", `/api/v1/admin/users/${encodeURIComponent(u.username)}`, { disabled: u.enabled });
        await loadUsers();
      }),
      button("reset_password", "user-reset-password", async () => {
        const out = await postJson(`/api/v1/admin/users/${encodeURIComponent(u.username)}/reset-password`, {});
        showOneTime(out.username, out.password);
      }));
    return row([`${u.username}（${u.display_name}）`, T[`role_${u.role}`], u.centre || T.no_centre, skills,
      u.enabled ? T.enabled : T.disabled, actions], { data: { username: u.username }, attrs: { "data-testid": "user-row" } });
  }));
}

/** Wire the staff section. */
export async function startStaff() {
  fill(role("role-select"), ROLES.map((r) => [r, T[`role_${r}`]]));
  fill(role("role-filter"), [["", T.all_roles], ...ROLES.map((r) => [r, T[`role_${r}`]])]);
  const { skills } = await getJson("/api/v1/skills");
  role("skill-list").textContent = T.known_skills + skills.map((s) => `${s.id}（${s.name}）`).join("、");
  role("user-form").addEventListener("submit", (event) => {
    event.preventDefault();
    change(async () => {
      const form = event.target;
      const value = (name) => form.elements.namedItem(name).value.trim();
      const out = await postJson("/api/v1/admin/users", {
        username: value("username"), display_name: value("display_name") || null, role: value("role"),
        centre: value("centre") || null, skills: skillsOf(value("skills")) });
      showOneTime(out.user.username, out.password);
      form.reset();
      await loadUsers();
    }, event.target);
  });
  role("user-filter").addEventListener("input", () => guard(loadUsers));
}
