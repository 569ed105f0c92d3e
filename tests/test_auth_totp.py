"""bastion.auth.totp: TOTP codes, provisioning URI and QR code, recovery codes."""

from __future__ import annotations

import base64
import re
import time
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from lxml import etree

from bastion.auth import (
    new_recovery_codes,
    new_totp_secret,
    normalize_recovery_code,
    qr_svg,
    token_hash,
    totp_uri,
    verify_totp,
)
from bastion.auth.totp import RECOVERY_ALPHABET

NOW = 1_700_000_015.0  # a fixed instant, 15 s into its 30 s step
STEP = int(NOW // 30)


@pytest.fixture
def secret() -> str:
    return new_totp_secret()


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).at(step * 30)


def test_secret_is_160_bits_of_base32() -> None:
    secret = new_totp_secret()
    assert len(base64.b32decode(secret)) == 20
    assert new_totp_secret() != secret


def test_current_code_verifies_and_returns_its_step(secret: str) -> None:
    before = time.time()
    code = pyotp.TOTP(secret).now()
    step = verify_totp(secret, code)
    assert step in {int(before // 30), int(time.time() // 30)}
    assert pyotp.TOTP(secret).at(step * 30) == code
    assert verify_totp(secret, pyotp.TOTP(secret).at(NOW), at=NOW) == STEP


def test_one_step_of_drift_either_side_is_accepted(secret: str) -> None:
    assert verify_totp(secret, code_at(secret, STEP - 1), at=NOW) == STEP - 1
    assert verify_totp(secret, code_at(secret, STEP + 1), at=NOW) == STEP + 1


def test_two_steps_away_is_refused(secret: str) -> None:
    for step in (STEP - 2, STEP + 2, STEP - 100):
        code = code_at(secret, step)
        if code in {code_at(secret, s) for s in (STEP - 1, STEP, STEP + 1)}:
            continue  # a one-in-a-million collision with an accepted step
        assert verify_totp(secret, code, at=NOW) is None


def test_replayed_code_is_refused(secret: str) -> None:
    code = code_at(secret, STEP)
    step = verify_totp(secret, code, at=NOW)
    assert step == STEP
    assert verify_totp(secret, code, last_step=step, at=NOW) is None
    # an older step than the one already used is a replay too
    assert verify_totp(secret, code_at(secret, STEP - 1), last_step=STEP, at=NOW) is None
    # the next step is new
    assert verify_totp(secret, code_at(secret, STEP + 1), last_step=STEP, at=NOW) == STEP + 1


def test_spaces_are_ignored(secret: str) -> None:
    code = code_at(secret, STEP)
    assert verify_totp(secret, f" {code[:3]} {code[3:]} ", at=NOW) == STEP


@pytest.mark.parametrize(
    "code",
    ["", "12345", "1234567", "12345a", "abcdef", "12-345", "١٢٣٤٥٦", "123456\x00", "+12345"],
)
def test_malformed_codes_are_refused(secret: str, code: str) -> None:
    assert verify_totp(secret, code, at=NOW) is None


def test_wrong_code_is_refused(secret: str) -> None:
    right = code_at(secret, STEP)
    accepted = {code_at(secret, s) for s in (STEP - 1, STEP, STEP + 1)}
    wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in accepted)
    assert wrong != right
    assert verify_totp(secret, wrong, at=NOW) is None


def test_provisioning_uri(secret: str) -> None:
    uri = totp_uri(secret, "alice@example.com", issuer="Acme Corp")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert parts.path == "/Acme%20Corp:alice%40example.com"
    query = parse_qs(parts.query)
    assert query["secret"] == [secret]
    assert query["issuer"] == ["Acme Corp"]
    # an authenticator app reading the URI computes the same codes
    app = pyotp.parse_uri(uri)
    assert isinstance(app, pyotp.TOTP)
    assert verify_totp(secret, app.at(NOW), at=NOW) == STEP


def test_qr_svg_is_an_inline_svg_without_script() -> None:
    svg = qr_svg(totp_uri(new_totp_secret(), "alice@example.com"))
    assert svg.strip().startswith("<svg")
    assert "<?xml" not in svg
    assert "<script" not in svg.lower()
    root = etree.fromstring(svg.encode())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert re.fullmatch(r"0 0 \d+ \d+", root.get("viewBox") or "")
    assert root.get("width") is None and root.get("height") is None
    assert all(not el.tag.endswith("script") for el in root.iter())
    assert not any(str(name).startswith("on") for el in root.iter() for name in el.attrib)


def test_qr_svg_of_short_data_is_still_a_full_qr_code() -> None:
    # Micro QR codes (at most 17x17 modules) are unreadable by most phone apps; a full
    # QR code has at least 21 modules plus the 4-module quiet zone on each side.
    root = etree.fromstring(qr_svg("x").encode())
    assert root.get("viewBox") == "0 0 29 29"


def test_recovery_codes_are_unique_and_well_formed() -> None:
    codes = new_recovery_codes()
    assert len(codes) == len(set(codes)) == 10
    pattern = re.compile(f"[{RECOVERY_ALPHABET}]{{4}}(-[{RECOVERY_ALPHABET}]{{4}}){{3}}")
    assert all(pattern.fullmatch(code) for code in codes)
    assert not set(RECOVERY_ALPHABET) & set("01ilo")
    assert len(RECOVERY_ALPHABET) ** 16 >= 2**64
    assert len(set(new_recovery_codes(200))) == 200
    with pytest.raises(ValueError, match="at least 1"):
        new_recovery_codes(0)


def test_normalize_recovery_code_round_trips() -> None:
    code = new_recovery_codes(1)[0]
    stored = token_hash(normalize_recovery_code(code))
    for typed in (code, code.upper(), code.replace("-", ""), code.replace("-", " "), f" {code} "):
        assert token_hash(normalize_recovery_code(typed)) == stored
    assert normalize_recovery_code("K4D9-2MXQ 7HWE-p3ra") == "k4d92mxq7hwep3ra"
