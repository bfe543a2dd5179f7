"""The state file: atomic writes, one writer at a time, an unreadable file set aside."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time

import pytest

from assistant.adapters.store import SCHEMA_VERSION, Store
from assistant.core.model import CalendarRecord, DraftRecord, RequestRecord
from assistant.errors import StateLockedError


def record(i: int) -> RequestRecord:
    return RequestRecord(
        id=f"id-{i}", message_id=f"<m{i}@x>", mentor="a@b.org", subject=f"s{i}", sent_at="2026-11-02T09:00:00-07:00",
        thread=(f"<m{i}@x>",), draft=DraftRecord(1, f"<d{i}@x>", "2026-11-16T09:00:00-07:00", uid=i, fingerprint="f"),
    )  # fmt: skip


def test_round_trip_with_schema_version(tmp_path):
    store = Store(tmp_path / "state.json")
    with store.locked() as s:
        s.requests = {r.id: r for r in (record(1), record(2))}
        s.calendar = {"u": CalendarRecord("u", "http://x/u.ics", '"e"', "h", "g")}
        s.meta["first_run"] = "2026-11-01T00:00:00+00:00"
        s.save()
    data = json.loads((tmp_path / "state.json").read_text())
    assert next(iter(data["meta"].values()))["schema_version"] == SCHEMA_VERSION
    view = store.read()
    assert view.requests["id-1"] == record(1)
    assert view.calendar["u"].etag == '"e"'
    assert oct((tmp_path / "state.json").stat().st_mode & 0o777) == "0o600"


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    store = Store(tmp_path / "state.json")
    with store.locked() as s:
        s.requests = {"id-1": record(1)}
        s.save()
    before = (tmp_path / "state.json").read_bytes()

    def boom(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with store.locked() as s:
        s.requests = {"id-2": record(2)}
        with pytest.raises(OSError, match="disk full"):
            s.save()
    monkeypatch.undo()
    assert (tmp_path / "state.json").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def _writer(path: str) -> None:
    store = Store(__import__("pathlib").Path(path))
    i = 0
    while True:
        with store.locked() as s:
            s.requests = {f"id-{j}": record(j) for j in range(i % 50 + 1)}
            s.save()
        i += 1


def test_killed_mid_write_the_file_always_loads(tmp_path):
    path = tmp_path / "state.json"
    ctx = multiprocessing.get_context("fork")
    for _ in range(15):
        proc = ctx.Process(target=_writer, args=(str(path),))
        proc.start()
        time.sleep(0.05 + (_ % 5) * 0.013)
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        view = Store(path).read()  # would raise or log on a torn file
        assert view.requests, "the state file lost its content"
        json.loads(path.read_text())


def test_one_writer_at_a_time(tmp_path):
    store = Store(tmp_path / "state.json")
    with store.locked(), pytest.raises(StateLockedError) as info, Store(tmp_path / "state.json").locked(wait=0.3):
        pass
    assert info.value.exit_code == 75
    # Readers never lock.
    with store.locked():
        assert Store(tmp_path / "state.json").read().requests == {}


def test_an_unreadable_file_is_set_aside_and_rebuilt(tmp_path, caplog):
    path = tmp_path / "state.json"
    path.write_text("{ torn")
    assert Store(path).read().requests == {}  # a reader leaves it where it is
    assert path.exists()
    with Store(path).locked() as s:
        assert s.requests == {}
        s.save()
    assert [p.name for p in tmp_path.iterdir() if "unreadable" in p.name]
    assert "rebuilt from the servers" in caplog.text
