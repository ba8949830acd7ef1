// Sign-in and sign-out of the staff pages (supervisor dashboard, administration): the session of
// this browser if its role fits the page, else the page's login form (data-role login-view,
// login-form, login-error) until someone whose role fits signs in. The words are the page's own.
import { role } from "./dom.js";
import { HttpError, getJson, postJson } from "./http.js";

/**
 * The signed-in user, once one whose role is in `roles` is signed in.
 * @param {object} options
 * @param {Set<string>} options.roles the roles the page is for
 * @param {(failure: unknown) => string} options.failureText the words for a refused or failed sign-in
 * @param {string} options.wrongRoleText the words when someone of another role signs in
 * @returns {Promise<{username: string, role: string}>}
 */
export async function signIn({ roles, failureText, wrongRoleText }) {
  return (await currentUser(roles)) || login({ roles, failureText, wrongRoleText });
}

/**
 * Send someone who signed in with a one-time password to the page where they choose their own,
 * and bring them back here afterwards.
 * @param {string} username
 */
function changePasswordFirst(username) {
  const query = new URLSearchParams({ username, next: location.pathname });
  location.assign(`/password?${query}`);
}

/**
 * When a refused sign-in asks for a new password first (an administrator's reset), go and choose
 * one; true when that happened.
 * @param {unknown} failure
 * @param {string} username
 */
export function sentToChangePassword(failure, username) {
  if (!(failure instanceof HttpError && failure.code === "password_change_required")) return false;
  changePasswordFirst(username);
  return true;
}

/** Show the sign-out button (data-role logout): it ends the session and reloads the page. */
export function showLogout() {
  const logout = role("logout");
  logout.hidden = false;
  logout.addEventListener("click", async () => {
    await postJson("/api/v1/auth/logout", {}).catch(() => {});
    location.reload();
  });
}

async function currentUser(roles) {
  try {
    const me = await getJson("/api/v1/auth/me");
    return roles.has(me.role) ? me : null;
  } catch {
    return null;
  }
}

function login({ roles, failureText, wrongRoleText }) {
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
        if (!roles.has(user.role)) {
          await postJson("/api/v1/auth/logout", {}).catch(() => {});
          error.textContent = wrongRoleText;
          error.hidden = false;
          return;
        }
        view.hidden = true;
        resolve(user);
      } catch (failure) {
        if (sentToChangePassword(failure, username)) return;
        error.textContent = failureText(failure);
        error.hidden = false;
      }
    });
  });
}
