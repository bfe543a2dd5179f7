"""Editing config.toml in place with tomlkit: comments, order and layout are kept.

Every edit is validated as a whole config before it is written, atomically, with the
file's own permissions; an edit that would make the config invalid changes nothing.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import tomlkit
from tomlkit.items import AoT, Table

from assistant.atomic import atomic_write
from assistant.config.model import Config
from assistant.config.validate import validate_config
from assistant.core.settings import Period
from assistant.errors import ConfigError


def _edit(path: Path, change: Callable[[tomlkit.TOMLDocument], None]) -> Config:
    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file"], source=str(path)) from None
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"], source=str(path)) from None
    change(document)
    text = tomlkit.dumps(document)
    config = validate_config(tomllib.loads(text), source=path)  # raises before anything is written
    target = path.resolve()  # a symlinked config (dotfiles) is edited where it lives, the link kept
    mode = target.stat().st_mode & 0o777
    atomic_write(target, text.encode("utf-8"))
    os.chmod(target, mode)
    return config


def _tables(document: tomlkit.TOMLDocument, name: str) -> AoT:
    """The [[name]] array of tables, created (at the end of the file) when missing."""
    found = document.get(name)
    if found is None:
        found = tomlkit.aot()
        document.append(name, found)
    if not isinstance(found, AoT):
        raise ConfigError([f"{name}: must be written as [[{name}]] tables"])
    return found


def _goals(document: tomlkit.TOMLDocument) -> AoT:
    return _tables(document, "goals")


def _find(document: tomlkit.TOMLDocument, goal_id: str) -> Table:
    for table in _goals(document):
        if table.get("id") == goal_id:
            return cast(Table, table)
    known = ", ".join(str(t.get("id")) for t in _goals(document)) or "none yet"
    raise ConfigError([f"goals: there is no goal with id {goal_id!r} (known: {known})"])


def add_goal(path: Path, fields: dict[str, Any]) -> Config:
    """Append a [[goals]] table."""

    def change(document: tomlkit.TOMLDocument) -> None:
        goals = _goals(document)
        if any(t.get("id") == fields["id"] for t in goals):
            raise ConfigError([f"goals: a goal with id {fields['id']!r} already exists; use `goal edit`"])
        table = tomlkit.table()
        for key, value in fields.items():
            if value is not None:
                table.add(key, value)
        goals.append(table)

    return _edit(path, change)


def add_mentor(path: Path, fields: dict[str, Any]) -> Config:
    """Append a [[mentors]] table (a prospect)."""

    def change(document: tomlkit.TOMLDocument) -> None:
        mentors = _tables(document, "mentors")
        new = {e.lower() for e in fields["email"]}
        for table in mentors:
            existing = table.get("email", [])
            existing = [existing] if isinstance(existing, str) else list(existing)
            if new & {str(e).lower() for e in existing}:
                raise ConfigError([f"mentors: {', '.join(sorted(new))} is already listed (as {table.get('name')!r})"])
        table = tomlkit.table()
        for key, value in fields.items():
            if value not in (None, "", []):
                table.add(key, value)
        mentors.append(table)

    return _edit(path, change)


def update_goal(path: Path, goal_id: str, fields: dict[str, Any], *, remove: tuple[str, ...] = ()) -> Config:
    """Set (or remove) keys of one goal, leaving the rest of the file as it was."""

    def change(document: tomlkit.TOMLDocument) -> None:
        table = _find(document, goal_id)
        for key, value in fields.items():
            if value is not None:
                table[key] = value
        for key in remove:
            if key in table:
                del table[key]

    return _edit(path, change)


def set_calendar_name(path: Path, name: str) -> Config:
    """Set calendar.calendar, the display name of the calendar to use."""

    def change(document: tomlkit.TOMLDocument) -> None:
        table = document.get("calendar")
        if not isinstance(table, Table):
            raise ConfigError(["[calendar]: there is no calendar table"])
        table["calendar"] = name

    return _edit(path, change)


def _contract_table(document: tomlkit.TOMLDocument, addresses: frozenset[str]) -> Table:
    """The table of the contract with the mentor who has one of `addresses`."""
    single = document.get("contract")
    candidates = [single] if isinstance(single, Table) else []
    many = document.get("contracts")
    if isinstance(many, AoT):
        candidates.extend(many)
    for table in candidates:
        if str(table.get("mentor", "")).lower() in addresses:
            return table
    raise ConfigError([f"contracts: no contract names {', '.join(sorted(addresses))}"])


def _weeks(delta: timedelta) -> str:
    return f"{delta.days // 7}w"


def renew_contract(
    path: Path, addresses: frozenset[str], *, version: int, review: date, every: timedelta, previous: Period
) -> Config:
    """Write a renewal: the earlier version into `previous`, then the new version, review and cadence."""

    def change(document: tomlkit.TOMLDocument) -> None:
        table = _contract_table(document, addresses)
        fields: dict[str, Any] = {"version": previous.version, "review": previous.review,
                                  "every": _weeks(previous.every)}  # fmt: skip
        if previous.renewed is not None:
            fields["renewed"] = previous.renewed
        earlier = table.get("previous")
        if isinstance(earlier, AoT):  # written by hand as [[contract.previous]] tables
            block = tomlkit.table()
            block.update(fields)
            earlier.append(block)
        else:
            if earlier is None:
                earlier = tomlkit.array()
                earlier.multiline(True)
                table["previous"] = earlier
            entry = tomlkit.inline_table()
            entry.update(fields)
            earlier.append(entry)
        table["version"] = version
        table["review"] = review
        table["every"] = _weeks(every)

    return _edit(path, change)


def end_contract(path: Path, addresses: frozenset[str], on: date) -> Config:
    """Write `ended` into the contract's table."""

    def change(document: tomlkit.TOMLDocument) -> None:
        _contract_table(document, addresses)["ended"] = on

    return _edit(path, change)
