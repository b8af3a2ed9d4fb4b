"""tldextract must use its bundled suffix list only: no network, no disk cache (DESIGN §5).

tldextract swallows fetch errors and falls back to its snapshot, so a refused connection
alone proves nothing: every attempt is recorded and the test asserts there were none.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from linkcrawler import urls


@dataclass
class Guard:
    cache_root: Path
    attempts: list[str] = field(default_factory=list)


@pytest.fixture
def guard(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Guard]:
    """Network refused and recorded; every cache location tldextract knows of in tmp_path."""
    g = Guard(tmp_path)

    def refuse(name: str):  # noqa: ANN202
        def refused(*args: object, **kwargs: object) -> None:
            g.attempts.append(f"{name}{args!r}")
            raise OSError("network disabled by test")

        return refused

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("TLDEXTRACT_CACHE", str(tmp_path / "tldextract"))
    # Even an environment that asks for a download must not get one.
    monkeypatch.setenv("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "https://publicsuffix.org/list/x.dat")
    urls._extractor.cache_clear()
    urls._registrable_domain_of_host.cache_clear()
    yield g
    urls._extractor.cache_clear()
    urls._registrable_domain_of_host.cache_clear()


def test_registrable_domain_needs_no_network_and_writes_no_cache(guard: Guard) -> None:
    assert urls.registrable_domain("www.example.co.uk") == "example.co.uk"
    assert urls.registrable_domain("alice.github.io") == "alice.github.io"
    assert urls.registrable_domain("blog.mysite.test") == "mysite.test"
    assert guard.attempts == []
    assert list(guard.cache_root.rglob("*")) == []


def test_the_guard_sees_a_default_extractor_fetch(guard: Guard) -> None:
    # Shows the guard bites: tldextract left to its defaults tries the network (and, here,
    # silently falls back to its snapshot — which is why attempts are recorded).
    import tldextract

    extractor = tldextract.TLDExtract(cache_dir=str(guard.cache_root / "cache"))
    assert extractor.extract_str("www.example.co.uk").suffix == "co.uk"
    assert guard.attempts
