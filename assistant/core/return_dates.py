"""When an out-of-office reply says its author is back.

"back on December 3", "returning 12/03", "out until 5 May", "until Monday",
"traveling July 10-31", "bis zum 3. Dezember". Dates without a year are the next
occurrence on or after the reply; anything more than a year out is not believed.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_MONTHS = {
    "jan": 1, "january": 1, "januar": 1, "janvier": 1, "enero": 1,
    "feb": 2, "february": 2, "februar": 2, "février": 2, "fevrier": 2, "febrero": 2,
    "mar": 3, "march": 3, "märz": 3, "maerz": 3, "mars": 3, "marzo": 3,
    "apr": 4, "april": 4, "avril": 4, "abril": 4,
    "may": 5, "mai": 5, "mayo": 5,
    "jun": 6, "june": 6, "juni": 6, "juin": 6, "junio": 6,
    "jul": 7, "july": 7, "juli": 7, "juillet": 7, "julio": 7,
    "aug": 8, "august": 8, "août": 8, "aout": 8, "agosto": 8,
    "sep": 9, "sept": 9, "september": 9, "septembre": 9, "septiembre": 9,
    "oct": 10, "october": 10, "oktober": 10, "octobre": 10, "octubre": 10,
    "nov": 11, "november": 11, "novembre": 11, "noviembre": 11,
    "dec": 12, "december": 12, "dezember": 12, "décembre": 12, "decembre": 12, "diciembre": 12,
}  # fmt: skip
_WEEKDAYS = {
    "monday": 0, "mon": 0, "montag": 0, "lundi": 0, "lunes": 0,
    "tuesday": 1, "tue": 1, "tues": 1, "dienstag": 1, "mardi": 1, "martes": 1,
    "wednesday": 2, "wed": 2, "mittwoch": 2, "mercredi": 2, "miércoles": 2,
    "thursday": 3, "thu": 3, "thurs": 3, "donnerstag": 3, "jeudi": 3, "jueves": 3,
    "friday": 4, "fri": 4, "freitag": 4, "vendredi": 4, "viernes": 4,
    "saturday": 5, "samstag": 5, "samedi": 5, "sábado": 5,
    "sunday": 6, "sonntag": 6, "dimanche": 6, "domingo": 6,
}  # fmt: skip
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = "(" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + ")"
_DAY = r"(\d{1,2})(?:st|nd|rd|th|\.)?"
_YEAR = r"(?:,?\s*(\d{4}))?"
_TRIGGER = (
    r"(?:until|till|til|through|thru|returning(?: to the office)?(?: on)?|return(?:ing)? on"
    r"|back (?:on|in the office on)?|back|out until|away until"
    r"|bis (?:zum|einschließlich|einschliesslich)?|ab dem|ab"
    r"|jusqu'au|jusqu’au|de retour le|hasta el|hasta|regreso el)"
)
_PATTERNS = [
    # "December 3", "Dec. 3rd, 2026", "July 10-31"
    ("md", re.compile(rf"\b{_MONTH}\s+{_DAY}(?:\s*[-–]\s*{_DAY})?{_YEAR}", re.IGNORECASE)),
    # "5 May", "3rd of December", "3. Dezember 2026", "10-31 July"
    ("dm", re.compile(rf"\b{_DAY}(?:\s*[-–]\s*{_DAY})?\s+(?:of\s+)?{_MONTH}{_YEAR}", re.IGNORECASE)),
    # ISO 2026-12-03
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
    # "12/03" or "12/03/2026" (month first, as written in the US)
    ("us", re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b")),
    # "3.12." or "03.12.2026" (day first)
    ("eu", re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{2,4})?")),
    ("weekday", re.compile(rf"\b{_WEEKDAY}\b", re.IGNORECASE)),
    ("tomorrow", re.compile(r"\b(tomorrow|morgen|demain|mañana)\b", re.IGNORECASE)),
]
_NEAR = re.compile(_TRIGGER + r"\W{1,3}(?:the\s+|le\s+|el\s+|der\s+|den\s+)?", re.IGNORECASE)


def return_date(text: str, *, sent_on: date) -> date | None:
    """The first return date stated after a trigger word ("until", "back", …), or None."""
    text = " ".join(text[:4000].split())
    for trigger in _NEAR.finditer(text):
        window = text[trigger.end() : trigger.end() + 40]
        found = _date_at_start(window, sent_on)
        if found is not None:
            return found
    # A bare range ("on July 10-31") says when the absence ends even without a trigger.
    for kind, pattern in _PATTERNS[:2]:
        for match in pattern.finditer(text):
            if _range_end(kind, match) is not None:
                return _plausible(_build(kind, match, sent_on), sent_on)
    return None


def _date_at_start(window: str, sent_on: date) -> date | None:
    for kind, pattern in _PATTERNS:
        match = pattern.match(window)
        if match:
            if kind == "weekday":  # "Monday, December 7" says more than "Monday"
                rest = window[match.end() :].lstrip(" ,")
                fuller = _date_at_start(rest, sent_on) if rest[:1].isalnum() else None
                if fuller is not None:
                    return fuller
            return _plausible(_build(kind, match, sent_on), sent_on)
    return None


def _range_end(kind: str, match: re.Match[str]) -> str | None:
    return match.group(3) if kind == "md" else match.group(2) if kind == "dm" else None


def _build(kind: str, match: re.Match[str], sent_on: date) -> date | None:
    try:
        if kind == "md":
            month = _MONTHS[match.group(1).lower().rstrip(".")]
            day = int(match.group(3) or match.group(2))
            return _with_year(month, day, match.group(4), sent_on)
        if kind == "dm":
            month = _MONTHS[match.group(3).lower().rstrip(".")]
            day = int(match.group(2) or match.group(1))
            return _with_year(month, day, match.group(4), sent_on)
        if kind == "iso":
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if kind == "us":
            return _with_year(int(match.group(1)), int(match.group(2)), match.group(3), sent_on)
        if kind == "eu":
            return _with_year(int(match.group(2)), int(match.group(1)), match.group(3), sent_on)
        if kind == "weekday":
            target = _WEEKDAYS[match.group(1).lower()]
            ahead = (target - sent_on.weekday()) % 7 or 7
            return sent_on + timedelta(days=ahead)
        if kind == "tomorrow":
            return sent_on + timedelta(days=1)
    except (ValueError, KeyError):
        return None
    return None


def _with_year(month: int, day: int, year: str | None, sent_on: date) -> date:
    if year:
        full = int(year) + (2000 if len(year) == 2 else 0)
        return date(full, month, day)
    candidate = date(sent_on.year, month, day)
    if candidate < sent_on:
        candidate = date(sent_on.year + 1, month, day)
    return candidate


def _plausible(found: date | None, sent_on: date) -> date | None:
    if found is None or not sent_on <= found <= sent_on + timedelta(days=366):
        return None
    return found
