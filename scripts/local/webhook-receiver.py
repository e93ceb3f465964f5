"""LOCAL USE ONLY: a webhook receiver for `make run` and the tests, what a
team's own endpoint does, small.

    webhook-receiver.py --port PORT [--host 127.0.0.1]

(--port 0: any free port, the one in the "listening on" line.)

The secret (`whsec_…`) is WEBHOOK_SECRET in the environment. Every POST to a
path not starting with `/_` is checked with the `standardwebhooks` package (the
spec's own Python library): a missing, forged or altered signature, or a
timestamp outside the library's tolerance (a replay), gets 400
{"error": "..."} and is only counted. A genuine one,
{"type", "timestamp", "data": {"user_id", ...}}, gets 204, or 503 while a
failure is armed for its data.user_id; each is recorded as
{"path", "webhook_id", "type", "data", "status", "received_at"}.

- `POST /_fail` {"user_id": "...", "times": N}: the next N genuine deliveries
  for that user answer 503 (N may be large: down for the whole retry budget);
- `GET /_received[?user_id=X]`: the recorded attempts (failed ones too), in
  arrival order, as JSON;
- `GET /_stats`: {"rejected": n, "accepted": n};
- `GET /`: the events accepted, newest first, as a page (what `make run` shows).

Each genuine delivery is one line on stdout. Neither the secret nor a
signature is ever printed.
"""

import argparse
import html
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Store:
    """What arrived, the failures armed and the counters, behind one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.attempts = []
        self.armed = {}  # user id -> deliveries still to fail
        self.rejected = 0
        self.accepted = 0

    def reject(self):
        with self.lock:
            self.rejected += 1

    def arm(self, user_id, times):
        with self.lock:
            self.armed[user_id] = times

    def record(self, attempt):
        """Records a genuine delivery; its status: 503 while a failure is
        armed for its user, else 204."""
        user_id = attempt["data"].get("user_id") if isinstance(attempt["data"], dict) else None
        with self.lock:
            left = self.armed.get(user_id, 0) if isinstance(user_id, str) else 0
            if left > 0:
                self.armed[user_id] = left - 1
                status = 503
            else:
                status = 204
                self.accepted += 1
            self.attempts.append(dict(attempt, status=status))
        return status

    def received(self, user_id=None):
        with self.lock:
            return [dict(a) for a in self.attempts
                    if user_id is None or (isinstance(a["data"], dict) and a["data"].get("user_id") == user_id)]

    def stats(self):
        with self.lock:
            return {"rejected": self.rejected, "accepted": self.accepted}


def page(attempts):
    """The events accepted, newest first."""
    rows = []
    for attempt in reversed(attempts):
        if attempt["status"] != 204:
            continue
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(attempt["received_at"]))
        user_id = attempt["data"].get("user_id") if isinstance(attempt["data"], dict) else None
        cells = [when, attempt["type"], user_id, attempt["webhook_id"], attempt["path"]]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in cells) + "</tr>")
    body = "\n".join(rows) or '<tr><td colspan="5">No event yet.</td></tr>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Webhooks received</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:.2em .8em;text-align:left}}
tr:nth-child(even){{background:#f3f3f3}}</style></head>
<body><h1>Webhooks received</h1><p>Newest first; reload to see more.</p>
<table><tr><th>Received</th><th>Type</th><th>User</th><th>webhook-id</th><th>Path</th></tr>
{body}
</table></body></html>
""".encode()


def handler(webhook, store):
    class Receiver(BaseHTTPRequestHandler):
        def answer(self, status, body=None, content_type="application/json"):
            data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urlsplit(self.path)
            if url.path == "/":
                return self.answer(200, page(store.received()), "text/html; charset=utf-8")
            if url.path == "/_received":
                user_id = parse_qs(url.query).get("user_id", [None])[0]
                return self.answer(200, store.received(user_id))
            if url.path == "/_stats":
                return self.answer(200, store.stats())
            self.answer(404, {"error": "not found"})

        def do_POST(self):
            url = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if url.path == "/_fail":
                return self.arm(body)
            if url.path.startswith("/_"):
                return self.answer(404, {"error": "not found"})
            headers = {name.lower(): value for name, value in self.headers.items()}
            try:
                webhook.verify(body, headers, json_parse=False)
                event = json.loads(body)
                if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
                    raise ValueError("the body is not {type, timestamp, data: {...}}")
            except WebhookVerificationError as error:
                store.reject()
                return self.answer(400, {"error": str(error)})
            except ValueError as error:  # json.JSONDecodeError and UnicodeDecodeError too
                store.reject()
                return self.answer(400, {"error": f"a signed body that is not an event: {error}"})
            attempt = {
                "path": url.path,
                "webhook_id": headers.get("webhook-id"),
                "type": event.get("type"),
                "data": event["data"],
                "received_at": time.time(),
            }
            status = store.record(attempt)
            print(f"webhook: {attempt['type']} user {event['data'].get('user_id')} "
                  f"id {attempt['webhook_id']} -> {status}", flush=True)
            if status == 503:
                return self.answer(503, {"error": "armed failure (POST /_fail)"})
            self.answer(204)

        def arm(self, body):
            try:
                request = json.loads(body)
                user_id, times = request["user_id"], request["times"]
                if not isinstance(user_id, str) or not isinstance(times, int) or isinstance(times, bool) or times < 0:
                    raise ValueError
            except (ValueError, KeyError, TypeError):
                return self.answer(400, {"error": 'expected {"user_id": "...", "times": N}'})
            store.arm(user_id, times)
            self.answer(200, {"user_id": user_id, "times": times})

        def log_message(self, *_):
            pass

    return Receiver


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    secret = os.environ.get("WEBHOOK_SECRET")
    if not secret:
        sys.exit("webhook-receiver: WEBHOOK_SECRET (whsec_...) is not set")
    try:
        webhook = Webhook(secret)
    except Exception:  # never its message: it could quote the secret
        sys.exit("webhook-receiver: WEBHOOK_SECRET is not a whsec_ secret (base64 after whsec_)")

    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer((args.host, args.port), handler(webhook, Store()))

    def stop(*_):
        # shutdown() waits for serve_forever, so from another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"webhook-receiver: listening on http://{args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
