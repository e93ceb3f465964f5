"""LOCAL USE ONLY: a stand-in for Lambda's SQS event source mapping, from a
queue in moto's SQS to a function under `cargo lambda watch`. Deployed, Lambda
itself does this (the queue's event source mapping in template.yaml, with
ReportBatchItemFailures); nothing here ships.

It long-polls the queue (moto's server, at AWS_ENDPOINT_URL_SQS), up to
--batch-size messages a receive, and invokes the function with the SQS event
Lambda would send: {"Records": [{"messageId", "receiptHandle", "body",
"attributes", "messageAttributes", "md5OfBody", "eventSource": "aws:sqs",
"eventSourceARN", "awsRegion"}, ...]}, the attributes as strings, as SQS gives
them (for a FIFO queue with SequenceNumber, MessageGroupId and
MessageDeduplicationId).

The function's answer is read the way Lambda reads it with
ReportBatchItemFailures:
- {"batchItemFailures": [{"itemIdentifier": MESSAGE_ID}, ...]}: every message
  of the batch not listed is deleted; the listed ones are left alone (the
  function has set their visibility timeout itself: they come back when it
  ends);
- a function error (an HTTP error status, a body with errorType or
  errorMessage, a body that is not JSON) or an identifier that is not in the
  batch: nothing is deleted, the whole batch comes back after its visibility
  timeout;
- a function that cannot be reached at all is waited for (1 s) and invoked
  again with the same batch, not counted.
Dead-lettering is the queue's redrive policy's (maxReceiveCount), as deployed:
nothing here counts receives.

Usage: queue-pump.py --queue-url URL --invoke-url URL [--batch-size 10]
The region is AWS_REGION (us-east-1). Prints "queue-pump: ready" once the
function has answered an empty batch (the first call through cargo lambda
watch compiles it).
"""

import argparse
import base64
import os
import sys
import time

import boto3
import botocore.exceptions

from batch_function import Function


def log(message):
    print(f"queue-pump: {message}", file=sys.stderr, flush=True)


def message_attribute(value):
    """One message attribute as Lambda writes it in the event (camelCase,
    binary values in base64)."""
    def b64(data):
        return base64.b64encode(data).decode()

    shaped = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [b64(item) for item in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shaped["binaryValue"] = b64(value["BinaryValue"])
    return shaped


def record(message, queue_arn, region):
    """One message as a record of Lambda's SQS event."""
    shaped = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        shaped["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return shaped


def delete(sqs, queue_url, messages):
    """Deletes the messages (delete_message_batch takes up to 10 at a time)."""
    for start in range(0, len(messages), 10):
        chunk = messages[start:start + 10]
        try:
            answer = sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
                {"Id": str(n), "ReceiptHandle": message["ReceiptHandle"]} for n, message in enumerate(chunk)
            ])
        except (botocore.exceptions.ClientError, botocore.exceptions.EndpointConnectionError) as error:
            # As a failed delete in Lambda: they come back after their visibility timeout.
            log(f"could not delete {len(chunk)} message(s): {error}")
            continue
        for failed in answer.get("Failed", []):
            message_id = chunk[int(failed["Id"])]["MessageId"]
            log(f"could not delete message {message_id}: {failed.get('Code')} {failed.get('Message')}")


def deliver(sqs, queue_url, function, messages, records):
    """Invokes the function with one batch and deletes what it handled."""
    while True:
        outcome, detail = function.invoke(records)
        if outcome != "unreachable":
            break
        log(f"the function is unreachable ({detail}); waiting")
        time.sleep(1)
    if outcome == "ok":
        failed = set(detail)
        in_batch = {message["MessageId"] for message in messages}
        if failed - in_batch:
            # Lambda reads that as the whole batch failing.
            outcome, detail = "error", "failures naming messages not in the batch"
    if outcome == "error":
        log(f"{len(messages)} message(s) left for their visibility timeout ({detail})")
        return
    done = [message for message in messages if message["MessageId"] not in failed]
    if done:
        delete(sqs, queue_url, done)
    if failed:
        log(f"{len(failed)} of {len(messages)} message(s) reported failed: left for their visibility timeout")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queue-url", required=True)
    parser.add_argument("--invoke-url", required=True)
    parser.add_argument("--batch-size", type=int, default=10, choices=range(1, 11), metavar="1..10")
    args = parser.parse_args()

    region = os.environ.get("AWS_REGION", "us-east-1")
    endpoint = os.environ.get("AWS_ENDPOINT_URL_SQS")
    if not endpoint:
        sys.exit("queue-pump: AWS_ENDPOINT_URL_SQS is not set (the local SQS, a moto server)")
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=region)
    queue_arn = sqs.get_queue_attributes(QueueUrl=args.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_name = queue_arn.rsplit(":", 1)[-1]
    function = Function(args.invoke_url)

    while True:
        outcome, detail = function.invoke([])
        if outcome == "ok":
            break
        log(f"waiting for the function at {args.invoke_url} ({outcome}: {detail})")
        time.sleep(1)
    log(f"ready: {queue_name} to {args.invoke_url}, batches of up to {args.batch_size}")

    while True:
        try:
            answer = sqs.receive_message(
                QueueUrl=args.queue_url, MaxNumberOfMessages=args.batch_size, WaitTimeSeconds=1,
                AttributeNames=["All"], MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"],
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.EndpointConnectionError) as error:
            log(f"receiving from {queue_name}: {error}; trying again")
            time.sleep(1)
            continue
        messages = answer.get("Messages", [])
        if messages:
            records = [record(message, queue_arn, region) for message in messages]
            deliver(sqs, args.queue_url, function, messages, records)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
