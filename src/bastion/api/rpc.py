"""Odoo's external API: XML-RPC and JSON-RPC, so that Odoo scripts work unchanged.

    POST /xmlrpc/2/common              version, authenticate, login
    POST /xmlrpc/2/object              execute_kw, execute
    POST /jsonrpc                      {"service": "common" | "object", "method", "args"}
    POST /web/webclient/version_info   what odoorpc asks first

>>> common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common")       # doctest: +SKIP
>>> uid = common.authenticate("bastion", "alice", key, {})             # doctest: +SKIP
>>> models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object")       # doctest: +SKIP
>>> models.execute_kw("bastion", uid, key, "res.partner", "search_read",
...                   [[("is_company", "=", True)]], {"fields": ["name"]})  # doctest: +SKIP

Every call authenticates (a password, or an API key: see ``credentials.py``) and runs
in one transaction, in the caller's environment, through ``dispatch.call``: the only
way in. Nothing here answers HTML or a 500: every failure is a fault (XML-RPC) or an
error object (JSON-RPC) shaped as Odoo 17's, and an unexpected one is logged, not shown.
No call is authenticated by a cookie, so a cross-site page has nothing to ride on.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from bastion.auth.accounts import AuthenticationError, ThrottledError
from bastion.errors import (
    AccessError,
    ConstructionError,
    MissingError,
    ValidationError,
)
from bastion.orm.concurrency import RetriesExhausted, retrying
from bastion.web.context import Bastion, bastion, client_ip

from . import dispatch, rpc_json, rpc_xml
from .credentials import API_REFUSED, api_caller
from .dispatch import ApiError

if TYPE_CHECKING:
    from bastion.orm import Environment

logger = logging.getLogger(__name__)
router = APIRouter()

MAX_BODY = 10 * 1024 * 1024  # bytes; XML-RPC carries binaries as base64, so not tiny
SERVER_SERIE = "17.0"
OTHER_METHODS = ["GET", "PUT", "PATCH", "DELETE"]


def version_info() -> dict[str, object]:
    """What ``common.version()`` answers: Odoo 17's keys, Bastion named in the version
    (clients such as odoorpc read the leading number and adapt to it)."""
    return {
        "server_version": f"{SERVER_SERIE}+bastion",
        "server_version_info": [17, 0, 0, "final", 0, ""],
        "server_serie": SERVER_SERIE,
        "protocol_version": 1,
    }


# -- faults ----------------------------------------------------------------------------
# Odoo 17's faultCodes on /xmlrpc/2 (odoo/addons/base/controllers/rpc.py).
FAULT_APPLICATION = 1
FAULT_WARNING = 2
FAULT_ACCESS_DENIED = 3
FAULT_ACCESS_ERROR = 4
INTERNAL_ERROR = "Internal server error: the call failed and was logged on the server."


@dataclass(frozen=True)
class Fault:
    """A failed call in Odoo's terms: the XML-RPC ``code``, the name of Odoo's
    exception class (JSON-RPC ``data.name``) and the message the client shows."""

    code: int
    name: str
    message: str

    @property
    def text(self) -> str:
        """The XML-RPC faultString: the class, then the message."""
        return f"{self.name}: {self.message}"


def fault_of(exc: Exception, where: str = "") -> Fault:
    """The fault a client receives for ``exc``; anything unexpected is logged here and
    answered with a message that says nothing about it."""
    if isinstance(exc, ThrottledError):
        return Fault(FAULT_ACCESS_DENIED, "odoo.exceptions.AccessDenied", str(exc))
    if isinstance(exc, AuthenticationError):
        return Fault(FAULT_ACCESS_DENIED, "odoo.exceptions.AccessDenied", f"Access Denied. {exc}")
    if isinstance(exc, AccessError):
        return Fault(FAULT_ACCESS_ERROR, "odoo.exceptions.AccessError", str(exc))
    if isinstance(exc, ApiError) and exc.code == "method_not_allowed":
        # Odoo answers a private method with an AccessError; so does Bastion for
        # every name that is not callable through the API.
        return Fault(FAULT_ACCESS_ERROR, "odoo.exceptions.AccessError", str(exc))
    if isinstance(exc, MissingError):
        return Fault(FAULT_WARNING, "odoo.exceptions.MissingError", str(exc))
    if isinstance(exc, ValidationError):
        return Fault(FAULT_WARNING, "odoo.exceptions.ValidationError", str(exc))
    if isinstance(exc, ApiError | ConstructionError):
        return Fault(FAULT_WARNING, "odoo.exceptions.UserError", str(exc))
    if isinstance(exc, RetriesExhausted):
        logger.warning("RPC call %s gave up: %s", where or "(unparsed)", exc)
        return Fault(FAULT_APPLICATION, "odoo.exceptions.ConcurrencyError", str(exc))
    # Never the call's arguments in the log: execute_kw carries the password.
    logger.error("RPC call %s failed", where or "(unparsed)", exc_info=exc)
    return Fault(FAULT_APPLICATION, "werkzeug.exceptions.InternalServerError", INTERNAL_ERROR)


TOO_LARGE = Fault(
    FAULT_APPLICATION,
    "werkzeug.exceptions.RequestEntityTooLarge",
    f"The request body is larger than {MAX_BODY // (1024 * 1024)} MB.",
)
NOT_JSON = Fault(
    FAULT_APPLICATION,
    "werkzeug.exceptions.UnsupportedMediaType",
    "JSON-RPC requests are sent with Content-Type: application/json.",
)
ONLY_POST = Fault(
    FAULT_APPLICATION, "werkzeug.exceptions.MethodNotAllowed", "RPC endpoints answer POST only."
)


# -- the services ------------------------------------------------------------------------
Params = Sequence[object]


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_db(app: Bastion, db: object) -> None:
    if db != app.settings.db_name:
        raise ApiError(f"database {_shown(db)} does not exist", code="unknown_database")


def _authenticate(app: Bastion, ip: str, params: Params) -> int | Literal[False]:
    """The uid of ``(db, login, password_or_key)``, or False as Odoo answers for any
    wrong credential; a lockout is a fault, so that the client learns why."""
    db, login, secret = params[:3]
    _check_db(app, db)
    if not isinstance(login, str) or not isinstance(secret, str):
        return False
    try:
        with app.registry.transaction() as su:
            return api_caller(su, login, secret, ip=ip, throttle=app.throttle).user_id
    except ThrottledError:
        raise
    except AuthenticationError:
        return False


def _common(app: Bastion, ip: str, method: str, params: Params) -> object:
    if method == "version":
        return version_info()
    shapes = {"authenticate": 4, "login": 3}
    if method not in shapes:
        raise ApiError(
            f"the service 'common' has no method {_shown(method)} "
            "(it has version, authenticate and login)",
            code="unknown_method",
        )
    if len(params) != shapes[method]:
        expected = "db, login, password" + (", user_agent_env" if method == "authenticate" else "")
        raise ApiError(f"{method} takes ({expected}), not {len(params)} argument(s)")
    return _authenticate(app, ip, params)


def user_context(env: Environment) -> dict[str, object]:
    """``res.users.context_get``, which odoorpc calls right after login: Bastion keeps
    no language or time zone per user, and stores every datetime in UTC."""
    return {"lang": "en_US", "tz": "UTC", "uid": env.uid}


def _call(env: Environment, model: object, method: object, args: object, kwargs: object) -> object:
    if kwargs is None or kwargs is False:
        kwargs = {}  # some clients send execute_kw's optional kwargs as None
    if not isinstance(args, list | tuple) or not isinstance(kwargs, Mapping):
        raise ApiError("args must be a list and kwargs a mapping")
    if model == "res.users" and method == "context_get":
        if args or set(kwargs) - {"context"}:
            raise ApiError("context_get takes no arguments")
        return user_context(env)
    if not isinstance(model, str) or not isinstance(method, str):
        raise ApiError("the model and the method are given by name (strings)")
    return dispatch.call(env, model, method, args, kwargs)


def _object(app: Bastion, ip: str, method: str, params: Params) -> object:
    if method == "execute_kw":
        if len(params) not in (6, 7):
            raise ApiError(
                "execute_kw takes (db, uid, password, model, method, args[, kwargs]), "
                f"not {len(params)} argument(s)"
            )
        db, uid, secret, model, name, args = params[:6]
        kwargs = params[6] if len(params) == 7 else {}
    elif method == "execute":
        if len(params) < 5:
            raise ApiError(
                "execute takes (db, uid, password, model, method, *args), "
                f"not {len(params)} argument(s)"
            )
        db, uid, secret, model, name = params[:5]
        args, kwargs = list(params[5:]), {}
    else:
        raise ApiError(
            f"the service 'object' has no method {_shown(method)} (it has execute_kw and execute)",
            code="unknown_method",
        )
    _check_db(app, db)
    if isinstance(uid, bool) or not isinstance(uid, str | int) or not isinstance(secret, str):
        raise AuthenticationError(API_REFUSED)
    with app.registry.transaction() as su:
        caller = api_caller(su, uid, secret, ip=ip, throttle=app.throttle)
        # Raised inside the block, so that a failed call writes nothing.
        return _call(caller.environment(su), model, name, args, kwargs)


def serve(app: Bastion, ip: str, service: str, method: str, params: Params) -> object:
    """Run one call of ``service`` (``common`` or ``object``); its plain result."""
    if service == "common":
        return _common(app, ip, method, params)
    if service == "object":
        return _object(app, ip, method, params)
    raise ApiError(
        f"unknown service {_shown(service)}: Bastion serves 'common' and 'object'",
        code="unknown_service",
    )


def answer(app: Bastion, ip: str, service: str, method: str, params: Params) -> object | Fault:
    """:func:`serve`, with every exception turned into its :class:`Fault`."""
    try:
        # A transaction that lost a race to another runs again, as Odoo's do.
        return retrying(lambda: serve(app, ip, service, method, params))
    except Exception as exc:  # an RPC endpoint answers every failure
        return fault_of(exc, _where(service, method, params))


_LOGGABLE_NAME = re.compile(r"[A-Za-z0-9_.]{1,80}")


def _where(service: str, method: str, params: Params) -> str:
    """``object.execute_kw res.partner.read``: for the log, without any argument, and
    without names that could forge log lines."""

    def name(value: object) -> str:
        if isinstance(value, str) and _LOGGABLE_NAME.fullmatch(value):
            return value
        return "?"

    where = f"{name(service)}.{name(method)}"
    if service == "object" and len(params) >= 5:
        where += f" {name(params[3])}.{name(params[4])}"
    return where


# -- XML-RPC -------------------------------------------------------------------------------
def _xml_call(app: Bastion, ip: str, service: str, body: bytes) -> bytes:
    try:
        method, params = rpc_xml.parse_request(body)
    except ApiError as exc:
        fault = fault_of(exc)
        return rpc_xml.encode_fault(fault.code, fault.text)
    outcome = answer(app, ip, service, method, params)
    if not isinstance(outcome, Fault):
        try:
            return rpc_xml.encode_result(outcome)
        except Exception as exc:  # e.g. an integer beyond XML-RPC's range
            outcome = fault_of(exc, _where(service, method, params))
    return rpc_xml.encode_fault(outcome.code, outcome.text)


def _xml_response(payload: bytes, status: int = 200) -> Response:
    headers = {"Cache-Control": "no-store"}
    if status == 405:
        headers["Allow"] = "POST"
    return Response(payload, status_code=status, media_type="text/xml", headers=headers)


@router.post("/xmlrpc/2/{service}")
async def xmlrpc_endpoint(request: Request, service: str) -> Response:
    body = await read_body(request)
    if body is None:
        return _xml_response(rpc_xml.encode_fault(TOO_LARGE.code, TOO_LARGE.text), 413)
    payload = await run_in_threadpool(
        _xml_call, bastion(request), client_ip(request), service, body
    )
    return _xml_response(payload)


@router.api_route("/xmlrpc/2/{service}", methods=OTHER_METHODS)
def xmlrpc_other_methods(service: str) -> Response:
    return _xml_response(rpc_xml.encode_fault(ONLY_POST.code, ONLY_POST.text), 405)


# -- JSON-RPC ------------------------------------------------------------------------------
def _json_error(rid: object, fault: Fault) -> bytes:
    return rpc_json.encode_error(rid, fault.name, fault.message)


def _json_call(app: Bastion, ip: str, body: bytes) -> tuple[int, bytes]:
    try:
        envelope = rpc_json.loads(body)
    except ApiError as exc:
        return 400, _json_error(None, fault_of(exc))
    rid = rpc_json.request_id(envelope)
    where = "jsonrpc"
    try:
        params = rpc_json.params_of(envelope)
        service, method, args = params.get("service"), params.get("method"), params.get("args")
        if not isinstance(service, str) or not isinstance(method, str):
            raise ApiError("params needs a service and a method, by name", code="invalid_request")
        if not isinstance(args, list):
            raise ApiError("params.args must be a list", code="invalid_request")
        where = _where(service, method, args)
        outcome = answer(app, ip, service, method, args)
        if not isinstance(outcome, Fault):
            return 200, rpc_json.encode_result(rid, outcome)
    except Exception as exc:  # e.g. a result JSON cannot carry
        outcome = fault_of(exc, where)
    return 200, _json_error(rid, outcome)


def _version_call(_app: Bastion, _ip: str, body: bytes) -> tuple[int, bytes]:
    try:
        rid = rpc_json.request_id(rpc_json.loads(body))
    except ApiError as exc:
        return 400, _json_error(None, fault_of(exc))
    return 200, rpc_json.encode_result(rid, version_info())


def _json_response(payload: bytes, status: int = 200) -> Response:
    headers = {"Cache-Control": "no-store"}
    if status == 405:
        headers["Allow"] = "POST"
    return Response(payload, status_code=status, media_type="application/json", headers=headers)


def _is_json(request: Request) -> bool:
    # A cross-site form can send form-encoded or text/plain bodies, never this type.
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media == "application/json"


JsonHandler = Callable[[Bastion, str, bytes], tuple[int, bytes]]


async def _json_endpoint(request: Request, handler: JsonHandler) -> Response:
    if not _is_json(request):
        return _json_response(_json_error(None, NOT_JSON), 415)
    body = await read_body(request)
    if body is None:
        return _json_response(_json_error(None, TOO_LARGE), 413)
    status, payload = await run_in_threadpool(handler, bastion(request), client_ip(request), body)
    return _json_response(payload, status)


@router.post("/jsonrpc")
async def jsonrpc_endpoint(request: Request) -> Response:
    return await _json_endpoint(request, _json_call)


@router.post("/web/webclient/version_info")
async def version_info_endpoint(request: Request) -> Response:
    return await _json_endpoint(request, _version_call)


@router.api_route("/jsonrpc", methods=OTHER_METHODS)
@router.api_route("/web/webclient/version_info", methods=OTHER_METHODS)
def json_other_methods() -> Response:
    return _json_response(_json_error(None, ONLY_POST), 405)


# -- request bodies ----------------------------------------------------------------------
async def read_body(request: Request, limit: int = MAX_BODY) -> bytes | None:
    """The request body, or None when it is larger than ``limit`` bytes (read no
    further than that, whatever Content-Length claims)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
