"""A function invoked with a batch of records through the Lambda invoke API
(cargo lambda watch's locally), and its answer read as Lambda reads it:
shared by the local pumps (stream-pump.py, queue-pump.py), which stand in for
Lambda's event source mappings."""

import json
import urllib.error
import urllib.request


class Function:
    """The function, through cargo lambda watch's Lambda invoke API."""

    def __init__(self, url):
        self.url = url

    def invoke(self, records):
        """The function's answer: ("ok", failed message ids), or ("error",
        why) for a function error, or ("unreachable", why)."""
        request = urllib.request.Request(
            self.url, data=json.dumps({"Records": records}).encode(), method="POST",
            headers={"content-type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                body = json.load(response)
        except urllib.error.HTTPError as error:
            return "error", f"HTTP {error.code}"
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            return "unreachable", str(error)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return "error", "an answer that is not JSON"
        if not isinstance(body, dict):
            # Lambda reads an answer it cannot parse as failing the whole batch.
            return "error", f"an answer that is not an object: {type(body).__name__}"
        if "errorType" in body or "errorMessage" in body:
            return "error", f"function error {body.get('errorType')}"
        failures = body.get("batchItemFailures") or []
        if not isinstance(failures, list):
            return "error", "batchItemFailures that is not a list"
        ids = [failure.get("itemIdentifier") if isinstance(failure, dict) else None for failure in failures]
        if any(not isinstance(message_id, str) or not message_id for message_id in ids):
            # Lambda reads an empty or missing identifier as the whole batch failing.
            return "error", "a batch item failure without an identifier"
        return "ok", ids
