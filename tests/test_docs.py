"""The examples of docs/security-model.md run and print what the page says."""

from __future__ import annotations

import doctest
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_security_model_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the page uses paths relative to the repository
    result = doctest.testfile(
        str(ROOT / "docs" / "security-model.md"),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
    )
    assert result.attempted > 10
    assert result.failed == 0, f"{result.failed} example(s) of docs/security-model.md failed"
    assert os.getcwd() == str(ROOT)
