"""rie.Emulator, the Lambda emulator of make invoke and make test, plus what
the bench reads from it: Lambda's report lines per invoke, the bootstrap
process and its peak RSS."""

import os
import platform
import re
import sys
import time

from rie import Emulator

from .settings import AUTHORIZER, FUNCTIONS, HELLO, PARTIAL, TOOLS, baseline


class BenchEmulator(Emulator):
    """An emulator of this build's bootstrap, or `of_baseline`, of the
    baseline build's (settings.baseline), or of `bootstrap` in `function`'s
    place (bench/ledger as status)."""

    def __init__(self, function, env=None, of_baseline=False, bootstrap=None):
        super().__init__(function, env=env, bootstrap=bootstrap or (baseline(function) if of_baseline else None))

    def timed_invoke(self, event, expected):
        """(wall ms seen by the client, REPORT Duration ms, response) of one
        invoke. `expected`: an HTTP status code, or for the authorizer, its
        `isAuthorized` (a bool)."""
        before = len(self._reports())
        start = time.perf_counter()
        response = self.invoke(event)
        wall = (time.perf_counter() - start) * 1000
        answer = response.get("isAuthorized" if isinstance(expected, bool) else "statusCode")
        if answer != expected:
            sys.exit(f"bench: {self.function} answered {answer} "
                     f"(expected {expected}): {response.get('body')}")
        # The REPORT line follows the response; wait for it, briefly.
        deadline = time.monotonic() + 2
        while len(self._reports()) == before and time.monotonic() < deadline:
            time.sleep(0.001)
        reports = self._reports()
        if len(reports) == before:
            sys.exit(f"bench: no REPORT line from the emulator for {self.function}")
        duration = float(re.search(r"\tDuration: ([\d.]+) ms", reports[-1]).group(1))
        return wall, duration, response

    def _reports(self):
        return [line for line in list(self.lines) if line.startswith("REPORT")]

    def init_ms(self):
        for line in list(self.lines):
            found = re.search(r"INIT REPORT\(durationMs: ([\d.]+)\)", line)
            if found:
                return float(found.group(1))
        sys.exit(f"bench: no INIT REPORT line for {self.function}")

    def first_invoke_ms(self, report_ms):
        """The invoke phase of the first invoke, whose REPORT Duration
        (`report_ms`) includes the init: Lambda reports the two apart."""
        return max(report_ms - self.init_ms(), 0.0)

    def bootstrap_pid(self):
        """The emulator's child process: the function's bootstrap."""
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        # Fields after the parenthesised command name; ppid is the second.
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.process.pid:
                    return int(entry)
        return None

    def peak_rss_mb(self):
        pid = self.bootstrap_pid()
        if pid is None:
            return None
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return None


def check_bootstraps():
    """A concurrent `--arm64` or `sam build` may have left foreign binaries."""
    wanted = {"x86_64": 0x3E, "aarch64": 0xB7}.get(platform.machine())
    for function in [*FUNCTIONS, AUTHORIZER, HELLO, "bench-dynamo-floor", "bench-bcrypt-verify",
                     "bench-rs256", "bench-ledger"]:
        path = os.path.join(TOOLS, function, "bootstrap")
        if PARTIAL and not os.path.exists(path):
            continue  # a partial run builds what it runs; a missing one fails when used
        with open(path, "rb") as f:
            machine_code = int.from_bytes(f.read(20)[18:20], "little")
        if wanted is not None and machine_code != wanted:
            sys.exit(f"bench: {path} is not built for {platform.machine()}; rerun cargo lambda build --release")
