"""8. What reading the keys from Secrets Manager adds to a cold start: INIT of
status with AUTH_SECRET_ID (the deployed path) next to INIT of status with the
keys in its environment, run after run."""

import collections
import json
import os
import time

import boto3

from .emulator import BenchEmulator
from .floors import run_tool
from .settings import COLD_RUNS
from .stats import median, ms, ratio

TITLE = "keys from Secrets Manager"
NOTE = f"""\
- 8: each of {COLD_RUNS} runs starts status twice under a fresh emulator: keys
  from a secret (AUTH_SECRET_ID) holding this run's SIGNING_KEYS and
  REFRESH_TOKEN_SECRET, then keys from the environment; then a bare SDK
  client's first GetSecretValue of it, connection included (bench/dynamo-floor
  `secret`, a process each): the round trip the read cannot avoid. The target
  (issue 29): INIT with the secret within INIT with the keys in the
  environment plus that round trip. The secret is served
  by moto on loopback (scripts/local/secrets-manager-local.sh): a floor, not AWS's
  latency; deployed, the init adds a TLS handshake and a round trip to the
  region's Secrets Manager endpoint."""


def create_secret():
    """A secret of this run's keys (the same ones the environment carries, so
    both starts parse the same key set); its name."""
    name = f"bench-auth-{os.getpid()}-{time.time_ns()}"
    value = {"signing_keys": json.loads(os.environ["SIGNING_KEYS"]),
             "refresh_token_secret": os.environ["REFRESH_TOKEN_SECRET"]}
    # boto3 reaches moto through AWS_ENDPOINT_URL_SECRETS_MANAGER (bench.sh).
    client = boto3.client("secretsmanager", region_name=os.environ["AWS_REGION"])
    client.create_secret(Name=name, SecretString=json.dumps(value))
    return name


def measure(calls, floors):
    """INIT (ms) per run and source, or None without a local Secrets Manager."""
    if not os.environ.get("AWS_ENDPOINT_URL_SECRETS_MANAGER"):
        return None
    secret = create_secret()
    init = collections.defaultdict(list)
    for _ in range(COLD_RUNS):
        for source, env in (("secret", {"AUTH_SECRET_ID": secret}), ("environment", {})):
            emulator = BenchEmulator("status", env=env)
            try:
                # A full status call, so that a secret the function could not
                # use (a 401, or a failed init) stops the bench.
                calls.invoke(emulator, "status")
                init[source].append(emulator.init_ms())
            finally:
                emulator.close()
        init["floor"].append(run_tool("bench-dynamo-floor", "secret", 1, secret)[0])
    return init


def rows(table, results):
    init = results["secrets"]
    if init is None:
        table.row("8 secrets", "status: INIT, keys from Secrets Manager",
                  "skipped: no AWS_ENDPOINT_URL_SECRETS_MANAGER", "", "", "")
        return
    secret, env = median(init["secret"]), median(init["environment"])
    floor = median(init["floor"])
    table.row("8 secrets", "status: INIT median / max, keys from Secrets Manager (moto, loopback)",
              f"{ms(secret)} / {ms(max(init['secret']))}",
              f"keys in the environment {ms(env)} / {ms(max(init['environment']))}",
              f"{ratio(secret, env)} (+{ms(secret - env)})", "")
    table.row("8 secrets", "status: INIT with the secret, against the environment's + one read",
              ms(secret), f"{ms(env)} + a bare client's first read {ms(floor)} = {ms(env + floor)}",
              f"{ratio(secret, env + floor)} ({'+' if secret >= env + floor else ''}{ms(secret - env - floor)})",
              "target: ≤ 1.00")
