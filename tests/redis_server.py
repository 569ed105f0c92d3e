"""A throwaway Redis server for the test suite.

Fixtures
--------
``redis_server``
    The session's :class:`RedisServer` (``.host``, ``.port``, ``.url(db=0)``), started on
    first use and stopped at the end of the session.
``redis_url``
    ``redis://127.0.0.1:PORT/0`` of that server; the database is flushed after each test.

The server runs ``redis-server`` (from PATH, else /usr/bin/redis-server) with no config
file, on 127.0.0.1 at a free port, without persistence (``--save "" --appendonly no``)
in a temporary directory. If Redis is missing or does not start, :class:`RedisError` is
raised with the server log: tests needing it fail loudly, they are never skipped.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

HOST = "127.0.0.1"
START_TIMEOUT = 30  # seconds
_START_ATTEMPTS = 5  # a free port can be taken between picking it and binding it
_FALLBACK_BINARY = "/usr/bin/redis-server"


class RedisError(RuntimeError):
    """Redis is missing, or could not be started."""


def find_redis_server() -> str:
    """Path of the ``redis-server`` binary: PATH, else /usr/bin/redis-server."""
    found = shutil.which("redis-server")
    if found:
        return found
    if Path(_FALLBACK_BINARY).is_file():
        return _FALLBACK_BINARY
    raise RedisError(
        "redis-server not found on PATH nor at /usr/bin/redis-server. Run `make system-deps` "
        "as root, or `apt-get install redis-server`."
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A private Redis server; :meth:`start` it, :meth:`stop` it when done."""

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary
        self.host = HOST
        self.port = 0
        self.basedir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def logfile(self) -> Path:
        if self.basedir is None:
            raise RedisError("the Redis test server is not started")
        return self.basedir / "redis.log"

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        """A client of database ``db``; close it when done."""
        return redis.Redis(host=self.host, port=self.port, db=db, socket_timeout=5)

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        """Start the server and wait until it answers PING; raise :class:`RedisError`."""
        if self._process is not None:
            return
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        binary = self.binary or find_redis_server()
        self.binary = binary
        self.basedir = Path(tempfile.mkdtemp(prefix="bastion-redis-"))
        for attempt in range(1, _START_ATTEMPTS + 1):
            self.port = free_port()
            cmd = [
                binary,
                "--bind",
                HOST,
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.basedir),
                "--daemonize",
                "no",
            ]
            with self.logfile.open("ab") as log:
                try:
                    self._process = subprocess.Popen(
                        cmd, cwd=self.basedir, stdin=subprocess.DEVNULL, stdout=log, stderr=log
                    )
                except OSError as exc:
                    raise RedisError(f"cannot run {binary}: {exc}") from exc
            try:
                self._wait_ready()
            except RedisError:
                port_taken = "Address already in use" in self.log_tail()
                if port_taken and attempt < _START_ATTEMPTS:
                    self._terminate()
                    continue
                raise
            return

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                raise RedisError(
                    f"redis-server exited with code {code} before answering PING\n"
                    f"--- server log ({self.logfile}) ---\n{self.log_tail()}"
                )
            client = self.client()
            try:
                if client.ping():
                    return
            except redis.ConnectionError as exc:  # also BusyLoadingError
                last_error = exc
            finally:
                client.close()
            time.sleep(0.05)
        raise RedisError(
            f"redis-server on {self.host}:{self.port} did not answer PING within "
            f"{START_TIMEOUT} s (last error: {last_error})\n"
            f"--- server log ({self.logfile}) ---\n{self.log_tail()}"
        )

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the server and delete its directory. Idempotent."""
        self._terminate()
        if self.basedir is not None:
            shutil.rmtree(self.basedir, ignore_errors=True)
            self.basedir = None

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def log_tail(self, limit: int = 20_000) -> str:
        try:
            text = self.logfile.read_text(encoding="utf-8", errors="replace")
        except (OSError, RedisError) as exc:
            return f"(no server log: {exc})"
        return text[-limit:]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A Redis server for the whole session, stopped (and deleted) at the end."""
    server = RedisServer()
    server.start()  # raises RedisError with the server log: never a skip
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """URL of database 0 of the session's Redis server, flushed after the test."""
    yield redis_server.url(0)
    with contextlib.closing(redis_server.client(0)) as client:
        client.flushdb()
