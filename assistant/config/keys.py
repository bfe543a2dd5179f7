"""Every key of config.toml, once: its table, its kind, its default.

The validator reads values only through this table, so a key added here is known to the
unknown-key check, has its default and is converted to its type without being spelled
out anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REQUIRED: Any = object()


@dataclass(frozen=True)
class Key:
    """One key: its kind (how the value is checked and converted) and its default."""

    kind: str  # str | int | bool | number | date | time | duration | email | emails | strings | argv | port | tables
    default: Any = None
    choices: tuple[str, ...] = ()


def _secret_keys() -> dict[str, Key]:
    return {
        "password": Key("str"),
        "password_command": Key("argv"),
        "password_env": Key("str"),
        "keyring": Key("bool", False),
        "auth": Key("str", "password", ("password", "xoauth2")),
        "token_command": Key("argv"),
        "ca_file": Key("str"),
    }


# The tables; `[[mentors]]`, `[[goals]]` and `[[contracts]]` are arrays of tables.
TABLES: dict[str, dict[str, Key]] = {
    "me": {
        "name": Key("str", REQUIRED),
        "email": Key("email", REQUIRED),
        "role": Key("str", ""),
        "aliases": Key("emails", ()),
        "timezone": Key("str"),
    },
    "mail": {
        "host": Key("str", REQUIRED),
        "port": Key("port"),
        "security": Key("str", "tls", ("tls", "starttls", "plain")),
        "username": Key("str", REQUIRED),
        **_secret_keys(),
        "sent_folder": Key("str"),
        "drafts_folder": Key("str"),
        "trash_folder": Key("str"),
        "watch": Key("strings", ("INBOX",)),
        "idle": Key("bool", True),
        "poll_interval": Key("duration", "5m"),
    },
    "smtp": {
        "host": Key("str", REQUIRED),
        "port": Key("port"),
        "security": Key("str", "starttls", ("tls", "starttls", "plain")),
        "username": Key("str", REQUIRED),
        **_secret_keys(),
        "digest": Key("str", "off"),
    },
    "calendar": {
        "url": Key("str", REQUIRED),
        "calendar": Key("str", "Mentorship"),
        "username": Key("str", REQUIRED),
        **_secret_keys(),
    },
    "state": {"path": Key("str")},
    "followup": {
        "wait": Key("duration", "14d"),
        "rounds": Key("int", 2),
        "closing_note": Key("bool", True),
        "business_days": Key("bool", False),
    },
    "tracking": {
        "bcc": Key("email"),
        "keyword": Key("str", "$MentorRequest"),
        "since": Key("date"),
    },
    "padding": {
        "factor": Key("number", 1.5),
        "round_to": Key("str", "week", ("day", "week")),
        "workdays_only": Key("bool", True),
    },
    "templates": {"path": Key("str")},
    "mentors": {
        "name": Key("str", REQUIRED),
        "email": Key("emails", REQUIRED),
        "area": Key("str", ""),
        "project": Key("str", ""),
        "title": Key("str", ""),
        "source": Key("str", ""),
        "recommended_by": Key("str", ""),
        "publications": Key("strings", ()),
    },
    "contract": {
        "mentor": Key("email", REQUIRED),
        "start": Key("date", REQUIRED),
        "every": Key("duration", "4w"),
        "weekday": Key("str", "tuesday"),
        "time": Key("time", "16:00"),
        "duration": Key("duration", "30m"),
        "location": Key("str", ""),
        "review": Key("date", REQUIRED),
        "my_goals": Key("strings", ()),
        "my_expectations": Key("strings", ()),
        "mentor_expectations": Key("strings", ()),
        "mentor_goals": Key("strings", ()),
        "outcome": Key("strings", ()),
        "version": Key("int", 1),
        "ended": Key("date"),
        "previous": Key("tables", ()),
    },
    "goals": {
        "id": Key("str", REQUIRED),
        "title": Key("str", REQUIRED),
        "measure": Key("str", ""),
        "relevant": Key("str", ""),
        "owner": Key("str", "me"),
        "start": Key("date", REQUIRED),
        "estimate": Key("duration"),
        "promised": Key("date"),
        "done": Key("date"),
        "mentor": Key("str", ""),
    },
}
TABLES["contracts"] = TABLES["contract"]  # [[contracts]]: one table per mentor, the same keys

# An earlier version of a contract, as `contract renew` writes it into `previous`.
PERIOD: dict[str, Key] = {
    "version": Key("int", REQUIRED),
    "review": Key("date", REQUIRED),
    "every": Key("duration"),
    "renewed": Key("date"),
}
# Tables inside tables, by the key that holds them.
NESTED: dict[str, dict[str, Key]] = {"previous": PERIOD}

ARRAYS = frozenset({"mentors", "goals", "contracts"})
