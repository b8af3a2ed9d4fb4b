"""Memos that outlive pages. Names (tags, class tokens, attribute values) repeat across a site's
pages, so what was worked out for one is worth keeping; but a crawl meets endless names and
hostile pages write long junk. So a memo keeps at most MEMO_ENTRIES keys of at most
MEMO_KEY_CHARS characters, and is emptied when full: cheaper on a hot path than lru.LruCache,
which reorders on every hit."""

from __future__ import annotations

MEMO_ENTRIES = 20_000  # with keys of at most MEMO_KEY_CHARS, under ~10 MB a memo
MEMO_KEY_CHARS = 300


def remember(memo: dict, key: object, value: object, size: int) -> None:
    """memo[key] = value unless `size` (the key's length in characters) is over MEMO_KEY_CHARS;
    a full memo is emptied first."""
    if size <= MEMO_KEY_CHARS:
        if len(memo) >= MEMO_ENTRIES:
            memo.clear()
        memo[key] = value
