"""LruCache: bounded, least recently used dropped first, peek leaves the order alone."""

from __future__ import annotations

from linkcrawler.lru import LruCache


def test_the_least_recently_used_entry_is_dropped() -> None:
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)
    assert (cache.peek("a"), cache.peek("b"), cache.peek("c"), len(cache)) == (1, None, 3, 2)


def test_peek_does_not_count_as_a_use() -> None:
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.peek("a") == 1
    cache.put("c", 3)
    assert (cache.peek("a"), cache.get("b"), cache.get("c")) == (None, 2, 3)


def test_a_limit_below_one_keeps_one() -> None:
    cache: LruCache[str, int] = LruCache(0)
    cache.put("a", 1)
    cache.put("b", 2)
    assert (cache.limit, len(cache), cache.get("b")) == (1, 1, 2)
