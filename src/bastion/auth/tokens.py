"""Random tokens, their stored hashes, and constant-time comparison.

>>> token = new_token()
>>> len(token) >= 43  # 32 random bytes, URL-safe base64
True
>>> token_hash(token) == token_hash(token)
True

Session ids, API keys, reset links and recovery codes are stored only as
``token_hash(token)``. A fast hash is right here, unlike for passwords: a token carries
256 random bits, so there is nothing to brute-force, and a deterministic hash lets the
database find the row by an indexed lookup on the hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

DEFAULT_TOKEN_BYTES = 32


def new_token(nbytes: int = DEFAULT_TOKEN_BYTES) -> str:
    """A URL-safe random token of ``nbytes`` random bytes (256 bits by default).

    Anything an attacker could use to authenticate needs at least 16 bytes (128 bits);
    fewer suit only values that are not secrets themselves, such as a nonce inside a
    signed message.

    >>> new_token() != new_token()
    True
    """
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """Hex SHA-256 of ``token``: what the database stores instead of the token.

    >>> token_hash("abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_secret(a: str, b: str) -> bool:
    """Whether two secrets are equal, compared in constant time.

    >>> same_secret("s3cret", "s3cret"), same_secret("s3cret", "s3creT")
    (True, False)
    """
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
