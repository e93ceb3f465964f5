#!/usr/bin/env python3
"""Writes the seed corpus in fuzz/corpus/<target>/: a few valid and invalid
samples per target. Tokens are signed with the fuzz-only key of fuzz/src/lib.rs
(SECRET); valid ones expire in 2100. Rerun after changing that key or the token
formats: `python3 fuzz/make_seeds.py`."""
import base64, hashlib, hmac, json, os, random

SECRET = b"fuzz-only-key-not-a-secret-0123456789abcdef"
ISSUER = "token-auth"
IAT, EXP = 1700000000, 4102444800  # 2023, 2100
HERE = os.path.dirname(os.path.abspath(__file__))


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims, alg="HS256", key=SECRET):
    header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims).encode())
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}.get(alg)
    body = f"{header}.{payload}"
    signature = b64(hmac.new(key, body.encode(), digest).digest()) if digest else ""
    return f"{body}.{signature}"


def claims(**changes):
    base = {"sub": "user-1", "iat": IAT, "exp": EXP, "jti": "jti-1", "iss": ISSUER, "sid": "session-1"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def refresh(user="user-1", session="session-1", secret="c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXh4"):
    master_tag = hmac.new(SECRET, b"token-auth refresh tag v1", hashlib.sha256).digest()
    body = f"{user}:{session}:{secret}"
    return f"{body}:{b64(hmac.new(master_tag, body.encode(), hashlib.sha256).digest())}"


def write(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


valid = jwt(claims())
bearer = {
    "valid": f"Bearer {valid}",
    "valid-lowercase-scheme": f"bearer {valid}",
    "expired": "Bearer " + jwt(claims(exp=IAT + 60)),
    "issued-in-future": "Bearer " + jwt(claims(iat=EXP - 1)),
    "other-issuer": "Bearer " + jwt(claims(iss="someone-else")),
    "missing-sid": "Bearer " + jwt(claims(sid=None)),
    "alg-none": "Bearer " + jwt(claims(), alg="none"),
    "hs512": "Bearer " + jwt(claims(), alg="HS512"),
    "other-key": "Bearer " + jwt(claims(), key=b"another-key-another-key-another-key!"),
    "basic": "Basic dXNlcjpwYXNzd29yZA==",
    "scheme-only": "Bearer ",
    "two-tokens": "Bearer a.b.c d.e.f",
    "garbage": "Bearer a.b.c",
    "non-ascii": "Bearer \u00e9t\u00e9".encode("latin-1"),
}
for name, data in bearer.items():
    write("bearer_verify", name, data)

# Zeros pick every enum's first, well-formed choice: a valid token.
write("jwt_structured", "valid-zeros", bytes(64))
rng = random.Random(7)
for i in range(3):
    write("jwt_structured", f"random-{i}", bytes(rng.randrange(256) for _ in range(96)))

token = refresh()
bodies = {
    "register": {"email": "Joe@Example.com ", "password": "correct horse battery"},
    "login-device": {"email": "joe@example.com", "password": "correct horse battery", "device": " laptop\u0007 "},
    "refresh": {"refresh_token": token},
    "refresh-forged": {"refresh_token": token[:-2] + "AA"},
    "refresh-number": {"refresh_token": 5},
    "missing-password": {"email": "joe@example.com"},
    "email-number": {"email": 5, "password": "correct horse battery"},
    "short-password": {"email": "joe@example.com", "password": "short"},
    "nul-password": {"email": "joe@example.com", "password": "abcdefgh\u0000ijk"},
    "bad-email": {"email": "joe@@example..com", "password": "correct horse battery"},
    "device-object": {"email": "joe@example.com", "password": "correct horse battery", "device": {}},
    # Found by the fuzzer: cut at 100 characters, a device name ended in a space.
    "device-cut-at-space": {"email": "joe@example.com", "password": "correct horse battery",
                            "device": "d" * 99 + "   x"},
}
for name, body in bodies.items():
    write("request_body", name + ".json", json.dumps(body))
write("request_body", "duplicate-field.json", '{"email": "a@b.co", "email": "c@d.co", "password": "correct horse battery"}')
write("request_body", "array.json", '["joe@example.com", "correct horse battery"]')
write("request_body", "truncated.json", '{"email": "joe@example.com", "pass')
write("request_body", "empty", "")

write("refresh_parse", "valid", token)
write("refresh_parse", "forged-tag", token[:-2] + "AA")
write("refresh_parse", "colon-in-id", refresh(user="user:1"))
write("refresh_parse", "four-parts", "a:b:c:d:" + token.rsplit(":", 1)[1])
write("refresh_parse", "access-token", valid)
write("refresh_parse", "empty", "")
