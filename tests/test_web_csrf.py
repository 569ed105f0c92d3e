"""CsrfTokens: round trip, binding, tampering, expiry, other keys, garbage in."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from bastion.errors import BastionError
from bastion.web.csrf import (
    CSRF_MESSAGE,
    FIELD_NAME,
    HEADER_NAME,
    MAX_TOKEN_LENGTH,
    SAFE_METHODS,
    CsrfError,
    CsrfTokens,
)

SECRET = "test secret key, long enough to mean something"  # noqa: S105 - a test key
ALICE = hashlib.sha256(b"alice's session id").hexdigest()
BOB = hashlib.sha256(b"bob's session id").hexdigest()


@pytest.fixture
def tokens() -> CsrfTokens:
    return CsrfTokens(SECRET)


def reason_of(tokens: CsrfTokens, token: object, binding: str = ALICE) -> str:
    with pytest.raises(CsrfError) as caught:
        tokens.verify(token, binding)
    assert str(caught.value) == CSRF_MESSAGE
    return caught.value.reason


def signed_at(token: str, seconds_ago: int) -> str:
    """``token``'s payload signed again with the same key and salt, ``seconds_ago`` old.

    itsdangerous takes the time from ``TimestampSigner.get_timestamp``; a subclass
    gives an honest old (or future) token without sleeping or patching the clock.
    """

    class Backdated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds_ago

    payload = URLSafeTimedSerializer(SECRET, salt="bastion.csrf").loads(token)
    return URLSafeTimedSerializer(SECRET, salt="bastion.csrf", signer=Backdated).dumps(payload)


def test_constants() -> None:
    assert frozenset({"GET", "HEAD", "OPTIONS"}) == SAFE_METHODS
    assert FIELD_NAME == "csrf_token"
    assert HEADER_NAME == "X-CSRF-Token"


def test_error_is_a_403_bastion_error_with_a_plain_message() -> None:
    error = CsrfError("expired")
    assert isinstance(error, BastionError)
    assert error.http_status == 403
    assert str(error) == (
        "the form has expired or did not come from this site; reload the page and try again"
    )
    assert error.reason == "expired"


def test_round_trip(tokens: CsrfTokens) -> None:
    token = tokens.issue(ALICE)
    assert isinstance(token, str) and token.isascii()
    tokens.verify(token, ALICE)
    tokens.verify(token, ALICE)  # not single use: a page may post twice


def test_a_new_instance_with_the_same_key_verifies(tokens: CsrfTokens) -> None:
    # Workers and restarts share nothing but the key.
    CsrfTokens(SECRET).verify(tokens.issue(ALICE), ALICE)


def test_each_issue_differs_and_all_verify(tokens: CsrfTokens) -> None:
    issued = [tokens.issue(ALICE) for _ in range(20)]
    assert len(set(issued)) == len(issued)
    for token in issued:
        tokens.verify(token, ALICE)


def test_token_for_another_binding_is_refused(tokens: CsrfTokens) -> None:
    assert reason_of(tokens, tokens.issue(ALICE), BOB) == "other binding"
    assert reason_of(tokens, tokens.issue(BOB), ALICE) == "other binding"
    # Close but not equal bindings are different visitors.
    assert reason_of(tokens, tokens.issue(ALICE), ALICE + " ") == "other binding"
    assert reason_of(tokens, tokens.issue(ALICE), ALICE.upper()) == "other binding"


def test_token_carries_only_the_binding_hash(tokens: CsrfTokens) -> None:
    session_id = "raw-session-id-0123456789"
    token = tokens.issue(session_id)
    body = token.split(".")[0]
    decoded = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    payload = json.loads(decoded)
    assert session_id not in token and session_id.encode() not in decoded
    assert hashlib.sha256(session_id.encode()).hexdigest() in payload
    assert len(payload) == 2  # the nonce and the hash, nothing else


@pytest.mark.parametrize("part", [0, 1, 2])
def test_tampered_token_is_refused(tokens: CsrfTokens, part: int) -> None:
    token = tokens.issue(ALICE)
    # A compressed payload starts with "." itself: split from the right.
    pieces = token.rsplit(".", 2)
    assert len(pieces) == 3  # payload, timestamp, signature
    piece = pieces[part]
    # The first character: base64's last one may carry padding bits only ("B" -> "A"
    # can decode to the same bytes and leave the token valid).
    pieces[part] = ("A" if piece[0] != "A" else "B") + piece[1:]
    assert reason_of(tokens, ".".join(pieces)) in {"bad signature", "malformed", "expired"}


def test_signature_of_another_token_is_refused(tokens: CsrfTokens) -> None:
    mine = tokens.issue(ALICE).rsplit(".", 2)
    theirs = tokens.issue(BOB).rsplit(".", 2)
    spliced = ".".join([theirs[0], mine[1], mine[2]])
    assert reason_of(tokens, spliced) == "bad signature"
    assert reason_of(tokens, spliced, BOB) == "bad signature"


def test_token_from_another_secret_key_is_refused(tokens: CsrfTokens) -> None:
    other = CsrfTokens("another server's secret key")
    assert reason_of(tokens, other.issue(ALICE)) == "bad signature"
    assert reason_of(other, tokens.issue(ALICE)) == "bad signature"


def test_token_with_another_salt_is_refused(tokens: CsrfTokens) -> None:
    # Same key, another purpose (say, an e-mail confirmation link): not a CSRF token.
    other_purpose = URLSafeTimedSerializer(SECRET, salt="bastion.email")
    forged = other_purpose.dumps(["nonce", hashlib.sha256(ALICE.encode()).hexdigest()])
    assert reason_of(tokens, forged) == "bad signature"


def test_expired_token_is_refused(tokens: CsrfTokens) -> None:
    old = signed_at(tokens.issue(ALICE), seconds_ago=8 * 3600 + 5)
    assert reason_of(tokens, old) == "expired"
    # The same token within a longer max_age passes: it was refused for its age only.
    CsrfTokens(SECRET, max_age=9 * 3600).verify(old, ALICE)


def test_token_just_inside_max_age_verifies(tokens: CsrfTokens) -> None:
    recent = signed_at(tokens.issue(ALICE), seconds_ago=8 * 3600 - 60)
    tokens.verify(recent, ALICE)


def test_short_max_age(tokens: CsrfTokens) -> None:
    short = CsrfTokens(SECRET, max_age=60)
    assert reason_of(short, signed_at(tokens.issue(ALICE), seconds_ago=120)) == "expired"


def test_token_from_the_future_is_refused(tokens: CsrfTokens) -> None:
    future = signed_at(tokens.issue(ALICE), seconds_ago=-3600)
    assert reason_of(tokens, future) == "expired"


@pytest.mark.parametrize("token", [None, ""])
def test_missing_token_is_refused(tokens: CsrfTokens, token: str | None) -> None:
    assert reason_of(tokens, token) == "missing"


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        "...",
        "e30.AAAA.BBBB",
        "!!!!.????.####",
        "x" * (MAX_TOKEN_LENGTH + 1),
        "t\u00f6ken.with.umlaut",
        "\ud800.lone.surrogate",
        "null",
        " ",
        b"bytes.are.not.text",
        12345,
        ["a", "list"],
        {"csrf_token": "x"},
    ],
)
def test_garbage_is_refused_with_csrf_error_only(tokens: CsrfTokens, token: object) -> None:
    assert reason_of(tokens, token) in {"malformed", "bad signature"}


def test_validly_signed_but_wrong_shape_payload_is_malformed(tokens: CsrfTokens) -> None:
    signer = URLSafeTimedSerializer(SECRET, salt="bastion.csrf")
    for payload in ({"b": ALICE}, [ALICE], ["n", ALICE, "x"], ["n", 1], "text", None):
        assert reason_of(tokens, signer.dumps(payload)) == "malformed"


def test_empty_binding(tokens: CsrfTokens) -> None:
    with pytest.raises(ValueError, match="non-empty binding"):
        tokens.issue("")
    assert reason_of(tokens, tokens.issue(ALICE), "") == "no binding"


def test_constructor_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="non-empty secret_key"):
        CsrfTokens("")
    for max_age in (0, -1):
        with pytest.raises(ValueError, match="max_age must be positive"):
            CsrfTokens(SECRET, max_age=max_age)


@given(st.text(max_size=300))
def test_any_text_is_refused_with_csrf_error_only(token: str) -> None:
    tokens = CsrfTokens(SECRET)
    with pytest.raises(CsrfError):
        tokens.verify(token, ALICE)


@given(st.text(min_size=1, max_size=100), st.text(min_size=1, max_size=100))
def test_binding_property(bound: str, other: str) -> None:
    tokens = CsrfTokens(SECRET)
    token = tokens.issue(bound)
    tokens.verify(token, bound)
    if other != bound:
        with pytest.raises(CsrfError):
            tokens.verify(token, other)
