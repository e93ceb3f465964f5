"use strict";
// The account page's sign-in with other providers (docs/oidc.md): the
// "Sign in with …" buttons the server rendered, the way back from a provider
// (?code, ?error, ?linked), the linked identities, and the page as an app's
// hosted sign-in (?redirect_to=…&code_challenge=…). Towards the API the page
// is an app like any other: its PKCE verifier waits in sessionStorage while
// the browser is at the provider, and the code in the address bar is
// worthless without it. app.js calls this with its helpers.
function federationScreens(helpers) {
  const { $, request, authed, messageOf, notice, when, about } = helpers;
  const { signedInWith, challenged, showScreen, signedIn, showAccount } = helpers;
  const VERIFIER_KEY = "token-auth.pkce-verifier";
  const HOSTED_KEY = "token-auth.hosted";
  const providers = [...document.querySelectorAll("#providers [data-provider]")]
    .map((button) => ({ name: button.dataset.provider, label: button.dataset.label, button }));
  const labelOf = (name) => (providers.find((provider) => provider.name === name) || { label: name }).label;
  // The URL the API sends the browser back to: on ALLOWED_REDIRECT_URLS.
  const pageUrl = () => `${location.origin}${location.pathname}`;

  // The callback's `error=` codes, in words.
  const untrusted = "The provider's answer could not be trusted. Please try again.";
  const MESSAGES = {
    provider_error: "The provider did not sign you in.",
    provider_unavailable: "The provider did not answer in time. Please try again.",
    invalid_id_token: untrusted,
    nonce_mismatch: untrusted,
    issuer_mismatch: untrusted,
    email_required: "The provider gave no email address, which a new account needs.",
    account_exists_sign_in_to_link:
      "An account already uses this email address. Log in to it, then link the provider from your account.",
    identity_in_use: "That provider account is linked to another account.",
    account_disabled: "This account is disabled.",
    account_not_found: "The account linked to that provider no longer exists.",
  };

  const base64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

  // A new verifier, kept for the way back; answers its S256 challenge.
  async function newChallenge() {
    const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
    sessionStorage.setItem(VERIFIER_KEY, verifier);
    return base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  }

  // Off to the provider. A navigation, which CSP's connect-src and
  // form-action do not govern: the page's policy stays as strict.
  async function start(name) {
    const query = new URLSearchParams({ redirect_to: pageUrl(), code_challenge: await newChallenge() });
    location.assign(`/auth/oauth/${encodeURIComponent(name)}/start?${query}`);
  }

  for (const { name, button } of providers) {
    button.addEventListener("click", () => start(name));
  }

  function hosted() {
    try { return JSON.parse(sessionStorage.getItem(HOSTED_KEY)); } catch { return null; }
  }

  // After any sign-in on the page: in a hosted sign-in, on to the app with
  // its one-time code (true: the page is leaving).
  async function afterSignIn() {
    const app = hosted();
    if (!app) return false;
    const result = await authed("POST", "/auth/oauth/code", app);
    if (result.status !== 200) {
      notice(messageOf(result));
      // A session from over 5 minutes ago: a fresh sign-in, then the app.
      if (result.status === 403) showScreen("login-form");
      return result.status === 403;
    }
    sessionStorage.removeItem(HOSTED_KEY);
    location.assign(result.data.redirect_url);
    return true;
  }

  // The page's URL as it loads. An app's hosted sign-in is kept for the tab
  // (the server checked it before it served the page); a provider's way back
  // is handled; any other load forgets a hosted sign-in left unfinished.
  // True when the way back took over the start.
  async function fromUrl() {
    const params = new URLSearchParams(location.search);
    const [code, error, linked] = ["code", "error", "linked"].map((name) => params.get(name));
    const redirectTo = params.get("redirect_to");
    if (location.search) history.replaceState(null, "", location.pathname);
    if (redirectTo) {
      const app = { redirect_to: redirectTo, code_challenge: params.get("code_challenge") };
      sessionStorage.setItem(HOSTED_KEY, JSON.stringify(app));
      notice(`Sign in to continue to ${new URL(redirectTo).host}.`);
      return false;
    }
    if (!code && !error && !linked) {
      sessionStorage.removeItem(HOSTED_KEY);
      return false;
    }
    if (code) return redeem(code);
    if (await signedIn()) await showAccount(); else showScreen("login-form");
    notice(error
      ? MESSAGES[error] || `The sign-in with the provider failed (${error}).`
      : `${labelOf(linked)} is linked: you can sign in with it.`);
    return true;
  }

  // A provider's one-time code, redeemed with the verifier kept for it.
  async function redeem(code) {
    const verifier = sessionStorage.getItem(VERIFIER_KEY);
    sessionStorage.removeItem(VERIFIER_KEY);
    const result = verifier
      ? await request("POST", "/auth/oauth/token", { code, code_verifier: verifier })
      : { status: 400, data: { message: "This sign-in was not started here. Please try again." } };
    if (result.status === 401 && result.data.mfa_token) {
      challenged(result.data.mfa_token);
      return true;
    }
    if (result.status !== 200) {
      showScreen("login-form");
      notice(messageOf(result));
      return true;
    }
    await signedInWith($("login-form"), result);
    return true;
  }

  // The signed-in view's providers: those linked, each with Unlink, and a
  // Link button for each configured provider.
  async function show() {
    const section = $("identities-section");
    const result = await authed("GET", "/auth/identities");
    $("identities-error").textContent = result.status === 200 ? "" : messageOf(result);
    const identities = result.status === 200 ? result.data.identities : [];
    section.hidden = providers.length === 0 && identities.length === 0;
    $("identities").replaceChildren(...identities.map(identityItem));
    $("identities-none").hidden = identities.length > 0;
    $("link-providers").replaceChildren(...providers.map(({ name, label }) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = `Link ${label}`;
      button.addEventListener("click", () => link(name));
      return button;
    }));
  }

  function identityItem(identity) {
    const item = document.createElement("li");
    item.append(about(labelOf(identity.provider), identity.email || "",
      `Linked ${when(identity.linked_at)}`));
    const unlink = document.createElement("button");
    unlink.type = "button";
    unlink.className = "secondary";
    unlink.textContent = "Unlink";
    unlink.setAttribute("aria-label", `Unlink ${labelOf(identity.provider)}`);
    unlink.addEventListener("click", async () => {
      const result = await authed("DELETE", `/auth/identities/${encodeURIComponent(identity.id)}`);
      if (result.status !== 200) {
        await show();
        $("identities-error").textContent = messageOf(result);
        return;
      }
      notice(`${labelOf(identity.provider)} is unlinked.`);
      await show();
    });
    item.append(unlink);
    return item;
  }

  async function link(name) {
    const result = await authed("POST", `/auth/oauth/${encodeURIComponent(name)}/link`, { redirect_to: pageUrl() });
    if (result.status !== 200) {
      $("identities-error").textContent = messageOf(result);
      return;
    }
    location.assign(result.data.authorize_url);
  }

  return { fromUrl, afterSignIn, show };
}
