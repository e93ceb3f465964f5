"""The service's metrics add up (issue 25): a scenario driven over HTTP
against a stack of its own (scripts/test/test-metrics.sh: its own DynamoDB
Local and cargo lambda watch, so that nothing else is counted), then the
functions' log read back as CloudWatch would read it. Every embedded-metric
document must be valid EMF, and the sums exactly the scenario's.

Environment: API_URL, WATCH_LOG, DYNAMODB_PID (stopped for the 503),
REFRESH_REUSE_GRACE_SECONDS and SOURCE_REGISTRATIONS_PER_HOUR as the
script sets them."""

import json
import os
import signal
import sys
import time
import unittest
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "local"))
import metrics  # noqa: E402

API_URL = os.environ["API_URL"].rstrip("/")
PASSWORD = "correct horse battery"


def call(method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{API_URL}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def log_counts():
    with open(os.environ["WATCH_LOG"], encoding="utf-8", errors="replace") as log:
        return metrics.counts(log)


class MetricsAddUp(unittest.TestCase):
    def test_a_scenarios_metrics_are_valid_emf_and_add_up_to_it(self):
        email = f"metrics-{uuid.uuid4().hex[:12]}@example.com"
        status, body = call("POST", "/auth/register", {"email": email, "password": PASSWORD})
        self.assertEqual(status, 201, body)
        # SOURCE_REGISTRATIONS_PER_HOUR=1: the second from this address is throttled.
        status, body = call("POST", "/auth/register", {"email": "x" + email, "password": PASSWORD})
        self.assertEqual(status, 429, body)
        for _ in range(3):
            status, body = call("POST", "/auth/login", {"email": email, "password": "not the password"})
            self.assertEqual(status, 404, body)
        status, body = call("POST", "/auth/login", {"email": email, "password": PASSWORD})
        self.assertEqual(status, 200, body)
        first = body["refresh_token"]
        status, body = call("POST", "/auth/refresh", {"refresh_token": first})
        self.assertEqual(status, 200, body)
        # Past the reuse grace window, the rotated token again: a theft.
        time.sleep(int(os.environ["REFRESH_REUSE_GRACE_SECONDS"]) + 1)
        status, body = call("POST", "/auth/refresh", {"refresh_token": first})
        self.assertEqual(status, 401, body)
        token = call("POST", "/auth/login", {"email": email, "password": PASSWORD})[1]["auth_token"]
        # Storage down: the call is answered 503, and counted.
        os.kill(int(os.environ["DYNAMODB_PID"]), signal.SIGKILL)
        status, body = call("GET", "/auth/status", token=token)
        self.assertEqual(status, 503, body)

        expected = {"Registrations": 1, "RegistrationsThrottled": 1, "LoginFailed": 3,
                    "LoginSucceeded": 2, "RefreshRotated": 1, "RefreshReuseDetected": 1,
                    "StorageUnavailable": 1}
        deadline = time.monotonic() + 15
        while dict(log_counts()) != expected and time.monotonic() < deadline:
            time.sleep(0.2)  # the watch writes the functions' lines as they come
        self.assertEqual(dict(log_counts()), expected)

    def test_a_broken_document_is_refused(self):
        good = {"_aws": {"Timestamp": 1, "CloudWatchMetrics": [
            {"Namespace": "n", "Dimensions": [["Service"]], "Metrics": [{"Name": "A", "Unit": "Count"}]}]},
            "Service": "n", "A": 1}
        metrics.check(good)
        for broken in [{**good, "A": "1"}, {**good, "Service": 3},
                       {**good, "_aws": {**good["_aws"], "Timestamp": "now"}}]:
            with self.assertRaises(ValueError):
                metrics.check(broken)


if __name__ == "__main__":
    unittest.main()
