"""Login, second factor, logout.

    GET/POST /web/login          login and password (throttled, CSRF-protected)
    GET/POST /web/login/totp     the second factor, when the user has one
    POST     /web/logout         ends every session of the user

A refused login always says the same thing, whether the login exists or not. A new
session (a new random token) is made at each login; the visitor's previous one, if
any, ends, so a session id planted before login is worthless after it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bastion.auth.accounts import (
    AuthenticationError,
    ThrottledError,
    authenticate,
    check_second_factor,
    utcnow,
)
from bastion.auth.tokens import new_token, token_hash
from bastion.web.csrf import CsrfError

from .context import (
    DEVICE_COOKIE,
    SESSION_COOKIE,
    Bastion,
    Visit,
    client_ip,
    safe_next,
    visit,
)

router = APIRouter()

TICKET_COOKIE = "bastion_login_ticket"
TICKET_MAX_AGE = 300  # seconds to type the second factor
DEVICE_DAYS = 30


def _tickets(app: Bastion) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        app.settings.secret_key.get_secret_value(), salt="bastion.login-ticket"
    )


def _landing(v: Visit, uid: int, wanted: str | None) -> str:
    internal = v.app.registry.security.user_in(v.su.with_user(uid), "base.group_user")
    return safe_next(wanted, "/odoo" if internal else "/my")


def start_session(v: Visit, uid: int) -> None:
    """Open a session for ``uid``: the visitor's previous session ends first."""
    if v.session is not None:
        v.app.sessions.revoke(v.su, v.session.id, user_id=v.session.user_id)
    token, session = v.app.sessions.create(
        v.su, uid, ip=client_ip(v.request), user_agent=v.request.headers.get("user-agent", "")
    )
    v.session = session
    v.set_cookie(SESSION_COOKIE, token)


@router.get("/web/login")
def login_page(request: Request, redirect: str | None = None) -> Response:
    with visit(request) as v:
        return v.render("login.html", values={"login": ""}, error=None, redirect=redirect)


@router.post("/web/login")
def login_submit(
    request: Request,
    login: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    redirect: Annotated[str, Form()] = "",
) -> Response:
    with visit(request) as v:

        def refuse(message: str, status: int) -> Response:
            # The login typed is kept; the password never comes back in a page.
            return v.render(
                "login.html", status, values={"login": login}, error=message, redirect=redirect
            )

        try:
            v.check_csrf(csrf_token)
        except CsrfError as exc:
            return refuse(str(exc), 403)
        if not login.strip() or not password:
            return refuse("Enter your login and password.", 400)
        try:
            attempt = authenticate(
                v.su, login, password, ip=client_ip(request), throttle=v.app.throttle
            )
        except ThrottledError as exc:
            response = refuse(str(exc), 429)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except AuthenticationError as exc:
            return refuse(str(exc), 401)
        if attempt.needs_second_factor and not _trusted_device(v, attempt.user_id):
            ticket = _tickets(v.app).dumps({"uid": attempt.user_id, "n": new_token(8)})
            v.set_cookie(TICKET_COOKIE, ticket, max_age=TICKET_MAX_AGE)
            return v.redirect(f"/web/login/totp?redirect={safe_next(redirect)}")
        start_session(v, attempt.user_id)
        return v.redirect(_landing(v, attempt.user_id, redirect or None))


def _ticket_user(v: Visit) -> int | None:
    ticket = v.request.cookies.get(TICKET_COOKIE)
    if not ticket:
        return None
    try:
        data = _tickets(v.app).loads(ticket, max_age=TICKET_MAX_AGE)
    except BadSignature:
        return None
    uid = data.get("uid") if isinstance(data, dict) else None
    return uid if isinstance(uid, int) else None


def _trusted_device(v: Visit, uid: int) -> bool:
    token = v.request.cookies.get(DEVICE_COOKIE)
    if not token or len(token) > 200:
        return False
    devices = v.su["res.users.device"].search(
        [("user_id", "=", uid), ("token_hash", "=", token_hash(token))], limit=1
    )
    return bool(devices) and devices.expires_at > utcnow()


@router.get("/web/login/totp")
def totp_page(request: Request, redirect: str | None = None) -> Response:
    with visit(request) as v:
        if _ticket_user(v) is None:
            return v.redirect("/web/login")
        return v.render("login_totp.html", error=None, redirect=redirect)


@router.post("/web/login/totp")
def totp_submit(
    request: Request,
    code: Annotated[str, Form()] = "",
    trust: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    redirect: Annotated[str, Form()] = "",
) -> Response:
    with visit(request) as v:
        uid = _ticket_user(v)
        if uid is None:
            return v.redirect("/web/login")
        try:
            v.check_csrf(csrf_token)
        except CsrfError as exc:
            return v.render("login_totp.html", 403, error=str(exc), redirect=redirect)
        # Second factors are throttled like passwords, under a key of their own.
        key, ip = f"totp:{uid}", client_ip(request)
        decision = v.app.throttle.attempt(key, ip)
        if not decision.allowed:
            error = ThrottledError(decision.retry_after)
            return v.render("login_totp.html", 429, error=str(error), redirect=redirect)
        user = v.su["res.users"].browse(uid)
        if not check_second_factor(user, code):
            v.app.throttle.record_address_failure(ip)
            return v.render(
                "login_totp.html", 401, error="That code is not valid.", redirect=redirect
            )
        v.app.throttle.record_success(key, ip)
        v.clear_cookie(TICKET_COOKIE)
        if trust:
            _trust_device(v, uid)
        start_session(v, uid)
        return v.redirect(_landing(v, uid, redirect or None))


def _trust_device(v: Visit, uid: int) -> None:
    token = new_token()
    v.su["res.users.device"].create(
        {
            "user_id": uid,
            "token_hash": token_hash(token),
            "expires_at": utcnow() + dt.timedelta(days=DEVICE_DAYS),
            "name": v.request.headers.get("user-agent", "")[:200],
        }
    )
    v.set_cookie(DEVICE_COOKIE, token, max_age=DEVICE_DAYS * 24 * 3600)


@router.post("/web/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    with visit(request) as v:
        if v.session is not None:
            try:
                v.check_csrf(csrf_token)
            except CsrfError:
                return v.redirect("/my")
            # Logging out ends every session of the user: a cookie copied elsewhere
            # stops working too.
            v.app.sessions.revoke_user(v.su, v.session.user_id)
        v.clear_cookie(SESSION_COOKIE)
        return v.redirect("/web/login")
