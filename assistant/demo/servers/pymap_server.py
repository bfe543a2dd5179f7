"""A throwaway pure-Python IMAP server (pymap, in memory) for the demo when Dovecot is absent."""

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
class PymapServer:
    host: str
    port: int
    username: str
    password: str
    base: Path
    _proc: subprocess.Popen[bytes]

    def stop(self) -> None:
        stop_process(self._proc, self.base)


def pymap_available() -> bool:
    try:
        import pymap  # noqa: F401
    except ImportError:
        return False
    return True


def start_pymap(*, username: str = "resident@example.edu", password: str = "secret") -> PymapServer:
    """pymap's in-memory backend on a free loopback port."""
    base = Path(tempfile.mkdtemp(prefix="ma-pymap-"))
    port = free_port()
    log = base / "pymap.log"
    cmd = [
        sys.executable, "-c", "import sys; from pymap.main import main; sys.exit(main())",
        "--host", "127.0.0.1", "--port", str(port), "--no-tls", "--no-service", "admin",
        "dict", "--demo-user", username, "--demo-password", password,
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"pymap exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"* OK"):
                    return PymapServer("127.0.0.1", port, username, password, base, proc)
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("pymap did not come up")
