"""Shared fixtures: databases on both backends, a real PostgreSQL server, Hypothesis profile.

Fixtures
--------
``backend``
    ``"sqlite"`` or ``"postgresql"``: a test (or fixture) that uses it runs once per backend.
``database_url``
    SQLAlchemy URL of a fresh, empty database on ``backend``; dropped after the test.
``postgres_server``
    The session's :class:`pg.PostgresServer` (``.host``, ``.port``, ``.admin_url``,
    ``.url(name)``, ``.create_database(name=None, template=None)``). Started on first use.
``create_database``
    ``create_database(name=None, *, template=None) -> url``: a new PostgreSQL database
    (copied from ``template`` if given), dropped after the test.

PostgreSQL starts lazily, once per session, only if a test needs it. If it is missing or
fails to start, the tests that need it error out with the server log: they never skip.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from bastion import Registry
from pg import CreateDatabase, PostgresServer, unique_database_name

# Fixture modules of their own: a real Redis server, a real browser and a live server,
# the OCA addon wheels the audit is tested on.
pytest_plugins = ["redis_server", "browser", "oca_addons"]

# A failing property test prints the seed/blob to reproduce it (@reproduce_failure).
settings.register_profile(
    "ci",
    deadline=None,
    print_blob=True,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci")

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session, stopped (and deleted) at the end."""
    server = PostgresServer()
    server.start()  # raises PostgresError with the server log: never a skip
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def create_database(postgres_server: PostgresServer) -> Iterator[CreateDatabase]:
    """Factory of PostgreSQL databases, each dropped (WITH (FORCE)) after the test."""
    created: list[str] = []

    def create(name: str | None = None, *, template: str | None = None) -> str:
        name = name or unique_database_name()
        url = postgres_server.create_database(name, template=template)
        created.append(name)
        return url

    yield create
    for name in reversed(created):
        postgres_server.drop_database(name)


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test: ``"sqlite"`` or ``"postgresql"``."""
    name: str = request.param
    return name


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """SQLAlchemy URL of a fresh, empty database on ``backend``."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    if backend == "postgresql":
        # Looked up here, not declared as a parameter, so that sqlite-only runs never
        # start PostgreSQL.
        create: CreateDatabase = request.getfixturevalue("create_database")
        return create()
    raise AssertionError(f"unknown backend {backend!r}")


# -- registries ------------------------------------------------------------------------
@contextlib.contextmanager
def module_database(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    *addons: str,
    name: str,
    addons_path: Sequence[Path] = (),
) -> Iterator[Registry]:
    """A registry with ``addons`` installed on a fresh database of the backend
    ``request.param`` (a module-scoped fixture parametrised over BACKENDS), dropped
    afterwards. ``name`` tells the databases of each module apart."""
    backend: str = request.param
    server: PostgresServer | None = None
    database = unique_database_name(f"bastion_{name}")
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp(name) / f'{name}.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database(database)
    registry = Registry(url, addons_path=list(addons_path))
    try:
        registry.install(*addons)
        yield registry
    finally:
        registry.dispose()
        if server is not None:
            server.drop_database(database)


# Installing addons costs a second or two; each (backend, addons) set is installed once
# per session into a template, and every test gets a fresh copy of it.
TEST_ADDONS = Path(__file__).parent / "addons"


class RegistryFactory:
    def __init__(
        self,
        backend: str,
        tmp_path: Path,
        templates: dict[tuple[str, tuple[str, ...]], str],
        request: pytest.FixtureRequest,
    ) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self.templates = templates
        self.request = request
        self.opened: list[Registry] = []

    def __call__(self, *addons: str) -> Registry:
        key = (self.backend, tuple(sorted(set(addons or ("base",)))))
        if self.backend == "sqlite":
            template = self.templates.get(key)
            if template is None:
                folder = Path(self.request.config._tmp_path_factory.mktemp("tpl"))  # type: ignore[attr-defined]
                template = str(folder / "template.db")
                self._install(f"sqlite:///{template}", key[1])
                self.templates[key] = template
            target = self.tmp_path / f"db{len(self.opened)}.db"
            shutil.copyfile(template, target)
            url = f"sqlite:///{target}"
        else:
            server: PostgresServer = self.request.getfixturevalue("postgres_server")
            create: CreateDatabase = self.request.getfixturevalue("create_database")
            template = self.templates.get(key)
            if template is None:
                template = unique_database_name("bastion_tpl")
                self._install(server.create_database(template), key[1])
                self.templates[key] = template
            url = create(template=template)
        registry = Registry(url, addons_path=[TEST_ADDONS])
        self.opened.append(registry)
        return registry

    @staticmethod
    def _install(url: str, addons: tuple[str, ...]) -> None:
        registry = Registry(url, addons_path=[TEST_ADDONS])
        registry.install(*addons)
        registry.dispose()

    def close(self) -> None:
        for registry in self.opened:
            registry.dispose()


@pytest.fixture(scope="session")
def _templates() -> dict[tuple[str, tuple[str, ...]], str]:
    return {}


@pytest.fixture
def make_registry(
    backend: str,
    tmp_path: Path,
    _templates: dict[tuple[str, tuple[str, ...]], str],
    request: pytest.FixtureRequest,
) -> Iterator[RegistryFactory]:
    """``make_registry("test_catalog")``: a registry on a fresh database of ``backend``
    with those addons (and base) installed."""
    factory = RegistryFactory(backend, tmp_path, _templates, request)
    yield factory
    factory.close()


@pytest.fixture
def registry(make_registry: RegistryFactory) -> Registry:
    """A registry with ``base`` installed, on a fresh database of ``backend``."""
    return make_registry("base")
