"""Runs built bootstraps under the Lambda Runtime Interface Emulator.

This is the emulator `sam local invoke` runs inside its container (shipped in
the aws-sam-cli package); with no Docker engine here, it runs the bootstrap
directly, on the same invoke path, and prints Lambda's own INIT REPORT and
REPORT lines.

  rie.py invoke FUNCTION EVENT_FILE [--token TOKEN] [--refresh-token TOKEN]
      One invocation: prints the emulator's report lines and the response.
  rie.py events
      Every event in events/manifest.json, in order, through its function;
      checks each status code (an authorizer's isAuthorized, the mailer's
      batchItemFailures). Ends with "N passed, N failed".

Both expect the functions' settings in the environment (the tables, and
SIGNING_KEYS and REFRESH_TOKEN_SECRET or AUTH_SECRET_ID naming a secret) and the
bootstraps in target/lambda/<function>/bootstrap (cargo lambda build), or
in RIE_BOOTSTRAPS/<function> (make test: target/debug, cargo build's); the
mailer also MAIL_FROM and AWS_ENDPOINT_URL_SESV2 (an SES emulator), and a
manifest entry's "env" adds settings for its function alone.
"""

import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import samcli

EVENTS = "events"
# What a Lambda sandbox sets and the Rust runtime reads (the emulator adds
# AWS_LAMBDA_RUNTIME_API itself).
SANDBOX_ENV = {
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/local",
    "AWS_LAMBDA_LOG_STREAM_NAME": "local",
}
PLACEHOLDER = "REPLACE-WITH-A-TOKEN-FROM-LOGIN"
REFRESH_PLACEHOLDER = "REPLACE-WITH-A-REFRESH-TOKEN-FROM-LOGIN"


def emulator_binary():
    arch = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    return os.path.join(os.path.dirname(samcli.__file__), "local", "rapid", f"aws-lambda-rie-{arch}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    """One function under its own emulator, on ports of its own."""

    def __init__(self, function, echo=False, env=None, bootstrap=None):
        """`env`: settings over the environment's, for this function alone;
        `bootstrap`: another build's (the bench's baseline), not target/lambda's
        (nor, with RIE_BOOTSTRAPS naming a directory of binaries named after
        their functions, as cargo build leaves them, that directory's)."""
        self.function = function
        if not bootstrap and os.environ.get("RIE_BOOTSTRAPS"):
            bootstrap = os.path.join(os.environ["RIE_BOOTSTRAPS"], function)
        bootstrap = bootstrap or os.path.join("target", "lambda", function, "bootstrap")
        if not os.path.exists(bootstrap):
            sys.exit(f"{bootstrap} is missing: run cargo lambda build")
        self.port = free_port()
        env = dict(os.environ, **(env or {}), AWS_LAMBDA_FUNCTION_NAME=function, **SANDBOX_ENV)
        self.lines = []
        self.process = subprocess.Popen(
            [emulator_binary(), "--log-level", "info",
             "--runtime-interface-emulator-address", f"127.0.0.1:{self.port}",
             "--runtime-api-address", f"127.0.0.1:{free_port()}",
             os.path.abspath(bootstrap)],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )
        threading.Thread(target=self._collect, args=(echo,), daemon=True).start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.close()
        sys.exit(f"the emulator for {function} did not start:\n" + "".join(self.lines))

    def _collect(self, echo):
        for line in self.process.stdout:
            self.lines.append(line)
            if echo:
                sys.stderr.write(line)

    def invoke(self, event):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/2015-03-31/functions/function/invocations",
            data=json.dumps(event).encode(), method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def reports(self):
        """The emulator's `INIT REPORT(durationMs: …)` and per-invoke `REPORT` lines."""
        return [l.rstrip() for l in self.lines if "INIT REPORT" in l or l.startswith("REPORT")]

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def load_event(name, token=None, refresh_token=None):
    with open(os.path.join(EVENTS, name)) as f:
        text = f.read()
    if token:
        text = text.replace(PLACEHOLDER, token)
    if refresh_token:
        text = text.replace(REFRESH_PLACEHOLDER, refresh_token)
    return json.loads(text)


def shown(body):
    """A response body for the terminal, with any token cut short: tokens stay out of logs."""
    if isinstance(body, dict):
        body = {k: (v[:12] + "…" if k.endswith("_token") else v) for k, v in body.items()}
    return json.dumps(body)


def invoke(function, path, token, refresh_token):
    emulator = Emulator(function)
    try:
        response = emulator.invoke(load_event(os.path.relpath(path, EVENTS), token, refresh_token))
        time.sleep(0.2)  # the REPORT line follows the response
        for line in emulator.reports():
            print(line)
        print(json.dumps(response, indent=2))
        # The full response, token included, is what this command is for.
    finally:
        emulator.close()


def minted(kind, domain):
    """An access token that no login gives out, signed with the current key of
    the secret the functions read (AUTH_SECRET_ID): "expired" (an hour ago),
    or for an "unknown-user" (a well-formed id that no table holds)."""
    import uuid

    import boto3
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    # boto3 reads AWS_DEFAULT_REGION, not the AWS_REGION the functions read.
    client = boto3.client("secretsmanager", region_name=os.environ["AWS_REGION"])
    secret = client.get_secret_value(SecretId=os.environ["AUTH_SECRET_ID"])
    keys = json.loads(secret["SecretString"])["signing_keys"]["keys"]
    current = next(key for key in keys if key["state"] == "current")
    now = int(time.time())
    issued = now - 7200 if kind == "expired" else now
    claims = {
        "sub": str(uuid.uuid4()), "iat": issued, "exp": issued + 3600,
        "jti": "QUJDREVGR0hJSktMTU5PUA", "sid": "AAAAAAAAAAAAAAAAAAAAAA",
        "iss": f"https://{domain}", "aud": os.environ.get("TOKEN_AUDIENCE", "token-auth"),
    }
    header = {"alg": "RS256", "kid": current["kid"]}
    return jwt.encode(header, claims, RSAKey.import_key(current["private_key_pem"]))


def check(entry, response):
    """Whether `response` is what the manifest entry expects: an HTTP status
    code, an authorizer's `isAuthorized`, or a stream consumer's
    `batchItemFailures`; and what to print of it."""
    if "batch_item_failures" in entry:
        failures = response.get("batchItemFailures")
        return failures == entry["batch_item_failures"], f"batchItemFailures {json.dumps(failures)} (expected {json.dumps(entry['batch_item_failures'])})"
    if "authorized" in entry:
        allowed = response.get("isAuthorized")
        return allowed == entry["authorized"], f"isAuthorized {allowed} (expected {entry['authorized']}) {json.dumps(response.get('context'))}"
    code = response.get("statusCode")
    kind = (response.get("headers") or {}).get("content-type", "")
    if kind.startswith("application/json"):
        body = shown(json.loads(response.get("body") or "null"))
    else:
        body = f"<{len(response.get('body') or '')} characters of {kind}>"
    return code == entry["status"], f"{code} (expected {entry['status']}) {body}"


def events():
    with open(os.path.join(EVENTS, "manifest.json")) as f:
        manifest = json.load(f)
    emulators = {}
    token = refresh_token = None
    passed = failed = 0
    try:
        for entry in manifest:
            function = entry["function"]
            if function not in emulators:
                emulators[function] = Emulator(function, env=entry.get("env"))
            source = entry.get("token")
            event = load_event(entry["event"])
            if source in ("expired", "unknown-user"):
                event = load_event(entry["event"], minted(source, event["requestContext"]["domainName"]))
            elif source:
                event = load_event(entry["event"], token, refresh_token)
            response = emulators[function].invoke(event)
            if entry["event"] == "login-ok.json":
                body = json.loads(response.get("body") or "null")
                token, refresh_token = body.get("auth_token"), body.get("refresh_token")
            ok, said = check(entry, response)
            passed += ok
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {entry['event']}: {said}")
        for function, emulator in emulators.items():
            init = [l for l in emulator.reports() if "INIT REPORT" in l]
            print(f"{function}: {init[0].split('(rapid) ')[-1] if init else 'no INIT REPORT line'}")
    finally:
        for emulator in emulators.values():
            emulator.close()
    print(f"events: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def main():
    args = sys.argv[1:]
    if args[:1] == ["events"]:
        return events()
    if args[:1] == ["invoke"] and len(args) >= 3:
        options = dict(zip(args[3::2], args[4::2]))
        return invoke(args[1], args[2], options.get("--token"), options.get("--refresh-token"))
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
