"""The one sandbox every template is rendered in (drafts, the contract, the digest's text).

Templates are the resident's own files: they run in Jinja's immutable sandbox with strict
undefined names, so a typo is an error naming the variable rather than a blank in a draft.
"""

from __future__ import annotations

import functools
import re

from jinja2 import DictLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

# "an" before a vowel sound: vowels (but not "uni…", "eu…", "one…") and letters spoken
# with a vowel sound when they start an abbreviation ("an MD", "an R2", "an SHO").
_VOWEL = re.compile(r"^(?!uni|use|usu|eu|one\b|once\b)[aeiou]", re.IGNORECASE)
_SILENT_H = re.compile(r"^(hour|honou?r|honest|heir)", re.IGNORECASE)
_LETTER_SOUND = re.compile(r"^[AEFHILMNORSX](?:[A-Z0-9]|-|$)")


def with_article(phrase: str) -> str:
    """'an internal medicine resident', 'a PGY-2 resident', 'an MD candidate'."""
    text = phrase.strip()
    if not text:
        return text
    word = text.split()[0]
    if word[0] == "U" and (len(word) == 1 or not word[1].islower()):
        article = "a"  # "a US-trained", "a UK graduate": the letter U is said "you"
    elif _SILENT_H.match(text):
        article = "an"  # "an honors student", "an hour-long"
    else:
        article = "an" if _VOWEL.match(text) or _LETTER_SOUND.match(text) else "a"
    return f"{article} {text}"


def sandbox(templates: dict[str, str], *, html: bool = False) -> ImmutableSandboxedEnvironment:
    """The environment for this set of templates, compiled once."""
    return _cached(tuple(sorted(templates.items())), html)


@functools.lru_cache(maxsize=16)
def _cached(templates: tuple[tuple[str, str], ...], html: bool) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=DictLoader(dict(templates)),
        undefined=StrictUndefined,
        autoescape=html,
        keep_trailing_newline=True,
    )
    env.filters["with_article"] = with_article
    return env
