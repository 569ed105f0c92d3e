"""A user's own security settings: ``/my/security``.

    GET  /my/security                         sessions, two-factor status, password form
    POST /my/security/password                change the password (ends other sessions)
    POST /my/security/sessions/{id}/end       end one of my sessions
    POST /my/security/sessions/end-others     end all my other sessions
    GET  /my/security/confirm                 step-up: type the password again
    GET/POST /my/security/totp                enrol in two-factor authentication
    POST /my/security/totp/disable            turn it off
    POST /my/security/apikeys                 create an API key (shown once)
    POST /my/security/apikeys/{id}/revoke     revoke one of my keys

Changing the second factor or creating an API key asks for the password again when the last
check is older than ``stepup_minutes``, ends every other session of the user and gives
this session a new token (a copy of the old cookie is worthless).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup

from bastion.auth.accounts import (
    check_password,
    disable_totp,
    enable_totp,
    has_second_factor,
    set_password,
    store_recovery_codes,
)
from bastion.auth.apikeys import (
    api_keys_of,
    create_api_key,
    revoke_all_api_keys,
    revoke_api_key,
)
from bastion.auth.totp import new_recovery_codes, new_totp_secret, qr_svg, totp_uri
from bastion.errors import ValidationError
from bastion.web.csrf import CsrfError

from .context import SESSION_COOKIE, Visit, visit

router = APIRouter()
ENROL_MAX_AGE = 600


def _stepup_needed(v: Visit) -> bool:
    assert v.session is not None
    within = dt.timedelta(minutes=v.app.settings.stepup_minutes)
    return not v.app.sessions.recently_authenticated(v.session, within)


def _end_other_sessions(v: Visit) -> None:
    """After a credential change: every other session ends, this one gets a new token."""
    assert v.session is not None
    v.app.sessions.revoke_user(v.su, v.session.user_id, keep=v.session.id)
    token, v.session = v.app.sessions.rotate(v.su, v.session)
    v.set_cookie(SESSION_COOKIE, token)


def _refused(v: Visit, csrf_token: str) -> Response | None:
    """The page to answer a form post with when it may not proceed: no login (raises
    to the login page) or a bad CSRF token (the page again, 403); None: go on."""
    v.require_login(enrolment_page=True)
    try:
        v.check_csrf(csrf_token)
    except CsrfError as exc:
        return _page(v, 403, error=str(exc))
    return None


def _page(v: Visit, status: int = 200, **values: object) -> Response:
    assert v.session is not None
    me = v.env["res.users"].browse(v.session.user_id).read(["login", "name"])[0]
    defaults: dict[str, object] = {
        "error": None,
        "notice": None,
        "recovery_codes": None,
        "new_key": None,
    }
    return v.render(
        "security.html",
        status,
        me=me,
        sessions=v.app.sessions.of_user(v.su, v.session.user_id),
        current=v.session.id,
        has_totp=has_second_factor(v.su["res.users"].browse(v.session.user_id)),
        api_keys=api_keys_of(v.su["res.users"].browse(v.session.user_id)),
        **{**defaults, **values},
    )


@router.get("/my/security")
def security_page(request: Request) -> Response:
    with visit(request) as v:
        v.require_login(enrolment_page=True)
        return _page(v)


@router.post("/my/security/password")
def change_password(
    request: Request,
    current: Annotated[str, Form()] = "",
    new: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
    revoke_keys: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    with visit(request) as v:
        if (refused := _refused(v, csrf_token)) is not None:
            return refused
        assert v.session is not None
        user = v.su["res.users"].browse(v.session.user_id)
        if not check_password(user, current):
            return _page(v, 400, error="The current password is not correct.")
        if new != confirm:
            return _page(v, 400, error="The new password and its confirmation differ.")
        try:
            set_password(user, new)
        except ValidationError as exc:
            return _page(v, 400, error=str(exc))
        v.app.sessions.confirm_password(v.su, v.session)
        _end_other_sessions(v)
        notice = "Password changed. Your other sessions have ended."
        # API keys outlive a password change (integrations keep running) unless the
        # user asks: after a suspected compromise, they should.
        if revoke_keys:
            count = revoke_all_api_keys(user)
            notice += f" {count} API key(s) revoked."
        return _page(v, notice=notice)


@router.post("/my/security/sessions/end-others")
def end_others(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    with visit(request) as v:
        if (refused := _refused(v, csrf_token)) is not None:
            return refused
        assert v.session is not None
        count = v.app.sessions.revoke_user(v.su, v.session.user_id, keep=v.session.id)
        return _page(v, notice=f"{count} other session(s) ended.")


@router.post("/my/security/sessions/{session_id}/end")
def end_session(
    request: Request, session_id: int, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    with visit(request) as v:
        if (refused := _refused(v, csrf_token)) is not None:
            return refused
        assert v.session is not None
        # Only the user's own sessions: another user's id ends nothing.
        v.app.sessions.revoke(v.su, session_id, user_id=v.session.user_id)
        if session_id == v.session.id:
            v.clear_cookie(SESSION_COOKIE)
            return v.redirect("/web/login")
        return v.redirect("/my/security")


# -- step-up ---------------------------------------------------------------------------
@router.get("/my/security/confirm")
def confirm_page(request: Request, next: str = "/my/security") -> Response:  # noqa: A002
    with visit(request) as v:
        v.require_login(enrolment_page=True)
        return v.render("confirm.html", error=None, next=next)


@router.post("/my/security/confirm")
def confirm_submit(
    request: Request,
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/my/security",  # noqa: A002
) -> Response:
    with visit(request) as v:
        v.require_login(enrolment_page=True)
        assert v.session is not None
        try:
            v.check_csrf(csrf_token)
        except CsrfError as exc:
            return v.render("confirm.html", 403, error=str(exc), next=next)
        if not check_password(v.su["res.users"].browse(v.session.user_id), password):
            return v.render("confirm.html", 400, error="That password is not correct.", next=next)
        v.app.sessions.confirm_password(v.su, v.session)
        target = next if next.startswith("/my/security") else "/my/security"
        return v.redirect(target)


# -- two-factor enrolment ------------------------------------------------------------------
def _enrolment(v: Visit) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        v.app.settings.secret_key.get_secret_value(), salt="bastion.totp-enrol"
    )


def _enrol_page(v: Visit, secret: str, status: int = 200, error: str | None = None) -> Response:
    assert v.session is not None
    login = str(v.su["res.users"].browse(v.session.user_id).login)
    uri = totp_uri(secret, login)
    return v.render(
        "totp_enrol.html",
        status,
        # segno's SVG is generated here from our own data: trusted markup, no script.
        qr=Markup(qr_svg(uri)),  # noqa: S704
        secret=secret,
        pending=_enrolment(v).dumps({"uid": v.session.user_id, "secret": secret}),
        error=error,
    )


@router.get("/my/security/totp")
def totp_enrol_page(request: Request) -> Response:
    with visit(request) as v:
        v.require_login(enrolment_page=True)
        if _stepup_needed(v):
            return v.redirect("/my/security/confirm?next=" + quote("/my/security/totp"))
        return _enrol_page(v, new_totp_secret())


@router.post("/my/security/totp")
def totp_enrol_submit(
    request: Request,
    code: Annotated[str, Form()] = "",
    pending: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    with visit(request) as v:
        v.require_login(enrolment_page=True)
        assert v.session is not None
        if _stepup_needed(v):
            return v.redirect("/my/security/confirm?next=" + quote("/my/security/totp"))
        try:
            data = _enrolment(v).loads(pending, max_age=ENROL_MAX_AGE)
        except BadSignature:
            return v.redirect("/my/security/totp")
        if not isinstance(data, dict) or data.get("uid") != v.session.user_id:
            return v.redirect("/my/security/totp")
        secret = str(data["secret"])
        try:
            v.check_csrf(csrf_token)
        except CsrfError as exc:
            return _enrol_page(v, secret, 403, str(exc))
        user = v.su["res.users"].browse(v.session.user_id)
        if not enable_totp(user, secret, code):
            return _enrol_page(v, secret, 400, "That code is not valid: try the next one.")
        codes = new_recovery_codes()
        store_recovery_codes(user, codes)
        _end_other_sessions(v)
        return _page(
            v,
            notice="Two-factor authentication is on. Your other sessions have ended.",
            recovery_codes=codes,
        )


@router.post("/my/security/totp/disable")
def totp_disable(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    with visit(request) as v:
        if (refused := _refused(v, csrf_token)) is not None:
            return refused
        assert v.session is not None
        if _stepup_needed(v):
            return v.redirect("/my/security/confirm?next=" + quote("/my/security"))
        if v.two_factor_required():
            return _page(v, 403, error="Two-factor authentication is required for your account.")
        disable_totp(v.su["res.users"].browse(v.session.user_id))
        _end_other_sessions(v)
        return _page(v, notice="Two-factor authentication is off.")


# -- API keys ---------------------------------------------------------------------------------
@router.post("/my/security/apikeys")
def create_key(
    request: Request,
    name: Annotated[str, Form()] = "",
    days: Annotated[str, Form()] = "90",
    read_only: Annotated[str, Form()] = "",
    models: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    with visit(request) as v:
        if (refused := _refused(v, csrf_token)) is not None:
            return refused
        assert v.session is not None
        if _stepup_needed(v):
            return v.redirect("/my/security/confirm?next=" + quote("/my/security"))
        user = v.su["res.users"].browse(v.session.user_id)
        try:
            lifetime = int(days) if days.strip() else None
        except ValueError:
            return _page(v, 400, error="The key's lifetime is a number of days.")
        names = [m.strip() for m in models.split(",") if m.strip()]
        try:
            key = create_api_key(
                user, name, days=lifetime, read_only=bool(read_only), models=names or None
            )
        except ValidationError as exc:
            return _page(v, 400, error=str(exc))
        return _page(v, notice="API key created. Copy it now: it is not shown again.", new_key=key)


@router.post("/my/security/apikeys/{key_id}/revoke")
def revoke_key(request: Request, key_id: int, csrf_token: Annotated[str, Form()] = "") -> Response:
    with visit(request) as v:
        if (refused := _refused(v, csrf_token)) is not None:
            return refused
        assert v.session is not None
        # Only the user's own keys: another user's key id revokes nothing.
        revoked = revoke_api_key(v.su["res.users"].browse(v.session.user_id), key_id)
        return _page(v, notice="API key revoked." if revoked else "No such API key.")
