"""The bounded memo of the security layer and the ORM (``bastion.memo``): never more
than its limit, every value it gives the last one written under its key, and the
entries asked for between two turns of its generations never dropped."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bastion import Registry
from bastion.memo import MIN_MEMO_ENTRIES, BoundedMemo
from bastion.settings import Settings

KEYS = st.integers(min_value=0, max_value=40)
ACTIONS = st.sampled_from(["set", "get", "del", "setdefault"])
STEPS = st.lists(st.tuples(ACTIONS, KEYS, st.integers()))


@given(limit=st.integers(min_value=2, max_value=12), steps=STEPS)
def test_a_memo_holds_at_most_its_limit_and_gives_what_was_last_written(
    limit: int, steps: list[tuple[str, int, int]]
) -> None:
    memo: BoundedMemo[int, int] = BoundedMemo(limit)
    written: dict[int, int] = {}  # everything ever written, undeleted: a superset
    for action, key, value in steps:
        if action == "set":
            memo[key] = written[key] = value
        elif action == "get":
            assert memo.get(key, -1) in (written.get(key, -1), -1)
        elif action == "setdefault":
            wanted = memo[key] if key in memo else value
            assert memo.setdefault(key, value) == wanted == memo[key]
            written[key] = wanted
        elif key in memo:
            del memo[key]
            written.pop(key)
            assert key not in memo
        assert len(memo) <= limit
        assert len(list(memo)) == len(memo) == len(set(memo))
        # Reading may move an entry to the young generation, and so turn it.
        assert all(memo.get(k) in (written[k], None) for k in list(memo))


@given(limit=st.integers(min_value=4, max_value=64), others=st.integers(min_value=1, max_value=500))
def test_an_entry_asked_for_between_turns_is_never_dropped(limit: int, others: int) -> None:
    """A hot entry (every request's) read at least once per half the limit of other
    entries written survives any number of them; a memo that dropped everything when
    full would lose it at the first fill."""
    memo: BoundedMemo[str, int] = BoundedMemo(limit)
    memo["hot"] = 0
    for n in range(others):
        if n % (limit // 2 - 1 or 1) == 0:
            assert memo.get("hot") == 0, n
        memo[f"other {n}"] = n
    assert memo.get("hot") == 0


def test_an_entry_not_asked_for_again_goes_after_two_turns() -> None:
    memo: BoundedMemo[str, int] = BoundedMemo(4)
    memo["cold"] = 1
    for n in range(4):
        memo[f"other {n}"] = n
    assert "cold" not in memo
    assert memo.get("cold") is None
    with pytest.raises(KeyError):
        memo["cold"]


def test_views_are_snapshots_that_move_nothing() -> None:
    """Reading an entry may turn the generations: items, values and equality read the
    generations as they are, and the entries stay where they were."""
    memo: BoundedMemo[str, int] = BoundedMemo(4)
    for n, key in enumerate("abcd"):
        memo[key] = n
    assert sorted(memo.items()) == [("a", 0), ("b", 1), ("c", 2), ("d", 3)]
    assert sorted(memo.values()) == [0, 1, 2, 3]
    assert memo == {"a": 0, "b": 1, "c": 2, "d": 3}
    memo["e"] = 4  # turns: a and b, not asked for, go
    assert sorted(memo) == ["c", "d", "e"]


def test_a_memo_below_two_entries_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2, not 1"):
        BoundedMemo(1)


def test_unhashable_keys_raise_as_for_a_dict() -> None:
    memo: BoundedMemo[object, int] = BoundedMemo(8)
    with pytest.raises(TypeError):
        memo.get([1])
    with pytest.raises(TypeError):
        memo[[1]] = 1


class _Key:
    """A key hashed and compared in Python, as the shapes and nodes kept in the memos
    are: a thread may be switched out in the middle of a look-up or an insert."""

    def __init__(self, thread: int, n: int) -> None:
        self.thread, self.n = thread, n

    def __hash__(self) -> int:
        return hash((self.thread, self.n))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and (self.thread, self.n) == (other.thread, other.n)


def test_threads_sharing_a_memo_keep_it_bounded_and_right() -> None:
    """Workers' threads share a security version's memo: whatever the interleaving, a
    value found is the one written under its key, and the memo holds about its limit
    (a generation may overshoot its half by about one entry per thread)."""
    memo: BoundedMemo[_Key, int] = BoundedMemo(64)
    errors: list[str] = []
    threads = 4

    def work(thread: int) -> None:
        for n in range(5_000):
            key = _Key(thread, n % 97)
            found = memo.get(key)
            if found is not None and found != thread * 1000 + n % 97:
                errors.append(f"{thread}, {n % 97}: {found}")
            memo[key] = thread * 1000 + n % 97
            if len(memo) > 64 + 2 * threads:
                errors.append(f"{len(memo)} entries")

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter allows
    try:
        running = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for thread in running:
            thread.start()
        for thread in running:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []


def test_the_memo_size_setting_comes_from_the_environment_and_is_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``BASTION_MEMO_ENTRIES`` sets ``memo_entries``; unset, the kernel's default
    applies (None); a size below the minimum is refused, naming the setting."""
    secret = "s" * 40
    assert Settings(secret_key=secret).memo_entries is None
    monkeypatch.setenv("BASTION_MEMO_ENTRIES", "262144")
    assert Settings(secret_key=secret).memo_entries == 262_144
    monkeypatch.setenv("BASTION_MEMO_ENTRIES", str(MIN_MEMO_ENTRIES - 1))
    with pytest.raises(ValueError, match="memo_entries") as refused:
        Settings(secret_key=secret)
    assert str(MIN_MEMO_ENTRIES) in str(refused.value)


def test_a_registry_made_with_a_memo_size_keeps_it(make_registry: Callable[..., Registry]) -> None:
    """``Registry(..., memo_entries=n)``, as the server makes its registry from the
    setting: the security version's memo holds ``n`` entries."""
    made = make_registry("base")
    registry = Registry(made.url, memo_entries=2 * MIN_MEMO_ENTRIES)
    try:
        with registry.transaction() as env:
            memo = registry.security.state(env).memo  # type: ignore[attr-defined]
            assert isinstance(memo, BoundedMemo) and memo.limit == 2 * MIN_MEMO_ENTRIES
    finally:
        registry.dispose()
