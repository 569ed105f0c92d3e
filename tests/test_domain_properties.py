"""The domain kernel's backbone: SQL search agrees with the pure-Python reference evaluator.

For random data (NULLs everywhere they can be, category and partner trees, tags, lines)
and random domains over every operator and path, on SQLite and on PostgreSQL:

- ``search(domain)`` (superuser, compiled to SQL) returns exactly the ids that
  ``filter_ids(parse_domain(domain))`` accepts on a raw snapshot of the tables;
- ``search_count`` agrees, ids are never duplicated;
- ``['!', domain]`` returns exactly the complement (in SQL and in the evaluator);
- a domain written as text gives the same result as the list;
- the domain with its values taken out (``bastion.domain.shapes``) selects the same
  rows given them; searches run the statement kept for their shape, met before with
  other values;
- the default ``active`` filter hides archived rows unless the domain mentions ``active``.

Then example-based tests, one per rule of the domain semantics, so that a regression
reads as a sentence, and the DomainError cases.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bastion import DomainError, Environment, Registry
from bastion.domain import SqlCompiler, filter_ids, parse_domain
from bastion.domain.shapes import EXACT_LENGTHS, domain_shape
from bastion.domain.slots import parametrised
from snapshot import Dataset, snapshot

# -- value universes ---------------------------------------------------------------------
# A small ASCII alphabet: wildcards, escape, both cases, a blank; no collation or
# unicode case-folding differences between Python, SQLite and PostgreSQL.
ALPHABET = "abAB%_\\ "
FLOATS = (0.5, 1.0, -2.25)
DATES = (dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 2, 29))
DATETIMES = (
    dt.datetime(2024, 1, 1, 0, 0, 0),
    dt.datetime(2024, 1, 1, 12, 30, 0),
    dt.datetime(2024, 1, 2, 0, 0, 0),
)
STATES = ("draft", "done", "cancel")
MISSING_ID = 999_999  # an id no table holds
ACTIVE_ALL = ("active", "in", [True, False])

RecordFieldSet = dict[str, tuple[str, ...]]
# Fields the generator builds terms on, per model ('id' included).
SEARCHABLE: RecordFieldSet = {
    "test.item": (
        "id",
        "name",
        "notes",
        "body",
        "quantity",
        "price",
        "active",
        "flag",
        "day",
        "moment",
        "state",
        "category_id",
        "partner_id",
        "company_id",
        "tag_ids",
        "line_ids",
        "secret",
        "cost",
    ),
    "test.category": ("id", "name", "parent_id", "child_ids"),
    "test.tag": ("id", "name", "color"),
    "test.line": ("id", "item_id", "label", "amount", "tag_id"),
    "res.partner": (
        "id",
        "name",
        "parent_id",
        "child_ids",
        "is_company",
        "commercial_partner_id",
        "email",
        "active",
    ),
    "res.company": ("id", "name", "partner_id", "active"),
}

# Paths named in the kernel's brief, always in the mix (with random ones).
NAMED_PATHS = {
    "test.item": (
        "category_id.name",
        "category_id.id",
        "category_id.parent_id",
        "line_ids.amount",
        "line_ids.label",
        "tag_ids.name",
        "line_ids.tag_id.name",
        "line_ids.tag_id",
        "partner_id.parent_id.name",
        "partner_id.parent_id",
        "partner_id.name",
        "company_id.name",
        # a many2one to an x2many: the links alone, not the comodel joined to them
        "category_id.child_ids",
        "category_id.child_ids.name",
        "line_ids.item_id.tag_ids",
        "line_ids.item_id.tag_ids.name",
    ),
}

Term = tuple[str, str, object]
Domain = list[object]

EQ_OPS = ("=", "!=")
CMP_OPS = ("<", "<=", ">", ">=")
SET_OPS = ("in", "not in")
LIKE_OPS = ("like", "not like", "ilike", "not ilike", "=like", "=ilike")
HIER_OPS = ("child_of", "parent_of")


# -- running examples in a transaction that is always rolled back ------------------------
class _Rollback(Exception):
    pass


@contextmanager
def scratch(reg: Registry) -> Iterator[Environment]:
    """A superuser environment whose transaction is rolled back at the end."""
    try:
        with reg.transaction() as env:
            yield env
            raise _Rollback
    except _Rollback:
        pass


# -- datasets ----------------------------------------------------------------------------
texts = st.text(ALPHABET, max_size=4)
optional_texts = st.none() | texts
tri_state = st.sampled_from([True, False, None])


@dataclass
class Plan:
    """What to create: indexes refer to earlier records of the same plan."""

    categories: list[tuple[str, int | None]]
    tags: list[tuple[str, int | None]]
    # name, parent, is_company, active, email
    partners: list[tuple[str, int | None, bool, bool, str | None]]
    items: list[dict[str, Any]]
    null_booleans: list[tuple[int, str]] = field(default_factory=list)  # (item index, field)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    n_categories = draw(st.integers(2, 6))
    categories = [
        (draw(texts), None if i == 0 else draw(st.none() | st.integers(0, i - 1)))
        for i in range(n_categories)
    ]
    n_tags = draw(st.integers(2, 4))
    tags = [(draw(texts), draw(st.none() | st.integers(-2, 3))) for _ in range(n_tags)]
    n_partners = draw(st.integers(1, 4))
    partners = [
        (
            draw(texts),
            None if i == 0 else draw(st.none() | st.integers(0, i - 1)),
            draw(st.booleans()),
            draw(st.booleans() | st.just(True)),
            draw(optional_texts),
        )
        for i in range(n_partners)
    ]
    items: list[dict[str, Any]] = []
    null_booleans: list[tuple[int, str]] = []
    for index in range(draw(st.integers(3, 12))):
        item: dict[str, Any] = {
            "name": draw(optional_texts),
            "notes": draw(optional_texts),
            "body": draw(optional_texts),
            "quantity": draw(st.none() | st.integers(-2, 3)),
            "price": draw(st.none() | st.sampled_from(FLOATS)),
            "day": draw(st.none() | st.sampled_from(DATES)),
            "moment": draw(st.none() | st.sampled_from(DATETIMES)),
            "state": draw(st.none() | st.sampled_from(STATES)),
            "secret": draw(optional_texts),
            "cost": draw(st.none() | st.sampled_from(FLOATS)),
            "category_id": draw(st.none() | st.integers(0, n_categories - 1)),
            "partner_id": draw(st.none() | st.integers(0, n_partners - 1)),
            "company_id": draw(st.booleans()),
            "tag_ids": sorted(draw(st.sets(st.integers(0, n_tags - 1), max_size=n_tags))),
            "line_ids": draw(
                st.lists(
                    st.tuples(
                        optional_texts,
                        st.none() | st.integers(-2, 3),
                        st.none() | st.integers(0, n_tags - 1),
                    ),
                    max_size=3,
                )
            ),
        }
        for name in ("active", "flag"):
            value = draw(tri_state)
            if value is None:
                null_booleans.append((index, name))
            item[name] = bool(value)
        items.append(item)
    return Plan(categories, tags, partners, items, null_booleans)


def build(env: Environment, plan: Plan) -> None:
    """Create the plan's records (ORM for everything, Core for NULL booleans)."""
    category_ids: list[int] = []
    for name, parent in plan.categories:
        vals = {"name": name, "parent_id": None if parent is None else category_ids[parent]}
        category_ids.append(env["test.category"].create(vals).id)
    tag_ids = env["test.tag"].create([{"name": n, "color": c} for n, c in plan.tags]).ids
    partner_ids: list[int] = []
    for name, parent, is_company, active, email in plan.partners:
        vals = {
            "name": name,
            "parent_id": None if parent is None else partner_ids[parent],
            "is_company": is_company,
            "active": active,
            "email": email,
        }
        partner_ids.append(env["res.partner"].create(vals).id)
    company = env.ref("base.main_company")
    assert company is not None
    batch = []
    for item in plan.items:
        vals = dict(item)
        for key, ids in (("category_id", category_ids), ("partner_id", partner_ids)):
            vals[key] = None if item[key] is None else ids[item[key]]
        vals["company_id"] = company.id if item["company_id"] else None
        vals["tag_ids"] = [(6, 0, [tag_ids[i] for i in item["tag_ids"]])]
        vals["line_ids"] = [
            (0, 0, {"label": label, "amount": amount, "tag_id": None if t is None else tag_ids[t]})
            for label, amount, t in item["line_ids"]
        ]
        batch.append(vals)
    item_ids = env["test.item"].create(batch).ids
    table = env.registry.model_info("test.item").table
    for index, name in plan.null_booleans:
        env.cr.execute(sa.update(table).where(table.c.id == item_ids[index]).values({name: None}))
    env.transaction.invalidate()


# -- domains -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Ref:
    """A record id not known yet when the domain is drawn: the ``index``-th id of
    ``model`` in the snapshot (modulo their number), or an id no row holds."""

    model: str
    index: int

    def resolve(self, ids: dict[str, list[int]]) -> int:
        known = ids[self.model]
        return MISSING_ID if self.index < 0 or not known else known[self.index % len(known)]


def resolve(value: Any, ids: dict[str, list[int]]) -> Any:
    """``value`` (a domain, a term, a value) with every :class:`Ref` replaced by an id."""
    if isinstance(value, Ref):
        return value.resolve(ids)
    if isinstance(value, list):
        return [resolve(v, ids) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve(v, ids) for v in value)
    return value


class DomainGen:
    """Strategies of domains over the test_catalog models.

    Built once (strategies are expensive to validate); ids are :class:`Ref`
    placeholders, resolved against each example's snapshot with :func:`resolve`.
    """

    def __init__(self, reg: Registry) -> None:
        self.reg = reg
        self._cache: dict[tuple[str, int, bool], st.SearchStrategy[Any]] = {}

    def record_ids(self, model: str) -> st.SearchStrategy[Ref]:
        return st.builds(Ref, st.just(model), st.integers(-1, 15))

    def id_lists(self, model: str, *, falsy: bool) -> st.SearchStrategy[Any]:
        element: st.SearchStrategy[Any] = self.record_ids(model)
        if falsy:
            element = element | st.just(False)
        # Long lists too, which a shape pads to a power of two (bastion.domain.shapes).
        long = st.lists(self.record_ids(model), min_size=EXACT_LENGTHS + 1, max_size=40)
        return st.lists(element, max_size=3) | long | element

    def values(self, ftype: str) -> st.SearchStrategy[Any]:
        """Values of a scalar field type, in the forms a domain may write them."""
        if ftype in ("char", "text", "html"):
            return texts
        if ftype == "selection":
            return st.sampled_from(STATES)
        if ftype == "integer":
            return st.integers(-2, 3)
        if ftype == "float":
            return st.sampled_from(FLOATS) | st.integers(-2, 1)
        if ftype == "boolean":
            return st.booleans()
        if ftype == "date":
            return st.sampled_from(DATES) | st.sampled_from(DATES).map(dt.date.isoformat)
        if ftype == "datetime":
            return (
                st.sampled_from(DATETIMES)
                | st.sampled_from(DATETIMES).map(lambda v: v.isoformat(" "))
                | st.sampled_from(DATES)
            )
        raise AssertionError(ftype)

    def scalar_term(self, name: str, ftype: str) -> st.SearchStrategy[Term]:
        value = self.values(ftype)
        falsy = value | st.just(False) | st.just(None)
        ops: list[st.SearchStrategy[Term]] = [
            st.tuples(st.just(name), st.sampled_from(EQ_OPS), falsy),
            st.tuples(
                st.just(name),
                st.sampled_from(CMP_OPS),
                value | st.just(False),
            ),
            st.tuples(
                st.just(name),
                st.sampled_from(SET_OPS),
                st.lists(value | st.just(False), max_size=3)
                | st.lists(value, min_size=EXACT_LENGTHS + 1, max_size=40)
                | value,
            ),
            st.tuples(st.just(name), st.just("=?"), falsy),
        ]
        if ftype in ("char", "text", "html", "selection"):
            ops.append(st.tuples(st.just(name), st.sampled_from(LIKE_OPS), texts))
        return choice(ops)

    def id_term(self, model: str) -> st.SearchStrategy[Term]:
        ids = self.record_ids(model)
        return st.one_of(
            st.tuples(st.just("id"), st.sampled_from(EQ_OPS), ids | st.just(False)),
            st.tuples(st.just("id"), st.sampled_from(CMP_OPS), ids),
            st.tuples(st.just("id"), st.sampled_from(SET_OPS), self.id_lists(model, falsy=True)),
            st.tuples(st.just("id"), st.sampled_from(HIER_OPS), self.id_lists(model, falsy=False)),
        )

    def relational_term(self, name: str, ftype: str, comodel: str) -> st.SearchStrategy[Term]:
        """Terms on the relational field itself (ids, hierarchy, name search)."""
        ids = self.record_ids(comodel)
        ops: list[st.SearchStrategy[Term]] = [
            st.tuples(st.just(name), st.sampled_from(EQ_OPS), ids | st.just(False)),
            st.tuples(st.just(name), st.sampled_from(SET_OPS), self.id_lists(comodel, falsy=True)),
            st.tuples(
                st.just(name), st.sampled_from(HIER_OPS), self.id_lists(comodel, falsy=False)
            ),
        ]
        ops.append(st.tuples(st.just(name), st.just("=?"), ids | st.just(False)))
        if ftype == "many2one":
            ops.append(st.tuples(st.just(name), st.sampled_from(CMP_OPS), ids))
        co_spec = self.reg.model_info(comodel)
        rec_field = co_spec.field_info(co_spec.rec_name)
        if rec_field is not None and rec_field.type in ("char", "text", "html"):
            ops.append(st.tuples(st.just(name), st.sampled_from(LIKE_OPS), texts))
        return choice(ops)

    def deep_term(self, name: str, comodel: str, depth: int) -> st.SearchStrategy[Term]:
        """``any``/``not any`` with a sub-domain, or a dotted path through ``name``."""
        sub = self.domain(comodel, depth - 1, max_parts=2)
        return choice(
            [
                st.tuples(st.just(name), st.sampled_from(["any", "not any"]), sub),
                self.term(comodel, depth - 1).map(lambda t: (f"{name}.{t[0]}", t[1], t[2])),
            ]
        )

    def term(self, model: str, depth: int) -> st.SearchStrategy[Term]:
        """A term on ``model``: mostly on its own fields, sometimes through relations."""
        key = (model, depth, False)
        if key not in self._cache:
            spec = self.reg.model_info(model)
            flat: list[st.SearchStrategy[Term]] = []
            deep: list[st.SearchStrategy[Term]] = []
            for name in SEARCHABLE[model]:
                if name == "id":
                    flat.append(self.id_term(model))
                    continue
                fld = spec.field_info(name)
                assert fld is not None, f"{model}.{name}"
                if fld.comodel_name is None:
                    flat.append(self.scalar_term(name, fld.type))
                    continue
                flat.append(self.relational_term(name, fld.type, fld.comodel_name))
                if depth > 0:
                    deep.append(self.deep_term(name, fld.comodel_name, depth))
            if depth > 0 and model in NAMED_PATHS:
                deep.append(self.named_paths(model))
            weighted = [choice(flat)] * 3 + ([choice(deep)] if deep else [])
            self._cache[key] = choice(weighted)
        return self._cache[key]

    def named_paths(self, model: str) -> st.SearchStrategy[Term]:
        """The paths a reader expects to see covered, on their final field."""
        choices: list[st.SearchStrategy[Term]] = []
        for path in NAMED_PATHS[model]:
            current = model
            *hops, last = path.split(".")
            for hop in hops:
                fld = self.reg.model_info(current).field_info(hop)
                assert fld is not None and fld.comodel_name is not None, path
                current = fld.comodel_name
            fld = self.reg.model_info(current).field_info(last)
            assert fld is not None, path
            if last == "id":
                leaf = self.id_term(current)
            elif fld.comodel_name is None:
                leaf = self.scalar_term(last, fld.type)
            else:
                leaf = self.relational_term(last, fld.type, fld.comodel_name)
            prefix = ".".join(hops)
            choices.append(leaf.map(lambda t, prefix=prefix: (f"{prefix}.{t[0]}", t[1], t[2])))
        return choice(choices)

    def expression(self, model: str, depth: int) -> st.SearchStrategy[Domain]:
        """One prefix-complete expression (a single operand)."""
        key = (model, depth, True)
        if key not in self._cache:
            leaf = choice(
                [self.term(model, depth).map(lambda t: [t])] * 9
                + [st.sampled_from([[(1, "=", 1)], [(0, "=", 1)]])]
            )
            if depth <= 0:
                self._cache[key] = leaf
            else:
                sub = self.expression(model, depth - 1)
                self._cache[key] = choice(
                    [
                        leaf,
                        leaf,
                        sub.map(lambda d: ["!", *d]),
                        st.tuples(sub, sub).map(lambda p: ["&", *p[0], *p[1]]),
                        st.tuples(sub, sub).map(lambda p: ["|", *p[0], *p[1]]),
                    ]
                )
        return self._cache[key]

    def domain(self, model: str, depth: int, max_parts: int = 3) -> st.SearchStrategy[Domain]:
        """A domain: 0 to ``max_parts`` expressions, implicitly AND-ed."""
        return st.lists(self.expression(model, depth), max_size=max_parts).map(flatten)

    def operands(self, model: str, depth: int) -> st.SearchStrategy[list[Domain]]:
        """Like :meth:`domain`, but keeps the operands apart (to build the negation)."""
        return st.lists(self.expression(model, depth), min_size=1, max_size=3)


def choice(options: Sequence[st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of ``options``, each equally likely (repeat one to weigh it).

    Unlike ``st.one_of``, which flattens nested (and mapped) alternatives into one
    uniform list, so that the many alternatives of a path would drown the others.
    """
    return st.sampled_from(list(options)).flatmap(lambda option: option)


_GENERATORS: list[DomainGen] = []


def generator(reg: Registry) -> DomainGen:
    """The one DomainGen of the session (every registry has the same models)."""
    if not _GENERATORS:
        _GENERATORS.append(DomainGen(reg))
    return _GENERATORS[0]


def flatten(parts: Sequence[Domain]) -> Domain:
    return [item for part in parts for item in part]


def negated(parts: Sequence[Domain]) -> Domain:
    """``NOT (p1 AND p2 ...)`` in prefix notation."""
    return ["!", *(["&"] * (len(parts) - 1)), *flatten(parts)]


def as_text(domain: Domain) -> str | None:
    """The domain as literal text, when its values allow it (no date objects)."""
    text = repr(domain)
    try:
        ast.literal_eval(text)
    except ValueError:
        return None
    return text


def mentions_active(domain: Domain) -> bool:
    return any(isinstance(t, tuple) and str(t[0]).split(".")[0] == "active" for t in domain)


def describe(data: Dataset, ids: set[int]) -> str:
    rows = data["test.item"]
    return "\n".join(f"  {rid}: {rows[rid]}" for rid in sorted(ids))


def trailing_escape(pattern: object) -> bool:
    """A pattern that ends with an unpaired backslash (an escape with nothing after)."""
    if not isinstance(pattern, str):
        return False
    return (len(pattern) - len(pattern.rstrip("\\"))) % 2 == 1


def debatable(reg: Registry, model: str, domain: Sequence[object]) -> bool:
    """Whether ``domain`` holds a term that src may either support or reject with a
    DomainError (both are acceptable; crashing or disagreeing with the evaluator is
    not): ``<``/``>`` on a boolean, ``=like`` with a pattern ending in a lone escape."""
    for item in domain:
        if not isinstance(item, tuple) or not isinstance(item[0], str):
            continue
        path, op, value = item
        current = model
        fld = None
        for hop in path.split("."):
            fld = reg.model_info(current).field_info(hop)
            assert fld is not None, path
            current = fld.comodel_name or current
        assert fld is not None
        if op in ("any", "not any") and isinstance(value, list):
            if debatable(reg, current, value):
                return True
        elif fld.type == "boolean" and op in CMP_OPS:
            return True
        elif op in ("=like", "=ilike") and trailing_escape(value):
            return True
    return False


@dataclass
class Checker:
    reg: Registry
    env: Environment
    data: Dataset

    def oracle(self, domain: Domain) -> set[int] | None:
        """Ids the evaluator accepts; None when the domain is (acceptably) rejected."""
        spec = self.reg.model_info("test.item")
        try:
            node = parse_domain(domain, spec, self.reg)
        except DomainError:
            if debatable(self.reg, "test.item", domain):
                return None
            raise
        return filter_ids(node, spec, self.reg, self.data)

    def check(
        self, domain: Domain | str, expected: set[int] | None, what: str, count: bool = True
    ) -> None:
        items = self.env["test.item"]
        if expected is None:
            with pytest.raises(DomainError):
                items.search(domain)
            return
        try:
            got = items.search(domain).ids
        except Exception as exc:
            raise AssertionError(
                f"{what}: search raised {exc!r} ({self.reg.dialect})\n"
                f"domain: {domain!r}\nthe evaluator accepts it: {sorted(expected)}"
            ) from exc
        assert len(got) == len(set(got)), f"{what}: duplicated ids {got} for {domain!r}"
        if set(got) != expected:
            raise AssertionError(
                f"{what}: SQL and oracle disagree ({self.reg.dialect})\n"
                f"domain: {domain!r}\n"
                f"SQL ids:    {sorted(got)}\noracle ids: {sorted(expected)}\n"
                f"only SQL:\n{describe(self.data, set(got) - expected)}\n"
                f"only oracle:\n{describe(self.data, expected - set(got))}"
            )
        if count:
            counted = items.search_count(domain)
            assert counted == len(expected), (
                f"{what}: search_count {counted} != {len(expected)} for {domain!r}"
            )

    def check_parametrised(self, domain: Domain, expected: set[int]) -> int:
        """The domain compiled with its ids taken out as parameters, as a user's rules
        are (``bastion.domain.slots``), selects the same rows. Returns how many ids
        were taken out."""
        spec = self.reg.model_info("test.item")
        shape, ids = parametrised(parse_domain(domain, spec, self.reg), spec, self.reg)
        clause = SqlCompiler(self.reg, slot_prefix="slot").compile(shape, spec, spec.table)
        params = {f"slot{i}": rid for i, rid in enumerate(ids)}
        self._selects(clause, params, expected, f"parametrised: {domain!r}, ids taken out")
        return len(ids)

    def _selects(
        self, clause: Any, params: dict[str, object], expected: set[int], what: str
    ) -> None:
        """``clause`` run with ``params`` selects the ``expected`` items."""
        table = self.reg.model_info("test.item").table
        got = set(self.env.cr.scalars(sa.select(table.c.id).where(clause), params))
        assert got == expected, (
            f"SQL and oracle disagree ({self.reg.dialect})\n{what}: {params}\n"
            f"SQL ids:    {sorted(got)}\noracle ids: {sorted(expected)}"
        )

    def check_shaped(self, domain: Domain, expected: set[int], seen: set[object]) -> str:
        """The domain compiled with its values taken out, as a search keeps it
        (``bastion.domain.shapes``), selects the same rows with this domain's values.
        Returns "none" (no shape), "new" or "again" (a shape met before, with other
        values perhaps: the search above ran the statement kept for it)."""
        spec = self.reg.model_info("test.item")
        shaped = domain_shape(parse_domain(domain, spec, self.reg), spec)
        if shaped is None:
            return "none"
        shape, values = shaped
        clause = SqlCompiler(self.reg, value_prefix="v").compile(shape, spec, spec.table)
        params = {f"v{i}": value for i, value in enumerate(values)}
        self._selects(clause, params, expected, f"shaped: {domain!r}, values taken out")
        again = shape in seen
        seen.add(shape)
        return "again" if again else "new"


# -- the properties --------------------------------------------------------------------------
# No shrinking: an example builds a whole dataset, so shrinking takes minutes; the
# failure message names the domain and the rows on which SQL and oracle disagree.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate)
EXAMPLES = 40
DOMAINS_PER_EXAMPLE = 50
MIN_CASES = 2000
DEPTH = 3


def test_search_agrees_with_reference_evaluator(make_registry: Callable[..., Registry]) -> None:
    """All rows (active or not): SQL == oracle, count, complement, text form."""
    reg = make_registry("test_catalog")
    gen = generator(reg)
    total = {"cases": 0, "slotted": 0, "none": 0, "new": 0, "again": 0}
    shapes: set[object] = set()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        phases=PHASES,
    )
    @given(
        plan=plans(),
        batch=st.lists(
            gen.operands("test.item", DEPTH),
            min_size=DOMAINS_PER_EXAMPLE,
            max_size=DOMAINS_PER_EXAMPLE,
        ),
    )
    def run(plan: Plan, batch: list[list[Domain]]) -> None:
        with scratch(reg) as env:
            build(env, plan)
            dataset = snapshot(env)
            ids = {model: sorted(rows) for model, rows in dataset.items()}
            checker = Checker(reg, env, dataset)
            everything = set(dataset["test.item"])
            for number, abstract in enumerate(batch):
                parts = resolve(abstract, ids)
                domain = [*flatten(parts), ACTIVE_ALL]
                expected = checker.oracle(domain)
                # search_count and the text form cost a query each: a sample suffices
                checker.check(domain, expected, "search", count=number % 4 == 0)
                if expected is not None:
                    total["slotted"] += checker.check_parametrised(domain, expected) > 0
                    total[checker.check_shaped(domain, expected, shapes)] += 1
                # '!' is the exact complement, in SQL and in the evaluator
                if expected is not None:
                    complement = [*negated(parts), ACTIVE_ALL]
                    oracle_complement = checker.oracle(complement)
                    assert oracle_complement == everything - expected, (
                        f"evaluator: complement of {domain!r} is {oracle_complement}, "
                        f"expected {sorted(everything - expected)}"
                    )
                    checker.check(complement, oracle_complement, "negation", count=False)
                text = as_text(domain) if number % 8 == 0 else None
                if text is not None:
                    checker.check(text, expected, "text domain", count=False)
                total["cases"] += 1

    run()
    assert total["cases"] >= MIN_CASES
    assert total["slotted"] >= MIN_CASES // 10, total  # ids were taken out often enough
    # Searches met a shape searched before often enough, with their own values.
    assert total["again"] >= MIN_CASES // 10, total


ACTIVE_EXAMPLES = 10
ACTIVE_DOMAINS_PER_EXAMPLE = 20


def test_default_search_hides_archived(make_registry: Callable[..., Registry]) -> None:
    """Without an 'active' term, search = oracle AND active; with one, no filter."""
    reg = make_registry("test_catalog")
    gen = generator(reg)
    total = {"cases": 0}

    @settings(
        max_examples=ACTIVE_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        phases=PHASES,
    )
    @given(
        plan=plans(),
        batch=st.lists(
            gen.domain("test.item", 2),
            min_size=ACTIVE_DOMAINS_PER_EXAMPLE,
            max_size=ACTIVE_DOMAINS_PER_EXAMPLE,
        ),
    )
    def run(plan: Plan, batch: list[Domain]) -> None:
        with scratch(reg) as env:
            build(env, plan)
            dataset = snapshot(env)
            ids = {model: sorted(rows) for model, rows in dataset.items()}
            checker = Checker(reg, env, dataset)
            active = {rid for rid, row in dataset["test.item"].items() if row["active"] is True}
            for abstract in batch:
                domain = resolve(abstract, ids)
                expected = checker.oracle(domain)
                if expected is not None and not mentions_active(domain):
                    expected &= active
                checker.check(domain, expected, "default active filter")
                total["cases"] += 1

    run()
    assert total["cases"] >= ACTIVE_EXAMPLES * ACTIVE_DOMAINS_PER_EXAMPLE


# -- the rules, one example each ----------------------------------------------------------------
@dataclass
class Catalog:
    """A fixed, small catalog whose expected results a reader can check by hand.

    ======  =======  ===  =====  =====  ==========  ======  ========  =======  ========  ========
    label   name     qty  price  flag   day         state   category  partner  tags      lines
    ======  =======  ===  =====  =====  ==========  ======  ========  =======  ========  ========
    alpha   Alpha    2    1.0    True   2024-01-02  done    Leaf      Bob      red       x/5/red
    pct     50% off  0    0.0    False  2024-01-01  draft   Mid       Acme     red,blue  y/1/-
    under   a_b      -1   -2.25  True               cancel  Root      Solo     blue
    axb     axb      3           False                      Other                        -/-/blue
    slash   a\\b     1           NULL
    null                         NULL
    arch    Arch     2    1.0    True               done    Leaf      Bob      red
    ======  =======  ===  =====  =====  ==========  ======  ========  =======  ========  ========

    (lines: label/amount/tag; ``arch`` is archived; empty cells are NULL.)

    Categories Root > Mid > Leaf, and Other; partners Acme (company) > Bob, and Solo.
    """

    reg: Registry
    env: Environment
    items: dict[str, int]
    ids: dict[str, int]  # categories, tags, partners by label

    def sql(self, domain: Domain | str) -> set[str]:
        found = set(self.env["test.item"].search(domain).ids)
        return {label for label, rid in self.items.items() if rid in found}

    def oracle(self, domain: Domain) -> set[str]:
        spec = self.reg.model_info("test.item")
        data = snapshot(self.env)
        accepted = filter_ids(parse_domain(domain, spec, self.reg), spec, self.reg, data)
        if not mentions_active(domain):
            accepted = {rid for rid in accepted if data["test.item"][rid]["active"]}
        return {label for label, rid in self.items.items() if rid in accepted}

    def expect(self, domain: Domain, labels: set[str]) -> None:
        """SQL search and the evaluator both return exactly ``labels``."""
        sql = self.sql(domain)
        assert sql == labels, f"{self.reg.dialect}: search({domain!r}) gave {sorted(sql)}"
        oracle = self.oracle(domain)
        assert oracle == labels, f"evaluator: {domain!r} gave {sorted(oracle)}"
        count = self.env["test.item"].search_count(domain)
        assert count == len(labels), f"search_count({domain!r}) = {count}"


VISIBLE = {"alpha", "pct", "under", "axb", "slash", "null"}


@pytest.fixture
def catalog(make_registry: Callable[..., Registry]) -> Iterator[Catalog]:
    reg = make_registry("test_catalog")
    with scratch(reg) as env:
        category = env["test.category"]
        root = category.create({"name": "Root"}).id
        mid = category.create({"name": "Mid", "parent_id": root}).id
        leaf = category.create({"name": "Leaf", "parent_id": mid}).id
        other = category.create({"name": "Other"}).id
        red, blue = env["test.tag"].create([{"name": "red"}, {"name": "blue"}]).ids
        partner = env["res.partner"]
        acme = partner.create({"name": "Acme", "is_company": True}).id
        bob = partner.create({"name": "Bob", "parent_id": acme}).id
        solo = partner.create({"name": "Solo"}).id
        rows: dict[str, dict[str, Any]] = {
            "alpha": {
                "name": "Alpha",
                "quantity": 2,
                "price": 1.0,
                "flag": True,
                "day": dt.date(2024, 1, 2),
                "state": "done",
                "category_id": leaf,
                "partner_id": bob,
                "tag_ids": [(6, 0, [red])],
                "line_ids": [(0, 0, {"label": "x", "amount": 5, "tag_id": red})],
            },
            "pct": {
                "name": "50% off",
                "quantity": 0,
                "price": 0.0,
                "flag": False,
                "day": dt.date(2024, 1, 1),
                "state": "draft",
                "category_id": mid,
                "partner_id": acme,
                "tag_ids": [(6, 0, [red, blue])],
                "line_ids": [(0, 0, {"label": "y", "amount": 1})],
            },
            "under": {
                "name": "a_b",
                "quantity": -1,
                "price": -2.25,
                "flag": True,
                "state": "cancel",
                "category_id": root,
                "partner_id": solo,
                "tag_ids": [(6, 0, [blue])],
            },
            "axb": {
                "name": "axb",
                "quantity": 3,
                "flag": False,
                "category_id": other,
                "line_ids": [(0, 0, {"tag_id": blue})],
            },
            "slash": {"name": "a\\b", "quantity": 1},
            "null": {},
            "arch": {
                "name": "Arch",
                "quantity": 2,
                "price": 1.0,
                "flag": True,
                "state": "done",
                "category_id": leaf,
                "partner_id": bob,
                "tag_ids": [(6, 0, [red])],
                "active": False,
            },
        }
        created = env["test.item"].create(list(rows.values())).ids
        items = dict(zip(rows, created, strict=True))
        table = reg.model_info("test.item").table
        env.cr.execute(
            sa.update(table)
            .where(table.c.id.in_([items["slash"], items["null"]]))
            .values(flag=None)
        )
        env.transaction.invalidate()
        ids = {
            "root": root,
            "mid": mid,
            "leaf": leaf,
            "other": other,
            "red": red,
            "blue": blue,
            "acme": acme,
            "bob": bob,
            "solo": solo,
        }
        yield Catalog(reg, env, items, ids)


def test_equal_false_matches_null(catalog: Catalog) -> None:
    c = catalog
    c.expect([("quantity", "=", False)], {"null"})  # 0 is a value, not "unset"
    c.expect([("quantity", "=", None)], {"null"})
    c.expect([("name", "=", False)], {"null"})
    c.expect([("category_id", "=", False)], {"slash", "null"})
    c.expect([("day", "=", False)], {"under", "axb", "slash", "null"})
    # booleans: False or NULL
    c.expect([("flag", "=", False)], {"pct", "axb", "slash", "null"})
    c.expect([("flag", "=", True)], {"alpha", "under"})


def test_not_equal_matches_null(catalog: Catalog) -> None:
    c = catalog
    c.expect([("quantity", "!=", 2)], {"pct", "under", "axb", "slash", "null"})
    c.expect([("name", "!=", "Alpha")], VISIBLE - {"alpha"})
    c.expect([("category_id", "!=", c.ids["leaf"])], VISIBLE - {"alpha"})
    c.expect([("flag", "!=", True)], {"pct", "axb", "slash", "null"})
    c.expect([("flag", "!=", False)], {"alpha", "under"})
    c.expect([("quantity", "!=", False)], VISIBLE - {"null"})


def test_false_in_list_adds_is_null(catalog: Catalog) -> None:
    c = catalog
    c.expect([("quantity", "in", [2, False])], {"alpha", "null"})
    c.expect([("category_id", "in", [c.ids["root"], False])], {"under", "slash", "null"})
    c.expect([("flag", "in", [False])], {"pct", "axb", "slash", "null"})
    c.expect([("state", "in", ["done", "cancel"])], {"alpha", "under"})
    c.expect([("quantity", "in", [])], set())
    c.expect([("quantity", "=", [0, 3])], {"pct", "axb"})  # a list with '=' means 'in'


def test_not_in_matches_null(catalog: Catalog) -> None:
    c = catalog
    c.expect([("quantity", "not in", [2, 0])], {"under", "axb", "slash", "null"})
    c.expect([("quantity", "not in", [2, False])], {"pct", "under", "axb", "slash"})
    c.expect([("state", "not in", ["done"])], VISIBLE - {"alpha"})
    c.expect([("quantity", "not in", [])], VISIBLE)


def test_ordering_with_false_or_null_is_false(catalog: Catalog) -> None:
    c = catalog
    for op in CMP_OPS:
        c.expect([("quantity", op, False)], set())
        c.expect([("name", op, None)], set())
    c.expect([("quantity", "<", 1)], {"pct", "under"})  # NULL never compares
    c.expect([("quantity", ">=", 1)], {"alpha", "axb", "slash"})
    c.expect([("price", "<=", 0.0)], {"pct", "under"})
    c.expect([("day", ">", "2024-01-01")], {"alpha"})
    c.expect(
        [("name", "<", "a")], {"alpha", "pct"}
    )  # code-point order: 'A' < '5'? no: '5' < 'A' < 'a'


def test_not_is_the_exact_complement(catalog: Catalog) -> None:
    c = catalog
    c.expect(["!", ("quantity", "<", 1)], {"alpha", "axb", "slash", "null"})
    c.expect(["!", ("name", "like", "a")], {"pct", "null"})
    c.expect(["!", "|", ("flag", "=", True), ("quantity", "=", False)], {"pct", "axb", "slash"})
    c.expect(["!", ("category_id", "child_of", c.ids["mid"])], {"under", "axb", "slash", "null"})
    c.expect(["!", ("tag_ids.name", "=", "red")], {"under", "axb", "slash", "null"})
    c.expect(["!", "!", ("quantity", "<", 1)], {"pct", "under"})
    c.expect(["!", ("partner_id", "any", [("name", "=", "Bob")])], VISIBLE - {"alpha"})
    c.expect(
        ["!", ("line_ids", "any", ["!", ("amount", ">", 2)])], {"alpha", "under", "slash", "null"}
    )


def test_a_null_test_guards_a_term_under_a_not_only(catalog: Catalog) -> None:
    """Outside a NOT, a WHERE drops the rows of an unknown term as of a false one: the
    SQL leaves the NULL test out there, and keeps it where NOT would turn unknown into
    unknown instead of true (the results above are the evaluator's either way)."""
    spec = catalog.reg.model_info("test.item")

    def sql(domain: Domain) -> str:
        node = parse_domain(domain, spec, catalog.reg)
        clause = SqlCompiler(catalog.reg).compile(node, spec, spec.table)
        return str(clause.compile(dialect=catalog.reg.engine.dialect))

    assert "IS NOT NULL" not in sql([("quantity", "<", 1), ("name", "like", "a")])
    assert "quantity IS NOT NULL" in sql(["!", ("quantity", "<", 1)])
    assert "name IS NOT NULL" in sql([("name", "not like", "a")])
    # a sub-query's WHERE is its own: no guard in it, whatever NOT encloses it
    inner = sql(["!", ("partner_id", "any", [("name", "=", "Bob")])])
    assert "partner_id IS NOT NULL" in inner and "name IS NOT NULL" not in inner


def test_like_patterns(catalog: Catalog) -> None:
    c = catalog
    c.expect([("name", "like", "a")], {"alpha", "under", "axb", "slash"})
    c.expect([("name", "like", "A")], {"alpha"})  # like is case-sensitive
    c.expect([("name", "ilike", "A")], {"alpha", "under", "axb", "slash"})
    c.expect([("name", "like", "%")], VISIBLE - {"null"})  # wrapped: '%%%'
    c.expect([("name", "like", "\\%")], {"pct"})  # an escaped wildcard is literal
    c.expect([("name", "like", "a_b")], {"under", "axb", "slash"})  # '_' is one character
    c.expect([("name", "like", "a\\_b")], {"under"})
    c.expect([("name", "like", "a\\\\b")], {"slash"})  # an escaped backslash
    c.expect([("name", "=like", "a%")], {"under", "axb", "slash"})  # not wrapped
    c.expect([("name", "=ilike", "a%")], {"alpha", "under", "axb", "slash"})
    c.expect([("name", "=like", "a")], set())
    c.expect([("name", "=ilike", "ALPHA")], {"alpha"})
    c.expect([("name", "not ilike", "A")], {"pct", "null"})  # NULL does not contain 'a'
    c.expect([("name", "not like", "%")], {"null"})


def test_child_of_and_parent_of(catalog: Catalog) -> None:
    c = catalog
    ids = c.ids
    c.expect([("category_id", "child_of", ids["root"])], {"alpha", "pct", "under"})
    c.expect([("category_id", "child_of", [ids["mid"]])], {"alpha", "pct"})
    c.expect([("category_id", "child_of", [ids["leaf"], ids["other"]])], {"alpha", "axb"})
    c.expect([("category_id", "parent_of", ids["mid"])], {"pct", "under"})
    c.expect([("category_id.id", "child_of", ids["mid"])], {"alpha", "pct"})
    c.expect(
        [("category_id", "any", [("id", "parent_of", ids["leaf"])])], {"alpha", "pct", "under"}
    )
    c.expect([("partner_id", "child_of", ids["acme"])], {"alpha", "pct"})
    c.expect([("partner_id", "parent_of", ids["bob"])], {"alpha", "pct"})
    c.expect([("category_id", "child_of", [])], set())
    c.expect([("category_id", "child_of", MISSING_ID)], set())
    # without a hierarchy, child_of is 'in'
    c.expect([("id", "child_of", c.items["alpha"])], {"alpha"})
    c.expect([("tag_ids", "child_of", ids["blue"])], {"pct", "under"})


def test_equal_or_unset(catalog: Catalog) -> None:
    c = catalog
    c.expect([("quantity", "=?", False)], VISIBLE)
    c.expect([("quantity", "=?", None)], VISIBLE)
    c.expect([("quantity", "=?", 2)], {"alpha"})
    c.expect([("category_id", "=?", c.ids["leaf"])], {"alpha"})
    c.expect([("name", "=?", "axb")], {"axb"})


def test_dotted_paths(catalog: Catalog) -> None:
    c = catalog
    c.expect([("category_id.name", "=", "Leaf")], {"alpha"})
    c.expect([("category_id.parent_id.name", "=", "Root")], {"pct"})
    c.expect([("partner_id.parent_id.name", "=", "Acme")], {"alpha"})
    c.expect([("line_ids.amount", ">", 2)], {"alpha"})
    c.expect([("line_ids.tag_id.name", "=", "red")], {"alpha"})
    c.expect([("line_ids.tag_id.name", "=", "blue")], {"axb"})
    c.expect([("tag_ids.name", "=", "red")], {"alpha", "pct"})
    # many2one path: 'any' on the related record, so no category -> no match
    c.expect([("category_id.name", "!=", "Leaf")], {"pct", "under", "axb"})
    # to-many path with a negative operator: no related record matches the positive one
    c.expect([("tag_ids.name", "!=", "red")], {"under", "axb", "slash", "null"})
    c.expect([("line_ids.label", "not like", "x")], VISIBLE - {"alpha"})
    c.expect([("tag_ids.name", "not in", ["red", "blue"])], {"axb", "slash", "null"})


def test_any_not_any_and_to_many_values(catalog: Catalog) -> None:
    c = catalog
    red, blue = c.ids["red"], c.ids["blue"]
    c.expect([("line_ids", "any", [("amount", ">", 2)])], {"alpha"})
    c.expect([("line_ids", "not any", [("amount", ">", 2)])], VISIBLE - {"alpha"})
    c.expect([("line_ids", "any", [])], {"alpha", "pct", "axb"})
    c.expect([("line_ids", "=", False)], {"under", "slash", "null"})
    c.expect([("tag_ids", "!=", False)], {"alpha", "pct", "under"})
    c.expect([("tag_ids", "=", red)], {"alpha", "pct"})
    c.expect([("tag_ids", "!=", red)], {"under", "axb", "slash", "null"})
    c.expect([("tag_ids", "in", [blue, False])], {"pct", "under", "axb", "slash", "null"})
    c.expect([("tag_ids", "not in", [red])], {"under", "axb", "slash", "null"})
    c.expect(
        [("partner_id", "not any", [("is_company", "=", True)])],
        {"alpha", "under", "axb", "slash", "null"},
    )
    c.expect([("partner_id", "any", [("parent_id", "=", False)])], {"pct", "under"})
    # name search through a relation
    c.expect([("tag_ids", "ilike", "RE")], {"alpha", "pct"})
    c.expect([("category_id", "like", "e")], {"alpha", "axb"})
    c.expect([("category_id", "not ilike", "o")], {"alpha", "pct", "slash", "null"})


def test_a_many2one_to_an_x2many_reads_the_links_alone(catalog: Catalog) -> None:
    """``category_id.child_ids...``: the categories with such a child are the owners of
    the child rows, so the SQL reads the children (or the tag links) and not the
    categories joined to them; the results are the evaluator's."""
    c = catalog
    c.expect([("category_id.child_ids.name", "=", "Leaf")], {"pct"})
    c.expect([("category_id.child_ids", "in", [c.ids["mid"]])], {"under"})
    c.expect([("category_id.child_ids", "child_of", [c.ids["mid"]])], {"under", "pct"})
    # to-many, negative: no child named Leaf (Leaf and Other have no child at all)
    c.expect([("category_id.child_ids.name", "!=", "Leaf")], {"alpha", "axb", "under"})
    c.expect([("category_id", "not any", [("child_ids", "=", c.ids["leaf"])])], VISIBLE - {"pct"})
    c.expect([("line_ids.item_id.tag_ids", "=", c.ids["blue"])], {"pct"})  # has lines too
    spec = c.reg.model_info("test.item")
    for domain, table, scans in (
        # the child categories only, not the items' categories joined to them
        ([("category_id.child_ids.name", "=", "Leaf")], "test_category", 1),
        # the line's item_id owns the tag links: no scan of the items
        ([("line_ids.item_id.tag_ids.name", "=", "red")], "test_item", 0),
    ):
        node = parse_domain(domain, spec, c.reg)
        clause = SqlCompiler(c.reg).compile(node, spec, spec.table)
        sql = str(sa.select(spec.table.c.id).where(clause).compile(dialect=c.reg.engine.dialect))
        assert sql.count(f"FROM {table} AS") == scans, sql


def test_default_search_hides_archived_records(catalog: Catalog) -> None:
    c = catalog
    c.expect([], VISIBLE)
    c.expect([("quantity", "=", 2)], {"alpha"})
    c.expect([("category_id.name", "=", "Leaf")], {"alpha"})
    c.expect([("active", "=", False)], {"arch"})
    c.expect([ACTIVE_ALL, ("quantity", "=", 2)], {"alpha", "arch"})
    c.expect(["|", ("active", "=", False), ("quantity", "=", 2)], {"alpha", "arch"})
    assert c.sql("[('quantity', '=', 2), ('active', 'in', [True, False])]") == {"alpha", "arch"}
    assert c.sql("[('quantity', '=', 2)]") == {"alpha"}


# -- bugs found by the properties, kept as readable examples ----------------------------------
def test_text_domain_filters_active_like_the_list(catalog: Catalog) -> None:
    """A domain must mean the same written as text or as a list. The text form decides
    whether it 'mentions active' by a substring test, so a path through another
    model's 'active' field (or any value containing 'active') drops the filter."""
    c = catalog
    domain: Domain = [("partner_id.active", "=", True)]
    assert c.sql(domain) == {"alpha", "pct", "under"}
    assert c.sql(repr(domain)) == c.sql(domain), (
        f"text {repr(domain)!r} shows archived items that the list hides"
    )
    value_only: Domain = [("name", "!=", "inactive")]
    assert c.sql(repr(value_only)) == c.sql(value_only)


def test_ordering_a_boolean_is_supported_or_refused(catalog: Catalog) -> None:
    """('flag', '<', True): either a DomainError at parse time, or the evaluator's
    answer (False < True; NULL never compares); never a raw SQLAlchemy error."""
    c = catalog
    for domain, expected in (
        ([("flag", "<", True)], {"pct", "axb"}),
        ([("flag", ">=", True)], {"alpha", "under"}),
        ([("partner_id.is_company", "<", True)], {"alpha", "under"}),
        ([("flag", ">", False)], set()),  # ordering against False never matches
    ):
        try:
            got = c.sql(domain)
        except DomainError:
            continue
        except Exception as exc:
            raise AssertionError(f"{c.reg.dialect}: search({domain!r}) raised {exc!r}") from exc
        assert got == expected, f"{c.reg.dialect}: search({domain!r}) gave {sorted(got)}"
        c.expect(domain, expected)


def test_pattern_ending_with_an_escape_is_consistent(catalog: Catalog) -> None:
    """'=like' with a pattern ending in a lone backslash: the evaluator reads the
    backslash literally; SQL must agree, or the parser must refuse the pattern."""
    c = catalog
    tail = c.env["test.item"].create({"name": "a\\"}).id
    c.items["tail"] = tail
    for domain, expected in (
        ([("name", "=like", "a\\")], {"tail"}),
        ([("name", "=ilike", "A\\")], {"tail"}),
        ([("category_id", "=like", "Leaf\\")], set()),
    ):
        try:
            with c.env.savepoint():
                got = c.sql(domain)
        except DomainError:
            continue
        except Exception as exc:
            raise AssertionError(f"{c.reg.dialect}: search({domain!r}) raised {exc!r}") from exc
        assert got == expected, f"{c.reg.dialect}: search({domain!r}) gave {sorted(got)}"
        c.expect(domain, expected)


# -- malformed domains -------------------------------------------------------------------------
BAD_TERMS: list[tuple[object, str]] = [
    (("nope", "=", 1), "unknown field 'nope'"),
    (("category_id.nope", "=", 1), "unknown field 'nope'"),
    (("name", "~=", "a"), "unknown operator '~='"),
    (("quantity", "=", "abc"), "'abc' does not fit field 'quantity'"),
    (("quantity", "in", [1, "abc"]), "'abc' does not fit field 'quantity'"),
    # Long lists are checked as a whole (parse._converted_list); a misfit is still named.
    (("quantity", "in", [*range(20), 2**31]), f"{2**31} does not fit field 'quantity'"),
    (("id", "not in", [*range(20), True]), "True does not fit field 'id'"),
    (("category_id", "in", [*range(20), 1.5]), "1.5 does not fit field 'category_id'"),
    (("name", "in", [*map(str, range(20)), 7]), "7 does not fit field 'name'"),
    (("day", "=", "not a date"), "does not fit field 'day'"),
    (("state", "=", "shipped"), "does not fit field 'state'"),
    (("quantity", "like", "1"), "needs a text field"),
    (("name", "like", 1), "needs a string value"),
    (("tag_ids", "<", 1), "cannot compare a to-many field"),
    (("name", "any", [("id", "=", 1)]), "not relational"),
    (("category_id", "child_of", "abc"), "expected record ids"),
    (("name", "=", "a", "b"), "expected a term"),
]


def test_domain_errors_name_the_term(make_registry: Callable[..., Registry]) -> None:
    reg = make_registry("test_catalog")
    with scratch(reg) as env:
        items = env["test.item"]
        for term, message in BAD_TERMS:
            with pytest.raises(DomainError) as info:
                items.search([("name", "=", "x"), term])
            error = info.value
            assert message in str(error), f"{term!r}: {error}"
            assert repr(error.term) in str(error), f"{term!r}: {error}"
            # the term as written; for a path, the model is the one where it went wrong
            assert error.term == term, f"{term!r}: the error names {error.term!r}"
            expected = "test.category" if "." in str(term[0]) else "test.item"  # type: ignore[index]
            assert error.model == expected, f"{term!r}: {error}"
        for domain, message in [
            (["&", ("name", "=", "a")], "'&' needs two operands"),
            (["|"], "'|' needs two operands"),
            (["!"], "'!' needs an operand"),
            ([("name", "=", "a"), "oops"], "expected a term"),
            ("[('a', '=', __import__('os'))]", "not a literal list"),
            ("[('name', '=', 'a')] + []", "not a literal list"),
            ("('name', '=', 'a'", "not a literal list"),
            ("{'name': 1}", "a domain must be a list"),
        ]:
            with pytest.raises(DomainError) as info:
                items.search(domain)  # type: ignore[arg-type]
            assert message in str(info.value), f"{domain!r}: {info.value}"
