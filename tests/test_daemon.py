"""`run`: cycles until SIGTERM, one daemon per state file, SIGHUP reloads safely."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.test_end_to_end import NOW, seed

pytestmark = pytest.mark.integration


def start(config: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "MENTOR_ASSISTANT_NOW": NOW.isoformat()}
    return subprocess.Popen(
        [sys.executable, "-m", "assistant", "--config", str(config), "run"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip


def wait_for(path: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


def test_run_acts_reloads_refuses_a_twin_and_stops_on_sigterm(mail_user, tmp_path):
    seed(mail_user)
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None)
    daemon = start(config)
    try:
        wait_for(tmp_path / "state.json")
        deadline = time.monotonic() + 20
        while not mail_user.messages("Drafts"):
            assert time.monotonic() < deadline, "the daemon never wrote the due draft"
            time.sleep(0.2)
        twin = subprocess.run(
            [sys.executable, "-m", "assistant", "--config", str(config), "run"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert twin.returncode == 75
        assert "already running" in twin.stderr
        good = config.read_text()
        config.write_text(good + "\n[followup]\nwait = 'soon'\n")
        daemon.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        assert daemon.poll() is None, "an invalid config on SIGHUP must not stop the daemon"
        started = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        err = daemon.communicate(timeout=15)[1]
        assert daemon.returncode == 0
        assert time.monotonic() - started < 10
        assert "keeping the old one" in err and "followup.wait" in err
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
        [sys.executable, "-m", "assistant", "--config", str(config), "run"],
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
    try:
        lines = read_notifications(sock, "READY=1")
        assert any(line.startswith("STATUS=") and "draft(s) for you to review" in line for line in lines)
        assert "WATCHDOG=1" in read_notifications(sock, "WATCHDOG=1", timeout=5)
        assert len(mail_user.messages("Drafts")) == 1
        time.sleep(1)  # the IDLE watcher is listening
        reply(mail_user, "<idle-reply@h>")
        latency = wait_until(lambda: mail_user.messages("Drafts") == {}, timeout=15)
        print(f"\nreply acted on {latency:.2f} s after it was appended (IDLE)")
        daemon.send_signal(signal.SIGTERM)
        daemon.communicate(timeout=15)
        assert daemon.returncode == 0
        assert "STOPPING=1" in read_notifications(sock, "STOPPING=1", timeout=5)
    finally:
        if daemon.poll() is None:
            daemon.kill()
        sock.close()


def test_a_reply_that_arrives_while_the_idle_connection_is_down_is_acted_on(mail_user, tmp_path):
    config = idle_config(mail_user, tmp_path)
    sock, path = notify_socket(tmp_path)
    daemon = start_with(config, NOTIFY_SOCKET=str(path))
    try:
        read_notifications(sock, "READY=1")
        time.sleep(1)
        assert mail_user.server.kill_imap_processes() >= 1  # drops the IDLE connection
        reply(mail_user, "<while-down@h>")
        latency = wait_until(lambda: mail_user.messages("Drafts") == {}, timeout=30)
        print(f"\nreply acted on {latency:.2f} s after the connection was killed")
        daemon.send_signal(signal.SIGTERM)
        err = daemon.communicate(timeout=15)[1]
        assert daemon.returncode == 0
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
