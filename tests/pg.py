"""A throwaway PostgreSQL server for the test suite.

One server per pytest session (see ``conftest.py``), in a temporary directory under
/tmp, listening on a unix socket in that directory and on 127.0.0.1 at a free port.
It is created with ``--no-locale`` (C collation: text sorts by code point, exactly like
Python's ``sorted``) and trust authentication for the user ``bastion``, and runs with
fsync off: it is disposable.

PostgreSQL refuses to run as root; when the tests run as root the directory is handed to
the ``postgres`` system user and ``initdb``/``pg_ctl`` run through ``runuser``.

If PostgreSQL is missing or does not start, :class:`PostgresError` is raised with the
server log: tests needing it fail loudly, they are never skipped.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg import sql

SUPERUSER = "bastion"
HOST = "127.0.0.1"
SYSTEM_USER = "postgres"  # who runs the server when we are root
START_TIMEOUT = 60  # seconds
_START_ATTEMPTS = 5  # a free port can be taken between picking it and binding it

SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "timezone": "'UTC'",
    "log_timezone": "'UTC'",
    "max_connections": "200",
}


class CreateDatabase(Protocol):
    """Type of the ``create_database`` fixture."""

    def __call__(self, name: str | None = None, *, template: str | None = None) -> str: ...


class PostgresError(RuntimeError):
    """PostgreSQL is missing, or could not be set up or started."""


def _version_key(bindir: str) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,); 9.6 -> (9, 6)
    version = Path(bindir).parent.name
    return tuple(int(part) for part in re.findall(r"\d+", version)) or (0,)


def find_bindir() -> Path:
    """Directory holding ``initdb`` and ``pg_ctl``.

    ``$BASTION_PG_BINDIR`` if set, else PATH, else the highest version under
    /usr/lib/postgresql/*/bin (Debian puts them there, off PATH).
    """
    override = os.environ.get("BASTION_PG_BINDIR")
    if override:
        candidates = [override]
    else:
        candidates = []
        initdb = shutil.which("initdb")
        if initdb and shutil.which("pg_ctl"):
            # resolve symlinks so pg_ctl finds the matching postgres binary
            candidates.append(str(Path(initdb).resolve().parent))
        candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for candidate in candidates:
        bindir = Path(candidate)
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise PostgresError(
        "PostgreSQL not found: no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin "
        f"(looked in {candidates or 'nothing'}). Run `make system-deps` as root, or "
        "`apt-get install postgresql`, or set BASTION_PG_BINDIR."
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def unique_database_name(prefix: str = "bastion_test") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


class PostgresServer:
    """A private PostgreSQL cluster; :meth:`start` it, :meth:`stop` it when done."""

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir
        self.host = HOST
        self.port = 0
        self.user = SUPERUSER
        self.basedir: Path | None = None
        self._running = False

    # -- paths and addresses -----------------------------------------------------

    @property
    def datadir(self) -> Path:
        return self._base() / "data"

    @property
    def socket_dir(self) -> Path:
        return self._base()

    @property
    def logfile(self) -> Path:
        return self._base() / "server.log"

    @property
    def admin_url(self) -> str:
        """SQLAlchemy URL of the maintenance database ``postgres``."""
        return self.url("postgres")

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL of database ``dbname`` on this server."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq connection string (for ``psycopg.connect``) of ``dbname``."""
        return psycopg.conninfo.make_conninfo(
            host=self.host, port=self.port, user=self.user, dbname=dbname
        )

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        """Create the cluster and start the server; raise :class:`PostgresError` if it fails."""
        if self._running:
            return
        try:
            self._start()
        except BaseException:
            # Leave nothing behind; the error message already carries the server log.
            self._running = self.basedir is not None and (self.datadir / "postmaster.pid").exists()
            with contextlib.suppress(PostgresError):
                self.stop()
            raise

    def _start(self) -> None:
        bindir = self.bindir or find_bindir()
        self.bindir = bindir
        as_root = os.geteuid() == 0
        # Under /tmp (not $TMPDIR, which may sit in a 0700 home) so that the postgres
        # user can traverse every parent directory.
        self.basedir = Path(tempfile.mkdtemp(prefix="bastion-pg-", dir="/tmp"))  # noqa: S108
        self.basedir.chmod(0o755)
        if as_root:
            try:
                owner = pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                raise PostgresError(
                    f"running as root, but there is no '{SYSTEM_USER}' system user to run "
                    "PostgreSQL as (PostgreSQL refuses to run as root); "
                    "install Debian's postgresql package"
                ) from None
            os.chown(self.basedir, owner.pw_uid, owner.pw_gid)

        self._run(
            [
                str(bindir / "initdb"),
                f"--pgdata={self.datadir}",
                "--auth=trust",
                f"--username={SUPERUSER}",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ],
            what="initdb",
        )
        settings = dict(SETTINGS, unix_socket_directories=f"'{self.socket_dir}'")
        with (self.datadir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# bastion test server\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

        for attempt in range(1, _START_ATTEMPTS + 1):
            self.port = free_port()
            try:
                self._run(
                    [
                        str(bindir / "pg_ctl"),
                        "start",
                        "--wait",
                        f"--timeout={START_TIMEOUT}",
                        f"--pgdata={self.datadir}",
                        f"--log={self.logfile}",
                        f"--options=-p {self.port}",
                    ],
                    what="pg_ctl start",
                )
            except PostgresError:
                port_taken = "could not bind" in self.log_tail() or "in use" in self.log_tail()
                if port_taken and attempt < _START_ATTEMPTS:
                    continue
                raise
            self._running = True
            break
        # Check it answers on TCP, as the tests will use it.
        try:
            with self.connect_admin() as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            raise PostgresError(
                f"PostgreSQL started but does not answer on {self.host}:{self.port}: {exc}\n"
                f"--- server log ({self.logfile}) ---\n{self.log_tail()}"
            ) from exc

    def stop(self) -> None:
        """Stop the server (immediate mode) and delete its directory. Idempotent."""
        if self._running and self.bindir is not None:
            try:
                self._run(
                    [
                        str(self.bindir / "pg_ctl"),
                        "stop",
                        "--wait",
                        "--mode=immediate",
                        f"--pgdata={self.datadir}",
                    ],
                    what="pg_ctl stop",
                )
            finally:
                self._running = False
        if self.basedir is not None:
            shutil.rmtree(self.basedir, ignore_errors=True)
            self.basedir = None

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- databases ---------------------------------------------------------------

    def connect_admin(self) -> psycopg.Connection[tuple[Any, ...]]:
        """An autocommit connection to the maintenance database, as superuser."""
        return psycopg.connect(self.conninfo("postgres"), autocommit=True)

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """Create an empty database (a copy of ``template`` if given); return its URL.

        The caller owns it: drop it with :meth:`drop_database` (the ``create_database``
        fixture does that for you).
        """
        name = name or unique_database_name()
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
        with self.connect_admin() as conn:
            conn.execute(query)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, disconnecting whoever is still connected to it."""
        query = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with self.connect_admin() as conn:
            conn.execute(query)

    # -- helpers -----------------------------------------------------------------

    def log_tail(self, limit: int = 20_000) -> str:
        try:
            text = self.logfile.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"(no server log: {exc})"
        return text[-limit:]

    def _base(self) -> Path:
        if self.basedir is None:
            raise PostgresError("the PostgreSQL test server is not started")
        return self.basedir

    def _run(self, cmd: list[str], *, what: str) -> None:
        """Run a PostgreSQL tool, as the postgres user when we are root."""
        if os.geteuid() == 0:
            if shutil.which("runuser"):
                cmd = ["runuser", "-u", SYSTEM_USER, "--", *cmd]
            else:
                cmd = ["su", SYSTEM_USER, "-s", "/bin/sh", "-c", shlex.join(cmd)]
        result = subprocess.run(
            cmd,
            cwd=self._base(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise PostgresError(
                f"{what} failed (exit {result.returncode}): {shlex.join(cmd)}\n"
                f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}\n"
                f"--- server log ({self.logfile}) ---\n{self.log_tail()}"
            )


def wait_for_a_lock_wait(url: str, timeout: float = 30.0) -> None:
    """Until some backend of ``url``'s database waits for a lock (a statement of another
    thread blocked behind the caller's open transaction)."""
    import sqlalchemy as sa  # noqa: PLC0415 - the server helpers need only psycopg

    engine = sa.create_engine(url)
    activity = sa.table("pg_stat_activity", sa.column("wait_event_type"), sa.column("datname"))
    waiting = (
        sa.select(sa.func.count())
        .select_from(activity)
        .where(
            activity.c.wait_event_type == "Lock",
            activity.c.datname == sa.func.current_database(),
        )
    )
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if conn.execute(waiting).scalar():
                    return
            time.sleep(0.02)
        raise AssertionError(f"no backend waited for a lock within {timeout} s")
    finally:
        engine.dispose()
