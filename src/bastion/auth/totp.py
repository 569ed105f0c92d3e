"""Time-based one-time passwords (RFC 6238), their QR code, and recovery codes.

>>> secret = new_totp_secret()
>>> uri = totp_uri(secret, "alice@example.com")
>>> uri.startswith("otpauth://totp/Bastion:alice%40example.com?secret=")
True
>>> step = verify_totp(secret, pyotp.TOTP(secret).now())
>>> step is not None and verify_totp(secret, pyotp.TOTP(secret).now(), last_step=step) is None
True

:func:`verify_totp` returns the time step that matched; the caller stores it as
``last_step`` so that a code cannot be used twice (an observed code stays valid for up
to a minute and a half otherwise). Recovery codes are stored as
``token_hash(normalize_recovery_code(code))`` and deleted once used.
"""

from __future__ import annotations

import hmac
import io
import re
import secrets
import time

import pyotp
import segno

TOTP_DIGITS = 6
TOTP_INTERVAL = 30  # seconds
# One step either side: phones' clocks drift, and a code typed in its last seconds
# arrives in the next step.
TOTP_DRIFT_STEPS = 1
_SECRET_BASE32_CHARS = 32  # 32 base32 characters = 160 bits, RFC 4226's recommendation

# Lower-case letters and digits without 0/o, 1/l/i: nothing to misread on paper.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_GROUPS = 4
RECOVERY_GROUP_LENGTH = 4  # 16 characters of 31 symbols: 79 bits per code

_CODE_PATTERN = re.compile(rf"[0-9]{{{TOTP_DIGITS}}}")


def new_totp_secret() -> str:
    """A random base32 TOTP secret of 160 bits.

    >>> len(new_totp_secret())
    32
    """
    return pyotp.random_base32(length=_SECRET_BASE32_CHARS)


def totp_uri(secret: str, account: str, issuer: str = "Bastion") -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code.

    >>> totp_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "alice")
    'otpauth://totp/Bastion:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Bastion'
    """
    return _totp(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(data: str) -> str:
    """An inline SVG of a QR code holding ``data``: a ``<svg>`` element with a viewBox
    and no fixed size, so it scales to its container; no XML declaration, no script.

    >>> qr_svg("otpauth://totp/Bastion:alice?secret=JBSWY3DPEHPK3PXP")[:40]
    '<svg xmlns="http://www.w3.org/2000/svg" '
    """
    # make_qr, not make: a short text would otherwise become a Micro QR code, which most
    # authenticator apps cannot read.
    code = segno.make_qr(data, error="m")
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,  # also valid as a stand-alone image (data: URI, file)
        nl=False,
        omitsize=True,
        svgclass=None,
        lineclass=None,
        light="#fff",  # scanners need contrast, also on a dark page
        dark="#000",
        border=4,  # the quiet zone the QR standard asks for
    )
    return out.getvalue().decode("utf-8")


def verify_totp(
    secret: str, code: str, *, last_step: int | None = None, at: float | None = None
) -> int | None:
    """The time step ``code`` matches (current step ±1), or None if it is wrong,
    malformed or not newer than ``last_step``.

    ``at`` is the time to check against (seconds since the epoch; now by default).
    Spaces in ``code`` are ignored.

    >>> verify_totp(new_totp_secret(), "not a code") is None
    True
    """
    typed = "".join(code.split())
    if not _CODE_PATTERN.fullmatch(typed):
        return None
    totp = _totp(secret)
    now = time.time() if at is None else at
    current = int(now // TOTP_INTERVAL)
    matched: int | None = None
    # Every candidate is computed and compared, match or not, so the time taken does not
    # say which step (if any) matched.
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        expected = totp.generate_otp(step)
        if hmac.compare_digest(expected.encode("ascii"), typed.encode("ascii")):
            matched = step
    if matched is None or (last_step is not None and matched <= last_step):
        return None
    return matched


def new_recovery_codes(count: int = 10) -> list[str]:
    """``count`` distinct random recovery codes such as ``"k4d9-2mxq-7hwe-p3ra"``.

    >>> codes = new_recovery_codes()
    >>> len(set(codes)), len(codes[0])
    (10, 19)
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    codes: dict[str, None] = {}  # insertion-ordered set
    while len(codes) < count:
        groups = (
            "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LENGTH))
            for _ in range(RECOVERY_GROUPS)
        )
        codes["-".join(groups)] = None
    return list(codes)


def normalize_recovery_code(code: str) -> str:
    """``code`` as stored: lower case, without spaces or dashes, however it was typed.

    >>> normalize_recovery_code(" K4D9-2MXQ 7hwe-p3ra ")
    'k4d92mxq7hwep3ra'
    """
    return "".join(code.split()).replace("-", "").lower()


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL)
