"""Password hashing (Argon2id), verification of imported Odoo hashes, and the policy
for new passwords.

>>> stored = hash_password("correct horse battery staple")
>>> verify_password(stored, "correct horse battery staple")
PasswordCheck(ok=True, needs_rehash=False)
>>> verify_password(stored, "wrong").ok
False

Stored formats understood by :func:`verify_password`:

``$argon2id$v=19$m=...,t=...,p=...$<salt>$<hash>``
    What Bastion writes (argon2-cffi's defaults, RFC 9106's recommended profile).
    ``needs_rehash`` turns true when the defaults move on.
``$pbkdf2-sha512$<rounds>$<salt>$<hash>``
    What Odoo writes (passlib's ``pbkdf2_sha512``): salt and hash in passlib's
    "adapted base64" (standard alphabet, ``.`` instead of ``+``, no padding). Accepted
    so that imported users can log in; always ``needs_rehash`` so the caller rewrites
    the hash as Argon2id at that first login.

Anything else (None, empty, an unknown or malformed format) is refused after the same
work as one Argon2 verification, so an unknown login cannot be told from a wrong password
by how long the answer takes.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from importlib import resources

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from bastion.errors import ValidationError

MIN_PASSWORD_LENGTH = 10
# Argon2 cost does not grow with length, but PBKDF2 and the policy checks do; nobody
# types a longer password, and an unbounded one is a cheap denial of service.
MAX_PASSWORD_LENGTH = 1024

ODOO_PBKDF2_PREFIX = "$pbkdf2-sha512$"
ODOO_DEFAULT_ROUNDS = 600_000
# A stored hash is trusted data, but an imported file may be wrong or hostile: a hash
# claiming a billion rounds would pin a worker for minutes on every login attempt.
_MAX_PBKDF2_ROUNDS = 10_000_000
_PBKDF2_DIGEST_BYTES = 64  # SHA-512

_hasher = argon2.PasswordHasher()


@dataclass(frozen=True)
class PasswordCheck:
    """Outcome of :func:`verify_password`.

    ``needs_rehash``: the password was right but the stored hash is outdated (an Odoo
    PBKDF2 hash, or Argon2 parameters below the current defaults); store
    ``hash_password(password)`` in its place.
    """

    ok: bool
    needs_rehash: bool


_REFUSED = PasswordCheck(ok=False, needs_rehash=False)


def hash_password(password: str) -> str:
    """Argon2id hash of ``password``, with argon2-cffi's default parameters.

    >>> hash_password("correct horse battery staple").startswith("$argon2id$")
    True
    """
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> PasswordCheck:
    """Check ``password`` against the ``stored`` hash; never raises for a bad hash.

    >>> verify_password(None, "anything")
    PasswordCheck(ok=False, needs_rehash=False)
    """
    if stored and stored.startswith("$argon2"):
        return _verify_argon2(stored, password)
    if stored and stored.startswith(ODOO_PBKDF2_PREFIX):
        parsed = _parse_odoo_pbkdf2(stored)
        if parsed is not None:
            rounds, salt, expected = parsed
            actual = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, rounds)
            ok = hmac.compare_digest(actual, expected)
            return PasswordCheck(ok=ok, needs_rehash=ok)
    _spend_argon2_time(password)
    return _REFUSED


def odoo_pbkdf2_hash(
    password: str, *, rounds: int = ODOO_DEFAULT_ROUNDS, salt: bytes | None = None
) -> str:
    """An Odoo (passlib ``pbkdf2_sha512``) hash of ``password``: the import format.

    >>> odoo_pbkdf2_hash("secret", rounds=1000, salt=b"0123456789abcdef")[:43]
    '$pbkdf2-sha512$1000$MDEyMzQ1Njc4OWFiY2RlZg$'
    """
    if not 1 <= rounds <= _MAX_PBKDF2_ROUNDS:
        raise ValueError(f"PBKDF2 rounds must be between 1 and {_MAX_PBKDF2_ROUNDS}, got {rounds}")
    if salt is None:
        salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, rounds)
    return f"{ODOO_PBKDF2_PREFIX}{rounds}${_ab64_encode(salt)}${_ab64_encode(digest)}"


def check_new_password(
    password: str, *, login: str | None = None, min_length: int = MIN_PASSWORD_LENGTH
) -> None:
    """Raise :class:`~bastion.errors.ValidationError` if ``password`` may not be chosen.

    >>> check_new_password("plum-orbit-cactus-lantern", login="alice")
    >>> try:
    ...     check_new_password("Password123!")
    ... except ValidationError as exc:
    ...     print(exc)
    This password is too common: it appears in lists of leaked passwords. Choose another one.
    """
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(
            f"This password is too long: use at most {MAX_PASSWORD_LENGTH} characters."
        )
    if len(password) < min_length:
        raise ValidationError(f"This password is too short: use at least {min_length} characters.")
    if login is not None and _contains_login(password, login):
        raise ValidationError("This password contains the login. Choose another one.")
    if is_common_password(password):
        raise ValidationError(
            "This password is too common: it appears in lists of leaked passwords. "
            "Choose another one."
        )


def is_common_password(password: str) -> bool:
    """Whether ``password`` (ignoring case and trailing digits/punctuation) is a
    well-known leaked password.

    >>> is_common_password("Dragon2024!"), is_common_password("plum-orbit-cactus")
    (True, False)
    """
    words = common_passwords()
    folded = password.strip().casefold()
    # "Password123!" is as weak as "password": attackers' wordlists append digits and
    # symbols to every entry.
    core = folded.rstrip(string.digits + string.punctuation + string.whitespace)
    return folded in words or (bool(core) and core in words)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The list shipped in ``common_passwords.txt``, lower case, loaded once."""
    text = resources.files(__package__).joinpath("common_passwords.txt").read_text("utf-8")
    lines = (line.strip().casefold() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


# -- internals -----------------------------------------------------------------------


def _verify_argon2(stored: str, password: str) -> PasswordCheck:
    try:
        _hasher.verify(stored, password)
    except InvalidHashError:
        # Malformed: refuse after the same work as a real verification.
        _spend_argon2_time(password)
        return _REFUSED
    except VerificationError:  # wrong password (VerifyMismatchError) or a failed check
        return _REFUSED
    return PasswordCheck(ok=True, needs_rehash=_hasher.check_needs_rehash(stored))


@functools.cache
def _dummy_hash() -> str:
    # Made with the same hasher as real hashes so that it costs exactly as much to verify.
    return _hasher.hash(secrets.token_urlsafe(16))


def _spend_argon2_time(password: str) -> None:
    try:
        _hasher.verify(_dummy_hash(), password)
    except VerificationError:
        pass


def _parse_odoo_pbkdf2(stored: str) -> tuple[int, bytes, bytes] | None:
    """(rounds, salt, hash) of a well-formed Odoo hash, else None."""
    parts = stored[len(ODOO_PBKDF2_PREFIX) :].split("$")
    if len(parts) != 3:
        return None
    rounds_text, salt_text, hash_text = parts
    if not rounds_text.isascii() or not rounds_text.isdigit():
        return None
    rounds = int(rounds_text)
    salt = _ab64_decode(salt_text)
    expected = _ab64_decode(hash_text)
    if not 1 <= rounds <= _MAX_PBKDF2_ROUNDS or not salt or expected is None:
        return None
    if len(expected) != _PBKDF2_DIGEST_BYTES:
        return None
    return rounds, salt, expected


def _ab64_encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=").replace("+", ".")


def _ab64_decode(text: str) -> bytes | None:
    if not text.isascii():
        return None
    padded = text.replace(".", "+") + "=" * (-len(text) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def _contains_login(password: str, login: str) -> bool:
    folded = password.casefold()
    login = login.strip().casefold()
    if not login:
        return False
    if folded == login:
        return True
    # Containment only for names long enough to mean something: refusing every password
    # with an "a" in it because the login is "a" would help nobody.
    candidates = {login, login.partition("@")[0]}
    return any(len(name) >= 3 and name in folded for name in candidates)
