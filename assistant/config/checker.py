"""Reading one key of config.toml: its kind, its default, and every problem collected.

`Checker` reads values only through the key table (`keys.py`) and keeps going after a
problem, so the resident sees every mistake at once, each with its key.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from datetime import date, datetime, time
from typing import Any

from assistant.config.keys import NESTED, REQUIRED, TABLES, Key
from assistant.core.durations import parse_duration

_EMAIL = re.compile(r"^[^@\s<>\"(),;:\[\]\\]+@[^@\s<>\"(),;:\[\]\\]+\.[^@\s<>\"(),;:\[\]\\]+$")
_KIND_NAMES = {
    "str": "a string",
    "int": "a whole number",
    "bool": "true or false",
    "number": "a number",
    "date": "a date like 2027-01-05",
    "time": "a time like 16:00",
    "duration": "a duration like 30m, 4h, 14d or 2w",
    "email": "an e-mail address",
    "emails": "a list of e-mail addresses",
    "strings": "a list of strings",
    "argv": 'a command as a list of strings, like ["pass", "show", "mail"]',
    "port": "a port number between 1 and 65535",
    "tables": "a list of tables, like [{ version = 1, review = 2027-07-06 }]",
}


def is_email(text: str) -> bool:
    """A bare address like jsmith@hospital.org (no display name, no spaces, ASCII only)."""
    return address_problem(text) is None


def address_problem(text: str) -> str | None:
    """Why `text` is not an address the assistant can match, or None."""
    stripped = text.strip()
    hidden = [c for c in stripped if unicodedata.category(c) in ("Cf", "Zs", "Cc") and c != " "]
    if hidden:
        return (f"{text!r} contains an invisible character (U+{ord(hidden[0]):04X}, often pasted from a web "
                "page): type the address again")  # fmt: skip
    if not stripped.isascii():
        return f"{text!r} has non-ASCII characters: mentor-assistant matches ASCII addresses only"
    if not _EMAIL.match(stripped):
        return f"{text!r} is not an e-mail address"
    return None


def parse_time(text: str) -> time:
    """ "16:00" as a time; ValueError naming the accepted form otherwise."""
    match = re.match(r"^(\d{1,2}):(\d{2})$", text.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"{text!r} is not a time like 16:00")
    return time(int(match.group(1)), int(match.group(2)))


def convert(kind: str, value: Any) -> Any:
    """The value of one key as its kind, or ValueError saying what is wrong."""
    if kind == "str" and isinstance(value, str):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "port" and isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536:
        return value
    if kind == "date":
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
    if kind == "time" and isinstance(value, str):
        return parse_time(value)
    if kind == "duration" and isinstance(value, str):
        return parse_duration(value)
    if kind == "email" and isinstance(value, str):
        problem = address_problem(value)
        if problem:
            raise ValueError(problem)
        return value.strip()
    if kind in ("emails", "strings"):
        items = [value] if isinstance(value, str) else value
        if isinstance(items, list) and all(isinstance(v, str) for v in items):
            if kind == "emails":
                problems = [p for p in map(address_problem, items) if p]
                if problems:
                    raise ValueError(problems[0])
                return tuple(v.strip() for v in items)
            return tuple(items)
    if kind == "tables" and isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return tuple(value)
    if kind == "argv" and isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise ValueError(f"must be {_KIND_NAMES[kind]}, not {value!r}")


class Checker:
    """Collects every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.problems.append(f"{key}: {message}")

    def _unknown(self, table: dict[str, Any], section: str, prefix: str) -> None:
        allowed = TABLES.get(section) or NESTED[section]
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                self.add(f"{prefix}.{key}", "unknown key" + (f" (did you mean {close[0]!r}?)" if close else ""))

    def table(self, data: dict[str, Any], name: str, *, required: bool) -> dict[str, Any] | None:
        value = data.get(name)
        if value is None:
            if required:
                self.add(f"[{name}]", "this table is required")
            return None
        if not isinstance(value, dict):
            self.add(name, f"must be a table ([{name}])")
            return None
        self._unknown(value, name, name)
        return value

    def array(self, data: dict[str, Any], name: str, parent: str = "") -> list[tuple[str, dict[str, Any]]]:
        """The [[name]] tables as (key prefix, table), each checked for unknown keys."""
        items = data.get(name, [])
        where = f"{parent}.{name}" if parent else name
        if not isinstance(items, list):
            self.add(where, f"must be written as [[{name}]] tables")
            return []
        out = []
        for i, table in enumerate(items):
            prefix = f"{where}[{i}]"
            if not isinstance(table, dict):
                self.add(prefix, "must be a table")
                continue
            self._unknown(table, name, prefix)
            out.append((prefix, table))
        return out

    def get(self, table: dict[str, Any], section: str, key: str, prefix: str | None = None) -> Any:
        """The key's value as its kind; its default when absent; None (and a problem) when wrong."""
        spec: Key = (TABLES.get(section) or NESTED[section])[key]
        where = f"{prefix or section}.{key}"
        if key not in table:
            if spec.default is REQUIRED:
                self.add(where, "is required")
                return None
            return self._default(spec)
        try:
            value = convert(spec.kind, table[key])
        except ValueError as exc:
            self.add(where, str(exc))
            return None if spec.default is REQUIRED else self._default(spec)
        if spec.choices and value not in spec.choices:
            self.add(where, f"must be {' or '.join(spec.choices)}, not {value!r}")
            return self._default(spec)
        return value

    @staticmethod
    def _default(spec: Key) -> Any:
        if spec.default is None or spec.default is REQUIRED:
            return None
        return convert(spec.kind, list(spec.default) if isinstance(spec.default, tuple) else spec.default)
