"""Real calendar clients reading what the assistant wrote: vdirsyncer, khal and todoman."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path


def tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    assert Path(found).exists(), f"{name} is not installed (it comes with mentor-assistant[test])"
    return found


def sync_to_vdir(tmp_path: Path, url: str, username: str) -> Path:
    """vdirsyncer the calendar at `url` into a local directory; returns it."""
    local = tmp_path / "vdir"
    local.mkdir()
    conf = tmp_path / "vdirsyncer.conf"
    conf.write_text(
        textwrap.dedent(f"""
        [general]
        status_path = "{tmp_path / "status"}/"
        [pair mentorship]
        a = "local"
        b = "remote"
        collections = null
        [storage local]
        type = "filesystem"
        path = "{local}/"
        fileext = ".ics"
        [storage remote]
        type = "caldav"
        url = "{url}"
        username = "{username}"
        password = "x"
    """)
    )
    for step in ("discover", "sync"):
        done = subprocess.run([tool("vdirsyncer"), "-c", str(conf), step], input="y\n", capture_output=True,
                              text=True, timeout=120, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
    return local


def khal_list(tmp_path: Path, local: Path, start: str, span: str) -> str:
    """What `khal list START SPAN` prints for the directory, in America/Denver."""
    conf = tmp_path / "khal.conf"
    conf.write_text(
        textwrap.dedent(f"""
        [calendars]
        [[mentorship]]
        path = {local}/
        type = calendar
        [locale]
        timeformat = %H:%M
        dateformat = %Y-%m-%d
        longdateformat = %Y-%m-%d
        datetimeformat = %Y-%m-%d %H:%M
        longdatetimeformat = %Y-%m-%d %H:%M
        local_timezone = America/Denver
        default_timezone = America/Denver
    """)
    )
    done = subprocess.run([tool("khal"), "-c", str(conf), "list", start, span], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def todo_list(tmp_path: Path, local: Path) -> str:
    """What `todo list` (todoman) prints for the directory."""
    conf = tmp_path / "todoman.py"
    conf.write_text(f'path = "{local}"\ndate_format = "%Y-%m-%d"\n')
    done = subprocess.run([tool("todo"), "--config", str(conf), "list"], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def resync(tmp_path: Path) -> None:
    """vdirsyncer sync again (after `sync_to_vdir` in the same `tmp_path`), as a person's client would."""
    done = subprocess.run([tool("vdirsyncer"), "-c", str(tmp_path / "vdirsyncer.conf"), "sync"], capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
