"""Batched x2many commands, batched creates and linear prefetch give what the record by
record path gives.

``apply_commands`` applies each command to a whole recordset (one check of the targets,
one read of the existing links, one insert); ``create`` links runs of new records
together and, on SQLite, numbers the rows itself; ``related_records`` gathers the
prefetch set of related records once, on first use. Each is compared here with the
behaviour it replaces: the same commands written one record at a time through the
public API (hypothesis, as superuser and as a user with record rules), the same values
created one at a time, the prefetch set of the former eager walk. Statement counts are
behaviour: the statements of a subscription or a create do not grow with the records.
All on SQLite and PostgreSQL (``make_registry`` runs each test on both).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion import AccessError, Command, MissingError, Model, Registry, ValidationError
from bastion.orm import Environment
from test_security_scenarios import add_rule, internal_user, portal_user

EXAMPLES = 150  # per backend and test
# What an error is compared by: its type, and for denials the model and operation.
ErrorKey = tuple[str, str | None, str | None]
Snapshot = tuple[list[Any], ...]


@contextmanager
def count_statements(registry: Registry) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not statement.startswith(("SAVEPOINT", "RELEASE", "BEGIN")):
            statements.append(statement)

    sa.event.listen(registry.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(registry.engine, "before_cursor_execute", record)


@contextmanager
def undone(env: Environment) -> Iterator[None]:
    """Run a block, then roll back everything it did (caches included)."""
    nested = env.cr.begin_nested()
    try:
        yield
    finally:
        nested.rollback()
        env.transaction.invalidate()


def error_key(exc: Exception) -> ErrorKey:
    return (type(exc).__name__, getattr(exc, "model", None), getattr(exc, "operation", None))


# -- the data: items, tags and lines, some of them hidden from the user by rules ----------
@dataclass(frozen=True)
class World:
    reg: Registry
    user: int
    items: tuple[int, ...]
    locked: int  # an item the user may not write
    tags: tuple[int, ...]  # readable, readable, hidden, deleted
    lines: tuple[int, ...]  # readable, readable, hidden, readable, deleted
    last_tag: int
    last_line: int


def build_world(reg: Registry) -> World:
    """Committed once per test: an internal user whose group rules hide the tag and the
    line named "hidden" (for reading only) and the item named "locked" (for writing)."""
    with reg.transaction() as env:
        group_user = env.ref("base.group_user")
        assert group_user is not None
        user = internal_user(env, "batcher")
        read_only = {"perm_write": False, "perm_create": False, "perm_unlink": False}
        add_rule(env, "test.tag", "[('name', '!=', 'hidden')]", group_user, **read_only)
        add_rule(env, "test.line", "[('label', '!=', 'hidden')]", group_user, **read_only)
        add_rule(
            env,
            "test.item",
            "[('name', '!=', 'locked')]",
            group_user,
            perm_read=False,
            perm_create=False,
        )
        # Deleted between others, so that no later record takes its id (SQLite gives
        # the largest id + 1).
        a, gone_tag, b, hidden = env["test.tag"].create(
            [{"name": "a"}, {"name": "gone"}, {"name": "b"}, {"name": "hidden"}]
        )
        gone_tag_id = int(gone_tag.id)
        gone_tag.unlink()
        items = env["test.item"].create(
            [
                {"name": f"item{i}", "tag_ids": [Command.set(ids)]}
                for i, ids in enumerate([[a.id], [hidden.id], [a.id, b.id, hidden.id], []])
            ]
        )
        locked = env["test.item"].create({"name": "locked", "tag_ids": [Command.link(a.id)]})
        one, gone_line, *lines = env["test.line"].create(
            [
                {"item_id": items[0].id, "label": "one"},
                {"item_id": items[0].id, "label": "gone"},
                {"item_id": items[1].id, "label": "two"},
                {"item_id": items[1].id, "label": "hidden"},
                {"item_id": items[2].id, "label": "three"},
            ]
        )
        gone_line_id = int(gone_line.id)
        gone_line.unlink()
        return World(
            reg=reg,
            user=int(user.id),
            items=tuple(items.ids),
            locked=int(locked.id),
            tags=(int(a.id), int(b.id), int(hidden.id), gone_tag_id),
            lines=(int(one.id), *(int(line.id) for line in lines), gone_line_id),
            last_tag=int(hidden.id),
            last_line=int(lines[-1].id),
        )


def snapshot(env: Environment, world: World) -> Snapshot:
    """The relation rows, tags and lines, with records created during the example
    named by their values (their ids depend on the backend's sequences)."""
    registry = env.registry
    tag_table = registry.specs["test.tag"].table
    line_table = registry.specs["test.line"].table
    field = registry.specs["test.item"].fields["tag_ids"]
    assert field.relation and field.column1 and field.column2
    rel = registry.relation_table(field.relation)
    tag_names = dict(env.cr.execute(sa.select(tag_table.c.id, tag_table.c.name)).all())

    def tag(rid: int) -> tuple[int, int, str]:
        return (0, rid, "") if rid <= world.last_tag else (1, 0, str(tag_names[rid]))

    links = sorted(
        (owner, tag(target))
        for owner, target in env.cr.execute(sa.select(rel.c[field.column1], rel.c[field.column2]))
    )
    tags = sorted(tag(rid) for rid in tag_names)
    lines = sorted(
        ((0, rid) if rid <= world.last_line else (1, 0), item, label)
        for rid, item, label in env.cr.execute(
            sa.select(line_table.c.id, line_table.c.item_id, line_table.c.label)
        )
    )
    return links, tags, lines


def outcome(env: Environment, world: World, apply: Callable[[], object]) -> tuple[Any, ...]:
    """What ``apply`` leaves (rows) or raises (the error's key), undone afterwards."""
    with undone(env):
        try:
            apply()
        except (AccessError, MissingError, ValidationError) as exc:
            return ("error", error_key(exc))
        return ("rows", snapshot(env, world))


# -- commands, as hypothesis draws them -------------------------------------------------
def command_lists(world: World, field: str) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    """Up to 4 commands on the many2many; one on the one2many: a one2many target belongs
    to one record, and a list of commands over several records is applied command by
    command (as it always was), which a loop of writes does not reproduce when a target
    moves from record to record."""
    if field == "tag_ids":
        pool, key, most = world.tags, "name", 4
    else:
        pool, key, most = world.lines, "label", 1
    ids = st.sampled_from(pool)
    command = st.one_of(
        st.builds(lambda v: (0, 0, {key: v}), st.sampled_from(["new", "hidden"])),
        st.builds(lambda rid: (3, rid, 0), ids),
        st.builds(lambda rid: (4, rid, 0), ids),
        st.just((5, 0, 0)),
        st.builds(lambda rids: (6, 0, rids), st.lists(ids, max_size=3)),
    )
    return st.lists(command, min_size=1, max_size=most)


@dataclass(frozen=True)
class Example:
    as_user: bool
    field: str
    records: list[int]
    commands: list[tuple[Any, ...]]


def examples(world: World, *, locked: bool) -> st.SearchStrategy[Example]:
    owners = list(world.items) + ([world.locked] if locked else [])
    records = st.lists(st.sampled_from(owners), min_size=1, max_size=len(owners), unique=True)

    @st.composite
    def draw(data: st.DrawFn) -> Example:
        field = data(st.sampled_from(["tag_ids", "line_ids"]))
        return Example(data(st.booleans()), field, data(records), data(command_lists(world, field)))

    return draw()


def run_settings() -> Callable[[Callable[..., None]], Callable[..., None]]:
    return settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# -- apply_commands over a recordset = the same commands record after record --------------
def test_commands_over_a_recordset_equal_commands_record_by_record(
    make_registry: Callable[..., Registry],
) -> None:
    world = build_world(make_registry("test_catalog"))
    seen: set[str] = set()

    @run_settings()
    @given(example=examples(world, locked=False))
    def check(example: Example) -> None:
        with world.reg.transaction() as root:
            env = root.with_user(world.user) if example.as_user else root
            items = env["test.item"]
            vals = {example.field: example.commands}

            def batched() -> None:
                items.browse(example.records).write(vals)

            def one_by_one() -> None:
                for rid in example.records:
                    items.browse(rid).write(vals)

            expected = outcome(root, world, one_by_one)
            assert outcome(root, world, batched) == expected, example
            seen.add(expected[0])

    check()
    assert seen == {"rows", "error"}  # both kinds of outcome were compared


def test_a_refused_record_refuses_the_batch_as_it_refuses_the_loop(
    make_registry: Callable[..., Registry],
) -> None:
    """With an item the user may not write in the recordset, both refuse (the loop after
    writing the records before it, which its caller's savepoint undoes)."""
    world = build_world(make_registry("test_catalog"))

    @run_settings()
    @given(example=examples(world, locked=True))
    def check(example: Example) -> None:
        with world.reg.transaction() as root:
            env = root.with_user(world.user) if example.as_user else root
            items = env["test.item"]
            vals = {example.field: example.commands}

            def batched() -> None:
                items.browse(example.records).write(vals)

            def one_by_one() -> None:
                with env.savepoint():
                    for rid in example.records:
                        items.browse(rid).write(vals)

            expected, got = outcome(root, world, one_by_one), outcome(root, world, batched)
            assert got[0] == expected[0], example
            if got[0] == "rows":
                assert got == expected, example

    check()


# -- create: runs of new records share their links ----------------------------------------
LINK_SETS: list[list[tuple[Any, ...]]] = [
    [],
    [(4, 0, 0)],
    [(6, 0, [0, 1])],
    [(4, 1, 0), (3, 0, 0)],
    [(6, 0, [2])],
    [(0, 0, {"name": "new"})],
]


def create_values(world: World) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Lists of item values in runs of neighbours given the same tag commands (tag
    positions in ``world.tags`` stand for ids), some with lines."""

    def as_ids(commands: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        def tag(position: int) -> int:
            return world.tags[position]

        result: list[tuple[Any, ...]] = []
        for code, arg, payload in commands:
            if code in (3, 4):
                result.append((code, tag(arg), 0))
            elif code == 6:
                result.append((6, 0, [tag(p) for p in payload]))
            else:
                result.append((code, arg, payload))
        return result

    run = st.fixed_dictionaries(
        {
            "tags": st.sampled_from(range(len(LINK_SETS))),
            "lines": st.integers(0, 2),
            "repeat": st.integers(1, 3),
        }
    )

    def values(runs: list[dict[str, int]]) -> list[dict[str, Any]]:
        result = []
        drawn = [spec for spec in runs for _ in range(spec["repeat"])]
        for index, spec in enumerate(drawn):
            vals: dict[str, Any] = {"name": f"new{index}"}
            commands = as_ids(LINK_SETS[spec["tags"]])
            if commands:
                vals["tag_ids"] = commands
            if spec["lines"]:
                vals["line_ids"] = [
                    Command.create({"label": f"l{n}"}) for n in range(spec["lines"])
                ]
            result.append(vals)
        return result

    return st.lists(run, min_size=1, max_size=5).map(values)


def created_rows(env: Environment, world: World, created: list[int]) -> Snapshot:
    """The snapshot with the new items named by their position in the create."""
    position = {rid: index for index, rid in enumerate(created)}
    links, tags, lines = snapshot(env, world)

    def item(rid: int) -> tuple[int, int]:
        return (1, position[rid]) if rid in position else (0, rid)

    return (
        sorted((item(owner), tag) for owner, tag in links),
        tags,
        sorted((line, item(owner), label) for line, owner, label in lines),
    )


def test_create_in_a_batch_equals_creating_one_by_one(
    make_registry: Callable[..., Registry],
) -> None:
    world = build_world(make_registry("test_catalog"))

    @run_settings()
    @given(batch=create_values(world), as_user=st.booleans())
    def check(batch: list[dict[str, Any]], as_user: bool) -> None:
        with world.reg.transaction() as root:
            env = root.with_user(world.user) if as_user else root
            results = []
            for apply in (
                lambda: env["test.item"].create(batch).ids,
                lambda: [env["test.item"].create(vals).id for vals in batch],
            ):
                with undone(root):
                    try:
                        ids = apply()
                    except (AccessError, MissingError, ValidationError) as exc:
                        results.append(("error", error_key(exc)))
                        continue
                    names = env["test.item"].browse(ids).mapped("name")
                    assert names == [vals["name"] for vals in batch]  # ids in values' order
                    results.append(("rows", created_rows(root, world, ids)))
            assert results[0] == results[1], batch

    check()


def test_create_returns_the_ids_in_the_order_of_the_values(registry: Registry) -> None:
    with registry.transaction() as env:
        first = env["res.partner"].create([{"name": f"p{i:02}"} for i in range(30)])
        first[-1].unlink()  # the largest id is free again: SQLite gives it anew
        again = env["res.partner"].create([{"name": f"q{i:02}"} for i in range(30)])
        assert again.mapped("name") == [f"q{i:02}" for i in range(30)]
        assert again.ids == sorted(again.ids)
        assert len(set(again.ids) & set(first.ids[:-1])) == 0
        for record in again:
            assert record.read(["name"]) == [{"id": record.id, "name": record.name}]


# -- linking records the user may not read ----------------------------------------------------
def test_linking_an_unreadable_target_names_the_field(
    make_registry: Callable[..., Registry],
) -> None:
    world = build_world(make_registry("test_catalog"))
    _a, _b, hidden, gone = world.tags
    hidden_line = world.lines[2]
    with world.reg.transaction() as root:
        before = snapshot(root, world)
        items = root.with_user(world.user)["test.item"]
        owners = items.browse(world.items[:3])
        attempts: list[tuple[Callable[[], object], str, type[Exception]]] = [
            (lambda: owners.write({"tag_ids": [Command.link(hidden)]}), "tag_ids", AccessError),
            (lambda: owners.write({"tag_ids": [Command.set([hidden])]}), "tag_ids", AccessError),
            (
                lambda: owners.write({"tag_ids": [(0, 0, {"name": "hidden"})]}),
                "tag_ids",
                AccessError,
            ),
            (
                lambda: items.create([{"name": "x", "tag_ids": [Command.link(hidden)]}] * 3),
                "tag_ids",
                AccessError,
            ),
            (
                lambda: owners.write({"line_ids": [Command.link(hidden_line)]}),
                "line_ids",
                AccessError,
            ),
            (lambda: owners.write({"tag_ids": [Command.link(gone)]}), "tag_ids", MissingError),
        ]
        for attempt, field, error in attempts:
            with pytest.raises(error) as raised:
                attempt()
            assert f"test.item.{field}" in str(raised.value)
            comodel = "test.tag" if field == "tag_ids" else "test.line"
            assert raised.value.model == comodel  # type: ignore[attr-defined]
            if isinstance(raised.value, AccessError):
                assert raised.value.operation == "read"
            assert snapshot(root, world) == before  # nothing written
        with pytest.raises(ValidationError, match=r"test\.item\.tag_ids.*do not exist"):
            root["test.item"].browse(world.items).write({"tag_ids": [Command.link(gone)]})
        # Readable targets link, from every record, once.
        owners.write({"tag_ids": [Command.link(world.tags[1]), Command.link(world.tags[1])]})
        assert all(world.tags[1] in item.sudo().tag_ids.ids for item in owners)


# -- statements: constant in the number of records ----------------------------------------------
def test_subscribing_many_records_costs_a_constant_number_of_statements(
    make_registry: Callable[..., Registry],
) -> None:
    reg = make_registry("helpdesk")
    counts = {}
    with reg.transaction() as env:
        partner = portal_user(env, "subscriber").partner_id
        other = env["res.partner"].create({"name": "Other follower"})
        for size in (10, 100):
            tickets = env["helpdesk.ticket"].create(
                [{"name": f"t{i}", "partner_id": other.id} for i in range(size)]
            )
            with count_statements(reg) as statements:
                tickets.message_subscribe([partner.id, other.id])
            counts[size] = len(statements)
            followers = tickets.mapped("message_partner_ids")
            assert set(followers.ids) == {partner.id, other.id}
            for ticket in tickets:
                assert set(ticket.message_partner_ids.ids) == {partner.id, other.id}
    assert counts[10] == counts[100], counts
    assert counts[100] <= 8, counts  # per partner: a check, the existing links, an insert


def test_creating_many_records_costs_a_constant_number_of_statements(
    make_registry: Callable[..., Registry],
) -> None:
    """A portal user's tickets under create rules, each followed by the customer: the
    statements of a batch do not depend on its size."""
    reg = make_registry("helpdesk")
    counts = {}
    with reg.transaction() as root:
        portal = portal_user(root, "customer")
        partner = portal.partner_id
        env = root.with_user(portal)
        env["helpdesk.ticket"].create({"name": "warm up", "partner_id": partner.id})
        created = []
        for size in (10, 200):
            with count_statements(reg) as statements:
                created.append(
                    env["helpdesk.ticket"].create(
                        [{"name": f"t{i}", "partner_id": partner.id} for i in range(size)]
                    )
                )
            counts[size] = len(statements)
        for tickets, size in zip(created, (10, 200), strict=True):
            assert len(tickets) == size
            assert all(t.message_partner_ids == partner for t in tickets.sudo())
            assert len(set(tickets.sudo().mapped("number"))) == size
    assert counts[10] == counts[200], counts


# -- related_records: the prefetch set of the eager walk, gathered once ---------------------------
def eager_prefetch(records: Model, field_name: str, ids: tuple[int, ...]) -> tuple[int, ...]:
    """The former ``related_records``: ``ids``, then the field's cached values over the
    records' prefetch set, walked at each access."""
    prefetch: dict[int, None] = dict.fromkeys(ids)
    cache = records.env.cache.get(records._name, {})
    for rid in records._prefetch_ids:
        value = cache.get(rid, {}).get(field_name)
        if isinstance(value, int):
            prefetch[value] = None
        elif isinstance(value, tuple):
            prefetch.update(dict.fromkeys(value))
    return tuple(prefetch) or ids


def test_related_records_prefetch_what_the_eager_walk_prefetched(
    make_registry: Callable[..., Registry],
) -> None:
    reg = make_registry("test_catalog")
    with reg.transaction() as env:
        partners = env["res.partner"].create([{"name": f"p{i}"} for i in range(7)])
        tags = env["test.tag"].create([{"name": f"t{i}"} for i in range(5)])
        env["test.item"].create(
            [
                {
                    "name": f"i{i:03}",
                    "partner_id": partners[i % 7].id if i % 5 else False,
                    "tag_ids": [Command.set(tags.ids[: i % 4])],
                }
                for i in range(300)
            ]
        )
    with reg.transaction() as root:
        admin = root.ref("base.user_admin")
        assert admin is not None
        for env in (root, root.with_user(admin)):
            env.transaction.invalidate()
            items = env["test.item"].search([])
            with count_statements(reg) as statements:
                for item in items:
                    for name in ("partner_id", "tag_ids"):
                        related = item[name]
                        expected = eager_prefetch(item, name, tuple(related.ids))
                        assert related._prefetch_ids == expected
                    item.partner_id.mapped("name")
                    item.tag_ids.mapped("name")
            # the items, their partners, their tags (and their names): as before
            assert len(statements) <= (4 if env.su else 7), statements
            # the set travels with the records reached, and through them further
            first = items[1].partner_id
            assert first.with_env(env.sudo())._prefetch_ids == first._prefetch_ids
            for record in first:
                assert record._prefetch_ids == first._prefetch_ids
            chained = items[1].partner_id.commercial_partner_id
            assert chained._prefetch_ids == eager_prefetch(
                first, "commercial_partner_id", tuple(chained.ids)
            )
