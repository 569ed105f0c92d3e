"""The security reference (seed 003: Access Rights, Record Rules, Field Access), one
test per sentence, quoted in the docstring.

Every test runs on SQLite and PostgreSQL with the ``test_catalog`` and
``scenario_security`` addons. Groups, access rights and rules are created at run time
as superuser, then the checks run in ``env.with_user(...)`` environments. The database
is installed once per module and backend; each test runs in one transaction that is
rolled back at the end, so tests never see each other's data.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from bastion import (
    AccessError,
    Command,
    DomainError,
    Environment,
    ExpressionError,
    Model,
    Registry,
)
from bastion.orm.defaults import current_company
from conftest import module_database

ADDONS = ("test_catalog", "scenario_security")
ADDONS_PATH = [Path(__file__).parent / "addons"]
PERMS = {"r": "read", "w": "write", "c": "create", "u": "unlink"}


# -- fixtures ------------------------------------------------------------------------
def shared_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registry]:
    """A registry with ``ADDONS`` installed on a database of backend ``request.param``,
    for a whole module; dropped at the end."""
    with module_database(
        request, tmp_path_factory, *ADDONS, name="security", addons_path=ADDONS_PATH
    ) as registry:
        yield registry


class _Rollback(Exception):
    pass


def rolled_back(registry: Registry) -> Iterator[Environment]:
    """A superuser environment whose transaction is rolled back after the test."""
    with contextlib.suppress(_Rollback), registry.transaction() as env:
        yield env
        raise _Rollback


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_registry(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registry]:
    yield from shared_database(request, tmp_path_factory)


@pytest.fixture
def env(shared_registry: Registry) -> Iterator[Environment]:
    yield from rolled_back(shared_registry)


# -- helpers ---------------------------------------------------------------------------
def model_id(env: Environment, model: str) -> int:
    return int(env["ir.model"].search([("model", "=", model)]).id)


def new_group(env: Environment, name: str, *implied: Model) -> Model:
    return env["res.groups"].create(
        {"name": name, "implied_ids": [Command.link(g.id) for g in implied]}
    )


def new_user(
    env: Environment,
    login: str,
    *groups: Model,
    partner: Model | None = None,
    companies: list[Model] | None = None,
) -> Model:
    companies = companies or [env.ref("base.main_company")]
    vals: dict[str, object] = {
        "login": login,
        "name": login.title(),
        "group_ids": [Command.link(g.id) for g in groups],
        "company_id": companies[0].id,
        "company_ids": [c.id for c in companies],
    }
    if partner is not None:
        vals["partner_id"] = partner.id
    return env["res.users"].create(vals)


def portal_user(env: Environment, login: str) -> Model:
    """A portal user, contact of its own customer company."""
    customer = env["res.partner"].create({"name": f"Customer {login}", "is_company": True})
    contact = env["res.partner"].create({"name": f"Contact {login}", "parent_id": customer.id})
    return new_user(env, login, env.ref("base.group_portal"), partner=contact)


def internal_user(env: Environment, login: str, *groups: Model) -> Model:
    return new_user(env, login, env.ref("base.group_user"), *groups)


def add_acl(env: Environment, model: str, group: Model | None, perms: str) -> Model:
    """An access right; ``perms`` is a subset of "rwcu"; no group: everyone."""
    return env["ir.model.access"].create(
        {
            "name": f"{model} {perms}",
            "model_id": model_id(env, model),
            "group_id": group.id if group is not None else False,
            **{f"perm_{op}": key in perms for key, op in PERMS.items()},
        }
    )


def add_rule(
    env: Environment,
    model: str,
    domain: str,
    *groups: Model,
    name: str | None = None,
    **perms: bool,
) -> Model:
    """A record rule; no group: a global rule. ``perms`` e.g. ``perm_read=False``."""
    return env["ir.rule"].create(
        {
            "name": name or f"{model}: {domain}",
            "model_id": model_id(env, model),
            "domain_force": domain,
            "groups": [Command.link(g.id) for g in groups],
            **perms,
        }
    )


def items(env: Environment, *names: str, **vals: object) -> Model:
    return env["test.item"].create([{"name": name, **vals} for name in names])


def visible(env: Environment, user: int | Model, model: str = "test.item") -> list[str]:
    """Names of the records ``user`` finds with an empty domain."""
    return sorted(str(r.name) for r in env.with_user(user)[model].search([]))


def denied(env: Environment, user: Model, records: Model, operation: str) -> bool:
    return not records.with_user(user).has_access(operation)


# -- Access Rights ---------------------------------------------------------------------
def test_no_matching_access_right_means_no_access(env: Environment) -> None:
    """Seed 003, Access Rights:

    If no access rights matches an operation on a model for a user (through their
    group), the user doesn't have access.
    """
    portal = portal_user(env, "portal")
    item = items(env, "a")
    as_portal = env.with_user(portal)["test.item"]
    assert as_portal.search([]).ids == item.ids  # the portal row grants read only
    with pytest.raises(AccessError) as write:
        item.with_user(portal).write({"name": "b"})
    assert (write.value.model, write.value.operation) == ("test.item", "write")
    with pytest.raises(AccessError):
        as_portal.create({"name": "c"})
    with pytest.raises(AccessError):
        item.with_user(portal).unlink()
    # A model without any row: not even read.
    user = internal_user(env, "internal")
    with pytest.raises(AccessError):
        env.with_user(user)["scenario.note"].search([])
    assert env["test.item"].search([]).mapped("name") == ["a"]


def test_access_rights_are_additive(env: Environment) -> None:
    """Seed 003, Access Rights:

    Access rights are additive, a user's accesses are the union of the accesses they get
    through all their groups e.g. given a user who is part of group A granting read and
    create access and a group B granting update access, the user will have all three of
    create, read, and update.
    """
    group_a = new_group(env, "A")
    group_b = new_group(env, "B")
    add_acl(env, "scenario.note", group_a, "rc")
    add_acl(env, "scenario.note", group_b, "w")
    only_a = internal_user(env, "only_a", group_a)
    both = internal_user(env, "both", group_a, group_b)
    note = env["scenario.note"].create({"name": "n"})

    assert note.with_user(only_a).has_access("read")
    assert note.with_user(only_a).has_access("create")
    assert denied(env, only_a, note, "write")
    for operation in ("read", "create", "write"):
        assert note.with_user(both).has_access(operation), operation
    assert denied(env, both, note, "unlink")
    created = env.with_user(both)["scenario.note"].create({"name": "m"})
    created.write({"name": "m2"})
    assert created.read(["name"]) == [{"id": created.id, "name": "m2"}]


def test_empty_group_grants_every_user(env: Environment) -> None:
    """Seed 003, Access Rights:

    an empty group_id means the ACL is granted to every user (non-employees e.g. portal
    or public users).
    """
    note = env["scenario.note"].create({"name": "n"})
    portal = portal_user(env, "portal")
    public = env.ref("base.public_user")
    nobody = new_user(env, "nobody")  # in no group at all
    users = (portal, public, nobody, internal_user(env, "internal"))
    for user in users:
        assert denied(env, user, note, "read")
    add_acl(env, "scenario.note", None, "rw")
    for user in users:
        assert env.with_user(user)["scenario.note"].search([]).ids == note.ids
        assert note.with_user(user).has_access("write")
        assert denied(env, user, note, "create")


def test_access_right_grants_only_the_permissions_set(env: Environment) -> None:
    """Seed 003, Access Rights:

    The perm_method attributes grant the corresponding CRUD access when set, they are
    all unset by default.
    """
    note = env["scenario.note"].create({"name": "n"})
    user = internal_user(env, "internal")
    acl = env["ir.model.access"].create(
        {"name": "nothing", "model_id": model_id(env, "scenario.note"), "group_id": False}
    )
    assert acl.read(["perm_read", "perm_write", "perm_create", "perm_unlink"])[0] == {
        "id": acl.id,
        "perm_read": False,
        "perm_write": False,
        "perm_create": False,
        "perm_unlink": False,
    }
    for operation in PERMS.values():
        assert denied(env, user, note, operation), operation
    acl.write({"perm_unlink": True})
    assert note.with_user(user).has_access("unlink")
    assert denied(env, user, note, "read")


# -- Record Rules ----------------------------------------------------------------------
def test_rules_are_conditions_checked_record_by_record(env: Environment) -> None:
    """Seed 003, Record Rules:

    Record rules are conditions which must be satisfied in order for an operation to be
    allowed. Record rules are evaluated record-by-record, following access rights.
    """
    portal = portal_user(env, "portal")
    done, draft = items(env, "done", state="done") | items(env, "draft", state="draft")
    add_rule(env, "test.item", "[('state', '=', 'done')]", env.ref("base.group_portal"))
    assert done.with_user(portal).has_access("read")
    assert denied(env, portal, draft, "read")
    assert visible(env, portal) == ["done"]
    # Following access rights: a rule that matches cannot grant the missing write right.
    assert denied(env, portal, done, "write")


def test_rules_are_default_allow(env: Environment) -> None:
    """Seed 003, Record Rules:

    Record rules are default-allow: if access rights grant access and no rule applies to
    the operation and model for the user, the access is granted.
    """
    portal = portal_user(env, "portal")
    items(env, "a", "b")
    assert visible(env, portal) == ["a", "b"]
    # A rule of another group, or for another operation, does not apply to this user.
    add_rule(env, "test.item", "[(0, '=', 1)]", env.ref("base.group_user"))
    add_rule(env, "test.item", "[(0, '=', 1)]", perm_read=False)
    assert visible(env, portal) == ["a", "b"]


def test_rule_without_group_is_global(env: Environment) -> None:
    """Seed 003, Record Rules:

    The res.groups to which access is granted (or not). Multiple groups can be
    specified. If no group is specified, the rule is global which is treated
    differently than "group" rules.
    """
    items(env, "a", "b")
    portal = portal_user(env, "portal")
    internal = internal_user(env, "internal")
    admin = env.ref("base.user_admin")
    add_rule(env, "test.item", "[('name', '=', 'a')]")
    for user in (portal, internal, admin):
        assert visible(env, user) == ["a"]
    assert sorted(env["test.item"].search([]).mapped("name")) == ["a", "b"]  # superuser
    # Several groups: the rule applies to the members of any of them.
    group_x, group_y = new_group(env, "X"), new_group(env, "Y")
    add_rule(env, "test.item", "[('name', '=', 'b')]", group_x, group_y)
    x_user = internal_user(env, "x_user", group_x)
    y_user = internal_user(env, "y_user", group_y)
    for user in (x_user, y_user):
        assert visible(env, user) == []  # global 'a' AND group 'b'
    assert visible(env, internal) == ["a"]


def test_global_is_computed_from_groups(env: Environment) -> None:
    """Seed 003, Record Rules:

    global: Computed on the basis of groups, provides easy access to the global status
    (or not) of the rule.
    """
    group_x = new_group(env, "X")
    rule = add_rule(env, "test.item", "[('name', '=', 'a')]", group_x)
    items(env, "a", "b")
    internal = internal_user(env, "internal")
    assert visible(env, internal) == ["a", "b"]  # a group rule of another group
    rule.write({"groups": [Command.clear()]})
    assert visible(env, internal) == ["a"]  # no group any more: global
    fields = env["ir.rule"].fields_get()
    assert "global" in fields, "ir.rule has no computed 'global' field (seed 003)"
    assert rule.read(["global"])[0]["global"] is True


def test_rule_allows_when_the_domain_matches(env: Environment) -> None:
    """Seed 003, Record Rules:

    A predicate specified as a domain, the rule allows the selected operations if the
    domain matches the record, and forbids it otherwise.
    """
    internal = internal_user(env, "internal")
    cheap, dear = items(env, "cheap", price=5.0) | items(env, "dear", price=500.0)
    add_rule(env, "test.item", "[('price', '<', 100)]", env.ref("base.group_user"))
    for operation in ("read", "write", "unlink"):
        assert cheap.with_user(internal).has_access(operation), operation
        assert denied(env, internal, dear, operation), operation
    as_internal = env.with_user(internal)["test.item"]
    as_internal.create({"name": "ok", "price": 1.0})
    with pytest.raises(AccessError):
        as_internal.create({"name": "too dear", "price": 1000.0})


def test_domain_variable_user(env: Environment) -> None:
    """Seed 003, Record Rules:

    user: The current user, as a singleton recordset.
    """
    alice = internal_user(env, "alice")
    bob = internal_user(env, "bob")
    items(env, "alice's", partner_id=alice.partner_id.id)
    items(env, "bob's", partner_id=bob.partner_id.id)
    add_rule(env, "test.item", "[('partner_id', '=', user.partner_id.id)]")
    assert visible(env, alice) == ["alice's"]
    assert visible(env, bob) == ["bob's"]


def _two_company_user(env: Environment) -> tuple[Model, Model, Model, Model]:
    main = env.ref("base.main_company")
    second = env["res.company"].create({"name": "Second"})
    third = env["res.company"].create({"name": "Third"})
    user = new_user(env, "multi", env.ref("base.group_user"), companies=[main, second])
    for company in (main, second, third):
        items(env, str(company.name), company_id=company.id)
    return user, main, second, third


def test_domain_variable_company_id(env: Environment) -> None:
    """Seed 003, Record Rules:

    company_id: The current user's currently selected company as a single company id
    (not a recordset).
    """
    user, main, second, _third = _two_company_user(env)
    add_rule(env, "test.item", "[('company_id', '=', company_id)]")
    as_user = env.with_user(user)
    assert [r.name for r in as_user["test.item"].search([])] == ["My Company"]
    switched = as_user.with_companies([second, main])
    assert [r.name for r in switched["test.item"].search([])] == ["Second"]


def test_the_current_company_default_is_the_first_selected_company(env: Environment) -> None:
    """``current_company``, the default of documents' ``company_id``, is the first of
    the companies chosen (``with_companies``), else the user's own company."""
    user, main, second, _third = _two_company_user(env)
    as_user = env.with_user(user)
    assert current_company(as_user["test.item"]) == main.id == as_user.company.id
    switched = as_user.with_companies([second, main])
    assert current_company(switched["test.item"]) == second.id == switched.company.id
    assert current_company(as_user.with_companies([main])["test.item"]) == main.id


def test_domain_variable_company_ids(env: Environment) -> None:
    """Seed 003, Record Rules:

    company_ids: All the companies to which the current user has access as a list of
    company ids (not a recordset).
    """
    user, main, second, third = _two_company_user(env)
    add_rule(env, "test.item", "[('company_id', 'in', company_ids)]")
    as_user = env.with_user(user)
    assert sorted(as_user["test.item"].search([]).mapped("name")) == ["My Company", "Second"]
    only_second = as_user.with_companies([second])
    assert only_second["test.item"].search([]).mapped("name") == ["Second"]
    assert only_second.company_ids == (second.id,)
    both = as_user.with_companies([main, second])
    assert both["test.item"].search_count([]) == 2
    # A company the user does not have cannot be selected.
    with pytest.raises(AccessError):
        as_user.with_companies([third])
    with pytest.raises(AccessError):
        as_user.with_companies([main, third])


def test_domain_variable_time_is_not_available(env: Environment) -> None:
    """Seed 003, Record Rules:

        time: Python's time module.

    Bastion deliberately leaves it out (no eval, no host modules in rule expressions):
    a rule using it is refused when it is written.
    """
    before = env["ir.rule"].search_count([])
    with pytest.raises(ExpressionError):
        add_rule(env, "test.item", "[('day', '<', time.strftime('%Y-%m-%d'))]")
    assert env["ir.rule"].search_count([]) == before


def test_rule_perms_select_the_operations_it_applies_for(env: Environment) -> None:
    """Seed 003, Record Rules:

    The perm_method have completely different semantics than for ir.model.access: for
    rules, they specify which operation the rules applies for. If an operation is not
    selected, then the rule is not checked for it, as if the rule did not exist.
    """
    internal = internal_user(env, "internal")
    done = items(env, "done", state="done")
    add_rule(
        env,
        "test.item",
        "[('state', '=', 'draft')]",
        env.ref("base.group_user"),
        perm_read=False,
        perm_create=False,
    )
    as_internal = done.with_user(internal)
    assert as_internal.has_access("read")  # not selected: as if the rule did not exist
    assert as_internal.read(["name"]) == [{"id": done.id, "name": "done"}]
    assert denied(env, internal, done, "write")
    assert denied(env, internal, done, "unlink")
    env.with_user(internal)["test.item"].create({"name": "created done", "state": "done"})


def test_all_operations_are_selected_by_default(env: Environment) -> None:
    """Seed 003, Record Rules:

    All operations are selected by default.
    """
    rule = add_rule(env, "test.item", "[('state', '=', 'draft')]")
    assert rule.read(["perm_read", "perm_write", "perm_create", "perm_unlink"])[0] == {
        "id": rule.id,
        "perm_read": True,
        "perm_write": True,
        "perm_create": True,
        "perm_unlink": True,
    }
    internal = internal_user(env, "internal")
    done = items(env, "done", state="done")
    for operation in ("read", "write", "unlink"):
        assert denied(env, internal, done, operation), operation
    with pytest.raises(AccessError):
        env.with_user(internal)["test.item"].create({"name": "x", "state": "done"})


def test_global_rules_intersect(env: Environment) -> None:
    """Seed 003, Record Rules:

    Global rules intersect, if two global rules apply then both must be satisfied for
    the access to be granted, this means adding global rules always restricts access
    further.
    """
    internal = internal_user(env, "internal")
    items(env, "a1", quantity=1)
    items(env, "a2", quantity=2)
    items(env, "b1", quantity=1)
    add_rule(env, "test.item", "[('name', 'like', 'a')]")
    assert visible(env, internal) == ["a1", "a2"]
    add_rule(env, "test.item", "[('quantity', '=', 1)]")
    assert visible(env, internal) == ["a1"]
    add_rule(env, "test.item", "[('quantity', '=', 2)]")
    assert visible(env, internal) == []


def test_group_rules_unify(env: Environment) -> None:
    """Seed 003, Record Rules:

    Group rules unify, if two group rules apply then either can be satisfied for the
    access to be granted. This means adding group rules can expand access, but not
    beyond the bounds defined by global rules.
    """
    group_x, group_y = new_group(env, "X"), new_group(env, "Y")
    user = internal_user(env, "xy", group_x, group_y)
    items(env, "a1", quantity=1)
    items(env, "b1", quantity=1)
    items(env, "c2", quantity=2)
    add_rule(env, "test.item", "[('name', '=', 'a1')]", group_x)
    assert visible(env, user) == ["a1"]
    add_rule(env, "test.item", "[('name', '=', 'b1')]", group_y)
    assert visible(env, user) == ["a1", "b1"]  # expanded
    # A stricter group rule cannot narrow what another group rule grants.
    add_rule(env, "test.item", "[(0, '=', 1)]", group_y)
    assert visible(env, user) == ["a1", "b1"]
    # A group rule matching everything stays within the global rules.
    add_rule(env, "test.item", "[(1, '=', 1)]", group_x)
    add_rule(env, "test.item", "[('quantity', '=', 1)]")
    assert visible(env, user) == ["a1", "b1"]


def test_first_group_rule_restricts_the_global_ruleset(env: Environment) -> None:
    """Seed 003, Record Rules:

    The global and group rulesets intersect, which means the first group rule being
    added to a given global ruleset will restrict access.
    """
    internal = internal_user(env, "internal")
    items(env, "a1", quantity=1)
    items(env, "a2", quantity=2)
    items(env, "b1", quantity=1)
    add_rule(env, "test.item", "[('quantity', '=', 1)]")
    assert visible(env, internal) == ["a1", "b1"]
    add_rule(env, "test.item", "[('name', 'like', 'a')]", env.ref("base.group_user"))
    assert visible(env, internal) == ["a1"]


def test_group_rules_apply_through_implied_groups(env: Environment) -> None:
    """A group rule applies to every user whose effective groups (``implied_ids``,
    transitively) contain its group: "a user belongs to groups"."""
    items(env, "a", "b")
    add_rule(env, "test.item", "[('name', '=', 'a')]", env.ref("base.group_user"))
    admin = env.ref("base.user_admin")  # group_system -> group_erp_manager -> group_user
    assert visible(env, admin) == ["a"]


def test_rule_domain_is_checked_against_the_model(env: Environment) -> None:
    """Seed 003, Record Rules:

        domain_force: A predicate specified as a domain

    A domain of the rule's model: one that does not fit is refused when the rule is
    written, not when it first runs.
    """
    with pytest.raises(DomainError):
        add_rule(env, "test.item", "[('no_such_field', '=', 1)]")
    assert env["ir.rule"].search_count([("model_id", "=", model_id(env, "test.item"))]) == 0


# -- Field Access ----------------------------------------------------------------------
def test_restricted_fields_are_removed_from_fields_get(env: Environment) -> None:
    """Seed 003, Field Access:

    restricted fields are removed from fields_get() responses
    """
    portal = portal_user(env, "portal")
    internal = internal_user(env, "internal")
    admin = env.ref("base.user_admin")
    item = env["test.item"]
    assert {"secret", "cost"} <= set(item.fields_get())  # superuser
    assert {"secret", "cost"} <= set(item.with_user(admin).fields_get())
    for user in (portal, internal):
        described = item.with_user(user).fields_get()
        assert "name" in described
        assert "secret" not in described
        assert "cost" not in described
    erp_manager = internal_user(env, "manager", env.ref("base.group_erp_manager"))
    described = item.with_user(erp_manager).fields_get()
    assert "cost" in described
    assert "secret" not in described


def test_explicit_read_of_restricted_field_raises(env: Environment) -> None:
    """Seed 003, Field Access (reading):

    attempts to (explicitly) read from or write to restricted fields results in an
    access error
    """
    item = env["test.item"].create({"name": "a", "secret": "s3cr3t", "cost": 12.5})
    internal = internal_user(env, "internal")
    as_internal = item.with_user(internal)
    with pytest.raises(AccessError) as error:
        as_internal.read(["name", "secret"])
    assert error.value.fields == ("secret",)
    assert "s3cr3t" not in str(error.value)
    with pytest.raises(AccessError):
        as_internal.secret  # noqa: B018
    with pytest.raises(AccessError):
        as_internal["cost"]
    with pytest.raises(AccessError):
        env.with_user(internal)["test.item"].search_read([], ["cost"])
    # Not asked for explicitly: left out, no error.
    row = as_internal.read()[0]
    assert row["name"] == "a"
    assert "secret" not in row
    assert "cost" not in row
    assert item.with_user(env.ref("base.user_admin")).read(["secret", "cost"])[0] == {
        "id": item.id,
        "secret": "s3cr3t",
        "cost": 12.5,
    }


def test_explicit_write_of_restricted_field_raises(env: Environment) -> None:
    """Seed 003, Field Access (writing, and creating):

    attempts to (explicitly) read from or write to restricted fields results in an
    access error
    """
    item = env["test.item"].create({"name": "a", "secret": "old"})
    internal = internal_user(env, "internal")
    with pytest.raises(AccessError) as error:
        item.with_user(internal).write({"name": "b", "secret": "new"})
    assert error.value.operation == "write"
    with pytest.raises(AccessError):
        env.with_user(internal)["test.item"].create({"name": "c", "cost": 1.0})
    assert env["test.item"].search([]).read(["name", "secret"]) == [
        {"id": item.id, "name": "a", "secret": "old"}
    ]


def test_search_and_order_by_restricted_field_refused(env: Environment) -> None:
    """Bastion: searching or ordering by a restricted field is an access error too,
    otherwise its values could be probed one comparison at a time."""
    item = env["test.item"].create({"name": "a", "secret": "s3cr3t"})
    env["test.line"].create({"item_id": item.id, "label": "l"})
    internal = internal_user(env, "internal")
    as_internal = env.with_user(internal)
    probes = [
        lambda: as_internal["test.item"].search([("secret", "=", "s3cr3t")]),
        lambda: as_internal["test.item"].search_count([("secret", "like", "s3")]),
        lambda: as_internal["test.item"].search([], order="secret"),
        lambda: as_internal["test.item"].search([], order="name, cost desc"),
        lambda: as_internal["test.line"].search([("item_id.secret", "=", "s3cr3t")]),
        lambda: as_internal["test.item"].search(["!", ("secret", "!=", "x")]),
        lambda: as_internal["test.item"].search("[('secret', '=', 's3cr3t')]"),
        lambda: as_internal["test.line"].search([("item_id", "any", [("secret", "=", "s")])]),
        lambda: as_internal["test.line"].search([("item_id", "not any", [("cost", ">", 0)])]),
        lambda: as_internal["test.item"].search([("line_ids.item_id.secret", "=", "s3cr3t")]),
        lambda: as_internal["test.item"].browse(item.id).filtered_domain([("secret", "=", "x")]),
    ]
    for probe in probes:
        with pytest.raises(AccessError):
            probe()
    assert as_internal["test.item"].search([], order="name desc").ids == item.ids


def test_negated_group_in_field_groups(env: Environment) -> None:
    """Group expressions on fields: "a,b" = a OR b, "!a" = NOT a
    (test.item.cost is groups="base.group_erp_manager,!base.group_portal")."""
    blocked = env.ref("scenario_security.group_blocked")
    add_acl(env, "scenario.note", None, "rw")
    note = env["scenario.note"].create(
        {"name": "n", "not_portal": "np", "internal_unblocked": "iu"}
    )
    portal = portal_user(env, "portal")
    internal = internal_user(env, "internal")
    internal_blocked = internal_user(env, "blocked", blocked)
    nobody = new_user(env, "nobody")

    def fields_of(user: Model) -> set[str]:
        return set(env["scenario.note"].with_user(user).fields_get()) & {
            "not_portal",
            "internal_unblocked",
        }

    assert fields_of(portal) == set()
    assert fields_of(nobody) == {"not_portal"}  # "!a" alone: everyone but a
    assert fields_of(internal) == {"not_portal", "internal_unblocked"}
    assert fields_of(internal_blocked) == {"not_portal"}
    with pytest.raises(AccessError):
        note.with_user(portal).read(["not_portal"])
    with pytest.raises(AccessError):
        note.with_user(internal_blocked).write({"internal_unblocked": "x"})
    assert note.with_user(internal).read(["internal_unblocked"])[0]["internal_unblocked"] == "iu"

    # test.item.cost: erp managers only, never portal users.
    item = items(env, "a", cost=3.0)
    manager = internal_user(env, "manager", env.ref("base.group_erp_manager"))
    assert item.with_user(manager).cost == 3.0
    for user in (portal, internal):
        with pytest.raises(AccessError):
            item.with_user(user).cost  # noqa: B018
