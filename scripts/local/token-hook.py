"""A token hook for local runs and tests: what a team's own hook does, small.

    token-hook.py PORT SECRET

Every POST is checked with the `standardwebhooks` package (the spec's own
Python library) against SECRET (`whsec_…`): a forged, altered or stale one
gets 401 and no claims. A genuine one is answered by its path:

- `/claims`: `{"tenant": <user_metadata.tenant>, "plan": <app_metadata.plan>,
  "signed_in_with": <amr>}`, and `sub` and `roles`, which the service must
  drop (a hook may not overwrite them);
- `/slow?ms=N`: the same, N milliseconds late;
- `/error`: 500; `/garbage`: 200 with a body that is not JSON; `/list`: a
  JSON array, not an object.

`GET /deliveries` lists what arrived (headers, body, verdict), for tests;
each delivery is also one line on stdout, which `make run` shows.
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

PORT, SECRET = int(sys.argv[1]), sys.argv[2]
WEBHOOK = Webhook(SECRET)
DELIVERIES = []
LOCK = threading.Lock()


def claims_for(data):
    return {
        "tenant": data.get("user_metadata", {}).get("tenant"),
        "plan": data.get("app_metadata", {}).get("plan"),
        "signed_in_with": data.get("amr"),
        "sub": "not-the-user",
        "roles": ["root"],
    }


class Hook(BaseHTTPRequestHandler):
    def answer(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/deliveries":
            with LOCK:
                return self.answer(200, DELIVERIES)
        self.answer(200, {"ok": True})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            payload = WEBHOOK.verify(body, headers)
            verdict = "verified"
        except WebhookVerificationError as error:
            payload, verdict = None, f"refused: {error}"
        url = urlsplit(self.path)
        with LOCK:
            DELIVERIES.append({"path": url.path, "verdict": verdict,
                               "headers": {k: v for k, v in headers.items() if k.startswith("webhook-")},
                               "body": body.decode(errors="replace")})
        user = (payload or {}).get("data", {}).get("user_id", "?")
        print(f"token hook: {url.path} for user {user}: {verdict}", flush=True)
        if payload is None:
            return self.answer(401, {"error": "bad signature"})
        if url.path == "/slow":
            time.sleep(int(parse_qs(url.query).get("ms", ["2000"])[0]) / 1000)
        if url.path == "/error":
            return self.answer(500, {"error": "hook broke"})
        if url.path == "/garbage":
            return self.answer(200, b"<html>not json</html>", "text/html")
        if url.path == "/list":
            return self.answer(200, [1, 2, 3])
        self.answer(200, claims_for(payload["data"]))

    def log_message(self, *_):
        pass


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", PORT), Hook).serve_forever()
