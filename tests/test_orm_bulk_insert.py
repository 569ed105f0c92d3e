"""Many rows in one INSERT (``bastion.orm.bulk``: one array per column on PostgreSQL):
every value of every column type comes back as created one by one, in the values'
order, on both backends."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion import Registry
from conftest import RegistryFactory

# Text a column holds: no NUL (PostgreSQL refuses it), no lone surrogates. Array
# literals quote braces, commas, quotes, backslashes and the word NULL.
TEXT = st.one_of(
    st.sampled_from(["", "NULL", "null", "{}", "{a,b}", '"', "\\", ",", " padded ", "é✓"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20),
)
ITEM = st.fixed_dictionaries(
    {"name": TEXT},
    optional={
        "notes": st.one_of(st.none(), TEXT),
        "quantity": st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)),
        "price": st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=32)),
        "flag": st.booleans(),
        "day": st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1))),
        "moment": st.one_of(
            st.none(), st.datetimes(dt.datetime(1970, 1, 1), dt.datetime(2100, 1, 1))
        ),
        "state": st.one_of(st.none(), st.sampled_from(["draft", "done", "cancel"])),
    },
)
FIELDS = ["name", "notes", "quantity", "price", "flag", "day", "moment", "state", "active"]


def _rows(env: Any, ids: list[int]) -> list[dict[str, object]]:
    rows = env["test.item"].browse(ids).read(FIELDS)
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]


def test_a_batch_stores_what_one_by_one_stores(make_registry: RegistryFactory) -> None:
    registry: Registry = make_registry("test_catalog")

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batch=st.lists(ITEM, min_size=2, max_size=8))
    def check(batch: list[dict[str, Any]]) -> None:
        with registry.transaction() as env:
            together = env["test.item"].create(batch).ids
            alone = [env["test.item"].create(vals).id for vals in batch]
            assert together == sorted(together) and len(set(together)) == len(batch)
            assert _rows(env, together) == _rows(env, alone)

    check()


def test_a_batch_of_files_keeps_their_bytes(make_registry: RegistryFactory) -> None:
    registry: Registry = make_registry("mail")
    contents = [b"", b"\x00\x01\xff", b'{a,b}\\"NULL', bytes(range(256)) * 4]
    with registry.transaction() as env:
        files = env["ir.attachment"].create(
            [
                {
                    "name": f"f{i}",
                    "res_model": "res.partner",
                    "res_id": 1,
                    "datas": data,
                }
                for i, data in enumerate(contents)
            ]
        )
        empty = env["ir.attachment"].create(
            [{"name": n, "res_model": "res.partner", "res_id": 1} for n in ("a", "b")]
        )
    with registry.transaction() as env:
        read = env["ir.attachment"].browse(files.ids).read(["name", "datas", "file_size"])
        assert [(r["name"], r["file_size"]) for r in read] == [
            (f"f{i}", len(data)) for i, data in enumerate(contents)
        ]
        assert [r["datas"] or b"" for r in read] == contents
        assert [r["datas"] for r in env["ir.attachment"].browse(empty.ids).read(["datas"])] == [
            False,
            False,
        ]
