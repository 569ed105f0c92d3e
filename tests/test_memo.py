"""The bounded memo of the security layer and the ORM (``bastion.memo``): never more
than its limit, every value it gives the last one written under its key, and the
entries asked for between two turns of its generations never dropped."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bastion.memo import BoundedMemo

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


def test_a_memo_below_two_entries_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2, not 1"):
        BoundedMemo(1)


def test_unhashable_keys_raise_as_for_a_dict() -> None:
    memo: BoundedMemo[object, int] = BoundedMemo(8)
    with pytest.raises(TypeError):
        memo.get([1])
    with pytest.raises(TypeError):
        memo[[1]] = 1


def test_threads_sharing_a_memo_keep_it_bounded_and_right() -> None:
    """Workers' threads share a security version's memo: whatever the interleaving,
    it stays within its limit and a value found is the one written under its key."""
    memo: BoundedMemo[tuple[int, int], int] = BoundedMemo(64)
    errors: list[str] = []

    def work(thread: int) -> None:
        for n in range(20_000):
            key = (thread, n % 97)
            found = memo.get(key)
            if found is not None and found != key[0] * 1000 + key[1]:
                errors.append(f"{key}: {found}")
            memo[key] = key[0] * 1000 + key[1]
            if len(memo) > 64:
                errors.append(f"{len(memo)} entries")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
