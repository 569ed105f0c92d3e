"""JSON-RPC 2.0 envelopes as Odoo's clients send and read them.

>>> envelope = loads(b'{"jsonrpc": "2.0", "method": "call", "id": 3, "params": {}}')
>>> request_id(envelope), params_of(envelope)
(3, {})
>>> encode_result(3, [1, 2])
b'{"jsonrpc": "2.0", "id": 3, "result": [1, 2]}'

Errors have Odoo's shape (``code`` 200, ``message`` "Odoo Server Error", ``data``
with the exception's ``name`` and ``message``), which is what odoorpc and Odoo's own
web client show; ``debug`` is always empty: no traceback leaves the server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from .dispatch import ApiError

ODOO_ERROR_CODE = 200
ODOO_ERROR_MESSAGE = "Odoo Server Error"
_MAX_ECHO = 200  # characters of a parser's complaint quoted back to the client


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON value")


def loads(body: bytes) -> dict[str, object]:
    """The request object; ApiError if the body is not JSON or not an object."""
    try:
        value = json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        complaint = str(exc)[:_MAX_ECHO]
        raise ApiError(f"Invalid JSON data: {complaint}", code="invalid_request") from None
    if not isinstance(value, dict):
        raise ApiError(
            "a JSON-RPC request is one object (batches are not supported)",
            code="invalid_request",
        )
    return value


def request_id(envelope: Mapping[str, object]) -> object:
    """The ``id`` to answer with: a string or number as sent, else null."""
    rid = envelope.get("id")
    if isinstance(rid, bool) or not isinstance(rid, str | int | float):
        return None
    return rid


def params_of(envelope: Mapping[str, object]) -> dict[str, object]:
    params = envelope.get("params", {})
    if not isinstance(params, dict):
        raise ApiError("params must be an object", code="invalid_request")
    return params


def _dumps(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")


def encode_result(rid: object, result: object) -> bytes:
    return _dumps({"jsonrpc": "2.0", "id": rid, "result": result})


def encode_error(rid: object, name: str, message: str) -> bytes:
    """Odoo's error object for an exception class ``name`` and its ``message``."""
    data = {"name": name, "debug": "", "message": message, "arguments": [message], "context": {}}
    error = {"code": ODOO_ERROR_CODE, "message": ODOO_ERROR_MESSAGE, "data": data}
    return _dumps({"jsonrpc": "2.0", "id": rid, "error": error})
