"""`run`: cycles until SIGTERM, one daemon per state file, SIGHUP reloads safely."""

from __future__ import annotations

import os
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
