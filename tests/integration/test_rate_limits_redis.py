"""Rate limits on the real Redis (``security.rate_limit_storage: redis://127.0.0.1:6379``): the counts are shared
by replicas, refused hits say how long to wait, windows move on. Each test uses its own key prefix and deletes its
keys afterwards. Skipped when Redis does not answer (failed on CI, where it must)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest

from ui.rate_limits import RateLimiter

pytestmark = pytest.mark.integration

REDIS_URL = os.environ.get("CONCIERGE_TEST_REDIS_URL", "redis://127.0.0.1:6379")


@pytest.fixture
def prefix() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as e:
        message = f"Redis is not reachable at {REDIS_URL} ({e}): start it or set CONCIERGE_TEST_REDIS_URL"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    keys = list(client.scan_iter(match=f"*{name}*"))
    if keys:
        client.delete(*keys)
    client.close()


def replica(prefix: str, **rates: str) -> RateLimiter:
    return RateLimiter(rates, REDIS_URL, prefix)


def test_hits_past_the_rate_are_refused_with_the_seconds_to_wait(prefix: str) -> None:
    limits = replica(prefix, chat_shopper="3/minute")

    results = [limits.hit("chat_shopper", "C001") for _ in range(5)]

    assert results[:3] == [None, None, None]
    assert all(wait is not None and 1 <= wait <= 60 for wait in results[3:])


def test_replicas_share_the_counts(prefix: str) -> None:
    first, second = replica(prefix, chat_ip="4/minute"), replica(prefix, chat_ip="4/minute")

    for limits in (first, second, first, second):
        assert limits.hit("chat_ip", "10.0.0.1") is None

    assert first.hit("chat_ip", "10.0.0.1") is not None and second.hit("chat_ip", "10.0.0.1") is not None
    assert first.hit("chat_ip", "10.0.0.2") is None


def test_check_does_not_count_on_redis(prefix: str) -> None:
    limits = replica(prefix, login_user="1/minute")

    assert [limits.check("login_user", "ana") for _ in range(3)] == [None, None, None]
    assert limits.hit("login_user", "ana") is None and limits.check("login_user", "ana") is not None


def test_the_window_moves_on(prefix: str) -> None:
    limits = replica(prefix, chat_shopper="1/second")
    assert limits.hit("chat_shopper", "C001") is None
    assert limits.hit("chat_shopper", "C001") is not None

    time.sleep(1.1)

    assert limits.hit("chat_shopper", "C001") is None


def test_prefixes_keep_shops_apart(prefix: str) -> None:
    shop_a, shop_b = replica(prefix + "-a", chat_shopper="1/minute"), replica(prefix + "-b", chat_shopper="1/minute")
    shop_a.hit("chat_shopper", "C001")

    assert shop_a.hit("chat_shopper", "C001") is not None
    assert shop_b.hit("chat_shopper", "C001") is None
