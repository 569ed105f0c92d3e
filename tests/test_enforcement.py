"""Bastion's enforcement guarantees: where and how each access decision is applied.

Search pushes the rules into SQL; reads, creates, writes and unlinks check the records
they touch and write nothing when they refuse; rules are computed as superuser while a
user's own domains and relation traversals stay in the user's rights; user types stay
exclusive; security caches follow every change, in the same transaction, across
registries (workers), and never keep a rolled-back change.

Most tests run in a transaction rolled back at the end, on a database shared by the
module (per backend); those about commits and rollbacks get a fresh database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from bastion import (
    AccessError,
    Command,
    DomainError,
    Environment,
    ExpressionError,
    MissingError,
    Model,
    Registry,
    ValidationError,
)
from bastion.domain.sql import RuleSql
from bastion.security.state import kept_rule_text
from test_security_scenarios import (
    ADDONS_PATH,
    add_acl,
    add_rule,
    internal_user,
    items,
    new_group,
    new_user,
    portal_user,
    rolled_back,
    shared_database,
    visible,
)

OWN_ITEMS = "[('partner_id', 'child_of', [user.commercial_partner_id.id])]"
MARKER = "Zq7-UNIQUE-MARKER-41x"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_registry(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registry]:
    yield from shared_database(request, tmp_path_factory)


@pytest.fixture
def env(shared_registry: Registry) -> Iterator[Environment]:
    yield from rolled_back(shared_registry)


def customer(env: Environment, name: str) -> Model:
    return env["res.partner"].create({"name": name, "is_company": True})


def own_partner(user: Model) -> Model:
    return user.sudo().partner_id.commercial_partner_id


class Boom(Exception):
    """Raised on purpose to roll a transaction or a savepoint back."""


# -- search ------------------------------------------------------------------------------
def test_search_applies_rules_in_sql_before_limit_and_offset(env: Environment) -> None:
    portal = portal_user(env, "portal")
    other = customer(env, "Other")
    items(env, "a1", "a2", "a3", partner_id=other.id)  # first by order, all forbidden
    items(env, "b1", "b2", "b3", "b4", "b5", partner_id=own_partner(portal).id)
    items(env, "c1", partner_id=other.id)
    add_rule(env, "test.item", OWN_ITEMS, env.ref("base.group_portal"))
    as_portal = env.with_user(portal)["test.item"]

    assert as_portal.search([], limit=2).mapped("name") == ["b1", "b2"]
    assert as_portal.search([], order="name desc", limit=2).mapped("name") == ["b5", "b4"]
    assert as_portal.search_count([]) == 5
    assert as_portal.search_count([], limit=3) == 3
    assert as_portal.search_count([("name", "like", "1")]) == 1
    pages = [as_portal.search([], offset=o, limit=2).mapped("name") for o in (0, 2, 4, 6)]
    assert pages == [["b1", "b2"], ["b3", "b4"], ["b5"], []]
    assert as_portal.search_read([], ["name"], offset=1, limit=1) == [
        {"id": as_portal.search([("name", "=", "b2")]).id, "name": "b2"}
    ]


# -- read ----------------------------------------------------------------------------------
def test_reading_a_forbidden_record_raises_without_its_data(env: Environment) -> None:
    portal = portal_user(env, "portal")
    other = customer(env, "Other")
    forbidden = env["test.item"].create(
        {
            "name": MARKER,
            "notes": MARKER,
            "partner_id": other.id,
            "tag_ids": [(0, 0, {"name": "t"})],
        }
    )
    allowed = items(env, "mine", partner_id=own_partner(portal).id)
    add_rule(env, "test.item", OWN_ITEMS, env.ref("base.group_portal"), name="Portal: own items")
    record = forbidden.with_user(portal)
    both = (allowed | forbidden).with_user(portal)
    attempts: list[Callable[[], object]] = [
        lambda: record.read(),
        lambda: record.read(["name"]),
        lambda: record.name,
        lambda: record["notes"],
        lambda: record.partner_id,
        lambda: record.tag_ids,
        lambda: record.display_name,
        lambda: record.check_access("read"),
        lambda: both.read(["name"]),
        lambda: [r.name for r in both],
    ]
    for attempt in attempts:
        with pytest.raises(AccessError) as error:
            attempt()
        denial = error.value
        assert denial.model == "test.item"
        assert denial.operation == "read"
        assert denial.ids == (forbidden.id,)
        assert denial.rules == ("Portal: own items",)
        assert MARKER not in str(denial)
        assert MARKER not in repr(denial.args)
    assert not record.has_access("read")
    assert allowed.with_user(portal).read(["name"]) == [{"id": allowed.id, "name": "mine"}]


def test_missing_record_raises_missing_error(env: Environment) -> None:
    internal = internal_user(env, "internal")
    gone = items(env, "gone")
    gone_id = gone.id
    gone.unlink()
    attempts: list[Callable[[Model], object]] = [
        lambda record: record.read(["name"]),
        lambda record: record.name,
        lambda record: record.partner_id,
    ]
    for as_env in (env, env.with_user(internal)):
        for attempt in attempts:
            with pytest.raises(MissingError):
                attempt(as_env["test.item"].browse(gone_id))
        assert not as_env["test.item"].browse(gone_id).exists()
    with pytest.raises(MissingError):
        env.with_user(internal)["test.item"].browse(gone_id).check_access("read")
    assert not env.with_user(internal)["test.item"].browse(gone_id).has_access("read")


def test_access_right_denial_names_the_groups_that_would_grant_it(env: Environment) -> None:
    portal = portal_user(env, "portal")
    item = items(env, "a")
    with pytest.raises(AccessError) as error:
        item.with_user(portal).write({"name": "b"})
    denial = error.value
    assert (denial.model, denial.operation) == ("test.item", "write")
    assert any("Internal User" in group for group in denial.groups), denial.groups
    assert "Internal User" in str(denial)
    assert not denial.rules


def test_model_without_access_rights_is_refused_to_every_user(env: Environment) -> None:
    """scenario.note has no ir.model.access row: internal users and even the settings
    administrator are refused; only the superuser gets through."""
    note = env["scenario.note"].create({"name": "n"})
    attempts: list[Callable[[Model], object]] = [
        lambda note: note.search([]),
        lambda note: note.search_count([]),
        lambda note: note.create({"name": "x"}),
        lambda note: note.read(["name"]),
        lambda note: note.name,
        lambda note: note.write({"name": "x"}),
        lambda note: note.unlink(),
    ]
    for user in (internal_user(env, "internal"), env.ref("base.user_admin")):
        for attempt in attempts:
            with pytest.raises(AccessError) as error:
                attempt(note.with_user(user))
            assert error.value.model == "scenario.note"
            assert error.value.groups == ()
    assert env["scenario.note"].search([]).mapped("name") == ["n"]


def test_superuser_bypasses_everything(env: Environment) -> None:
    portal = portal_user(env, "portal")
    add_rule(env, "test.item", "[(0, '=', 1)]")  # a global rule refusing everything
    item = env["test.item"].create({"name": "a", "secret": "hush", "cost": 2.0})
    note = env["scenario.note"].create({"name": "n"})
    for su_env in (env, env.with_user(portal).sudo()):
        assert su_env.su
        assert su_env["test.item"].search([]) == item
        assert su_env["test.item"].search([("secret", "=", "hush")], order="cost") == item
        assert item.with_env(su_env).read(["secret"]) == [{"id": item.id, "secret": "hush"}]
        item.with_env(su_env).write({"cost": 3.0})
        assert note.with_env(su_env).read(["name"])[0]["name"] == "n"
    assert env.with_user(portal).sudo().uid == portal.id
    assert env.with_user(portal)["test.item"].search([]) == env["test.item"]
    assert item.with_user(portal).sudo().cost == 3.0


# -- create / write / unlink ------------------------------------------------------------------
def test_create_checks_the_rules_on_the_new_rows(
    make_registry: Callable[..., Registry],
) -> None:
    reg = make_registry("test_catalog")
    with reg.transaction() as env:
        portal = portal_user(env, "portal")
        add_acl(env, "test.item", env.ref("base.group_portal"), "c")
        add_rule(
            env,
            "test.item",
            "[('state', '=', 'draft')]",
            env.ref("base.group_portal"),
            name="Portal creates drafts",
            perm_read=False,
        )
        as_portal = env.with_user(portal)["test.item"]
        as_portal.create({"name": "allowed", "state": "draft"})
        with pytest.raises(AccessError) as error:
            as_portal.create({"name": MARKER, "state": "done"})
        denial = error.value
        assert (denial.operation, denial.rules) == ("create", ("Portal creates drafts",))
        assert MARKER not in str(denial)
        with pytest.raises(AccessError):
            as_portal.create([{"name": "ok", "state": "draft"}, {"name": "bad", "state": "done"}])
        assert env["test.item"].search([]).mapped("name") == ["allowed"]
    with reg.transaction() as env:
        assert env["test.item"].search([]).mapped("name") == ["allowed"]


def _drafts_only(env: Environment) -> Model:
    """An internal user who may write and delete draft items only (reads unrestricted)."""
    add_rule(
        env,
        "test.item",
        "[('state', '=', 'draft')]",
        env.ref("base.group_user"),
        name="Drafts only",
        perm_read=False,
        perm_create=False,
    )
    return internal_user(env, "internal")


def _snapshot(records: Model, *names: str) -> list[dict[str, object]]:
    return records.sudo().read(list(names))


def test_write_checks_rules_before_and_after(env: Environment) -> None:
    user = _drafts_only(env)
    draft = items(env, "draft", state="draft", quantity=1)
    done = items(env, "done", state="done", quantity=1)
    before = _snapshot(draft | done, "name", "state", "quantity")

    with pytest.raises(AccessError) as error:
        done.with_user(user).write({"quantity": 2})
    assert (error.value.operation, error.value.ids) == ("write", (done.id,))
    assert error.value.rules == ("Drafts only",)
    with pytest.raises(AccessError) as error:  # would leave the rule
        draft.with_user(user).write({"state": "done", "name": "renamed"})
    assert error.value.ids == (draft.id,)
    with pytest.raises(AccessError):
        (draft | done).with_user(user).write({"quantity": 9})
    assert _snapshot(draft | done, "name", "state", "quantity") == before
    assert draft.with_user(user).quantity == 1  # the user's own cache is not stale

    draft.with_user(user).write({"quantity": 3})
    assert draft.quantity == 3


def test_refused_write_applies_no_x2many_command(env: Environment) -> None:
    user = _drafts_only(env)
    add_rule(
        env, "test.line", "[('label', '!=', 'locked')]", env.ref("base.group_user"), perm_read=False
    )
    tag = env["test.tag"].create({"name": "existing"})
    draft = env["test.item"].create(
        {
            "name": "draft",
            "state": "draft",
            "tag_ids": [Command.link(tag.id)],
            "line_ids": [Command.create({"label": "old"}), Command.create({"label": "locked"})],
        }
    )
    old, locked = draft.line_ids  # in creation order
    done = items(env, "done", state="done")
    as_user = draft.with_user(user)

    refused_writes: list[dict[str, object]] = [
        # the item leaves its rule: every command of the same write is undone
        {
            "state": "done",
            "tag_ids": [Command.create({"name": "new tag"}), Command.unlink(tag.id)],
            "line_ids": [Command.create({"label": "new"}), Command.update(old.id, {"label": "x"})],
        },
        # the item is fine but a command touches a line the user may not write
        {"name": "renamed", "line_ids": [Command.update(locked.id, {"label": "x"})]},
        {"name": "renamed", "line_ids": [Command.delete(locked.id)]},
    ]
    for vals in refused_writes:
        with pytest.raises(AccessError):
            as_user.write(vals)
    with pytest.raises(AccessError):  # commands alone on a forbidden record
        done.with_user(user).write({"tag_ids": [Command.link(tag.id)]})

    assert env["test.tag"].search([]).mapped("name") == ["existing"]
    assert draft.read(["name", "state", "tag_ids"])[0] == {
        "id": draft.id,
        "name": "draft",
        "state": "draft",
        "tag_ids": [tag.id],
    }
    assert sorted(env["test.line"].search([]).mapped("label")) == ["locked", "old"]
    assert not done.tag_ids


def test_unlink_checks_rules_before(env: Environment) -> None:
    user = _drafts_only(env)
    draft = items(env, "draft", state="draft")
    done = items(env, "done", state="done")
    with pytest.raises(AccessError) as error:
        done.with_user(user).unlink()
    assert (error.value.operation, error.value.ids) == ("unlink", (done.id,))
    with pytest.raises(AccessError):
        (draft | done).with_user(user).unlink()
    assert (draft | done).exists() == draft | done
    draft.with_user(user).unlink()
    assert (draft | done).exists() == done


# -- rules as superuser, user domains and traversal in the user's rights ----------------------
def test_rules_are_computed_as_superuser(env: Environment) -> None:
    """A rule may go through a model the user cannot read at all, and its sub-queries
    are not filtered by that model's rules."""
    acme, other = customer(env, "Acme"), customer(env, "Other")
    items(env, "acme item", partner_id=acme.id)
    items(env, "other item", partner_id=other.id)
    readers = new_group(env, "Item readers")
    add_acl(env, "test.item", readers, "r")
    rule = "[('partner_id.name', '=', 'Acme')]"
    add_rule(env, "test.item", rule, readers, env.ref("base.group_portal"))

    reader = new_user(env, "reader", readers)  # no access right on res.partner at all
    with pytest.raises(AccessError):
        env.with_user(reader)["res.partner"].search([])
    assert visible(env, reader) == ["acme item"]

    portal = portal_user(env, "portal")  # the partner rules hide Acme from this user
    assert not env.with_user(portal)["res.partner"].search([("id", "=", acme.id)])
    assert visible(env, portal) == ["acme item"]


def test_user_domain_through_a_relation_stays_in_the_users_rights(env: Environment) -> None:
    portal = portal_user(env, "portal")
    other = customer(env, "Other")
    env["res.partner"].create({"name": "Spy target", "parent_id": other.id, "email": "t@x.org"})
    items(env, "mine", partner_id=own_partner(portal).id)
    items(env, "theirs", partner_id=other.id)
    as_portal = env.with_user(portal)["test.item"]
    assert visible(env, portal) == ["mine", "theirs"]  # no rule on items: all readable

    assert not as_portal.search([("partner_id.name", "=", "Other")])
    assert as_portal.search_count([("partner_id.child_ids.email", "=", "t@x.org")]) == 0
    own_name = str(own_partner(portal).name)
    assert as_portal.search([("partner_id.name", "=", own_name)]).mapped("name") == ["mine"]
    # Negations cannot probe either: the true name and a made-up one answer the same.
    probe = as_portal.search(["!", ("partner_id.name", "=", "Other")])
    assert probe == as_portal.search(["!", ("partner_id.name", "=", "No such name")])
    # The superuser's search is not restricted.
    assert env["test.item"].search([("partner_id.name", "=", "Other")]).mapped("name") == ["theirs"]
    # A user without any right on the related model cannot search through it.
    readers = new_group(env, "Item readers")
    add_acl(env, "test.item", readers, "r")
    reader = new_user(env, "reader", readers)
    for domain in (
        [("partner_id.name", "=", "Other")],
        [("partner_id.child_ids", "=", other.id)],  # the links alone, were it allowed
        [("partner_id", "any", [("child_ids", "any", [])])],
    ):
        with pytest.raises(AccessError):
            env.with_user(reader)["test.item"].search(domain)


def test_relational_traversal_stays_in_the_users_environment(env: Environment) -> None:
    """odoo#61702 cannot happen: following a relation never reads as superuser."""
    portal = portal_user(env, "portal")
    other = customer(env, MARKER)
    mine = own_partner(portal)
    hidden = env["test.tag"].create({"name": "hidden"})
    shown = env["test.tag"].create({"name": "shown"})
    add_rule(env, "test.tag", "[('name', '!=', 'hidden')]", env.ref("base.group_portal"))
    theirs = env["test.item"].create(
        {"name": "theirs", "partner_id": other.id, "tag_ids": [Command.set([hidden.id, shown.id])]}
    )
    own = items(env, "mine", partner_id=mine.id)
    as_portal = (own | theirs).with_user(portal)

    with pytest.raises(AccessError) as error:
        theirs.with_user(portal).partner_id.name  # noqa: B018
    assert error.value.model == "res.partner"
    assert MARKER not in str(error.value)
    assert as_portal.read(["partner_id"]) == [
        {"id": own.id, "partner_id": (mine.id, mine.name)},
        {"id": theirs.id, "partner_id": (other.id, False)},
    ]
    assert own.with_user(portal).partner_id.name == mine.name  # prefetched with the other
    assert theirs.with_user(portal).tag_ids.mapped("name") == ["shown"]
    assert theirs.with_user(portal).read(["tag_ids"])[0]["tag_ids"] == [shown.id]


def test_linking_requires_read_access_to_the_target(env: Environment) -> None:
    portal = portal_user(env, "portal")
    add_acl(env, "test.item", env.ref("base.group_portal"), "wc")
    add_rule(env, "test.tag", "[('name', '!=', 'hidden')]", env.ref("base.group_portal"))
    other = customer(env, "Other")
    mine = own_partner(portal)
    hidden = env["test.tag"].create({"name": "hidden"})
    shown = env["test.tag"].create({"name": "shown"})
    item = items(env, "mine", partner_id=mine.id)
    as_portal = env.with_user(portal)["test.item"]

    refused: list[Callable[[], object]] = [
        lambda: as_portal.create({"name": "new", "partner_id": other.id}),
        lambda: as_portal.create({"name": "new", "tag_ids": [Command.link(hidden.id)]}),
        lambda: item.with_user(portal).write({"partner_id": other.id}),
        lambda: item.with_user(portal).write({"tag_ids": [(4, hidden.id)]}),
        lambda: item.with_user(portal).write({"tag_ids": [Command.set([shown.id, hidden.id])]}),
        lambda: item.with_user(portal).write({"tag_ids": [hidden.id]}),
    ]
    for attempt in refused:
        with pytest.raises(AccessError):
            attempt()
    assert env["test.item"].search([]) == item
    assert item.read(["partner_id", "tag_ids"])[0] == {
        "id": item.id,
        "partner_id": (mine.id, mine.name),
        "tag_ids": [],
    }
    item.with_user(portal).write({"tag_ids": [Command.link(shown.id)]})
    assert item.tag_ids == shown


def test_unlinking_keeps_the_links_the_user_cannot_see(env: Environment) -> None:
    """set, clear and unlink cut only links to records the user may read; a link to a
    record hidden by the comodel's rules survives a user's write."""
    portal = portal_user(env, "portal")
    add_acl(env, "test.item", env.ref("base.group_portal"), "w")
    add_rule(env, "test.tag", "[('name', '!=', 'hidden')]", env.ref("base.group_portal"))
    hidden, shown, other = env["test.tag"].create(
        [{"name": "hidden"}, {"name": "shown"}, {"name": "other"}]
    )
    item = items(env, "mine", partner_id=own_partner(portal).id)
    as_portal = item.with_user(portal)
    for command in (Command.set([other.id]), Command.clear(), Command.unlink(hidden.id)):
        item.write({"tag_ids": [Command.set([hidden.id, shown.id])]})
        as_portal.write({"tag_ids": [command]})
        assert hidden in item.tag_ids, command
    item.write({"tag_ids": [Command.set([hidden.id, shown.id])]})
    as_portal.write({"tag_ids": [Command.set([other.id])]})
    assert set(item.tag_ids.mapped("name")) == {"hidden", "other"}


# -- user types and group implications --------------------------------------------------------
def test_portal_user_can_never_become_internal(env: Environment) -> None:
    portal = portal_user(env, "portal.jane")
    group_portal, group_user = env.ref("base.group_portal"), env.ref("base.group_user")
    attempts: list[Callable[[], object]] = [
        lambda: portal.write({"group_ids": [Command.link(group_user.id)]}),
        lambda: portal.write({"group_ids": [Command.set([group_portal.id, group_user.id])]}),
        lambda: group_user.write({"user_ids": [Command.link(portal.id)]}),
        lambda: new_user(env, "portal.mixed", group_portal, group_user),
        lambda: new_user(env, "portal.public", group_portal, env.ref("base.group_public")),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError) as error:
            attempt()
        assert "portal." in str(error.value)  # the login of the user concerned
    assert portal.group_ids == group_portal
    assert not env["res.users"].search([("login", "in", ["portal.mixed", "portal.public"])])
    assert not items(env, "a").with_user(portal).has_access("write")


def test_portal_user_can_never_become_internal_through_implied_groups(env: Environment) -> None:
    portal = portal_user(env, "portal.jane")
    group_user = env.ref("base.group_user")
    helpers = new_group(env, "Sales helpers", group_user)
    with pytest.raises(ValidationError) as error:
        portal.write({"group_ids": [Command.link(helpers.id)]})
    assert "portal.jane" in str(error.value)
    assert "Sales helpers -> User types / Internal User" in str(error.value)

    # A chain A -> B that reaches group_user only when B changes later.
    chain_b = new_group(env, "Chain B")
    chain_a = new_group(env, "Chain A", chain_b)
    portal.write({"group_ids": [Command.link(chain_a.id)]})
    with pytest.raises(ValidationError) as error:
        chain_b.write({"implied_ids": [Command.link(group_user.id)]})
    assert "portal.jane" in str(error.value)
    assert "Chain A -> Chain B -> User types / Internal User" in str(error.value)
    assert not chain_b.implied_ids
    assert portal.group_ids == env.ref("base.group_portal") | chain_a
    assert not items(env, "a").with_user(portal).has_access("write")


def test_group_implication_cycle_is_refused(env: Environment) -> None:
    first = new_group(env, "Cycle A")
    second = new_group(env, "Cycle B", first)
    with pytest.raises(ValidationError) as error:
        first.write({"implied_ids": [Command.link(second.id)]})
    assert "Cycle A" in str(error.value)
    assert "Cycle B" in str(error.value)
    with pytest.raises(ValidationError):
        first.write({"implied_ids": [Command.link(first.id)]})
    assert not first.implied_ids
    assert second.implied_ids == first


# -- caches follow every change ----------------------------------------------------------------
def test_rule_changes_apply_at_once(env: Environment) -> None:
    portal = portal_user(env, "portal")
    items(env, "a", "b")
    assert visible(env, portal) == ["a", "b"]
    rule = add_rule(env, "test.item", "[('name', '=', 'a')]", env.ref("base.group_portal"))
    assert visible(env, portal) == ["a"]
    rule.write({"domain_force": "[('name', '=', 'b')]"})
    assert visible(env, portal) == ["b"]
    rule.write({"active": False})
    assert visible(env, portal) == ["a", "b"]
    rule.write({"active": True, "perm_read": False})
    assert visible(env, portal) == ["a", "b"]
    rule.write({"perm_read": True})
    assert visible(env, portal) == ["b"]
    rule.unlink()
    assert visible(env, portal) == ["a", "b"]


def test_access_right_changes_apply_at_once(env: Environment) -> None:
    portal = portal_user(env, "portal")
    item = items(env, "a")
    assert item.with_user(portal).name == "a"
    acl = env["ir.model.access"].search([("name", "=", "item portal")])
    acl.write({"perm_write": True})
    item.with_user(portal).write({"name": "b"})
    acl.unlink()
    with pytest.raises(AccessError):
        env.with_user(portal)["test.item"].search([])
    with pytest.raises(AccessError):
        item.with_user(portal).name  # noqa: B018


def test_group_changes_apply_at_once(env: Environment) -> None:
    grants = new_group(env, "Grants notes")
    add_acl(env, "scenario.note", grants, "r")
    member = new_group(env, "Member")
    user = internal_user(env, "internal", member)
    note = env["scenario.note"].create({"name": "n"})
    assert not note.with_user(user).has_access("read")
    member.write({"implied_ids": [Command.link(grants.id)]})
    assert note.with_user(user).name == "n"
    member.write({"implied_ids": [Command.unlink(grants.id)]})
    assert not note.with_user(user).has_access("read")
    user.write({"group_ids": [Command.link(grants.id)]})
    assert note.with_user(user).name == "n"
    grants.write({"user_ids": [Command.unlink(user.id)]})
    assert not note.with_user(user).has_access("read")
    # A group rule applies while the user is in its group, and only then.
    add_acl(env, "scenario.note", None, "r")
    assert note.with_user(user).has_access("read")
    add_rule(env, "scenario.note", "[('name', '=', 'other')]", member)
    assert not note.with_user(user).has_access("read")
    user.write({"group_ids": [Command.unlink(member.id)]})
    assert note.with_user(user).has_access("read")
    user.write({"group_ids": [Command.link(member.id)]})
    assert not note.with_user(user).has_access("read")


def test_security_changes_reach_other_registries(
    make_registry: Callable[..., Registry],
) -> None:
    """Two registries on one database are two workers: each sees what the other
    committed, in its next transaction, although both cached the previous state."""
    first = make_registry("test_catalog")
    with first.transaction() as env:
        portal_id = portal_user(env, "portal").id
        items(env, "a", "b")
    second = Registry(first.url, addons_path=ADDONS_PATH)
    try:
        workers = (first, second)
        for reg in workers:
            with reg.transaction() as env:
                assert visible(env, portal_id) == ["a", "b"]
        with first.transaction() as env:
            group_portal = env.ref("base.group_portal")
            rule_id = add_rule(env, "test.item", "[('name', '=', 'a')]", group_portal).id
        for reg in workers:
            with reg.transaction() as env:
                assert visible(env, portal_id) == ["a"]
        with second.transaction() as env:
            env["ir.rule"].browse(rule_id).write({"active": False})
        for reg in workers:
            with reg.transaction() as env:
                assert visible(env, portal_id) == ["a", "b"]
        with second.transaction() as env:
            env["ir.model.access"].search([("name", "=", "item portal")]).unlink()
        for reg in workers:
            with reg.transaction() as env, pytest.raises(AccessError):
                visible(env, portal_id)
    finally:
        second.dispose()


def test_users_groups_are_read_when_asked_for_and_follow_other_workers(
    make_registry: Callable[..., Registry],
) -> None:
    """A security state reads a user's groups the first time they are asked for, in
    one statement, and keeps them for the version: a database's users are many, and
    loading a state no longer reads them all. A group given in another worker reaches
    this one's next transaction, although it kept the user's groups before."""
    first = make_registry("test_catalog")
    with first.transaction() as env:
        portal_id = portal_user(env, "portal").id
        reader = new_group(env, "readers of a")
        add_rule(env, "test.item", "[('name', '=', 'a')]", reader)
        items(env, "a", "b")
    second = Registry(first.url, addons_path=ADDONS_PATH)
    try:
        with second.transaction() as env:
            state = second.security.state(env)
            assert ("groups", portal_id) not in state.memo
            assert visible(env, portal_id) == ["a", "b"]
            kept = state.memo[("groups", portal_id)]
            assert reader.id not in kept
            statements: list[str] = []

            def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
                statements.append(statement)

            sa.event.listen(second.engine, "before_cursor_execute", record)
            try:
                assert state.closure_of(env, portal_id) == state.closure_of(env, portal_id)
            finally:
                sa.event.remove(second.engine, "before_cursor_execute", record)
            assert statements == []  # kept for the version
        with first.transaction() as env:
            env["res.users"].browse(portal_id).write({"group_ids": [Command.link(reader.id)]})
        with second.transaction() as env:
            assert second.security.state(env) is not state
            assert visible(env, portal_id) == ["a"]
    finally:
        second.dispose()


def test_groups_read_while_users_are_written_stay_in_the_transaction(
    make_registry: Callable[..., Registry],
) -> None:
    """A write of users announces itself before its SQL and is accounted for after its
    checks: groups read in between are the transaction's own, uncommitted. From the
    announcement on, the transaction has a security state of its own, so neither those
    groups nor what is derived from them reach the shared one, and a rollback leaves
    nothing."""
    reg = make_registry("test_catalog")
    with reg.transaction() as env:
        portal_id = portal_user(env, "portal").id
        extra = new_group(env, "extra").id
    with reg.transaction() as env:
        shared = reg.security.state(env)
    with pytest.raises(Boom), reg.transaction() as env:
        assert reg.security.state(env) is shared
        reg.security.changing(env, "res.users")  # as bastion.orm.writes does
        links = reg.relation_table("res_groups_users_rel")
        env.cr.execute(sa.insert(links).values(uid=portal_id, gid=extra))
        own = reg.security.state(env)
        assert own is not shared
        assert extra in own.closure_of(env, portal_id)  # its own view
        raise Boom
    with reg.transaction() as env:
        assert reg.security.state(env) is shared
        assert extra not in shared.closure_of(env, portal_id)


def test_rolled_back_security_changes_do_not_leak(
    make_registry: Callable[..., Registry],
) -> None:
    reg = make_registry("test_catalog")
    with reg.transaction() as env:
        portal_id = portal_user(env, "portal").id
        items(env, "a", "b")
    with reg.transaction() as env:
        assert visible(env, portal_id) == ["a", "b"]  # the shared cache is warm

    with pytest.raises(Boom), reg.transaction() as env:
        add_rule(env, "test.item", "[('name', '=', 'a')]", env.ref("base.group_portal"))
        assert visible(env, portal_id) == ["a"]
        raise Boom
    with reg.transaction() as env:
        assert visible(env, portal_id) == ["a", "b"]
        assert not env["ir.rule"].search([("model_id.model", "=", "test.item")])

    with pytest.raises(Boom), reg.transaction() as env:
        env["ir.model.access"].search([("name", "=", "item portal")]).write({"perm_write": True})
        env.with_user(portal_id)["test.item"].search([]).write({"name": "x"})
        raise Boom
    with reg.transaction() as env:
        assert visible(env, portal_id) == ["a", "b"]
        assert not env.with_user(portal_id)["test.item"].search([]).has_access("write")


def test_security_change_rolled_back_to_a_savepoint_does_not_leak(env: Environment) -> None:
    portal = portal_user(env, "portal")
    item = items(env, "a")
    acl = env["ir.model.access"].search([("name", "=", "item portal")])
    assert not item.with_user(portal).has_access("write")
    with pytest.raises(Boom), env.savepoint():
        acl.write({"perm_write": True})
        assert item.with_user(portal).has_access("write")
        raise Boom
    assert not acl.perm_write
    assert not item.with_user(portal).has_access("write"), "rolled-back grant still applies"
    with pytest.raises(AccessError):
        item.with_user(portal).write({"name": "b"})


# -- hostile rule expressions -----------------------------------------------------------------
HOSTILE_DOMAINS = [
    "user.sudo()",
    "[('id', 'in', user.sudo().company_ids.ids)]",
    "[('name', '=', user.env)]",
    "[('name', '=', user._name)]",
    "__import__('os')",
    "[('name', '=', __import__('os').getcwd())]",
    "[('name', '=', open('/etc/passwd').read())]",
    "[('name', '=', ().__class__.__name__)]",
    "[('name', '=', (lambda: 1)())]",
    "[x for x in [1]]",
    "[('nope', '=', 1)]",
    "[('name', 'no such operator', 1)]",
    "[('partner_id.nope', '=', 1)]",
    "[('partner_id', '=', user.password)]",
    "[('name', '=', 1)",
    "42",
]


def test_hostile_or_invalid_rule_domains_are_refused(env: Environment) -> None:
    safe = "[('name', '=', 'safe')]"
    rule = add_rule(env, "test.item", safe, name="safe rule")
    for text in HOSTILE_DOMAINS:
        with pytest.raises((ExpressionError, DomainError)):
            add_rule(env, "test.item", text, name="hostile")
        with pytest.raises((ExpressionError, DomainError)):
            rule.write({"domain_force": text})
        assert not env["ir.rule"].search([("name", "=", "hostile")]), text
        assert rule.domain_force == safe, text


# -- compiled rule SQL is kept per security version ------------------------------------------
def test_compiled_rules_are_reused_and_follow_rule_changes(env: Environment) -> None:
    """The SQL of a user's rules is compiled once per security version: the same
    expression serves the next query, and a rule change gives a new one, with the new
    answer."""
    user = internal_user(env, "reuser")
    add_acl(env, "test.item", None, "r")
    items(env, "alpha", "beta")
    add_rule(env, "test.item", "[('name', '=', 'alpha')]")
    as_user = env.with_user(user)
    security = env.registry.security
    spec = env.registry.model_info("test.item")
    node = security.rule_node(as_user, "test.item", "read")
    first = security.rule_sql(as_user, node, spec, spec.table)
    assert security.rule_sql(as_user, node, spec, spec.table) is first
    assert visible(env, user) == ["alpha"]
    assert visible(env, user) == ["alpha"]  # the kept expression, same answer
    add_rule(env, "test.item", "[('name', '!=', 'alpha')]", name="not alpha")
    assert visible(env, user) == []
    alias = spec.table.alias("elsewhere")
    assert security.rule_sql(as_user, node, spec, alias) is not first


@contextmanager
def statements_sent(env: Environment) -> Iterator[list[tuple[str, object]]]:
    """The statements (text and parameters) sent while the block runs."""
    sent: list[tuple[str, object]] = []

    def record(_conn: object, _cursor: object, statement: str, params: object, *_: object) -> None:
        sent.append((statement, params))

    sa.event.listen(env.registry.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(env.registry.engine, "before_cursor_execute", record)


def test_a_rules_constants_are_written_into_its_sql_on_postgresql(env: Environment) -> None:
    """On PostgreSQL a rule's integers, booleans and word-like strings are written into
    the statement, where the planner sees them even in a prepared statement's generic
    plan; the user's values, and a string that would need quoting, stay parameters. The
    answer is the rule's on both backends."""
    portal = portal_user(env, "constants")
    partner = own_partner(portal)
    rule = (
        "[('state', 'in', ['draft', 'done']), ('quantity', '>', 2), ('flag', '=', True), "
        "('name', '!=', \"O'Hara's\"), ('partner_id', 'child_of', [user.commercial_partner_id.id])]"
    )
    add_rule(env, "test.item", rule, env.ref("base.group_portal"))
    mine = {"partner_id": partner.id, "quantity": 3, "flag": True}
    items(env, "kept", state="draft", **mine)
    items(env, "also kept", state="done", **mine)
    items(env, "O'Hara's", state="done", **mine)
    items(env, "cancelled", state="cancel", **mine)
    items(env, "two", state="draft", **{**mine, "quantity": 2})
    items(env, "unflagged", state="draft", **{**mine, "flag": False})
    items(env, "another's", state="draft", **{**mine, "partner_id": customer(env, "B").id})
    with statements_sent(env) as sent:
        assert visible(env, portal) == ["also kept", "kept"]
    (text, params) = next((t, p) for t, p in sent if "FROM test_item" in t)
    written = ("'draft'", "'done'", "> 2", "= true")
    on_postgresql = env.registry.dialect == "postgresql"
    assert all((literal in text) == on_postgresql for literal in written), text
    assert "O'Hara" not in text and "O'Hara's" in str(params)
    assert str(partner.id) in str(params)


def test_child_of_on_a_many2one_reads_the_tree_as_an_array_on_postgresql(
    env: Environment,
) -> None:
    """``partner_id child_of`` the user's customer: on PostgreSQL the tree goes as
    ``= ANY(ARRAY(...))``, which the planner estimates from its few partners rather than
    the recursive walk's fixed guess; elsewhere as ``IN``. The same items either way:
    the customer's and its contacts', not another customer's, nor unassigned ones."""
    portal = portal_user(env, "tree")
    company = own_partner(portal)
    contact = env["res.partner"].create({"name": "Sub contact", "parent_id": company.id})
    add_rule(env, "test.item", OWN_ITEMS, env.ref("base.group_portal"))
    items(env, "the company's", partner_id=company.id)
    items(env, "a contact's", partner_id=contact.id)
    items(env, "another's", partner_id=customer(env, "Other").id)
    items(env, "nobody's")
    with statements_sent(env) as sent:
        assert visible(env, portal) == ["a contact's", "the company's"]
    text = next(t for t, _p in sent if "FROM test_item" in t)
    assert ("test_item.partner_id = ANY(ARRAY(" in text) == (env.registry.dialect == "postgresql")


def test_two_customers_share_the_rule_sql_and_bring_their_own_ids(env: Environment) -> None:
    """Two customers' portal users: their rules differ by the ids only, so they share
    one SQL expression (and statement text), each bringing their ids as parameters.
    Taken in turns in one transaction, each sees, counts, reads and checks their own
    items only, and the other's are refused."""
    first, second = portal_user(env, "first"), portal_user(env, "second")
    add_rule(env, "test.item", OWN_ITEMS, env.ref("base.group_portal"))
    own = {
        first.id: items(env, "first's a", "first's b", partner_id=own_partner(first).id),
        second.id: items(env, "second's a", "second's b", partner_id=own_partner(second).id),
    }
    security = env.registry.security
    spec = env.registry.model_info("test.item")
    bound = []
    for user in (first, second):
        as_user = env.with_user(user)
        node = security.rule_node(as_user, "test.item", "read")
        bound.append(security.rule_sql(as_user, node, spec, spec.table))
    assert bound[0].clause is bound[1].clause
    assert list(bound[0].params.values()) == [own_partner(first).id]
    assert list(bound[1].params.values()) == [own_partner(second).id]

    texts: dict[int, set[str]] = {first.id: set(), second.id: set()}
    running = [first.id]

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "test_item" in statement:
            texts[running[0]].add(statement)

    sa.event.listen(env.registry.engine, "before_cursor_execute", record)
    try:
        for _round in range(2):
            for user, other in ((first, second), (second, first)):
                running[0] = user.id
                mine, theirs = own[user.id], own[other.id]
                records = env["test.item"].with_user(user)
                assert records.search([]).ids == mine.ids
                assert records.search_count([]) == len(mine)
                assert records.search_read([], ["name"]) == mine.sudo().read(["name"])
                mine.with_user(user).check_access("read")
                with pytest.raises(AccessError):
                    theirs.with_user(user).check_access("read")
                with pytest.raises(AccessError):
                    theirs.with_user(user).read(["name"])
    finally:
        sa.event.remove(env.registry.engine, "before_cursor_execute", record)
    # The same statement texts, whoever ran them (each customer has two items: on
    # SQLite a list of ids is rendered at its length).
    assert texts[first.id] == texts[second.id] and texts[first.id]


def test_a_security_change_keeps_the_sql_of_the_rules_it_leaves_alone(env: Environment) -> None:
    """After a change of the security configuration elsewhere (a rule on another model),
    an unchanged rule's SQL is the same expression with the same parameter names,
    whichever customer's user asks first: the statements holding it keep their text,
    and so SQLAlchemy's compiled form."""
    first, second = portal_user(env, "first"), portal_user(env, "second")
    add_rule(env, "test.item", OWN_ITEMS, env.ref("base.group_portal"))
    security = env.registry.security
    spec = env.registry.model_info("test.item")

    def rule_sql(user: Model) -> tuple[object, RuleSql]:
        as_user = env.with_user(user)
        node = security.rule_node(as_user, "test.item", "read")
        return security.state(as_user), security.rule_sql(as_user, node, spec, spec.table)

    state_before, before = rule_sql(first)
    add_rule(env, "res.partner", "[('id', '!=', 0)]", env.ref("base.group_user"))
    state_after, after = rule_sql(second)
    assert state_after is not state_before  # a new security version was loaded
    assert after.clause is before.clause
    assert list(after.params) == list(before.params)
    assert list(after.params.values()) == [own_partner(second).id]
    mine = items(env, "second's", partner_id=own_partner(second).id)
    items(env, "first's", partner_id=own_partner(first).id)
    assert env["test.item"].with_user(second).search([]).ids == mine.ids


def test_a_security_change_keeps_the_compiled_texts_of_the_rules_it_leaves_alone(
    env: Environment,
) -> None:
    """A security version is loaded after every change of the configuration; the rules
    it leaves alone keep their compiled text, an edited one is compiled anew and
    applies."""
    portal = portal_user(env, "kept")
    items(env, "a", "b")
    rule = add_rule(env, "test.item", "[('name', '=', 'a')]", env.ref("base.group_portal"))
    security = env.registry.security

    def compiled() -> dict[int, object]:
        return {r.id: r.expression for r in security.state(env).rules["test.item"]}

    before = compiled()
    assert visible(env, portal) == ["a"]
    add_rule(env, "res.partner", "[('id', '!=', 0)]", env.ref("base.group_user"))
    after = compiled()
    assert after[rule.id] is before[rule.id]
    rule.write({"domain_force": "[('name', '=', 'b')]"})
    assert compiled()[rule.id] is not before[rule.id]
    assert visible(env, portal) == ["b"]


def test_an_addon_loaded_into_the_registry_builds_the_rules_sql_anew(tmp_path: Path) -> None:
    """What is kept of the rules is built from the models: an addon that extends them
    (contacts extends res.partner, whose table is built again) starts it anew, so the
    user's searches name the new table only (they used to name the old one beside it,
    an ambiguous cartesian product, until the next security change)."""
    registry = Registry(f"sqlite:///{tmp_path / 'addons.db'}")
    try:
        registry.install("base")
        with registry.transaction() as env:
            user = portal_user(env, "reader")

        def partner_rule_sql() -> object:
            with registry.transaction() as env:
                as_user = env.with_user(user.id)
                spec = registry.model_info("res.partner")
                node = registry.security.rule_node(as_user, "res.partner", "read")
                return registry.security.rule_sql(as_user, node, spec, spec.table).clause

        before = partner_rule_sql()
        assert partner_rule_sql() is before  # kept while the models stay as they are
        text = "[('partner_id.parent_id', '=', user.partner_id.id)]"
        compiled = kept_rule_text(registry, text)
        assert kept_rule_text(registry, text) is compiled
        registry.install("contacts")
        after = partner_rule_sql()
        assert after is not before
        assert kept_rule_text(registry, text) is not compiled
        with registry.transaction() as env:
            partners = env.with_user(user.id)["res.partner"]
            assert sorted(partners.search([]).mapped("name")) == [
                "Contact reader",
                "Customer reader",
            ]
            assert len(partners.search_read([], ["name", "parent_id"])) == 2
    finally:
        registry.dispose()


def test_a_rule_is_evaluated_once_for_the_users_who_give_it_the_same_values(
    env: Environment,
) -> None:
    """A rule that reads nothing of the user is evaluated once for everybody, one that
    reads only the companies once per set of companies; each user still gets the
    answer for their own companies."""
    main = env.ref("base.main_company")
    other_company = env["res.company"].create({"name": "Other Company"})
    here, there = internal_user(env, "here"), internal_user(env, "there")
    elsewhere = new_user(env, "elsewhere", env.ref("base.group_user"), companies=[other_company])
    add_acl(env, "test.item", None, "r")
    constant = add_rule(env, "test.item", "[('name', '!=', 'hidden')]", name="constant")
    by_company = add_rule(
        env, "test.item", "[('company_id', 'in', company_ids)]", name="by company"
    )
    items(env, "main item", company_id=main.id)
    items(env, "other item", company_id=other_company.id)
    items(env, "hidden", company_id=main.id)
    security = env.registry.security
    (constant_rule,) = [r for r in security.state(env).rules["test.item"] if r.id == constant.id]
    (company_rule,) = [r for r in security.state(env).rules["test.item"] if r.id == by_company.id]
    envs = [env.with_user(user) for user in (here, there, elsewhere)]
    constants = [security.rule_domain(e, constant_rule) for e in envs]
    assert constants[0] is constants[1] is constants[2]
    by_companies = [security.rule_domain(e, company_rule) for e in envs]
    assert by_companies[0] is by_companies[1]
    assert by_companies[2] != by_companies[0]
    assert visible(env, here) == visible(env, there) == ["main item"]
    assert visible(env, elsewhere) == ["other item"]
