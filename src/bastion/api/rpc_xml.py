"""XML-RPC as Odoo's clients speak it: requests parsed safely, answers encoded.

>>> body = xmlrpc.client.dumps((1, 2), "add").encode()
>>> parse_request(body)
('add', (1, 2))
>>> b"<int>7</int>" in encode_result(7)
True

Requests are parsed by :func:`xmlrpc.client.loads` (``use_builtin_types``: base64 as
bytes, dateTime.iso8601 as datetime), after a check that the document declares no
DOCTYPE: without a DTD there are no entities, hence no entity expansion and no
external entity. Answers are what Odoo 17 sends: strings without XML-illegal control
characters, no ``<nil/>`` (``dispatch.plain`` already turned None into False).
"""

from __future__ import annotations

import xmlrpc.client
from typing import Any, NoReturn
from xml.parsers import expat

from .dispatch import ApiError

# XML 1.0 forbids these code points even as character references; Odoo strips them
# too, since a client's parser would refuse the whole answer.
_ILLEGAL = dict.fromkeys([*(set(range(32)) - {9, 10, 13}), 0xFFFE, 0xFFFF])
_MAX_ECHO = 200  # characters of a parser's complaint quoted back to the client


class _PrologRead(Exception):
    """The root element started: nothing can declare a DOCTYPE any more."""


def _doctype(*_args: object) -> NoReturn:
    raise ApiError(
        "XML-RPC requests may not contain a DOCTYPE or entity declarations",
        code="invalid_request",
    )


def _root(*_args: object) -> NoReturn:
    raise _PrologRead


def refuse_declarations(body: bytes) -> None:
    """Raise ApiError if ``body`` declares a DOCTYPE (and so any entity).

    defusedxml is not among Bastion's dependencies, so this does its job for the one
    thing XML-RPC needs: the same expat parser as :mod:`xmlrpc.client`, with the same
    encoding detection (a UTF-16 body cannot hide a declaration from a byte search),
    stopped at the root element, since a DOCTYPE can only come before it.
    """
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _doctype
    parser.EntityDeclHandler = _doctype
    parser.StartElementHandler = _root
    try:
        parser.Parse(body, True)
    except _PrologRead:
        return
    except expat.ExpatError as exc:
        raise ApiError(f"not a valid XML document: {exc}", code="invalid_request") from None


def parse_request(body: bytes) -> tuple[str, tuple[object, ...]]:
    """``(method name, parameters)`` of an XML-RPC call; ApiError if it is not one."""
    refuse_declarations(body)
    try:
        params, method = xmlrpc.client.loads(body, use_builtin_types=True)
    except xmlrpc.client.Fault:
        raise ApiError("a request cannot be a fault", code="invalid_request") from None
    except Exception as exc:  # whatever the parser trips on is a bad request
        complaint = str(exc)[:_MAX_ECHO]
        raise ApiError(
            f"not a valid XML-RPC request: {complaint}", code="invalid_request"
        ) from None
    if not isinstance(method, str) or not method:
        raise ApiError("the XML-RPC request names no method", code="invalid_request")
    return method, params


def _clean(value: object) -> object:
    if isinstance(value, str):
        return value.translate(_ILLEGAL)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _document(payload: tuple[Any, ...] | xmlrpc.client.Fault) -> bytes:
    text = xmlrpc.client.dumps(payload, methodresponse=True, allow_none=False)
    # A lone surrogate cannot be encoded; it becomes '?' rather than failing the answer.
    return text.encode("utf-8", "replace")


def encode_result(value: object) -> bytes:
    """A methodResponse carrying ``value`` (a plain value: see ``dispatch.plain``)."""
    return _document((_clean(value),))


def encode_fault(code: int, text: str) -> bytes:
    """A methodResponse carrying a fault; :mod:`xmlrpc.client` raises it as
    ``Fault(code, text)``."""
    return _document(xmlrpc.client.Fault(code, str(_clean(text))))
