"""CORS in front of `cargo lambda watch`, as API Gateway answers it deployed.

`cargo lambda watch` runs with its own CORS layer off (it reflects any Origin
with credentials); with CORS_ALLOW_ORIGINS set, `make run` (and the browser
tests) put this in front instead, so a page of one of those origins can call
the local API as it will call the deployed one, and no other page can read an
answer:

- a preflight (OPTIONS with Access-Control-Request-Method) from an allowed
  origin gets 204 with the template's CorsConfiguration (the methods, the
  headers authorization and content-type, max age 600); from any other origin,
  204 with no CORS header;
- every other request goes to the upstream as it came; its answer gains
  Access-Control-Allow-Origin (that origin, never `*` with credentials, and
  never Access-Control-Allow-Credentials) only for an allowed origin.

Usage: python cors-front.py LISTEN_PORT UPSTREAM_URL ORIGIN[,ORIGIN...]
"""

import http.client
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# As template.yaml's HttpApi CorsConfiguration.
ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE"
ALLOW_HEADERS = "authorization, content-type"
MAX_AGE = "600"
# Hop-by-hop headers are the proxy's own (RFC 9110 §7.6.1).
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate"}


def handler(upstream, allowed):
    target = urllib.parse.urlsplit(upstream)

    class Front(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass  # the functions log; a request line here would hold tokens in queries

        def allowed_origin(self):
            origin = self.headers.get("Origin")
            return origin if origin in allowed else None

        def do_OPTIONS(self):
            if self.headers.get("Access-Control-Request-Method") is None:
                return self.forward()
            self.send_response(204)
            origin = self.allowed_origin()
            if origin:
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Access-Control-Allow-Methods", ALLOW_METHODS)
                self.send_header("Access-Control-Allow-Headers", ALLOW_HEADERS)
                self.send_header("Access-Control-Max-Age", MAX_AGE)
            self.send_header("Vary", "Origin")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=300)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                payload = answer.read()
            finally:
                connection.close()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                lowered = name.lower()
                if lowered in HOP_BY_HOP or lowered == "content-length" \
                        or lowered.startswith("access-control-"):
                    continue
                self.send_header(name, value)
            origin = self.allowed_origin()
            if origin:
                self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Vary", "Origin")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = forward

    return Front


def main():
    port, upstream, origins = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    allowed = {origin.strip().rstrip("/") for origin in origins.split(",") if origin.strip()}
    server = ThreadingHTTPServer(("127.0.0.1", port), handler(upstream, allowed))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
