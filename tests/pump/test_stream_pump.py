"""The local stream pump (scripts/local/stream-pump.py) against DynamoDB Local:
records written across forced re-takes of the shard iterator are each handed
to the mailer exactly once, and a LATEST start passes over what was there
before it. The mailer is a stand-in HTTP server that records what it gets.

Run by `make test` (scripts/test/test.sh) with its DynamoDB Local in
AWS_ENDPOINT_URL_DYNAMODB: `.tools/venv/bin/python -m unittest tests/pump/test_stream_pump.py`.
"""

import http.server
import json
import os
import subprocess
import sys
import threading
import time
import unittest
import uuid

import boto3

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PUMP = os.path.join(ROOT, "scripts", "local", "stream-pump.py")


class Mailer(http.server.BaseHTTPRequestHandler):
    """Answers every batch as delivered, and keeps each record's id."""

    received = []
    lock = threading.Lock()

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        with Mailer.lock:
            for record in body["Records"]:
                Mailer.received.append(record["dynamodb"]["NewImage"]["id"]["S"])
        answer = json.dumps({"batchItemFailures": []}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@unittest.skipUnless(os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"), "needs make test's DynamoDB Local")
class StreamPumpTest(unittest.TestCase):
    def setUp(self):
        region = os.environ.get("AWS_REGION", "us-east-1")
        self.dynamodb = boto3.client("dynamodb", region_name=region)
        self.table = f"PumpTest{uuid.uuid4().hex[:12]}"
        self.dynamodb.create_table(
            TableName=self.table,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        Mailer.received = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Mailer)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def tearDown(self):
        self.server.shutdown()
        if getattr(self, "pump", None):
            self.pump.terminate()
            self.pump.wait(10)
        self.dynamodb.delete_table(TableName=self.table)

    def write(self, prefix, count):
        ids = [f"{prefix}-{n}" for n in range(count)]
        for item_id in ids:
            self.dynamodb.put_item(TableName=self.table, Item={"id": {"S": item_id}})
        return ids

    def start_pump(self):
        env = dict(os.environ, PUMP_RETAKE_EVERY_POLLS="1", PUMP_BACKOFF_SECONDS="0.1",
                   MAIL_DEAD_LETTER_FILE=os.devnull)
        url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.pump = subprocess.Popen(
            [sys.executable, PUMP, "--invoke-url", url, "--table", self.table],
            env=env, stderr=subprocess.PIPE, text=True)
        for line in self.pump.stderr:
            if line.startswith("stream-pump: ready"):
                break
        else:
            self.fail("the pump stopped before it was ready")
        # Keep reading its log, so that it never blocks on a full pipe.
        threading.Thread(target=self.pump.stderr.read, daemon=True).start()

    def wait_for(self, count, seconds=20):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with Mailer.lock:
                if len(Mailer.received) >= count:
                    break
            time.sleep(0.1)
        time.sleep(1)  # anything delivered twice would arrive by now
        with Mailer.lock:
            return list(Mailer.received)

    def write_in_bursts(self):
        """The first records right after "ready" (the one the old pump lost),
        then bursts with pauses, while the pump takes its iterator again at
        every poll."""
        written = []
        # One at a time at first, each landing while the pump waits between
        # polls: a pump that took its iterator again at LATEST before its
        # first record would pass over these.
        for single in range(5):
            written += self.write(f"single{single}", 1)
            time.sleep(0.5)
        for burst in range(6):
            written += self.write(f"burst{burst}", 7)
            time.sleep(0.3)
        return written

    def test_from_an_empty_shard_every_record_written_across_re_takes_is_delivered_once(self):
        self.start_pump()
        written = self.write_in_bursts()
        received = self.wait_for(len(written))
        self.assertEqual(sorted(received), sorted(written), "each record once")

    def test_a_latest_start_passes_over_what_was_there_and_loses_nothing_after(self):
        before = self.write("before", 3)
        self.start_pump()
        written = self.write_in_bursts()
        received = self.wait_for(len(written))
        self.assertEqual(sorted(received), sorted(written),
                         "each record once, none from before the LATEST start")
        self.assertFalse(set(before) & set(received))

if __name__ == "__main__":
    unittest.main()
