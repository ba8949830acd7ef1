// Choosing a new password (after an administrator's reset, or at will); then sign in as usual.
import { HttpError, postJson } from "../common/http.js";
import { applyTexts, role } from "./dom.js";
import { T } from "./texts.js";

applyTexts();
const form = role("password-form");
// Sent here by a sign-in with a one-time password: the name is known, and the page it came from.
const query = new URLSearchParams(location.search);
form.elements.namedItem("username").value = query.get("username") || "";
const next = query.get("next");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const value = (name) => form.elements.namedItem(name).value;
  const message = role("password-message");
  message.hidden = false;
  if (value("new_password") !== value("repeat")) {
    message.textContent = T.password_mismatch;
    return;
  }
  try {
    await postJson("/api/v1/auth/password", { username: value("username").trim(), password: value("password"),
      new_password: value("new_password") });
    message.textContent = T.password_changed;
    // Only a path of this site: never a redirect elsewhere.
    if (next && next.startsWith("/") && !next.startsWith("//")) setTimeout(() => location.assign(next), 1500);
  } catch (failure) {
    message.textContent = failure instanceof HttpError && failure.message ? failure.message : T.login_error;
  }
});
