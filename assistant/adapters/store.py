"""The state file: TinyDB over an atomic JSON storage, one writer at a time.

Writers hold an exclusive `flock` on `<state>.lock` for their read-modify-write; readers
never lock and always see a whole file, because every write goes to a temp file that is
fsynced and renamed over the old one. A file that cannot be read is set aside and the
state is rebuilt from the servers; it is never taken as "the messages are gone".
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import Storage

from assistant.core.decide import State
from assistant.core.model import CalendarRecord, GoalOverride, RequestRecord
from assistant.errors import StateLockedError, TempFailError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves either the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class AtomicJSONStorage(Storage):
    """TinyDB storage that writes with `atomic_write` and survives an unreadable file."""

    def __init__(self, path: str, *, set_aside: bool = True) -> None:
        self.path = Path(path)
        self.set_aside = set_aside  # readers never move the file; the next writer does

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.strip():
            return None
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            if not self.set_aside:
                log.warning("The state file %s could not be read (%s).", self.path, exc)
                return None
            aside = self.path.with_name(f"{self.path.name}.unreadable-{int(time.time())}")
            os.replace(self.path, aside)
            log.warning(
                "The state file %s could not be read (%s); it was moved to %s and the state "
                "will be rebuilt from the servers.",
                self.path,
                exc,
                aside,
            )
            return None
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        atomic_write(self.path, json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())

    def close(self) -> None:
        pass


@dataclass
class _Tables:
    """The state as loaded: immutable records and plain dicts."""

    meta: dict[str, Any]
    requests: dict[str, RequestRecord]
    calendar: dict[str, CalendarRecord]
    overrides: dict[str, GoalOverride]
    cursors: dict[str, dict[str, Any]]
    messages: dict[str, dict[str, Any]]

    @classmethod
    def parse(cls, data: dict[str, Any]) -> _Tables:
        return cls(
            meta=dict(next(iter(data.get("meta", {}).values()), {})),
            requests={d["id"]: RequestRecord.from_dict(d) for d in data.get("requests", {}).values() if "id" in d},
            calendar={d["uid"]: CalendarRecord.from_dict(d) for d in data.get("calendar", {}).values() if "uid" in d},
            overrides={d["id"]: GoalOverride.from_dict(d) for d in data.get("goals", {}).values() if "id" in d},
            # The incremental mail scan: a cursor per folder, and the messages that matter.
            cursors={d["folder"]: dict(d) for d in data.get("cursors", {}).values() if "folder" in d},
            messages={
                f"{d['folder']}\x00{d['uid']}": dict(d)
                for d in data.get("messages", {}).values()
                if "folder" in d and "uid" in d
            },
        )

    def copy(self) -> _Tables:
        return _Tables(
            meta=copy.deepcopy(self.meta),
            requests=dict(self.requests),
            calendar=dict(self.calendar),
            overrides=dict(self.overrides),
            cursors={k: dict(v) for k, v in self.cursors.items()},
            messages=dict(self.messages),
        )


# The last state this process read or wrote per file, with the file's identity (inode,
# size, mtime) then: a daemon's next cycle does not parse an unchanged file again.
_CACHE: dict[Path, tuple[tuple[int, int, int], _Tables]] = {}


class Store:
    """Typed access to the state file's tables: requests, calendar, meta."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _identity(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _load(self, *, set_aside: bool) -> _Tables:
        key = self._identity()
        cached = _CACHE.get(self.path)
        if key is not None and cached is not None and cached[0] == key:
            return cached[1].copy()
        try:
            data = AtomicJSONStorage(str(self.path), set_aside=set_aside).read() or {}
        except OSError as exc:
            raise TempFailError(f"cannot read the state file {self.path}: {exc.strerror}") from exc
        tables = _Tables.parse(data)
        if key is not None:
            _CACHE[self.path] = (key, tables.copy())
        return tables

    def _remember(self, tables: _Tables) -> None:
        key = self._identity()
        if key is not None:
            _CACHE[self.path] = (key, tables.copy())

    def _open(self) -> TinyDB:
        return TinyDB(str(self.path), storage=CachingMiddleware(AtomicJSONStorage))  # type: ignore[no-untyped-call]

    @contextlib.contextmanager
    def locked(self, *, wait: float = 30.0) -> Iterator[StoreSession]:
        """Hold the writer's lock for a read-modify-write; raise StateLockedError if busy."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with lock_path.open("a") as lock:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StateLockedError(f"the state file {self.path} is locked by another process") from None
                    time.sleep(0.1)
            try:
                yield StoreSession(self)
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def read(self) -> StoreSession:
        """A lock-free read-only view (for `status`)."""
        return StoreSession(self, readonly=True)


class StoreSession:
    """The state as loaded once; `save` writes it back atomically, and only when it changed."""

    def __init__(self, store: Store, *, readonly: bool = False) -> None:
        self.store = store
        self.readonly = readonly
        self._loaded = store._load(set_aside=not readonly)
        tables = self._loaded.copy()
        version = tables.meta.get("schema_version", SCHEMA_VERSION)
        if version > SCHEMA_VERSION:
            raise TempFailError(
                f"the state file {store.path} was written by a newer mentor-assistant (schema {version})"
            )
        self.meta = tables.meta
        self.requests = tables.requests
        self.calendar = tables.calendar
        self.overrides = tables.overrides
        self.cursors = tables.cursors
        self.messages = tables.messages

    def _tables(self) -> _Tables:
        return _Tables(self.meta, self.requests, self.calendar, self.overrides, self.cursors, self.messages)

    def state(self) -> State:
        return State(
            requests=dict(self.requests),
            calendar=dict(self.calendar),
            last_digest=self.meta.get("digest_period"),
            overrides=dict(self.overrides),
        )

    def save(self) -> None:
        """Write every table in one atomic replace (nothing at all when nothing changed)."""
        if self.readonly:
            raise RuntimeError("a read-only view cannot be saved")
        self.meta["schema_version"] = SCHEMA_VERSION
        current = self._tables()
        if current == self._loaded and self.store.path.exists():
            return
        db = self.store._open()
        try:
            for name, rows in (
                ("requests", [r.to_dict() for r in sorted(self.requests.values(), key=lambda r: r.sent_at)]),
                ("calendar", [c.to_dict() for c in sorted(self.calendar.values(), key=lambda c: c.uid)]),
                ("goals", [o.to_dict() for o in sorted(self.overrides.values(), key=lambda o: o.id)]),
                ("meta", [self.meta]),
                ("cursors", [self.cursors[f] for f in sorted(self.cursors)]),
                ("messages", [self.messages[k] for k in sorted(self.messages)]),
            ):
                table = db.table(name)
                table.truncate()
                table.insert_multiple(rows)
        finally:
            db.close()  # the caching middleware flushes once, here
        self._loaded = current.copy()
        self.store._remember(self._loaded)
