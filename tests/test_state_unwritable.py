# ruff: noqa: F811 - `config` is the shared fixture of tests/test_evidence.py
"""A state directory the assistant cannot write: a clear exit 78 (systemd does not restart
on it), no traceback, and no draft whose intent could not be recorded first."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.test_evidence import T0, config, drafts, send  # noqa: F401

pytestmark = pytest.mark.integration
BIN = str(Path(sys.executable).parent / "mentor-assistant")


def run(cfg: Path, now, *args: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """The command as an unprivileged user would run it (root's override of permissions dropped)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: permissions cannot be taken away from root")
        prefix = [setpriv, "--bounding-set=-all", "--inh-caps=-all"]
    env = {**os.environ, "MENTOR_ASSISTANT_NOW": now.isoformat()}
    done = subprocess.run([*prefix, BIN, "--config", str(cfg), *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("damaged", [False, True])
def test_a_read_only_state_directory_stops_before_any_draft(mail_user, config, damaged):
    send(mail_user)
    assert run(config, T0 + timedelta(days=3), "once")[0] == 0
    if damaged:
        (config.parent / "state.json").write_bytes(b"\0" * 100)
    config.parent.chmod(0o500)
    try:
        code, out = run(config, T0 + timedelta(days=15), "once")
        status_code, _ = run(config, T0 + timedelta(days=15), "status")
    finally:
        config.parent.chmod(0o700)
    assert code == 78 and "Traceback" not in out, out
    assert "permission denied" in out, out
    assert drafts(mail_user) == []  # the intent could not be recorded: nothing was done
    assert status_code in (0, 78)  # reading still works, or says why
