"use strict";
// The account page's script. Everything the API returns is put on the page
// as text (textContent), never as HTML. The access token lives in this
// closure only; the refresh token in sessionStorage (README: "The account
// page"), so a reload keeps the person signed in.
(() => {
  const REFRESH_KEY = "token-auth.refresh";
  let accessToken = null;
  let refreshing = null;
  // A login whose password was right, waiting for its second factor.
  let pendingSignIn = null;
  // The user's own metadata as last read: a write replaces it whole.
  let userMetadata = {};

  const $ = (id) => document.getElementById(id);
  const errorOf = (form) => form.querySelector(".error");

  function notice(text) {
    const box = $("notice");
    box.textContent = text || "";
    box.hidden = !text;
  }

  function showScreen(id) {
    $("signed-in").hidden = true;
    $("signed-out").hidden = false;
    for (const form of document.querySelectorAll("[data-screen]")) {
      form.hidden = form.id !== id;
      errorOf(form).textContent = "";
    }
    const first = $(id).querySelector("input:not([value]), input");
    if (first) first.focus();
  }

  // The API's own message, with when to try again after a 429.
  function messageOf(result) {
    let text = (result.data && result.data.message) || `Something went wrong (HTTP ${result.status}).`;
    if (result.status === 429 && result.retryAfter) {
      text += ` Try again in ${result.retryAfter} seconds.`;
    }
    return text;
  }

  async function request(method, path, body, token) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(path, {
        method, headers, cache: "no-store", credentials: "omit",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      return { status: 0, data: { message: "The service cannot be reached. Please try again." } };
    }
    let data = {};
    try { data = await response.json(); } catch { /* not JSON: the status says enough */ }
    return { status: response.status, data, retryAfter: response.headers.get("Retry-After") };
  }

  // One refresh at a time: parallel calls that meet an expired token wait
  // for the same rotation (a second use of the old refresh token would end
  // the session as a theft).
  function refresh() {
    if (!refreshing) {
      refreshing = (async () => {
        const token = sessionStorage.getItem(REFRESH_KEY);
        if (!token) return false;
        const result = await request("POST", "/auth/refresh", { refresh_token: token });
        if (result.status === 200) {
          keep(result.data);
          return true;
        }
        if (result.status === 401) {
          signOut("Your session has ended. Please log in again.");
        }
        return false;
      })().finally(() => { refreshing = null; });
    }
    return refreshing;
  }

  // A call with the access token; one silent refresh if it has expired.
  async function authed(method, path, body) {
    let result = await request(method, path, body, accessToken);
    if (result.status === 401 && await refresh()) {
      result = await request(method, path, body, accessToken);
    }
    return result;
  }

  function keep(tokens) {
    accessToken = tokens.auth_token;
    sessionStorage.setItem(REFRESH_KEY, tokens.refresh_token);
  }

  function signOut(message) {
    accessToken = null;
    sessionStorage.removeItem(REFRESH_KEY);
    $("recovery-list").replaceChildren();
    notice(message);
    showScreen("login-form");
  }

  function formBody(form) {
    const body = {};
    for (const input of form.querySelectorAll("input[name]")) {
      if (input.value !== "" || input.required) body[input.name] = input.value;
    }
    return body;
  }

  function when(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
  }

  async function showAccount() {
    const status = await authed("GET", "/auth/status");
    if (status.status !== 200) {
      if (accessToken) signOut(messageOf(status));
      return;
    }
    const user = status.data.data;
    showName(user.user_metadata || {});
    $("account-email").textContent = user.email;
    $("account-verified").textContent = user.email_verified ? "yes" : "not yet";
    $("account-registered").textContent = when(user.registered_on);
    $("resend-form").hidden = user.email_verified;
    $("signed-out").hidden = true;
    $("signed-in").hidden = false;
    await Promise.all([showSessions(), showSecondFactor(), passkeys.show(), federation.show()]);
  }

  function showName(metadata) {
    userMetadata = metadata;
    const name = typeof metadata.display_name === "string" ? metadata.display_name : "";
    $("account-name").textContent = name || "not set";
    $("display-name").value = name;
  }

  // Two-step sign-in: what is on, and the forms that fit.
  async function showSecondFactor() {
    const result = await authed("GET", "/auth/mfa");
    if (result.status !== 200) {
      $("mfa-state").textContent = messageOf(result);
      return;
    }
    const on = result.data.totp;
    const left = result.data.recovery_codes_left;
    const withPassword = result.data.has_password !== false;
    $("mfa-state").textContent = on
      ? `On. ${left} recovery ${left === 1 ? "code" : "codes"} left.`
      : withPassword ? "Off: signing in asks for your password only." : "Off.";
    showPasswordFields(withPassword);
    $("totp-enroll-form").hidden = on;
    $("totp-confirm-form").hidden = true;
    $("recovery-codes").hidden = true;
    $("new-codes-form").hidden = !on;
    $("totp-disable-form").hidden = !on;
  }

  // An account made through a provider has no password: its recent sign-in
  // confirms instead (the API answers 403 when it is too old), and there is
  // no password to change.
  function showPasswordFields(withPassword) {
    for (const field of document.querySelectorAll("[data-password]")) {
      field.hidden = !withPassword;
      if (field.tagName === "INPUT") field.required = withPassword;
    }
    for (const line of document.querySelectorAll("[data-recent]")) line.hidden = withPassword;
    $("password-form").hidden = !withPassword;
  }

  // Recovery codes, shown once: to copy, download or write down.
  function showRecoveryCodes(codes) {
    $("recovery-list").replaceChildren(...codes.map((code) => {
      const item = document.createElement("li");
      item.textContent = code;
      return item;
    }));
    for (const id of ["totp-enroll-form", "totp-confirm-form", "new-codes-form", "totp-disable-form"]) {
      $(id).hidden = true;
    }
    $("recovery-codes").hidden = false;
  }

  function recoveryCodesText() {
    const codes = [...$("recovery-list").children].map((item) => item.textContent);
    return `Recovery codes for ${$("account-email").textContent} (each works once):\n${codes.join("\n")}\n`;
  }

  async function showSessions() {
    const result = await authed("GET", "/auth/sessions");
    const list = $("sessions");
    $("sessions-error").textContent = result.status === 200 ? "" : messageOf(result);
    if (result.status !== 200) return;
    list.replaceChildren(...result.data.data.sessions.map(sessionItem));
  }

  // A listed thing (a session, a passkey): its name, a mark if any, when.
  function about(title, mark, times) {
    const box = document.createElement("div");
    const name = document.createElement("span");
    name.className = "device";
    name.textContent = title;
    box.append(name);
    if (mark) {
      const badge = document.createElement("span");
      badge.className = "current";
      badge.textContent = mark;
      box.append(badge);
    }
    const line = document.createElement("div");
    line.className = "when";
    line.textContent = times;
    box.append(line);
    return box;
  }

  function sessionItem(session) {
    const item = document.createElement("li");
    item.append(about(session.device, session.current && "this device",
      `Signed in ${when(session.created_at)} · last used ${when(session.last_used_at)}`));
    if (!session.current) {
      const end = document.createElement("button");
      end.type = "button";
      end.className = "secondary";
      end.textContent = "End";
      end.setAttribute("aria-label", `End the session on ${session.device}`);
      end.addEventListener("click", async () => {
        const result = await authed("DELETE", `/auth/sessions/${encodeURIComponent(session.id)}`);
        if (result.status === 200) {
          notice(`Signed out ${session.device}.`);
        } else {
          $("sessions-error").textContent = messageOf(result);
        }
        await showSessions();
      });
      item.append(end);
    }
    return item;
  }

  const passkeys = passkeyScreens({ $, request, authed, messageOf, notice, signedInWith, when, about });
  const federation = federationScreens({
    $, request, authed, messageOf, notice, when, about, signedInWith, showScreen, signedIn, showAccount,
    // A provider's sign-in of an account with TOTP on: the login's second step.
    challenged: (token) => { pendingSignIn = token; showScreen("mfa-form"); },
  });

  // Forms: each posts its fields and shows the API's message next to it.
  const handlers = {
    "login-form": async (form, body) => {
      const result = await request("POST", "/auth/login", body);
      if (result.status === 401 && result.data.mfa_token) {
        pendingSignIn = result.data.mfa_token;
        form.reset();
        showScreen("mfa-form");
        return;
      }
      if (result.status !== 200) return messageOf(result);
      await signedInWith(form, result);
    },
    "mfa-form": async (form, body) => secondFactor(form, { code: body.code }),
    "recovery-form": async (form, body) => secondFactor(form, { recovery_code: body.recovery_code }),
    "register-form": async (form) => signIn(form, "/auth/register", 201),
    "forgot-form": async (form, body) => {
      const result = await request("POST", "/auth/password/forgot", body);
      if (result.status !== 202) return messageOf(result);
      notice(result.data.message);
      showScreen("reset-form");
      $("reset-email").value = body.email;
      $("reset-code").focus();
    },
    "reset-form": async (form, body) => {
      const result = await request("POST", "/auth/password/reset", body);
      if (result.status !== 200) return messageOf(result);
      accessToken = null;
      sessionStorage.removeItem(REFRESH_KEY);
      form.reset();
      notice(`${result.data.message} Every device was signed out; log in with the new password.`);
      showScreen("login-form");
      $("login-email").value = body.email;
      $("login-password").focus();
    },
    "verify-form": async (form, body) => {
      const result = await request("POST", "/auth/email/verify", body);
      if (result.status !== 200) return messageOf(result);
      form.reset();
      notice(result.data.message);
      if (await signedIn()) await showAccount(); else showScreen("login-form");
    },
    "resend-form": async () => {
      const result = await authed("POST", "/auth/email/verify/resend");
      if (result.status !== 202) return messageOf(result);
      notice(result.data.message);
      showScreen("verify-form");
      $("verify-email").value = $("account-email").textContent;
    },
    "totp-enroll-form": async (form, body) => {
      const result = await authed("POST", "/auth/mfa/totp/enroll", body);
      if (result.status !== 200) return messageOf(result);
      form.reset();
      form.hidden = true;
      // An image, never markup: an SVG in an <img> runs no script.
      $("totp-qr").src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(result.data.qr_svg)}`;
      $("totp-secret").textContent = result.data.secret;
      $("totp-confirm-form").hidden = false;
      $("confirm-code").focus();
    },
    "totp-confirm-form": async (form, body) => {
      const result = await authed("POST", "/auth/mfa/totp/confirm", body);
      if (result.status !== 200) return messageOf(result);
      keep(result.data);
      form.reset();
      $("totp-secret").textContent = "";
      $("totp-qr").removeAttribute("src");
      notice(`${result.data.message} Your other devices were signed out.`);
      await Promise.all([showSessions(), showSecondFactor()]);
      showRecoveryCodes(result.data.recovery_codes);
    },
    "new-codes-form": async () => {
      const result = await authed("POST", "/auth/mfa/recovery-codes");
      if (result.status !== 200) return messageOf(result);
      notice(result.data.message);
      showRecoveryCodes(result.data.recovery_codes);
    },
    "totp-disable-form": async (form, body) => {
      const result = await authed("DELETE", "/auth/mfa/totp", body);
      if (result.status !== 200) return messageOf(result);
      form.reset();
      notice(result.data.message);
      await showSecondFactor();
    },
    "passkey-add-form": async (form, body) => passkeys.add(form, body),
    "name-form": async (form, body) => {
      // The other keys of the metadata kept: the write replaces it whole.
      const metadata = { ...userMetadata, display_name: body.display_name || "" };
      const result = await authed("PATCH", "/auth/user", { user_metadata: metadata });
      if (result.status !== 200) return messageOf(result);
      showName(result.data.data.user_metadata);
      notice(result.data.message);
    },
    "password-form": async (form, body) => {
      const result = await authed("POST", "/auth/password", body);
      if (result.status !== 200) return messageOf(result);
      form.reset();
      notice(result.data.message);
      await showSessions();
    },
  };

  async function signIn(form, path, expected) {
    const result = await request("POST", path, formBody(form));
    if (result.status !== expected) return messageOf(result);
    await signedInWith(form, result);
  }

  async function signedInWith(form, result) {
    keep(result.data);
    form.reset();
    notice(result.data.message);
    // An app's hosted sign-in goes back to the app instead.
    if (await federation.afterSignIn()) return;
    await showAccount();
  }

  // The second step of a login: a code, or a recovery code. An attempt that
  // has expired or used its tries starts again from the password.
  async function secondFactor(form, answer) {
    const result = pendingSignIn
      ? await request("POST", "/auth/login/mfa", { mfa_token: pendingSignIn, ...answer })
      : { status: 401, data: { message: "Invalid or expired sign-in attempt." } };
    if (result.status === 200) {
      pendingSignIn = null;
      await signedInWith(form, result);
      return;
    }
    if (result.status !== 401) return messageOf(result);
    pendingSignIn = null;
    form.reset();
    notice(`${messageOf(result)} Please log in again.`);
    showScreen("login-form");
  }

  for (const [id, handle] of Object.entries(handlers)) {
    const form = $(id);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      errorOf(form).textContent = "";
      try {
        const error = await handle(form, formBody(form));
        if (error) errorOf(form).textContent = error;
      } finally {
        button.disabled = false;
      }
    });
  }

  $("passkey-login").addEventListener("click", async () => {
    const form = $("login-form");
    const button = $("passkey-login");
    button.disabled = true;
    errorOf(form).textContent = "";
    try {
      const error = await passkeys.signIn(form);
      if (error) errorOf(form).textContent = error;
    } finally {
      button.disabled = false;
    }
  });

  for (const button of document.querySelectorAll("[data-show]")) {
    button.addEventListener("click", () => { notice(""); showScreen(button.dataset.show); });
  }

  for (const button of document.querySelectorAll("[data-logout]")) {
    button.addEventListener("click", async () => {
      const scope = button.dataset.logout;
      const result = await authed("POST", `/auth/logout?scope=${scope}`);
      if (result.status !== 200) {
        $("logout-error").textContent = messageOf(result);
        return;
      }
      $("logout-error").textContent = "";
      if (scope === "others") {
        notice("Your other devices are signed out.");
        await showSessions();
      } else {
        signOut(scope === "global" ? "Signed out everywhere." : "Signed out.");
      }
    });
  }

  $("copy-codes").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(recoveryCodesText());
      notice("Recovery codes copied.");
    } catch {
      notice("This browser does not allow copying here: download them, or select and copy them.");
    }
  });

  $("download-codes").addEventListener("click", () => {
    const file = URL.createObjectURL(new Blob([recoveryCodesText()], { type: "text/plain" }));
    const link = document.createElement("a");
    link.href = file;
    link.download = "token-auth-recovery-codes.txt";
    link.click();
    setTimeout(() => URL.revokeObjectURL(file), 1000);
  });

  $("codes-saved").addEventListener("click", async () => {
    $("recovery-list").replaceChildren();
    notice("");
    await showSecondFactor();
  });

  async function signedIn() {
    return accessToken !== null || (sessionStorage.getItem(REFRESH_KEY) !== null && await refresh());
  }

  // A link from a mail: /account#verify?email=…&code=… or #reset?…. The code
  // sits after '#', so it never reaches a server; nothing is used up until
  // the person presses the button (mail scanners follow links too).
  function fromMailLink() {
    const [screen, query] = location.hash.slice(1).split("?");
    if (screen !== "verify" && screen !== "reset") return false;
    const params = new URLSearchParams(query || "");
    history.replaceState(null, "", location.pathname);
    showScreen(`${screen}-form`);
    $(`${screen}-email`).value = params.get("email") || "";
    $(`${screen}-code`).value = params.get("code") || "";
    $(screen === "reset" ? "reset-password" : "verify-code").focus();
    return true;
  }

  (async () => {
    if (fromMailLink() || await federation.fromUrl()) return;
    if (!await signedIn()) {
      showScreen("login-form");
    } else if (!await federation.afterSignIn()) {
      await showAccount();
    }
  })();
})();
