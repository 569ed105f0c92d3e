"""Security headers on every HTTP response: CSP, no framing, no sniffing, HSTS on https.

>>> from fastapi import FastAPI
>>> api = FastAPI()
>>> app = SecurityHeadersMiddleware(api)  # serve this one: uvicorn module:app

Wrap the finished application, as the outermost layer, rather than registering it with
``add_middleware``: Starlette's ``ServerErrorMiddleware`` always sits outside the
registered middleware and sends its 500 page past them, so only an outer wrapper also
covers error pages. A header the application set itself is left as it is, so one
route may, say, allow framing by sending its own ``X-Frame-Options``.

The policy allows nothing but Bastion's own origin: every script, style sheet, font
and image is served by Bastion itself, and nothing inline runs ('unsafe-inline' is
absent), so an HTML injection that slipped past the sanitiser still executes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)

# Read-only: a route that needs something else sends its own header instead.
SECURITY_HEADERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        # frame-ancestors supersedes it; kept for browsers that only know this one.
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
)

HSTS_HEADER: Final = "Strict-Transport-Security"
HSTS_VALUE: Final = "max-age=31536000; includeSubDomains"


class SecurityHeadersMiddleware:
    """Pure ASGI middleware adding :data:`SECURITY_HEADERS` (and HSTS) to responses.

    >>> from starlette.applications import Starlette
    >>> app = SecurityHeadersMiddleware(Starlette(), hsts=True)  # always send HSTS

    ``hsts``: ``True`` always sends ``Strict-Transport-Security``, ``False`` never does,
    ``None`` (the default) sends it on requests whose scheme is https. Behind a reverse
    proxy, run uvicorn with ``--proxy-headers`` (and ``--forwarded-allow-ips``) so
    that the scheme seen here is the one the browser used.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool | None = None) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # websocket and lifespan pass through untouched
            await self.app(scope, receive, send)
            return
        add_hsts = self.hsts if self.hsts is not None else scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message.get("headers", ())))
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if add_hsts:
                    headers.setdefault(HSTS_HEADER, HSTS_VALUE)
                message["headers"] = headers.raw
            await send(message)

        await self.app(scope, receive, send_with_headers)
