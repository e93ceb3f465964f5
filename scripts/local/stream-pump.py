"""LOCAL USE ONLY: a stand-in for Lambda's event source mapping, from the outbox
table's stream in DynamoDB Local to the `mailer` function under `cargo lambda
watch`. Deployed, Lambda itself does this (MailerOutboxStream in template.yaml);
nothing here ships.

It reads the stream (the `dynamodbstreams` API of DynamoDB Local, at
AWS_ENDPOINT_URL_DYNAMODB), keeps the INSERT records (the template's
FilterCriteria), adds each record's `eventSourceARN` as Lambda does, and
invokes the mailer with the DynamoDB event Lambda would send:
{"Records": [...]}, up to --batch-size records a batch.

Failures are handled the way the template configures Lambda's
(ReportBatchItemFailures with BisectBatchOnFunctionError):
- the mailer answers {"batchItemFailures": [{"itemIdentifier": SEQ}, ...]}: the
  records before the lowest SEQ are done; the rest is retried from there;
- an invocation that fails (a function error) retries the whole batch;
- a mailer that cannot be reached at all is waited for, not counted (Lambda
  too retries a failed invoke until the record is too old);
- after --max-retries retries (backoff from --backoff seconds, doubling), the
  first failing record alone is given up on (Lambda would have bisected down to
  it): one line, the shape of Lambda's on-failure record for a stream
  (`DDBStreamBatchInfo`: shard, sequence numbers, no mail), is appended to the
  dead-letter file (MAIL_DEAD_LETTER_FILE), the local stand-in for the
  template's MailDeadLetterQueue; the pump carries on with the records after
  it.

It never skips a record. Its position in each shard is a sequence number:
after the last record it read, which it then hands over before reading on.
Whenever an iterator must be taken again (DynamoDB Local says "trimmed" of an
idle one, iterators expire), it is taken AFTER_SEQUENCE_NUMBER of that
position, or at TRIM_HORIZON for a shard it has read nothing of: never at
LATEST, which would pass over what was written in between. A LATEST start is
itself a position: the records already in the shard are read and passed over
before "ready".

Usage: stream-pump.py --invoke-url URL [--table OutboxTable]
                      [--starting-position LATEST|TRIM_HORIZON]
Settings also from the environment: PUMP_MAX_RETRIES (5, the template's
MaximumRetryAttempts), PUMP_BACKOFF_SECONDS (1), PUMP_BATCH_SIZE (10);
PUMP_RETAKE_EVERY_POLLS (0, never) takes every iterator again after that many
polls, for the test that no re-take skips a record.
Prints "stream-pump: ready" once the mailer has answered an empty batch (the
first call through cargo lambda watch compiles it).
"""

import argparse
import base64
import datetime
import json
import os
import sys
import time

import boto3
import botocore.exceptions

from batch_function import Function

POLL_SECONDS = 0.2
SHARDS_EVERY_SECONDS = 5


def log(message):
    print(f"stream-pump: {message}", file=sys.stderr, flush=True)


def jsonable(value):
    """A stream record from boto3 as Lambda's JSON: dates as epoch seconds,
    binary attributes as base64."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return value


class DeadLetters:
    """The local stand-in for MailDeadLetterQueue: one JSON line per record given up on."""

    def __init__(self, path, stream_arn):
        self.path = path
        self.stream_arn = stream_arn

    def write(self, shard_id, record, attempts, condition):
        arrival = record["dynamodb"].get("ApproximateCreationDateTime")
        arrival = (datetime.datetime.fromtimestamp(arrival, datetime.timezone.utc).isoformat()
                   if isinstance(arrival, (int, float)) else None)
        sequence = record["dynamodb"]["SequenceNumber"]
        entry = {
            "requestContext": {
                "requestId": record.get("eventID"),
                "functionArn": "arn:aws:lambda:local:000000000000:function:mailer",
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": None},
            "version": "1.0",
            "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": sequence,
                "endSequenceNumber": sequence,
                "approximateArrivalOfFirstRecord": arrival,
                "approximateArrivalOfLastRecord": arrival,
                "batchSize": 1,
                "streamArn": self.stream_arn,
            },
        }
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        log(f"gave up on record {sequence} after {attempts} invocations ({condition}): "
            f"written to {self.path}")


def deliver(mailer, dead_letters, shard_id, batch, max_retries, backoff):
    """Delivers one batch, retrying and giving up as Lambda would (see above)."""
    pending = list(batch)
    retries = 0
    while pending:
        outcome, detail = mailer.invoke(pending)
        if outcome == "unreachable":
            log(f"the mailer is unreachable ({detail}); waiting")
            time.sleep(1)
            continue
        if outcome == "ok":
            if not detail:
                return
            failed = set(detail)
            first = next((i for i, r in enumerate(pending) if r["dynamodb"]["SequenceNumber"] in failed), None)
            if first is None:
                # Identifiers not in the batch: Lambda reads that as a complete failure.
                outcome, detail = "error", "failures naming records not in the batch"
            else:
                if first > 0:
                    retries = 0  # progress: the head is a new record
                pending = pending[first:]
                why = "the mailer reported it failed"
        if outcome == "error":
            why = detail
        if retries >= max_retries:
            dead_letters.write(shard_id, pending[0], retries + 1, "RetryAttemptsExhausted")
            pending = pending[1:]
            retries = 0
            continue
        delay = backoff * (2 ** retries)
        retries += 1
        log(f"{len(pending)} record(s) from {pending[0]['dynamodb']['SequenceNumber']} to retry "
            f"({why}); retry {retries} of {max_retries} in {delay:g} s")
        time.sleep(delay)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoke-url", required=True)
    parser.add_argument("--table", default=os.environ.get("OUTBOX_TABLE", "OutboxTable"))
    parser.add_argument("--starting-position", default="LATEST", choices=["LATEST", "TRIM_HORIZON"])
    args = parser.parse_args()
    max_retries = int(os.environ.get("PUMP_MAX_RETRIES", "5"))
    backoff = float(os.environ.get("PUMP_BACKOFF_SECONDS", "1"))
    batch_size = int(os.environ.get("PUMP_BATCH_SIZE", "10"))
    dead_letter_file = os.environ.get("MAIL_DEAD_LETTER_FILE", ".tools/mail-dead-letters.jsonl")

    endpoint = os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
    region = os.environ.get("AWS_REGION", "us-east-1")
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name=region)
    stream_arn = dynamodb.describe_table(TableName=args.table)["Table"].get("LatestStreamArn")
    if not stream_arn:
        sys.exit(f"stream-pump: {args.table} has no stream (see scripts/local/create_tables.py)")
    mailer = Function(args.invoke_url)
    dead_letters = DeadLetters(dead_letter_file, stream_arn)

    # Positions first, so that a LATEST start misses nothing written after
    # "ready"; shards that open later are read from their start.
    positions = {}  # shard id -> the last sequence number read (and handed over)
    iterators = {}
    seen = set()

    def take(shard_id):
        """An iterator at the shard's position: after its last record read,
        else at its start."""
        sequence = positions.get(shard_id)
        position = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": sequence}
                    if sequence else {"ShardIteratorType": "TRIM_HORIZON"})
        iterators[shard_id] = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard_id, **position)["ShardIterator"]
        return position["ShardIteratorType"]

    def pass_over(shard_id):
        """A LATEST start as a position: what the shard holds now is read and
        passed over, its last sequence number kept."""
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            answer = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not answer["Records"]:
                break
            positions[shard_id] = answer["Records"][-1]["dynamodb"]["SequenceNumber"]
            iterator = answer.get("NextShardIterator")

    def discover(position):
        for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id in seen:
                continue
            seen.add(shard_id)
            if position == "LATEST":
                pass_over(shard_id)
            take(shard_id)

    discover(args.starting_position)
    while True:
        outcome, detail = mailer.invoke([])
        if outcome == "ok":
            break
        log(f"waiting for the mailer at {args.invoke_url} ({outcome}: {detail})")
        time.sleep(1)
    log(f"ready: {args.table}'s stream to {args.invoke_url}, from {args.starting_position}; "
        f"{max_retries} retries, backoff {backoff:g} s, dead letters in {dead_letter_file}")

    def again(shard_id, why):
        """A new iterator for a shard whose iterator failed, at its position."""
        log(f"shard {shard_id}: {why}; iterator taken again at {take(shard_id)}")

    retake_every = int(os.environ.get("PUMP_RETAKE_EVERY_POLLS", "0"))
    polls = 0
    last_discovery = time.monotonic()
    while True:
        busy = False
        polls += 1
        if retake_every and polls % retake_every == 0:
            for shard_id in [s for s, i in iterators.items() if i is not None]:
                take(shard_id)
        for shard_id in list(iterators):
            iterator = iterators[shard_id]
            if iterator is None:
                continue
            try:
                answer = streams.get_records(ShardIterator=iterator, Limit=batch_size)
            except (streams.exceptions.ExpiredIteratorException,
                    streams.exceptions.TrimmedDataAccessException) as error:
                # DynamoDB Local also says "trimmed" of an idle iterator.
                again(shard_id, error.response["Error"]["Code"])
                continue
            except botocore.exceptions.ClientError as error:
                log(f"shard {shard_id}: {error}; trying again")
                time.sleep(1)
                continue
            iterators[shard_id] = answer.get("NextShardIterator")  # None: the shard is closed
            if answer["Records"]:
                positions[shard_id] = answer["Records"][-1]["dynamodb"]["SequenceNumber"]
            records = [
                dict(jsonable(record), eventSourceARN=stream_arn)
                for record in answer["Records"] if record.get("eventName") == "INSERT"
            ]
            if records:
                busy = True
                deliver(mailer, dead_letters, shard_id, records, max_retries, backoff)
        if time.monotonic() - last_discovery > SHARDS_EVERY_SECONDS:
            discover("TRIM_HORIZON")
            last_discovery = time.monotonic()
        if not busy:
            time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
