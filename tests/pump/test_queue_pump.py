"""The local SQS pump (scripts/local/queue-pump.py) against moto's SQS, and the
local webhook receiver (scripts/local/webhook-receiver.py).

The pump's tests start their own moto server and a stand-in function (an HTTP
server in a thread that answers each batch as the test says), and check what
is left in a FIFO queue: everything handled is deleted, a message the function
reports failed stays (and comes back), a function error deletes nothing.

The receiver's tests start it with a fresh secret and sign requests with
`standardwebhooks`, as the `webhooks` function does.

    .tools/venv/bin/python -m pytest tests/pump/test_queue_pump.py -q
(also runs under `python -m unittest tests/pump/test_queue_pump.py`).
"""

import base64
import datetime
import http.server
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid

import boto3
from standardwebhooks.webhooks import Webhook

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PUMP = os.path.join(ROOT, "scripts", "local", "queue-pump.py")
RECEIVER = os.path.join(ROOT, "scripts", "local", "webhook-receiver.py")
MOTO = os.path.join(ROOT, ".tools", "venv", "bin", "moto_server")
REGION = "us-east-1"
# moto takes any credentials; these keep boto3 from looking for real ones.
FAKE_AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing", "AWS_REGION": REGION}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, seconds=20, what="the condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def drain(stream):
    """Keeps reading a child's pipe, so that it never blocks on a full one."""
    threading.Thread(target=stream.read, daemon=True).start()


class Function(http.server.BaseHTTPRequestHandler):
    """The stand-in function: `answer(records)` -> (HTTP status, body); every
    non-empty batch is kept in `batches`."""

    answer = None
    batches = []
    lock = threading.Lock()

    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers["content-length"])))
        records = event["Records"]
        if records:
            with Function.lock:
                Function.batches.append(records)
            status, body = Function.answer(records)
        else:
            status, body = 200, {"batchItemFailures": []}
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class QueuePumpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        port = free_port()
        cls.moto_log = open(os.devnull, "w")
        cls.moto = subprocess.Popen([MOTO, "-H", "127.0.0.1", "-p", str(port)],
                                    stdout=cls.moto_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        cls.endpoint = f"http://127.0.0.1:{port}"

        def up():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return True
            except OSError:
                return False

        wait_until(up, what="moto_server")
        cls.sqs = boto3.client("sqs", endpoint_url=cls.endpoint, region_name=REGION,
                               aws_access_key_id="testing", aws_secret_access_key="testing")

    @classmethod
    def tearDownClass(cls):
        cls.moto.terminate()
        cls.moto.wait(10)
        cls.moto_log.close()

    def setUp(self):
        self.queue_url = self.sqs.create_queue(
            QueueName=f"pump-{uuid.uuid4().hex[:12]}.fifo",
            Attributes={"FifoQueue": "true", "VisibilityTimeout": "30"},
        )["QueueUrl"]
        self.queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        Function.batches = []
        Function.answer = staticmethod(lambda records: (200, {"batchItemFailures": []}))
        self.function = None
        self.pump = None

    def tearDown(self):
        self.stop_pump()
        if self.function:
            self.function.shutdown()
            self.function.server_close()

    def start_function(self, port=0):
        self.function = http.server.ThreadingHTTPServer(("127.0.0.1", port), Function)
        threading.Thread(target=self.function.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.function.server_address[1]}/2015-03-31/functions/webhooks/invocations"

    def start_pump(self, invoke_url, wait_ready=True):
        env = dict(os.environ, AWS_ENDPOINT_URL_SQS=self.endpoint, **FAKE_AWS)
        self.pump = subprocess.Popen(
            [sys.executable, PUMP, "--queue-url", self.queue_url, "--invoke-url", invoke_url],
            env=env, stderr=subprocess.PIPE, text=True)
        if wait_ready:
            self.wait_ready()

    def wait_ready(self):
        for line in self.pump.stderr:
            if line.startswith("queue-pump: ready"):
                break
        else:
            self.fail("the pump stopped before it was ready")
        drain(self.pump.stderr)

    def stop_pump(self):
        if self.pump:
            self.pump.terminate()
            self.pump.wait(10)
            self.pump = None

    def send(self, count, groups=None):
        """Sends `count` messages (each in its own group unless `groups`);
        their bodies, in order."""
        bodies = []
        for n in range(count):
            body = json.dumps({"n": n, "id": uuid.uuid4().hex})
            self.sqs.send_message(
                QueueUrl=self.queue_url, MessageBody=body,
                MessageGroupId=groups[n] if groups else f"group-{n}",
                MessageDeduplicationId=uuid.uuid4().hex,
                MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}},
            )
            bodies.append(body)
        return bodies

    def delivered(self):
        with Function.lock:
            return [record for batch in Function.batches for record in batch]

    def left(self):
        """How many messages the queue still holds, visible or in flight."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def receive_again(self, records):
        """With the pump stopped: makes the records' messages visible again and
        receives what is in the queue."""
        self.stop_pump()
        for record in records:
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0)
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"])
        return answer.get("Messages", [])

    def test_every_message_handled_is_deleted_and_records_are_shaped_as_lambdas(self):
        self.start_pump(self.start_function())
        bodies = self.send(3, groups=["a", "a", "b"])
        wait_until(lambda: len(self.delivered()) >= 3, what="3 records delivered")
        wait_until(lambda: self.left() == 0, what="the queue to be empty")
        records = self.delivered()
        self.assertEqual(sorted(r["body"] for r in records), sorted(bodies))
        a = [r["body"] for r in records if r["attributes"]["MessageGroupId"] == "a"]
        self.assertEqual(a, bodies[:2], "a group's messages in order")
        record = records[0]
        self.assertEqual(
            set(record),
            {"messageId", "receiptHandle", "body", "attributes", "messageAttributes",
             "md5OfMessageAttributes", "md5OfBody", "eventSource", "eventSourceARN", "awsRegion"})
        self.assertEqual(record["eventSource"], "aws:sqs")
        self.assertEqual(record["eventSourceARN"], self.queue_arn)
        self.assertEqual(record["awsRegion"], REGION)
        for name in ["ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp",
                     "SequenceNumber", "MessageGroupId", "MessageDeduplicationId"]:
            self.assertIsInstance(record["attributes"].get(name), str, name)
        self.assertEqual(record["attributes"]["ApproximateReceiveCount"], "1")
        self.assertEqual(record["messageAttributes"], {
            "kind": {"stringValue": "test", "stringListValues": [], "binaryListValues": [], "dataType": "String"}})

    def test_a_message_reported_failed_stays_and_only_it(self):
        failed_ids = []

        def answer(records):
            failed_ids.append(records[1]["messageId"])
            return 200, {"batchItemFailures": [{"itemIdentifier": records[1]["messageId"]}]}

        Function.answer = staticmethod(answer)
        bodies = self.send(3)
        self.start_pump(self.start_function())
        wait_until(lambda: len(self.delivered()) >= 3, what="the batch delivered")
        with Function.lock:
            self.assertEqual(len(Function.batches), 1, "the three in one batch")
        wait_until(lambda: self.left() == 1, what="the two others deleted")
        # (moto refuses a visibility change with a deleted message's handle.)
        again = self.receive_again([r for r in self.delivered() if r["messageId"] in failed_ids])
        self.assertEqual([m["MessageId"] for m in again], failed_ids)
        self.assertEqual(again[0]["Body"], bodies[1])
        self.assertEqual(again[0]["Attributes"]["ApproximateReceiveCount"], "2")

    def check_nothing_deleted(self, status, body):
        Function.answer = staticmethod(lambda records: (status, body))
        self.send(2)
        self.start_pump(self.start_function())
        wait_until(lambda: len(self.delivered()) >= 2, what="the batch delivered")
        time.sleep(1.5)  # the pump has long answered by now
        self.assertEqual(self.left(), 2)
        again = self.receive_again(self.delivered())
        self.assertEqual(sorted(m["MessageId"] for m in again), sorted(r["messageId"] for r in self.delivered()))

    def test_a_function_error_deletes_nothing(self):
        self.check_nothing_deleted(500, {"errorType": "Panic", "errorMessage": "boom"})

    def test_an_error_body_deletes_nothing(self):
        self.check_nothing_deleted(200, {"errorType": "Runtime.ExitError", "errorMessage": "exited"})

    def test_an_answer_that_is_not_json_deletes_nothing(self):
        self.check_nothing_deleted(200, b"<html>not json</html>")

    def test_a_failure_naming_a_message_not_in_the_batch_deletes_nothing(self):
        self.check_nothing_deleted(200, {"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]})

    def test_an_unreachable_function_is_waited_for(self):
        port = free_port()
        self.start_pump(f"http://127.0.0.1:{port}/", wait_ready=False)
        time.sleep(1.5)
        self.assertIsNone(self.pump.poll(), "the pump waits")
        self.start_function(port)
        self.wait_ready()
        self.send(1)
        wait_until(lambda: self.delivered(), what="the message delivered")
        wait_until(lambda: self.left() == 0, what="the message deleted")


class WebhookReceiverTest(unittest.TestCase):
    def setUp(self):
        self.secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        self.webhook = Webhook(self.secret)
        env = dict(os.environ, WEBHOOK_SECRET=self.secret)
        self.receiver = subprocess.Popen([sys.executable, RECEIVER, "--port", str(free_port())],
                                         env=env, stdout=subprocess.PIPE, text=True)
        line = self.receiver.stdout.readline()
        self.assertTrue(line.startswith("webhook-receiver: listening on http://127.0.0.1:"), line)
        self.url = line.split("listening on ")[1].strip()
        self.lines = []
        threading.Thread(target=lambda: self.lines.extend(self.receiver.stdout), daemon=True).start()

    def tearDown(self):
        if self.receiver.poll() is None:
            self.receiver.terminate()
        self.receiver.wait(10)
        self.receiver.stdout.close()

    def request(self, method, path, body=None, headers=None):
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def get_json(self, path):
        status, body = self.request("GET", path)
        self.assertEqual(status, 200)
        return json.loads(body)

    def deliver(self, user_id, msg_id=None, when=None, webhook=None, path="/hooks/accounts",
                event_type="user.created"):
        msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
        when = when or datetime.datetime.now(datetime.timezone.utc)
        body = json.dumps({"type": event_type, "timestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "data": {"user_id": user_id, "email": "a@example.com"}}).encode()
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": (webhook or self.webhook).sign(msg_id, when, body),
        }
        status, answer = self.request("POST", path, body, headers)
        return status, answer, msg_id

    def test_a_genuine_delivery_is_accepted_and_recorded(self):
        status, _, msg_id = self.deliver("user-1")
        self.assertEqual(status, 204)
        [attempt] = self.get_json("/_received?user_id=user-1")
        self.assertEqual(attempt["path"], "/hooks/accounts")
        self.assertEqual(attempt["webhook_id"], msg_id)
        self.assertEqual(attempt["type"], "user.created")
        self.assertEqual(attempt["data"], {"user_id": "user-1", "email": "a@example.com"})
        self.assertEqual(attempt["status"], 204)
        self.assertAlmostEqual(attempt["received_at"], time.time(), delta=10)
        self.assertEqual(self.get_json("/_received?user_id=someone-else"), [])
        self.assertEqual(self.get_json("/_stats"), {"rejected": 0, "accepted": 1})
        wait_until(lambda: self.lines, what="the delivery's line")
        self.assertEqual(self.lines[0].strip(), f"webhook: user.created user user-1 id {msg_id} -> 204")

    def test_a_forged_or_missing_signature_is_refused(self):
        other = Webhook("whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())
        status, answer, _ = self.deliver("user-2", webhook=other)
        self.assertEqual(status, 400)
        self.assertIn("error", json.loads(answer))
        status, _ = self.request("POST", "/hooks/accounts", b'{"type": "user.created", "data": {"user_id": "user-2"}}',
                                 {"content-type": "application/json"})
        self.assertEqual(status, 400)
        self.assertEqual(self.get_json("/_received"), [])
        self.assertEqual(self.get_json("/_stats"), {"rejected": 2, "accepted": 0})

    def test_a_replay_ten_minutes_old_is_refused(self):
        old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)
        status, answer, _ = self.deliver("user-3", when=old)
        self.assertEqual(status, 400)
        self.assertIn("too old", json.loads(answer)["error"])
        self.assertEqual(self.get_json("/_received?user_id=user-3"), [])
        self.assertEqual(self.get_json("/_stats"), {"rejected": 1, "accepted": 0})

    def test_an_armed_failure_answers_503_that_many_times(self):
        status, _ = self.request("POST", "/_fail", json.dumps({"user_id": "user-4", "times": 2}).encode(),
                                 {"content-type": "application/json"})
        self.assertEqual(status, 200)
        msg_id = "msg_retried"
        statuses = [self.deliver("user-4", msg_id=msg_id)[0] for _ in range(3)]
        self.assertEqual(statuses, [503, 503, 204])
        self.assertEqual(self.deliver("user-5")[0], 204, "another user is not failed")
        attempts = self.get_json("/_received?user_id=user-4")
        self.assertEqual([a["status"] for a in attempts], [503, 503, 204])
        self.assertEqual({a["webhook_id"] for a in attempts}, {msg_id})
        self.assertEqual(self.get_json("/_stats"), {"rejected": 0, "accepted": 2})

    def test_the_page_lists_accepted_events_newest_first_escaped(self):
        self.deliver("first-user")
        self.deliver("<script>alert(1)</script>", event_type="user.deleted")
        status, page = self.request("GET", "/")
        self.assertEqual(status, 200)
        page = page.decode()
        self.assertNotIn("<script>", page)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", page)
        self.assertLess(page.index("user.deleted"), page.index("first-user"))

    def test_sigterm_stops_it(self):
        self.receiver.send_signal(signal.SIGTERM)
        self.assertEqual(self.receiver.wait(10), 0)


if __name__ == "__main__":
    unittest.main()
