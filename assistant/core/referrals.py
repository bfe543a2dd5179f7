"""Whom a mentor's reply suggests: addresses written in the reply's own text.

Not in the quoted original, not in the signature (both stripped by mail-parser-reply),
never the mentor's or the resident's own addresses. A "Dr. Name" next to an address is
kept as the suggested person's name.
"""

from __future__ import annotations

import functools
import re

from mailparser_reply import EmailReplyParser

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_NAME_BEFORE = re.compile(r"((?:Dr|Prof|Professor)\.?\s+[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2})\W{0,6}$")
_NAME_AFTER = re.compile(r"^\W{0,6}((?:Dr|Prof|Professor)\.?\s+[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2})")
_ATTRIBUTION = re.compile(r"^\s*(On .{0,200} wrote:|-----Original Message-----|From: .+)$", re.MULTILINE)


MAX_TEXT = 20_000  # a reply's own words come first; the parser's regexes are slow on megabytes


@functools.lru_cache(maxsize=64)  # asked of the same message several times a cycle, and every cycle
def own_text(text: str) -> str:
    """The reply without the quoted original and the signature."""
    text = "\n".join(line[:1000] for line in text[:MAX_TEXT].splitlines())
    try:
        replies = EmailReplyParser(languages=["en", "de", "fr", "es"]).read(text=text).replies
        body = replies[0].body if replies else text
    except Exception:  # the parser's failures are not enumerable; fall back to the raw text
        body = text
    # Clients that quote on top leave the quote in front: keep only unquoted lines.
    lines = [line for line in body.splitlines() if not line.lstrip().startswith(">")]
    return _ATTRIBUTION.sub("", "\n".join(lines))


def suggestions(text: str, *, exclude: frozenset[str]) -> list[tuple[str, str]]:
    """(address, name) of each person the reply suggests, in order, without duplicates."""
    body = own_text(text)
    found: dict[str, str] = {}
    for match in _EMAIL.finditer(body):
        address = match.group(0).rstrip(".").lower()
        if address in exclude or address in found:
            continue
        before = _NAME_BEFORE.search(body[max(0, match.start() - 60) : match.start()])
        after = _NAME_AFTER.search(body[match.end() : match.end() + 60])
        name = (before or after).group(1) if (before or after) else ""  # type: ignore[union-attr]
        found[address] = name
    return list(found.items())
