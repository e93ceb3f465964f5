"use strict";
// The account page's passkey screens: add, list, rename and remove passkeys,
// and "Sign in with a passkey" (usernameless: the browser offers the
// passkeys it holds for this site). The API speaks WebAuthn's JSON with
// base64url for bytes; the browser's calls take and give ArrayBuffers, so
// the few byte fields are converted here. app.js calls this with its
// helpers and puts the handlers it returns on the page.
function passkeyScreens({ $, request, authed, messageOf, notice, signedInWith, when, about }) {
  const supported = typeof window.PublicKeyCredential === "function" && !!navigator.credentials;

  const toBytes = (text) =>
    Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const toText = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer)))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const withIds = (list) => (list || []).map((item) => ({ ...item, id: toBytes(item.id) }));

  // What the browser says when a ceremony does not finish, in words.
  function browserMessage(error, rpId) {
    if (error && error.name === "NotAllowedError") {
      return "The passkey request was cancelled or timed out.";
    }
    if (error && error.name === "InvalidStateError") {
      return "This device already holds a passkey for your account.";
    }
    if (error && error.name === "SecurityError") {
      return `Passkeys for ${rpId} cannot be used from ${location.hostname}: open this page on ${rpId}.`;
    }
    return "This browser could not use a passkey.";
  }

  async function create(publicKey) {
    const options = {
      ...publicKey,
      challenge: toBytes(publicKey.challenge),
      user: { ...publicKey.user, id: toBytes(publicKey.user.id) },
      excludeCredentials: withIds(publicKey.excludeCredentials),
    };
    const credential = await navigator.credentials.create({ publicKey: options });
    const response = credential.response;
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: {
        attestationObject: toText(response.attestationObject),
        clientDataJSON: toText(response.clientDataJSON),
        transports: response.getTransports ? response.getTransports() : undefined,
      },
      extensions: credential.getClientExtensionResults(),
    };
  }

  async function get(publicKey) {
    const options = {
      ...publicKey,
      challenge: toBytes(publicKey.challenge),
      allowCredentials: withIds(publicKey.allowCredentials),
    };
    const credential = await navigator.credentials.get({ publicKey: options });
    const response = credential.response;
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: {
        authenticatorData: toText(response.authenticatorData),
        clientDataJSON: toText(response.clientDataJSON),
        signature: toText(response.signature),
        userHandle: response.userHandle ? toText(response.userHandle) : null,
      },
      extensions: credential.getClientExtensionResults(),
    };
  }

  async function show() {
    $("passkeys-section").hidden = !supported;
    if (!supported) return;
    const result = await authed("GET", "/auth/passkeys");
    $("passkeys-error").textContent = result.status === 200 ? "" : messageOf(result);
    if (result.status !== 200) return;
    $("passkeys").replaceChildren(...result.data.map(passkeyItem));
    $("passkeys-none").hidden = result.data.length > 0;
  }

  function button(text, label, onClick) {
    const element = document.createElement("button");
    element.type = "button";
    element.className = "secondary";
    element.textContent = text;
    element.setAttribute("aria-label", label);
    element.addEventListener("click", onClick);
    return element;
  }

  function passkeyItem(passkey) {
    const item = document.createElement("li");
    item.dataset.passkey = passkey.id;
    const used = passkey.last_used_at ? when(passkey.last_used_at) : "never";
    const details = about(passkey.name, passkey.backed_up && "synced",
      `Added ${when(passkey.created_at)} · last used ${used}`);

    const rename = document.createElement("input");
    rename.type = "text";
    rename.maxLength = 64;
    rename.value = passkey.name;
    rename.hidden = true;
    rename.setAttribute("aria-label", `New name for ${passkey.name}`);
    details.append(rename);

    const path = `/auth/passkeys/${encodeURIComponent(passkey.id)}`;
    const renameButton = button("Rename", `Rename ${passkey.name}`, async () => {
      if (rename.hidden) {
        rename.hidden = false;
        renameButton.textContent = "Save";
        rename.focus();
        return;
      }
      const result = await authed("PATCH", path, { name: rename.value });
      if (result.status !== 200) {
        $("passkeys-error").textContent = messageOf(result);
        return;
      }
      notice(result.data.message);
      await show();
    });
    const remove = button("Remove", `Remove ${passkey.name}`, async () => {
      const result = await authed("DELETE", path);
      if (result.status !== 200) {
        $("passkeys-error").textContent = messageOf(result);
        return;
      }
      notice(`${result.data.message} Also remove it from your device or password manager.`);
      await show();
    });
    const actions = document.createElement("div");
    actions.className = "actions";
    actions.append(renameButton, remove);
    item.append(details, actions);
    return item;
  }

  // "Add a passkey": the options, the browser's ceremony, the registration.
  async function add(form, body) {
    const options = await authed("POST", "/auth/passkeys/register/options");
    if (options.status !== 200) return messageOf(options);
    let credential;
    try {
      credential = await create(options.data.publicKey);
    } catch (error) {
      return browserMessage(error, options.data.publicKey.rp.id);
    }
    const result = await authed("POST", "/auth/passkeys/register", {
      ceremony_id: options.data.ceremony_id, credential, name: body.name || null,
    });
    if (result.status !== 201) return messageOf(result);
    form.reset();
    notice(`Passkey "${result.data.name}" added: you can sign in with it, no password needed.`);
    await show();
  }

  // "Sign in with a passkey", from the login screen: no email asked.
  async function signIn(form) {
    const options = await request("POST", "/auth/passkeys/login/options", {});
    if (options.status !== 200) return messageOf(options);
    let credential;
    try {
      credential = await get(options.data.publicKey);
    } catch (error) {
      return browserMessage(error, options.data.publicKey.rpId);
    }
    const device = $("login-device").value;
    const result = await request("POST", "/auth/passkeys/login", {
      ceremony_id: options.data.ceremony_id, credential, device_name: device || null,
    });
    if (result.status !== 200) return messageOf(result);
    await signedInWith(form, result);
  }

  if (!supported) $("passkey-login").hidden = true;
  return { show, add, signIn };
}
