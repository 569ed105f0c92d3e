"""Addon loading: manifests read as literals, ``ir.model.access.csv``, security XML.

Every addon is written into ``tmp_path`` at test time and installed on both backends:
on a fresh copy of the ``base`` template when the install must succeed, on one shared
``base`` database per backend when it must fail. A failing install must raise LoadError
naming the file and line, and leave the database exactly as it was before it started
(compared row by row).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa

from bastion import AccessError, Command, LoadError, Registry
from pg import PostgresServer, unique_database_name

Snapshot = dict[str, list[str]]

XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'

MODELS_PY = """\
from bastion import Model, fields


class Thing(Model):
    _name = "loader.thing"
    _description = "Loader thing"
    name = fields.Char()
    owner_id = fields.Many2one("res.users")
    company_id = fields.Many2one("res.company")
"""

INHERIT_PY = (
    MODELS_PY
    + """

class Partner(Model):
    _inherit = "res.partner"
    loader_note = fields.Char()
"""
)


# -- helpers ------------------------------------------------------------------------------
def write_addon(
    root: Path,
    name: str,
    files: Mapping[str, str],
    *,
    depends: Sequence[str] = ("base",),
    data: Sequence[str] | None = None,
    manifest: str | None = None,
) -> Path:
    """Write an addon folder; ``data`` defaults to every file but models.py, in order."""
    folder = root / name
    folder.mkdir(parents=True)
    if data is None:
        data = [f for f in files if f != "models.py"]
    if manifest is None:
        manifest = repr({"name": name, "depends": list(depends), "data": list(data)})
    (folder / "__manifest__.py").write_text(manifest, encoding="utf-8")
    for rel, text in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return folder


def xml(body: str, root: str = "odoo") -> str:
    """An XML data file; ``body`` starts on line 3."""
    return f"{XML_HEAD}<{root}>\n{textwrap.dedent(body).strip(chr(10))}\n</{root}>\n"


def line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the file")


def snapshot(registry: Registry) -> Snapshot:
    """Every row of every table the registry knows, as sorted text: "nothing changed"
    is equality."""
    result: Snapshot = {}
    with registry.engine.connect() as conn:
        for name, table in registry.metadata.tables.items():
            rows = conn.execute(sa.select(table)).all()
            result[name] = sorted(repr(tuple(row)) for row in rows)
    return result


def assert_unchanged(registry: Registry, before: Snapshot) -> None:
    after = snapshot(registry)
    for name, rows in before.items():
        assert after[name] == rows, f"table {name} changed by a failed install"
    for name in set(after) - set(before):
        assert after[name] == [], f"new table {name} holds rows after a failed install"


def assert_location(exc: LoadError, path: Path, line: int | None) -> None:
    assert exc.path is not None
    assert Path(exc.path).resolve() == path.resolve()
    assert str(path) in str(exc)
    assert exc.line == line, str(exc)
    if line is not None:
        assert f"{path}:{line}:" in str(exc)


def failed_install(registry: Registry, name: str) -> LoadError:
    """Install ``name``, which must fail with LoadError. Should it succeed, its module
    row is removed so that the shared database still opens for the next tests."""
    try:
        registry.install(name)
    except LoadError as exc:
        return exc
    table = registry.metadata.tables["ir_module_module"]
    with registry.engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.name == name))
    pytest.fail(f"installing {name} succeeded; expected LoadError")


def module_names(registry: Registry) -> list[str]:
    with registry.transaction() as env:
        return [str(m.name) for m in env["ir.module.module"].search([], order="id")]


@pytest.fixture
def addons_root(tmp_path: Path) -> Path:
    root = tmp_path / "addons"
    root.mkdir()
    return root


@pytest.fixture
def base_url(make_registry: Callable[..., Registry]) -> str:
    """URL of a fresh database (of ``backend``) with ``base`` installed."""
    registry = make_registry("base")
    registry.dispose()
    return registry.url


@pytest.fixture
def open_registry(addons_root: Path) -> Iterator[Callable[[str], Registry]]:
    opened: list[Registry] = []

    def open_(url: str) -> Registry:
        registry = Registry(url, addons_path=[addons_root])
        opened.append(registry)
        return registry

    yield open_
    for registry in opened:
        registry.dispose()


@pytest.fixture
def base_registry(base_url: str, open_registry: Callable[[str], Registry]) -> Registry:
    """A registry over the base database that also sees the addons of ``addons_root``."""
    return open_registry(base_url)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_base_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One ``base`` database per backend for the whole module, for installs that must
    fail: each such test checks that its failed install left the database unchanged,
    so they can share it (a fresh database per case would cost the time budget)."""
    server: PostgresServer | None = None
    name = unique_database_name("bastion_loaders")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('loaders') / 'shared.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database(name)
    registry = Registry(url)
    registry.install("base")
    registry.dispose()
    yield url
    if server is not None:
        server.drop_database(name)


@pytest.fixture
def shared_registry(shared_base_url: str, open_registry: Callable[[str], Registry]) -> Registry:
    """A registry over the module's shared ``base`` database (see ``shared_base_url``)."""
    return open_registry(shared_base_url)


# -- manifests ----------------------------------------------------------------------------
HOSTILE_MANIFESTS = {
    "import-call": (
        '{{\n    "name": "evil",\n    "depends": ["base"],\n'
        "    \"version\": __import__('os').system('touch {mark}'),\n}}\n",
        4,
    ),
    "function-call": (
        '{{\n    "name": "evil",\n    "depends": list(["base"]),\n    "data": [],\n}}\n',
        3,
    ),
    "call-in-list": (
        '{{\n    "name": "evil",\n    "depends": ["base"],\n    "data": [\n'
        "        open('{mark}', 'w').name,\n    ],\n}}\n",
        5,
    ),
    "comprehension": (
        '{{\n    "name": "evil",\n    "depends": ["base"],\n'
        '    "data": [x for x in ["{mark}"]],\n}}\n',
        4,
    ),
    "lambda": ('{{\n    "name": "evil",\n    "summary": (lambda: "{mark}"),\n}}\n', 3),
}


@pytest.mark.parametrize("case", list(HOSTILE_MANIFESTS), ids=list(HOSTILE_MANIFESTS))
def test_manifest_is_a_literal_never_executed(case: str, tmp_path: Path, addons_root: Path) -> None:
    mark = tmp_path / "pwned"
    template, line = HOSTILE_MANIFESTS[case]
    folder = write_addon(addons_root, "loader_evil", {}, manifest=template.format(mark=mark))
    registry = Registry(f"sqlite:///{tmp_path / 'm.db'}", addons_path=[addons_root])
    try:
        with pytest.raises(LoadError) as caught:
            registry.install("loader_evil")
    finally:
        registry.dispose()
    assert_location(caught.value, folder / "__manifest__.py", line)
    assert not mark.exists()


def test_manifest_syntax_error_has_line(tmp_path: Path, addons_root: Path) -> None:
    folder = write_addon(
        addons_root, "loader_bad", {}, manifest='{\n    "name": "x",\n    "data": [\n}\n'
    )
    registry = Registry(f"sqlite:///{tmp_path / 'm.db'}", addons_path=[addons_root])
    try:
        with pytest.raises(LoadError) as caught:
            registry.install("loader_bad")
    finally:
        registry.dispose()
    assert caught.value.path is not None
    assert Path(caught.value.path) == folder / "__manifest__.py"
    assert caught.value.line in (3, 4)


@pytest.mark.parametrize(
    "manifest",
    ['["base"]', '{"depends": "base"}', '{"data": ["a.xml", 3]}'],
    ids=["not-a-dict", "depends-not-a-list", "data-not-strings"],
)
def test_manifest_shape_is_checked(manifest: str, tmp_path: Path, addons_root: Path) -> None:
    folder = write_addon(addons_root, "loader_shape", {}, manifest=manifest)
    registry = Registry(f"sqlite:///{tmp_path / 'm.db'}", addons_path=[addons_root])
    try:
        with pytest.raises(LoadError) as caught:
            registry.install("loader_shape")
    finally:
        registry.dispose()
    assert caught.value.path is not None
    assert Path(caught.value.path) == folder / "__manifest__.py"


def test_dependencies_are_installed_first(
    base_registry: Registry, addons_root: Path, open_registry: Callable[[str], Registry]
) -> None:
    # top -> (left, right) -> bottom: a diamond; bottom once, first; top last.
    write_addon(
        addons_root,
        "loader_bottom",
        {
            "groups.xml": xml(
                '<record id="g" model="res.groups"><field name="name">Bottom</field></record>'
            )
        },
    )
    for side in ("left", "right"):
        write_addon(
            addons_root,
            f"loader_{side}",
            {
                "groups.xml": xml(
                    f"""
                    <record id="g" model="res.groups">
                        <field name="name">{side}</field>
                        <field name="implied_ids" eval="[(4, ref('loader_bottom.g'))]"/>
                    </record>
                    """
                )
            },
            depends=["loader_bottom"],
        )
    write_addon(
        addons_root,
        "loader_top",
        {
            "groups.xml": xml(
                """
                <record id="g" model="res.groups">
                    <field name="name">Top</field>
                    <field name="implied_ids"
                           eval="[(6, 0, [ref('loader_left.g'), ref('loader_right.g')])]"/>
                </record>
                """
            )
        },
        depends=["loader_left", "loader_right"],
    )
    base_registry.install("loader_top")
    names = module_names(base_registry)
    assert names[0] == "base"
    ours = [n for n in names if n.startswith("loader_")]
    assert sorted(ours) == ["loader_bottom", "loader_left", "loader_right", "loader_top"]
    assert ours[0] == "loader_bottom"
    assert ours[-1] == "loader_top"
    with base_registry.transaction() as env:
        top = env.ref("loader_top.g")
        assert set(top.implied_ids.mapped("name")) == {"left", "right"}
    # Installing again is a no-op; a new registry sees all four as installed.
    base_registry.install("loader_top")
    assert module_names(base_registry) == names
    reopened = open_registry(base_registry.url)
    assert {"loader_bottom", "loader_left", "loader_right", "loader_top"} <= set(reopened.loaded)


def test_dependency_cycle_is_refused(tmp_path: Path, addons_root: Path) -> None:
    write_addon(addons_root, "loader_cy_a", {}, depends=["base", "loader_cy_b"])
    write_addon(addons_root, "loader_cy_b", {}, depends=["loader_cy_a"])
    registry = Registry(f"sqlite:///{tmp_path / 'm.db'}", addons_path=[addons_root])
    try:
        with pytest.raises(LoadError, match="cycle") as caught:
            registry.install("loader_cy_a")
    finally:
        registry.dispose()
    message = str(caught.value)
    assert "loader_cy_a" in message
    assert "loader_cy_b" in message


def test_unknown_dependency_is_refused(shared_registry: Registry, addons_root: Path) -> None:
    write_addon(
        addons_root,
        "loader_orphan",
        {
            "g.xml": xml(
                '<record id="g" model="res.groups"><field name="name">Orphan</field></record>'
            )
        },
        depends=["base", "loader_no_such_addon"],
    )
    before = snapshot(shared_registry)
    error = failed_install(shared_registry, "loader_orphan")
    assert "loader_no_such_addon" in str(error), str(error)
    assert_unchanged(shared_registry, before)


GROUPS_XML = xml(
    """
    <record id="group_mine" model="res.groups">
        <field name="name">Loader Mine</field>
    </record>
    """
)


def test_data_files_load_in_manifest_order(base_registry: Registry, addons_root: Path) -> None:
    # Not alphabetical: the CSV needs the group of z_groups.xml, and the last file
    # renames that group again.
    write_addon(
        addons_root,
        "loader_order",
        {
            "models.py": MODELS_PY,
            "security/z_groups.xml": GROUPS_XML,
            "security/ir.model.access.csv": (
                "id,name,model_id:id,group_id:id,perm_read,perm_write,perm_create,perm_unlink\n"
                "access_thing,thing,model_loader_thing,group_mine,1,0,0,0\n"
            ),
            "security/a_rename.xml": xml(
                """
                <record id="group_mine" model="res.groups">
                    <field name="name">Loader Mine Renamed</field>
                </record>
                """
            ),
        },
    )
    base_registry.install("loader_order")
    with base_registry.transaction() as env:
        group = env.ref("loader_order.group_mine")
        assert group.name == "Loader Mine Renamed"
        assert env.ref("loader_order.access_thing").group_id == group
        assert env["res.groups"].search_count([("name", "like", "Loader Mine")]) == 1


def test_data_files_in_wrong_order_fail(shared_registry: Registry, addons_root: Path) -> None:
    acl = (
        "id,name,model_id:id,group_id:id,perm_read,perm_write,perm_create,perm_unlink\n"
        "access_thing,thing,model_loader_thing,group_mine,1,0,0,0\n"
    )
    folder = write_addon(
        addons_root,
        "loader_disorder",
        {"models.py": MODELS_PY, "security/ir.model.access.csv": acl, "security/g.xml": GROUPS_XML},
    )
    before = snapshot(shared_registry)
    error = failed_install(shared_registry, "loader_disorder")
    assert "loader_disorder.group_mine" in str(error), str(error)
    assert_location(error, folder / "security/ir.model.access.csv", 2)
    assert_unchanged(shared_registry, before)


@pytest.mark.parametrize("kind", ["dotdot", "nested-dotdot", "absolute", "symlink"])
def test_data_path_escaping_the_addon_is_refused(
    kind: str, shared_registry: Registry, addons_root: Path
) -> None:
    outside = addons_root / "res.groups.csv"
    outside.write_text("id,name\ng_outside,Loader Outside\n", encoding="utf-8")
    files: dict[str, str] = {"security/keep.txt": ""}
    data = {
        "dotdot": "../res.groups.csv",
        "nested-dotdot": "security/../../res.groups.csv",
        "absolute": str(outside),
        "symlink": "security/res.groups.csv",
    }[kind]
    name = f"loader_escape_{kind.replace('-', '_')}"
    folder = write_addon(addons_root, name, files, data=[data])
    if kind == "symlink":
        (folder / "security/res.groups.csv").symlink_to(outside)
    before = snapshot(shared_registry)
    error = failed_install(shared_registry, name)
    assert "outside" in str(error), str(error)
    assert error.path is not None
    assert Path(error.path) == folder / "__manifest__.py"
    assert_unchanged(shared_registry, before)


# -- models.py ----------------------------------------------------------------------------
def test_models_are_imported_and_survive_reopening(
    base_registry: Registry, addons_root: Path, open_registry: Callable[[str], Registry]
) -> None:
    write_addon(
        addons_root,
        "loader_models",
        {
            "models.py": MODELS_PY,
            "data.xml": xml(
                """
                <record model="res.groups">
                    <field name="name">Loader Without Id</field>
                </record>
                <record id="group_named" model="res.groups">
                    <field name="name">Loader Named</field>
                </record>
                <record id="thing" model="loader.thing">
                    <field name="name">Loader Thing</field>
                    <field name="owner_id" ref="base.user_admin"/>
                </record>
                """
            ),
        },
    )
    base_registry.install("loader_models")
    with base_registry.transaction() as env:
        assert env.ref("loader_models.thing").owner_id == env.ref("base.user_admin")
        assert env.ref("loader_models.model_loader_thing").model == "loader.thing"
        env.ref("loader_models.group_named").write({"name": "Loader Edited"})
    base_registry.dispose()

    reopened = open_registry(base_registry.url)
    assert "loader_models" in reopened.loaded
    assert "loader.thing" in reopened.specs
    with reopened.transaction() as env:
        # The data file was not loaded again: the edit stands, no duplicate record.
        assert env.ref("loader_models.group_named").name == "Loader Edited"
        assert env["res.groups"].search_count([("name", "=", "Loader Without Id")]) == 1
        assert env["loader.thing"].search([]).name == "Loader Thing"
        env["loader.thing"].create({"name": "after reopening"})
    reopened.install("loader_models")  # already installed: nothing happens
    with reopened.transaction() as env:
        assert env["res.groups"].search_count([("name", "=", "Loader Without Id")]) == 1
        assert env["loader.thing"].search_count([]) == 2
    assert module_names(reopened).count("loader_models") == 1


def test_inherit_adds_a_field_to_an_existing_model(
    base_registry: Registry, addons_root: Path, open_registry: Callable[[str], Registry]
) -> None:
    write_addon(
        addons_root,
        "loader_inherit",
        {
            "models.py": INHERIT_PY,
            "data.xml": xml(
                """
                <record id="partner" model="res.partner">
                    <field name="name">Loader Partner</field>
                    <field name="loader_note">from data</field>
                </record>
                """
            ),
        },
    )
    base_registry.install("loader_inherit")
    with base_registry.transaction() as env:
        partner = env.ref("loader_inherit.partner")
        assert partner.loader_note == "from data"
        # Existing partners get the new column too, empty.
        assert env.ref("base.main_partner").loader_note is False
        partner.write({"loader_note": "edited"})
    base_registry.dispose()

    reopened = open_registry(base_registry.url)
    assert "loader_note" in reopened.model_info("res.partner").fields
    with reopened.transaction() as env:
        assert env.ref("loader_inherit.partner").loader_note == "edited"
        env["res.partner"].create({"name": "Loader Other", "loader_note": "n"})
        found = env["res.partner"].search([("loader_note", "!=", False)])
        assert sorted(found.mapped("name")) == ["Loader Other", "Loader Partner"]


# -- ir.model.access.csv --------------------------------------------------------------------
@pytest.mark.parametrize("sep", [":", "/"], ids=["colon-id", "slash-id"])
def test_access_csv(sep: str, base_registry: Registry, addons_root: Path) -> None:
    header = f"id,name,model_id{sep}id,group_id{sep}id,perm_read,perm_write,perm_create,perm_unlink"
    write_addon(
        addons_root,
        "loader_acl",
        {
            "models.py": MODELS_PY,
            "security/groups.xml": GROUPS_XML,
            "security/ir.model.access.csv": "\n".join(
                [
                    header,
                    "access_mine,thing mine,model_loader_thing,group_mine,1,1,1,0",
                    "access_mine_full,thing mine 2,loader_acl.model_loader_thing,"
                    "loader_acl.group_mine,0,0,0,1",
                    "access_user,thing user,model_loader_thing,base.group_user,1,0,0,0",
                    "access_all,thing everyone,model_loader_thing,,1,0,0,0",
                    "",
                ]
            ),
        },
    )
    base_registry.install("loader_acl")
    with base_registry.transaction() as env:
        mine = env.ref("loader_acl.group_mine")
        model = env.ref("loader_acl.model_loader_thing")
        rows = {
            x: env.ref(f"loader_acl.{x}")
            for x in ("access_mine", "access_mine_full", "access_user", "access_all")
        }
        perms = ("perm_read", "perm_write", "perm_create", "perm_unlink")
        got = {x: (r.group_id, tuple(bool(r[p]) for p in perms)) for x, r in rows.items()}
        assert got == {
            "access_mine": (mine, (True, True, True, False)),
            "access_mine_full": (mine, (False, False, False, True)),
            "access_user": (env.ref("base.group_user"), (True, False, False, False)),
            "access_all": (env["res.groups"], (True, False, False, False)),
        }
        assert all(r.model_id == model for r in rows.values())
        assert rows["access_mine"].name == "thing mine"

        company = env.ref("base.main_company")

        def user(login: str, *groups: str) -> int:
            links = [Command.link(env.ref(g).id) for g in groups]
            return int(
                env["res.users"]
                .create(
                    {
                        "login": login,
                        "name": login,
                        "group_ids": links,
                        "company_id": company.id,
                        "company_ids": [company.id],
                    }
                )
                .id
            )

        portal = user("loader_portal", "base.group_portal")
        internal = user("loader_internal", "base.group_user")
        member = user("loader_member", "base.group_user", "loader_acl.group_mine")
        thing = env["loader.thing"].create({"name": "t"})

        # Empty group column: everyone, portal included, may read.
        assert env.with_user(portal)["loader.thing"].search([]) == thing
        assert not thing.with_user(portal).has_access("write")
        assert not thing.with_user(internal).has_access("write")
        as_member = thing.with_user(member)
        assert as_member.has_access("write")
        assert as_member.has_access("unlink")  # from the row referenced with its module
        as_member.write({"name": "by member"})
        with pytest.raises(AccessError):
            thing.with_user(internal).write({"name": "by internal"})


def test_access_csv_ref_without_prefix_is_this_addon(
    shared_registry: Registry, addons_root: Path
) -> None:
    # `group_user` in loader_noprefix means loader_noprefix.group_user, not base's.
    folder = write_addon(
        addons_root,
        "loader_noprefix",
        {
            "models.py": MODELS_PY,
            "security/ir.model.access.csv": (
                "id,name,model_id:id,group_id:id,perm_read,perm_write,perm_create,perm_unlink\n"
                "access_ok,thing,model_loader_thing,base.group_user,1,0,0,0\n"
                "access_bad,thing,model_loader_thing,group_user,1,0,0,0\n"
            ),
        },
    )
    before = snapshot(shared_registry)
    error = failed_install(shared_registry, "loader_noprefix")
    assert "loader_noprefix.group_user" in str(error), str(error)
    assert_location(error, folder / "security/ir.model.access.csv", 3)
    assert_unchanged(shared_registry, before)


# -- XML --------------------------------------------------------------------------------
FEATURES_GROUPS = xml(
    """
    <data noupdate="1">
        <record id="group_a" model="res.groups">
            <field name="name">Loader A</field>
            <field name="comment">plain text</field>
        </record>
        <record id="group_b" model="res.groups">
            <field name="name">Loader B</field>
            <field name="implied_ids" eval="[(4, ref('group_a'))]"/>
        </record>
        <record id="group_c" model="res.groups">
            <field name="name">Loader C</field>
            <field name="implied_ids" eval="[Command.link(ref('loader_xml.group_b'))]"/>
        </record>
        <record id="group_d" model="res.groups">
            <field name="name">Loader D</field>
            <field name="implied_ids" eval="[(6, 0, [ref('group_a'), ref('base.group_user')])]"/>
        </record>
        <record id="group_e" model="res.groups">
            <field name="name">Loader E</field>
            <field name="implied_ids" ref="group_c"/>
        </record>
    </data>
    """,
    root="openerp",
)

FEATURES_RULES = xml(
    """
    <record id="rule_own" model="ir.rule">
        <field name="name">Loader things: own</field>
        <field name="model_id" ref="model_loader_thing"/>
        <field name="domain_force">[('owner_id', '=', user.id)]</field>
        <field name="groups" eval="[(4, ref('base.group_user'))]"/>
        <field name="perm_read" eval="True"/>
        <field name="perm_write" eval="False"/>
        <field name="perm_create" eval="0"/>
        <field name="perm_unlink" eval="1"/>
    </record>
    <record id="rule_company" model="ir.rule">
        <field name="name">Loader things: company</field>
        <field name="model_id" ref="model_loader_thing"/>
        <field name="global" eval="True"/>
        <field name="domain_force">
            ['|', ('company_id', '=', False), ('company_id', 'in', company_ids)]
        </field>
    </record>
    <record id="rule_off" model="ir.rule">
        <field name="name">Loader things: deny all, inactive</field>
        <field name="model_id" ref="model_loader_thing"/>
        <field name="domain_force">[(0, '=', 1)]</field>
        <field name="active" eval="False"/>
    </record>
    """
)

FEATURES_USERS = xml(
    """
    <data noupdate="1">
        <record id="user_old" model="res.users">
            <field name="login">loader_old</field>
            <field name="name">Old Style</field>
            <field name="company_id" ref="base.main_company"/>
            <field name="company_ids" eval="[(6, 0, [ref('base.main_company')])]"/>
            <field name="groups_id" eval="[(4, ref('base.group_user')), (4, ref('group_e'))]"/>
        </record>
        <record id="user_new" model="res.users">
            <field name="login">loader_new</field>
            <field name="name">New Style</field>
            <field name="company_id" ref="base.main_company"/>
            <field name="company_ids" eval="[Command.link(ref('base.main_company'))]"/>
            <field name="group_ids" eval="[Command.link(ref('base.group_portal'))]"/>
        </record>
    </data>
    """
)

THINGS_ACL = (
    "id,name,model_id:id,group_id:id,perm_read,perm_write,perm_create,perm_unlink\n"
    "access_thing_user,thing user,model_loader_thing,base.group_user,1,1,1,1\n"
)


def test_security_xml_features(base_registry: Registry, addons_root: Path) -> None:
    write_addon(
        addons_root,
        "loader_xml",
        {
            "models.py": MODELS_PY,
            "security/groups.xml": FEATURES_GROUPS,
            "security/ir.model.access.csv": THINGS_ACL,
            "security/rules.xml": FEATURES_RULES,
            "data/users.xml": FEATURES_USERS,
        },
    )
    base_registry.install("loader_xml")
    with base_registry.transaction() as env:

        def ref(name: str) -> object:
            return env.ref(name if "." in name else f"loader_xml.{name}")

        a, b, c, d, e = (ref(f"group_{x}") for x in "abcde")
        assert a.comment == "plain text"
        assert not a.implied_ids
        assert b.implied_ids == a
        assert c.implied_ids == b
        assert d.implied_ids == a | ref("base.group_user")
        assert e.implied_ids == c

        rules = env["ir.rule"].search(
            [("model_id.model", "=", "loader.thing"), ("active", "in", [True, False])]
        )
        assert len(rules) == 3
        own, company, off = ref("rule_own"), ref("rule_company"), ref("rule_off")
        assert own.groups == ref("base.group_user")
        perms = ("perm_read", "perm_write", "perm_create", "perm_unlink")
        assert tuple(bool(own[p]) for p in perms) == (True, False, False, True)
        assert own.domain_force == "[('owner_id', '=', user.id)]"
        assert own.active
        assert not company.groups
        assert tuple(bool(company[p]) for p in perms) == (True, True, True, True)
        assert "('company_id', 'in', company_ids)" in str(company.domain_force)
        assert not off.active

        old, new = ref("user_old"), ref("user_new")
        assert old.group_ids == ref("base.group_user") | e
        assert new.group_ids == ref("base.group_portal")

        # The rules work: the user sees own things only; the inactive deny-all rule
        # does not apply.
        mine = env["loader.thing"].create({"name": "mine", "owner_id": old.id})
        env["loader.thing"].create({"name": "other", "owner_id": ref("base.user_admin").id})
        assert env.with_user(old)["loader.thing"].search([]) == mine


def test_groups_ids_alias_on_update_and_users_alias(
    base_registry: Registry, addons_root: Path
) -> None:
    # A second record with the same id updates it; `users` is Odoo's old res.groups name.
    write_addon(
        addons_root,
        "loader_update",
        {
            "groups.xml": xml(
                """
                <record id="group_x" model="res.groups">
                    <field name="name">Loader X</field>
                </record>
                <record id="group_x" model="res.groups">
                    <field name="name">Loader X2</field>
                    <field name="users" eval="[(4, ref('base.user_admin'))]"/>
                </record>
                """
            )
        },
    )
    base_registry.install("loader_update")
    with base_registry.transaction() as env:
        group = env.ref("loader_update.group_x")
        assert group.name == "Loader X2"
        assert group.user_ids == env.ref("base.user_admin")
        assert env["res.groups"].search_count([("name", "like", "Loader X")]) == 1


# -- errors: the file is refused whole, with its line, and the install rolls back ------------
FIRST_FILE = xml(
    """
    <record id="partner_before" model="res.partner">
        <field name="name">Loader Before File</field>
    </record>
    """
)

EARLY = """
<record id="group_early" model="res.groups">
    <field name="name">Loader Early Record</field>
</record>
"""

# case id -> (body after EARLY, needles of the lines accepted as "the" line)
XML_ERRORS: dict[str, tuple[str, tuple[str, ...]]] = {
    "unclosed-tag": (
        """
        <record id="group_bad" model="res.groups">
            <field name="name">Never closed
        </record>  <!-- HERE -->
        """,
        ("<!-- HERE -->",),
    ),
    "unknown-model": (
        '<record id="x" model="loader.no_such_model">\n    <field name="name">x</field>\n</record>',
        ("loader.no_such_model",),
    ),
    "unknown-field": (
        """
        <record id="x" model="res.groups">
            <field name="name">x</field>
            <field name="no_such_field">x</field>
        </record>
        """,
        ("no_such_field",),
    ),
    "unknown-ref": (
        """
        <record id="x" model="res.groups">
            <field name="name">x</field>
            <field name="category_id" ref="base.no_such_category"/>
        </record>
        """,
        ("no_such_category",),
    ),
    "unknown-ref-in-eval": (
        """
        <record id="x" model="res.groups">
            <field name="name">x</field>
            <field name="implied_ids" eval="[(4, ref('no_such_group'))]"/>
        </record>
        """,
        ("no_such_group",),
    ),
    "eval-import": (
        """
        <record id="x" model="res.groups">
            <field name="name">x</field>
            <field name="comment" eval="__import__('os').system('touch {mark}')"/>
        </record>
        """,
        ("__import__",),
    ),
    "eval-sudo": (
        """
        <record id="x" model="res.groups">
            <field name="name">x</field>
            <field name="implied_ids" eval="[(4, ref('base.group_user').sudo())]"/>
        </record>
        """,
        (".sudo()",),
    ),
    "eval-lambda": (
        """
        <record id="x" model="res.groups">
            <field name="name">x</field>
            <field name="comment" eval="(lambda: '{mark}')()"/>
        </record>
        """,
        ("lambda",),
    ),
    "eval-dunder": (
        """
        <record id="x" model="res.groups">
            <field name="name">x</field>
            <field name="comment" eval="().__class__.__bases__[0].__subclasses__()"/>
        </record>
        """,
        ("__class__",),
    ),
    "eval-builtin-call": (
        """
        <record id="x" model="res.groups">
            <field name="name">x</field>
            <field name="comment" eval="open('{mark}', 'w')"/>
        </record>
        """,
        ("open(",),
    ),
    "rule-sudo": (
        """
        <record id="rule_bad" model="ir.rule">  <!-- RECORD -->
            <field name="name">bad</field>
            <field name="model_id" ref="base.model_res_partner"/>
            <field name="domain_force">[('id', '=', user.sudo().id)]</field>
        </record>
        """,
        ("<!-- RECORD -->", "domain_force"),
    ),
    "rule-dunder": (
        """
        <record id="rule_bad" model="ir.rule">  <!-- RECORD -->
            <field name="name">bad</field>
            <field name="model_id" ref="base.model_res_partner"/>
            <field name="domain_force">[('id', 'in', ().__class__)]</field>
        </record>
        """,
        ("<!-- RECORD -->", "domain_force"),
    ),
    "rule-unknown-field": (
        """
        <record id="rule_bad" model="ir.rule">  <!-- RECORD -->
            <field name="name">bad</field>
            <field name="model_id" ref="base.model_res_partner"/>
            <field name="domain_force">[('no_such_field', '=', 1)]</field>
        </record>
        """,
        ("<!-- RECORD -->", "domain_force"),
    ),
    "rule-unknown-name": (
        """
        <record id="rule_bad" model="ir.rule">  <!-- RECORD -->
            <field name="name">bad</field>
            <field name="model_id" ref="base.model_res_partner"/>
            <field name="domain_force">[('id', '=', uid)]</field>
        </record>
        """,
        ("<!-- RECORD -->", "domain_force"),
    ),
    "function-element": (
        '<function model="res.users" name="write" eval="[[1], {\'active\': True}]"/>',
        ("<function",),
    ),
    "delete-element": ('<delete model="res.groups" id="base.group_portal"/>', ("<delete",)),
    "unknown-child-of-record": (
        """
        <record id="x" model="res.groups">
            <field name="name">x</field>
            <value>x</value>
        </record>
        """,
        ("<value>",),
    ),
    "portal-user-made-internal": (
        """
        <record id="user_bad" model="res.users">  <!-- RECORD -->
            <field name="login">loader_bad_portal</field>
            <field name="name">Bad Portal</field>
            <field name="company_id" ref="base.main_company"/>
            <field name="company_ids" eval="[(6, 0, [ref('base.main_company')])]"/>
            <field name="groups_id"
                   eval="[(4, ref('base.group_portal')), (4, ref('base.group_user'))]"/>
        </record>
        """,
        ("<!-- RECORD -->", "groups_id"),
    ),
    "portal-user-internal-by-implication": (
        """
        <record id="user_bad" model="res.users">  <!-- RECORD -->
            <field name="login">loader_bad_portal</field>
            <field name="name">Bad Portal</field>
            <field name="groups_id"
                   eval="[(4, ref('base.group_portal')), (4, ref('base.group_system'))]"/>
        </record>
        """,
        ("<!-- RECORD -->", "groups_id"),
    ),
    "search-attribute": (
        """
        <record id="x" model="res.groups">
            <field name="name">x</field>
            <field name="category_id" search="[('name', '=', 'User types')]"/>
        </record>
        """,
        ("search=",),
    ),
    "public-group-made-internal": (
        """
        <record id="base.group_public" model="res.groups">  <!-- RECORD -->
            <field name="implied_ids" eval="[(4, ref('base.group_user'))]"/>
        </record>
        """,
        ("<!-- RECORD -->", "implied_ids"),
    ),
    "public-user-added-to-internal-group": (
        """
        <record id="base.group_erp_manager" model="res.groups">  <!-- RECORD -->
            <field name="users" eval="[(4, ref('base.public_user'))]"/>
        </record>
        """,
        ("<!-- RECORD -->", "users"),
    ),
    "group-cycle": (
        """
        <record id="group_cy_a" model="res.groups">
            <field name="name">Loader Cycle A</field>
        </record>
        <record id="group_cy_b" model="res.groups">
            <field name="name">Loader Cycle B</field>
            <field name="implied_ids" eval="[(4, ref('group_cy_a'))]"/>
        </record>
        <record id="group_cy_a" model="res.groups">  <!-- RECORD -->
            <field name="name">Loader Cycle A</field>
            <field name="implied_ids" eval="[(4, ref('group_cy_b'))]"/>  <!-- FIELD -->
        </record>
        """,
        ("<!-- RECORD -->", "<!-- FIELD -->"),
    ),
    "base-group-cycle": (
        """
        <record id="base.group_user" model="res.groups">  <!-- RECORD -->
            <field name="implied_ids" eval="[(4, ref('base.group_system'))]"/>
        </record>
        """,
        ("<!-- RECORD -->", "implied_ids"),
    ),
}


@pytest.mark.parametrize("case", list(XML_ERRORS), ids=list(XML_ERRORS))
def test_xml_error_rolls_back_the_whole_install(
    case: str, tmp_path: Path, shared_registry: Registry, addons_root: Path
) -> None:
    mark = tmp_path / "pwned"
    body, needles = XML_ERRORS[case]
    text = xml(EARLY + textwrap.dedent(body).replace("{mark}", str(mark)))
    name = f"loader_broken_{case.replace('-', '_')}"
    folder = write_addon(
        addons_root,
        name,
        {
            "security/first.xml": FIRST_FILE,
            "security/broken.xml": text,
            "security/never.xml": xml(
                '<record id="g_after" model="res.groups"><field name="name">Loader After</field>'
                "</record>"
            ),
        },
    )
    before = snapshot(shared_registry)
    error = failed_install(shared_registry, name)
    lines = {line_of(text, needle) for needle in needles}
    assert error.line in lines, f"line {error.line} not in {sorted(lines)}: {error}"
    assert_location(error, folder / "security/broken.xml", error.line)
    assert not mark.exists()
    assert_unchanged(shared_registry, before)
    assert name not in shared_registry.loaded
    assert name not in module_names(shared_registry)
    with shared_registry.transaction() as env:
        assert not env["res.groups"].search([("name", "like", "Loader")])
        assert not env["res.partner"].search([("name", "like", "Loader")])
        assert env.ref(f"{name}.group_early", raise_if_not_found=False) is None
        assert env.ref("base.group_portal").name == "Portal"
        assert not env.ref("base.group_user").implied_ids


@pytest.mark.parametrize(
    ("rows", "line", "match"),
    [
        pytest.param(
            ["access_b,b,model_loader_thing,base.group_user,1,0,0"], 3, "8", id="too-few-columns"
        ),
        pytest.param(["access_b,b,model_loader_thing,,1,0,0,0,1"], 3, "8", id="too-many-columns"),
        pytest.param(
            ["access_b,b,model_loader_thing,base.group_user,1,maybe,0,0"],
            3,
            "maybe",
            id="boolean-maybe",
        ),
        pytest.param(
            ["access_b,b,model_loader_thing,base.no_such_group,1,0,0,0"],
            3,
            "no_such_group",
            id="unknown-group",
        ),
        pytest.param(
            ["access_b,b,model_no_such_model,base.group_user,1,0,0,0"],
            3,
            "model_no_such_model",
            id="unknown-model-ref",
        ),
        pytest.param(
            ["", "access_b,b,model_loader_thing,,1,0,2"], 4, "8", id="blank-line-then-bad"
        ),
    ],
)
def test_csv_error_rolls_back_the_whole_install(
    rows: list[str],
    line: int,
    match: str,
    shared_registry: Registry,
    addons_root: Path,
    request: pytest.FixtureRequest,
) -> None:
    name = "loader_csv_" + re.sub(r"\W", "_", request.node.callspec.id)
    text = "\n".join(
        [
            "id,name,model_id:id,group_id:id,perm_read,perm_write,perm_create,perm_unlink",
            "access_early,early,model_loader_thing,base.group_user,1,0,0,0",
            *rows,
            "access_late,late,model_loader_thing,base.group_user,1,0,0,0",
            "",
        ]
    )
    folder = write_addon(
        addons_root,
        name,
        {
            "models.py": MODELS_PY,
            "security/first.xml": FIRST_FILE,
            "security/ir.model.access.csv": text,
        },
    )
    before = snapshot(shared_registry)
    error = failed_install(shared_registry, name)
    assert match in str(error), str(error)
    assert_location(error, folder / "security/ir.model.access.csv", line)
    assert_unchanged(shared_registry, before)
    assert name not in module_names(shared_registry)


def test_csv_unknown_column_is_refused_on_line_1(
    shared_registry: Registry, addons_root: Path
) -> None:
    text = (
        "id,name,model_id:id,group_id:id,perm_read,perm_write,perm_create,perm_delete\n"
        "access_a,a,model_loader_thing,base.group_user,1,0,0,0\n"
    )
    folder = write_addon(
        addons_root,
        "loader_badcol",
        {
            "models.py": MODELS_PY,
            "security/first.xml": FIRST_FILE,
            "security/ir.model.access.csv": text,
        },
    )
    before = snapshot(shared_registry)
    error = failed_install(shared_registry, "loader_badcol")
    assert "perm_delete" in str(error), str(error)
    assert_location(error, folder / "security/ir.model.access.csv", 1)
    assert_unchanged(shared_registry, before)


# -- XXE, entity expansion, XInclude -------------------------------------------------------
def passwd_marker() -> str:
    return Path("/etc/passwd").read_text(encoding="utf-8").splitlines()[0]


LAUGHS = "\n".join(
    [f'  <!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
)

HOSTILE_XML = {
    "xxe": (
        '<!DOCTYPE odoo [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'
        "<odoo>\n"
        '  <record id="g1" model="res.groups"><field name="name">Loader XXE</field></record>\n'
        '  <record id="g2" model="res.groups">\n'
        '    <field name="name">Loader XXE 2</field>\n'
        '    <field name="comment">&xxe;</field>\n'
        "  </record>\n"
        "</odoo>\n"
    ),
    "xxe-parameter-entity": (
        "<!DOCTYPE odoo [\n"
        '  <!ENTITY % file SYSTEM "file:///etc/passwd">\n'
        "  %file;\n"
        "]>\n"
        '<odoo>\n  <record id="g1" model="res.groups">'
        '<field name="name">Loader XXE PE</field></record>\n</odoo>\n'
    ),
    "billion-laughs": (
        '<!DOCTYPE odoo [\n  <!ENTITY lol0 "lol">\n' + LAUGHS + "\n]>\n<odoo>\n"
        '  <record id="g1" model="res.groups"><field name="name">Loader Laughs</field></record>\n'
        '  <record id="g2" model="res.groups">\n'
        '    <field name="name">Loader Laughs 2</field>\n'
        '    <field name="comment">&lol9;</field>\n'
        "  </record>\n"
        "</odoo>\n"
    ),
    "internal-entity": (
        '<!DOCTYPE odoo [\n  <!ENTITY who "Loader Entity">\n]>\n'
        '<odoo>\n  <record id="g1" model="res.groups"><field name="name">&who;</field>'
        "</record>\n</odoo>\n"
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE_XML), ids=list(HOSTILE_XML))
def test_doctype_and_entities_are_refused(
    case: str, shared_registry: Registry, addons_root: Path
) -> None:
    name = f"loader_xxe_{case.replace('-', '_')}"
    folder = write_addon(
        addons_root,
        name,
        {"security/first.xml": FIRST_FILE, "security/evil.xml": XML_HEAD + HOSTILE_XML[case]},
    )
    before = snapshot(shared_registry)
    error = failed_install(shared_registry, name)
    assert error.path is not None
    assert Path(error.path) == folder / "security/evil.xml"
    assert_unchanged(shared_registry, before)
    marker = passwd_marker()
    assert marker not in str(error)
    assert all(marker not in row for rows in snapshot(shared_registry).values() for row in rows)


def test_xinclude_never_reads_local_files(shared_registry: Registry, addons_root: Path) -> None:
    text = xml(
        """
        <record id="g1" model="res.groups" xmlns:xi="http://www.w3.org/2001/XInclude">
            <field name="name">Loader XInclude</field>
            <field name="comment"><xi:include href="file:///etc/passwd" parse="text"/></field>
        </record>
        <xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"
                    parse="text"/>
        """
    )
    write_addon(addons_root, "loader_xinclude", {"security/evil.xml": text})
    before = snapshot(shared_registry)
    failed_install(shared_registry, "loader_xinclude")
    assert_unchanged(shared_registry, before)


def test_failed_install_can_be_retried_in_the_same_registry(
    base_registry: Registry, addons_root: Path
) -> None:
    folder = write_addon(
        addons_root,
        "loader_retry",
        {
            "models.py": MODELS_PY,
            "data.xml": xml(
                '<record id="t" model="loader.thing"><field name="nam">x</field></record>'
            ),
        },
    )
    with pytest.raises(LoadError, match="'nam'"):
        base_registry.install("loader_retry")
    (folder / "data.xml").write_text(
        xml('<record id="t" model="loader.thing"><field name="name">x</field></record>'),
        encoding="utf-8",
    )
    base_registry.install("loader_retry")
    assert "loader_retry" in module_names(base_registry)
    with base_registry.transaction() as env:
        assert env.ref("loader_retry.t").name == "x"


WRONG_MODEL_REFS = {
    # An ACL whose group column names a user: bound to whichever group has that id.
    "csv-group-is-a-user": (
        "security/ir.model.access.csv",
        "id,name,model_id:id,group_id:id,perm_read,perm_write,perm_create,perm_unlink\n"
        "access_x,x,base.model_res_partner,base.user_admin,1,1,1,1\n",
        2,
    ),
    "csv-model-is-a-group": (
        "security/ir.model.access.csv",
        "id,name,model_id:id,group_id:id,perm_read,perm_write,perm_create,perm_unlink\n"
        "access_x,x,base.group_user,base.group_user,1,1,1,1\n",
        2,
    ),
    "xml-ref-is-a-partner": (
        "security/rules.xml",
        xml(
            """
            <record id="rule_x" model="ir.rule">
                <field name="name">x</field>
                <field name="model_id" ref="base.main_partner"/>
                <field name="domain_force">[]</field>
            </record>
            """
        ),
        5,
    ),
}


@pytest.mark.parametrize("case", list(WRONG_MODEL_REFS), ids=list(WRONG_MODEL_REFS))
def test_reference_to_a_record_of_another_model_is_refused(
    case: str, shared_registry: Registry, addons_root: Path
) -> None:
    file, text, line = WRONG_MODEL_REFS[case]
    name = f"loader_wrong_{case.replace('-', '_')}"
    folder = write_addon(addons_root, name, {file: text})
    before = snapshot(shared_registry)
    error = failed_install(shared_registry, name)
    assert_location(error, folder / file, line)
    assert_unchanged(shared_registry, before)
