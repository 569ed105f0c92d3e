"""SecurityHeadersMiddleware on a real Starlette (and FastAPI) app, through TestClient."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol

import pytest
from fastapi import FastAPI, HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

from bastion.web.headers import (
    CONTENT_SECURITY_POLICY,
    HSTS_HEADER,
    HSTS_VALUE,
    SECURITY_HEADERS,
    SecurityHeadersMiddleware,
)

EXPECTED = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


async def ok(request: Request) -> Response:
    return PlainTextResponse("ok")


async def boom(request: Request) -> Response:
    raise RuntimeError("the endpoint failed")


async def go_home(request: Request) -> Response:
    return RedirectResponse("/ok", status_code=303)


async def own_headers(request: Request) -> Response:
    return PlainTextResponse(
        "framed",
        headers={"X-Frame-Options": "SAMEORIGIN", "Content-Security-Policy": "default-src *"},
    )


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text())
    await websocket.close()


lifespan_ran: list[str] = []


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    lifespan_ran.append("startup")
    yield
    lifespan_ran.append("shutdown")


def build_app(static_dir: Path) -> Starlette:
    return Starlette(
        routes=[
            Route("/ok", ok),
            Route("/boom", boom),
            Route("/go-home", go_home),
            Route("/own", own_headers),
            WebSocketRoute("/ws", echo),
            Mount("/static", StaticFiles(directory=static_dir), name="static"),
        ],
        lifespan=lifespan,
    )


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    (tmp_path / "app.css").write_text("body { margin: 0 }\n")
    return tmp_path


@pytest.fixture
def client(static_dir: Path) -> TestClient:
    app = SecurityHeadersMiddleware(build_app(static_dir))
    return TestClient(app, raise_server_exceptions=False, follow_redirects=False)


class HeaderList(Protocol):
    """What the test client's response headers offer (httpx or httpx2)."""

    def get_list(self, key: str, split_commas: bool = False) -> list[str]: ...
    def __contains__(self, key: object) -> bool: ...


def assert_security_headers(response_headers: HeaderList, *, hsts: bool) -> None:
    for name, value in EXPECTED.items():
        assert response_headers.get_list(name) == [value], name
    if hsts:
        assert response_headers.get_list("strict-transport-security") == [
            "max-age=31536000; includeSubDomains"
        ]
    else:
        assert "strict-transport-security" not in response_headers


def test_constants_match_the_policy() -> None:
    assert CONTENT_SECURITY_POLICY == EXPECTED["content-security-policy"]
    assert {k.lower(): v for k, v in SECURITY_HEADERS.items()} == EXPECTED
    assert (HSTS_HEADER, HSTS_VALUE) == (
        "Strict-Transport-Security",
        "max-age=31536000; includeSubDomains",
    )
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert "http" not in CONTENT_SECURITY_POLICY  # no third-party origin
    with pytest.raises(TypeError):
        SECURITY_HEADERS["X-Frame-Options"] = "SAMEORIGIN"  # type: ignore[index]


def test_headers_on_200(client: TestClient) -> None:
    response = client.get("/ok")
    assert response.status_code == 200 and response.text == "ok"
    assert_security_headers(response.headers, hsts=False)


def test_headers_on_404(client: TestClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert_security_headers(response.headers, hsts=False)


def test_headers_on_405(client: TestClient) -> None:
    response = client.post("/ok")
    assert response.status_code == 405
    assert_security_headers(response.headers, hsts=False)


def test_headers_on_500_from_a_failing_endpoint(client: TestClient) -> None:
    response = client.get("/boom")
    assert response.status_code == 500
    assert "the endpoint failed" not in response.text
    assert_security_headers(response.headers, hsts=False)


def test_headers_on_static_files(client: TestClient) -> None:
    response = client.get("/static/app.css")
    assert response.status_code == 200 and "margin" in response.text
    assert_security_headers(response.headers, hsts=False)
    missing = client.get("/static/missing.js")
    assert missing.status_code == 404
    assert_security_headers(missing.headers, hsts=False)


def test_headers_on_head_requests(client: TestClient) -> None:
    response = client.head("/static/app.css")
    assert response.status_code == 200
    assert_security_headers(response.headers, hsts=False)


def test_headers_on_redirects(client: TestClient) -> None:
    response = client.get("/go-home")
    assert response.status_code == 303 and response.headers["location"] == "/ok"
    assert_security_headers(response.headers, hsts=False)
    slash = client.get("/ok/")  # the router's own redirect to the canonical path
    assert slash.status_code in (307, 308)
    assert_security_headers(slash.headers, hsts=False)


def test_hsts_absent_on_http_and_present_on_https(static_dir: Path) -> None:
    app = SecurityHeadersMiddleware(build_app(static_dir))
    assert_security_headers(TestClient(app).get("/ok").headers, hsts=False)
    https = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    for path in ("/ok", "/no-such-page", "/boom", "/static/app.css"):
        assert_security_headers(https.get(path).headers, hsts=True)


def test_hsts_forced_on_or_off(static_dir: Path) -> None:
    always = SecurityHeadersMiddleware(build_app(static_dir), hsts=True)
    assert_security_headers(TestClient(always).get("/ok").headers, hsts=True)
    never = SecurityHeadersMiddleware(build_app(static_dir), hsts=False)
    https = TestClient(never, base_url="https://testserver")
    assert_security_headers(https.get("/ok").headers, hsts=False)


def test_header_set_by_the_endpoint_is_kept(client: TestClient) -> None:
    response = client.get("/own")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers.get_list("content-security-policy") == ["default-src *"]
    # The others are still added.
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_endpoint_hsts_is_kept(static_dir: Path) -> None:
    async def short_hsts(request: Request) -> Response:
        return PlainTextResponse("x", headers={"Strict-Transport-Security": "max-age=60"})

    app = SecurityHeadersMiddleware(Starlette(routes=[Route("/", short_hsts)]), hsts=True)
    response = TestClient(app).get("/")
    assert response.headers.get_list("strict-transport-security") == ["max-age=60"]


def test_websocket_and_lifespan_pass_through(static_dir: Path) -> None:
    app = SecurityHeadersMiddleware(build_app(static_dir))
    lifespan_ran.clear()
    with TestClient(app) as client:
        assert lifespan_ran == ["startup"]
        with client.websocket_connect("/ws") as websocket:
            websocket.send_text("ping")
            assert websocket.receive_text() == "ping"
    assert lifespan_ran == ["startup", "shutdown"]


def test_works_as_registered_middleware_for_ordinary_responses(static_dir: Path) -> None:
    app = Starlette(routes=[Route("/ok", ok)], middleware=[Middleware(SecurityHeadersMiddleware)])
    client = TestClient(app)
    assert_security_headers(client.get("/ok").headers, hsts=False)
    assert_security_headers(client.get("/missing").headers, hsts=False)


def test_fastapi_app_errors_get_headers_too() -> None:
    api = FastAPI()

    @api.get("/items/{item_id}")
    def read_item(item_id: int) -> dict[str, int]:
        if item_id == 0:
            raise HTTPException(status_code=404, detail="no such item")
        return {"id": item_id}

    client = TestClient(SecurityHeadersMiddleware(api))
    for path, status in (("/items/1", 200), ("/items/0", 404), ("/items/abc", 422)):
        response = client.get(path)
        assert response.status_code == status, path
        assert_security_headers(response.headers, hsts=False)
