"""The kernel's own costs: rule lookup, rule compilation, statements per related read.

>>> micro_benchmarks(registry, fixture, StatementLog(registry.engine))  # doctest: +SKIP
{'rule lookup warm µs': 0.4, 'compile 20 rules ms': 1.1, ...}

- ``rule lookup warm µs``: ``registry.security.rule_node(env, "sale.order", "read")`` once
  the (user, model, operation) is cached, per call;
- a cold compile of 20 rules, in stages, ms for the 20: ``compile text`` (the AST
  whitelist, ``compile_rule_text``), ``evaluate+parse`` (the user's values into a
  domain, the user record already read), ``to SQLAlchemy`` (``SqlCompiler.compile``),
  ``render SQL`` (SQLAlchemy's string compilation of a SELECT with it, cache off);
- ``empty transaction ms``: a transaction that does nothing (the pool's checkout,
  BEGIN, the statement that reads the security and values versions, ROLLBACK), the
  part of every call that a hand-written query does not have;
- ``related reads``: statements to read ``partner_id.name``, ``user_id.name`` and
  ``company_id.name`` over 80 sale orders (attribute access, internal user), and the
  same three fields through ``read()`` (display names).
"""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING

import sqlalchemy as sa
from generate import Fixture
from workloads import BastionEngine, StatementLog

from bastion import Registry
from bastion.domain import SqlCompiler
from bastion.security.state import compile_rule_text

if TYPE_CHECKING:
    from bastion.security.policy import SecurityPolicy

LOOKUPS = 20_000
REPEATS = 7
RULES = 20


def micro_benchmarks(registry: Registry, fixture: Fixture, log: StatementLog) -> dict[str, float]:
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

    engine = BastionEngine(registry, fixture.users["portal"])
    with engine.env() as env:
        state = policy.state(env)
        rules = [rule for model in sorted(state.rules) for rule in state.rules[model]][:RULES]
        _ = env.user.commercial_partner_id.id, env.user.partner_id.id  # read once
        stages: dict[str, list[float]] = {k: [] for k in ("text", "evaluate", "sqla", "render")}
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            for rule in rules:
                compile_rule_text(registry, rule.text)
            t1 = time.perf_counter()
            nodes = [policy._evaluate_rule(env, rule) for rule in rules]
            t2 = time.perf_counter()
            specs = [registry.specs[rule.model] for rule in rules]
            clauses = [
                SqlCompiler(registry).compile(node, spec, spec.table)
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
        figures["compile 20 rules: text ms"] = medians["text"]
        figures["evaluate+parse ms"] = medians["evaluate"]
        figures["to SQLAlchemy ms"] = medians["sqla"]
        figures["render SQL ms"] = medians["render"]
        figures["compile 20 rules total ms"] = sum(medians.values())

    # What every call pays before its first statement: the pool's checkout, BEGIN, the
    # statement reading the security and values versions, the ROLLBACK.
    samples = []
    for _ in range(LOOKUPS // 100):
        t0 = time.perf_counter()
        with engine.env():
            pass
        samples.append(time.perf_counter() - t0)
    figures["empty transaction ms"] = statistics.median(samples) * 1000

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
