"""The REST API: records as JSON under ``/api/v1``, with a bearer API key.

    GET    /api/v1/openapi.json        the OpenAPI 3.1 document (openapi.py)
    GET    /api/v1/{model}             search: domain, fields, limit, offset, order
    POST   /api/v1/{model}             create (a JSON object)          -> 201 + Location
    GET    /api/v1/{model}/{id}        one record, with an ETag (If-None-Match -> 304)
    PATCH  /api/v1/{model}/{id}        write (a JSON object; If-Match -> 412)
    DELETE /api/v1/{model}/{id}        unlink                          -> 204

>>> client.get("/api/v1/res.partner", params={"domain": '[["is_company", "=", true]]'},
...            headers={"Authorization": f"Bearer {key}"}).json()["data"]  # doctest: +SKIP

Each request is one transaction, run in the environment of the key's user narrowed to
the key's scope, and every model method runs through :func:`bastion.api.dispatch.call`:
access rights, record rules and field groups apply as in the portal. A record that
is missing and one the caller may not read get the same 404 body. Every error is
JSON, ``{"error": {"code": ..., "message": ...}}``, with a stable code; a request
that fails writes nothing. Requests are counted per key (ratelimit.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from bastion.auth.accounts import AuthenticationError, ThrottledError
from bastion.auth.throttle import ThrottleUnavailable
from bastion.domain.schema import INT_MAX
from bastion.errors import (
    AccessError,
    ConstructionError,
    DomainError,
    MissingError,
    ValidationError,
)
from bastion.orm.concurrency import RetriesExhausted, retrying
from bastion.web.context import bastion, client_ip

from . import dispatch
from .credentials import key_caller
from .openapi import DEFAULT_PAGE, MAX_PAGE, PREFIX, openapi_document, security_state
from .ratelimit import ApiRateLimiter, RateLimitDecision, RateLimitUnavailable

if TYPE_CHECKING:
    from bastion.orm import Environment

router = APIRouter()
logger = logging.getLogger(__name__)

MAX_BODY = 16 * 1024 * 1024  # bytes: binary fields travel as base64 inside the JSON
MAX_JSON_DEPTH = 32
MAX_OFFSET = 10**15
LIST_PARAMETERS = ("domain", "fields", "limit", "offset", "order")
_NUMBER = re.compile(r"[0-9]{1,16}")
_RECORD_ID = re.compile(r"[1-9][0-9]{0,9}")
_INT64 = 2**63


class Problem(Exception):
    """An answer other than success: an HTTP status, a stable code, a plain message."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        super().__init__(message)

    def response(self) -> Response:
        body = {"error": {"code": self.code, "message": self.message}}
        return json_response(body, self.status, self.headers)


def json_bytes(body: object) -> bytes:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")


def json_response(
    body: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    response = Response(json_bytes(body), status, media_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers or {})
    return response


def not_found(model: str) -> Problem:
    # One body for "missing" and "not yours", whatever the id: nothing tells them apart.
    return Problem(404, "not_found", f"No {model} record with this id.")


# -- errors --------------------------------------------------------------------------------
def problem_of(exc: BaseException) -> Problem:
    """The JSON answer for an exception raised while serving a request."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, ThrottledError):
        return Problem(429, "rate_limited", str(exc), {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, AuthenticationError):
        return Problem(401, "unauthorized", str(exc), {"WWW-Authenticate": "Bearer"})
    if isinstance(exc, RateLimitUnavailable | ThrottleUnavailable):
        return Problem(
            503, "unavailable", "The API is unavailable; try again later.", {"Retry-After": "5"}
        )
    if isinstance(exc, dispatch.ApiError):
        if exc.code == "unknown_model":
            return Problem(404, "not_found", str(exc))
        if exc.code == "method_not_allowed":
            return Problem(405, exc.code, str(exc))
        return Problem(422, exc.code, str(exc))
    if isinstance(exc, AccessError):
        return Problem(403, "access_denied", str(exc))
    if isinstance(exc, MissingError):
        return Problem(404, "not_found", str(exc))
    if isinstance(exc, ValidationError):
        return Problem(422, "validation_error", str(exc))
    if isinstance(exc, DomainError):
        return Problem(422, "invalid_domain", str(exc))
    if isinstance(exc, ConstructionError):
        return Problem(422, "invalid_arguments", str(exc))
    if isinstance(exc, RetriesExhausted):
        logger.warning("REST request gave up: %s", exc)
        message = "Other requests were changing the same data; nothing was saved. Try again."
        return Problem(503, "busy", message, {"Retry-After": "1"})
    if isinstance(exc, sa.exc.DataError):
        # A value the database refuses for its column (an integer out of range).
        return Problem(422, "invalid_arguments", "A value does not fit its field's column.")
    if isinstance(exc, sa.exc.IntegrityError):
        return Problem(422, "validation_error", "The change breaks a database constraint.")
    if isinstance(exc, sa.exc.OperationalError):
        logger.warning("REST request refused: database unavailable (%s)", exc.orig)
        return Problem(503, "unavailable", "The database is busy; try again.", {"Retry-After": "1"})
    logger.error("REST request failed", exc_info=exc)
    return Problem(500, "internal_error", "Internal error; the request changed nothing.")


# -- input -----------------------------------------------------------------------------------
def check_json(value: object, what: str, depth: int = 0) -> None:
    """Refuse what JSON carries but no field can store: lone surrogates, NUL
    characters, integers past 64 bits, non-finite numbers, deep nesting."""
    if depth > MAX_JSON_DEPTH:
        raise Problem(422, "invalid_arguments", f"{what}: nested deeper than {MAX_JSON_DEPTH}")
    if isinstance(value, str):
        if "\x00" in value:
            raise Problem(422, "invalid_arguments", f"{what}: text may not hold NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Problem(422, "invalid_arguments", f"{what}: text is not valid Unicode") from None
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not -_INT64 <= value < _INT64:
            raise Problem(422, "invalid_arguments", f"{what}: integer {value} is out of range")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise Problem(422, "invalid_arguments", f"{what}: numbers must be finite")
    elif isinstance(value, list):
        for item in value:
            check_json(item, what, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_json(key, what, depth + 1)
            check_json(item, what, depth + 1)


def parse_json(text: str | bytes, what: str) -> object:
    def refuse(constant: str) -> object:
        raise ValueError(f"{constant} is not a JSON number")

    try:
        value = json.loads(text, parse_constant=refuse)
    except RecursionError:
        raise Problem(422, "invalid_arguments", f"{what}: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError included
        raise Problem(422, "invalid_arguments", f"{what} is not valid JSON: {exc}") from None
    check_json(value, what)
    return value


def query_values(request: Request, known: tuple[str, ...]) -> dict[str, str]:
    """The query parameters, each given at most once, all of them known."""
    params = request.query_params
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise Problem(
            422,
            "invalid_arguments",
            f"unknown query parameter(s) {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(known) or 'none'})",
        )
    values: dict[str, str] = {}
    for name in params:
        given = params.getlist(name)
        if len(given) > 1:
            raise Problem(422, "invalid_arguments", f"query parameter {name!r} given twice")
        check_json(given[0], f"query parameter {name!r}")
        values[name] = given[0]
    return values


def number(values: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = values.get(name)
    if text is None or text == "":
        return default
    if not _NUMBER.fullmatch(text) or not low <= int(text) <= high:
        raise Problem(
            422,
            "invalid_arguments",
            f"{name} must be an integer from {low} to {high}, not {text!r}",
        )
    return int(text)


def field_list(values: Mapping[str, str]) -> list[str] | None:
    text = values.get("fields", "")
    names = [name.strip() for name in text.split(",") if name.strip()]
    return names or None


def record_id(model: str, text: str) -> int:
    """A path id: a text that is no positive integer names no record."""
    # Ids are 32-bit integer columns: a larger number names no record either (and
    # PostgreSQL would refuse to compare it).
    if not _RECORD_ID.fullmatch(text) or int(text) > INT_MAX:
        raise not_found(model)
    return int(text)


async def read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise Problem(413, "payload_too_large", f"the body is larger than {MAX_BODY} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise Problem(413, "payload_too_large", f"the body is larger than {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def values_in(env: Environment, model: str, body: bytes) -> dict[str, object]:
    """The JSON object of a create/write body, datetimes turned into naive UTC."""
    values = parse_json(body, "the body")
    if not isinstance(values, dict):
        raise Problem(422, "invalid_arguments", "the body must be a JSON object of field values")
    spec = env.registry.specs.get(model)
    for name, value in values.items():
        kind = spec.fields[name].type if spec is not None and name in spec.fields else None
        if kind == "datetime" and isinstance(value, str):
            values[name] = utc_text(name, value)
    return values


def utc_text(name: str, value: str) -> str:
    """``2024-05-01T10:00:00+02:00`` as Bastion stores it: ``2024-05-01 08:00:00``."""
    try:
        moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise Problem(
            422, "validation_error", f"{name}: expected a date-time such as 2024-05-01T10:00:00Z"
        ) from None
    return moment.isoformat(sep=" ")


# -- output ------------------------------------------------------------------------------------
def shaped(env: Environment, model: str, row: object) -> dict[str, Any]:
    """A row of ``read`` as the REST API answers it: datetimes in RFC 3339 (UTC)."""
    assert isinstance(row, dict)
    spec = env.registry.specs[model]
    for name, value in row.items():
        found = spec.fields.get(name)
        if found is not None and found.type == "datetime" and isinstance(value, str):
            row[name] = rfc3339(value)
    return row


def rfc3339(value: str) -> str:
    """``2024-05-01 08:00:00`` (naive UTC, as ``plain`` writes it) as
    ``2024-05-01T08:00:00Z``."""
    day, _, time = value.partition(" ")
    year, _, rest = day.partition("-")
    # strftime("%Y") does not pad years before 1000 on every platform.
    return f"{year.zfill(4)}-{rest}T{time}Z"


def etag_of(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:40] + '"'


def etag_matches(header: str, etag: str, *, weak: bool) -> bool:
    """Whether an If-None-Match (``weak`` comparison) or If-Match header names ``etag``."""
    for candidate in (part.strip() for part in header.split(",")):
        if candidate == "*":
            return True
        if weak and candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == etag:
            return True
    return False


def page_link(request: Request, values: Mapping[str, str], offset: int, limit: int) -> str:
    query = {**values, "limit": str(limit), "offset": str(offset)}
    return f"{request.url.path}?{urlencode(query)}"


# -- one request ---------------------------------------------------------------------------------
def rate_limiter(request: Request) -> ApiRateLimiter:
    """The app's limiter (made with the app, from its settings)."""
    return bastion(request).api_limiter


def bearer_key(request: Request) -> str:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Problem(
            401,
            "unauthorized",
            "Send an API key in the Authorization header: 'Bearer bst_...'.",
            {"WWW-Authenticate": "Bearer"},
        )
    return key.strip()


Handler = Callable[["Environment"], Response]


def serve(request: Request, handler: Handler) -> Response:
    """Authenticate, count, run ``handler`` in one transaction, answer JSON errors. A
    transaction that lost a race to another runs again (``bastion.orm.concurrency``),
    counted once by the rate limit."""
    headers: dict[str, str] = {}
    decision: RateLimitDecision | None = None

    def attempt() -> Response:
        nonlocal decision, headers
        key = bearer_key(request)
        app = bastion(request)
        with app.registry.transaction() as su:
            caller = key_caller(su, key, ip=client_ip(request), throttle=app.throttle)
            if decision is None:
                decision = rate_limiter(request).hit(f"rest-key:{key}")
                headers = decision.headers()
            if not decision.allowed:
                raise Problem(
                    429,
                    "rate_limited",
                    f"More than {decision.limit} requests for this API key; "
                    f"try again in {decision.retry_after} second(s).",
                )
            return handler(caller.environment(su))

    try:
        response = retrying(attempt)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a JSON answer
        response = problem_of(exc).response()
    response.headers.update(headers)
    return response


async def serve_async(request: Request, handler: Handler) -> Response:
    # The ORM is synchronous: the transaction runs in a worker thread.
    return await run_in_threadpool(serve, request, handler)


# -- routes --------------------------------------------------------------------------------------
@router.get(f"{PREFIX}/openapi.json")
def openapi(request: Request) -> Response:
    """The document is the same for every caller (no restricted field in it): no key."""
    try:
        with bastion(request).registry.transaction() as su:
            state = security_state(su)
            # Cached with the security state it was built from: it changes with the
            # access rights, and is rebuilt when they change.
            cached = state.memo.get("bastion.api.openapi")
            if not isinstance(cached, bytes):
                cached = json_bytes(openapi_document(su))
                state.memo["bastion.api.openapi"] = cached
    except Exception as exc:  # noqa: BLE001 - a JSON answer, always
        return problem_of(exc).response()
    return Response(cached, media_type="application/json")


@router.get(f"{PREFIX}/{{model}}")
async def list_records(request: Request, model: str) -> Response:
    def handler(env: Environment) -> Response:
        values = query_values(request, LIST_PARAMETERS)
        domain = parse_json(values["domain"], "domain") if values.get("domain") else []
        limit = number(values, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
        offset = number(values, "offset", 0, 0, MAX_OFFSET)
        count = dispatch.call(env, model, "search_count", [domain], {})
        kwargs = {
            "fields": field_list(values),
            "offset": offset,
            "limit": limit + 1,  # one more than asked: whether a next page exists
            "order": values.get("order") or None,
        }
        rows = dispatch.call(env, model, "search_read", [domain], kwargs)
        assert isinstance(rows, list)
        more = len(rows) > limit
        links: dict[str, str | None] = {
            "self": page_link(request, values, offset, limit),
            "next": page_link(request, values, offset + limit, limit) if more else None,
            "prev": page_link(request, values, max(0, offset - limit), limit) if offset else None,
        }
        body = {
            "data": [shaped(env, model, row) for row in rows[:limit]],
            "count": count,
            "limit": limit,
            "offset": offset,
            "links": links,
        }
        link = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items() if url)
        return json_response(body, headers={"Link": link} if link else None)

    return await serve_async(request, handler)


def find(env: Environment, model: str, text: str) -> int:
    """The id of the record the path names, if the caller may read it; else 404."""
    rid = record_id(model, text)
    domain: list[object] = [["id", "=", rid]]
    spec = env.registry.specs.get(model)
    if spec is not None and "active" in spec.fields:
        domain.append(["active", "in", [True, False]])  # archived records have a URL too
    if not dispatch.call(env, model, "search", [domain], {"limit": 1}):
        raise not_found(model)
    return rid


def read_one(env: Environment, model: str, rid: int, fields: list[str] | None) -> dict[str, Any]:
    rows = dispatch.call(env, model, "read", [[rid]], {"fields": fields})
    assert isinstance(rows, list)
    if not rows:
        raise not_found(model)
    return shaped(env, model, rows[0])


def read_back(env: Environment, model: str, rid: int) -> dict[str, Any]:
    """A record just created or written, as the caller reads it: only its id when the
    caller may write it but not read it (the change is kept)."""
    try:
        return read_one(env, model, rid, None)
    except (AccessError, MissingError):
        return {"id": rid}


def as_invalid(exc: MissingError) -> Problem:
    # A create or write naming a record that does not exist: bad input, not a 404 of
    # the URL.
    return Problem(422, "validation_error", str(exc))


@router.post(f"{PREFIX}/{{model}}")
async def create_record(request: Request, model: str) -> Response:
    try:
        body = await read_body(request)
    except Problem as problem:
        return problem.response()

    def handler(env: Environment) -> Response:
        query_values(request, ())
        # An unknown model or a missing right answers before the body is looked at.
        dispatch.call(env, model, "check_access_rights", ["create"], {})
        values = values_in(env, model, body)
        try:
            rid = dispatch.call(env, model, "create", [values], {})
        except MissingError as exc:
            raise as_invalid(exc) from None
        assert isinstance(rid, int)
        location = f"{PREFIX}/{model}/{rid}"
        return json_response(read_back(env, model, rid), 201, {"Location": location})

    return await serve_async(request, handler)


@router.get(f"{PREFIX}/{{model}}/{{record}}")
async def get_record(request: Request, model: str, record: str) -> Response:
    def handler(env: Environment) -> Response:
        values = query_values(request, ("fields",))
        rid = find(env, model, record)
        content = json_bytes(read_one(env, model, rid, field_list(values)))
        etag = etag_of(content)
        headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
        if etag_matches(request.headers.get("if-none-match", ""), etag, weak=True):
            return Response(status_code=304, headers=headers)
        response = Response(content, media_type="application/json")
        response.headers.update(headers)
        return response

    return await serve_async(request, handler)


@router.patch(f"{PREFIX}/{{model}}/{{record}}")
async def update_record(request: Request, model: str, record: str) -> Response:
    try:
        body = await read_body(request)
    except Problem as problem:
        return problem.response()

    def handler(env: Environment) -> Response:
        query_values(request, ())
        rid = find(env, model, record)
        values = values_in(env, model, body)
        expected = request.headers.get("if-match")
        if expected is not None:
            current = etag_of(json_bytes(read_one(env, model, rid, None)))
            if not etag_matches(expected, current, weak=False):
                raise Problem(
                    412,
                    "precondition_failed",
                    "The record changed since that version (If-Match): read it again.",
                    {"ETag": current},
                )
        try:
            dispatch.call(env, model, "write", [[rid], values], {})
        except MissingError as exc:
            raise as_invalid(exc) from None
        return json_response(read_back(env, model, rid))

    return await serve_async(request, handler)


@router.delete(f"{PREFIX}/{{model}}/{{record}}")
async def delete_record(request: Request, model: str, record: str) -> Response:
    def handler(env: Environment) -> Response:
        query_values(request, ())
        dispatch.call(env, model, "unlink", [[find(env, model, record)]], {})
        return Response(status_code=204, headers={"Cache-Control": "no-store"})

    return await serve_async(request, handler)


ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@router.api_route(PREFIX, methods=ALL_METHODS, include_in_schema=False)
@router.api_route(f"{PREFIX}/{{path:path}}", methods=ALL_METHODS, include_in_schema=False)
def elsewhere(request: Request, path: str = "") -> Response:
    """Whatever no route above answers: JSON too, not the site's HTML pages."""
    parts = [p for p in path.split("/") if p]
    if len(parts) == 1:
        allowed = "GET, POST"
    elif len(parts) == 2:
        allowed = "GET, PATCH, DELETE"
    else:
        return Problem(404, "not_found", f"No API endpoint at {request.url.path}.").response()
    message = f"{request.method} is not allowed here (allowed: {allowed})."
    return Problem(405, "method_not_allowed", message, {"Allow": allowed}).response()
