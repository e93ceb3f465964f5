"""Runs the README's "Try it" tour against a running API and compares each
answer with the one the README prints: the same fields at every level, and
the same `status` and `message`; values the README elides (`…`) or that
differ by run (tokens, ids, dates) are not compared.

Usage: readme-tour.py API_URL [README.md]
The tour's commands are run as written, with http://127.0.0.1:9000 replaced by
API_URL and the example address by a fresh one (the tour registers it).
"""

import json
import re
import subprocess
import sys
import tempfile
import uuid

COMPARED = ("status", "message", "admin", "email_verified", "expires_in")


def tour(readme):
    """The shell block under "## Try it": (command, printed answer or None) in order."""
    text = open(readme, encoding="utf-8").read()
    section = text.split("## Try it", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    steps, command = [], []
    for line in block.splitlines():
        if line.startswith("# {"):
            steps.append(("\n".join(command), json.loads(line[2:])))
            command = []
        elif line.strip():
            command.append(line)
        elif command:
            steps.append(("\n".join(command), None))
            command = []
    if command:
        steps.append(("\n".join(command), None))
    return steps


def shape_differences(printed, got, path="$"):
    """Where `got` differs from `printed` in its fields or compared values."""
    if isinstance(printed, dict):
        if not isinstance(got, dict):
            return [f"{path}: an object in the README, {got!r} here"]
        differences = []
        if set(printed) != set(got):
            differences.append(f"{path}: fields {sorted(printed)} in the README, {sorted(got)} here")
        for key in set(printed) & set(got):
            differences += shape_differences(printed[key], got[key], f"{path}.{key}")
        return differences
    key = path.rsplit(".", 1)[-1]
    if key in COMPARED and printed != got and "…" not in str(printed):
        return [f"{path}: {printed!r} in the README, {got!r} here"]
    return []


def main():
    api_url = sys.argv[1].rstrip("/")
    readme = sys.argv[2] if len(sys.argv) > 2 else "README.md"
    email = f"tour-{uuid.uuid4().hex[:12]}@example.com"
    steps = tour(readme)
    assert steps, "no tour found in the README"
    # The whole tour in one shell, as a newcomer pastes it; each printed
    # answer's command writes to a file of its own.
    with tempfile.TemporaryDirectory() as answers:
        script = ["set -euo pipefail"]
        for number, (command, printed) in enumerate(steps, 1):
            command = command.replace("http://127.0.0.1:9000", api_url).replace("joe@example.com", email)
            script.append(f"{{ {command}\n}} >{answers}/{number}" if printed is not None else command)
        run = subprocess.run(["bash", "-c", "\n".join(script)], capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            print(f"readme-tour: the tour failed (exit {run.returncode}): {run.stderr.strip()}")
            return 1
        passed = failed = 0
        for number, (_, printed) in enumerate(steps, 1):
            if printed is None:
                continue
            text = open(f"{answers}/{number}", encoding="utf-8").read()
            try:
                differences = shape_differences(printed, json.loads(text))
            except json.JSONDecodeError:
                differences = [f"not JSON: {text[:200]!r}"]
            for difference in differences:
                print(f"readme-tour: answer {number}: {difference}")
            failed += bool(differences)
            passed += not differences
    print(f"readme-tour: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
