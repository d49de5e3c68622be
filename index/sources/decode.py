"""Bytes to text for Chinese articles in any common encoding: UTF-8, UTF-16 (with a byte-order
mark), GB2312/GBK/GB18030 and Big5.

A declared encoding (the HTTP header, the page's <meta charset>) is trusted when the bytes decode
with it; otherwise UTF-8 is tried, then charset-normalizer detects among the Chinese encodings.
Declared legacy encodings are read with their supersets (GB18030 for GB2312/GBK, Big5-HKSCS for
Big5), since pages labelled with the older name routinely use the newer characters.
"""
from __future__ import annotations

import codecs
import re

SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "x-gbk": "gb18030",
             "big5": "big5hkscs", "cp950": "big5hkscs", "x-x-big5": "big5hkscs"}
CANDIDATES = ["utf_8", "gb18030", "big5hkscs"]
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


class DecodeError(ValueError):
    """The bytes are not text in any encoding tried."""


def decode(raw: bytes, declared: str | None = None, html: bool = False) -> str:
    """`raw` as text. `declared`: the encoding the sender named (an HTTP header's charset);
    `html`: also look for a <meta charset> in the page's head."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            return raw.decode(codec, errors="replace")
    if b"\x00" in raw[:8192]:
        raise DecodeError("binary data, not text")
    if html and not declared:
        found = _META_CHARSET.search(raw[:8192])
        declared = found.group(1).decode("ascii") if found else None
    for codec in filter(None, [_codec(declared), "utf-8"]):
        try:
            return raw.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    import charset_normalizer   # only for text that is not UTF-8 and names no encoding
    best = charset_normalizer.from_bytes(raw, cp_isolation=CANDIDATES).best()
    if best is None:
        raise DecodeError("not text in UTF-8, GB18030 or Big5")
    return str(best)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return SUPERSETS.get(name, name)
