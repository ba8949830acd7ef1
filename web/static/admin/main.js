// Administration entry: sign in (admin only), then one section at a time, chosen by the nav.
import { HttpError } from "../common/http.js";
import { showLogout, signIn } from "../common/staff_sign_in.js";
import { loadAudit, startAudit } from "./audit.js";
import { loadVersions, startCatalog } from "./catalog.js";
import { applyTexts, guard, role } from "./dom.js";
import { loadHours, startHours } from "./hours.js";
import { loadKiosks, startKiosks } from "./kiosks.js";
import { loadUsers, startStaff } from "./staff.js";
import { loadStructure, startStructure } from "./structure.js";
import { T } from "./texts.js";
import { mayLeave } from "./unsaved.js";

const ADMIN = new Set(["admin"]);
const LOADERS = {
  structure: loadStructure, kiosks: loadKiosks, staff: loadUsers, catalog: loadVersions, hours: loadHours, audit: loadAudit,
};

function loginMessage(failure) {
  if (!(failure instanceof HttpError)) return T.login_error;
  if (failure.code === "password_change_required") return T.login_must_change;
  return failure.status === 401 ? T.login_failed : T.login_error;
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
  const me = await signIn({ roles: ADMIN, failureText: loginMessage, wrongRoleText: T.login_wrong_role });
  role("user-label").textContent = me.username;
  role("admin-nav").hidden = false;
  role("admin").hidden = false;
  showLogout();
  startStructure();
  startKiosks();
  startAudit();
  startHours();
  await Promise.all([guard(startStaff), guard(startCatalog), guard(loadStructure)]);
  let section = window.location.hash;
  window.addEventListener("hashchange", () => {
    if (window.location.hash === section) return;
    if (!mayLeave()) {
      window.history.replaceState(null, "", section || "#"); // back to the section being edited
      return;
    }
    section = window.location.hash;
    show(section.slice(1));
  });
  await show(window.location.hash.slice(1));
  document.body.dataset.ready = "true";
}

main();
