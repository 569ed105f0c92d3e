"""How long creating one sale order waits while another transaction imports 10,000.

``python bench/numbering_wait.py [--size 10k] [--rounds 5] [--in-transaction]``

Fills a throwaway PostgreSQL database (``tests/pg.py``) with the bench's data at
``--size``, then, ``--rounds`` times: the salesman's import of 10,000 orders in batches
of 1,000 (one transaction, rolled back, as the bench's create workload) starts, and
0.3 s into it another transaction creates one order and commits. It prints both
durations per round and their medians. Orders number with gaps allowed
(``bastion.orm.numbering``): the one order takes its number in a short transaction of
its own and does not wait for the import. ``--in-transaction`` takes the numbers in the
caller's transaction instead, as gapless prefixes (invoices) do and as orders did
before 2026-12-07: the one order then waits for the import's end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tests"))

from generate import generate, parse_size, progress_bar  # noqa: E402
from workloads import BastionEngine, create_case  # noqa: E402

from bastion import Registry  # noqa: E402
from pg import PostgresServer  # noqa: E402

DELAY = 0.3  # seconds into the import when the one order is created


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="10k", help="documents per model")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--in-transaction",
        action="store_true",
        help="take the orders' numbers in the caller's transaction (gapless)",
    )
    args = parser.parse_args(argv)
    server = PostgresServer()
    server.start()
    try:
        registry = Registry(server.create_database("bench_numbering_wait"))
        with progress_bar() as progress:
            fixture = generate(registry, parse_size(args.size), progress=progress)
        if args.in_transaction:
            registry.numbering_apart = None
        user = fixture.users["internal"]
        case = create_case(registry, fixture, user)
        engine = BastionEngine(registry, user)
        engine.create(case.model, case.orm_rows[:10])
        rounds = [
            _round(registry, engine, case.model, case.orm_rows, user.uid)
            for _ in range(args.rounds)
        ]
        for number, (imported, one) in enumerate(rounds, 1):
            print(f"round {number}: import {imported:,.0f} ms, one order {one:,.1f} ms")
        print(
            f"median: import {statistics.median(r[0] for r in rounds):,.0f} ms, "
            f"one order {statistics.median(r[1] for r in rounds):,.1f} ms "
            f"({'in the transaction' if args.in_transaction else 'apart'})"
        )
        registry.dispose()
    finally:
        server.stop()
    return 0


def _round(
    registry: Registry, engine: BastionEngine, model: str, rows: list[dict[str, object]], uid: int
) -> tuple[float, float]:
    took: dict[str, float] = {}

    def importing() -> None:
        started = time.perf_counter()
        engine.create(model, rows)
        took["import"] = (time.perf_counter() - started) * 1000

    def one_order() -> None:
        time.sleep(DELAY)
        started = time.perf_counter()
        with registry.transaction() as su:
            su.with_user(uid)[model].create(rows[:1])
        took["one"] = (time.perf_counter() - started) * 1000

    threads = [threading.Thread(target=importing), threading.Thread(target=one_order)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return took["import"], took["one"]


if __name__ == "__main__":
    raise SystemExit(main())
