"""Groups: the transitive closure of ``implied_ids``, cycles, and exclusive user types.

>>> closure({1: (2,), 2: (3,), 3: ()}, [1])
frozenset({1, 2, 3})

User types are exclusive: a user is internal (``base.group_user``), portal
(``base.group_portal``) or public (``base.group_public``), never two of them, even
through a chain of implied groups. Odoo made the types exclusive after
CVE-2019-11782; Bastion refuses any write that would break it, which makes "a portal
user slipped into an internal group" impossible by construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bastion.errors import ValidationError

Graph = Mapping[int, tuple[int, ...]]

USER_TYPES = ("base.group_user", "base.group_portal", "base.group_public")


def closure(graph: Graph, groups: Iterable[int]) -> frozenset[int]:
    """``groups`` and every group they imply, transitively."""
    seen: set[int] = set()
    todo = list(groups)
    while todo:
        gid = todo.pop()
        if gid in seen:
            continue
        seen.add(gid)
        todo.extend(graph.get(gid, ()))
    return frozenset(seen)


def find_cycle(graph: Graph) -> list[int] | None:
    """A cycle of implications as [a, b, ..., a], or None."""
    state: dict[int, int] = {}  # 1: on the current path, 2: done
    path: list[int] = []

    def visit(node: int) -> list[int] | None:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def implication_path(graph: Graph, start: Iterable[int], goal: int) -> list[int]:
    """The shortest chain of implications from one of ``start`` to ``goal``."""
    previous: dict[int, int | None] = {gid: None for gid in start}
    queue = list(previous)
    while queue:
        gid = queue.pop(0)
        if gid == goal:
            chain = [gid]
            while (before := previous[chain[-1]]) is not None:
                chain.append(before)
            return chain[::-1]
        for nxt in graph.get(gid, ()):
            if nxt not in previous:
                previous[nxt] = gid
                queue.append(nxt)
    return []


def check_acyclic(graph: Graph, names: Mapping[int, str]) -> None:
    cycle = find_cycle(graph)
    if cycle:
        chain = " -> ".join(names.get(gid, str(gid)) for gid in cycle)
        raise ValidationError(f"groups cannot imply themselves: {chain}")


def check_user_type(
    login: str,
    direct_groups: Iterable[int],
    graph: Graph,
    type_groups: Mapping[str, int],
    names: Mapping[int, str],
) -> None:
    """Refuse a user whose effective groups hold two user types."""
    direct = list(direct_groups)
    effective = closure(graph, direct)
    held = [xmlid for xmlid in USER_TYPES if type_groups.get(xmlid) in effective]
    if len(held) <= 1:
        return
    explanations = []
    for xmlid in held:
        chain = implication_path(graph, direct, type_groups[xmlid])
        explanations.append(" -> ".join(names.get(gid, str(gid)) for gid in chain))
    raise ValidationError(
        f"user {login!r} would be of several user types at once "
        f"({', '.join(held)}): " + "; ".join(explanations) + ". A portal or public user can "
        "never be an internal user; remove the group that implies the other type."
    )
