"""URL normalisation, registrable domains and matching a link to an expected target (DESIGN §5).

Pure functions, no Scrapy: they run per extracted link and per imported row, so the hot ones are
memoised and avoid work on URLs that are already in normal form.

Normalisation (`normalize_url`) — RFC 3986 §6.2.2/§6.2.3 plus the parts of the WHATWG URL
standard that browsers apply to http(s) links, because a link works or not the way a browser
reads it:

- Leading/trailing C0 controls and spaces are stripped, and tab/CR/LF anywhere are removed.
- Only ``http`` and ``https`` are accepted; anything else, or anything unparseable (empty or
  invalid host, non-numeric or out-of-range port, bad IPv6 literal, IPvFuture, IPv6 zone id,
  a host ending in a number that is not a valid IPv4 address), gives ``None``.
- As in browsers, ``\\`` counts as ``/`` before the query, and any number of slashes may follow
  the scheme (``http:/x.com``, ``http:\\\\x.com`` -> ``http://x.com/``).
- Scheme and host are lower-cased; the default port (80/443) and an empty port are dropped;
  a port with leading zeros is written in decimal.
- Host: percent-decoded, then IDN -> punycode with UTS 46 non-transitional processing (what
  browsers do); if IDNA 2008 rejects a label we fall back to Python's IDNA 2003 codec rather
  than fail, and only if both refuse is the URL invalid. One trailing dot is removed. After
  this the host must be a DNS-style name (letters, digits, ``-``, ``_``, non-empty labels) or
  an IP address, or the URL is invalid: WHATWG also lets ``!$&'()*+,;=~`` through, but such
  a host cannot resolve, so it is reported as an invalid URL rather than a DNS error. IPv4
  in any WHATWG spelling (``2130706433``, ``0x7f.1``, ``0177.0.0.1``) becomes dotted decimal;
  IPv6 is written in RFC 5952 compressed form (``[::ffff:7f00:1]``).
- Userinfo is kept (normalised like the path): it is part of the URL, dropping it would change
  what is fetched, and the host is what matters for matching anyway. It takes part in both
  exact and equivalent comparisons.
- Path and query: percent-escapes get upper-case hex; escapes of unreserved characters are
  decoded; reserved characters stay as they are (encoded or not: ``%2F`` is not ``/``);
  anything RFC 3986 does not allow there (space, ``"<>^`{|}``, non-ASCII as UTF-8, a ``%``
  not followed by two hex digits) is percent-encoded. Dot segments are removed after
  decoding, so ``%2E%2E`` is a dot segment too. An empty path becomes ``/``.
- An empty query (a bare trailing ``?``) is kept (RFC 3986 says it is a different URL; the
  equivalence key drops it). The fragment is dropped.
- The result is idempotent: ``normalize_url(normalize_url(u)) == normalize_url(u)``.

Equivalence (`equivalence_key`): the normalised URL without its scheme (http/https ignored),
without one leading ``www.`` label, without one trailing ``/`` of the path, and without the
tracking parameters ``utm_*``, ``gclid``, ``fbclid``, ``mc_cid`` and ``mc_eid`` (names compared
case-insensitively; empty ``&&`` pieces and an empty query are dropped too). The non-default
port is kept, so ``http://x:8080/`` and ``https://x:8080/`` are equivalent but
``http://x:443/`` and ``https://x/`` are not.

Registrable domain (`registrable_domain`, given a host, ``host:port`` or URL): tldextract with
its bundled suffix-list snapshot, never fetched, never cached on disk. Decision: *private*
suffixes of the PSL (github.io, blogspot.com, herokuapp.com...) are included, so
``alice.github.io`` and ``bob.github.io`` are two sites: a link to someone else's blog on the
same hosting service is not a link to "your registered domain" (no false ``target_changed``),
and for pacing (DESIGN §8) each of those independently-run sites gets its own slot, which is how
the hosting services are built to be crawled. A host whose suffix is not on the list counts as
if its last label were a public suffix (``blog.mysite.test`` -> ``mysite.test``,
``intranet.local`` -> ``intranet.local``, ``localhost`` -> ``localhost``). A host that is itself
a public suffix is its own registrable domain. An IP address is its own registrable domain, in
canonical spelling (IPv6 in brackets, as in ``host_of``), so ``2130706433`` and ``127.0.0.1``
share a slot.

Targets (`parse_target`):

- ``https://x.com/page`` -> URL target; ``norm`` is the normalised URL. Text without a scheme
  but with a path, query or fragment (``x.com/page``) or protocol-relative (``//x.com/p``) is
  read as ``https://``; the http form then still matches as equivalent.
- ``https://x.com/blog/*`` -> PREFIX target; ``norm`` is the normalised URL of the text
  before the ``*``. That text must go past the host (``https://x.com/*``, not
  ``https://x.com*``, which could mean ``x.com.evil.org`` or, cut short, a host ``exam``);
  a whole site is a domain target. The prefix is literal after that: ``https://x.com/blog*``
  also matches ``/blog-2``. A ``*`` anywhere else is refused. Consequently a URL target that
  really ends in ``*`` must be written with ``%2A``; it then matches links written that way.
- ``example.com``, ``www.example.com``, ``blog.example.com``, ``bücher.de``, an IP -> DOMAIN
  target. Decision: ``norm`` is the *registrable domain* of the host, so a domain target
  always means "that registered domain or any of its subdomains" (DESIGN §5), whichever
  subdomain was written. With private suffixes included, ``alice.github.io`` still means just
  Alice's site. A port, userinfo or ``*.`` wildcard on a bare domain is refused.

Matching (`match_link`): for URL targets EXACT when the normalised URLs are equal, EQUIVALENT
when the equivalence keys are equal, DOMAIN when the registrable domains are equal. For PREFIX
targets EXACT when the normalised link starts with the normalised prefix, EQUIVALENT when the
link's equivalence key starts with the prefix's equivalence form (or equals it once a trailing
slash is dropped: ``/blog`` matches the prefix ``/blog/*``), DOMAIN as above. For DOMAIN
targets only DOMAIN. `is_found` says which matches make the reason ``found``: EXACT and
EQUIVALENT for URL and PREFIX targets (DESIGN §5 words the prefix rule on the normalised URL
only; we also accept the equivalent form so that an http/www variant of a prefixed link is not
reported as ``target_changed``), DOMAIN for DOMAIN targets.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass

from linkcrawler.enums import MatchKind, TargetKind

__all__ = [
    "Target",
    "TargetMatcher",
    "equivalence_key",
    "host_of",
    "is_found",
    "is_http_url",
    "match_link",
    "normalize_url",
    "parse_target",
    "registrable_domain",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_TRACKING_PARAMS = frozenset({"gclid", "fbclid", "mc_cid", "mc_eid"})

# WHATWG: leading/trailing C0 controls and spaces are stripped; tab/CR/LF anywhere removed.
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# The authority ends at the first of these (WHATWG, special schemes: "\" acts as "/").
_AUTHORITY_END = re.compile(r"[/\\?#]")

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters RFC 3986 allows literally in each component; everything else gets %-encoded.
_SUB_DELIMS = "!$&'()*+,;="
_ALNUM = "A-Za-z0-9"
_PATH_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}|[^" + _ALNUM + r"\-._~!$&'()*+,;=:@/]")
_QUERY_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}|[^" + _ALNUM + r"\-._~!$&'()*+,;=:@/?]")
_USERINFO_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}|[^" + _ALNUM + r"\-._~!$&'()*+,;=:]")
# Hosts are DNS names: letters, digits, "-", "_" (seen in real subdomains) and dots. WHATWG
# would also let "!$&'()*+,;=~" through, but such a host can never resolve, and refusing it
# here makes it an invalid URL instead of a DNS error (and keeps "*" out of domain targets).
_HOST_NAME = re.compile(r"[a-z0-9\-_.]+")
_PORT = re.compile(r"[0-9]*")
_DOT_SEGMENT = re.compile(r"(?:^|/)\.\.?(?:/|$)")

# Memoisation: pages repeat their navigation links and imports repeat targets, so hit rates are
# high with small caches. Very long URLs are not cached, so a few hostile 64 KB links cannot
# pin megabytes (DESIGN's 1M-backlink runs must stay flat in memory).
_CACHE_SIZE = 1 << 14
_MAX_CACHED_LEN = 2048


def is_http_url(url: str | None) -> bool:
    """Whether `url` is a well-formed http(s) URL (one that `normalize_url` accepts)."""
    return url is not None and normalize_url(url) is not None


def normalize_url(url: str) -> str | None:
    """The RFC 3986 normal form of an http(s) URL, or None if it is not a valid http(s) URL."""
    if not isinstance(url, str):
        return None
    if len(url) > _MAX_CACHED_LEN:
        return _normalize(url)
    return _normalize_cached(url)


def _normalize(url: str) -> str | None:
    parts = _split(url)
    if parts is None:
        return None
    scheme, userinfo, host, port, path, query = parts
    out = f"{scheme}://{_authority(userinfo, host, port)}{path}"
    return out if query is None else f"{out}?{query}"


_normalize_cached = functools.lru_cache(maxsize=_CACHE_SIZE)(_normalize)


def _authority(userinfo: str | None, host: str, port: str) -> str:
    authority = host if userinfo is None else f"{userinfo}@{host}"
    return f"{authority}:{port}" if port else authority


def _split(
    url: str,
) -> tuple[str, str | None, str, str, str, str | None] | None:
    """(scheme, userinfo, host, port, path, query) of a normalised URL, or None if invalid."""
    url = url.strip(_C0_AND_SPACE)
    if "\t" in url or "\n" in url or "\r" in url:
        url = _TAB_NEWLINE.sub("", url)
    m = _SCHEME.match(url)
    if m is None:
        return None
    scheme = m.group(1).lower()
    if scheme not in _DEFAULT_PORTS:
        return None
    rest = url[m.end():].lstrip("/\\")
    end = _AUTHORITY_END.search(rest)
    if end is None:
        authority, rest = rest, ""
    else:
        authority, rest = rest[: end.start()], rest[end.start():]

    userinfo: str | None = None
    at = authority.rfind("@")
    if at >= 0:
        userinfo = _normalize_escapes(authority[:at], _USERINFO_ESCAPE)
        authority = authority[at + 1:]

    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            return None
        host_text, port = authority[: close + 1], authority[close + 1:]
        if port and not port.startswith(":"):
            return None
        port = port[1:]
    else:
        colon = authority.rfind(":")
        if colon >= 0:
            host_text, port = authority[:colon], authority[colon + 1:]
        else:
            host_text, port = authority, ""
    if not _PORT.fullmatch(port):
        return None
    if port:
        number = int(port)
        if number > 65535:
            return None
        port = "" if number == _DEFAULT_PORTS[scheme] else str(number)
    # No DNS name is longer than 253 characters; the margin allows for percent-encoding, and
    # the bound keeps hostile 64 KB hosts out of the host cache.
    host = _canonical_host(host_text) if len(host_text) <= _MAX_CACHED_LEN else ""
    if not host:
        return None

    fragment_at = rest.find("#")
    if fragment_at >= 0:
        rest = rest[:fragment_at]
    query: str | None = None
    query_at = rest.find("?")
    if query_at >= 0:
        rest, query = rest[:query_at], _normalize_escapes(rest[query_at + 1:], _QUERY_ESCAPE)
    path = rest.replace("\\", "/") if "\\" in rest else rest
    path = _normalize_escapes(path, _PATH_ESCAPE)
    if "." in path:
        path = _remove_dot_segments(path)
    if not path:
        path = "/"
    return scheme, userinfo, host, port, path, query


def _normalize_escapes(text: str, escape: re.Pattern[str]) -> str:
    """Upper-case escapes, decode escaped unreserved characters, encode disallowed ones."""
    if escape.search(text) is None:  # typical URLs: nothing to rewrite
        return text
    return escape.sub(_escape_one, text)


def _escape_one(m: re.Match[str]) -> str:
    token = m.group()
    if len(token) == 3:  # a well-formed %XX escape
        char = chr(int(token[1:], 16))
        return char if char in _UNRESERVED else token.upper()
    return "".join(f"%{b:02X}" for b in token.encode("utf-8", "surrogatepass"))


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, written over segments (same result, linear time)."""
    if _DOT_SEGMENT.search(path) is None:
        return path
    segments = path.split("/")
    # path starts with "/", so segments[0] == ""; the last segment decides the trailing slash.
    out: list[str] = []
    for i, seg in enumerate(segments[1:], start=1):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if out:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    return "/" + "/".join(out)


@functools.lru_cache(maxsize=1 << 14)
def _canonical_host(text: str) -> str:
    """Lower-case / punycode / canonical IP form of a URL host, or "" if it is not valid."""
    if text.startswith("["):
        return _canonical_ipv6(text)
    if "%" in text:
        decoded = _percent_decode(text)
        if decoded is None:
            return ""
        text = decoded
    if text.isascii():
        host = text.lower()
    else:
        host = _idna_to_ascii(text)
    if host.endswith("."):
        host = host[:-1]
    if not host or not _HOST_NAME.fullmatch(host):
        return ""
    if _ends_in_number(host):
        return _parse_ipv4(host)
    if ".." in host or host.startswith(".") or host.endswith("."):
        return ""  # an empty label: no such host (only one trailing dot is the root label)
    return host


def _percent_decode(text: str) -> str | None:
    raw = bytearray()
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "%" and _is_hex2(text[i + 1: i + 3]):
            raw.append(int(text[i + 1: i + 3], 16))
            i += 3
        else:
            raw += ch.encode("utf-8", "surrogatepass")
            i += 1
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _is_hex2(s: str) -> bool:
    return len(s) == 2 and all(c in "0123456789abcdefABCDEF" for c in s)


def _idna_to_ascii(host: str) -> str:
    """Punycode of a non-ASCII host: UTS 46 / IDNA 2008 first, IDNA 2003 as a fallback."""
    import idna

    try:
        return idna.encode(host, uts46=True, transitional=False).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError, ValueError):
        pass
    try:
        return host.encode("idna").decode("ascii").lower()
    except (UnicodeError, ValueError):
        return ""


def _canonical_ipv6(text: str) -> str:
    if not text.endswith("]"):
        return ""
    inner = text[1:-1]
    if "%" in inner or not inner or inner[0].lower() == "v":
        return ""  # zone ids and IPvFuture are not valid in http URLs (WHATWG)
    try:
        return f"[{ipaddress.IPv6Address(inner).compressed}]"
    except ValueError:
        return ""


_IPV4_PART = {
    10: re.compile(r"[0-9]+"),
    16: re.compile(r"[0-9a-f]*"),
    8: re.compile(r"[0-7]*"),
}


def _ends_in_number(host: str) -> bool:
    last = host.rsplit(".", 1)[-1]
    if last.isdigit() and last.isascii():
        return True
    return last.startswith("0x") and _IPV4_PART[16].fullmatch(last[2:]) is not None


def _parse_ipv4(host: str) -> str:
    """WHATWG IPv4 parser: decimal/octal/hex parts, the last filling the remaining bytes."""
    parts = host.split(".")
    if len(parts) > 4:
        return ""
    numbers: list[int] = []
    for part in parts:
        if not part:
            return ""
        base = 10
        digits = part
        if part.startswith("0x"):
            base, digits = 16, part[2:]
        elif len(part) > 1 and part.startswith("0"):
            base, digits = 8, part[1:]
        if not _IPV4_PART[base].fullmatch(digits):
            return ""
        numbers.append(int(digits, base) if digits else 0)
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        return ""
    value = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        value += n << (8 * (3 - i))
    return str(ipaddress.IPv4Address(value))


def host_of(url: str | None) -> str:
    """The normalised host of an http(s) URL ("" if none or invalid); IPv6 in brackets."""
    if not url:
        return ""
    norm = normalize_url(url)
    return "" if norm is None else _host_of_normalized(norm)


def _host_of_normalized(norm: str) -> str:
    # A normalised URL always has "://", a non-empty host and a path starting with "/", so
    # the host can be cut out without parsing again (this runs for every link matched).
    authority = norm[norm.index("://") + 3: norm.index("/", norm.index("://") + 3)]
    host = authority[authority.rfind("@") + 1:]
    if host.startswith("["):
        return host[: host.index("]") + 1]
    colon = host.find(":")
    return host if colon < 0 else host[:colon]


def equivalence_key(url: str) -> str | None:
    """The normalised URL reduced by DESIGN §5's "equivalent" rule (see the module docstring)."""
    norm = normalize_url(url)
    if norm is None:
        return None
    if len(norm) > _MAX_CACHED_LEN:
        return _equivalence_key_of_normalized(norm)
    return _equivalence_key_cached(norm)


def _equivalence_key_of_normalized(norm: str) -> str:
    parts = _split(norm)
    assert parts is not None  # a normalised URL always splits
    _, userinfo, host, port, path, query = parts
    return _key_of(userinfo, host, port, path, query, strip_slash=True)


def _key_of(
    userinfo: str | None, host: str, port: str, path: str, query: str | None, *, strip_slash: bool
) -> str:
    if host.startswith("www.") and len(host) > 4 and not host.startswith("["):
        host = host[4:]
    if strip_slash and path.endswith("/"):
        path = path[:-1]
    out = f"//{_authority(userinfo, host, port)}{path}"
    if query:
        kept = [p for p in query.split("&") if p and not _is_tracking(p)]
        if kept:
            out += "?" + "&".join(kept)
    return out


_equivalence_key_cached = functools.lru_cache(maxsize=_CACHE_SIZE)(_equivalence_key_of_normalized)


def _is_tracking(param: str) -> bool:
    name = param.split("=", 1)[0].lower()
    return name.startswith("utm_") or name in _TRACKING_PARAMS


@functools.lru_cache(maxsize=1)
def _extractor():  # -> tldextract.TLDExtract
    import tldextract

    # suffix_list_urls=() never fetches; cache_dir=None never reads or writes a disk cache:
    # the bundled snapshot is the only source, so results do not change between machines.
    return tldextract.TLDExtract(
        cache_dir=None,
        suffix_list_urls=(),
        fallback_to_snapshot=True,
        include_psl_private_domains=True,
    )


def registrable_domain(host_or_url: str) -> str:
    """The registrable domain of a host, a ``host:port`` or a URL (see the module docstring).

    "" when there is no valid host.
    """
    if not host_or_url or not isinstance(host_or_url, str):
        return ""
    text = host_or_url.strip(_C0_AND_SPACE)
    head = text[:6].lower()
    if "/" in text or "\\" in text or head.startswith(("http:", "https:")):
        host = host_of(text)
    else:
        host = _host_from_bare(text)
    return _registrable_domain_of_host(host) if host else ""


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _registrable_domain_of_host(host: str) -> str:
    if host.startswith("[") or _is_ipv4(host):
        return host
    result = _extractor().extract_str(host)
    if not result.suffix:
        labels = host.split(".")
        return ".".join(labels[-2:])
    if not result.domain:
        return host  # the host is itself a public suffix
    return f"{result.domain}.{result.suffix}"


def _host_from_bare(text: str) -> str:
    """Canonical host of a bare host name or IP literal (IPv6 with or without brackets)."""
    if len(text) > _MAX_CACHED_LEN:
        return ""  # no DNS name is that long; keeps junk out of the host cache
    if ":" in text and not text.startswith("["):
        name, _, port = text.rpartition(":")
        if port.isdigit() and port.isascii() and ":" not in name:
            return _canonical_host(name)  # a "host:port" netloc: the port does not matter here
        return _canonical_ipv6(f"[{text}]")  # a bare IPv6 address, or nothing valid
    if text.startswith("[") and "]:" in text:
        address, _, port = text.rpartition(":")
        return _canonical_ipv6(address) if port.isdigit() and port.isascii() else ""
    return _canonical_host(text)


def _is_ipv4(host: str) -> bool:
    return host[-1:].isdigit() and _ends_in_number(host)


@dataclass(frozen=True, slots=True)
class Target:
    """An expected link target as imported: a URL, a URL prefix (ends in "*"), or a domain."""

    raw: str
    kind: TargetKind
    norm: str  # normalised URL / normalised prefix without "*" / registrable domain

    @property
    def key(self) -> str:
        """Stable identity for de-duplicating targets: equal keys mean the same target."""
        return f"{self.kind.value}:{self.norm}"


def parse_target(text: str) -> Target:
    """Parse an imported target; raises ValueError with a message fit for the user."""
    if not isinstance(text, str):
        raise ValueError(f"target must be text, not {type(text).__name__}")
    raw = text
    text = _TAB_NEWLINE.sub("", text.strip(_C0_AND_SPACE))
    if not text:
        raise ValueError("empty target")
    has_scheme = "://" in text or text.startswith("//")
    if text.endswith("*"):
        body = text[:-1]
        if "*" in body:
            raise ValueError(
                f"target {raw!r}: '*' is only allowed once, at the end of a URL prefix"
            )
        url = _with_scheme(body)
        norm = normalize_url(url)
        if norm is None:
            raise ValueError(f"target {raw!r}: the prefix before '*' is not a valid http(s) URL")
        if not _prefix_reaches_path(url):
            raise ValueError(
                f"target {raw!r}: a URL prefix must go past the host, as in "
                "https://example.com/blog/*; for a whole site give the bare domain"
            )
        return Target(raw=raw, kind=TargetKind.PREFIX, norm=norm)
    if "*" in text and not has_scheme and "/" not in text:
        raise ValueError(
            f"target {raw!r}: wildcards are not needed on a domain: a bare domain already covers "
            "its subdomains"
        )
    if has_scheme or any(c in text for c in "/?#"):
        norm = normalize_url(_with_scheme(text))
        if norm is None:
            raise ValueError(f"target {raw!r} is not a valid http(s) URL")
        return Target(raw=raw, kind=TargetKind.URL, norm=norm)
    if "@" in text:
        raise ValueError(f"target {raw!r}: a domain target cannot contain '@'")
    if ":" in text and not (text.startswith("[") and text.endswith("]")):
        try:
            ipaddress.IPv6Address(text)
        except ValueError:
            raise ValueError(
                f"target {raw!r}: a domain target cannot have a port or scheme; "
                "give a URL (https://...) instead"
            ) from None
    host = _host_from_bare(text)
    if not host:
        raise ValueError(f"target {raw!r} is not a valid domain name or IP address")
    return Target(raw=raw, kind=TargetKind.DOMAIN, norm=registrable_domain(host))


def _with_scheme(text: str) -> str:
    if "://" in text:
        return text
    return "https:" + text if text.startswith("//") else "https://" + text


def _prefix_reaches_path(url: str) -> bool:
    """Whether the text before "*" goes past the host: "https://exam*" must not silently
    become the prefix "https://exam/" (host "exam")."""
    m = _SCHEME.match(url)
    rest = url[m.end():].lstrip("/\\") if m else url
    return _AUTHORITY_END.search(rest) is not None


def match_link(target: Target, link_url: str | None) -> MatchKind | None:
    """How `link_url` matches `target` (see the module docstring); None if it does not."""
    return _compile(target).match(link_url)


@dataclass(frozen=True, slots=True)
class _CompiledTarget:
    """What matching needs from a target, computed once: its keys and registrable domain."""

    kind: TargetKind
    norm: str
    key: str  # equivalence key (URL) or equivalence form as written (PREFIX); "" for DOMAIN
    key_stripped: str  # PREFIX: the form without a trailing slash; else ""
    domain: str

    def match(self, link_url: str | None) -> MatchKind | None:
        if not link_url:
            return None
        norm = normalize_url(link_url)
        if norm is None:
            return None
        kind = self.kind
        if kind is TargetKind.URL:
            if norm == self.norm:
                return MatchKind.EXACT
            if equivalence_key(norm) == self.key:
                return MatchKind.EQUIVALENT
        elif kind is TargetKind.PREFIX:
            if norm.startswith(self.norm):
                return MatchKind.EXACT
            key = equivalence_key(norm)
            if key is not None and (key.startswith(self.key) or key == self.key_stripped):
                return MatchKind.EQUIVALENT
        if self.domain and _registrable_domain_of_host(_host_of_normalized(norm)) == self.domain:
            return MatchKind.DOMAIN
        return None


@functools.lru_cache(maxsize=1 << 12)
def _compile(target: Target) -> _CompiledTarget:
    if target.kind is TargetKind.DOMAIN:
        return _CompiledTarget(target.kind, target.norm, "", "", target.norm)
    domain = registrable_domain(target.norm)
    if target.kind is TargetKind.URL:
        key = equivalence_key(target.norm) or ""
        return _CompiledTarget(target.kind, target.norm, key, "", domain)
    # The prefix keeps its trailing slash (".../blog/*" must not match "/blogroll"), but a link
    # to ".../blog" itself is the prefix's own page and matches as equivalent.
    parts = _split(target.norm)
    assert parts is not None, target  # parse_target only builds targets from normalised URLs
    _, userinfo, host, port, path, query = parts
    as_written = _key_of(userinfo, host, port, path, query, strip_slash=False)
    if query == "":
        as_written += "?"  # ".../page?*": a query must follow
    stripped = _key_of(userinfo, host, port, path, query, strip_slash=True)
    return _CompiledTarget(target.kind, target.norm, as_written, stripped, domain)


def is_found(target: Target, match: MatchKind | None) -> bool:
    """Whether a link matching `target` this way is "a link to the expected target" (found)."""
    if match is None:
        return False
    if target.kind is TargetKind.DOMAIN:
        return True
    return match is not MatchKind.DOMAIN


class TargetMatcher:
    """Matches many links against one target, caching per link URL (built once per target)."""

    __slots__ = ("target", "_compiled", "_cache")

    _MAX_CACHED = 4096  # a page rarely has more distinct links; bounded for long-lived matchers

    def __init__(self, target: Target) -> None:
        self.target = target
        self._compiled = _compile(target)
        self._cache: dict[str, MatchKind | None] = {}

    def match(self, link_url: str | None) -> MatchKind | None:
        if not link_url:
            return None
        try:
            return self._cache[link_url]
        except KeyError:
            pass
        result = self._compiled.match(link_url)
        if len(self._cache) >= self._MAX_CACHED:
            self._cache.clear()
        self._cache[link_url] = result
        return result

    def is_found(self, link_url: str | None) -> bool:
        """Whether `link_url` is a link to the expected target (reason ``found``)."""
        return is_found(self.target, self.match(link_url))
