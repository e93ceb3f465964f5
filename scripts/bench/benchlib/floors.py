"""Each endpoint's DynamoDB calls without the function around them, from two
bare clients: bench/dynamo-floor, the Rust SDK of the functions at the same
versions (the floor the ratios are taken against), and boto3, which costs more
per call than the Rust SDK (a ratio against it would flatter us).

Both issue what the functions issue (see bench/dynamo-floor/src/main.rs for
the list) for one caller: a user, its token's session and its email."""

import os
import secrets
import subprocess
import time
import uuid

import boto3
from botocore.config import Config as BotoConfig

from . import database, schema
from .database import random_id
from .settings import MAILS_PER_EMAIL_PER_HOUR, SOURCE_MAILS_PER_HOUR, TOOLS
from .stats import median

# The address of the events in events/: login's and the code mails'
# per-address counters.
SOURCE_IP = "203.0.113.10"
# What logout and revoke-session require of the session they end: still live.
LIVE_SESSION = "attribute_exists(pk) AND expires_at > :now"


def run_tool(name, *args, timeout=600):
    """Runs a bench/* binary; returns the milliseconds it prints, one a line."""
    output = subprocess.run([os.path.join(TOOLS, name, "bootstrap"), *map(str, args)],
                            check=True, capture_output=True, text=True, timeout=timeout).stdout
    return [float(line) for line in output.split()]


class Floors:
    def __init__(self, calls):
        self.calls = calls
        self.callers = {}
        # Its own client: setup writes (database.py) go over other connections.
        self.client = boto3.client("dynamodb", region_name=os.environ["AWS_REGION"],
                                   endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
                                   config=BotoConfig(retries={"max_attempts": 1}))
        self.users, self.revoked = os.environ["USERS_TABLE"], os.environ["REVOKED_TOKENS_TABLE"]
        self.outbox = os.environ["OUTBOX_TABLE"]
        self.serial = 0  # numbers register's addresses

    def warm_up_database(self, ops, count):
        """Each of `ops` `count` times through the bare Rust client, before
        anything is timed. DynamoDB Local is a JVM: until its JIT has compiled
        a request's path it answers slower, by milliseconds for the first
        requests of a kind, and a section timed early (the cold starts) would
        book that on the functions. Real DynamoDB has nothing like it.
        Returns the first and the last tenth of each op's series, as p50 ms."""
        seen = {}
        for op in ops:
            times = self.rust(op, count)
            tenth = max(1, len(times) // 10)
            seen[op] = (median(times[:tenth]), median(times[-tenth:]))
        return seen

    def caller(self, op):
        """(user id, session id, email) of the floor's calls of `op`: the
        function's own caller, but where the floor would overwrite what the
        function needs (a refresh hash, a password hash), one of its own."""
        if op not in self.callers:
            main, lister = self.calls.main, self.calls.lister
            if op == "sessions":
                self.callers[op] = (lister.user_id, lister.session_id, lister.email)
            elif op == "refresh":
                self.callers[op] = (main.user_id, database.open_session(main.user_id), main.email)
            elif op == "password":
                self.callers[op] = database.floor_user()
            else:
                self.callers[op] = (main.user_id, main.session_id, main.email)
        return self.callers[op]

    def rust(self, op, count):
        """Each call's ms; the first opens the client's connection."""
        return run_tool("bench-dynamo-floor", op, count, *self.caller(op))

    def boto3(self, op, count):
        """Each call's ms, through boto3, without the writes it needs first."""
        user_id, session_id, email = self.caller(op)
        call = getattr(self, "_" + op.replace("-", "_"))
        times = []
        for _ in range(count):
            # Logout and revoke-session end a session; a password change ends
            # another device's.
            ending = database.open_session(user_id) if op in ("logout", "revoke-session", "password") else None
            start = time.perf_counter()
            call(user_id, session_id, email, ending)
            times.append((time.perf_counter() - start) * 1000)
        return times

    # The requests of each endpoint, as bench/dynamo-floor sends them.

    def _read(self, keys, revoked_key=None):
        """A consistent BatchGetItem: the items of the users table found."""
        request = {self.users: {"Keys": keys, "ConsistentRead": True}}
        if revoked_key:
            request[self.revoked] = {"Keys": [revoked_key], "ConsistentRead": True}
        return self.client.batch_get_item(RequestItems=request)["Responses"][self.users]

    def _authenticate(self, user_id, session_id):
        self._read([schema.profile_key(user_id), schema.session_key(user_id, session_id)],
                   schema.revoked_key(random_id()))

    def _begin_attempt(self, email, counters):
        """The login record read with its counters, then a claim on each (one
        after the other here: boto3 clients block); the record's hash."""
        login_key = schema.login_key(email)
        items = self._read([login_key, *map(schema.failures_key, counters)])
        record = next(item for item in items if item["pk"] == login_key["pk"])
        now_ms = time.time_ns() // 1_000_000
        for counter in counters:
            self.client.update_item(
                TableName=self.users, Key=schema.failures_key(counter),
                UpdateExpression="SET failures = if_not_exists(failures, :zero) + :one, "
                                 "last_failure_ms = :now_ms, expires_at = :expires",
                ExpressionAttributeValues={":zero": schema.n(0), ":one": schema.n(1),
                                           ":now_ms": schema.n(now_ms),
                                           ":expires": schema.n(now_ms // 1000 + 3600)})
        return record["password_hash"]

    def _clear(self, counter):
        return {"Delete": {"TableName": self.users, "Key": schema.failures_key(counter)}}

    def _end_other_sessions(self, user_id, session_id):
        pages = self.client.get_paginator("query").paginate(
            TableName=self.users, ConsistentRead=True, KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": schema.s(schema.sessions_pk(user_id))})
        others = [item["session_id"]["S"] for page in pages for item in page["Items"]]
        for other in others:
            if other != session_id:
                self.client.delete_item(TableName=self.users, Key=schema.session_key(user_id, other))

    def _status(self, user_id, session_id, email, ending):
        self._authenticate(user_id, session_id)

    def _login(self, user_id, session_id, email, ending):
        account, source = schema.account_counter(email), schema.source_counter(SOURCE_IP)
        verified = self._begin_attempt(email, [account, source])
        self.client.transact_write_items(TransactItems=[
            {"ConditionCheck": {"TableName": self.users, "Key": schema.login_key(email),
                                "ConditionExpression": "password_hash = :verified",
                                "ExpressionAttributeValues": {":verified": verified}}},
            {"Put": {"TableName": self.users,
                     "Item": schema.session_item(user_id, random_id(), int(time.time()), 3600, "x")}},
            self._clear(account),
            {"Update": {"TableName": self.users, "Key": schema.failures_key(source),
                        "UpdateExpression": "SET failures = failures - :one",
                        "ExpressionAttributeValues": {":one": schema.n(1)}}},
        ])

    def _logout(self, user_id, session_id, email, ending):
        now = int(time.time())
        self.client.transact_write_items(TransactItems=[
            {"Put": {"TableName": self.revoked, "Item": schema.revoked_item(random_id(), now + 3600),
                     "ConditionExpression": "attribute_not_exists(jti) OR expires_at <= :now",
                     "ExpressionAttributeValues": {":now": schema.n(now)}}},
            {"Delete": {"TableName": self.users, "Key": schema.session_key(user_id, ending),
                        "ConditionExpression": LIVE_SESSION,
                        "ExpressionAttributeValues": {":now": schema.n(now)}}},
        ])

    def _register(self, user_id, session_id, email, ending):
        now = int(time.time())
        self.serial += 1
        counter, window_end = schema.registration_counter(
            f"198.19.{self.serial // 250 % 256}.{self.serial % 250 + 1}", now)
        self.client.update_item(
            TableName=self.users, Key=schema.failures_key(counter),
            UpdateExpression="SET failures = if_not_exists(failures, :zero) + :one, expires_at = :expires",
            ConditionExpression="attribute_not_exists(failures) OR failures < :limit",
            ExpressionAttributeValues={":zero": schema.n(0), ":one": schema.n(1),
                                       ":limit": schema.n(100), ":expires": schema.n(window_end)})
        new_id = secrets.token_hex(16)
        new_email = f"boto-{new_id}@example.com"
        items = [schema.profile_item(new_id, new_email),
                 schema.login_item(new_email, new_id, "x"),
                 schema.session_item(new_id, "first", now, 3600, "x")]
        self.client.transact_write_items(ClientRequestToken=new_id, TransactItems=[
            *({"Put": {"TableName": self.users, "Item": item,
                       "ConditionExpression": "attribute_not_exists(pk)"}} for item in items),
            *self._code_and_mail(schema.VERIFY_EMAIL, new_email, now)])

    def _code_and_mail(self, kind, email, now):
        """The puts of a new code (replacing any pending one) and its mail."""
        code = f"{secrets.randbelow(10 ** 8):08}"
        return [{"Put": {"TableName": self.users,
                         "Item": schema.code_item(kind, email, database.code_hash(), now)}},
                {"Put": {"TableName": self.outbox,
                         "Item": schema.outbox_item(str(uuid.uuid4()), kind, email, code, now)}}]

    def _mail_code(self, kind, email):
        """The mail counted on the address's and the source's hourly counters
        (one after the other here), then the code and its mail if the address
        has an account (it has: the transaction goes through)."""
        now = int(time.time())
        limits = [MAILS_PER_EMAIL_PER_HOUR, SOURCE_MAILS_PER_HOUR]
        for (counter, window_end), limit in zip(schema.mail_counters(email, SOURCE_IP, now), limits):
            self.client.update_item(
                TableName=self.users, Key=schema.failures_key(counter),
                UpdateExpression="SET failures = if_not_exists(failures, :zero) + :one, expires_at = :expires",
                ConditionExpression="attribute_not_exists(failures) OR failures < :limit",
                ExpressionAttributeValues={":zero": schema.n(0), ":one": schema.n(1),
                                           ":limit": schema.n(limit), ":expires": schema.n(window_end)})
        self.client.transact_write_items(TransactItems=[
            {"ConditionCheck": {"TableName": self.users, "Key": schema.login_key(email),
                                "ConditionExpression": "attribute_exists(pk)"}},
            *self._code_and_mail(kind, email, now)])

    def _wrong_code(self, kind, email):
        """The login record and the pending code read together, then the wrong
        try counted on the code (if there is none, the condition fails: the
        functions take that as nothing to count)."""
        self._read([schema.login_key(email), schema.code_key(kind, email)])
        try:
            self.client.update_item(
                TableName=self.users, Key=schema.code_key(kind, email),
                UpdateExpression="SET wrong_tries = if_not_exists(wrong_tries, :zero) + :one",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":zero": schema.n(0), ":one": schema.n(1)})
        except self.client.exceptions.ConditionalCheckFailedException:
            pass

    def _forgot_password(self, user_id, session_id, email, ending):
        self._mail_code(schema.RESET_PASSWORD, email)

    def _reset_password(self, user_id, session_id, email, ending):
        self._wrong_code(schema.RESET_PASSWORD, email)

    def _verify_email(self, user_id, session_id, email, ending):
        self._wrong_code(schema.VERIFY_EMAIL, email)

    def _resend_verification(self, user_id, session_id, email, ending):
        self._authenticate(user_id, session_id)
        self._mail_code(schema.VERIFY_EMAIL, email)

    def _refresh(self, user_id, session_id, email, ending):
        key = schema.session_key(user_id, session_id)
        session = self.client.get_item(TableName=self.users, Key=key, ConsistentRead=True)["Item"]
        self.client.update_item(
            TableName=self.users, Key=key,
            UpdateExpression="SET refresh_hash = :new, previous_hash = :old, rotated_at = :now, "
                             "last_used_at = :now",
            ConditionExpression="refresh_hash = :old",
            ExpressionAttributeValues={":new": schema.s(random_id()), ":old": session["refresh_hash"],
                                       ":now": schema.n(int(time.time()))})

    def _sessions(self, user_id, session_id, email, ending):
        self._authenticate(user_id, session_id)
        self.client.query(TableName=self.users, ConsistentRead=True, KeyConditionExpression="pk = :pk",
                          ExpressionAttributeValues={":pk": schema.s(schema.sessions_pk(user_id))})

    def _revoke_session(self, user_id, session_id, email, ending):
        self._authenticate(user_id, session_id)
        self.client.delete_item(TableName=self.users, Key=schema.session_key(user_id, ending),
                                ConditionExpression=LIVE_SESSION,
                                ExpressionAttributeValues={":now": schema.n(int(time.time()))})

    def _password(self, user_id, session_id, email, ending):
        self._authenticate(user_id, session_id)
        account = schema.account_counter(email)
        old = self._begin_attempt(email, [account])
        self._end_other_sessions(user_id, session_id)
        self.client.transact_write_items(TransactItems=[
            {"Update": {"TableName": self.users, "Key": schema.login_key(email),
                        "UpdateExpression": "SET password_hash = :new",
                        "ConditionExpression": "password_hash = :old",
                        "ExpressionAttributeValues": {":new": schema.s(random_id()), ":old": old}}},
            self._clear(account),
        ])
        # The second sweep, for a session a login opened meanwhile.
        self._end_other_sessions(user_id, session_id)
