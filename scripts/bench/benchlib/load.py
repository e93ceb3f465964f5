"""4. HTTP load on status through cargo lambda watch's router, next to
bench-hello behind the same router."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from rie import free_port

from .settings import HELLO, LOAD_CONNECTIONS, LOAD_INSTANCES, LOAD_SECONDS, TOOLS
from .stats import ms

TITLE = "HTTP load"
NOTE = f"""\
- 4: wrk against `cargo lambda watch --only-lambda-apis`: its router (the
  Cargo.toml routes) feeding {LOAD_INSTANCES} release status bootstraps (make run's
  default concurrency), not the debug builds `watch` would compile; hello through
  its function-URL route the same way. Client and server share the machine's CPUs."""


def measure(calls, floors):
    """wrk at LOAD_CONNECTIONS on GET /auth/status, served by LOAD_INSTANCES
    release status bootstraps; then the same on bench-hello (its function-URL
    route). None without wrk."""
    if not shutil.which("wrk"):
        return None
    port = free_port()
    log = open(f".tools/bench-watch-{port}.log", "w")
    watch = subprocess.Popen(
        ["cargo", "lambda", "watch", "--only-lambda-apis", "--invoke-address", "127.0.0.1",
         "--invoke-port", str(port)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    instances = []
    try:
        # A bootstrap whose first poll finds no runtime API exits: wait for the port.
        wait_for_port(port)
        for function in ["status"] * LOAD_INSTANCES + [HELLO] * LOAD_INSTANCES:
            env = dict(os.environ, AWS_LAMBDA_FUNCTION_NAME=function, AWS_LAMBDA_FUNCTION_VERSION="1",
                       AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
                       AWS_LAMBDA_RUNTIME_API=f"http://127.0.0.1:{port}/.rt/{function}")
            instances.append(subprocess.Popen(
                [os.path.join(TOOLS, function, "bootstrap")], env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/auth/status", 401)
        wait_for(f"{base}/lambda-url/{HELLO}/", 200)
        status = wrk(f"{base}/auth/status", {"Authorization": f"Bearer {calls.main.token}"})
        hello = wrk(f"{base}/lambda-url/{HELLO}/", {})
        return status, hello
    finally:
        for process in instances + [watch]:
            stop(process)
        log.close()


def wait_for_port(port):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"bench: cargo lambda watch did not open port {port} within 30 s")


def wait_for(url, code):
    """Until url answers code; the router may take a moment to bind."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                got = response.status
        except urllib.error.HTTPError as error:
            got = error.code
        except OSError:
            got = None
        if got == code:
            return
        time.sleep(0.2)
    sys.exit(f"bench: {url} did not answer {code} within 30 s")


def wrk(url, headers):
    """Requests/s, p50 and p99 (ms) and non-2xx count from one bounded wrk run."""
    command = ["wrk", "-t", "2", "-c", str(LOAD_CONNECTIONS), "-d", f"{LOAD_SECONDS}s",
               "--timeout", "5s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command + [url], check=True, capture_output=True, text=True,
                            timeout=LOAD_SECONDS + 30).stdout
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def latency(p):
        value, suffix = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)$", output, re.M).groups()
        return float(value) * unit[suffix]

    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: .*", output)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "p50": latency(50), "p99": latency(99),
            "non2xx": int(failed.group(1)) if failed else 0,
            "errors": errors.group(0) if errors else ""}


def stop(process):
    try:
        os.killpg(process.pid, 15)  # started in a session of its own
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)


def rows(table, results):
    if not results["load"]:
        table.row("4 load", "status under load", "skipped: wrk is not installed", "", "", "")
        return
    status, hello = results["load"]
    table.row("4 load", f"status via router, c{LOAD_CONNECTIONS}, {LOAD_SECONDS} s: req/s, p50 / p99",
              f"{status['rps']:.0f} req/s, {ms(status['p50'])} / {ms(status['p99'])}"
              + (f", {status['non2xx']} non-2xx" if status["non2xx"] else ""),
              f"hello {hello['rps']:.0f} req/s, {ms(hello['p50'])} / {ms(hello['p99'])}",
              f"{status['rps'] / hello['rps']:.2f}× throughput", "")
