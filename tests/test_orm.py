"""The data layer on both backends: CRUD, x2many commands, hierarchy, prefetch."""

from __future__ import annotations

import datetime as dt
import enum
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

import bastion
from bastion import Command, ConstructionError, MissingError, Registry, ValidationError
from bastion.domain.nodes import Any, Term
from bastion.domain.shapes import EXACT_LENGTHS, MAX_VALUES
from bastion.orm import Environment, crud, kept, shaped
from conftest import TEST_ADDONS


@pytest.fixture
def reg(make_registry) -> Registry:  # type: ignore[no-untyped-def]
    registry: Registry = make_registry("test_catalog")
    return registry


@contextmanager
def count_queries(registry: Registry) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not statement.startswith(("SAVEPOINT", "RELEASE", "BEGIN")):
            statements.append(statement)

    sa.event.listen(registry.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(registry.engine, "before_cursor_execute", record)


def test_read_and_search_read_shape_each_type_as_attribute_access_does(reg: Registry) -> None:
    """The loops that shape a page's values (``crud.read``, ``listing.fetch_rows``)
    convert inline where the conversion is plain: a value of each type, set and
    empty, reads as attribute access gives it (Html sanitised, NULL as 0 for numbers)."""
    plain = ["name", "notes", "body", "quantity", "price", "flag", "day", "moment", "state"]
    with reg.transaction() as env:
        category = env["test.category"].create({"name": "<b>cat</b>"})
        items = env["test.item"].create(
            [
                {
                    "name": "full",
                    "notes": "text",
                    "body": "<p>ok</p><script>alert(1)</script>",
                    "quantity": 4,
                    "price": 2.5,
                    "flag": True,
                    "day": "2024-05-01",
                    "moment": dt.datetime(2024, 1, 2, 3, 4, 5),
                    "state": "done",
                    "category_id": category.id,
                },
                {"name": False},
            ]
        )
        expected = [{"id": item.id, **{name: item[name] for name in plain}} for item in items]
        for row, item in zip(expected, items, strict=True):
            row["category_id"] = (
                (item.category_id.id, item.category_id.display_name) if item.category_id else False
            )
        fields = [*plain, "category_id"]
        assert items.read(fields) == expected
        found = env["test.item"].search_read([("id", "in", items.ids)], fields, order="id")
        assert found == expected
        assert expected[1]["quantity"] == 0 and expected[1]["price"] == 0.0
        assert expected[1]["name"] is False and expected[1]["category_id"] is False
        assert "<script>" not in str(expected[0]["body"]) and expected[0]["category_id"]


def test_browse_takes_integer_ids_only(reg: Registry) -> None:
    """Ids of an int subclass pass (an IntEnum); a bool, a text or a float among
    thousands of ids is named."""
    import enum  # noqa: PLC0415

    class Numbered(enum.IntEnum):
        SEVEN = 7

    with reg.transaction() as env:
        items = env["test.item"]
        assert items.browse([*range(1, 5000), Numbered.SEVEN])._ids[-1] == 7
        for wrong in (True, "8", 8.0):
            with pytest.raises(TypeError, match=f"not {wrong!r}"):
                items.browse([*range(1, 5000), wrong])  # type: ignore[list-item]


def test_public_api_is_sorted_and_complete() -> None:
    assert bastion.__all__ == sorted(bastion.__all__)
    for name in bastion.__all__:
        assert hasattr(bastion, name), name


def test_create_read_write_unlink(reg: Registry) -> None:
    with reg.transaction() as env:
        items = env["test.item"].create(
            [
                {"name": "a", "quantity": 3, "price": 1.5, "day": "2024-05-01", "state": "draft"},
                {"name": "b", "flag": True, "moment": dt.datetime(2024, 1, 2, 3, 4, 5)},
            ]
        )
        assert len(items) == 2
        a, b = items
        assert (a.name, a.quantity, a.price, a.day) == ("a", 3, 1.5, dt.date(2024, 5, 1))
        assert (b.notes, b.quantity, b.price, b.day, b.flag) == (False, 0, 0.0, False, True)
        assert b.moment == dt.datetime(2024, 1, 2, 3, 4, 5)
        a.write({"name": "a2", "state": "done"})
        assert a.read(["name", "state"]) == [{"id": a.id, "name": "a2", "state": "done"}]
        b.unlink()
        assert not b.exists()
        assert env["test.item"].search([]) == a


def test_create_single_dict_returns_one_record(reg: Registry) -> None:
    with reg.transaction() as env:
        tag = env["test.tag"].create({"name": "t"})
        assert len(tag) == 1 and tag.name == "t"


@pytest.mark.parametrize(
    ("vals", "message"),
    [
        ({"nope": 1}, "has no field 'nope'"),
        ({"quantity": "three"}, "test.item.quantity"),
        ({"state": "bogus"}, "test.item.state"),
        ({"id": 5}, "maintained by Bastion"),
        ({"category_id": 999_999}, "do not exist"),
        # PostgreSQL's INTEGER range, refused on SQLite too, before any statement
        ({"quantity": 2**31}, r"test\.item\.quantity: 2147483648 is beyond the range of an int"),
        ({"quantity": -(2**31) - 1}, "test.item.quantity: -2147483649 is beyond"),
        ({"category_id": 2**40}, "test.item.category_id: 1099511627776 is beyond the range of a"),
    ],
)
def test_create_rejects_bad_values_and_writes_nothing(
    reg: Registry, vals: dict[str, object], message: str
) -> None:
    with reg.transaction() as env:
        with pytest.raises(ValidationError, match=message):
            env["test.item"].create([{"name": "kept?"}, vals])
        assert env["test.item"].search_count([("name", "=", "kept?")]) == 0


def test_required_field(reg: Registry) -> None:
    with reg.transaction() as env:
        with pytest.raises(ValidationError, match="test.tag.name is required"):
            env["test.tag"].create({"color": 1})
        tag = env["test.tag"].create({"name": "x"})
        with pytest.raises(ValidationError, match="required"):
            tag.write({"name": False})
        assert tag.name == "x"


def test_transaction_rolls_back_on_exception(reg: Registry) -> None:
    with pytest.raises(RuntimeError):
        with reg.transaction() as env:
            env["test.tag"].create({"name": "ghost"})
            raise RuntimeError("boom")
    with reg.transaction() as env:
        assert env["test.tag"].search_count([("name", "=", "ghost")]) == 0


def test_many2many_commands(reg: Registry) -> None:
    with reg.transaction() as env:
        t1, t2, t3 = env["test.tag"].create([{"name": "1"}, {"name": "2"}, {"name": "3"}])
        item = env["test.item"].create({"name": "i", "tag_ids": [(6, 0, [t1.id, t2.id])]})
        assert set(item.tag_ids.ids) == {t1.id, t2.id}
        item.write({"tag_ids": [Command.unlink(t1.id), Command.link(t3.id)]})
        assert set(item.tag_ids.ids) == {t2.id, t3.id}
        item.write({"tag_ids": [(0, 0, {"name": "new"})]})
        assert sorted(item.tag_ids.mapped("name")) == ["2", "3", "new"]
        item.write({"tag_ids": [Command.update(t2.id, {"name": "two"})]})
        assert t2.name == "two"
        item.write({"tag_ids": [Command.delete(t3.id)]})
        assert not t3.exists()
        item.write({"tag_ids": [Command.clear()]})
        assert not item.tag_ids
        item.write({"tag_ids": [t1.id]})  # a plain list of ids means "set"
        assert item.tag_ids == t1
        with pytest.raises(ValidationError, match="invalid command"):
            item.write({"tag_ids": [("x",)]})


def test_one2many_commands(reg: Registry) -> None:
    with reg.transaction() as env:
        item = env["test.item"].create(
            {"name": "i", "line_ids": [Command.create({"label": "a"}), (0, 0, {"label": "b"})]}
        )
        assert sorted(item.line_ids.mapped("label")) == ["a", "b"]
        a = item.line_ids.filtered(lambda line: line.label == "a")
        item.write({"line_ids": [Command.update(a.id, {"amount": 7})]})
        assert a.amount == 7
        # item_id is required: cutting the link deletes the line (as Odoo does)
        item.write({"line_ids": [Command.unlink(a.id)]})
        assert not a.exists()
        other = env["test.item"].create({"name": "other"})
        b = item.line_ids
        other.write({"line_ids": [Command.link(b.id)]})
        assert b.item_id == other and not item.line_ids


def test_prefetch_reads_related_fields_in_bounded_queries(reg: Registry) -> None:
    with reg.transaction() as env:
        partners = env["res.partner"].create([{"name": f"p{i}"} for i in range(10)])
        env["test.item"].create(
            [{"name": f"i{i:02}", "partner_id": partners[i % 10].id} for i in range(80)]
        )
    with reg.transaction() as env:
        admin = env.ref("base.user_admin")
        items = env.with_user(admin)["test.item"].search([], limit=80)
        with count_queries(reg) as statements:
            names = [item.partner_id.name for item in items]
            states = [item.partner_id.commercial_partner_id.name for item in items]
        assert len(names) == len(states) == 80
        assert len(statements) <= 4, statements


@pytest.mark.parametrize("su", [False, True], ids=["user", "superuser"])
def test_searches_of_two_models_without_rules_find_each_its_own(reg: Registry, su: bool) -> None:
    """Their WHERE is the same ``true`` object: the statement kept for one model's
    search (``bastion.orm.kept``) was given to the other's, which found the first
    model's ids and count."""
    with reg.transaction() as env:
        env["test.tag"].create([{"name": f"t{i}"} for i in range(3)])
        env["test.category"].create([{"name": f"c{i}"} for i in range(5)])
        admin = env.ref("base.user_admin")
        tags = env["test.tag"].search([]).ids
        categories = env["test.category"].search([]).ids
    with reg.transaction() as env:
        reader = env if su else env.with_user(admin)
        for _ in range(2):  # the second time from the kept statements
            assert reader["test.tag"].search([]).ids == tags
            assert reader["test.category"].search([]).ids == categories
            assert reader["test.tag"].search_count([]) == 3
            assert reader["test.category"].search_count([]) == 5
            assert [r["id"] for r in reader["test.category"].search_read([], ["name"])] == (
                categories
            )


class Level(enum.IntEnum):
    NONE = 0
    ONE = 1


def test_a_value_equal_to_false_is_not_false_in_a_kept_search(reg: Registry) -> None:
    """A search's statement is kept per domain shape (bastion.orm.shaped), in which
    False stays, as it chooses the SQL (IS NULL). An IntEnum's 0 is equal to False for
    Python: it must be a value of the shape, or the two domains share one statement."""
    with reg.transaction() as env:
        items = env["test.item"]
        zero = items.create({"name": "zero", "quantity": 0})
        unset = items.create({"name": "unset", "quantity": False})
        for _ in range(2):  # the second time from the kept statements
            for first, second in ((Level.NONE, False), (False, Level.NONE)):
                for operator in ("=", "!=", "in"):
                    for value in (first, second):
                        term = [value] if operator == "in" else value
                        found = items.search([("quantity", operator, term)])
                        is_zero = value is not False
                        wanted = zero if is_zero == (operator != "!=") else unset
                        assert found & (zero | unset) == wanted, (operator, value)


def test_kept_statements_asked_for_again_outlive_a_flood_of_shapes(
    reg: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Callers choose the shapes of their domains: while they fill the kept statements
    with shapes never asked for again, the statement asked for between them stays kept
    (bastion.orm.kept); the old way, dropping all when full, lost it at the first fill."""
    monkeypatch.setattr(kept, "MAX_KEPT_STATEMENTS", 8)
    with reg.transaction() as env:
        admin = env.ref("base.user_admin")
        assert admin is not None
        items = env.with_user(admin)["test.item"]
        memo = reg.security.context_memo(items.env)
        hot = crud.search_select(items, (), [("name", "=", "a")], 0, None, None).query
        for n in range(1, 25):  # 24 shapes: one name, two names or'ed, three...
            items.search(["|"] * (n - 1) + [("name", "=", str(k)) for k in range(n)])
            if n % 3 == 0:
                again = crud.search_select(items, (), [("name", "=", str(n))], 0, None, None)
                assert again.query is hot, n
        assert len(memo["kept statements"]) <= 8  # type: ignore[arg-type]


def test_long_lists_run_one_statement_whatever_their_length(reg: Registry) -> None:
    """An ``in`` or ``not in`` list longer than EXACT_LENGTHS has a shape for any length
    (bastion.domain.shapes): of ids, integers or strings it is one parameter, of other
    values it is padded with its last value to the next power of two. Each list finds
    exactly its own items, through one kept statement per shape."""
    with reg.transaction() as env:
        items = env["test.item"].create(
            [{"name": f"i{n}", "quantity": n, "price": n / 2} for n in range(40)]
        )
        admin = env.ref("base.user_admin")
        assert admin is not None
        mine = items.with_user(admin)
        by_ids: list[object] = []  # the statements, held: their ids stay theirs
        by_prices: list[object] = []
        for length in range(EXACT_LENGTHS + 1, 41):
            ids = items.ids[:length]
            assert sorted(mine.search([("id", "in", ids)]).ids) == ids
            assert mine.search_count([("id", "not in", ids)]) == 40 - length
            odd = [n for n in range(length) if n % 2] * 2  # duplicates too
            found = mine.search([("quantity", "in", odd)]).mapped("quantity")
            assert sorted(found) == sorted(set(odd))
            texts = [f"i{n}" for n in range(length)]
            assert mine.search_count([("name", "not in", texts)]) == 40 - length
            prices = [n / 2 for n in range(length)]
            assert mine.search_count([("price", "in", prices)]) == length
            statement = crud.search_select(mine, (), [("id", "in", ids)], 0, None, None)
            by_ids.append(statement.query)
            statement = crud.search_select(mine, (), [("price", "in", prices)], 0, None, None)
            by_prices.append(statement.query)
        assert all(query is by_ids[0] for query in by_ids)
        assert len({id(query) for query in by_prices}) == 3  # 9-16, 17-32, 33-40 values
        # A many2one's list: the rows with none of them, NULL included, for not in.
        partner = env["res.partner"].create({"name": "P"})
        items[:3].write({"partner_id": partner.id})
        partners = list(range(partner.id, partner.id + 11))
        assert mine.search([("partner_id", "in", partners)]) == items[:3]
        assert mine.search_count([("partner_id", "not in", partners)]) == 37
        # With False among the values the SQL differs: the list stays as it is.
        assert len(mine.search([("quantity", "in", [False, *range(1, 12)])])) == 11
        many = [n / 2 for n in range(MAX_VALUES + 1)]  # more than a shape takes
        assert len(mine.search([("price", "in", many)])) == 40


def test_lists_past_the_backends_variable_limits_run_as_one_parameter(reg: Registry) -> None:
    """Searches by 70,000 ids, with a shape or without one (a path, a to-many term),
    and a browse of as many, find exactly their records: on PostgreSQL as one array, on
    SQLite as one JSON array read by ``json_each``, where an expanding IN needed a
    variable per id (65,535 at most on PostgreSQL, 32,766 in SQLite's default build).
    A list of strings with a NUL among them keeps one parameter per value on SQLite,
    whose ``json_each`` would end the string there: "i\\x00x" would find "i"."""
    with reg.transaction() as env:
        category = env["test.category"].create({"name": "c1"})
        items = env["test.item"].create([{"name": f"i{n}", "quantity": n} for n in range(30)])
        items[:4].write({"category_id": category.id})
        admin = env.ref("base.user_admin")
        assert admin is not None
        mine = items.with_user(admin)
        far = items.ids + list(range(max(items.ids) + 1, max(items.ids) + 70_000))
        mine.search_count([])  # the user's groups and rules read
        with count_queries(reg) as statements:
            assert mine.search([("id", "in", far)]) == mine
            assert mine.search_count([("quantity", "not in", list(range(5, 70_000)))]) == 5
            assert mine.browse(far).exists() == mine  # in chunks of ids
            by_path = mine.search([("id", "in", far), ("category_id.name", "=", "c1")])
            assert by_path == items[:4]
            untagged = [("id", "not in", far[4:]), ("tag_ids", "=", False)]
            assert mine.search(untagged) == items[:4]
        assert statements
        assert all(len(statement) < 10_000 for statement in statements)  # no IN (?, ?, ...
        # Strings the JSON array escapes, or holds as they are, find exactly themselves.
        odd = ['q"uote', "back\\slash", "é", "日本", "😀", "", " ", "tab\there", "x" * 300]
        env["test.item"].create([{"name": name} for name in odd])
        found = mine.search([("name", "in", [*odd, "q'uote", "e"])]).mapped("name")
        assert sorted(found) == sorted(odd)
        if reg.engine.dialect.name == "sqlite":
            assert all("json_each" in statement for statement in statements)
            named = [f"i{n}" for n in range(12)]
            env["test.item"].create({"name": "i"})
            with count_queries(reg) as statements:
                found = mine.search([("name", "in", [*named, "i\x00x"])])
            assert sorted(found.mapped("name")) == sorted(named)
            assert "json_each" not in statements[-1]


def test_a_shape_whose_sql_would_read_rules_gets_no_template(reg: Registry) -> None:
    """``domain_shape`` leaves out the terms whose SQL reads the user's rules on other
    models; should one reach the compiler all the same, the template is refused, not
    built with no rules in its sub-query (bastion.orm.shaped)."""
    spec = reg.model_info("test.item")
    through_partner = Any("partner_id", Term("name", "=", "x"))
    assert shaped._compiled(reg, through_partner, spec) is None
    assert shaped._compiled(reg, Term("name", "=", "x"), spec) is not None


def test_hierarchy_parent_path_and_child_of(reg: Registry) -> None:
    with reg.transaction() as env:
        cat = env["test.category"]
        root = cat.create({"name": "root"})
        a = cat.create({"name": "a", "parent_id": root.id})
        b = cat.create({"name": "b", "parent_id": a.id})
        other = cat.create({"name": "other"})
        assert cat.search([("id", "child_of", root.id)]) == root | a | b
        assert cat.search([("id", "parent_of", b.id)]) == root | a | b
        # Moving a subtree moves its descendants' paths too.
        a.write({"parent_id": other.id})
        assert cat.search([("id", "child_of", root.id)]) == root
        assert cat.search([("id", "child_of", other.id)]) == other | a | b
        assert cat.search([("id", "parent_of", b.id)]) == other | a | b
        with pytest.raises(ValidationError, match="own ancestor"):
            other.write({"parent_id": b.id})
        assert other.parent_id.id is False
        assert cat.search([("id", "child_of", other.id)]) == other | a | b


def test_commercial_partner_is_computed_and_follows_moves(reg: Registry) -> None:
    with reg.transaction() as env:
        partners = env["res.partner"]
        acme = partners.create({"name": "Acme", "is_company": True})
        bob = partners.create({"name": "Bob", "parent_id": acme.id})
        sue = partners.create({"name": "Sue", "parent_id": bob.id})
        assert bob.commercial_partner_id == acme and sue.commercial_partner_id == acme
        other = partners.create({"name": "Other", "is_company": True})
        bob.write({"parent_id": other.id})
        assert sue.commercial_partner_id == other
        with pytest.raises(ValidationError, match="computed"):
            bob.write({"commercial_partner_id": acme.id})


def test_order(reg: Registry) -> None:
    with reg.transaction() as env:
        items = env["test.item"]
        items.create([{"name": "b", "quantity": 1}, {"name": "a"}, {"name": "c", "quantity": 5}])
        assert items.search([]).mapped("name") == ["a", "b", "c"]  # _order = "name, id"
        # NULLs last ascending and first descending, on both backends
        assert items.search([], order="quantity").mapped("name") == ["b", "c", "a"]
        assert items.search([], order="quantity desc").mapped("name") == ["a", "c", "b"]
        assert items.search([], order="name desc", limit=1, offset=1).mapped("name") == ["b"]
        for bad in ("name; drop table x", "tag_ids", "unknown", "name sideways"):
            for _ in range(2):  # refused every time: only orders that parse are kept
                with pytest.raises(ConstructionError):
                    items.search([], order=bad)
        parsed = items._spec.parsed_orders
        assert "quantity desc" in parsed and "unknown" not in parsed
        # Orders come from callers: past the bound they are parsed for the call only.
        for n in range(crud.MAX_PARSED_ORDERS + 5):
            assert items.search([], order=f"quantity desc, name, id {'desc' if n % 2 else 'asc'}")
            assert items.search([], order=f"name{' ' * (n + 1)}desc").mapped("name")[0] == "c"
        assert len(parsed) == crud.MAX_PARSED_ORDERS


def test_fields_get_and_getitem(reg: Registry) -> None:
    with reg.transaction() as env:
        info = env["test.item"].fields_get()
        assert info["state"]["selection"] == [
            ["draft", "Draft"],
            ["done", "Done"],
            ["cancel", "Cancelled"],
        ]
        assert info["category_id"]["relation"] == "test.category"
        item = env["test.item"].create({"name": "x"})
        assert item["name"] == "x"
        with pytest.raises(ValueError, match="no field"):
            item["__class__"]


def test_ref_and_missing_records(reg: Registry) -> None:
    with reg.transaction() as env:
        assert env.ref("base.group_portal").name == "Portal"
        assert env.ref("base.nope", raise_if_not_found=False) is None
        with pytest.raises(MissingError):
            env.ref("base.nope")
        ghost = env["test.item"].browse(987_654)
        assert not ghost.exists()
        with pytest.raises(MissingError):
            ghost.name  # noqa: B018


def test_recordset_operations(reg: Registry) -> None:
    with reg.transaction() as env:
        a, b, c = env["test.tag"].create([{"name": "a"}, {"name": "b"}, {"name": "c"}])
        assert (a | b) - b == a
        assert (a | b) & (b | c) == b
        assert a in (a | b) and c not in (a | b)
        assert len(a | b | a) == 2
        assert (a | b | c)[1:] == b | c


def test_registry_reopens_installed_database(reg: Registry) -> None:
    with reg.transaction() as env:
        env["test.tag"].create({"name": "persisted"})
    again = Registry(reg.url, addons_path=reg.addons_path[:-1])
    try:
        assert "test_catalog" in again.loaded
        with again.transaction() as env:
            assert isinstance(env, Environment)
            assert env["test.tag"].search([]).mapped("name") == ["persisted"]
    finally:
        again.dispose()


def test_one_install_creates_and_extends_a_model(tmp_path: Path) -> None:
    """base creates res.partner and contacts extends it, in one install: the table is
    built once with each index once (extend_existing used to add them twice)."""
    registry = Registry(f"sqlite:///{tmp_path / 'one.db'}")
    registry.install("contacts")
    names = [index.name for index in registry.metadata.tables["res_partner"].indexes]
    assert len(names) == len(set(names))
    assert "phone" in registry.metadata.tables["res_partner"].c
    registry.dispose()


def test_sqlite_ids_are_never_given_twice_and_old_tables_are_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """New tables use AUTOINCREMENT; a table made before (by an older Bastion) is named
    in a warning, as SQLite cannot change it in place."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE test_item (id INTEGER NOT NULL PRIMARY KEY)")
    registry = Registry(f"sqlite:///{path}", addons_path=[TEST_ADDONS])
    try:
        with caplog.at_level(logging.WARNING, logger="bastion.orm.registry"):
            registry.install("test_catalog")
        assert "1 SQLite tables give a deleted record's id to the next one" in caplog.text
        assert ": test_item;" in caplog.text
        with registry.transaction() as env:
            tags = env["test.tag"]
            last = tags.create([{"name": "a"}, {"name": "b"}])[-1]
            last.unlink()
            assert tags.create({"name": "c"}).id > last.id
            items = env["test.item"]
            gone = items.create({"name": "old"})
            gone.unlink()
            assert items.create({"name": "new"}).id == gone.id  # the old table reuses it
    finally:
        registry.dispose()
