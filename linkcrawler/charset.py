"""Choosing the character encoding of an HTML body: a pure function of (bytes, Content-Type).

Precedence, first match wins:

1. A byte-order mark (UTF-8, UTF-16LE, UTF-16BE). Browsers let it override everything.
2. UTF-16 without a BOM, recognised by NUL bytes in every other position of the first 4 KiB.
   It goes before the labels because a UTF-16 body is often labelled UTF-8 by the server, and a
   `<meta charset>` inside it is unreadable to an ASCII prescan anyway.
3. The declared labels, in order: the Content-Type `charset` parameter, then a `<meta charset>` /
   `<meta http-equiv=Content-Type content="...charset=...">` in the first 16 KiB (comments skipped;
   the HTML spec says 1024 bytes, real pages put the meta after long inline scripts). A label is
   only taken when the bytes do not contradict it (mislabelled pages are common and users want the
   anchor text right rather than the mojibake a browser would show):
   - a multi-byte label (UTF-8, Shift_JIS, GBK, ...) is contradicted when more than 2 % of the
     non-ASCII bytes (and more than one sequence) fail to decode; a stray byte or a sequence cut
     off at the end of a truncated body is tolerated;
   - a single-byte label (ISO-8859-1, windows-1252, ...) is contradicted when the body is valid
     UTF-8 containing non-ASCII characters (the classic "server says latin-1, page is UTF-8").
   A contradicted label falls through to the next one. `<meta>` labels UTF-16/UTF-32 mean UTF-8
   (HTML spec: a document that could be read as ASCII is not UTF-16).
4. Detection: valid (or almost valid) UTF-8, else charset-normalizer on the first 256 KiB, else
   windows-1252, which decodes any byte sequence (the HTML spec's default for unlabelled pages).

Labels are mapped the WHATWG way (ISO-8859-1 and ASCII mean windows-1252, GB2312 means GB18030,
Shift_JIS means windows-31J, ...). Labels of encodings outside the WHATWG Encoding Standard
(UTF-7, UTF-32, Python-only codecs such as rot13 or base64) are ignored: they are either unsafe or
not text encodings. Nothing here raises.
"""

from __future__ import annotations

import codecs
import enum
import re
from dataclasses import dataclass


class CharsetSource(enum.StrEnum):
    BOM = "bom"
    UTF16_PATTERN = "utf-16 pattern"
    HEADER = "content-type"
    META = "meta"
    DETECTED = "detected"
    DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class CharsetChoice:
    name: str  # WHATWG-style name for reporting, e.g. "utf-8", "windows-1252", "shift_jis"
    codec: str  # Python codec that decodes it
    source: CharsetSource
    bom_length: int = 0  # bytes to skip before decoding


# WHATWG labels whose meaning differs from Python's codec of the same name.
_LABEL_TO_CODEC: dict[str, str] = {
    **dict.fromkeys(
        (
            "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "ascii",
            "us-ascii", "ansi_x3.4-1968", "cp819", "ibm819", "iso-ir-100", "csisolatin1",
            "x-cp1252", "windows-1252", "cp1252",
        ),
        "cp1252",
    ),
    **dict.fromkeys(("iso-8859-9", "iso8859-9", "latin5", "l5", "windows-1254"), "cp1254"),
    **dict.fromkeys(("iso-8859-11", "tis-620", "windows-874", "dos-874"), "cp874"),
    **dict.fromkeys(
        ("gb2312", "gbk", "x-gbk", "chinese", "csgb2312", "iso-ir-58", "gb_2312-80", "gb18030"),
        "gb18030",
    ),
    **dict.fromkeys(
        ("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "ms932", "windows-31j",
         "csshiftjis"),
        "cp932",
    ),
    **dict.fromkeys(("euc-kr", "ks_c_5601-1987", "windows-949", "korean", "cseuckr"), "cp949"),
    **dict.fromkeys(("big5", "big5-hkscs", "x-x-big5", "cn-big5", "csbig5"), "big5hkscs"),
    **dict.fromkeys(("utf-16", "utf-16le", "utf16"), "utf-16-le"),
    "utf-16be": "utf-16-be",
    **dict.fromkeys(("utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"),
                    "utf-8"),
    "x-mac-cyrillic": "mac-cyrillic",
    "x-mac-roman": "mac-roman",
    "macintosh": "mac-roman",
}

# Python codec name -> the name we report. Only these codecs are accepted (WHATWG's set).
_REPORTED_NAME: dict[str, str] = {
    "utf-8": "utf-8",
    "utf-16-le": "utf-16le",
    "utf-16-be": "utf-16be",
    "cp1252": "windows-1252",
    "cp1250": "windows-1250",
    "cp1251": "windows-1251",
    "cp1253": "windows-1253",
    "cp1254": "windows-1254",
    "cp1255": "windows-1255",
    "cp1256": "windows-1256",
    "cp1257": "windows-1257",
    "cp1258": "windows-1258",
    "cp874": "windows-874",
    "cp866": "ibm866",
    "koi8-r": "koi8-r",
    "koi8-u": "koi8-u",
    "mac-roman": "macintosh",
    "mac-cyrillic": "x-mac-cyrillic",
    "gb18030": "gb18030",
    "cp932": "shift_jis",
    "euc_jp": "euc-jp",
    "iso2022_jp": "iso-2022-jp",
    "cp949": "euc-kr",
    "big5hkscs": "big5",
    **{f"iso8859-{n}": f"iso-8859-{n}" for n in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)},
}

_SINGLE_BYTE = frozenset(
    codec for codec in _REPORTED_NAME
    if codec.startswith(("cp12", "iso8859", "koi8", "mac-")) or codec in ("cp874", "cp866")
)

_UTF8 = CharsetChoice("utf-8", "utf-8", CharsetSource.DETECTED)
_DEFAULT = CharsetChoice("windows-1252", "cp1252", CharsetSource.DEFAULT)

_PRESCAN_BYTES = 16 * 1024
_DETECT_BYTES = 256 * 1024
_COMMENT = re.compile(rb"<!--.*?(?:-->|\Z)", re.S)
_META_TAG = re.compile(rb"<meta[\s/][^>]*>", re.I)
_META_CHARSET = re.compile(rb"""charset\s*=\s*["']?\s*([^\s"';>/]+)""", re.I)
_CT_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^\s"';,]+)""", re.I)
_ASCII = bytes(range(128))


def codec_for_label(label: str) -> str | None:
    """Python codec for a WHATWG encoding label, or None when unknown or not allowed."""
    key = label.strip().strip("\"'").lower()
    if not key:
        return None
    codec = _LABEL_TO_CODEC.get(key)
    if codec is None:
        try:
            codec = codecs.lookup(key).name
        except (LookupError, ValueError):
            return None
    return codec if codec in _REPORTED_NAME else None


def charset_from_content_type(content_type: str) -> str | None:
    match = _CT_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def charset_from_meta(data: bytes) -> str | None:
    """The label of the first charset-declaring <meta> in the first 16 KiB, comments skipped."""
    head = _COMMENT.sub(b"", data[:_PRESCAN_BYTES])
    for tag in _META_TAG.finditer(head):
        text = tag.group(0)
        lowered = text.lower()
        # <meta charset=x>, or <meta http-equiv=content-type content="text/html; charset=x">
        if b"charset" not in lowered:
            continue
        if b"content=" in lowered and b"http-equiv" not in lowered and b" charset=" not in lowered:
            continue
        match = _META_CHARSET.search(text)
        if match:
            return match.group(1).decode("ascii", "replace")
    return None


def _bom(data: bytes) -> CharsetChoice | None:
    if data.startswith(codecs.BOM_UTF8):
        return CharsetChoice("utf-8", "utf-8", CharsetSource.BOM, 3)
    if data.startswith(codecs.BOM_UTF16_BE):
        return CharsetChoice("utf-16be", "utf-16-be", CharsetSource.BOM, 2)
    if data.startswith(codecs.BOM_UTF16_LE):
        return CharsetChoice("utf-16le", "utf-16-le", CharsetSource.BOM, 2)
    return None


def _utf16_pattern(data: bytes) -> CharsetChoice | None:
    """ASCII-range text in UTF-16 has a NUL in every other byte; binary junk does not."""
    sample = data[:4096]
    if len(sample) < 16:
        return None
    half = len(sample) // 2
    even_nul = sample[0::2].count(0) / half
    odd_nul = sample[1::2].count(0) / half
    if odd_nul >= 0.4 and even_nul <= 0.05:
        return CharsetChoice("utf-16le", "utf-16-le", CharsetSource.UTF16_PATTERN)
    if even_nul >= 0.4 and odd_nul <= 0.05:
        return CharsetChoice("utf-16be", "utf-16-be", CharsetSource.UTF16_PATTERN)
    return None


def _non_ascii_count(data: bytes) -> int:
    return len(data) - len(data.translate(None, _ASCII))


def _bad_sequences(data: bytes, codec: str) -> int:
    """How many sequences fail to decode, ignoring one incomplete sequence at the very end."""
    if codec == "utf-8":
        # the usual case, valid UTF-8, without the incremental decoder's copy and the counts
        # (a U+FFFD in valid UTF-8 was written in the page itself)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return 0
    decoder = codecs.getincrementaldecoder(codec)("replace")
    text = decoder.decode(data, final=False)
    bad = text.count("\ufffd")
    if codec == "utf-8":
        bad -= data.count(b"\xef\xbf\xbd")  # U+FFFD written in the page itself
    return max(bad, 0)


def _is_non_ascii_utf8(data: bytes) -> bool:
    """Valid UTF-8 (a sequence cut off at the very end allowed) with a non-ASCII character."""
    try:
        return not data.decode("utf-8").isascii()  # the usual case, without a copy
    except UnicodeDecodeError:
        pass
    try:
        text = codecs.getincrementaldecoder("utf-8")("strict").decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return not text.isascii()


def _consistent(data: bytes, codec: str, non_ascii: int) -> bool:
    if codec in _SINGLE_BYTE:
        return not (non_ascii and _is_non_ascii_utf8(data))
    if not non_ascii:
        return True
    bad = _bad_sequences(data, codec)
    return bad <= 1 or bad * 50 <= non_ascii


def _detect(data: bytes, non_ascii: int) -> CharsetChoice:
    if not non_ascii or _consistent(data, "utf-8", non_ascii):
        return _UTF8
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:_DETECT_BYTES]).best()
    except Exception:  # noqa: BLE001 - a detector bug must not cost us the page
        best = None
    codec = codec_for_label(best.encoding) if best is not None else None
    if codec is None:
        return _DEFAULT
    return CharsetChoice(_REPORTED_NAME[codec], codec, CharsetSource.DETECTED)


def choose_charset(data: bytes, content_type: str = "") -> CharsetChoice:
    """The encoding to decode `data` with, following the precedence in the module docstring."""
    found = _bom(data) or _utf16_pattern(data)
    if found is not None:
        return found
    non_ascii = _non_ascii_count(data[:_DETECT_BYTES])
    sample = data[:_DETECT_BYTES]
    declared: list[tuple[str, CharsetSource]] = []
    header_label = charset_from_content_type(content_type)
    if header_label:
        codec = codec_for_label(header_label)
        # a UTF-16 body would have shown the NUL pattern above: this label is wrong
        if codec and not codec.startswith("utf-16"):
            declared.append((codec, CharsetSource.HEADER))
    meta_label = charset_from_meta(data)
    if meta_label:
        codec = codec_for_label(meta_label)
        if codec and codec.startswith("utf-16"):
            codec = "utf-8"
        if codec:
            declared.append((codec, CharsetSource.META))
    for codec, source in declared:
        if _consistent(sample, codec, non_ascii):
            return CharsetChoice(_REPORTED_NAME[codec], codec, source)
    return _detect(sample, non_ascii)


def decode_html(data: bytes, content_type: str = "") -> tuple[str, CharsetChoice]:
    """Decode an HTML body; undecodable bytes become U+FFFD. Never raises."""
    choice = choose_charset(data, content_type)
    try:
        text = codecs.decode(data[choice.bom_length :], choice.codec, "replace")
    except (LookupError, ValueError):
        choice = _DEFAULT
        text = data.decode("cp1252", "replace")
    return text, choice


def html_to_utf8(data: bytes, content_type: str = "") -> tuple[bytes, CharsetChoice]:
    """The body as UTF-8 for libxml2, and the charset it was read with. Never raises.

    A UTF-8 body is returned as it is (without its BOM): libxml2 replaces invalid sequences
    and NULs itself, so decoding it here would only cost time and a copy of a huge page.
    """
    choice = choose_charset(data, content_type)
    if choice.codec == "utf-8":
        return data[choice.bom_length :], choice
    text, choice = decode_html(data, content_type)
    return text.encode("utf-8", "replace"), choice
