"""Calling model methods from outside: the one dispatcher behind RPC and REST.

>>> call(env, "res.partner", "search_read", [[("is_company", "=", True)]],
...      {"fields": ["name"], "limit": 5})                      # doctest: +SKIP
[{'id': 7, 'name': 'Acme'}]

Only the CRUD methods below and methods marked ``@public`` can be called; any other
name (``_private``, ``__class__``, ``sudo``, an attribute that is not a method) is
refused with the same :class:`ApiError`, before anything runs. Arguments are checked
here (ids are integers, limits bounded, field names in the model's field map) and
domains go through the domain parser inside the ORM, so a bad call is a clear error,
never a 500. Every call runs in the caller's environment: access rights, rules,
field groups and the credential's scope apply exactly as in the portal.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from bastion.domain.schema import INT_MAX
from bastion.errors import BastionError
from bastion.orm import Model

if TYPE_CHECKING:
    from bastion.orm import Environment

MAX_LIMIT = 10_000
MAX_IDS = 10_000
MAX_ID = INT_MAX  # ids are integer columns
OPERATIONS = ("read", "write", "create", "unlink")


class ApiError(BastionError):
    """A call that cannot be made as written; ``code`` is stable for clients."""

    def __init__(self, message: str, *, code: str = "invalid_arguments") -> None:
        self.code = code
        super().__init__(message)


class UnknownMethod(ApiError):
    def __init__(self, model: str, method: str) -> None:
        super().__init__(
            f"The method {method!r} of {model!r} does not exist or cannot be called "
            "through the API (only CRUD methods and methods marked @public can).",
            code="method_not_allowed",
        )


# -- checking arguments ------------------------------------------------------------
def ids_of(value: object, what: str = "ids") -> list[int]:
    """A record id or a list of them, as a list; anything else is an ApiError."""
    items = [value] if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(items, list | tuple):
        raise ApiError(f"{what} must be an integer or a list of integers, not {value!r}")
    if len(items) > MAX_IDS:
        raise ApiError(f"{what}: at most {MAX_IDS} ids per call")
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 < item <= MAX_ID:
            raise ApiError(f"{what} must be positive integers (ids), not {item!r}")
    return list(items)


def limit_of(value: object) -> int:
    if value is None or value is False:
        return MAX_LIMIT
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ApiError(f"limit must be a non-negative integer, not {value!r}")
    if value > MAX_LIMIT:
        raise ApiError(f"limit must be at most {MAX_LIMIT}, not {value}")
    return value


def offset_of(value: object) -> int:
    if value is None or value is False:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ApiError(f"offset must be a non-negative integer, not {value!r}")
    return value


def order_of(value: object) -> str | None:
    if value is None or value is False or value == "":
        return None
    if not isinstance(value, str) or len(value) > 200:
        raise ApiError(f"order must be text such as 'name desc, id', not {value!r}")
    return value


def domain_of(value: object) -> list[Any]:
    if value is None or value is False:
        return []
    if not isinstance(value, list | tuple):
        raise ApiError(f"a domain is a list of terms, not {value!r}")
    return [list(term) if isinstance(term, list | tuple) else term for term in value]


def field_names(records: Model, value: object) -> list[str] | None:
    """Field names, each checked against the model's field map."""
    if value is None or value is False or value == []:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(f, str) for f in value):
        raise ApiError(f"fields must be a list of field names, not {value!r}")
    known = records._spec.fields
    unknown = [f for f in value if f not in known]
    if unknown:
        raise ApiError(
            f"{records._name} has no field(s) {', '.join(repr(f) for f in unknown)}",
            code="unknown_field",
        )
    return list(value)


def values_of(records: Model, value: object) -> dict[str, object]:
    """Values for create/write: names in the field map; binary given as base64."""
    if not isinstance(value, Mapping):
        raise ApiError(f"values must be a mapping of field names to values, not {value!r}")
    fields = records._spec.fields
    result: dict[str, object] = {}
    for name, item in value.items():
        if not isinstance(name, str) or name not in fields:
            raise ApiError(f"{records._name} has no field {name!r}", code="unknown_field")
        if fields[name].type == "binary" and isinstance(item, str):
            try:
                item = base64.b64decode(item, validate=True)
            except (binascii.Error, ValueError):
                raise ApiError(f"{records._name}.{name}: expected base64 data") from None
        result[name] = item
    return result


# -- results -----------------------------------------------------------------------------
def plain(value: object) -> object:
    """A result as JSON/XML-RPC can carry it, in Odoo's shapes: False for empty,
    dates as 'YYYY-MM-DD' and datetimes as 'YYYY-MM-DD HH:MM:SS', bytes as base64."""
    if value is None:
        return False
    if isinstance(value, Markup):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")  # pads years before 1000
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Model):
        return value.ids  # a recordset a public method returned, as Odoo: its ids
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


# -- the methods ---------------------------------------------------------------------------
Args = Sequence[object]
Kwargs = Mapping[str, object]


def _arguments(args: Args, kwargs: Kwargs, names: Sequence[str]) -> dict[str, object]:
    # ``load`` (Odoo's "_classic_read") is accepted and changes nothing: many2one values
    # are always (id, name), as Odoo's default.
    """Odoo's positional-or-keyword arguments, checked against ``names``."""
    if len(args) > len(names):
        raise ApiError(f"too many positional arguments: expected at most {len(names)}")
    bound = dict(zip(names, args, strict=False))
    for key, item in kwargs.items():
        if key == "context":
            continue  # Odoo clients send one; Bastion's environment is the context
        if key not in names:
            raise ApiError(f"unexpected argument {key!r}")
        if key in bound:
            raise ApiError(f"argument {key!r} given twice")
        bound[key] = item
    return bound


def _search(records: Model, a: dict[str, object]) -> object:
    found = records.search(
        domain_of(a.get("domain")),
        offset=offset_of(a.get("offset")),
        limit=limit_of(a.get("limit")),
        order=order_of(a.get("order")),
    )
    return len(found) if a.get("count") else found.ids


def _search_read(records: Model, a: dict[str, object]) -> object:
    return records.search_read(
        domain_of(a.get("domain")),
        field_names(records, a.get("fields")),
        offset=offset_of(a.get("offset")),
        limit=limit_of(a.get("limit")),
        order=order_of(a.get("order")),
    )


def _create(records: Model, a: dict[str, object]) -> object:
    given = a.get("vals_list")
    if isinstance(given, Mapping):
        return int(records.create(values_of(records, given)).id)
    if not isinstance(given, list | tuple) or not given:
        raise ApiError("create takes a mapping of values, or a non-empty list of them")
    return records.create([values_of(records, v) for v in given]).ids


def _check_access_rights(records: Model, a: dict[str, object]) -> object:
    operation = a.get("operation")
    if operation not in OPERATIONS:
        raise ApiError(f"operation must be one of {', '.join(OPERATIONS)}, not {operation!r}")
    if a.get("raise_exception", True):
        records.browse().check_access(str(operation))
        return True
    return records.browse().has_access(str(operation))


def _fields_get(records: Model, a: dict[str, object]) -> object:
    allfields = field_names(records, a.get("allfields"))
    attributes = a.get("attributes")
    if attributes is not None and not (
        isinstance(attributes, list | tuple) and all(isinstance(x, str) for x in attributes)
    ):
        raise ApiError("attributes must be a list of attribute names")
    return records.fields_get(allfields, list(attributes) if attributes else None)


CRUD: dict[str, tuple[tuple[str, ...], Callable[[Model, dict[str, object]], object]]] = {
    "search": (("domain", "offset", "limit", "order", "count"), _search),
    "search_count": (
        ("domain", "limit"),
        lambda r, a: r.search_count(domain_of(a.get("domain")), limit=limit_of(a.get("limit"))),
    ),
    "read": (
        ("ids", "fields", "load"),
        lambda r, a: r.browse(ids_of(a.get("ids"))).read(field_names(r, a.get("fields"))),
    ),
    "search_read": (("domain", "fields", "offset", "limit", "order", "load"), _search_read),
    "create": (("vals_list",), _create),
    "write": (
        ("ids", "vals"),
        lambda r, a: r.browse(ids_of(a.get("ids"))).write(values_of(r, a.get("vals"))),
    ),
    "unlink": (("ids",), lambda r, a: r.browse(ids_of(a.get("ids"))).unlink()),
    "fields_get": (("allfields", "attributes"), _fields_get),
    "check_access_rights": (("operation", "raise_exception"), _check_access_rights),
}
READ_METHODS = frozenset({"search", "search_count", "read", "search_read", "fields_get"})


def call(env: Environment, model: str, method: str, args: Args, kwargs: Kwargs) -> object:
    """Call ``method`` of ``model`` in ``env`` (the caller's), returning a plain result.

    A public method receives the records named by its first argument (ids), the rest
    as is: ``call(env, "sale.order", "action_confirm", [[7]], {})``.
    """
    if not isinstance(model, str) or model not in env.registry.specs:
        raise ApiError(f"Object {model!r} doesn't exist", code="unknown_model")
    spec = env.registry.specs[model]
    if spec.abstract:
        raise ApiError(f"Object {model!r} doesn't exist", code="unknown_model")
    if not isinstance(args, list | tuple) or not isinstance(kwargs, Mapping):
        raise ApiError("args must be a list and kwargs a mapping")
    records = env[model]
    if not isinstance(method, str):
        raise UnknownMethod(model, repr(method))
    if method in CRUD:
        names, run = CRUD[method]
        return plain(run(records, _arguments(args, kwargs, names)))
    function = spec.public_methods.get(method)
    if function is None:
        raise UnknownMethod(model, method)
    if not args:
        raise ApiError(f"{method} needs the ids of the records as its first argument")
    target = records.browse(ids_of(args[0]))
    extra = {k: v for k, v in kwargs.items() if k != "context"}
    try:
        inspect.signature(function).bind(target, *args[1:], **extra)
    except TypeError as exc:
        raise ApiError(f"{model}.{method}: {exc}") from None
    return plain(function(target, *args[1:], **extra))
