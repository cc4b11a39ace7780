"""Verify a webhook delivery of LGSP with PyPI's `http-message-signatures` (RFC 9421).

Usage: verify_signature.py JWKS_URL CAPTURED.json

CAPTURED.json holds the request as the receiver got it: `method`, `url` (the target URI),
`headers` (name → value) and `body` (base64). The public key is looked up by the signature's
`keyid` in the platform's JWKS. Prints one line per check and exits non-zero on the first
failure: the delivery must verify, covering @method, @target-uri, content-digest and
content-type, with the body matching its Content-Digest; a changed body and a changed URL
must not verify.
"""

import base64
import json
import sys
import urllib.request

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from http_message_signatures import (
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)

REQUIRED = ("@method", "@target-uri", "content-digest", "content-type")


class JwksResolver(HTTPSignatureKeyResolver):
    def __init__(self, jwks):
        self.jwks = jwks

    def resolve_public_key(self, key_id):
        for key in self.jwks["keys"]:
            if key.get("kid") == key_id and key.get("kty") == "OKP" and key.get("crv") == "Ed25519":
                x = key["x"] + "=" * (-len(key["x"]) % 4)
                return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x))
        return None


class Request:
    """The message interface the library reads: method, url, headers."""

    def __init__(self, method, url, headers):
        self.method = method
        self.url = url
        self.headers = headers


def verify(verifier, request, body):
    return verifier.verify(request, body=body, require_components=REQUIRED)


def main():
    jwks_url, captured_path = sys.argv[1:3]
    with urllib.request.urlopen(jwks_url) as response:
        jwks = json.load(response)
    with open(captured_path, encoding="utf-8") as f:
        captured = json.load(f)
    body = base64.b64decode(captured["body"])
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519, key_resolver=JwksResolver(jwks)
    )
    request = Request(captured["method"], captured["url"], captured["headers"])
    results = verify(verifier, request, body)
    assert len(results) == 1 and results[0].label == "sig1", results
    params = results[0].parameters
    assert params["alg"] == "ed25519" and isinstance(params["created"], int), params
    print(f"verified: label {results[0].label}, keyid {params['keyid']}")

    try:
        verify(verifier, request, body + b" ")
    except InvalidSignature:
        print("refused: a changed body")
    else:
        sys.exit("a changed body verified")

    moved = Request(captured["method"], captured["url"] + "&x=1", captured["headers"])
    try:
        verify(verifier, moved, body)
    except InvalidSignature:
        print("refused: another URL")
    else:
        sys.exit("a delivery to another URL verified")


if __name__ == "__main__":
    main()
