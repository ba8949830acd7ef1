// Sign-in: an existing session cookie is used as is (reload); otherwise the login form posts
// {username, password} and the server sets an HttpOnly cookie. Only caseworkers use this console.
import { HttpError, getJson, postJson } from "../common/http.js";
import { sentToChangePassword } from "../common/staff_sign_in.js";
import { role, setText, showError } from "./dom.js";
import { T } from "./texts.js";

/** The signed-in caseworker's username, or null (no session, or another role). */
export async function currentCaseworker() {
  try {
    const me = await getJson("/api/v1/auth/me");
    return me.role === "caseworker" ? me.username : null;
  } catch {
    return null; // 401: not signed in
  }
}

/** Show the form until a caseworker signs in; resolves with the signed-in user. */
export function showLogin() {
  const view = role("login-view");
  const form = role("login-form");
  const error = role("login-error");
  const button = form.querySelector('[data-testid="login-submit"]');
  view.hidden = false;
  form.elements.namedItem("username").focus();
  return new Promise((resolve) => {
    const submit = async (event) => {
      event.preventDefault();
      const username = form.elements.namedItem("username").value.trim();
      const password = form.elements.namedItem("password").value;
      if (!username || !password) {
        showError(error, T.login_failed);
        return;
      }
      showError(error, "");
      button.disabled = true;
      setText(button, "login_busy");
      try {
        const { user } = await postJson("/api/v1/auth/login", { username, password });
        if (user.role !== "caseworker") {
          // Signed in as someone this console cannot serve: do not leave that session behind.
          await postJson("/api/v1/auth/logout", {}).catch(() => {});
          showError(error, T.login_wrong_role);
          return;
        }
        form.removeEventListener("submit", submit);
        form.reset();
        view.hidden = true;
        resolve(user);
      } catch (failure) {
        if (sentToChangePassword(failure, username)) return;
        const unauthorised = failure instanceof HttpError && failure.status === 401;
        showError(error, unauthorised ? T.login_failed : T.login_error);
      } finally {
        button.disabled = false;
        setText(button, "login_submit");
      }
    };
    form.addEventListener("submit", submit);
  });
}

/** End the session on the server (cookie cleared). */
export function logout() {
  return postJson("/api/v1/auth/logout", {}).catch(() => {});
}
