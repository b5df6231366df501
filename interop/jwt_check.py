"""Verifies a Warden JWT the way a Python backend (FastAPI, say) would: PyJWT's PyJWKClient against the gateway's
/api/auth/jwks, EdDSA only, audience and issuer both the gateway's public URL.

    WARDEN_URL=http://127.0.0.1:8080 python jwt_check.py <jwt>

Prints one JSON object: {"valid": true, "header": {...}, "claims": {...}} and exits 0, or
{"valid": false, "error": "<PyJWT exception class>", "message": "..."} and exits 1.
"""

import json
import os
import sys

import jwt


def verify(token: str, base_url: str) -> dict:
    """The claims of `token` once its signature, algorithm, expiry, audience and issuer check out; raises otherwise."""
    jwks = jwt.PyJWKClient(f"{base_url}/api/auth/jwks", cache_keys=True)
    signing_key = jwks.get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        signing_key,
        algorithms=["EdDSA"],
        audience=base_url,
        issuer=base_url,
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    )


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: WARDEN_URL=http://127.0.0.1:8080 python jwt_check.py <jwt>", file=sys.stderr)
        return 2
    base_url = os.environ.get("WARDEN_URL", "").rstrip("/")
    if not base_url:
        print("WARDEN_URL is not set", file=sys.stderr)
        return 2
    token = sys.argv[1]
    try:
        claims = verify(token, base_url)
    except jwt.PyJWTError as error:
        print(json.dumps({"valid": False, "error": type(error).__name__, "message": str(error)}))
        return 1
    print(json.dumps({"valid": True, "header": jwt.get_unverified_header(token), "claims": claims}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
