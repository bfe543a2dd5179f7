"""The one decoder (and encoder) between the state file's JSON documents and the core's
typed state (`core/state.py`).

Decoding checks every field against its declared type (dates are ISO strings with an
offset, states are enum values, tuples are lists…), fills in defaults for fields a
document does not have, and raises `StateDecodeError` naming the field at fault. Older
schema versions are migrated first; a version from the future is an error too, so the
store sets such a file aside instead of guessing.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from assistant.core.model import MailMessage
from assistant.core.state import (
    SCHEMA_VERSION,
    CalendarRecord,
    FolderCursor,
    GoalOverride,
    Meta,
    RequestRecord,
    State,
)


class StateDecodeError(ValueError):
    """A document of the state file does not have the shape or types it must have."""


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _fail(path: str, expected: str, value: Any) -> StateDecodeError:
    shown = repr(value)
    return StateDecodeError(f"{path}: expected {expected}, found {shown[:60]}")


Decoder = typing.Callable[[Any, str], Any]


def decode_value(tp: Any, value: Any, path: str) -> Any:
    """`value` (from JSON) as type `tp`, or StateDecodeError."""
    return _decoder(tp)(value, path)


def decode_dataclass(cls: type, value: Any, path: str) -> Any:
    """A dataclass from a JSON object; missing fields take their defaults, unknown ones are ignored."""
    return _decoder(cls)(value, path)


@functools.cache
def _decoder(tp: Any) -> Decoder:
    """A decoding function for one type, built once (the state file holds thousands of records)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"unsupported union {tp}")
        one = _decoder(inner[0])
        return lambda value, path: None if value is None else one(value, path)
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])

            def each(value: Any, path: str) -> Any:
                if not isinstance(value, list):
                    raise _fail(path, "a list", value)
                return tuple(item(v, path) for v in value)

            return each
        items = [_decoder(a) for a in args]

        def fixed(value: Any, path: str) -> Any:
            if not isinstance(value, list) or len(value) != len(items):
                raise _fail(path, f"a list of {len(items)}", value)
            return tuple(d(v, path) for d, v in zip(items, value, strict=True))

        return fixed
    if origin is frozenset:
        (arg,) = typing.get_args(tp)
        item = _decoder(arg)

        def members(value: Any, path: str) -> Any:
            if not isinstance(value, list):
                raise _fail(path, "a list", value)
            return frozenset(item(v, path) for v in value)

        return members
    if origin in (dict, Mapping):
        key_type, value_type = typing.get_args(tp)
        keys, values = _decoder(key_type), _decoder(value_type)

        def mapping(value: Any, path: str) -> Any:
            if not isinstance(value, dict):
                raise _fail(path, "an object", value)
            return {keys(k, path): values(v, f"{path}.{k}") for k, v in value.items()}

        return mapping
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass_decoder(tp)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        members_by_value = {m.value: m for m in tp}
        names = ", ".join(str(v) for v in members_by_value)

        def member(value: Any, path: str) -> Any:
            try:
                return members_by_value[value]
            except (KeyError, TypeError):
                raise _fail(path, f"one of {names}", value) from None

        return member
    simple = _SIMPLE.get(tp)
    if simple is None:
        raise TypeError(f"unsupported type {tp}")
    return simple


def _dataclass_decoder(cls: type) -> Decoder:
    hints = _hints(cls)
    fields = [
        (f.name, f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
        for f in dataclasses.fields(cls)
    ]
    decoders = {name: _decoder(hints[name]) for name, _required in fields}

    def decode(value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise _fail(path, "an object", value)
        kwargs = {}
        for name, required in fields:
            if name in value:
                kwargs[name] = decoders[name](value[name], f"{path}.{name}")
            elif required:
                raise StateDecodeError(f"{path}.{name}: missing")
        return cls(**kwargs)

    return decode


_SANE_YEARS = (1900, 9000)


def _datetime(value: Any, path: str) -> datetime:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        # Years the assistant can live in: arithmetic on year 1 or 9999 would overflow later.
        if moment is not None and moment.tzinfo is not None and _SANE_YEARS[0] <= moment.year <= _SANE_YEARS[1]:
            return moment
    raise _fail(path, "an ISO 8601 time with an offset", value)


def _date(value: Any, path: str) -> date:
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
        if day is not None and _SANE_YEARS[0] <= day.year <= _SANE_YEARS[1]:
            return day
    raise _fail(path, "an ISO 8601 date", value)


def _bytes(value: Any, path: str) -> bytes:
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise _fail(path, "base64 text", value)


def _bool(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    raise _fail(path, "true or false", value)


def _int(value: Any, path: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _fail(path, "a whole number", value)


def _float(value: Any, path: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise _fail(path, "a number", value)


def _str(value: Any, path: str) -> str:
    if isinstance(value, str):
        return value
    raise _fail(path, "a string", value)


_SIMPLE: dict[Any, Decoder] = {
    datetime: _datetime, date: _date, bytes: _bytes, bool: _bool, int: _int, float: _float, str: _str,
}  # fmt: skip


def encode_value(value: Any) -> Any:
    """The JSON form of a typed value (the inverse of `decode_value`)."""
    if value is None or (isinstance(value, bool | int | float | str) and not isinstance(value, enum.Enum)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, tuple | list):
        return [encode_value(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(encode_value(v) for v in value)
    if isinstance(value, Mapping):
        return {str(k): encode_value(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"cannot encode {type(value).__name__}")


# --------------------------------------------------------------------------- the tables

# Each table of the state file: its name, the record type, and the key a record is found by.
TABLES: dict[str, tuple[type, str]] = {
    "requests": (RequestRecord, "id"),
    "calendar": (CalendarRecord, "uid"),
    "goals": (GoalOverride, "id"),
    "cursors": (FolderCursor, "folder"),
    "messages": (MailMessage, ""),  # keyed by folder and UID
}


def record_key(table: str, record: Any) -> str:
    """The key of a record within its table."""
    if table == "messages":
        return f"{record.folder}\x00{record.uid}"
    return str(getattr(record, TABLES[table][1]))


def decode_state(tables: dict[str, list[dict[str, Any]]]) -> State:
    """The typed state from each table's documents (already migrated to this schema)."""
    metas = tables.get("meta") or [{}]
    if len(metas) != 1:
        raise StateDecodeError(f"meta: expected one document, found {len(metas)}")
    meta_doc = dict(metas[0])
    version = meta_doc.pop("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise StateDecodeError(f"meta.schema_version: expected {SCHEMA_VERSION}, found {version!r}")
    meta = decode_dataclass(Meta, meta_doc, "meta")
    decoded: dict[str, dict[str, Any]] = {}
    for name, (cls, _key) in TABLES.items():
        rows = tables.get(name) or []
        out: dict[str, Any] = {}
        for i, doc in enumerate(rows):
            record = decode_dataclass(cls, doc, f"{name}[{i}]")
            out[record_key(name, record)] = record
        decoded[name] = out
    return State(
        meta=meta,
        requests=decoded["requests"],
        calendar=decoded["calendar"],
        overrides=decoded["goals"],
        cursors=decoded["cursors"],
        messages=tuple(decoded["messages"].values()),
    )


def state_tables(state: State) -> dict[str, dict[str, Any]]:
    """Each table's records by key (what `encode_value` turns into documents)."""
    return {
        "requests": dict(state.requests),
        "calendar": dict(state.calendar),
        "goals": dict(state.overrides),
        "cursors": dict(state.cursors),
        "messages": {record_key("messages", m): m for m in state.messages},
    }


def encode_meta(meta: Meta) -> dict[str, Any]:
    doc = encode_value(meta)
    assert isinstance(doc, dict)
    doc["schema_version"] = SCHEMA_VERSION
    return doc


# --------------------------------------------------------------------------- migrations


def schema_version(tables: dict[str, list[dict[str, Any]]]) -> int:
    metas = tables.get("meta") or [{}]
    version = metas[0].get("schema_version", 1) if isinstance(metas[0], dict) else 1
    if not isinstance(version, int) or isinstance(version, bool):
        raise StateDecodeError(f"meta.schema_version: expected a whole number, found {version!r}")
    return version


def migrate(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The tables brought to this schema version; StateDecodeError for a version from the future."""
    version = schema_version(tables)
    if version > SCHEMA_VERSION:
        raise StateDecodeError(
            f"meta.schema_version: {version} was written by a newer mentor-assistant (this one reads {SCHEMA_VERSION})"
        )
    if version < 2:
        tables = _v1_to_v2(tables)
    return tables


def _v1_to_v2(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Version 1 kept "" for missing dates and every server fact as a loose meta key."""
    out = {name: [dict(d) for d in rows if isinstance(d, dict)] for name, rows in tables.items()}
    for doc in out.get("requests", []):
        if not doc.get("last_sent_at"):
            doc["last_sent_at"] = doc.get("sent_at")
        if doc.get("next_action_at") == "":
            doc["next_action_at"] = None
        draft = doc.get("draft")
        if isinstance(draft, dict) and draft.get("missing_since") == "":
            draft["missing_since"] = None
    for doc in out.get("calendar", []):
        if doc.get("day") == "":
            doc["day"] = None
    old = (out.get("meta") or [{}])[0]
    meta: dict[str, Any] = {
        key: old[key] for key in ("first_run", "manual", "digest_period", "scan_fingerprint", "outreach") if key in old
    }
    meta["schema_version"] = 2
    meta["calendar"] = {
        new: old[key]
        for key, new in (
            ("calendar_url", "url"),
            ("calendar_name", "name"),
            ("calendar_vtodo", "vtodo"),
            ("calendar_sync_token", "sync_token"),
            ("calendar_full_at", "full_at"),
        )
        if key in old
    }
    out["meta"] = [meta]
    for doc in out.get("messages", []):
        for key in ("to", "cc"):
            doc[key] = doc.get(key) or []
    return out
