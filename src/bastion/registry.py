"""The public registry: models of installed addons on one database, with security.

>>> reg = Registry("sqlite:///var/app.db", addons_path=["./addons"])
>>> reg.install("sale")            # dependencies first; tables; data files in order
>>> with reg.transaction() as env:  # superuser; commit on success, rollback on error
...     env["sale.order"].search_count([])

Opening an existing database loads the addons installed in it (their ``models.py``)
without loading their data files again.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa

from bastion.errors import LoadError
from bastion.loaders import Manifest, load_data_file, read_manifest
from bastion.orm import Model, ModelRegistry
from bastion.orm.environment import Environment
from bastion.security import SecurityPolicy

BUILTIN_ADDONS = Path(__file__).parent / "addons"
DEFAULT_URL = "sqlite:///var/bastion.db"


class Registry(ModelRegistry):
    def __init__(
        self,
        url: str = DEFAULT_URL,
        addons_path: Sequence[str | Path] = (),
        *,
        memo_entries: int | None = None,
    ) -> None:
        """``memo_entries``: what each security version keeps per worker
        (``SecurityPolicy.set_memo_entries``; None: the default)."""
        super().__init__(url)
        self.addons_path = [Path(p) for p in addons_path] + [BUILTIN_ADDONS]
        policy = SecurityPolicy(self)
        policy.set_memo_entries(memo_entries)
        self.security = policy
        self.loaded: list[str] = []
        self._manifests: dict[str, Manifest] = {}
        self._load_installed()

    # -- addons --------------------------------------------------------------------
    def manifest(self, name: str) -> Manifest:
        found = self._manifests.get(name)
        if found is None:
            for folder in self.addons_path:
                if (folder / name / "__manifest__.py").is_file():
                    found = read_manifest(folder / name)
                    break
            else:
                paths = ", ".join(str(p) for p in self.addons_path)
                raise LoadError(f"addon {name!r} not found in the addons path ({paths})")
            self._manifests[name] = found
        return found

    def resolve(self, names: Iterable[str]) -> list[str]:
        """``names`` and their dependencies, dependencies first."""
        order: list[str] = []
        visiting: list[str] = []

        def visit(name: str) -> None:
            if name in order:
                return
            if name in visiting:
                cycle = " -> ".join([*visiting[visiting.index(name) :], name])
                raise LoadError(f"addons depend on each other in a cycle: {cycle}")
            visiting.append(name)
            manifest = self.manifest(name)
            for dep in ("base", *manifest.depends) if name != "base" else manifest.depends:
                visit(dep)
            visiting.pop()
            order.append(name)

        for name in names:
            visit(name)
        return order

    def _import_models(self, manifest: Manifest) -> list[type[Model]]:
        file = manifest.path / "models.py"
        if not file.is_file():
            return []
        if manifest.path.parent == BUILTIN_ADDONS:
            module: ModuleType = importlib.import_module(f"bastion.addons.{manifest.name}.models")
        else:
            module_name = f"bastion_addon_{manifest.name}_{abs(hash(str(file))):x}"
            module = sys.modules.get(module_name) or _import_file(module_name, file)
        return [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, Model)
            and value.__module__ == module.__name__
        ]

    def _add_addon(self, name: str) -> None:
        manifest = self.manifest(name)
        self.add_models(name, self._import_models(manifest))

    def _load_installed(self) -> None:
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("ir_module_module"):
                return
            modules = sa.table("ir_module_module", sa.column("name"))
            rows = conn.execute(sa.select(modules.c.name)).scalars().all()
        self.add_missing_own_tables()
        for name in self.resolve(rows):
            self._add_addon(name)
            self.loaded.append(name)

    def install(self, *names: str) -> None:
        """Install addons and their dependencies: models, tables, then data files in
        manifest order, in one transaction (a failing file leaves nothing behind)."""
        todo = [name for name in self.resolve(names or ("base",)) if name not in self.loaded]
        if not todo:
            return
        before = self.snapshot()
        try:
            for name in todo:
                self._add_addon(name)
            self.create_schema()
            with self.transaction() as env:
                for name in todo:
                    self._install_data(env, name)
        except BaseException:
            # Nothing was installed: forget the models too, so a fixed addon can be
            # installed again by this same registry.
            self.restore(before)
            raise
        self.loaded.extend(todo)

    def _install_data(self, env: Environment, name: str) -> None:
        manifest = self.manifest(name)
        models = env["ir.model"]
        data = env["ir.model.data"]
        for spec in self.specs.values():
            if spec.module != name:
                continue
            record = models.create({"model": spec.model_name, "name": spec.description})
            module, _, xml_name = spec.xmlid.partition(".")
            data.create(
                {"module": module, "name": xml_name, "model": "ir.model", "res_id": record.id}
            )
        for item in manifest.data:
            load_data_file(env, name, manifest.path / item)
        env["ir.module.module"].create({"name": name})


def _import_file(module_name: str, file: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise LoadError("cannot import models.py", path=str(file))
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        raise LoadError(f"models.py failed to import: {exc}", path=str(file)) from exc
    return module
