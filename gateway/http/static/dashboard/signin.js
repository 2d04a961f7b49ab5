// Signing in: email and password through the graph's `login` mutation, or an API token pasted by hand.

import { run, setToken } from "./api.js";
import { errorBox, fill, h } from "./dom.js";

/** Why a sign-in failed, in words a person can act on. */
export function signInMessage(error) {
  if (error.code === "UNAUTHENTICATED") return "Wrong email or password.";
  if (error.code === "RATE_LIMITED") {
    return "Too many failed sign-ins for this email: it is locked until the end of the hour. Try again then, or use an API token below.";
  }
  return error.message;
}

/**
 * The sign-in screen in `main`; resolves once a token works (it is then kept for this tab).
 * `notice`: why the person is here again (e.g. their session ended).
 */
export function signIn(main, notice = "") {
  return new Promise((resolve) => {
    const problem = h("div", { id: "sign-in-problem" });
    const tokenProblem = h("div", { id: "token-problem" });
    const email = h("input", { type: "email", id: "email", name: "email", autocomplete: "username", required: true, "aria-describedby": "sign-in-problem" });
    const password = h("input", { type: "password", id: "password", name: "password", autocomplete: "current-password", required: true, "aria-describedby": "sign-in-problem" });
    const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
    const pasted = h("input", { type: "password", id: "token", name: "token", autocomplete: "off", spellcheck: "false", required: true, "aria-describedby": "token-problem" });
    const useToken = h("button", { type: "submit" }, "Use this token");

    async function accept(value, origin, box, button) {
      button.disabled = true;
      try {
        // a token that reads the account works for the whole dashboard
        await run("session", "Products", {}, { bearer: value });
        setToken(value, origin);
        resolve();
      } catch (error) {
        fill(box, errorBox(error.status === 401
          ? "The gateway does not accept this token: it was revoked, or it is mistyped."
          : error.status === 403 ? "This token may not read the account: it needs the READ permission." : error.message));
      } finally {
        button.disabled = false;
      }
    }

    const form = h("form", {
      class: "card sign-in-form",
      "aria-labelledby": "sign-in-title",
      onsubmit: async (event) => {
        event.preventDefault();
        fill(problem);
        submit.disabled = true;
        try {
          const data = await run("session", "SignIn", { email: email.value.trim(), password: password.value }, { bearer: null });
          submit.disabled = false;
          await accept(data.login.token, "login", problem, submit);
        } catch (error) {
          submit.disabled = false;
          fill(problem, errorBox(signInMessage(error)));
          password.select();
        }
      },
    },
    h("h1", { id: "sign-in-title" }, "Sign in"),
    notice ? h("p", { class: "notice", role: "status" }, notice) : null,
    h("label", { for: "email" }, "Email"), email,
    h("label", { for: "password" }, "Password"), password,
    submit,
    problem);

    const tokenForm = h("form", {
      class: "token-form",
      onsubmit: (event) => {
        event.preventDefault();
        fill(tokenProblem);
        accept(pasted.value.trim().replace(/^Bearer\s+/i, ""), "pasted", tokenProblem, useToken);
      },
    },
    h("label", { for: "token" }, "API token"), pasted, useToken, tokenProblem);

    fill(main, h("div", { class: "sign-in" },
      form,
      h("details", { class: "card token-card" },
        h("summary", {}, "Use an API token instead"),
        h("p", { class: "muted" }, "A token from ", h("code", {}, "analytics-gateway bootstrap"), ", ", h("code", {}, "createToken"),
          " or GraphiQL works too; it stays in this tab only."),
        tokenForm),
      h("p", { class: "muted small" }, "First run? ", h("code", {}, "make run"), " printed an email and a password, also kept in ",
        h("code", {}, ".data/credentials-default.json"), ".")));
    email.focus();
  });
}
