"""Where the bench process and its database backends run, so every engine is timed
under the same scheduling.

A short call is a few round trips between this process and a PostgreSQL backend.
On the 2-core VM of the sixth run, each round trip cost about 0.1 ms when the two
processes ran on different cores and about 0.015 ms when they shared one (waking a
process on the other core is slow under virtualisation), and the scheduler moved them
together or apart as it went: one hand-written check took 0.40-0.55 ms for its first
nine calls and 0.12-0.15 ms after. Left alone, a short cell's ratio said more about where
the processes happened to be than about the engines. So this process and every
backend it opens are pinned:

- ``separate`` (the default): the client on one core, its backends on another, as an
  application server and its database are deployed;
- ``shared``: all on one core, which leaves the CPU each engine spends;
- ``off``: wherever the scheduler puts them (every run before the seventh).

Parallel query workers are started by the postmaster, not by a backend, and are not
pinned: the large counts keep every core.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

PLACEMENTS = ("separate", "shared", "off")


@dataclass
class Cores:
    """The cores of this process and of its backends, and what could not be pinned."""

    placement: str
    client: set[int] = field(default_factory=set)
    server: set[int] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)

    @classmethod
    def choose(cls, placement: str) -> Cores:
        if placement not in PLACEMENTS:
            raise ValueError(f"--cores: {placement!r} is not one of {', '.join(PLACEMENTS)}")
        if placement == "off":
            return cls(placement)
        available = sorted(os.sched_getaffinity(0))
        if placement == "separate" and len(available) < 2:
            cores = cls("shared", {available[0]}, {available[0]})
            cores.failures.append("one core available: client and backends share it")
            return cores
        client = {available[0]}
        server = {available[1]} if placement == "separate" else client
        return cls(placement, client, server)

    def pin_client(self) -> None:
        if self.client:
            os.sched_setaffinity(0, self.client)

    def pin_backend(self, pid: int) -> None:
        """Pin the backend process ``pid`` (a connection's ``info.backend_pid``)."""
        if not self.server:
            return
        try:
            os.sched_setaffinity(pid, self.server)
        except OSError as error:  # another user's process without CAP_SYS_NICE
            if len(self.failures) < 3:
                self.failures.append(f"backend {pid} not pinned: {error}")

    def describe(self) -> str:
        if self.placement == "off":
            return "processes not pinned (--cores off)"
        where = f"client on core {_names(self.client)}, backends on core {_names(self.server)}"
        notes = "; ".join(self.failures)
        return f"--cores {self.placement}: {where}" + (f" ({notes})" if notes else "")


def _names(cores: set[int]) -> str:
    return ",".join(str(core) for core in sorted(cores))
