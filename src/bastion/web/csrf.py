"""CSRF tokens for every state-changing form, signed and bound to one visitor.

>>> tokens = CsrfTokens("server secret from the settings")
>>> token = tokens.issue(binding="sha256-of-the-session-id")
>>> tokens.verify(token, binding="sha256-of-the-session-id")  # None: accepted
>>> tokens.verify(token, binding="another visitor's session")
Traceback (most recent call last):
...
bastion.web.csrf.CsrfError: the form has expired or did not come from this site; ...

A token is an itsdangerous ``URLSafeTimedSerializer`` signature (salt
``"bastion.csrf"``) over ``[nonce, sha256(binding)]``. The caller chooses the binding:
the hash of the session id for a logged-in visitor, the hash of a random pre-session
cookie for anonymous forms such as the login page. A token lifted from one visitor's
page is therefore worthless in another visitor's browser, and since the token only
ever carries the binding's SHA-256, the page never reveals the session id. The nonce
makes every rendered form carry a different token, so no two responses share a secret
that compression side channels (BREACH) could recover; any of them verifies until it
expires.

The web layer checks a token on every request whose method is not in
:data:`SAFE_METHODS`, from the form field :data:`FIELD_NAME` or, for scripts, the
header :data:`HEADER_NAME`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final, Literal

from itsdangerous import BadData, BadSignature, SignatureExpired, URLSafeTimedSerializer

from bastion.errors import BastionError

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
FIELD_NAME: Final = "csrf_token"
HEADER_NAME: Final = "X-CSRF-Token"
SALT: Final = "bastion.csrf"
DEFAULT_MAX_AGE: Final = 8 * 3600  # a working day: a form left open over lunch still posts

CSRF_MESSAGE: Final = (
    "the form has expired or did not come from this site; reload the page and try again"
)
# Real tokens are about 130 characters; anything far longer is refused before any
# decoding or decompression work is spent on it.
MAX_TOKEN_LENGTH: Final = 1024
_NONCE_BYTES: Final = 16

CsrfFailure = Literal[
    "missing", "malformed", "bad signature", "expired", "other binding", "no binding"
]


class CsrfError(BastionError):
    """A state-changing request came without a valid CSRF token. HTTP status: 403.

    The message is the same whatever went wrong, and is meant for the visitor;
    ``reason`` tells the logs which check failed (one of :data:`CsrfFailure`).
    """

    http_status = 403

    def __init__(self, reason: CsrfFailure) -> None:
        self.reason: CsrfFailure = reason
        super().__init__(CSRF_MESSAGE)


class CsrfTokens:
    """Issues and verifies CSRF tokens signed with ``secret_key``.

    >>> tokens = CsrfTokens("server secret", max_age=3600)
    >>> tokens.issue("b") != tokens.issue("b")
    True

    ``max_age`` is in seconds; an older token is refused as expired.
    """

    def __init__(self, secret_key: str, *, max_age: int = DEFAULT_MAX_AGE) -> None:
        if not secret_key:
            raise ValueError("CsrfTokens needs a non-empty secret_key")
        if max_age <= 0:
            raise ValueError(f"CsrfTokens max_age must be positive (seconds), got {max_age}")
        self.max_age = max_age
        self._serializer = URLSafeTimedSerializer(secret_key, salt=SALT)

    def issue(self, binding: str) -> str:
        """A new token for the visitor identified by ``binding``; different on each call."""
        if not binding:
            # An empty binding would make a token valid for every visitor without one.
            raise ValueError("CsrfTokens.issue needs a non-empty binding")
        return self._serializer.dumps([secrets.token_urlsafe(_NONCE_BYTES), _digest(binding)])

    def verify(self, token: object, binding: str) -> None:
        """Return if ``token`` was issued by this server for ``binding``, not too long ago.

        Raise :class:`CsrfError` otherwise, and nothing else, whatever ``token`` is:
        ``None`` when the field is missing, a string, even an uploaded file object.
        """
        if token is None or token == "":
            raise CsrfError("missing")
        # Real tokens are ASCII; checking first also keeps odd text (lone surrogates)
        # away from the decoder.
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
            raise CsrfError("malformed")
        if not binding:
            # No session and no pre-session cookie: nothing to check the token against.
            raise CsrfError("no binding")
        try:
            payload = self._serializer.loads(token, max_age=self.max_age)
        except SignatureExpired:  # also a timestamp from the future
            raise CsrfError("expired") from None
        except BadSignature:
            raise CsrfError("bad signature") from None
        except BadData:
            raise CsrfError("malformed") from None
        if not (
            isinstance(payload, list)
            and len(payload) == 2
            and all(isinstance(part, str) for part in payload)
        ):
            raise CsrfError("malformed")
        bound_to = str(payload[1]).encode()
        if not hmac.compare_digest(bound_to, _digest(binding).encode()):
            raise CsrfError("other binding")


def _digest(binding: str) -> str:
    return hashlib.sha256(binding.encode("utf-8", "surrogatepass")).hexdigest()
