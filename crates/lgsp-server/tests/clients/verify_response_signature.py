"""Verify an LGSP gateway answer with PyPI's `http-message-signatures` (RFC 9421).

Usage: verify_response_signature.py JWKS_URL CAPTURED.json

CAPTURED.json holds the answer as the consumer got it: `status`, `headers` (name → value) and
`body` (base64). The public key is looked up by the signature's `keyid` in the platform's JWKS.
Prints one line per check and exits non-zero on the first failure: the answer must verify,
covering @status, content-digest and every lgsp-* field, with the body matching its
Content-Digest; a changed body and a changed status must not verify.
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


class JwksResolver(HTTPSignatureKeyResolver):
    def __init__(self, jwks):
        self.jwks = jwks

    def resolve_public_key(self, key_id):
        for key in self.jwks["keys"]:
            if key.get("kid") == key_id and key.get("kty") == "OKP" and key.get("crv") == "Ed25519":
                x = key["x"] + "=" * (-len(key["x"]) % 4)
                return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x))
        return None


class Response:
    """The message interface the library reads for a response: status_code, headers."""

    def __init__(self, status_code, headers):
        self.status_code = status_code
        self.headers = headers


def main():
    jwks_url, captured_path = sys.argv[1:3]
    with urllib.request.urlopen(jwks_url) as response:
        jwks = json.load(response)
    with open(captured_path, encoding="utf-8") as f:
        captured = json.load(f)
    body = base64.b64decode(captured["body"])
    headers = captured["headers"]
    required = ["@status", "content-digest"] + sorted(n for n in headers if n.startswith("lgsp-"))
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519, key_resolver=JwksResolver(jwks)
    )

    def verify(status, content):
        return verifier.verify(
            Response(status, headers), body=content, require_components=required
        )

    results = verify(captured["status"], body)
    assert len(results) == 1 and results[0].label == "sig1", results
    params = results[0].parameters
    assert set(params) == {"created", "keyid", "alg"}, params
    assert params["alg"] == "ed25519" and isinstance(params["created"], int), params
    print(f"verified: label {results[0].label}, keyid {params['keyid']}, covering {' '.join(required)}")

    try:
        verify(captured["status"], body + b" ")
    except InvalidSignature:
        print("refused: a changed body")
    else:
        sys.exit("a changed body verified")

    try:
        verify(captured["status"] + 1, body)
    except InvalidSignature:
        print("refused: another status")
    else:
        sys.exit("an answer with another status verified")


if __name__ == "__main__":
    main()
