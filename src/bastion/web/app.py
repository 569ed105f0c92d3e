"""The web application: customer portal, back office, login.

>>> app = create_app(Settings(db_url="sqlite:///var/demo.db", secret_key=KEY))  # doctest: +SKIP
>>> uvicorn.run(app, host="127.0.0.1", port=8069)                               # doctest: +SKIP

Every response carries the security headers (headers.py); every browser gets a
visitor cookie so that forms before login carry CSRF tokens (visitor.py); errors
become plain pages: a record that is missing or that the user may not read is the same
404 page, byte for byte.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp

from bastion.api import rest, rpc
from bastion.api.ratelimit import ApiRateLimiter
from bastion.errors import AccessError, MissingError
from bastion.registry import Registry
from bastion.settings import Settings

from . import backoffice, login, portal, preferences, share
from .context import (
    Bastion,
    EnrolmentRequired,
    LoginRequired,
    NotFound,
    login_throttle,
    session_store,
)
from .csrf import CsrfTokens
from .headers import SecurityHeadersMiddleware
from .retry import RetryLostRaces
from .templating import make_templates
from .visitor import VisitorCookieMiddleware

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings, registry: Registry | None = None) -> ASGIApp:
    registry = registry or Registry(
        settings.db_url, addons_path=settings.addons_path, memo_entries=settings.memo_entries
    )
    with registry.transaction() as env:
        public = env.ref("base.public_user")
        assert public is not None
        public_uid = int(public.id)
    templates = make_templates()
    state = Bastion(
        settings=settings,
        registry=registry,
        sessions=session_store(settings),
        throttle=login_throttle(settings),
        csrf=CsrfTokens(settings.secret_key.get_secret_value()),
        templates=templates,
        public_uid=public_uid,
        api_limiter=ApiRateLimiter(settings.api_rate_limit, settings.redis_url or "memory://"),
    )
    app = FastAPI(title="Bastion", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.bastion = state
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(rpc.router)
    app.include_router(rest.router)
    app.include_router(login.router)
    app.include_router(preferences.router)
    app.include_router(share.router)
    app.include_router(portal.router)
    app.include_router(backoffice.router)

    def busy() -> HTMLResponse:
        page = templates.get_template("busy.html").render()
        return HTMLResponse(page, status_code=503, headers={"Retry-After": "1"})

    # Inside FastAPI's error handling: it must see a lost race before the 500 page.
    app.add_middleware(RetryLostRaces, busy=busy)

    def not_found() -> HTMLResponse:
        # One page for "missing" and "not yours": nothing in it depends on the request.
        return HTMLResponse(templates.get_template("404.html").render(), status_code=404)

    @app.get("/")
    def root() -> Response:
        return RedirectResponse("/my", status_code=303)

    @app.exception_handler(NotFound)
    def _not_found(_request: Request, _exc: NotFound) -> Response:
        return not_found()

    @app.exception_handler(MissingError)
    def _missing(_request: Request, _exc: MissingError) -> Response:
        return not_found()

    @app.exception_handler(AccessError)
    def _denied(request: Request, _exc: AccessError) -> Response:
        if request.url.path.startswith("/my"):
            return not_found()
        page = templates.get_template("403.html").render()
        return HTMLResponse(page, status_code=403)

    @app.exception_handler(LoginRequired)
    def _login(_request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/web/login?redirect={quote(exc.next_path)}", status_code=303)

    @app.exception_handler(EnrolmentRequired)
    def _enrol(_request: Request, _exc: EnrolmentRequired) -> Response:
        return RedirectResponse("/my/security/totp", status_code=303)

    @app.exception_handler(HTTPException)
    def _http(_request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            return not_found()
        page = templates.get_template("error.html").render(status=exc.status_code)
        return HTMLResponse(page, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, _exc: RequestValidationError) -> Response:
        # /my/orders/abc: an id that is not a number is a missing record.
        if request.method == "GET":
            return not_found()
        page = templates.get_template("error.html").render(status=400)
        return HTMLResponse(page, status_code=400)

    # Outside FastAPI's own error handling, so that even a 500 carries the headers.
    return SecurityHeadersMiddleware(VisitorCookieMiddleware(app), hsts=settings.cookie_secure)
