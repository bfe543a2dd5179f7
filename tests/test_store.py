"""The state file: typed records, atomic writes, one writer at a time, damage of every kind
set aside and recovered from a backup or rebuilt, never a traceback."""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import signal
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from assistant.adapters.state_codec import StateDecodeError, decode_state, migrate
from assistant.adapters.store import Store
from assistant.core.state import (
    SCHEMA_VERSION,
    CalendarRecord,
    DraftRecord,
    Meta,
    ObjectKind,
    RequestRecord,
    RequestState,
    State,
)
from assistant.errors import StateFileError, StateLockedError, TempFailError

TZ = ZoneInfo("America/Denver")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=TZ)


def record(i: int) -> RequestRecord:
    return RequestRecord(
        id=f"id-{i}", message_id=f"<m{i}@x>", mentor="a@b.org", subject=f"s{i}", sent_at=T0, last_sent_at=T0,
        thread=(f"<m{i}@x>",), state=RequestState.DRAFTED, round=1,
        draft=DraftRecord(1, f"<d{i}@x>", T0 + timedelta(days=14), uid=i, fingerprint="f"),
    )  # fmt: skip


def save(path: Path, state: State) -> None:
    with Store(path).locked() as s:
        s.state = state
        s.save()


def full_state() -> State:
    return State(
        meta=Meta(first_run=T0, manual=("<m1@x>",), digest_period="2026-W45"),
        requests={r.id: r for r in (record(1), record(2))},
        calendar={"u": CalendarRecord("u", "http://x/u.ics", '"e"', "h", ObjectKind.DUE, "g", day=date(2027, 1, 26))},
    )


def test_round_trip_keeps_every_type(tmp_path):
    path = tmp_path / "state.json"
    save(path, full_state())
    data = json.loads(path.read_text())
    assert next(iter(data["meta"].values()))["schema_version"] == SCHEMA_VERSION
    fresh = Store(path)
    from assistant.adapters import store as store_module

    store_module._CACHE.clear()  # decode from the file, not from this process's memory
    state = fresh.read()
    assert state == full_state()
    assert isinstance(state.requests["id-1"].sent_at, datetime)
    assert state.requests["id-1"].state is RequestState.DRAFTED
    assert state.calendar["u"].kind is ObjectKind.DUE
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_a_save_writes_only_when_something_changed(tmp_path):
    path = tmp_path / "state.json"
    save(path, full_state())
    before = path.stat().st_mtime_ns, path.stat().st_ino
    save(path, full_state())
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == before


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "state.json"
    save(path, State(requests={"id-1": record(1)}))
    before = path.read_bytes()

    def boom(*_args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with Store(path).locked() as s:
        s.state = State(requests={"id-2": record(2)})
        with pytest.raises(TempFailError, match="is full; nothing was lost"):
            s.save()
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def _writer(path: str) -> None:
    store = Store(Path(path))
    i = 0
    while True:
        with store.locked() as s:
            s.state = State(requests={f"id-{j}": record(j) for j in range(i % 50 + 1)})
            s.save()
        i += 1


def test_killed_mid_write_the_file_always_loads(tmp_path):
    path = tmp_path / "state.json"
    ctx = multiprocessing.get_context("fork")
    for attempt in range(15):
        proc = ctx.Process(target=_writer, args=(str(path),))
        proc.start()
        time.sleep(0.05 + (attempt % 5) * 0.013)
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        json.loads(path.read_text())  # never torn
        assert Store(path).read().requests, "the state file lost its content"


def test_one_writer_at_a_time(tmp_path):
    store = Store(tmp_path / "state.json")
    with store.locked(), pytest.raises(StateLockedError) as info, Store(tmp_path / "state.json").locked(wait=0.3):
        pass
    assert info.value.exit_code == 75
    with store.locked():
        assert Store(tmp_path / "state.json").read().requests == {}  # readers never lock


def test_only_the_lock_holder_writes(tmp_path):
    from assistant.adapters.store import AtomicJSONStorage

    with pytest.raises(RuntimeError, match="lock"):
        AtomicJSONStorage(str(tmp_path / "state.json")).write({})


def state_doc(**fields: str) -> dict[str, object]:
    sent = "2026-11-02T09:00:00-07:00"
    request = {"id": "x", "message_id": "<m@x>", "mentor": "a@b.org", "subject": "s", "sent_at": sent,
               "last_sent_at": sent, **fields}  # fmt: skip
    return {"meta": {"1": {"schema_version": 2}}, "requests": {"1": request}}


DAMAGE = {
    "torn JSON": b'{"requests": {"1": {"id": ',
    "empty": b"",
    "zero-filled": b"\0" * 4096,
    "a JSON list": b"[]",
    "a number": b"5",
    "tables of the wrong shape": b'{"requests": 5}',
    "a record missing fields": b'{"requests": {"1": {"id": "x"}}, "meta": {"1": {"schema_version": 2}}}',
    "a date that is not a date": json.dumps(state_doc(sent_at="last tuesday")).encode(),
    "an unknown state": json.dumps(state_doc(state="forgotten")).encode(),
    "a date in year 1": json.dumps(state_doc(sent_at="0001-01-01T00:00:00+00:00")).encode(),
    "a date in year 9999": json.dumps(state_doc(last_sent_at="9999-12-31T23:59:59+00:00")).encode(),
    "a schema from the future": b'{"meta": {"1": {"schema_version": 99}}}',
    "not UTF-8": b'{"requests": "\xff\xfe"}',
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_any_damage_is_set_aside_and_the_newest_backup_restored(tmp_path, caplog, damage):
    path = tmp_path / "state.json"
    save(path, State(requests={"id-1": record(1)}))
    save(path, State(requests={"id-1": record(1), "id-2": record(2)}))  # the previous state becomes .1
    path.write_bytes(DAMAGE[damage])
    assert Store(path).read().requests.keys() == {"id-1"}  # a reader uses the backup and moves nothing
    assert path.read_bytes() == DAMAGE[damage]
    with Store(path).locked() as s:
        assert s.state.requests.keys() == {"id-1"}
        s.save()
    aside = [p for p in tmp_path.iterdir() if "unreadable" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes() == DAMAGE[damage]  # kept, never deleted
    assert "could not be used" in caplog.text and "Restored the state from the backup" in caplog.text
    assert Store(path).read().requests.keys() == {"id-1"}


def test_with_no_usable_backup_the_state_is_rebuilt(tmp_path, caplog):
    path = tmp_path / "state.json"
    path.write_text("{ torn")
    with Store(path).locked() as s:
        assert s.state == State()
        s.save()
    assert "rebuilt from the servers" in caplog.text
    assert Store(path).read() == State()


def test_backups_keep_an_older_state_too(tmp_path):
    path = tmp_path / "state.json"
    for i in range(1, 5):
        save(path, State(requests={f"id-{j}": record(j) for j in range(1, i + 1)}))
    one = json.loads((tmp_path / "state.json.1").read_text())
    assert len(one["requests"]) == 3  # the state before the last save
    two = tmp_path / "state.json.2"
    assert two.exists()
    old = time.time() - 7200
    os.utime(two, (old, old))  # two hours old: the next save replaces it with the previous state
    save(path, State(requests={f"id-{j}": record(j) for j in range(1, 6)}))
    assert len(json.loads(two.read_text())["requests"]) == 4


def test_a_version_1_file_is_migrated(tmp_path):
    v1 = {
        "meta": {"1": {"schema_version": 1, "first_run": "2026-11-01T00:00:00+00:00", "manual": ["<m@x>"],
                       "calendar_url": "http://cal/x/", "calendar_vtodo": True, "digest_period": "2026-W45"}},
        "requests": {"1": {"id": "x", "message_id": "<m@x>", "mentor": "a@b.org", "subject": "s",
                           "sent_at": "2026-11-02T09:00:00-07:00", "last_sent_at": "", "state": "waiting",
                           "next_action_at": "", "draft": None, "recipients": ["a@b.org"]}},
        "calendar": {"1": {"uid": "u", "href": "h", "etag": None, "hash": "x", "kind": "due", "day": ""}},
    }  # fmt: skip
    path = tmp_path / "state.json"
    path.write_text(json.dumps(v1))
    state = Store(path).read()
    assert state.requests["x"].last_sent_at == state.requests["x"].sent_at
    assert state.requests["x"].next_action_at is None
    assert state.meta.calendar.url == "http://cal/x/" and state.meta.calendar.vtodo is True
    assert state.meta.manual == ("<m@x>",)
    assert state.calendar["u"].day is None


def test_the_decoder_names_the_field_at_fault():
    request = state_doc(sent_at="2026-11-02T09:00:00")["requests"]["1"]  # type: ignore[index]
    tables = {"meta": [{"schema_version": 2}], "requests": [request]}
    with pytest.raises(StateDecodeError, match=r"requests\[0\].sent_at: expected an ISO 8601 time with an offset"):
        decode_state(migrate(tables))


def test_a_state_path_that_is_a_directory_says_so(tmp_path):
    path = tmp_path / "state.json"
    path.mkdir()
    with pytest.raises(StateFileError) as info, Store(path).locked():
        pass
    assert "is a directory" in str(info.value) and info.value.exit_code == 78
    assert "[state] path" in info.value.advice()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_a_state_directory_that_cannot_be_written_says_so(tmp_path):
    where = tmp_path / "locked"
    where.mkdir()
    where.chmod(0o500)
    try:
        with pytest.raises(StateFileError, match="permission denied"), Store(where / "state.json").locked():
            pass
    finally:
        where.chmod(0o700)


def test_records_are_updated_in_place(tmp_path):
    path = tmp_path / "state.json"
    save(path, State(requests={f"id-{j}": record(j) for j in range(1, 4)}))
    ids_before = json.loads(path.read_text())["requests"].keys()
    with Store(path).locked() as s:
        changed = replace(s.state.requests["id-2"], why="changed")
        s.state = replace(s.state, requests={**s.state.requests, "id-2": changed})
        s.save()
    data = json.loads(path.read_text())["requests"]
    assert data.keys() == ids_before  # the same TinyDB documents, one of them rewritten
    assert [d["why"] for d in data.values()].count("changed") == 1
