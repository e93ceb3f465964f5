#!/usr/bin/env node
// A local OpenID Connect provider for `make run` and the tests (issue 28):
// npm's oauth2-mock-server (installed into .tools/oidc by
// scripts/setup/tools.sh), started through its API so that a test chooses who
// signs in. Usage: node scripts/local/oidc-provider.js --port P (0: a free
// port). Prints `oidc-provider: listening on http://127.0.0.1:P` once ready;
// that URL is the issuer. Stops on SIGINT/SIGTERM.
//
// What the wrapper adds to the mock:
// - The query parameters `sub`, `email` and `email_verified` sent to
//   /authorize go into the ID token issued for that authorization code
//   (`email_verified=true`/`false` as booleans; any other value as the string,
//   so a test can send a provider's odd spelling). Without them the mock's
//   defaults stay (`sub: johndoe`, no email).
// - What the mock lets through at /token: a code it never issued, a code used
//   twice, and a missing `code_verifier` for a code whose /authorize carried a
//   `code_challenge` (the mock checks the verifier only when one is sent): all
//   three answer 400 `invalid_grant`, as a real provider does.
// The mock itself echoes `nonce` into the ID token, checks a sent
// `code_verifier` against the challenge (S256 or plain), and sets `aud` to the
// client id from HTTP Basic or the form's `client_id`. It checks no client
// secret and no `redirect_uri` at /token.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const entry = path.join(root, '.tools/oidc/node_modules/oauth2-mock-server/dist/index.mjs');

function parsePort(argv) {
  const at = argv.indexOf('--port');
  const value = at === -1 ? '0' : argv[at + 1];
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`oidc-provider: --port wants a port number, not ${JSON.stringify(value)}`);
    process.exit(2);
  }
  return port;
}

async function main() {
  const port = parsePort(process.argv.slice(2));
  let OAuth2Server;
  try {
    ({ OAuth2Server } = await import(pathToFileURL(entry).href));
  } catch (error) {
    console.error(`oidc-provider: oauth2-mock-server is not installed (${error.message}): run scripts/setup/tools.sh`);
    process.exit(1);
  }

  const server = new OAuth2Server();
  await server.issuer.keys.generate('RS256');

  // code -> { claims, challenged, used }: what /authorize was told, for /token.
  const codes = new Map();

  server.service.on('beforeAuthorizeRedirect', (redirect, req) => {
    const code = redirect.url.searchParams.get('code');
    if (!code) return;
    const claims = {};
    for (const name of ['sub', 'email']) {
      if (typeof req.query[name] === 'string') claims[name] = req.query[name];
    }
    const verified = req.query.email_verified;
    if (typeof verified === 'string') {
      claims.email_verified = verified === 'true' ? true : verified === 'false' ? false : verified;
    }
    codes.set(code, {
      claims,
      challenged: typeof req.query.code_challenge === 'string',
      used: false,
    });
  });

  server.service.on('beforeTokenSigning', (token, req) => {
    const entry = req.body && req.body.grant_type === 'authorization_code' ? codes.get(req.body.code) : undefined;
    if (entry) Object.assign(token.payload, entry.claims);
  });

  server.service.on('beforeResponse', (response, req) => {
    if (!req.body || req.body.grant_type !== 'authorization_code') return;
    const entry = codes.get(req.body.code);
    let refusal;
    if (!entry) refusal = 'unknown authorization code';
    else if (entry.used) refusal = 'authorization code already used';
    else if (entry.challenged && typeof req.body.code_verifier !== 'string') refusal = 'code_verifier required';
    if (entry) entry.used = true;
    if (refusal) {
      response.statusCode = 400;
      response.body = { error: 'invalid_grant', error_description: refusal };
    }
  });

  await server.start(port, '127.0.0.1');
  // The mock names itself http://localhost:P; the issuer is the address it
  // listens on, so that the one URL printed is the one configured.
  server.issuer.url = `http://127.0.0.1:${server.address().port}`;
  console.log(`oidc-provider: listening on ${server.issuer.url}`);

  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error) => {
  console.error(`oidc-provider: ${error.stack || error}`);
  process.exit(1);
});
