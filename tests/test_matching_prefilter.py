"""matching_links skips links whose plain host is outside the target's registrable domain
without normalising them; the result must equal matching every link (bench/verify.py, issue 7)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from linkcrawler.urls import match_link, parse_target
from linkcrawler.verification import _domain_filter, _outside

URLS = [
    "http://Example.com/a", "http://example.com./x", "http://a.example.com:8080/", "http://user@example.com/",
    "http://example.com@evil.com/", "http://evil.com@example.com/", "http://2130706433/", "http://127.0.0.1/",
    "http://0x7f000001/", "http://[::1]/", "https://www.example.com/p?utm_source=x", "http://xn--bcher-kva.example/",
    "http://bücher.example/", "http://EXAMPLE.COM/", "http://example.com%2e/", "http://exa%6dple.com/",
    "http://example.co.uk/", "http://sub.example.co.uk/x", "http://notexample.com/", "http://example.com.evil.com/",
    "http://www.example.com", "http://example.com:80/", "https://example.com:443/", "http://blog.mysite.test/x",
    "http://mysite.test/", "http://intranet.local/", "http://a.intranet.local/", "http://1.2.3.4/", "http://foo.0x1/",
    "http://foo.123/", "http://example.com\\foo", "mailto:a@example.com", None, "", "http://例え.jp/",
    "http://xn--r8jz45g.jp/a", "http://example.com/*",
]
TARGETS = [
    "http://example.com/a", "example.com", "https://www.example.com/p", "http://example.com/*", "http://127.0.0.1/",
    "127.0.0.1", "mysite.test", "http://blog.mysite.test/x", "example.co.uk", "http://sub.example.co.uk/*",
    "intranet.local", "bücher.example", "http://例え.jp/a", "http://[::1]/", "1.2.3.4",
]


@dataclass
class _Link:
    url: str | None


@pytest.mark.parametrize("raw", TARGETS)
def test_prefilter_never_drops_a_match(raw: str) -> None:
    target = parse_target(raw)
    domain = _domain_filter(target)
    for url in URLS:
        if domain is not None and _outside(url, domain):
            assert match_link(target, url) is None, (raw, url)


def test_prefilter_applies_to_plain_names_only() -> None:
    assert _domain_filter(parse_target("https://www.example.com/p")) == "example.com"
    assert _domain_filter(parse_target("127.0.0.1")) is None
    assert _outside("http://other.test/x", "example.com")
    assert not _outside("http://2130706433/", "example.com")  # numeric: the matcher decides
    assert not _outside("http://a.example.com/", "example.com")
