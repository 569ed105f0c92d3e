"""bastion.auth.tokens: random tokens, their hashes, constant-time comparison."""

from __future__ import annotations

import base64
import hashlib

import pytest

from bastion.auth import new_token, same_secret, token_hash


def test_default_token_carries_256_random_bits() -> None:
    token = new_token()
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(raw) == 32
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_tokens_do_not_repeat() -> None:
    assert len({new_token() for _ in range(1000)}) == 1000


@pytest.mark.parametrize("nbytes", [8, 16, 48])
def test_token_size_is_configurable(nbytes: int) -> None:
    token = new_token(nbytes)
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) == nbytes


def test_token_hash_is_deterministic_hex_sha256() -> None:
    token = new_token()
    assert token_hash(token) == token_hash(token)
    assert token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
    assert len(token_hash(token)) == 64
    assert token_hash(token) != token_hash(new_token())
    assert token != token_hash(token)


def test_same_secret() -> None:
    assert same_secret("abc", "abc")
    assert not same_secret("abc", "abd")
    assert not same_secret("abc", "abcd")
    assert not same_secret("abc", "")
    assert same_secret("", "")
    assert same_secret("pässwörd", "pässwörd")  # non-ASCII compares as UTF-8 bytes
    assert not same_secret("pässwörd", "passwörd")


def test_public_surface_is_sorted_and_importable() -> None:
    import bastion.auth

    assert bastion.auth.__all__ == sorted(bastion.auth.__all__)
    for name in bastion.auth.__all__:
        assert getattr(bastion.auth, name) is not None
