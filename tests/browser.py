"""Headless Debian Chromium driven by Playwright, and a live Bastion server.

Fixtures
--------
``playwright_browser`` (session)
    A headless :class:`playwright.sync_api.Browser` on Debian's Chromium
    (:func:`find_chromium`). Playwright's own browser downloads are never used.
``new_context``
    ``new_context(**options) -> BrowserContext``: a fresh context (own cookies and
    storage); ``options`` go to ``Browser.new_context``. Every one is closed after the test.
``browser_context``
    One fresh context for the test, closed afterwards.
``live_server_factory``
    ``serve(app) -> LiveServer``: the ASGI ``app`` served by uvicorn on 127.0.0.1 at a
    free port, in a thread; every server is stopped after the test.

Helpers: :class:`LiveServer` (also a context manager), :class:`PageWatch` (what a page
did that a clean page does not: dialogs, console errors, uncaught exceptions, requests
to other origins) and :func:`screenshot`.

A missing browser or a server that does not start fails the test loudly: never a skip.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Error,
    Page,
    Request,
    sync_playwright,
)
from starlette.types import ASGIApp

CHROMIUM = "/usr/bin/chromium"
# Needed on the test machine: its network is closed and the tests may run as root
# (Chromium's sandbox refuses root; /dev/shm may be tiny in a container).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

HOST = "127.0.0.1"
START_TIMEOUT = 30.0  # seconds for uvicorn to run the app's lifespan startup and listen
STOP_TIMEOUT = 10.0  # seconds for uvicorn to finish open requests and exit
GRACEFUL_SHUTDOWN = 5  # seconds uvicorn waits for open connections before dropping them

# Schemes that never leave the page: not "requests to another origin".
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})


class BrowserSetupError(RuntimeError):
    """Chromium is missing."""


class LiveServerError(RuntimeError):
    """The live server did not start or did not stop."""


# -- the browser -------------------------------------------------------------------------


def find_chromium() -> str:
    """Path of the Chromium executable to drive.

    >>> find_chromium()  # doctest: +SKIP
    '/usr/bin/chromium'

    ``$BASTION_CHROMIUM`` if set, else /usr/bin/chromium, else ``chromium`` on PATH.
    """
    override = os.environ.get("BASTION_CHROMIUM")
    if override:
        if not Path(override).is_file():
            raise BrowserSetupError(
                f"chromium not found: BASTION_CHROMIUM={override!r} is not a file"
            )
        return override
    if Path(CHROMIUM).is_file():
        return CHROMIUM
    on_path = shutil.which("chromium")
    if on_path:
        return on_path
    raise BrowserSetupError(
        f"chromium not found (looked at $BASTION_CHROMIUM, {CHROMIUM} and PATH): install the "
        "Debian package chromium (make test does when run as root)"
    )


@pytest.fixture(scope="module")
def playwright_browser() -> Iterator[Browser]:
    """A headless Chromium for the module's tests.

    Not for the session: while Playwright's sync API runs, its event loop is the
    running loop of the main thread (asyncio.run refuses to start) and its greenlet
    makes Python 3.11's ast.parse fail ("AST constructor recursion depth mismatch"),
    so tests that ran after a browser test in the same process failed, depending on
    the order pytest-xdist gives them."""
    executable = find_chromium()  # before starting Playwright: fail fast and plainly
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


class NewContext(Protocol):
    """Type of the ``new_context`` fixture."""

    def __call__(self, **options: Any) -> BrowserContext: ...


@pytest.fixture
def new_context(playwright_browser: Browser) -> Iterator[NewContext]:
    """Factory of fresh browser contexts, e.g. two sessions of one user."""
    opened: list[BrowserContext] = []

    def create(**options: Any) -> BrowserContext:
        context = playwright_browser.new_context(**options)
        opened.append(context)
        return context

    yield create
    for context in reversed(opened):
        context.close()  # closes its pages too


@pytest.fixture
def browser_context(new_context: NewContext) -> BrowserContext:
    """A fresh browser context (no cookies, no storage) for this test."""
    return new_context()


# -- the live server ---------------------------------------------------------------------


class _Records(logging.Handler):
    """Keeps the log records uvicorn emits while starting, for the error message."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        if record.exc_info:
            line += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(line)


class LiveServer:
    """An ASGI app served by uvicorn in a background thread, on 127.0.0.1.

    >>> with LiveServer(app) as server:  # doctest: +SKIP
    ...     page.goto(server.url + "/web/login")

    The listening socket is bound here, to port 0, and handed to uvicorn: the port
    the system picked cannot be taken by anyone else between picking and binding.
    """

    def __init__(self, app: ASGIApp, *, start_timeout: float = START_TIMEOUT) -> None:
        self.app = app
        self.start_timeout = start_timeout
        self.host = HOST
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, without a trailing slash."""
        if self._server is None:
            raise LiveServerError("the live server is not started")
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Start serving; raise :class:`LiveServerError` (with uvicorn's log) on failure."""
        if self._server is not None:
            return
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        records = _Records()
        uvicorn_log = logging.getLogger("uvicorn.error")
        uvicorn_log.addHandler(records)
        try:
            self._socket.bind((self.host, 0))
            self.port = int(self._socket.getsockname()[1])
            config = uvicorn.Config(
                self.app,
                host=self.host,
                port=self.port,
                log_level="warning",
                lifespan="auto",
                # Leave logging alone (uvicorn's default config would install its own
                # handlers): records propagate to pytest, which shows them on failure.
                log_config=None,
                ws="none",  # our apps speak no WebSocket; spares warnings from websockets
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
            )
            self._server = uvicorn.Server(config)
            self._failure = None
            self._thread = threading.Thread(
                target=self._serve, name=f"live-server-{self.port}", daemon=True
            )
            self._thread.start()
            self._wait_started(records)
        except BaseException:
            self.stop()
            raise
        finally:
            uvicorn_log.removeHandler(records)

    def _serve(self) -> None:
        assert self._server is not None and self._socket is not None
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as exc:  # uvicorn ends a failed startup with sys.exit
            self._failure = exc

    def _wait_started(self, records: _Records) -> None:
        assert self._server is not None and self._thread is not None
        deadline = time.monotonic() + self.start_timeout
        while not self._server.started:
            if not self._thread.is_alive():
                reason = "uvicorn exited before serving"
                if self._failure is not None:
                    reason += f" ({self._failure!r})"
                reason += "; a failing lifespan startup is the usual cause"
                raise LiveServerError(self._describe(reason, records))
            if time.monotonic() > deadline:
                reason = f"not serving after {self.start_timeout:g}s (lifespan startup hangs?)"
                raise LiveServerError(self._describe(reason, records))
            time.sleep(0.01)

    def _describe(self, what: str, records: _Records) -> str:
        log = "\n".join(records.lines) or "(nothing logged)"
        return (
            f"live server for {self.app!r} on {self.host}:{self.port}: {what}\n"
            f"--- uvicorn log ---\n{log}"
        )

    def stop(self) -> None:
        """Stop serving and wait for the thread to end. Idempotent."""
        thread, server, sock = self._thread, self._server, self._socket
        self._thread, self._server, self._socket = None, None, None
        alive = False
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(STOP_TIMEOUT)
            if thread.is_alive() and server is not None:
                server.force_exit = True  # drop the requests still open
                thread.join(STOP_TIMEOUT)
            alive = thread.is_alive()
        if sock is not None:
            sock.close()  # uvicorn closes it on a clean shutdown; not after a failed start
        if alive:
            raise LiveServerError(
                f"live server on {self.host}:{self.port} still running "
                f"{2 * STOP_TIMEOUT:g}s after being told to stop"
            )

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


ServeApp = Callable[[ASGIApp], LiveServer]


@pytest.fixture
def live_server_factory() -> Iterator[ServeApp]:
    """``serve(app) -> LiveServer``, started; all of them stopped after the test."""
    servers: list[LiveServer] = []

    def serve(app: ASGIApp) -> LiveServer:
        server = LiveServer(app)
        server.start()
        servers.append(server)
        return server

    yield serve
    failures: list[LiveServerError] = []
    for server in reversed(servers):
        try:
            server.stop()
        except LiveServerError as exc:  # stop the others before reporting
            failures.append(exc)
    if failures:
        raise failures[0]


# -- watching a page ---------------------------------------------------------------------


def origin_of(url: str) -> str:
    """``scheme://host:port`` of ``url``, default ports made explicit.

    >>> origin_of("http://127.0.0.1:8000/web?x=1")
    'http://127.0.0.1:8000'
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a malformed port: keep the text, it still is not our origin
        return f"{scheme}://{parts.netloc.lower()}"
    if port is None:
        port = {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(scheme)
    host = (parts.hostname or "").lower()
    return f"{scheme}://{host}:{port}" if port is not None else f"{scheme}://{host}"


class PageWatch:
    """Records what a page did that a clean page does not.

    >>> watch = PageWatch(page, server.url)  # doctest: +SKIP
    >>> page.goto(server.url + "/my/orders")  # doctest: +SKIP
    >>> watch.assert_clean()  # doctest: +SKIP

    Attach it before navigating. It records JS dialogs (alert/confirm/prompt: the message,
    then the dialog is dismissed), console messages of type error, uncaught exceptions,
    popups, and requests to any origin other than ``origin`` (third-party assets,
    exfiltration). An XSS test asserts that none of it happened. The one error it
    ignores is a missing /favicon.ico, which the browser asks for on its own.

    What scripts do before the load event is recorded by the time ``page.goto`` returns;
    for anything later (timers, clicks) wait for it, e.g. with ``page.expect_event``.
    """

    def __init__(self, page: Page, origin: str) -> None:
        self.page = page
        self.origin = origin_of(origin)
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.foreign_requests: list[str] = []
        self.popups: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)
        page.on("request", self._on_request)
        page.on("popup", self._on_popup)

    def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        # Chromium fetches /favicon.ico on its own, some time after the load event: an
        # app without one would make every watch fail or pass depending on timing.
        if urlsplit(message.location.get("url", "")).path == "/favicon.ico":
            return
        self.console_errors.append(message.text)

    def _on_page_error(self, error: Error) -> None:
        self.page_errors.append(f"{error.name}: {error.message}" if error.name else error.message)

    def _on_request(self, request: Request) -> None:
        url = request.url
        if urlsplit(url).scheme.lower() in LOCAL_SCHEMES:
            return
        if origin_of(url) != self.origin:
            self.foreign_requests.append(url)

    def _on_popup(self, popup: Page) -> None:
        self.popups.append(popup.url)

    def problems(self) -> list[str]:
        """One line per thing recorded; empty for a clean page."""
        lines = [f"dialog: {text!r}" for text in self.dialogs]
        lines += [f"console error: {text}" for text in self.console_errors]
        lines += [f"uncaught exception: {text}" for text in self.page_errors]
        lines += [
            f"request to another origin than {self.origin}: {url}" for url in self.foreign_requests
        ]
        lines += [f"popup opened: {url}" for url in self.popups]
        return lines

    def assert_clean(self) -> None:
        """Raise AssertionError listing every dialog, error and foreign request seen."""
        problems = self.problems()
        if problems:
            raise AssertionError(
                f"page {self.page.url} (origin {self.origin}) is not clean:\n"
                + "\n".join(f"  - {p}" for p in problems)
            )


def screenshot(page: Page, path: Path) -> Path:
    """Save a full-page PNG of ``page`` at ``path`` (folders created); return ``path``.

    >>> screenshot(page, tmp_path / "shots" / "login.png")  # doctest: +SKIP
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=True, type="png")
    return path
