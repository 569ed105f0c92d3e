"""bastion.auth.throttle: login limits per account and per IP, in memory and in Redis.

Every behaviour test runs on both storages: ``memory://`` (one process) and a real Redis
server (several workers sharing counters).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator, Sequence

import pytest
import redis

from bastion.auth import (
    ACCOUNT_LIMITS,
    IP_LIMITS,
    LoginThrottle,
    ThrottleDecision,
    ThrottleUnavailable,
)
from bastion.auth.throttle import KEY_PREFIX

STORAGES = ("memory", "redis")
MakeThrottle = Callable[..., LoginThrottle]

ALLOWED = ThrottleDecision(allowed=True, retry_after=0)


@pytest.fixture(params=STORAGES, ids=STORAGES)
def storage_uri(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    # Looked up here so that memory-only runs never start Redis.
    url: str = request.getfixturevalue("redis_url")
    return url


@pytest.fixture
def make_throttle(storage_uri: str) -> Iterator[MakeThrottle]:
    """``make_throttle(**limits)``: a LoginThrottle on the storage under test."""
    made: list[LoginThrottle] = []

    def make(
        *, account_limits: Sequence[str] = ACCOUNT_LIMITS, ip_limits: Sequence[str] = IP_LIMITS
    ) -> LoginThrottle:
        throttle = LoginThrottle(storage_uri, account_limits=account_limits, ip_limits=ip_limits)
        made.append(throttle)
        return throttle

    yield make
    for throttle in made:
        throttle.reset()


@pytest.fixture
def throttle(make_throttle: MakeThrottle) -> LoginThrottle:
    return make_throttle()


def fail(throttle: LoginThrottle, login: str, ip: str, times: int) -> None:
    for _ in range(times):
        assert throttle.check(login, ip).allowed  # callers check before each attempt
        throttle.record_failure(login, ip)


def test_defaults() -> None:
    assert ACCOUNT_LIMITS == ("5 per 1 minute", "10 per 15 minutes", "30 per 1 day")
    assert IP_LIMITS == ("20 per 1 minute", "100 per 1 hour")


def test_fresh_account_is_allowed(throttle: LoginThrottle) -> None:
    assert throttle.check("alice", "192.0.2.1") == ALLOWED


def test_check_counts_nothing(throttle: LoginThrottle) -> None:
    for _ in range(50):
        assert throttle.check("alice", "192.0.2.1") == ALLOWED


def test_five_failures_lock_the_account_from_any_ip(throttle: LoginThrottle) -> None:
    fail(throttle, "alice", "192.0.2.1", 4)
    assert throttle.check("alice", "192.0.2.1") == ALLOWED
    throttle.record_failure("alice", "192.0.2.1")
    for ip in ("192.0.2.1", "198.51.100.7", "2001:db8::1"):
        decision = throttle.check("alice", ip)
        assert not decision.allowed
        assert 1 <= decision.retry_after <= 60


def test_login_is_normalised(throttle: LoginThrottle) -> None:
    fail(throttle, "Alice", "192.0.2.1", 5)
    assert not throttle.check("  ALICE ", "198.51.100.7").allowed


def test_other_accounts_from_other_ips_are_unaffected(throttle: LoginThrottle) -> None:
    fail(throttle, "alice", "192.0.2.1", 5)
    assert throttle.check("bob", "198.51.100.7") == ALLOWED
    # the attacker's IP is not locked by 5 failures either: only the account is
    assert throttle.check("bob", "192.0.2.1") == ALLOWED


def test_twenty_failures_from_one_ip_lock_the_ip(throttle: LoginThrottle) -> None:
    ip = "203.0.113.9"
    for n in range(4):  # a spray: 4 accounts, 5 failures each, never one account locked twice
        fail(throttle, f"user{n}", ip, 5)
    decision = throttle.check("fresh-user", ip)
    assert not decision.allowed and decision.retry_after >= 1
    assert throttle.check("fresh-user", "198.51.100.7") == ALLOWED


def test_ipv6_clients_are_counted_per_64_network(throttle: LoginThrottle) -> None:
    for n in range(4):
        fail(throttle, f"user{n}", f"2001:db8:1:2::{n + 1:x}", 5)
    assert not throttle.check("fresh-user", "2001:db8:1:2:ffff::99").allowed
    assert throttle.check("fresh-user", "2001:db8:1:3::1") == ALLOWED


def test_ipv4_mapped_addresses_count_as_ipv4(throttle: LoginThrottle) -> None:
    for n in range(4):
        fail(throttle, f"user{n}", "::ffff:192.0.2.50", 5)
    assert not throttle.check("fresh-user", "192.0.2.50").allowed


def test_success_clears_the_account_but_not_the_ip(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(ip_limits=["6 per 1 minute"])
    fail(throttle, "alice", "192.0.2.1", 4)
    throttle.record_success("alice", "192.0.2.1")
    fail(throttle, "alice", "192.0.2.1", 2)  # would be the 5th and 6th without the reset
    assert throttle.check("alice", "198.51.100.7") == ALLOWED
    # the IP tier kept counting: 6 failures from 192.0.2.1
    assert not throttle.check("bob", "192.0.2.1").allowed


def test_lockout_refuses_until_the_window_passes(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(account_limits=["2 per 1 second"])
    fail(throttle, "alice", "192.0.2.1", 2)
    decision = throttle.check("alice", "192.0.2.1")
    assert decision == ThrottleDecision(allowed=False, retry_after=1)
    time.sleep(decision.retry_after + 0.1)
    assert throttle.check("alice", "192.0.2.1") == ALLOWED


def test_longer_tiers_give_longer_waits(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(account_limits=["50 per 1 minute", "3 per 1 hour"])
    fail(throttle, "alice", "192.0.2.1", 3)
    decision = throttle.check("alice", "192.0.2.1")
    assert not decision.allowed
    assert 60 < decision.retry_after <= 3600


def test_reset_forgets_everything(throttle: LoginThrottle) -> None:
    fail(throttle, "alice", "192.0.2.1", 5)
    throttle.reset()
    assert throttle.check("alice", "192.0.2.1") == ALLOWED


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"account_limits": ["5 every minute"]}, "account_limits: invalid rate"),
        ({"ip_limits": []}, "ip_limits must name at least one rate"),
    ],
)
def test_bad_limits_are_refused(kwargs: dict[str, list[str]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LoginThrottle("memory://", **kwargs)
    with pytest.raises(TypeError, match="not a string"):
        LoginThrottle(account_limits="5 per 1 minute")


def test_unknown_storage_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="unusable throttle storage"):
        LoginThrottle("nosuchstore://localhost")


# -- Redis only --------------------------------------------------------------------


def test_two_workers_on_one_redis_share_counters(redis_url: str) -> None:
    worker_a, worker_b = LoginThrottle(redis_url), LoginThrottle(redis_url)
    fail(worker_a, "alice", "192.0.2.1", 3)
    fail(worker_b, "alice", "192.0.2.1", 2)
    assert not worker_a.check("alice", "192.0.2.1").allowed
    assert not worker_b.check("alice", "192.0.2.1").allowed
    worker_b.record_success("alice", "192.0.2.1")
    assert worker_a.check("alice", "192.0.2.1") == ALLOWED


def test_redis_keys_are_prefixed_and_hold_no_user_text(redis_url: str) -> None:
    throttle = LoginThrottle(redis_url)
    throttle.record_failure("Evil*Login\r\nFLUSHALL", "198.51.100.77")
    with redis.Redis.from_url(redis_url) as client:
        keys = [key.decode() for key in client.keys("*")]
        client.set("someone-else:key", "1")
        throttle.reset()
        assert [key.decode() for key in client.keys("*")] == ["someone-else:key"]
    assert len(keys) == len(ACCOUNT_LIMITS) + len(IP_LIMITS)
    for key in keys:
        assert key.startswith(f"{KEY_PREFIX}:")
        assert "evil" not in key.casefold() and "198.51" not in key and "\r" not in key


def test_unreachable_redis_fails_closed() -> None:
    with socket.socket() as sock:  # a port nobody listens on: bound, then released
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    throttle = LoginThrottle(f"redis://:hunter2@127.0.0.1:{port}/0")
    with pytest.raises(ThrottleUnavailable, match="unreachable") as info:
        throttle.check("alice", "192.0.2.1")
    assert "hunter2" not in str(info.value)
    with pytest.raises(ThrottleUnavailable):
        throttle.record_failure("alice", "192.0.2.1")
    with pytest.raises(ThrottleUnavailable):
        throttle.record_success("alice", "192.0.2.1")
    with pytest.raises(ThrottleUnavailable):
        throttle.reset()


def test_attempt_counts_before_the_check() -> None:
    """attempt() counts first: six parallel guesses cannot all pass a 5-per-minute
    account limit, even before any failure is recorded."""
    throttle = LoginThrottle("memory://")
    decisions = [throttle.attempt("alice", f"198.51.100.{i}") for i in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert decisions[-1].retry_after > 0
    throttle.record_success("alice", "198.51.100.1")
    assert throttle.attempt("alice", "198.51.100.1").allowed


def test_only_failures_count_against_an_address() -> None:
    """An office behind one address logs in all day: successes never lock it, while
    failures (and knocks on a locked account) do."""
    throttle = LoginThrottle("memory://")
    for n in range(50):
        assert throttle.attempt(f"user{n % 7}", "198.51.100.7").allowed
        throttle.record_success(f"user{n % 7}", "198.51.100.7")
    for n in range(20):
        throttle.attempt(f"guess{n}", "198.51.100.7")
        throttle.record_address_failure("198.51.100.7")
    refused = throttle.attempt("someone-else", "198.51.100.7")
    assert not refused.allowed and refused.retry_after > 0
    assert throttle.attempt("someone-else", "198.51.100.8").allowed
