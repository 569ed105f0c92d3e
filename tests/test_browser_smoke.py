"""The browser fixtures themselves: a real Chromium against a real uvicorn server.

The app is a few Starlette routes; its scripts are separate files under /static (the
pages forbid inline script through their Content-Security-Policy, as Bastion's do).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from browser import (
    LiveServer,
    LiveServerError,
    NewContext,
    PageWatch,
    ServeApp,
    origin_of,
    screenshot,
)

SCRIPTS = {
    "button.js": (
        "document.getElementById('go').addEventListener('click', () => {\n"
        "  document.getElementById('title').textContent = 'Clicked';\n"
        "});\n"
    ),
    "alert.js": "alert('hello from alert.js');\n",
    "broken.js": "throw new Error('broken.js failed on purpose');\n",
}
CSP = "default-src 'self'"


def _page(title: str, body: str) -> HTMLResponse:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body>{body}</body></html>"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP})


async def clean(request: Request) -> Response:
    return _page(
        "Clean",
        '<h1 id="title">Waiting</h1><button id="go" type="button">Go</button>'
        '<script src="/static/button.js"></script>',
    )


async def alerting(request: Request) -> Response:
    return _page("Alert", '<h1>Alert</h1><script src="/static/alert.js"></script>')


async def broken(request: Request) -> Response:
    return _page("Broken", '<h1>Broken</h1><script src="/static/broken.js"></script>')


async def foreign(request: Request) -> Response:
    # Port 1 on loopback: another origin, and the connection is refused at once.
    return _page("Foreign", '<h1>Foreign</h1><img alt="" src="http://127.0.0.1:1/pixel.png">')


async def login(request: Request) -> Response:
    response = PlainTextResponse("logged in")
    response.set_cookie("session", "alice", httponly=True, samesite="lax")
    return response


async def whoami(request: Request) -> Response:
    return PlainTextResponse(request.cookies.get("session", "anonymous"))


@pytest.fixture(scope="module")
def static_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("static")
    for name, text in SCRIPTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def server(live_server_factory: ServeApp, static_dir: Path) -> LiveServer:
    app = Starlette(
        routes=[
            Route("/", clean),
            Route("/alert", alerting),
            Route("/broken", broken),
            Route("/foreign", foreign),
            Route("/login", login),
            Route("/whoami", whoami),
            Mount("/static", StaticFiles(directory=static_dir), name="static"),
        ]
    )
    return live_server_factory(app)


def test_button_click_changes_heading(server: LiveServer, browser_context: BrowserContext) -> None:
    page = browser_context.new_page()
    watch = PageWatch(page, server.url)
    page.goto(server.url + "/")
    expect(page.locator("#title")).to_have_text("Waiting")
    page.click("#go")
    expect(page.locator("#title")).to_have_text("Clicked")
    watch.assert_clean()


def test_alert_is_recorded_and_dismissed(
    server: LiveServer, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    watch = PageWatch(page, server.url)
    page.goto(server.url + "/alert")
    expect(page.locator("h1")).to_have_text("Alert")
    assert watch.dialogs == ["hello from alert.js"]
    with pytest.raises(AssertionError, match="dialog: 'hello from alert.js'"):
        watch.assert_clean()


def test_uncaught_exception_is_recorded(
    server: LiveServer, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    watch = PageWatch(page, server.url)
    page.goto(server.url + "/broken")  # its script runs before the load event
    assert watch.page_errors == ["Error: broken.js failed on purpose"]
    assert watch.dialogs == []
    with pytest.raises(AssertionError, match="uncaught exception: Error: broken.js failed"):
        watch.assert_clean()


def test_missing_script_is_a_console_error(
    server: LiveServer, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    watch = PageWatch(page, server.url)
    page.goto(server.url + "/static/nothing-here.js")
    assert any("404" in text for text in watch.console_errors), watch.console_errors
    with pytest.raises(AssertionError, match="console error"):
        watch.assert_clean()


def test_request_to_another_origin_is_recorded(
    server: LiveServer, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    watch = PageWatch(page, server.url)
    page.goto(server.url + "/foreign")
    assert watch.foreign_requests == ["http://127.0.0.1:1/pixel.png"]
    with pytest.raises(AssertionError, match="request to another origin"):
        watch.assert_clean()


def test_contexts_have_separate_cookies(server: LiveServer, new_context: NewContext) -> None:
    alice, stranger = new_context(), new_context()
    alice_page, stranger_page = alice.new_page(), stranger.new_page()

    alice_page.goto(server.url + "/login")
    alice_page.goto(server.url + "/whoami")
    expect(alice_page.locator("body")).to_have_text("alice")

    stranger_page.goto(server.url + "/whoami")
    expect(stranger_page.locator("body")).to_have_text("anonymous")
    assert [cookie["name"] for cookie in alice.cookies()] == ["session"]
    assert stranger.cookies() == []


def test_screenshot_is_a_png(
    server: LiveServer, browser_context: BrowserContext, tmp_path: Path
) -> None:
    page = browser_context.new_page()
    page.goto(server.url + "/")
    path = screenshot(page, tmp_path / "shots" / "nested" / "clean.png")
    assert path == tmp_path / "shots" / "nested" / "clean.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- the live server on its own ------------------------------------------------------------


async def connect_to_missing_database() -> None:
    raise RuntimeError("startup refused on purpose")


@asynccontextmanager
async def refusing_lifespan(app: Starlette) -> AsyncIterator[None]:
    await connect_to_missing_database()
    yield


def test_live_server_reports_failed_startup() -> None:
    server = LiveServer(Starlette(lifespan=refusing_lifespan))
    with pytest.raises(LiveServerError, match="before serving") as failure:
        server.start()
    assert "startup refused on purpose" in str(failure.value)  # uvicorn's log is quoted
    server.stop()  # idempotent after a failed start


def test_live_server_as_context_manager() -> None:
    app = Starlette(routes=[Route("/whoami", whoami)])
    with LiveServer(app) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert origin_of(server.url + "/whoami?x=1") == server.url
        assert httpx.get(server.url + "/whoami").text == "anonymous"
    with pytest.raises(LiveServerError, match="not started"):
        _ = server.url
