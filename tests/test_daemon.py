"""`run`: cycles until SIGTERM, one daemon per state file, SIGHUP reloads safely."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.test_end_to_end import NOW, seed

pytestmark = pytest.mark.integration


class Tail:
    """The daemon's log, read as it is written, so a test waits for a line instead of sleeping."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    def wait_for(self, text: str, *, after: int = 0, timeout: float = 20) -> int:
        """Block until a line containing `text` appears (after line `after`); its index."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for i in range(after, len(self.lines)):
                    if text in self.lines[i]:
                        return i
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"no log line with {text!r} within {timeout} s:\n{''.join(self.lines)}"
                self._changed.wait(remaining)

    @property
    def text(self) -> str:
        self._thread.join(timeout=15)
        return "".join(self.lines)


def start(config: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "MENTOR_ASSISTANT_NOW": NOW.isoformat()}
    return subprocess.Popen(
        [sys.executable, "-m", "assistant", "-v", "--config", str(config), "run"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip


def test_run_acts_reloads_refuses_a_twin_and_stops_on_sigterm(mail_user, tmp_path):
    seed(mail_user)
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None)
    daemon = start(config)
    log = Tail(daemon)
    try:
        log.wait_for("write draft")
        assert len(mail_user.messages("Drafts")) == 1
        twin = subprocess.run(
            [sys.executable, "-m", "assistant", "--config", str(config), "run"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert twin.returncode == 75
        assert "already running" in twin.stderr
        good = config.read_text()
        config.write_text(good + "\n[followup]\nwait = 'soon'\n")
        daemon.send_signal(signal.SIGHUP)
        log.wait_for("keeping the old one")
        assert daemon.poll() is None, "an invalid config on SIGHUP must not stop the daemon"
        started = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=15)
        assert daemon.returncode == 0
        assert time.monotonic() - started < 10
        assert "followup.wait" in log.text
        assert len(mail_user.messages("Drafts")) == 1
    finally:
        if daemon.poll() is None:
            daemon.kill()


def notify_socket(tmp_path: Path):
    import socket

    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.5)
    return sock, path


def read_notifications(sock, until: str, timeout: float = 30) -> list[str]:

    got: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got.extend(sock.recv(4096).decode().splitlines())
        except TimeoutError:
            continue
        if any(line.startswith(until) for line in got):
            return got
    raise AssertionError(f"no {until} within {timeout} s; got {got}")


def start_with(config: Path, **env: str) -> subprocess.Popen[str]:
    full = {**os.environ, **env}
    full.pop("MENTOR_ASSISTANT_NOW", None)
    return subprocess.Popen(
        [sys.executable, "-m", "assistant", "-v", "--config", str(config), "run"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=full,
    )  # fmt: skip


def idle_config(mail_user, tmp_path: Path) -> Path:
    from datetime import datetime, timedelta

    from tests.conftest import make_message

    sent = datetime.now().astimezone() - timedelta(days=15)
    mail_user.append("Sent", make_message(sender=mail_user.username, to=["jsmith@hospital.org"], subject="Mentorship",
                     when=sent, message_id="<idle-root@example.edu>"), when=sent)  # fmt: skip
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None)
    text = (
        config.read_text()
        .replace("idle = false", "idle = true")
        .replace('poll_interval = "1m"', 'poll_interval = "1h"')
    )
    config.write_text(text.replace("since = 2026-10-01", f"since = {(sent - timedelta(days=1)).date()}"))
    return config


def reply(mail_user, mid: str) -> None:
    from datetime import datetime

    from tests.conftest import make_message

    now = datetime.now().astimezone()
    raw = make_message(
        sender="jsmith@hospital.org",
        to=[mail_user.username],
        subject="Re: Mentorship",
        when=now,
        message_id=mid,
        in_reply_to="<idle-root@example.edu>",
    )
    mail_user.append("INBOX", raw, when=now)


def wait_until(predicate, timeout: float) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout, "timed out"
        time.sleep(0.1)
    return time.monotonic() - started


def test_idle_acts_on_a_reply_within_seconds(mail_user, tmp_path):
    config = idle_config(mail_user, tmp_path)
    sock, path = notify_socket(tmp_path)
    daemon = start_with(config, NOTIFY_SOCKET=str(path), WATCHDOG_USEC="1000000")
    log = Tail(daemon)
    try:
        lines = read_notifications(sock, "READY=1")
        assert any(line.startswith("STATUS=") and "draft(s) for you to review" in line for line in lines)
        assert "WATCHDOG=1" in read_notifications(sock, "WATCHDOG=1", timeout=5)
        assert len(mail_user.messages("Drafts")) == 1
        log.wait_for("Listening for new mail in INBOX")
        reply(mail_user, "<idle-reply@h>")
        latency = wait_until(lambda: mail_user.messages("Drafts") == {}, timeout=15)
        print(f"\nreply acted on {latency:.2f} s after it was appended (IDLE)")
        stopping = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=15)
        assert daemon.returncode == 0
        # The IDLE connection is woken to stop, not waited for (it waits 30 s per check).
        assert time.monotonic() - stopping < 4
        assert "STOPPING=1" in read_notifications(sock, "STOPPING=1", timeout=5)
    finally:
        if daemon.poll() is None:
            daemon.kill()
        sock.close()


def test_a_reply_that_arrives_while_the_idle_connection_is_down_is_acted_on(mail_user, tmp_path):
    config = idle_config(mail_user, tmp_path)
    sock, path = notify_socket(tmp_path)
    daemon = start_with(config, NOTIFY_SOCKET=str(path))
    log = Tail(daemon)
    try:
        read_notifications(sock, "READY=1")
        log.wait_for("Listening for new mail in INBOX")
        assert mail_user.server.kill_imap_processes() >= 1  # drops the IDLE connection
        reply(mail_user, "<while-down@h>")
        latency = wait_until(lambda: mail_user.messages("Drafts") == {}, timeout=30)
        print(f"\nreply acted on {latency:.2f} s after the connection was killed")
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=15)
        assert daemon.returncode == 0
        err = log.text
        assert "IDLE on INBOX failed" in err and "Reconnected to INBOX" in err, err
    finally:
        if daemon.poll() is None:
            daemon.kill()
        sock.close()


def test_the_unit_file_verifies(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    unit = (Path(__file__).resolve().parents[1] / "systemd" / "mentor-assistant.service").read_text()
    binary = Path(sys.executable).parent / "mentor-assistant"
    (tmp_path / "mentor-assistant.service").write_text(unit.replace("%h/.local/bin/mentor-assistant", str(binary)))
    done = subprocess.run([analyze, "verify", str(tmp_path / "mentor-assistant.service")], capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    for line in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "RestartPreventExitStatus=78",
                 "NoNewPrivileges=yes", "SystemCallFilter=@system-service"):  # fmt: skip
        assert line in unit


def test_journal_lines_carry_priorities_and_no_timestamps(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[me]\nname = "A"\nemail = "a@example.edu"\n[mail]\nhost = "127.0.0.1"\nsecurity = "plain"\n'
        'username = "a"\npassword = "p"\n'
    )
    config.chmod(0o644)  # a readable password: a warning
    env = {**os.environ, "JOURNAL_STREAM": "8:12345"}
    done = subprocess.run([sys.executable, "-m", "assistant", "--config", str(config), "check-config", "--offline"],
                          capture_output=True, text=True, env=env, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (line,) = [ln for ln in done.stderr.splitlines() if "other users" in ln]
    assert line.startswith("<4>assistant.adapters.secrets: ")
    assert not any(ch.isdigit() for ch in line[3:8])  # no timestamp of our own


def test_the_daemons_cycles_share_one_login(mail_user, tmp_path):
    """A reply wakes a cycle that does not log in again: the IDLE connection and one kept
    connection for the cycles, however many cycles run."""
    from datetime import datetime

    from tests.conftest import make_message

    config = idle_config(mail_user, tmp_path)
    server_log = mail_user.server.base / "dovecot.log"

    def logins() -> int:
        return server_log.read_text().count(f"Login: user=<{mail_user.username}>")

    before = logins()
    daemon = start_with(config)
    log = Tail(daemon)
    try:
        log.wait_for("Listening for new mail in INBOX")
        at = log.wait_for("Scan:")
        for i in range(3):
            now = datetime.now().astimezone()
            mail_user.append("INBOX", make_message(sender=f"someone{i}@example.org", to=[mail_user.username],
                             subject=f"Note {i}", when=now, message_id=f"<note{i}@example.org>"), when=now)  # fmt: skip
            at = log.wait_for("Scan:", after=at + 1)
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=15)
        assert daemon.returncode == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
    # 4 cycles; 3 logins were the appends above.
    assert logins() - before - 3 == 2, log.text


def test_an_unexpected_error_in_a_cycle_is_logged_and_retried_not_a_crash(mail_user, tmp_path, monkeypatch, caplog):
    """A cycle that fails in a way nothing foresaw is logged with its traceback and run again
    after a backoff; the daemon keeps running (systemd would otherwise restart it in a loop)."""
    import asyncio

    from assistant import daemon as daemon_module
    from assistant.config import load_config
    from assistant.cycle import run_cycle

    config_path = write_config(tmp_path / "config.toml", user=mail_user, calendar=None)
    config = load_config(config_path)
    runner = daemon_module.Daemon(config_path, config)
    calls: list[str] = []

    def flaky(cfg, *, now, connection=None):
        calls.append("cycle")
        if len(calls) == 1:
            raise RuntimeError("an answer nothing foresaw")
        result = run_cycle(cfg, now=now, connection=connection)
        runner.stop.set()
        return result

    def quick_backoff(first: float = 0, cap: float = 0):
        while True:
            yield 0.2

    monkeypatch.setattr(daemon_module, "run_cycle", flaky)
    monkeypatch.setattr(daemon_module, "backoff_delays", quick_backoff)
    with caplog.at_level("ERROR"):
        assert asyncio.run(asyncio.wait_for(runner.run(), timeout=30)) == 0
    assert calls == ["cycle", "cycle"]
    assert "Cycle failed unexpectedly" in caplog.text and "an answer nothing foresaw" in caplog.text
