"""A memo of bounded size that keeps what is asked for often.

The security layer and the ORM keep what they work out per security version, per values
version or per schema generation: a user's groups and rules, rule and domain SQL, built
statements. Most of it is kept per user, so an unbounded memo grows with the users a
worker serves until the version changes, which on a quiet deployment may take months.
Dropping a whole memo when it is full throws away the entries every request needs along
with those of users long gone.

``BoundedMemo`` keeps two generations instead: entries go into the young one; when it
holds half the limit it becomes the old one and the former old one is dropped. An entry
found in the old generation moves to the young one, so what is asked for between two
turns survives them all, and at most ``limit`` entries are ever held. A hit in the young
generation is one dictionary look-up, which matters on the path of every search.

Dropping an entry only costs working it out again: every user of these memos checks
that what it finds belongs to what it asked about (``kept_statement`` compares the parts
it holds, ``rule_sql`` the node). Several threads may use one memo: races between them
(two turns at once, an insert into a generation being turned) can only lose entries,
and let the young generation overshoot its half by about one entry per thread; a
value is never found under another key.

Reading an entry may turn the generations, so the mapping's views are snapshots
(:meth:`items`, :meth:`values`), taken without moving anything.

>>> memo = BoundedMemo(4)  # two generations of two
>>> for key in "abc": memo[key] = key.upper()
>>> memo.get("a")  # from the old generation, so now young again
'A'
>>> for key in "de": memo[key] = key.upper()
>>> sorted(memo)  # "b", not asked for again, went with its generation
['a', 'c', 'd', 'e']
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import TypeVar, overload

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")

_MISSING = object()
# The smallest security memo a deployment may ask for (the ``memo_entries`` setting,
# ``SecurityPolicy.set_memo_entries``): below it a worker would work out most users'
# rules again at nearly every request. Here, so that the settings need not import the
# security layer.
MIN_MEMO_ENTRIES = 1_024


class BoundedMemo(MutableMapping[K, V]):
    """A mapping of at most ``limit`` entries (at least 2) that keeps the recently used."""

    __slots__ = ("_half", "_old", "_young", "limit")

    def __init__(self, limit: int) -> None:
        if limit < 2:
            raise ValueError(f"a memo's limit must be at least 2, not {limit}")
        self.limit = limit
        self._half = limit // 2
        self._young: dict[K, V] = {}
        self._old: dict[K, V] = {}

    @overload
    def get(self, key: K, /) -> V | None: ...
    @overload
    def get(self, key: K, default: V | D, /) -> V | D: ...
    def get(self, key: K, default: object = None) -> object:
        found = self._young.get(key, _MISSING)
        if found is not _MISSING:
            return found
        found = self._old.get(key, _MISSING)
        if found is _MISSING:
            return default
        self[key] = found  # type: ignore[assignment]  # it came out of the memo
        return found

    def __getitem__(self, key: K) -> V:
        found = self.get(key, _MISSING)
        if found is _MISSING:
            raise KeyError(key)
        return found  # type: ignore[return-value]  # not the sentinel

    def __setitem__(self, key: K, value: V) -> None:
        young = self._young
        if key not in young and len(young) >= self._half:
            self._old, self._young = young, {}
            young = self._young
        young[key] = value

    def __delitem__(self, key: K) -> None:
        found = self._young.pop(key, _MISSING)
        found_old = self._old.pop(key, _MISSING)
        if found is _MISSING and found_old is _MISSING:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key in self._young or key in self._old

    def __iter__(self) -> Iterator[K]:
        young = self._young
        yield from list(young)
        yield from [key for key in list(self._old) if key not in young]

    def __len__(self) -> int:
        young = self._young
        return len(young) + sum(1 for key in list(self._old) if key not in young)

    def _snapshot(self) -> dict[K, V]:
        both = dict(self._old)
        both.update(self._young)
        return both

    def items(self) -> list[tuple[K, V]]:  # type: ignore[override]
        return list(self._snapshot().items())

    def values(self) -> list[V]:  # type: ignore[override]
        return list(self._snapshot().values())

    def setdefault(self, key: K, default: V) -> V:
        found = self.get(key, _MISSING)
        if found is _MISSING:
            self[key] = default
            return default
        return found  # type: ignore[return-value]  # not the sentinel

    def clear(self) -> None:
        self._young, self._old = {}, {}

    def __repr__(self) -> str:
        return f"BoundedMemo(limit={self.limit}, entries={len(self)})"


# What the security layer's memos are typed as: any mapping will do for one transaction.
Memo = MutableMapping[object, object]
