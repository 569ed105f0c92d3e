"""Fields in the back office: what ``fields_get`` says of them, parsing what a form
sent, and how each is shown (a :class:`FieldView` per field).

>>> fields = describe(env["res.partner"])                     # doctest: +SKIP
>>> parse_input(fields["name"], "Acme")                       # doctest: +SKIP
'Acme'

Descriptions come from the user's own ``fields_get``, so restricted fields are not
there to show; names of linked records are read in the user's environment.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from bastion.domain.schema import INT_MAX, INT_MIN
from bastion.orm import Environment, Model

CHOICES_LIMIT = 80  # a many2one with more candidates than this is typed as an id
LINKS_SHOWN = 100
LIST_TYPES = frozenset(
    {"char", "integer", "float", "boolean", "date", "datetime", "selection", "many2one"}
)
# Ordering by a many2one would sort by the related id, which reads as no order at all.
SORTABLE_TYPES = LIST_TYPES - {"many2one"}
EDITABLE_TYPES = LIST_TYPES | {"text", "html"}
X2MANY = frozenset({"one2many", "many2many"})
CHECKED = frozenset({"1", "on", "true"})
INTEGER = re.compile(r"[+-]?[0-9]{1,12}")
DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?")


# -- fields as the user's fields_get describes them -----------------------------------------
@dataclass(frozen=True)
class FieldInfo:
    name: str
    type: str
    label: str
    required: bool
    readonly: bool
    store: bool
    relation: str | None
    selection: tuple[tuple[str, str], ...]
    help: str

    @property
    def editable(self) -> bool:
        """Whether a form may change it (the user's right to write is asked apart)."""
        return (
            self.name != "id" and self.store and not self.readonly and self.type in EDITABLE_TYPES
        )


def describe(records: Model) -> dict[str, FieldInfo]:
    """``fields_get`` in the records' environment, as typed values (same order)."""
    return {
        name: FieldInfo(
            name=name,
            type=str(info["type"]),
            label=str(info.get("string") or name),
            required=bool(info.get("required")),
            readonly=bool(info.get("readonly")),
            store=bool(info.get("store", True)),
            relation=str(info["relation"]) if info.get("relation") else None,
            selection=_pairs(info.get("selection")),
            help=str(info.get("help") or ""),
        )
        for name, info in records.fields_get().items()
    }


def _pairs(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(
        (str(pair[0]), str(pair[1]))
        for pair in value
        if isinstance(pair, list | tuple) and len(pair) == 2
    )


class InputError(Exception):
    """A typed value that does not fit its field; the message says why."""


def parse_input(info: FieldInfo, raw: str) -> object:
    """The value for create/write from what was typed; False for an empty input.

    >>> parse_input(FieldInfo("qty", "integer", "Qty", False, False, True, None, (), ""), "abc")
    Traceback (most recent call last):
    ...
    bastion.web.backoffice.InputError: 'abc' is not a whole number
    """
    if info.type == "boolean":
        return raw.strip().lower() in CHECKED
    if info.type in ("text", "html"):
        raw = raw.replace("\r\n", "\n")  # browsers send textarea lines with CRLF
    text = raw if info.type in ("char", "text", "html") else raw.strip()
    if not text.strip():
        return False
    shown = repr(text[:40])
    if info.type in ("char", "text", "html"):
        return text
    if info.type in ("integer", "many2one"):
        if not INTEGER.fullmatch(text):
            raise InputError(f"{shown} is not a {'record id' if info.relation else 'whole number'}")
        number = int(text)
        if not INT_MIN <= number <= INT_MAX or (info.relation and number <= 0):
            raise InputError(f"{shown} is out of range")
        return number
    if info.type == "float":
        number_f = float(text) if DECIMAL.fullmatch(text) else math.nan
        if not math.isfinite(number_f):
            raise InputError(f"{shown} is not a number")
        return number_f
    if info.type in ("date", "datetime"):
        try:
            moment = (dt.date if info.type == "date" else dt.datetime).fromisoformat(text)
        except ValueError:
            wanted = "YYYY-MM-DD" if info.type == "date" else "YYYY-MM-DD HH:MM"
            raise InputError(f"{shown} is not a date ({wanted})") from None
        if isinstance(moment, dt.datetime) and moment.tzinfo is not None:
            raise InputError(f"{shown}: give the time without a time zone")
        return moment
    if info.type == "selection":
        keys = [key for key, _label in info.selection]
        if text not in keys:
            raise InputError(f"{shown} is not one of {', '.join(keys)}")
        return text
    raise InputError("this kind of field cannot be edited here")


def comparable(info: FieldInfo, value: object) -> object:
    """A value as ``read`` returns it, in the shape :func:`parse_input` gives."""
    if info.type == "many2one":
        return value[0] if isinstance(value, tuple | list) and value else False
    if info.type == "html":
        return str(value) if value else False
    return value


def cell_text(info: FieldInfo, value: object) -> str:
    """A value as plain text, for lists and read-only forms."""
    if info.type == "boolean":
        return "Yes" if value else "No"
    if value is False or value is None:
        return ""
    if info.type == "many2one" and isinstance(value, tuple | list) and value:
        return str(value[1]) if isinstance(value[1], str) else f"#{value[0]} (restricted)"
    if info.type == "selection":
        return dict(info.selection).get(str(value), str(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"file ({len(value)} bytes)"
    if isinstance(value, list):
        return f"{len(value)} records"
    return str(value)


def input_text(info: FieldInfo, value: object) -> str:
    """A value as an input's ``value`` attribute."""
    if info.type == "many2one":
        found = comparable(info, value)
        return "" if found is False else str(found)
    if info.type == "datetime" and isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    return "" if value is False or value is None else str(value)


def names_of(records: Model) -> list[tuple[int, str]]:
    """(id, display name) of records the user reads, through ``read`` in their env."""
    if not records:
        return []
    rec_name = records.env.registry.specs[records._name].rec_name
    if rec_name == "id" or not records.fields_get([rec_name]):
        return [(rid, f"#{rid}") for rid in records.ids]
    names = {rid: f"#{rid}" for rid in records.ids}
    for row in records.read([rec_name]):
        if isinstance(name := row[rec_name], str) and name:
            names[int(str(row["id"]))] = name
    return list(names.items())


def readable_linked(env: Environment, model: str, ids: list[int]) -> Model:
    """Those of ``ids`` the user may read (the search decides), archived ones included."""
    records = env[model]
    domain: list[object] = [("id", "in", ids)]
    if records.fields_get(["active"]):
        domain.append(("active", "in", [True, False]))
    return records.search(domain)


@dataclass
class FieldView:
    """One field of a form, ready for the template."""

    info: FieldInfo
    widget: str  # input, textarea, html, checkbox, select, links, text, restricted
    text: str = ""
    input_type: str = "text"
    inputmode: str | None = None
    html: Markup | None = None
    note: str = ""  # beside an id input: the linked record's name
    link: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    links: list[tuple[int, str]] = field(default_factory=list)
    more: int = 0


def field_view(
    env: Environment,
    info: FieldInfo,
    value: object,
    *,
    readable: bool,
    editable: bool,
    typed: str | None,
) -> FieldView:
    view = FieldView(info, "text", text=cell_text(info, value))
    if not readable:
        view.widget, view.text = "restricted", "not available to you"
    elif info.type in X2MANY:
        ids = [i for i in value if isinstance(i, int)] if isinstance(value, list) else []
        assert info.relation is not None
        found = readable_linked(env, info.relation, ids[:LINKS_SHOWN])
        view.widget, view.links = "links", names_of(found)
        view.more = max(0, len(ids) - LINKS_SHOWN)
    elif info.type == "binary":
        view.text = cell_text(info, value) or "no file"
    elif not editable:
        if info.type == "html" and value:
            view.widget, view.html = "html", value if isinstance(value, Markup) else escape(value)
        elif info.type == "many2one" and isinstance(value, tuple) and isinstance(value[1], str):
            view.link = f"/odoo/{info.relation}/{value[0]}"
    else:
        _editable_view(env, view, value, typed)
    return view


def _editable_view(env: Environment, view: FieldView, value: object, typed: str | None) -> None:
    info = view.info
    view.text = input_text(info, value) if typed is None else typed
    if info.type == "boolean":
        view.widget = "checkbox"
        view.text = "1" if (bool(value) if typed is None else typed.lower() in CHECKED) else ""
    elif info.type in ("text", "html"):
        view.widget = "textarea"
        if info.type == "html" and value:
            view.html = value if isinstance(value, Markup) else escape(value)
    elif info.type == "selection":
        view.widget, view.options = "select", list(info.selection)
    elif info.type == "many2one":
        assert info.relation is not None
        view.options = _choices(env, info.relation)
        current = comparable(info, value)
        if isinstance(current, int) and str(current) not in dict(view.options):
            view.options.append((str(current), cell_text(info, value)))
        if view.options and (not view.text or view.text in dict(view.options)):
            view.widget = "select"
        else:  # many candidates, or an id typed that is not among them
            view.widget, view.inputmode = "input", "numeric"
            view.options = []
            view.note = cell_text(info, value)
    else:
        view.widget = "input"
        view.input_type = {"date": "date", "datetime": "datetime-local"}.get(info.type, "text")
        view.inputmode = {"integer": "numeric", "float": "decimal"}.get(info.type)


def _choices(env: Environment, model: str) -> list[tuple[str, str]]:
    records = env[model]
    if not records.has_access("read"):
        return []
    found = records.search([], limit=CHOICES_LIMIT + 1)
    if len(found) > CHOICES_LIMIT:
        return []
    return [(str(rid), name) for rid, name in names_of(found)]
