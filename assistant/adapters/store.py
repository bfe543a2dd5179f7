"""The state file: a TinyDB database, one writer at a time, never half written.

Writers hold an exclusive `flock` on `<state>.lock` for their read-modify-write, and the
TinyDB storage below refuses to write without it; readers never lock and always see a
whole file, because every write goes to a temp file that is fsynced and renamed over the
old one. The documents are decoded into the core's typed `State` by one decoder
(`state_codec.py`); a save writes only the records that changed.

Before each write the previous file is kept as `<state>.1`; `<state>.2` and `<state>.3`
hold states about an hour and a day older. A file that cannot be used (bad JSON, the
wrong shape, wrong types, a schema from a newer version) is set aside, never deleted, and
the newest usable backup is restored; with none, the state is rebuilt from the servers.
Missing local state never means "the messages are gone".
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import Storage
from tinydb.table import Document

from assistant.adapters.state_codec import (
    TABLES,
    StateDecodeError,
    decode_state,
    encode_meta,
    encode_value,
    migrate,
    state_tables,
)
from assistant.atomic import atomic_write
from assistant.core.state import State
from assistant.errors import AssistantError, StateFileError, StateLockedError, TempFailError

log = logging.getLogger(__name__)

BACKUPS = (".1", ".2", ".3")
BACKUP_AGES = (0.0, 3600.0, 86400.0)  # seconds a backup must be older than before it is replaced


class _Unusable(Exception):
    """The file exists but cannot be used as the state."""


class AtomicJSONStorage(Storage):
    """TinyDB storage: the whole file read once; written atomically, only by the lock holder."""

    def __init__(self, path: str, *, writer: WriterLock | None = None) -> None:
        self.path = Path(path)
        self.writer = writer

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.strip():
            raise _Unusable("the file is empty")
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _Unusable(f"not JSON ({exc})") from None
        if not isinstance(data, dict) or not all(
            isinstance(t, dict) and all(isinstance(d, dict) for d in t.values()) for t in data.values()
        ):
            raise _Unusable("not a table of documents")
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        if self.writer is None or not self.writer.held:
            raise RuntimeError("the state file is written only under the writer's lock")
        _rotate_backups(self.path)
        atomic_write(self.path, json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())

    def close(self) -> None:
        pass


def _rotate_backups(path: Path) -> None:
    """Keep the file about to be replaced as `.1`; now and then move older ones down the line."""
    if not path.exists():
        return
    now = time.time()
    names = [path.with_name(path.name + suffix) for suffix in BACKUPS]
    for i in range(len(names) - 1, 0, -1):
        older, newer = names[i], names[i - 1]
        try:
            age = now - older.stat().st_mtime
        except FileNotFoundError:
            age = float("inf")
        if age > BACKUP_AGES[i] and newer.exists() and i > 1:
            os.replace(newer, older)
    try:
        age2 = now - names[1].stat().st_mtime
    except FileNotFoundError:
        age2 = float("inf")
    if age2 > BACKUP_AGES[1]:
        _link(path, names[1])
    _link(path, names[0])


def _link(source: Path, target: Path) -> None:
    tmp = target.with_name(target.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        try:
            os.link(source, tmp)  # the old inode becomes the backup: no copy
        except OSError:
            shutil.copy2(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@dataclass
class WriterLock:
    """The exclusive lock a writer holds on `<state>.lock`."""

    held: bool = False


@dataclass
class _Loaded:
    """The state as decoded, with what a save needs to write only the differences."""

    state: State
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # table -> key -> typed record
    doc_ids: dict[str, dict[str, int]] = field(default_factory=dict)  # table -> key -> TinyDB doc id


# The last state this process read or wrote per file, with the file's identity (inode,
# size, mtime) then: a daemon's next cycle does not decode an unchanged file again.
_CACHE: dict[Path, tuple[tuple[int, int, int], _Loaded]] = {}


class Store:
    """The state file at `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _identity(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._path_error(exc) from None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _path_error(self, exc: OSError) -> AssistantError:
        if exc.errno == errno.ENOSPC:
            return TempFailError(
                f"the disk holding the state file {self.path} is full; nothing was lost, the state file is as "
                "it was: free some space and it goes on"
            )
        if self.path.is_dir():
            what = "is a directory"
        elif isinstance(exc, PermissionError):
            what = "cannot be written or read by you (permission denied)"
        else:
            what = f"cannot be used ({exc.strerror or exc})"
        return StateFileError(f"the state file {self.path} {what}", path=self.path)

    def _open(self, path: Path, writer: WriterLock | None = None) -> TinyDB:
        return TinyDB(str(path), storage=CachingMiddleware(AtomicJSONStorage), writer=writer)  # type: ignore[no-untyped-call]

    def _decode(self, path: Path) -> _Loaded | None:
        """The state in `path`, None when there is no such file; `_Unusable` when it is damaged."""
        db = self._open(path)
        try:
            names = db.tables()
            raw: dict[str, list[dict[str, Any]]] = {}
            ids: dict[str, list[int]] = {}
            for name in names:
                docs = db.table(name).all()
                raw[name] = [dict(d) for d in docs]
                ids[name] = [d.doc_id for d in docs]
        except IsADirectoryError as exc:
            raise self._path_error(exc) from None
        except PermissionError as exc:
            raise self._path_error(exc) from None
        finally:
            db.close()
        if not names and not path.exists():
            return None
        if "meta" not in raw:
            raise _Unusable("it holds no meta table, so it was not written by mentor-assistant")
        try:
            migrated = migrate(raw)
            state = decode_state(migrated)
        except StateDecodeError as exc:
            raise _Unusable(str(exc)) from None
        records = state_tables(state)
        loaded = _Loaded(state, records)
        # The same documents as in the file: remember their ids, so a save rewrites only the
        # changes. Anything else (a migration, duplicate keys) is written in full next time.
        doc_ids = {}
        for name, table in records.items():
            found = ids.get(name, [])
            if len(found) != len(table):
                break
            doc_ids[name] = dict(zip(table, found, strict=True))
        else:
            if migrated is raw:
                loaded.doc_ids = doc_ids
        return loaded

    def _load(self, *, writer: bool) -> _Loaded:
        key = self._identity()
        cached = _CACHE.get(self.path)
        if key is not None and cached is not None and cached[0] == key:
            return cached[1]
        try:
            loaded = self._decode(self.path)
        except _Unusable as exc:
            # Never cached: the next writer must find the damage again and set the file aside.
            return self._recover(str(exc), set_aside=writer) or _Loaded(State())
        if loaded is None:
            # A missing file is never "nothing happened": the newest backup, else the servers.
            if not any(self.path.with_name(self.path.name + suffix).exists() for suffix in BACKUPS):
                return _Loaded(State())
            return self._recover("it is missing", set_aside=False) or _Loaded(State())
        if key is not None:
            _CACHE[self.path] = (key, loaded)
        return loaded

    def _recover(self, reason: str, *, set_aside: bool) -> _Loaded | None:
        """After damage: set the file aside (writers only), then the newest usable backup."""
        if set_aside and self.path.exists():
            aside = self.path.with_name(f"{self.path.name}.unreadable-{int(time.time())}")
            try:
                os.replace(self.path, aside)
            except OSError as exc:
                raise self._path_error(exc) from None
            log.warning("The state file %s could not be used (%s); it was moved to %s.", self.path, reason, aside)
        else:
            log.warning("The state file %s could not be used (%s).", self.path, reason)
        for suffix in BACKUPS:
            backup = self.path.with_name(self.path.name + suffix)
            try:
                loaded = self._decode(backup)
            except _Unusable as exc:
                log.info("The backup %s is not usable either (%s)", backup, exc)
                continue
            if loaded is not None:
                log.warning("Restored the state from the backup %s.", backup)
                loaded.doc_ids = {}  # written to the main file in full on the next save
                return loaded
        log.warning("No usable backup: the state will be rebuilt from the servers.")
        return None

    @contextlib.contextmanager
    def locked(self, *, wait: float = 30.0) -> Iterator[StoreSession]:
        """Hold the writer's lock for a read-modify-write; raise StateLockedError if busy."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = lock_path.open("a")
        except OSError as exc:
            raise self._path_error(exc) from None
        writer = WriterLock()
        with handle:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StateLockedError(f"the state file {self.path} is locked by another process") from None
                    time.sleep(0.1)
            writer.held = True
            try:
                yield StoreSession(self, self._load(writer=True), writer)
            finally:
                writer.held = False
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def read(self) -> State:
        """The state, lock-free and read-only (for `status`)."""
        return self._load(writer=False).state

    def _save(self, loaded: _Loaded, state: State, writer: WriterLock) -> _Loaded:
        new_records = state_tables(state)
        meta_changed = state.meta != loaded.state.meta or not self.path.exists()
        changes = {
            name: {k for k, v in records.items() if loaded.records.get(name, {}).get(k) != v}
            | {k for k in loaded.records.get(name, {}) if k not in records}
            for name, records in new_records.items()
        }
        if not meta_changed and not any(changes.values()):
            return loaded
        db = self._open(self.path, writer)
        try:
            if not loaded.doc_ids:
                db.drop_tables()  # a restored or migrated state: written in full
                changes = {name: set(records) for name, records in new_records.items()}
            doc_ids: dict[str, dict[str, int]] = {}
            for name in TABLES:
                table = db.table(name)
                ids = dict(loaded.doc_ids.get(name, {}))
                records = new_records[name]
                touched = [k for k in changes[name] if k in ids]
                if touched:
                    table.remove(doc_ids=[ids[k] for k in touched])
                kept = [Document(encode_value(records[k]), doc_id=ids[k]) for k in touched if k in records]
                if kept:
                    table.insert_multiple(kept)  # the same document ids, new content
                for k in touched:
                    if k not in records:
                        del ids[k]
                added = [k for k in records if k not in ids]
                if added:
                    # Sorted, so the file reads in a stable order.
                    new_ids = table.insert_multiple([encode_value(records[k]) for k in sorted(added)])
                    ids.update(zip(sorted(added), new_ids, strict=True))
                doc_ids[name] = ids
            meta = db.table("meta")
            meta.truncate()
            meta.insert(encode_meta(state.meta))
            db.close()  # the caching middleware writes once, here
        except OSError as exc:
            raise self._path_error(exc) from None
        saved = _Loaded(state, new_records, doc_ids)
        key = self._identity()
        if key is not None:
            _CACHE[self.path] = (key, saved)
        return saved


class StoreSession:
    """The state under the writer's lock: change `state`, then `save()`."""

    def __init__(self, store: Store, loaded: _Loaded, writer: WriterLock) -> None:
        self.store = store
        self._loaded = loaded
        self._writer = writer
        self.state: State = loaded.state

    def save(self) -> None:
        """Write what changed in one atomic replace (nothing at all when nothing changed)."""
        self._loaded = self.store._save(self._loaded, self.state, self._writer)
