"""The users and revoked-tokens tables' keys and items, as the functions write
them: the one Python module where a key prefix is spelled. The layout is
documented, and owned, by shared/auth/src/store/dynamo/schema.rs; the counter
keys by shared/auth/src/throttle (account_counter, source_counter,
registration_counter, mail_counters); the outbox item by outbox.rs."""

USER_PREFIX = "USER#"
EMAIL_PREFIX = "EMAIL#"
SESSION_PREFIX = "SESSION#"
FAILED_PREFIX = "FAILED#"
CODE_PREFIX = "CODE#"
MFA_PREFIX = "MFA#"
PROFILE = "PROFILE"
LOGIN = "LOGIN"


def s(value):
    return {"S": str(value)}


def n(value):
    return {"N": str(value)}


def key(pk, sk):
    return {"pk": s(pk), "sk": s(sk)}


def second_factor_key(user_id):
    """The TOTP factor's item of a user (MFA#<user id> / TOTP)."""
    return key(f"{MFA_PREFIX}{user_id}", "TOTP")


def user_pk(user_id):
    return f"{USER_PREFIX}{user_id}"


def profile_key(user_id):
    return key(user_pk(user_id), PROFILE)


def login_key(email):
    return key(f"{EMAIL_PREFIX}{email}", LOGIN)


def sessions_pk(user_id):
    """The partition of a user's sessions."""
    return f"{SESSION_PREFIX}{user_id}"


def session_key(user_id, session_id):
    return key(sessions_pk(user_id), session_id)


def account_counter(email):
    return f"account:{email}"


def source_counter(ipv4):
    return f"source:{ipv4}"


def registration_counter(ipv4, now):
    """The address's registrations in the current hour; its window's end."""
    hour = now // 3600
    return f"register:{source_counter(ipv4)}:{hour}", (hour + 1) * 3600


def hourly(counter, now):
    """A counter of the current hour (its key names the hour); the hour's end."""
    hour = now // 3600
    return f"{counter}:{hour}", (hour + 1) * 3600


def mail_counters(email, ipv4, now):
    """The hourly counters a code mail is counted on (the address's, the
    source's), each with its window's end."""
    return [hourly(f"mail:email:{email}", now), hourly(f"mail:{source_counter(ipv4)}", now)]


def failures_key(counter):
    return key(f"{FAILED_PREFIX}{counter}", LOGIN)


# The kinds of one-time code (outbox.rs's MailKind) and how long each lives
# (codes.rs).
VERIFY_EMAIL, RESET_PASSWORD = "verify_email", "reset_password"
CODE_LIFETIME = {VERIFY_EMAIL: 24 * 3600, RESET_PASSWORD: 15 * 60}


def code_key(kind, email):
    return key(f"{CODE_PREFIX}{email}", kind)


def code_item(kind, email, code_hash, now):
    """An address's pending code of `kind`, as issued (no wrong try yet)."""
    return {**code_key(kind, email), "code_hash": s(code_hash), "wrong_tries": n(0),
            "expires_at": n(now + CODE_LIFETIME[kind])}


def outbox_item(mail_id, kind, to, code, now):
    """The outbox table's item of a code mail (partition key `id`)."""
    return {"id": s(mail_id), "kind": s(kind), "to": s(to), "code": s(code),
            "created_at": n(now), "expires_at": n(now + CODE_LIFETIME[kind])}


def revoked_key(jti):
    return {"jti": s(jti)}


def profile_item(user_id, email):
    return {**profile_key(user_id), "user_id": s(user_id), "email": s(email),
            "admin": {"BOOL": False}, "registered_on": s("2026-01-01T00:00:00Z")}


def login_item(email, user_id, password_hash):
    return {**login_key(email), "user_id": s(user_id), "password_hash": s(password_hash)}


def session_item(user_id, session_id, now, ttl, refresh_hash):
    return {**session_key(user_id, session_id), "user_id": s(user_id),
            "session_id": s(session_id), "device": s("bench"), "created_at": n(now),
            "last_used_at": n(now), "expires_at": n(now + ttl), "rotated_at": n(now),
            "refresh_hash": s(refresh_hash)}


def revoked_item(jti, expires_at):
    return {**revoked_key(jti), "expires_at": n(expires_at)}
