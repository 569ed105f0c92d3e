"""bastion.auth.passwords: Argon2id hashes, imported Odoo hashes, the new-password policy."""

from __future__ import annotations

import base64

import argon2
import pytest

from bastion.auth import (
    MIN_PASSWORD_LENGTH,
    PasswordCheck,
    check_new_password,
    hash_password,
    is_common_password,
    odoo_pbkdf2_hash,
    verify_password,
)
from bastion.auth.passwords import common_passwords
from bastion.errors import ValidationError

STRONG = "plum-orbit-cactus-lantern"
FAST_ROUNDS = 1000  # the default 600k costs half a second per hash; one test uses it

# -- Argon2id ----------------------------------------------------------------------


def test_argon2id_round_trip() -> None:
    stored = hash_password(STRONG)
    assert stored.startswith("$argon2id$")
    assert STRONG not in stored
    assert verify_password(stored, STRONG) == PasswordCheck(ok=True, needs_rehash=False)


def test_hashes_are_salted() -> None:
    assert hash_password(STRONG) != hash_password(STRONG)


def test_wrong_password_is_refused() -> None:
    stored = hash_password(STRONG)
    assert verify_password(stored, STRONG.upper()) == PasswordCheck(ok=False, needs_rehash=False)
    assert not verify_password(stored, "").ok


def test_weaker_argon2_parameters_ask_for_a_rehash() -> None:
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    assert verify_password(weak.hash(STRONG), STRONG) == PasswordCheck(ok=True, needs_rehash=True)


# -- Odoo PBKDF2 -------------------------------------------------------------------


def test_odoo_hash_format() -> None:
    stored = odoo_pbkdf2_hash(STRONG, rounds=FAST_ROUNDS, salt=b"\xfb" * 16)
    prefix, scheme, rounds, salt, digest = stored.split("$")
    assert (prefix, scheme, rounds) == ("", "pbkdf2-sha512", str(FAST_ROUNDS))
    # passlib's adapted base64: "." for "+", no "=" padding (standard: "+/v7+/v7...+w==")
    assert salt == "./v7./v7./v7./v7./v7.w"
    assert "+" not in digest and "=" not in digest
    assert len(digest) == 86  # a 64-byte SHA-512 digest


def test_odoo_hash_matches_the_pbkdf2_test_vector() -> None:
    # PBKDF2-HMAC-SHA512("password", "salt", 1 round), the published test vector.
    vector = bytes.fromhex(
        "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252"
        "c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce"
    )
    stored = odoo_pbkdf2_hash("password", rounds=1, salt=b"salt")
    digest = stored.rsplit("$", 1)[1]
    assert base64.b64decode(digest.replace(".", "+") + "==") == vector
    assert verify_password(stored, "password") == PasswordCheck(ok=True, needs_rehash=True)


def test_hash_written_by_passlib_verifies() -> None:
    # hashcat's example hash for mode 20200 (passlib pbkdf2-sha512), password "hashcat".
    stored = (
        "$pbkdf2-sha512$25000$LyWE0HrP2RsjZCxlDGFMKQ$1vC5Ohk2mCS9b6akqsEfgeb4l74SF8XjH.SljXf3dML"
        "HdlY1GK9ojcCKts6/asR4aPqBmk74nCDddU3tvSCJvw"
    )
    assert verify_password(stored, "hashcat") == PasswordCheck(ok=True, needs_rehash=True)
    assert verify_password(stored, "Hashcat") == PasswordCheck(ok=False, needs_rehash=False)


def test_odoo_hash_at_default_rounds_verifies_and_needs_rehash() -> None:
    stored = odoo_pbkdf2_hash(STRONG)
    assert stored.startswith("$pbkdf2-sha512$600000$")
    assert verify_password(stored, STRONG) == PasswordCheck(ok=True, needs_rehash=True)


def test_odoo_hash_wrong_password() -> None:
    stored = odoo_pbkdf2_hash(STRONG, rounds=FAST_ROUNDS)
    assert verify_password(stored, STRONG + "!") == PasswordCheck(ok=False, needs_rehash=False)


def _tamper(text: str) -> str:
    """``text`` with its first character swapped for another base64 character."""
    return ("B" if text[0] != "B" else "C") + text[1:]


def test_tampered_odoo_salt_or_hash_fails() -> None:
    stored = odoo_pbkdf2_hash(STRONG, rounds=FAST_ROUNDS)
    prefix, scheme, rounds, salt, digest = stored.split("$")
    for bad in (
        "$".join([prefix, scheme, rounds, _tamper(salt), digest]),
        "$".join([prefix, scheme, rounds, salt, _tamper(digest)]),
        "$".join([prefix, scheme, str(FAST_ROUNDS + 1), salt, digest]),
    ):
        assert verify_password(bad, STRONG) == PasswordCheck(ok=False, needs_rehash=False)


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        "plain text password",
        "$1$abc$def",  # md5-crypt
        "$pbkdf2-sha256$29000$c2FsdA$abc",  # another passlib scheme
        "$pbkdf2-sha512$",
        "$pbkdf2-sha512$1000$c2FsdA",
        "$pbkdf2-sha512$abc$c2FsdA$" + "A" * 86,
        "$pbkdf2-sha512$0$c2FsdA$" + "A" * 86,
        "$pbkdf2-sha512$-5$c2FsdA$" + "A" * 86,
        "$pbkdf2-sha512$99999999999$c2FsdA$" + "A" * 86,  # absurd cost
        "$pbkdf2-sha512$1000$$" + "A" * 86,  # empty salt
        "$pbkdf2-sha512$1000$c2FsdA$short",  # not a SHA-512 digest
        "$pbkdf2-sha512$1000$c2F*dA$" + "A" * 86,  # not base64
        "$pbkdf2-sha512$1000$c2FsdA$" + "A" * 86 + "$extra",
        "$pbkdf2-sha512$１０００$c2FsdA$" + "A" * 86,  # fullwidth digits
        "$argon2id$v=19$m=65536,t=3,p=4$garbage",
        "$argon2id$",
    ],
)
def test_unknown_or_malformed_hashes_are_refused_without_raising(stored: str | None) -> None:
    assert verify_password(stored, STRONG) == PasswordCheck(ok=False, needs_rehash=False)


def test_odoo_hash_rounds_are_bounded() -> None:
    with pytest.raises(ValueError, match="rounds"):
        odoo_pbkdf2_hash(STRONG, rounds=0)


# -- policy ------------------------------------------------------------------------


def _refusal(
    password: str, *, login: str | None = None, min_length: int = MIN_PASSWORD_LENGTH
) -> str:
    with pytest.raises(ValidationError) as info:
        check_new_password(password, login=login, min_length=min_length)
    return str(info.value)


def test_too_short_names_the_minimum() -> None:
    assert MIN_PASSWORD_LENGTH == 10
    message = _refusal("x7#Kq9!")
    assert "too short" in message and "10" in message
    assert "at least 16" in _refusal("x7#Kq9!zP2@wL", min_length=16)


def test_too_long_is_refused() -> None:
    assert "too long" in _refusal("a9" * 513)
    check_new_password("a9#" * 341)  # 1023 characters: allowed


@pytest.mark.parametrize(
    "password",
    ["password1234", "Password123!", "QWERTYUIOP", "iloveyou!!!!", "1234567890", "Football2024"],
)
def test_common_passwords_are_refused(password: str) -> None:
    assert is_common_password(password)
    assert "too common" in _refusal(password)


@pytest.mark.parametrize(
    ("password", "login"),
    [
        ("alice.smith", "Alice.Smith"),
        ("my-alice.smith-pw", "alice.smith"),
        ("jdoe-rocks-2024", "JDoe@example.com"),  # the local part of an e-mail login
    ],
)
def test_passwords_containing_the_login_are_refused(password: str, login: str) -> None:
    assert "contains the login" in _refusal(password, login=login)


@pytest.mark.parametrize(
    "password",
    [
        STRONG,
        "Tr0ub4dor&3-horse",
        "correct horse battery staple",
        "x7#Kq9!zP2@wL",
        "ça-va-très-bien",
    ],
)
def test_strong_passwords_pass(password: str) -> None:
    check_new_password(password, login="alice@example.com")
    check_new_password(password)
    assert not is_common_password(password)


def test_short_logins_do_not_block_every_password() -> None:
    check_new_password(STRONG, login="a")
    assert "contains the login" in _refusal("ab", login="ab", min_length=1)


def test_common_password_list_is_shipped_and_clean() -> None:
    words = common_passwords()
    assert 400 <= len(words) <= 1500
    assert {"123456", "password", "qwerty", "iloveyou", "letmein", "dragon"} <= words
    assert all(word == word.lower() and not word.startswith("#") for word in words)
