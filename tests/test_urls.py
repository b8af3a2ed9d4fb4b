"""DESIGN §5 "Matching a link to a target": one test per rule, plus normalisation and parsing."""

from __future__ import annotations

import pytest

from linkcrawler.enums import MatchKind, TargetKind
from linkcrawler.urls import (
    Target,
    TargetMatcher,
    equivalence_key,
    host_of,
    is_found,
    is_http_url,
    match_link,
    normalize_url,
    parse_target,
    registrable_domain,
)

EXACT, EQUIVALENT, DOMAIN = MatchKind.EXACT, MatchKind.EQUIVALENT, MatchKind.DOMAIN


def case(id_: str, *values: object) -> object:
    return pytest.param(*values, id=id_)


# --- normalisation ---------------------------------------------------------------------------

NORMALIZE_CASES = [
    case("scheme-case", "HTTP://example.com/", "http://example.com/"),
    case("host-case", "http://ExAmPlE.CoM/Path", "http://example.com/Path"),
    case("path-case-kept", "http://x.com/A/b", "http://x.com/A/b"),
    case("default-port-http", "http://x.com:80/", "http://x.com/"),
    case("default-port-https", "https://x.com:443/", "https://x.com/"),
    case("other-port-kept", "https://x.com:8443/", "https://x.com:8443/"),
    case("cross-default-port-kept", "http://x.com:443/", "http://x.com:443/"),
    case("empty-port", "http://x.com:/a", "http://x.com/a"),
    case("port-leading-zeros", "http://x.com:0080/", "http://x.com/"),
    case("escape-hex-upper", "http://x.com/a%2fb", "http://x.com/a%2Fb"),
    case("escape-unreserved-decoded", "http://x.com/%7Euser/%41%2D", "http://x.com/~user/A-"),
    case("escape-reserved-kept", "http://x.com/a%3Fb?c=%26", "http://x.com/a%3Fb?c=%26"),
    case("reserved-not-encoded", "http://x.com/a:b@c!$&'()*+,;=", "http://x.com/a:b@c!$&'()*+,;="),
    case("space-encoded", "http://x.com/a b?q=c d", "http://x.com/a%20b?q=c%20d"),
    case("non-ascii-path-utf8", "http://x.com/café", "http://x.com/caf%C3%A9"),
    case("non-ascii-query-utf8", "http://x.com/?q=ü", "http://x.com/?q=%C3%BC"),
    case("lower-escape-of-non-ascii", "http://x.com/caf%c3%a9", "http://x.com/caf%C3%A9"),
    case("lone-percent", "http://x.com/100%", "http://x.com/100%25"),
    case("bad-escape", "http://x.com/%zz", "http://x.com/%25zz"),
    case("dot-segments", "http://x.com/a/./b/../c", "http://x.com/a/c"),
    case("dot-segments-above-root", "http://x.com/../../a", "http://x.com/a"),
    case("dot-segment-trailing", "http://x.com/a/b/..", "http://x.com/a/"),
    case("encoded-dot-segments", "http://x.com/a/%2e%2E/b", "http://x.com/b"),
    case("dots-in-names-kept", "http://x.com/a..b/.c", "http://x.com/a..b/.c"),
    case("fragment-dropped", "http://x.com/a#top", "http://x.com/a"),
    case("fragment-only", "http://x.com#", "http://x.com/"),
    case("empty-path", "http://x.com", "http://x.com/"),
    case("empty-path-with-query", "http://x.com?a=1", "http://x.com/?a=1"),
    case("empty-query-kept", "http://x.com/a?", "http://x.com/a?"),
    case("plus-kept", "http://x.com/?q=a+b", "http://x.com/?q=a+b"),
    case("idn-punycode", "http://Bücher.de/", "http://xn--bcher-kva.de/"),
    case("idn-already-punycode", "http://XN--BCHER-KVA.de/", "http://xn--bcher-kva.de/"),
    case("idn-fullwidth", "http://ｅｘａｍｐｌｅ.com/", "http://example.com/"),
    case("idn-ideographic-dot", "http://例え。テスト/", "http://xn--r8jz45g.xn--zckzah/"),
    case("idn-eszett-non-transitional", "http://ß.de/", "http://xn--zca.de/"),
    case("idn-2003-fallback-symbol", "http://☃.com/", "http://xn--n3h.com/"),
    case("idn-2003-fallback-mixed-case", "http://I♥NY.com/", "http://xn--iny-zx5a.com/"),
    case("underscore-host-kept", "http://a_b.example.com/", "http://a_b.example.com/"),
    case("host-percent-decoded", "http://ex%41mple.com/", "http://example.com/"),
    case("host-trailing-dot", "http://example.com./", "http://example.com/"),
    case("whitespace-stripped", "  \thttp://x.com/a \n", "http://x.com/a"),
    case("embedded-tab-newline", "ht\ttp://x.\ncom/a\r/b", "http://x.com/a/b"),
    case("backslashes", "http:\\\\x.com\\a\\b", "http://x.com/a/b"),
    case("backslash-in-query-encoded", "http://x.com/?a\\b", "http://x.com/?a%5Cb"),
    case("missing-slashes", "http:x.com/a", "http://x.com/a"),
    case("extra-slashes", "http:///x.com/a", "http://x.com/a"),
    case("userinfo-kept", "http://User:Pw@X.com/", "http://User:Pw@x.com/"),
    case("userinfo-at-encoded", "http://a@b@x.com/", "http://a%40b@x.com/"),
    case("ipv4-decimal", "http://2130706433/", "http://127.0.0.1/"),
    case("ipv4-hex", "http://0x7f000001/", "http://127.0.0.1/"),
    case("ipv4-short", "http://127.1/", "http://127.0.0.1/"),
    case("ipv4-octal", "http://0177.0.0.01/", "http://127.0.0.1/"),
    case("ipv6-compressed", "http://[0:0:0:0:0:0:0:1]:8080/", "http://[::1]:8080/"),
    case("ipv6-upper", "http://[FD00::A]/", "http://[fd00::a]/"),
    case("ipv6-mapped-v4", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/"),
    case("double-slash-path", "http://x.com//a//b", "http://x.com//a//b"),
]


@pytest.mark.parametrize(("url", "expected"), NORMALIZE_CASES)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected
    assert normalize_url(expected) == expected  # the normal form is a fixed point


INVALID_URLS = [
    case("ftp", "ftp://x.com/"),
    case("mailto", "mailto:a@x.com"),
    case("javascript", "javascript:alert(1)"),
    case("javascript-mixed-case-tab", "JaVa\tScript:alert(1)"),
    case("data", "data:text/html,hi"),
    case("relative", "/a/b"),
    case("protocol-relative", "//x.com/a"),
    case("empty", ""),
    case("spaces-only", "   "),
    case("empty-host", "http:///"),
    case("empty-host-with-port", "http://:80/"),
    case("port-not-number", "http://x.com:abc/"),
    case("port-negative", "http://x.com:-1/"),
    case("port-too-big", "http://x.com:65536/"),
    case("ipv6-unclosed", "http://[::1/"),
    case("ipv6-bad", "http://[::g]/"),
    case("ipv6-junk-after", "http://[::1]x/"),
    case("ipv6-zone", "http://[fe80::1%25eth0]/"),
    case("ipvfuture", "http://[v1.x]/"),
    case("ipv4-too-many-parts", "http://1.2.3.4.5/"),
    case("ipv4-part-too-big", "http://1.2.3.256/"),
    case("ends-in-number", "http://example.123/"),
    case("bad-octal", "http://09.1.1.1/"),
    case("space-in-host", "http://a b.com/"),
    case("forbidden-host-char", "http://a<b.com/"),
    case("sub-delim-in-host", "http://a$b.com/"),
    case("star-host", "http://*.example.com/"),
    case("percent-in-host", "http://a%25b.com/"),
    case("empty-label", "http://a..b.com/"),
    case("two-trailing-dots", "http://a.com../"),
    case("host-only-dot", "http://./"),
    case("bad-utf8-in-host", "http://%ff.com/"),
    case("very-long-host", "http://" + "a." * 2000 + "com/"),
]


@pytest.mark.parametrize("url", INVALID_URLS)
def test_normalize_url_rejects(url: str) -> None:
    assert normalize_url(url) is None
    assert not is_http_url(url)
    assert host_of(url) == ""


def test_is_http_url() -> None:
    assert is_http_url("https://x.com")
    assert not is_http_url(None)  # type: ignore[arg-type]


# --- equivalence -----------------------------------------------------------------------------

EQUIVALENT_PAIRS = [
    case("http-https", "http://x.com/a", "https://x.com/a"),
    case("www", "https://www.x.com/a", "https://x.com/a"),
    case("trailing-slash", "https://x.com/a/", "https://x.com/a"),
    case("root-slash", "https://x.com/?utm_source=a", "http://x.com"),
    case("utm_source", "https://x.com/a?utm_source=nl", "https://x.com/a"),
    case("utm_medium", "https://x.com/a?utm_medium=email", "https://x.com/a"),
    case("utm_campaign", "https://x.com/a?utm_campaign=c", "https://x.com/a"),
    case("utm_term", "https://x.com/a?utm_term=t", "https://x.com/a"),
    case("utm_content", "https://x.com/a?utm_content=c", "https://x.com/a"),
    case("utm-any", "https://x.com/a?utm_whatever=1", "https://x.com/a"),
    case("utm-upper-case", "https://x.com/a?UTM_Source=1", "https://x.com/a"),
    case("gclid", "https://x.com/a?gclid=abc", "https://x.com/a"),
    case("fbclid", "https://x.com/a?fbclid=abc", "https://x.com/a"),
    case("mc_cid", "https://x.com/a?mc_cid=abc", "https://x.com/a"),
    case("mc_eid", "https://x.com/a?mc_eid=abc", "https://x.com/a"),
    case("tracking-among-others", "https://x.com/a?id=1&utm_source=x&b=2", "https://x.com/a?id=1&b=2"),
    case("empty-query", "https://x.com/a?", "https://x.com/a"),
    case("all-at-once", "http://www.x.com/a/?utm_source=x&gclid=1", "https://x.com/a"),
]


@pytest.mark.parametrize(("a", "b"), EQUIVALENT_PAIRS)
def test_equivalent(a: str, b: str) -> None:
    assert equivalence_key(a) == equivalence_key(b)


NOT_EQUIVALENT_PAIRS = [
    case("other-path", "https://x.com/a", "https://x.com/b"),
    case("other-host", "https://x.com/a", "https://y.com/a"),
    case("subdomain-not-www", "https://blog.x.com/a", "https://x.com/a"),
    case("www-not-only-leading", "https://x.www.com/a", "https://x.com/a"),
    case("two-trailing-slashes", "https://x.com/a//", "https://x.com/a"),
    case("other-query", "https://x.com/a?id=1", "https://x.com/a?id=2"),
    case("query-order-matters", "https://x.com/a?a=1&b=2", "https://x.com/a?b=2&a=1"),
    case("non-tracking-param", "https://x.com/a?ref=nl", "https://x.com/a"),
    case("utm-prefix-only", "https://x.com/a?utmsource=1", "https://x.com/a"),
    case("port", "https://x.com:8443/a", "https://x.com/a"),
    case("path-case", "https://x.com/A", "https://x.com/a"),
]


@pytest.mark.parametrize(("a", "b"), NOT_EQUIVALENT_PAIRS)
def test_not_equivalent(a: str, b: str) -> None:
    assert equivalence_key(a) != equivalence_key(b)


def test_equivalence_key_invalid() -> None:
    assert equivalence_key("mailto:a@b.c") is None


# --- hosts and registrable domains -----------------------------------------------------------

REGISTRABLE = [
    case("plain", "example.com", "example.com"),
    case("subdomain", "a.b.example.com", "example.com"),
    case("www", "www.example.com", "example.com"),
    case("co-uk", "www.example.co.uk", "example.co.uk"),
    case("com-au", "shop.example.com.au", "example.com.au"),
    case("jp-city", "x.city.kawasaki.jp", "city.kawasaki.jp"),
    case("url", "https://Blog.Example.CO.UK:8443/x?y#z", "example.co.uk"),
    case("unknown-suffix", "blog.mysite.test", "mysite.test"),
    case("unknown-suffix-deep", "a.b.blog.mysite.test", "mysite.test"),
    case("local", "intranet.local", "intranet.local"),
    case("single-label", "localhost", "localhost"),
    case("public-suffix-itself", "co.uk", "co.uk"),
    case("private-suffix", "alice.github.io", "alice.github.io"),
    case("private-suffix-sub", "www.alice.github.io", "alice.github.io"),
    case("private-blogspot", "foo.blogspot.com", "foo.blogspot.com"),
    case("idn", "www.Bücher.de", "xn--bcher-kva.de"),
    case("idn-suffix", "例え.テスト", "xn--r8jz45g.xn--zckzah"),
    case("trailing-dot", "www.example.com.", "example.com"),
    case("ipv4", "127.0.0.1", "127.0.0.1"),
    case("ipv4-url", "http://10.1.2.3:8080/", "10.1.2.3"),
    case("ipv4-decimal", "2130706433", "127.0.0.1"),
    case("ipv4-hex-url", "http://0x7f000001/", "127.0.0.1"),
    case("ipv6-bare", "::1", "[::1]"),
    case("ipv6-long", "0:0:0:0:0:0:0:1", "[::1]"),
    case("ipv6-brackets", "[::1]", "[::1]"),
    case("ipv6-url", "http://[FD00::1]:80/", "[fd00::1]"),
    case("host-port", "www.Example.co.uk:8080", "example.co.uk"),
    case("ipv4-port", "10.0.0.1:80", "10.0.0.1"),
    case("ipv6-port", "[::1]:8080", "[::1]"),
    case("bad-port", "example.com:http", ""),
    case("empty", "", ""),
    case("invalid-url", "http://a b/", ""),
    case("invalid-host", "a b.com", ""),
    case("very-long-host", "a." * 2000 + "com", ""),
    case("not-http", "ftp://example.com/", ""),
]


@pytest.mark.parametrize(("host_or_url", "expected"), REGISTRABLE)
def test_registrable_domain(host_or_url: str, expected: str) -> None:
    assert registrable_domain(host_or_url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        case("plain", "https://WWW.Example.com:8080/a", "www.example.com"),
        case("idn", "http://bücher.de", "xn--bcher-kva.de"),
        case("ipv6", "http://[::1]/", "[::1]"),
        case("none", None, ""),
        case("invalid", "not a url", ""),
    ],
)
def test_host_of(url: str | None, expected: str) -> None:
    assert host_of(url) == expected


# --- targets ---------------------------------------------------------------------------------

PARSE_TARGET = [
    case("url", "https://Example.com/Page#x", TargetKind.URL, "https://example.com/Page"),
    case("url-root", "http://example.com", TargetKind.URL, "http://example.com/"),
    case("url-no-scheme", "example.com/page", TargetKind.URL, "https://example.com/page"),
    case("url-protocol-relative", "//example.com/p", TargetKind.URL, "https://example.com/p"),
    case("url-query-no-scheme", "example.com?p=1", TargetKind.URL, "https://example.com/?p=1"),
    case("url-whitespace", "  https://example.com/a \n", TargetKind.URL, "https://example.com/a"),
    case("prefix", "https://example.com/blog/*", TargetKind.PREFIX, "https://example.com/blog/"),
    case("prefix-host-slash", "https://example.com/*", TargetKind.PREFIX, "https://example.com/"),
    case("prefix-query", "https://example.com/p?id=*", TargetKind.PREFIX, "https://example.com/p?id="),
    case("prefix-no-scheme", "example.com/blog/*", TargetKind.PREFIX, "https://example.com/blog/"),
    case("domain", "example.com", TargetKind.DOMAIN, "example.com"),
    case("domain-www", "www.example.com", TargetKind.DOMAIN, "example.com"),
    case("domain-subdomain", "blog.example.com", TargetKind.DOMAIN, "example.com"),
    case("domain-case-dot", "EXAMPLE.com.", TargetKind.DOMAIN, "example.com"),
    case("domain-co-uk", "www.example.co.uk", TargetKind.DOMAIN, "example.co.uk"),
    case("domain-private", "alice.github.io", TargetKind.DOMAIN, "alice.github.io"),
    case("domain-unknown-suffix", "blog.mysite.test", TargetKind.DOMAIN, "mysite.test"),
    case("domain-idn", "bücher.de", TargetKind.DOMAIN, "xn--bcher-kva.de"),
    case("domain-ipv4", "192.0.2.1", TargetKind.DOMAIN, "192.0.2.1"),
    case("domain-ipv6", "2001:db8::1", TargetKind.DOMAIN, "[2001:db8::1]"),
    case("domain-ipv6-brackets", "[2001:db8::1]", TargetKind.DOMAIN, "[2001:db8::1]"),
]


@pytest.mark.parametrize(("text", "kind", "norm"), PARSE_TARGET)
def test_parse_target(text: str, kind: TargetKind, norm: str) -> None:
    target = parse_target(text)
    assert target == Target(raw=text, kind=kind, norm=norm)
    assert target.key == f"{kind.value}:{norm}"


BAD_TARGETS = [
    case("empty", "", "empty"),
    case("blank", "  \t", "empty"),
    case("ftp", "ftp://example.com/", "not a valid http(s) URL"),
    case("javascript", "javascript:alert(1)", "cannot have a port or scheme"),
    case("mailto", "mailto:a@example.com", "cannot contain '@'"),
    case("domain-port", "example.com:8080", "cannot have a port"),
    case("wildcard-domain", "*.example.com", "bare domain already covers"),
    case("star-inside", "https://example.com/*/x*", "only allowed once"),
    case("prefix-bad-url", "https://exa mple.com/*", "not a valid http(s) URL"),
    case("prefix-no-host", "https://*", "not a valid http(s) URL"),
    case("prefix-inside-host", "https://exam*", "must go past the host"),
    case("prefix-host-only", "https://example.com*", "must go past the host"),
    case("bad-url", "https://example.com:99999/", "not a valid http(s) URL"),
    case("bad-domain", "exa mple.com", "not a valid domain"),
    case("bad-ip", "1.2.3.999", "not a valid domain"),
]


@pytest.mark.parametrize(("text", "message"), BAD_TARGETS)
def test_parse_target_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_target(text)


def test_target_keys_deduplicate_spellings() -> None:
    assert parse_target("HTTPS://Example.com:443/a#x").key == parse_target("https://example.com/a").key
    assert parse_target("www.example.com").key == parse_target("example.com").key
    assert parse_target("https://example.com/a").key != parse_target("https://example.com/a*").key


# --- matching --------------------------------------------------------------------------------

URL_TARGET = "https://www.example.com/page"
MATCH_CASES = [
    # URL target: exact
    case("url-exact-same", URL_TARGET, "https://www.example.com/page", EXACT),
    case("url-exact-case", URL_TARGET, "HTTPS://WWW.EXAMPLE.COM/page", EXACT),
    case("url-exact-port", URL_TARGET, "https://www.example.com:443/page", EXACT),
    case("url-exact-escapes", URL_TARGET, "https://www.example.com/%70age", EXACT),
    case("url-exact-dots", URL_TARGET, "https://www.example.com/a/../page", EXACT),
    case("url-exact-fragment", URL_TARGET, "https://www.example.com/page#reviews", EXACT),
    case("url-exact-idn", "https://bücher.de/x", "https://xn--bcher-kva.de/x", EXACT),
    case("url-exact-idn-reverse", "https://xn--bcher-kva.de/x", "https://BÜCHER.de/x", EXACT),
    # URL target: equivalent
    case("url-equiv-http", URL_TARGET, "http://www.example.com/page", EQUIVALENT),
    case("url-equiv-www", URL_TARGET, "https://example.com/page", EQUIVALENT),
    case("url-equiv-slash", URL_TARGET, "https://www.example.com/page/", EQUIVALENT),
    case("url-equiv-utm", URL_TARGET, "https://www.example.com/page?utm_source=x&utm_medium=y", EQUIVALENT),
    case("url-equiv-gclid", URL_TARGET, "https://www.example.com/page?gclid=1", EQUIVALENT),
    case("url-equiv-fbclid", URL_TARGET, "https://www.example.com/page?fbclid=1", EQUIVALENT),
    case("url-equiv-mc", URL_TARGET, "https://www.example.com/page?mc_cid=1&mc_eid=2", EQUIVALENT),
    case("url-equiv-everything", URL_TARGET, "http://example.com/page/?fbclid=1#x", EQUIVALENT),
    # URL target: same registrable domain only
    case("url-domain-other-page", URL_TARGET, "https://www.example.com/other", DOMAIN),
    case("url-domain-subdomain", URL_TARGET, "https://shop.example.com/page", DOMAIN),
    case("url-domain-other-query", URL_TARGET, "https://www.example.com/page?id=2", DOMAIN),
    case("url-domain-co-uk", "https://example.co.uk/a", "https://blog.example.co.uk/b", DOMAIN),
    # URL target: no match
    case("url-none-other-domain", URL_TARGET, "https://example.org/page", None),
    case("url-none-suffix-sibling", "https://example.co.uk/a", "https://other.co.uk/a", None),
    case("url-none-lookalike", URL_TARGET, "https://www.example.com.evil.org/page", None),
    case("url-none-private-sibling", "https://alice.github.io/", "https://bob.github.io/", None),
    case("url-none-invalid-link", URL_TARGET, "javascript:void(0)", None),
    case("url-none-no-link", URL_TARGET, None, None),
    case("url-none-empty-link", URL_TARGET, "", None),
    # prefix target
    case("prefix-exact", "https://example.com/blog/*", "https://example.com/blog/post-1", EXACT),
    case("prefix-exact-itself", "https://example.com/blog/*", "https://example.com/blog/", EXACT),
    case("prefix-exact-normalised", "https://example.com/blog/*", "HTTPS://EXAMPLE.COM/x/../blog/a", EXACT),
    case("prefix-equiv-http", "https://example.com/blog/*", "http://example.com/blog/a", EQUIVALENT),
    case("prefix-equiv-www", "https://example.com/blog/*", "https://www.example.com/blog/a", EQUIVALENT),
    case("prefix-equiv-no-slash", "https://example.com/blog/*", "https://example.com/blog", EQUIVALENT),
    case("prefix-equiv-utm", "https://example.com/p?id=*", "https://example.com/p?utm_source=x&id=3", EQUIVALENT),
    case("prefix-domain-sibling-path", "https://example.com/blog/*", "https://example.com/blogroll", DOMAIN),
    case("prefix-domain-other", "https://example.com/blog/*", "https://example.com/shop/", DOMAIN),
    case("prefix-none", "https://example.com/blog/*", "https://example.net/blog/a", None),
    case("prefix-host-lookalike", "https://example.com/*", "https://example.com.evil.org/", None),
    case("prefix-host-all", "https://example.com/*", "https://example.com/any/thing", EXACT),
    case("prefix-host-all-equiv", "https://example.com/*", "http://www.example.com", EQUIVALENT),
    case("prefix-without-slash-literal", "https://example.com/blog*", "https://example.com/blog-2", EXACT),
    case("prefix-empty-query", "https://example.com/p?*", "https://example.com/p?a=1", EXACT),
    case("prefix-empty-query-not-path", "https://example.com/p?*", "https://example.com/pp", DOMAIN),
    # domain target
    case("domain-root", "example.com", "https://example.com/", DOMAIN),
    case("domain-page", "example.com", "http://example.com/a?b#c", DOMAIN),
    case("domain-www", "example.com", "https://www.example.com/a", DOMAIN),
    case("domain-deep-subdomain", "example.com", "https://a.b.c.example.com/", DOMAIN),
    case("domain-target-www", "www.example.com", "https://blog.example.com/", DOMAIN),
    case("domain-co-uk", "example.co.uk", "https://shop.example.co.uk/", DOMAIN),
    case("domain-unknown-suffix", "mysite.test", "http://blog.mysite.test/", DOMAIN),
    case("domain-unknown-suffix-host", "blog.mysite.test", "http://www.mysite.test/", DOMAIN),
    case("domain-ipv4", "127.0.0.1", "http://127.0.0.1:8080/x", DOMAIN),
    case("domain-ipv4-other-spelling", "127.0.0.1", "http://2130706433/", DOMAIN),
    case("domain-ipv6", "::1", "http://[0::1]/", DOMAIN),
    case("domain-idn", "bücher.de", "https://www.xn--bcher-kva.de/", DOMAIN),
    case("domain-none-other", "example.com", "https://example.org/", None),
    case("domain-none-suffix-sibling", "example.co.uk", "https://co.uk/", None),
    case("domain-none-lookalike", "example.com", "https://example.com.evil.org/", None),
    case("domain-none-suffix-contains", "example.com", "https://myexample.com/", None),
    case("domain-none-other-ip", "127.0.0.1", "http://127.0.0.2/", None),
    case("domain-none-private-sibling", "alice.github.io", "https://bob.github.io/", None),
    case("domain-private-own", "alice.github.io", "https://www.alice.github.io/x", DOMAIN),
]


@pytest.mark.parametrize(("target", "link", "expected"), MATCH_CASES)
def test_match_link(target: str, link: str | None, expected: MatchKind | None) -> None:
    parsed = parse_target(target)
    assert match_link(parsed, link) is expected
    matcher = TargetMatcher(parsed)
    assert matcher.match(link) is expected
    assert matcher.match(link) is expected  # cached answer is the same


@pytest.mark.parametrize(
    ("kind_text", "match", "found"),
    [
        case("url-exact", "https://x.com/a", EXACT, True),
        case("url-equivalent", "https://x.com/a", EQUIVALENT, True),
        case("url-domain", "https://x.com/a", DOMAIN, False),
        case("url-none", "https://x.com/a", None, False),
        case("prefix-exact", "https://x.com/a/*", EXACT, True),
        case("prefix-equivalent", "https://x.com/a/*", EQUIVALENT, True),
        case("prefix-domain", "https://x.com/a/*", DOMAIN, False),
        case("domain-domain", "x.com", DOMAIN, True),
        case("domain-none", "x.com", None, False),
    ],
)
def test_is_found(kind_text: str, match: MatchKind | None, found: bool) -> None:
    assert is_found(parse_target(kind_text), match) is found


def test_matcher_is_found() -> None:
    matcher = TargetMatcher(parse_target("https://x.com/a"))
    assert matcher.is_found("http://www.x.com/a/")
    assert not matcher.is_found("https://x.com/b")
    assert not matcher.is_found(None)
