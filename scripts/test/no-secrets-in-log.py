"""Fails if a secret of the test run shows up in a log.

Usage: python no-secrets-in-log.py SECRETS_FILE LOG...
       python no-secrets-in-log.py --record-mail-codes SES_URL SECRETS_FILE

SECRETS_FILE holds one `kind<TAB>value` a line: what the tests recorded
(tests/support/src/secrets.rs: every password they sent, every token they sent
or received, and the codes of the mails they read), the refresh-token secret
and the signing keys; and the codes of every mail the SES emulator held
(--record-mail-codes, run before the emulator is restarted or stopped: it
keeps its mails in memory). A code (8 digits) counts only as a number of its
own, not inside a longer one (a timestamp). Prints counts only, never a value. An empty or
one-sided secrets file is a failure too, so the check cannot pass for want of
anything to look for.
"""

import json
import re
import sys
import urllib.request
from collections import Counter

REQUIRED_KINDS = ("password", "token", "refresh_token_secret", "signing_key", "code", "totp_secret")
CODE_IN_MAIL = re.compile(r"Your code: (\d{8})(?!\d)")


def record_mail_codes(ses_url, secrets_file):
    """Appends the code of every mail the SES emulator holds to SECRETS_FILE."""
    with urllib.request.urlopen(f"{ses_url}/store", timeout=10) as response:
        store = json.load(response)
    codes = [m.group(1) for mail in store.get("emails", [])
             for m in [CODE_IN_MAIL.search((mail.get("body") or {}).get("text") or "")] if m]
    with open(secrets_file, "a", encoding="utf-8") as f:
        f.writelines(f"code\t{code}\n" for code in codes)
    print(f"no-secrets-in-log: recorded the codes of {len(codes)} of "
          f"{len(store.get('emails', []))} mails", file=sys.stderr)


def appears(kind, value, text, digit_runs):
    """Whether `value` is in `text`; a code only as a whole number (no digit
    either side), which for a code of digits is one of the text's maximal
    runs of digits: a set lookup, not a search of the whole log per code."""
    if kind == "code":
        if value.isdigit():
            return value in digit_runs
        return re.search(rf"(?<!\d){re.escape(value)}(?!\d)", text) is not None
    return value in text


def main():
    if sys.argv[1:2] == ["--record-mail-codes"]:
        return record_mail_codes(sys.argv[2], sys.argv[3])
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

    digit_runs = set(re.findall(r"\d+", text))
    found = Counter(kind for value, kind in secrets.items() if appears(kind, value, text, digit_runs))
    summary = ", ".join(f"{recorded[kind]} {kind}" for kind in sorted(recorded))
    if found:
        leaks = ", ".join(f"{found[kind]} {kind}" for kind in sorted(found))
        sys.exit(f"no-secrets-in-log: FAILED: of {summary} values, {leaks} appear in "
                 f"{' '.join(logs)} ({len(text)} characters)")
    print(f"no-secrets-in-log: none of {summary} values appears in "
          f"{' '.join(logs)} ({len(text)} characters)", file=sys.stderr)


if __name__ == "__main__":
    main()
