"""What the bench writes to DynamoDB itself, as setup (never timed): sessions
to end, users for the storage floors, addresses for forgot and pending codes."""

import base64
import functools
import os
import secrets
import time
import uuid

import boto3

from . import schema


def random_id():
    """An id of the shape the service issues for sessions and tokens: 16
    random bytes, URL-safe base64 (it refuses any other shape)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


def code_hash():
    """A value of the shape of a stored code's keyed hash (HMAC-SHA256,
    URL-safe base64), of no code: the boto3 floor cannot compute the
    functions' key, and a made-up code never matches it."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


@functools.cache
def client():
    return boto3.client("dynamodb", region_name=os.environ["AWS_REGION"],
                        endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"])


def put(item):
    client().put_item(TableName=os.environ["USERS_TABLE"], Item=item)


def open_session(user_id, ttl=3600):
    """A session as login writes it (another device's, say); its id."""
    session_id = random_id()
    put(schema.session_item(user_id, session_id, int(time.time()), ttl, random_id()))
    return session_id


def floor_user():
    """A user with a login record and one session, written directly (its hash
    is no bcrypt hash: the floors never verify it). Floors that overwrite
    hashes get one of their own, so the functions' users stay usable.
    (user id, session id, email)."""
    user_id = str(uuid.uuid4())
    email = f"floor-{user_id}@example.com"
    put(schema.profile_item(user_id, email))
    put(schema.login_item(email, user_id, "not-a-bcrypt-hash"))
    return user_id, open_session(user_id), email


def login_record(email):
    """An address with an account, as far as forgot-password looks (it checks
    that the login record exists, nothing else)."""
    put(schema.login_item(email, str(uuid.uuid4()), "not-a-bcrypt-hash"))


def pending_code(email, kind):
    """A pending code of `kind` for `email`, as forgot or register stores it,
    of a code nobody knows: every code sent back for it is wrong."""
    put(schema.code_item(kind, email, code_hash(), int(time.time())))
