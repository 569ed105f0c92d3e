"""Dispatch a data file to its loader by extension."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bastion.errors import LoadError

from .csv import load_csv
from .xml import load_xml

if TYPE_CHECKING:
    from bastion.orm import Environment


def load_data_file(env: Environment, module: str, path: Path) -> None:
    if path.suffix == ".csv":
        load_csv(env, module, path)
    elif path.suffix == ".xml":
        load_xml(env, module, path)
    else:
        raise LoadError("unsupported data file type (expected .csv or .xml)", path=str(path))
