#!/usr/bin/env python3
"""The service's own metrics, counted from its functions' logs as CloudWatch
would: every line that is an embedded-metric-format (EMF) document
(shared/auth/src/metrics.rs writes them) is checked against the format's
rules and its counts summed, per metric name.

    scripts/local/metrics.py LOG...   (make metrics reads make run's log)

Also imported by tests/metrics/scenario.py, which checks the sums of a
scenario it drives."""

import collections
import json
import sys

# The units CloudWatch accepts (the EMF specification's list), of which we use Count.
UNITS = {"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
         "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
         "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
         "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
         "Gigabits/Second", "Terabits/Second", "Count/Second", "None"}


def documents(lines):
    """Every EMF document among `lines`: a whole line that is a JSON object
    with an `_aws` member (the log's other lines are tracing's)."""
    for line in lines:
        line = line.strip()
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            yield document


def check(document):
    """Raises ValueError naming the first rule of the EMF specification the
    document breaks."""
    aws = document["_aws"]
    if not isinstance(aws, dict) or not isinstance(aws.get("Timestamp"), int):
        raise ValueError("_aws.Timestamp must be an integer (epoch milliseconds)")
    directives = aws.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        raise ValueError("_aws.CloudWatchMetrics must be a non-empty array")
    for directive in directives:
        namespace = directive.get("Namespace")
        if not isinstance(namespace, str) or not 1 <= len(namespace) <= 1024:
            raise ValueError("a Namespace must be a string of 1 to 1024 characters")
        for dimension_set in directive.get("Dimensions", []):
            if not isinstance(dimension_set, list) or len(dimension_set) > 30:
                raise ValueError("a dimension set must be an array of at most 30 keys")
            for key in dimension_set:
                if not isinstance(document.get(key), str):
                    raise ValueError(f"dimension {key!r} must be a string member of the root")
        metrics = directive.get("Metrics")
        if not isinstance(metrics, list) or not 1 <= len(metrics) <= 100:
            raise ValueError("Metrics must be an array of 1 to 100 definitions")
        for metric in metrics:
            name = metric.get("Name")
            if not isinstance(name, str) or not 1 <= len(name) <= 1024:
                raise ValueError("a metric's Name must be a string of 1 to 1024 characters")
            if metric.get("Unit", "None") not in UNITS:
                raise ValueError(f"{name}: unknown unit {metric.get('Unit')!r}")
            value = document.get(name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number on the root")


def counts(lines):
    """The sum of each metric over the EMF documents of `lines`, each checked."""
    totals = collections.Counter()
    for document in documents(lines):
        check(document)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                totals[metric["Name"]] += document[metric["Name"]]
    return totals


def main(paths):
    lines = []
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as log:
                lines.extend(log)
        except FileNotFoundError:
            print(f"metrics: no log at {path} (is make run going?)", file=sys.stderr)
            return 1
    totals = counts(lines)
    if not totals:
        print("metrics: nothing counted yet")
    for name, count in sorted(totals.items()):
        print(f"{name:<24} {count:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
