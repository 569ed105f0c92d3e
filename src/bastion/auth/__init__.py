"""Authentication building blocks: tokens, passwords, login throttling, TOTP.

Pure functions and small classes, with no web or database code: the web layer calls
them and stores what they return (hashes, time steps).

>>> from bastion.auth import hash_password, verify_password
>>> verify_password(hash_password("plum-orbit-cactus-lantern"), "plum-orbit-cactus-lantern").ok
True
"""

from .passwords import (
    MIN_PASSWORD_LENGTH,
    PasswordCheck,
    check_new_password,
    hash_password,
    is_common_password,
    odoo_pbkdf2_hash,
    verify_password,
)
from .throttle import (
    ACCOUNT_LIMITS,
    IP_LIMITS,
    LoginThrottle,
    ThrottleDecision,
    ThrottleUnavailable,
)
from .tokens import new_token, same_secret, token_hash
from .totp import (
    new_recovery_codes,
    new_totp_secret,
    normalize_recovery_code,
    qr_svg,
    totp_uri,
    verify_totp,
)

__all__ = [
    "ACCOUNT_LIMITS",
    "IP_LIMITS",
    "LoginThrottle",
    "MIN_PASSWORD_LENGTH",
    "PasswordCheck",
    "ThrottleDecision",
    "ThrottleUnavailable",
    "check_new_password",
    "hash_password",
    "is_common_password",
    "new_recovery_codes",
    "new_token",
    "new_totp_secret",
    "normalize_recovery_code",
    "odoo_pbkdf2_hash",
    "qr_svg",
    "same_secret",
    "token_hash",
    "totp_uri",
    "verify_password",
    "verify_totp",
]
