"""Checks a WebAuthn ceremony the way a Python relying party would: with py_webauthn (PyPI `webauthn`, Duo Labs), a
WebAuthn implementation Warden did not write. tests/passkey-pywebauthn.test.mjs hands it a ceremony Warden has just
judged and compares the verdicts.

    python pywebauthn_check.py '<job as JSON>'

A job is {"ceremony": "registration", "credential": <RegistrationResponseJSON>, "challenge": <base64url>,
"origin": ..., "rpId": ...} or {"ceremony": "authentication", "credential": <AuthenticationResponseJSON>,
"challenge", "origin", "rpId", "publicKey": <the stored COSE key, standard base64>, "signCount": <stored counter>}.
User verification is required in both.

Prints one JSON object and exits 0 when py_webauthn accepts: the registration's credential id (base64url), COSE public
key (standard base64), sign count, AAGUID, device type and backup state; or the assertion's new sign count, device
type, backup state and user verification. When it refuses: {"valid": false, "error": "<exception class>",
"message": "..."} and exit 1.
"""

import base64
import json
import sys

from webauthn import base64url_to_bytes, verify_authentication_response, verify_registration_response
from webauthn.helpers.exceptions import WebAuthnException


def plain(value):
    """An enum's value (py_webauthn's fields are enums or plain strings, depending on the field and version)."""
    return getattr(value, "value", value)


def registration(job: dict) -> dict:
    verified = verify_registration_response(
        credential=job["credential"],
        expected_challenge=base64url_to_bytes(job["challenge"]),
        expected_origin=job["origin"],
        expected_rp_id=job["rpId"],
        require_user_verification=True,
    )
    return {
        "credentialId": base64.urlsafe_b64encode(verified.credential_id).decode().rstrip("="),
        "publicKey": base64.b64encode(verified.credential_public_key).decode(),
        "signCount": verified.sign_count,
        "aaguid": verified.aaguid,
        "fmt": plain(verified.fmt),
        "userVerified": verified.user_verified,
        "deviceType": plain(verified.credential_device_type),
        "backedUp": verified.credential_backed_up,
    }


def authentication(job: dict) -> dict:
    verified = verify_authentication_response(
        credential=job["credential"],
        expected_challenge=base64url_to_bytes(job["challenge"]),
        expected_origin=job["origin"],
        expected_rp_id=job["rpId"],
        credential_public_key=base64.b64decode(job["publicKey"], validate=True),
        credential_current_sign_count=job["signCount"],
        require_user_verification=True,
    )
    return {
        "credentialId": base64.urlsafe_b64encode(verified.credential_id).decode().rstrip("="),
        "newSignCount": verified.new_sign_count,
        "userVerified": verified.user_verified,
        "deviceType": plain(verified.credential_device_type),
        "backedUp": verified.credential_backed_up,
    }


def main() -> int:
    job = json.loads(sys.argv[1])
    check = {"registration": registration, "authentication": authentication}[job["ceremony"]]
    try:
        verdict = {"valid": True, **check(job)}
    except WebAuthnException as error:
        print(json.dumps({"valid": False, "error": type(error).__name__, "message": str(error)}))
        return 1
    print(json.dumps(verdict))
    return 0


if __name__ == "__main__":
    sys.exit(main())
