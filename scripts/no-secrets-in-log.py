"""Fails if a secret of the test run shows up in a log.

Usage: python no-secrets-in-log.py SECRETS_FILE LOG...

SECRETS_FILE holds one `kind<TAB>value` a line: what the tests recorded
(tests/support/src/secrets.rs: every password they sent, every token they sent
or received), the refresh-token secret and the signing keys. Prints counts only, never a value. An empty or
one-sided secrets file is a failure too, so the check cannot pass for want of
anything to look for.
"""

import sys
from collections import Counter

REQUIRED_KINDS = ("password", "token", "refresh_token_secret", "signing_key")


def main():
    secrets_file, logs = sys.argv[1], sys.argv[2:]
    secrets = {}
    with open(secrets_file, encoding="utf-8") as f:
        for line in f:
            kind, _, value = line.rstrip("\n").partition("\t")
            if value:
                secrets[value] = kind
    recorded = Counter(secrets.values())
    missing = [kind for kind in REQUIRED_KINDS if not recorded[kind]]
    if missing:
        sys.exit(f"no-secrets-in-log: nothing recorded of kind {', '.join(missing)}: "
                 "the check would pass vacuously")

    text = ""
    for log in logs:
        with open(log, encoding="utf-8", errors="replace") as f:
            text += f.read()
    if not text.strip():
        sys.exit("no-secrets-in-log: the logs are empty: the check would pass vacuously")

    found = Counter(kind for value, kind in secrets.items() if value in text)
    summary = ", ".join(f"{recorded[kind]} {kind}" for kind in sorted(recorded))
    if found:
        leaks = ", ".join(f"{found[kind]} {kind}" for kind in sorted(found))
        sys.exit(f"no-secrets-in-log: FAILED: of {summary} values, {leaks} appear in "
                 f"{' '.join(logs)} ({len(text)} characters)")
    print(f"no-secrets-in-log: none of {summary} values appears in "
          f"{' '.join(logs)} ({len(text)} characters)", file=sys.stderr)


if __name__ == "__main__":
    main()
