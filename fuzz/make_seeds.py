#!/usr/bin/env python3
"""Writes the seed corpus in fuzz/corpus/<target>/: a few valid and invalid
samples per target. Access tokens are RS256, signed with the fuzz key set's
current key (fuzz/test-keys/current.pem, kid "fuzz-current"); refresh tokens
use REFRESH_SECRET; both as in fuzz/src/lib.rs. Valid tokens expire in 2100.
Rerun after changing those keys or the token formats; it needs the
`cryptography` package: `.tools/venv/bin/python fuzz/make_seeds.py`."""
import base64, hashlib, hmac, json, os, random

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

HERE = os.path.dirname(os.path.abspath(__file__))
REFRESH_SECRET = b"fuzz-only-refresh-secret-not-a-secret-0123456789"
ISSUER = "https://auth.fuzz.example"
AUDIENCE = "token-auth-fuzz"
KID = "fuzz-current"
IAT, EXP = 1700000000, 4102444800  # 2023, 2100
# Ids of the shapes we issue: a v4 UUID, 16 bytes in unpadded base64url.
USER = "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e"
SID = "AAAAAAAAAAAAAAAAAAAAAA"
JTI = "QUJDREVGR0hJSktMTU5PUA"


def private_key(name):
    with open(os.path.join(HERE, "test-keys", name), "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


CURRENT, OTHER = private_key("current.pem"), private_key("other.pem")
PUBLIC_PEM = CURRENT.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims, alg="RS256", key=CURRENT, **header):
    """`claims` under an `alg` header (plus `header`; a None value drops the
    field), signed by `key`: an RSA key for RS*, bytes for HS*."""
    header = {"alg": alg, "typ": "JWT", "kid": KID, **header}
    header = b64(json.dumps({k: v for k, v in header.items() if v is not None}).encode())
    payload = b64(json.dumps(claims).encode())
    body = f"{header}.{payload}".encode()
    if alg.startswith("RS"):
        digest = {"RS256": hashes.SHA256(), "RS512": hashes.SHA512()}[alg]
        signature = key.sign(body, padding.PKCS1v15(), digest)
    elif alg.startswith("HS"):
        signature = hmac.new(key, body, {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]).digest()
    else:
        signature = b""
    return f"{body.decode()}.{b64(signature)}"


def claims(**changes):
    base = {"sub": USER, "iat": IAT, "exp": EXP, "jti": JTI, "iss": ISSUER, "aud": AUDIENCE, "sid": SID}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def refresh(user=USER, session=SID, secret="c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXh4"):
    master_tag = hmac.new(REFRESH_SECRET, b"token-auth refresh tag v1", hashlib.sha256).digest()
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
    "other-audience": "Bearer " + jwt(claims(aud="another-api")),
    "audience-list": "Bearer " + jwt(claims(aud=[AUDIENCE])),
    "missing-sid": "Bearer " + jwt(claims(sid=None)),
    "sub-not-uuid": "Bearer " + jwt(claims(sub="user-1")),
    "alg-none": "Bearer " + jwt(claims(), alg="none"),
    "rs512": "Bearer " + jwt(claims(), alg="RS512"),
    "kid-unknown": "Bearer " + jwt(claims(), kid="fuzz-gone"),
    "kid-absent": "Bearer " + jwt(claims(), kid=None),
    "crit": "Bearer " + jwt(claims(), crit=["exp"]),
    "other-rsa-key": "Bearer " + jwt(claims(), key=OTHER),
    "hs256-other-key": "Bearer " + jwt(claims(), alg="HS256", key=b"another-key-another-key-another-key!"),
    "hs256-public-pem": "Bearer " + jwt(claims(), alg="HS256", key=PUBLIC_PEM),
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
