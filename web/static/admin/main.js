// Administration entry: sign in (admin only), then one section at a time, chosen by the nav.
import { HttpError, getJson, postJson } from "../common/http.js";
import { loadAudit, startAudit } from "./audit.js";
import { loadVersions, startCatalog } from "./catalog.js";
import { applyTexts, guard, role } from "./dom.js";
import { loadKiosks, startKiosks } from "./kiosks.js";
import { loadUsers, startStaff } from "./staff.js";
import { loadStructure, startStructure } from "./structure.js";
import { T } from "./texts.js";

const LOADERS = { structure: loadStructure, kiosks: loadKiosks, staff: loadUsers, catalog: loadVersions, audit: loadAudit };

async function signedIn() {
  try {
    const me = await getJson("/api/v1/auth/me");
    return me.role === "admin" ? me : null;
  } catch {
    return null;
  }
}

function loginMessage(failure) {
  if (!(failure instanceof HttpError)) return T.login_error;
  if (failure.code === "password_change_required") return T.login_must_change;
  return failure.status === 401 ? T.login_failed : T.login_error;
}

function login() {
  const view = role("login-view");
  const form = role("login-form");
  const error = role("login-error");
  view.hidden = false;
  return new Promise((resolve) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const username = form.elements.namedItem("username").value.trim();
      const password = form.elements.namedItem("password").value;
      try {
        const { user } = await postJson("/api/v1/auth/login", { username, password });
        if (user.role !== "admin") {
          await postJson("/api/v1/auth/logout", {}).catch(() => {});
          error.textContent = T.login_wrong_role;
          error.hidden = false;
          return;
        }
        view.hidden = true;
        resolve({ username: user.username });
      } catch (failure) {
        error.textContent = loginMessage(failure);
        error.hidden = false;
      }
    });
  });
}

function show(section) {
  const name = LOADERS[section] ? section : "structure";
  for (const node of document.querySelectorAll("main [data-section]")) node.hidden = node.dataset.section !== name;
  for (const link of role("admin-nav").querySelectorAll("a")) link.classList.toggle("active", link.dataset.section === name);
  role("admin").dataset.section = name;
  return guard(LOADERS[name]);
}

async function main() {
  applyTexts();
  const me = (await signedIn()) || (await login());
  role("user-label").textContent = me.username;
  role("admin-nav").hidden = false;
  role("admin").hidden = false;
  const logout = role("logout");
  logout.hidden = false;
  logout.addEventListener("click", async () => {
    await postJson("/api/v1/auth/logout", {}).catch(() => {});
    window.location.reload();
  });
  startStructure();
  startKiosks();
  startAudit();
  await Promise.all([guard(startStaff), guard(startCatalog), guard(loadStructure)]);
  window.addEventListener("hashchange", () => show(window.location.hash.slice(1)));
  await show(window.location.hash.slice(1));
  document.body.dataset.ready = "true";
}

main();
