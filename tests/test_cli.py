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
