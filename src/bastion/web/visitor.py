"""Give every browser a random visitor cookie, so that forms shown before login (the
login form itself) carry CSRF tokens bound to that browser.

>>> app = VisitorCookieMiddleware(app)     # doctest: +SKIP

The value is in ``scope["state"]["bastion_visitor"]`` for the request that set it.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion.auth.tokens import new_token

COOKIE = "bastion_visitor"
MAX_AGE = 30 * 24 * 3600
API_PATHS = ("/api/", "/xmlrpc/", "/jsonrpc", "/web/webclient/version_info")


class VisitorCookieMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(API_PATHS):
            # Programs calling the API fill in no forms: no cookie for them.
            await self.app(scope, receive, send)
            return
        raw = b"; ".join(v for k, v in scope["headers"] if k == b"cookie").decode("latin-1")
        existing = cookie_parser(raw).get(COOKIE)
        value = existing if existing and len(existing) <= 100 else new_token()
        scope.setdefault("state", {})["bastion_visitor"] = value
        if existing == value:
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie: SimpleCookie = SimpleCookie()
                cookie[COOKIE] = value
                cookie[COOKIE]["path"] = "/"
                cookie[COOKIE]["max-age"] = MAX_AGE
                cookie[COOKIE]["httponly"] = True
                cookie[COOKIE]["samesite"] = "Lax"
                if secure:
                    cookie[COOKIE]["secure"] = True
                headers = MutableHeaders(scope=message)
                headers.append("set-cookie", cookie.output(header="").strip())
            await send(message)

        await self.app(scope, receive, send_with_cookie)
