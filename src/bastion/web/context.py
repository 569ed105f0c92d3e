"""One request's view of Bastion: its session, its user's environment, its page.

>>> with visit(request) as v:                                    # doctest: +SKIP
...     orders = v.env["sale.order"].search_read([], ["name"])   # the user's rights
...     return v.render("portal/list.html", rows=orders)

Every page reads through ``v.env``, the environment of the logged-in user (or of the
public user), never a superuser one: what a template receives is what the user may
read. ``v.su`` exists for the authentication layer only (sessions, credentials).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bastion.api.ratelimit import ApiRateLimiter
from bastion.auth.accounts import has_second_factor
from bastion.auth.sessions import SessionInfo, SessionStore
from bastion.auth.throttle import LoginThrottle
from bastion.auth.tokens import token_hash

from .csrf import CsrfTokens

if TYPE_CHECKING:
    import jinja2

    from bastion.orm import Environment
    from bastion.registry import Registry
    from bastion.settings import Settings

SESSION_COOKIE = "bastion_session"
DEVICE_COOKIE = "bastion_device"


@dataclass
class Bastion:
    """What a running app holds (``app.state.bastion``)."""

    settings: Settings
    registry: Registry
    sessions: SessionStore
    throttle: LoginThrottle
    csrf: CsrfTokens
    templates: jinja2.Environment
    public_uid: int
    api_limiter: ApiRateLimiter


class LoginRequired(Exception):
    """Raised by pages that need a logged-in user: answered with a redirect to login."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class EnrolmentRequired(Exception):
    """The user must enrol in two-factor authentication before anything else."""


class NotFound(Exception):
    """The record is missing or not readable: one answer, the same 404 page."""


def bastion(request: Request) -> Bastion:
    found = request.app.state.bastion
    assert isinstance(found, Bastion)
    return found


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def safe_next(path: str | None, default: str = "/my") -> str:
    """A local path to go to after login; anything else (another site) is ignored."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return default
    return path


@dataclass
class Visit:
    request: Request
    app: Bastion
    su: Environment
    env: Environment
    session: SessionInfo | None
    cookies: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    cleared: list[str] = field(default_factory=list)

    @property
    def logged_in(self) -> bool:
        return self.session is not None

    @property
    def user(self) -> Any:
        """The visitor's user record, read with the visitor's own rights."""
        return self.env["res.users"].browse(self.env.uid)

    @property
    def csrf_binding(self) -> str:
        if self.session is not None:
            return self.session.token_hash
        return token_hash(visitor_seed(self.request))

    def csrf_token(self) -> str:
        return self.app.csrf.issue(self.csrf_binding)

    def check_csrf(self, token: str | None) -> None:
        self.app.csrf.verify(token, self.csrf_binding)

    def require_login(self, *, enrolment_page: bool = False) -> None:
        """A logged-in user, enrolled in two-factor authentication if a setting
        requires it for one of their groups (``enrolment_page``: the pages that let
        them enrol)."""
        if self.session is None:
            target = self.request.url.path
            if self.request.url.query:
                target += "?" + self.request.url.query
            raise LoginRequired(target)
        if not enrolment_page and self.must_enrol():
            raise EnrolmentRequired

    def two_factor_required(self) -> bool:
        """Whether a setting requires a second factor of one of the user's groups."""
        required = self.app.settings.require_2fa_groups
        return bool(required) and self.in_groups(",".join(required))

    def must_enrol(self) -> bool:
        if not self.two_factor_required():
            return False
        return not has_second_factor(self.su["res.users"].browse(self.env.uid))

    def in_groups(self, groups: str) -> bool:
        """Group membership, as ``bastion.security`` decides it (``"a,b"``, ``"!a"``)."""
        return self.app.registry.security.user_in(self.env, groups)

    # -- responses ------------------------------------------------------------------
    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        page = self.app.templates.get_template(template).render(
            request=self.request,
            visit=self,
            csrf_token=self.csrf_token,
            **values,
        )
        response = HTMLResponse(page, status_code=status)
        self.finish(response)
        return response

    def redirect(self, url: str) -> RedirectResponse:
        response = RedirectResponse(url, status_code=303)
        self.finish(response)
        return response

    def set_cookie(self, name: str, value: str, max_age: int | None = None) -> None:
        self.cookies[name] = (value, max_age)

    def clear_cookie(self, name: str) -> None:
        self.cleared.append(name)

    def finish(self, response: Response) -> Response:
        """Apply the cookies set or cleared during the request."""
        secure = self.app.settings.cookie_secure
        if secure is None:
            secure = is_https(self.request)
        for name, (value, max_age) in self.cookies.items():
            response.set_cookie(
                name, value, max_age=max_age, httponly=True, samesite="lax", secure=secure
            )
        for name in self.cleared:
            response.delete_cookie(name, httponly=True, samesite="lax", secure=secure)
        if self.session is not None:
            # Pages of a logged-in user are never kept by the browser or a proxy.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def visitor_seed(request: Request) -> str:
    seed = request.scope.setdefault("state", {}).get("bastion_visitor")
    assert isinstance(seed, str), "VisitorCookieMiddleware is not installed"
    return seed


@contextmanager
def visit(request: Request) -> Iterator[Visit]:
    """A transaction for one request (committed when the block ends without error),
    the session of its cookie, and the environment of its user."""
    app = bastion(request)
    with app.registry.transaction() as su:
        session = app.sessions.lookup(su, request.cookies.get(SESSION_COOKIE))
        uid = session.user_id if session is not None else app.public_uid
        yield Visit(request, app, su, su.with_user(uid), session)


def session_store(settings: Settings) -> SessionStore:
    return SessionStore(
        idle=dt.timedelta(minutes=settings.session_idle_minutes),
        absolute=dt.timedelta(hours=settings.session_absolute_hours),
    )


def login_throttle(settings: Settings) -> LoginThrottle:
    return LoginThrottle(settings.redis_url or "memory://")


def form_values(data: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    """The typed values of a form, kept to refill it when it is rejected."""
    return {name: str(data.get(name, "")) for name in names}
