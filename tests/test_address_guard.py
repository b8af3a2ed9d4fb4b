"""SEC-1: the address guard, at the middleware (IP literals, schemes) and the resolver (DNS,
--resolve, redirect hops). A canary listener on 127.0.0.1 must see no connection; the negative
control (LINKCRAWLER_ALLOW_PRIVATE) shows the same crawl reaching it.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from linkcrawler.addressguard import AddressPolicy, parse_ip_literal, why_refused
from linkcrawler.errors import UsageError
from linkcrawler.resolver import parse_resolve_entry
from tests.crawl_harness import CrawlOutcomes, run_crawl
from tests.loopback import Canary, LoopbackServer, Reply

# --- unit -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("0", "0.0.0.0"),
        ("127.0.0.1.", "127.0.0.1"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("[fe80::1%eth0]", "fe80::1"),
    ],
)
def test_ip_literals_in_any_spelling(host: str, address: str) -> None:
    parsed = parse_ip_literal(host)
    assert parsed is not None and str(parsed).split("%")[0] == address


@pytest.mark.parametrize("host", ["example.com", "1.2.3.4.5", "256.1.1.1", "0x", "09.1.1.1", "a.1", "",
                                  "cafe.de", "-20", "1.-2.3.4", "www.site1.test"])
def test_names_are_not_ip_literals(host: str) -> None:
    assert parse_ip_literal(host) is None or host == "0x"


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
     "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "::", "fd00::1", "fe80::1",
     "::ffff:127.0.0.1", "::ffff:8.8.8.8", "2002:7f00:1::", "ff02::1", "192.0.2.1"],
)
def test_refused_addresses(address: str) -> None:
    assert why_refused(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert why_refused(ipaddress.ip_address(address)) is None


def test_policy_allow_private_and_single_endpoints() -> None:
    loop = ipaddress.ip_address("127.0.0.1")
    assert AddressPolicy().refusal(loop, 80)
    assert AddressPolicy(allow_private=True).refusal(loop, 80) is None
    one = AddressPolicy(allowed_endpoints=frozenset({(loop, 8080)}))
    assert one.refusal(loop, 8080) is None and one.refusal(loop, 8081)


def test_resolve_entries() -> None:
    e = parse_resolve_entry("Example.COM:443:1.2.3.4,[2001:db8::1]")
    assert e.host == "example.com" and e.port == 443 and len(e.addresses) == 2
    assert e.matches("example.com", 443) and not e.matches("example.com", 80)
    w = parse_resolve_entry("*.x.test:*:127.0.0.1")
    assert w.matches("a.x.test", 1) and w.matches("b.a.x.test", 2) and not w.matches("x.test", 1)
    assert parse_resolve_entry("*:80:127.0.0.1").matches("anything", 80)
    ranking = sorted([w, e, parse_resolve_entry("*:80:1.1.1.1")], key=lambda o: o.specificity)
    assert ranking[-1] is e
    for bad in ("example.com:443", "example.com:x:1.2.3.4", "h:80:not-an-ip", ":80:1.2.3.4"):
        with pytest.raises(UsageError):
            parse_resolve_entry(bad)


# --- SEC-1 end to end -------------------------------------------------------------------------

LITERAL_HOSTS = [
    "127.0.0.1", "localhost", "0.0.0.0", "[::1]", "[::ffff:127.0.0.1]", "2130706433",
    "0x7f000001", "127.1", "10.0.0.1", "169.254.169.254", "100.64.0.1", "[fd00::1]",
]


def sec1(settings: dict[str, Any]) -> tuple[int, CrawlOutcomes, list[str]]:
    with Canary() as canary, LoopbackServer() as public:
        c = canary.port
        public.route("*", "/robots.txt", Reply(404))
        # A "public" page (its endpoint is allowed) redirecting to the canary.
        public.route("pub.test", "/jump", Reply(302, headers={"Location": f"http://127.0.0.1:{c}/"}))
        public.route("pub.test", "/jump-name", Reply(301, headers={"Location": f"http://evil.test:{c}/x"}))
        urls = [f"http://{h}:{c}/" for h in LITERAL_HOSTS]
        urls += [f"http://evil.test:{c}/", f"http://any.evil.test:{c}/"]
        urls += [public.url("pub.test", "/jump"), public.url("pub.test", "/jump-name")]
        conf = public.crawl_settings(
            ["pub.test"], **{"LINKCRAWLER_DELAY": 0, "DOWNLOAD_TIMEOUT": 5, **settings}
        )
        # Names resolving to the canary through --resolve: exact and wildcard entries.
        conf["LINKCRAWLER_RESOLVE"] += [f"evil.test:{c}:127.0.0.1", f"*.evil.test:{c}:127.0.0.1"]
        out = run_crawl(urls, conf)
        return canary.connections, out, urls


@pytest.mark.slow
def test_sec1_no_connection_to_internal_addresses() -> None:
    connections, out, urls = sec1({})
    assert connections == 0
    reasons = {u: out[u]["reason"] for u in urls}
    assert set(reasons.values()) == {"blocked_address"}, reasons
    # The redirect hop was refused after the public page answered.
    assert out[urls[-2]]["final_url"].startswith("http://127.0.0.1:")


@pytest.mark.slow
def test_sec1_negative_control_allow_private_reaches_the_canary() -> None:
    connections, _, _ = sec1({"LINKCRAWLER_ALLOW_PRIVATE": True, "DOWNLOAD_TIMEOUT": 2})
    assert not connections == 0


@pytest.mark.slow
def test_schemes_other_than_http_are_never_fetched(tmp_path: Any) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    urls = [f"file://{secret}", "data:text/html,<a href=x>", "ftp://127.0.0.1/x"]
    out = run_crawl(urls, {"LINKCRAWLER_DELAY": 0})
    assert {out[u]["reason"] for u in urls} == {"invalid_url"}
