"""The CLI installs addons and reports errors plainly (a real subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from bastion.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_install_then_list_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    done = run("install", "base", "--db", url)
    assert done.returncode == 0, done.stderr
    assert "installed: base" in done.stdout
    listed = run("models", "--db", url)
    assert "res.partner" in listed.stdout and "ir.rule" in listed.stdout


def test_unknown_addon_is_a_clear_error(tmp_path: Path) -> None:
    done = run("install", "nope", "--db", f"sqlite:///{tmp_path / 'cli.db'}")
    assert done.returncode == 1
    assert "addon 'nope' not found" in done.stderr


def test_demo_is_prepared_once(tmp_path: Path) -> None:
    from bastion.cli import prepare_demo

    database, secret = tmp_path / "var" / "demo.db", tmp_path / "var" / "secret.key"
    url, logins = prepare_demo(database, secret)
    assert url == f"sqlite:///{database}" and database.is_file()
    assert len(secret.read_text()) >= 32 and secret.stat().st_mode & 0o077 == 0
    by_role = {row[2] for row in logins}
    assert {"Administrator", "Portal user"} <= by_role
    customers = {row[3] for row in logins if row[2] == "Portal user"}
    assert len(customers) >= 2
    key = secret.read_text()
    again_url, again = prepare_demo(database, secret)  # already there: nothing redone
    assert again_url == url and again == logins and secret.read_text() == key


def test_user_add_and_passwd(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run("init", "--db", url).returncode == 0
    added = run(
        "user", "add", "carol", "--name", "Carol", "--type", "portal",
        "--password", "violet-long-passphrase", "--db", url,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    weak = run("user", "passwd", "carol", "--password", "password12345", "--db", url)
    assert weak.returncode == 1 and "common" in weak.stderr
    changed = run("user", "passwd", "carol", "--password", "violet-other-passphrase", "--db", url)
    assert changed.returncode == 0, changed.stderr
    missing = run("user", "passwd", "nobody", "--password", "violet-other-passphrase", "--db", url)
    assert missing.returncode == 1 and "no user with login 'nobody'" in missing.stderr
    bad_type = run(
        "user",
        "add",
        "dan",
        "--name",
        "Dan",
        "--type",
        "admin",
        "--password",
        "x" * 12,
        "--db",
        url,
    )
    assert bad_type.returncode == 1 and "--type must be one of" in bad_type.stderr
