"""Jinja2 templates: autoescaped everywhere; only sanitised Html values and template
text itself are Markup.

>>> templates = make_templates()
>>> templates.get_template("404.html").render(request=None)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).parent / "templates"


def make_templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["money"] = money
    environment.filters["day"] = day
    environment.filters["label"] = label
    environment.filters["name"] = display
    return environment


def money(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return f"{value:,.2f}"


def day(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return ""


def label(value: object, selection: dict[str, str]) -> str:
    """A selection key as its label."""
    return selection.get(str(value), "") if value else ""


def display(value: object) -> str:
    """A many2one as ``read`` returns it, ``(id, name)``: the name, or nothing when the
    user may not read the related record (its name is then False)."""
    if isinstance(value, tuple | list) and len(value) == 2 and isinstance(value[1], str):
        return value[1]
    return ""
