"""Helpers for HTTP tests of the web app: an app over a registry, and a client that
logs in and submits forms with their CSRF tokens, as a browser would.

>>> client = WebClient(make_app(registry))
>>> client.login("alice", "a long passphrase")
>>> client.get("/my/orders").status_code
200
"""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient
from starlette.types import ASGIApp

from bastion import Registry
from bastion.settings import Settings
from bastion.web.app import create_app

SECRET = "test-secret-key-0123456789-abcdefghijklmnop"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(registry: Registry, **settings: Any) -> ASGIApp:
    return create_app(Settings(db_url=registry.url, secret_key=SECRET, **settings), registry)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


class WebClient(TestClient):
    def __init__(self, app: ASGIApp, **kw: Any) -> None:
        super().__init__(app, follow_redirects=False, **kw)

    def login(self, login: str, password: str, *, expect: int = 303) -> Any:
        page = self.get("/web/login")
        response = self.post(
            "/web/login",
            data={"login": login, "password": password, "csrf_token": csrf_of(page.text)},
        )
        assert response.status_code == expect, response.text[:500]
        return response

    def submit(self, page_path: str, action: str, data: dict[str, str]) -> Any:
        """POST ``data`` to ``action`` with the CSRF token of the page at ``page_path``."""
        page = self.get(page_path)
        assert page.status_code == 200, f"{page_path}: {page.status_code}"
        return self.post(action, data={**data, "csrf_token": csrf_of(page.text)})
