"""Throwaway CalDAV servers (Radicale, Xandikos) on loopback, for the demo and the tests."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.demo.servers.dovecot import free_port, stop_process


@dataclass
class CalDAVServer:
    """A running CalDAV server; `url` is its root, `calendar_home` the user's collection."""

    kind: str
    base: Path
    port: int
    url: str
    calendar_home: str
    username: str
    password: str
    _proc: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Stop the server and remove its files."""
        stop_process(self._proc, self.base)


def _wait_http(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"CalDAV server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"CalDAV server did not come up on port {port}")


def start_radicale(*, username: str = "resident", password: str = "secret", login: bool = False) -> CalDAVServer:
    """Radicale in a temp dir: with no authentication (any password is accepted), or with
    `login` only `username`/`password` (a server that answers 401 to a request without them)."""
    base = Path(tempfile.mkdtemp(prefix="ma-radicale-"))
    port = free_port()
    log = base / "radicale.log"
    auth = ["--auth-type", "none"]
    if login:
        (base / "users").write_text(f"{username}:{password}\n")
        auth = ["--auth-type", "htpasswd", "--auth-htpasswd-filename", str(base / "users"),
                "--auth-htpasswd-encryption", "plain"]  # fmt: skip
    cmd = [
        sys.executable,
        "-m",
        "radicale",
        "--config",
        "",
        *auth,
        "--rights-type",
        "owner_only",
        "--storage-filesystem-folder",
        str(base / "collections"),
        "--server-hosts",
        f"127.0.0.1:{port}",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    _wait_http(port, proc, log)
    url = f"http://127.0.0.1:{port}/"
    return CalDAVServer("radicale", base, port, url, f"{url}{username}/", username, password, proc)


def start_xandikos(*, username: str = "user", password: str = "secret") -> CalDAVServer:
    """Xandikos with its default layout: principal /user/, calendar /user/calendars/calendar/."""
    base = Path(tempfile.mkdtemp(prefix="ma-xandikos-"))
    port = free_port()
    log = base / "xandikos.log"
    cmd = [
        sys.executable,
        "-m",
        "xandikos.web",
        "-d",
        str(base / "data"),
        "--defaults",
        "-l",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    _wait_http(port, proc, log)
    url = f"http://127.0.0.1:{port}/"
    return CalDAVServer("xandikos", base, port, url, f"{url}user/calendars/", username, password, proc)
