"""The kernel's own costs: rule lookup, rule compilation, statements per related read.

>>> micro_benchmarks(registry, fixture, StatementLog(registry.engine), hand)  # doctest: +SKIP
{'rule lookup warm µs': 0.4, 'compile 20 rules ms': 1.1, ...}

- ``rule lookup warm µs``: ``registry.security.rule_node(env, "sale.order", "read")`` once
  the (user, model, operation) is cached, per call;
- the first 20 rules compiled with nothing kept, as for rules just written (a security
  change keeps the SQL of the rules it leaves alone), in stages, ms for the 20:
  ``compile text`` (the AST whitelist, ``compile_rule_text``), ``evaluate+parse`` (the
  user's values into a domain, the user record already read), ``to SQLAlchemy``
  (``rule_sql``: the rule shape's expression), ``render SQL`` (SQLAlchemy's string
  compilation of a SELECT with it, which its statement cache then keeps for every user
  of the shape);
- ``compile 20 rules, new user ms``: the same 20 rules for a portal user seen for the
  first time in the security version (``rule_domain`` and ``rule_sql``; another
  customer's user came first), median over ``new users``: what a user's first
  request pays, the cold compile of issue 3;
- ``security state load ms``: loading a security version (groups, access rights,
  rules and their texts compiled), as each worker does after any security change,
  median of ``REPEATS``; the users' groups are read as users are seen, and ``a user's
  groups ms`` is that read, for a user seen first in the version;
- ``empty transaction ms``: a transaction that does nothing (the pool's checkout,
  BEGIN and the statement that reads the security and values versions, one round trip
  on PostgreSQL, then COMMIT): what every call pays beyond a hand-written query's own
  BEGIN and COMMIT;
- ``read one order ms``: a transaction that reads one sale order by id, its
  columns and its customer's name (``read()``, as a document page or an API read
  does), and ``attribute read ms``: one that reads one field of one order by
  attribute, both as the typical portal user, median over ``LOOKUPS // 100`` calls;
- ``count, no domain ms``, ``count, state in ms`` (``state in ('sale', 'sent')``) and
  ``list of 80, name ilike ms`` (``search_read`` of the list page's fields, the text a
  new one at each call), ``count, id in 100 ids ms`` (ids drawn from the range of all the
  orders' ids, other customers' among them, as an API call sends; one of 50 lists at
  each call, the same 50 for hand SQL): one transaction each,
  as the typical portal user, median over ``LOOKUPS // 100`` calls, and the same as
  hand-written SQL (``: hand SQL``, ``m.id = ANY(%(ids)s)``). A
  domain's statement is kept per shape (``bastion.orm.shaped``), so calls that differ
  by their values only run the same statement;
- ``related reads``: statements to read ``partner_id.name``, ``user_id.name`` and
  ``company_id.name`` over 80 sale orders (attribute access, internal user), and the
  same three fields through ``read()`` (display names).
"""

from __future__ import annotations

import itertools
import random
import statistics
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import sqlalchemy as sa
from generate import BenchUser, Fixture
from peers import DOCS, PREDICATES, HandSql
from workloads import BastionEngine, StatementLog, user_params

from bastion import Registry
from bastion.security.state import RuleDef, SecurityState, compile_rule_text

if TYPE_CHECKING:
    from bastion.orm.environment import Environment
    from bastion.security.policy import SecurityPolicy

LOOKUPS = 20_000
REPEATS = 7
RULES = 20
NEW_USERS = 8
LISTED = 100  # ids in the list of a count by ids, drawn from all orders


def micro_benchmarks(
    registry: Registry, fixture: Fixture, log: StatementLog, hand: HandSql
) -> dict[str, float]:
    figures: dict[str, float] = {}
    policy: SecurityPolicy = registry.security  # type: ignore[assignment]
    for label in ("portal", "internal"):
        engine = BastionEngine(registry, fixture.users[label])
        with engine.env() as env:
            policy.rule_node(env, "sale.order", "read")
            samples = []
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                for _ in range(LOOKUPS):
                    policy.rule_node(env, "sale.order", "read")
                samples.append((time.perf_counter() - t0) / LOOKUPS)
            figures[f"rule lookup warm µs ({label})"] = statistics.median(samples) * 1e6

    figures.update(_compile_after_a_rule_change(registry, fixture))
    figures.update(_compile_for_new_users(registry, fixture))
    figures.update(_security_state_load(registry, fixture))

    # What every call pays beyond its statements: the pool's checkout, BEGIN with the
    # statement reading the security and values versions, the COMMIT.
    engine = BastionEngine(registry, fixture.users["portal"])
    samples = []
    for _ in range(LOOKUPS // 100):
        t0 = time.perf_counter()
        with engine.env():
            pass
        samples.append(time.perf_counter() - t0)
    figures["empty transaction ms"] = statistics.median(samples) * 1000

    figures.update(_one_record_reads(engine))
    figures.update(_searches_with_domains(engine, hand))

    engine = BastionEngine(registry, fixture.users["internal"])
    with engine.env() as env:
        orders = env["sale.order"].search(
            [("user_id", "!=", False)], limit=80, order="date_order desc, id desc"
        )
        with log.capture() as statements:
            for order in orders:
                _ = (order.partner_id.name, order.user_id.name, order.company_id.name)
        figures["related reads: statements (attributes)"] = float(len(statements))
    with engine.env() as env:
        orders = env["sale.order"].search(
            [("user_id", "!=", False)], limit=80, order="date_order desc, id desc"
        )
        with log.capture() as statements:
            orders.read(["partner_id", "user_id", "company_id"])
        figures["related reads: statements (read)"] = float(len(statements))
    return figures


def _one_record_reads(engine: BastionEngine) -> dict[str, float]:
    """A document page's read of its record, and one field read by attribute."""
    with engine.env() as env:
        ids = env["sale.order"].search([], limit=1).ids

    def page() -> None:
        with engine.env() as env:
            env["sale.order"].browse(ids).read(["name", "partner_id", "date_order", "state"])

    def attribute() -> None:
        with engine.env() as env:
            _ = env["sale.order"].browse(ids).name

    return _medians_ms({"read one order ms": page, "attribute read ms": attribute})


def _medians_ms(calls: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Each call's median in ms over ``LOOKUPS // 100`` runs, after 20 to warm up."""
    figures: dict[str, float] = {}
    for label, call in calls.items():
        for _ in range(20):
            call()
        samples = []
        for _ in range(LOOKUPS // 100):
            t0 = time.perf_counter()
            call()
            samples.append(time.perf_counter() - t0)
        figures[label] = statistics.median(samples) * 1000
    return figures


def _searches_with_domains(engine: BastionEngine, hand: HandSql) -> dict[str, float]:
    """A pager's count without and with a filter, and a list page searched by text,
    through Bastion and as hand-written SQL for the same user (checked to agree)."""
    doc = DOCS["sale.order"]
    fields = list(doc.fields)
    pred = PREDICATES[(doc.model, engine.user.portal)]
    params = user_params(engine.user)
    states = ["sale", "sent"]
    texts = (str(n % 1000) for n in itertools.count())
    with engine.env() as env:
        last = env(su=True)["sale.order"].search([], limit=1, order="id desc").id
    draw = random.Random(3)  # noqa: S311  # the same lists at every run, not a secret
    drawn = [sorted(draw.sample(range(1, last + 1), min(LISTED, last))) for _ in range(50)]
    lists, hand_lists = itertools.cycle(drawn), itertools.cycle(drawn)  # the same, in turn

    def count_all() -> int:
        with engine.env() as env:
            return env["sale.order"].search_count([])

    def count_states() -> int:
        with engine.env() as env:
            return env["sale.order"].search_count([("state", "in", states)])

    def list_by_text(text: str) -> list[object]:
        with engine.env() as env:
            domain = [("name", "ilike", text)]
            rows = env["sale.order"].search_read(domain, fields, limit=80, order=doc.order)
        return [row["id"] for row in rows]

    def count_ids(ids: list[int]) -> int:
        with engine.env() as env:
            return env["sale.order"].search_count([("id", "in", ids)])

    def hand_count_ids(ids: list[int]) -> int:
        return hand.search_count(doc, f"{pred} AND m.id = ANY(%(ids)s)", {**params, "ids": ids})

    def hand_count_states() -> int:
        where = f"{pred} AND m.state = ANY(%(states)s)"
        return hand.search_count(doc, where, {**params, "states": states})

    def hand_list_by_text(text: str) -> list[object]:
        where = f"{pred} AND lower(m.name) LIKE lower(%(pattern)s)"
        return [
            row["id"] for row in hand.search_read(doc, where, {**params, "pattern": f"%{text}%"})
        ]

    assert count_states() == hand_count_states()
    listed = next(lists)
    assert count_ids(listed) == hand_count_ids(listed)
    assert list_by_text("1") == hand_list_by_text("1")
    return _medians_ms(
        {
            "count, no domain ms": count_all,
            "count, state in ms": count_states,
            "count, state in: hand SQL ms": hand_count_states,
            "count, id in 100 ids ms": lambda: count_ids(next(lists)),
            "count, id in 100 ids: hand SQL ms": lambda: hand_count_ids(next(hand_lists)),
            "list of 80, name ilike ms": lambda: list_by_text(next(texts)),
            "list of 80, name ilike: hand SQL ms": lambda: hand_list_by_text(next(texts)),
        }
    )


def _first_rules(policy: SecurityPolicy, env: Environment) -> list[RuleDef]:
    state = policy.state(env)
    return [rule for model in sorted(state.rules) for rule in state.rules[model]][:RULES]


def _compile_after_a_rule_change(registry: Registry, fixture: Fixture) -> dict[str, float]:
    """The 20 rules for the typical portal user with nothing kept (as for rules just
    written: after a security change the SQL of the rules it leaves alone is kept), in
    stages; the user's record and companies already read."""
    policy: SecurityPolicy = registry.security  # type: ignore[assignment]
    stages: dict[str, list[float]] = {k: [] for k in ("text", "evaluate", "sqla", "render")}
    engine = BastionEngine(registry, fixture.users["portal"])
    with engine.env() as env:
        rules = _first_rules(policy, env)
        _ = env.user.commercial_partner_id.id, env.user.partner_id.id, env.company_ids
        specs = [registry.specs[rule.model] for rule in rules]
        for _ in range(REPEATS):
            policy.state(env).memo.clear()
            policy.rule_memo(env).clear()
            policy._templates.clear()
            t0 = time.perf_counter()
            for rule in rules:
                compile_rule_text(registry, rule.text)
            t1 = time.perf_counter()
            nodes = [policy.rule_domain(env, rule) for rule in rules]
            t2 = time.perf_counter()
            clauses = [
                policy.rule_sql(env, node, spec, spec.table).clause
                for node, spec in zip(nodes, specs, strict=True)
            ]
            t3 = time.perf_counter()
            for clause, spec in zip(clauses, specs, strict=True):
                query = sa.select(spec.table.c.id).where(clause)
                str(query.compile(dialect=registry.engine.dialect))
            t4 = time.perf_counter()
            for key, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                stages[key].append(seconds)
    medians = {k: statistics.median(v) * 1000 for k, v in stages.items()}
    return {
        "compile 20 rules: text ms": medians["text"],
        "evaluate+parse ms": medians["evaluate"],
        "to SQLAlchemy ms": medians["sqla"],
        "render SQL ms": medians["render"],
        "compile 20 rules total ms": sum(medians.values()),
    }


def _compile_for_new_users(registry: Registry, fixture: Fixture) -> dict[str, float]:
    """The same 20 rules for portal users seen for the first time in the version (an
    earlier user's rules compiled): evaluation, parse and SQL expression, the user's
    record and companies already read."""
    policy: SecurityPolicy = registry.security  # type: ignore[assignment]
    with BastionEngine(registry, fixture.users["portal"]).env() as env:
        rules = _first_rules(policy, env)
        for rule in rules:  # the earlier user
            spec = registry.specs[rule.model]
            policy.rule_sql(env, policy.rule_domain(env, rule), spec, spec.table)
        portal = env(su=True)["res.users"].search([("login", "=like", "portal%")]).ids
    seen = {user.uid for user in fixture.users.values()}
    samples = []
    for uid in [uid for uid in portal if uid not in seen][:NEW_USERS]:
        user = BenchUser("new", uid, 0, 0, (), portal=True)
        with BastionEngine(registry, user).env() as env:
            _ = env.user.commercial_partner_id.id, env.user.partner_id.id, env.company_ids
            t0 = time.perf_counter()
            for rule in rules:
                spec = registry.specs[rule.model]
                policy.rule_sql(env, policy.rule_domain(env, rule), spec, spec.table)
            samples.append(time.perf_counter() - t0)
    return {
        "compile 20 rules, new user ms": statistics.median(samples) * 1000,
        "new users": float(len(samples)),
    }


def _security_state_load(registry: Registry, fixture: Fixture) -> dict[str, float]:
    """A security version loaded, and a user's groups read into it, each in a
    transaction of its own (nothing of the user in its record cache; the read timed
    after the transaction's first statement)."""
    engine = BastionEngine(registry, fixture.users["portal"])
    loads, reads = [], []
    for _ in range(REPEATS):
        with engine.env() as env:
            t0 = time.perf_counter()
            state = SecurityState.load(env)
            loads.append(time.perf_counter() - t0)
        with engine.env() as env:
            env.cr.execute(sa.select(sa.literal(1)))  # the transaction's BEGIN, first
            t0 = time.perf_counter()
            state.closure_of(env, env.uid)
            reads.append(time.perf_counter() - t0)
    return {
        "security state load ms": statistics.median(loads) * 1000,
        "a user's groups ms": statistics.median(reads) * 1000,
    }
