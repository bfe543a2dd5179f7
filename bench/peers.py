"""References for bench/run.py that are not the assistant: imapfilter watching INBOX in IDLE
mode, and an HTTP proxy that answers 401 to any request without credentials."""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# --------------------------------------------------------------------------- imapfilter

_IMAPFILTER_CONFIG = """\
options.timeout = 60
options.starttls = false
options.create = false
options.info = false

local account = IMAP {{
  server = '127.0.0.1',
  port = {port},
  username = '{username}',
  password = '{password}',
}}
local inbox = account.INBOX
local out = '{out}'

local function note(line)
  local f = io.open(out, 'a')
  f:write(line .. '\\n')
  f:close()
end

-- What a filter does when mail arrives: find the newest message and read its Subject.
local function newest_subject()
  local newest = 0
  for _, message in ipairs(inbox:select_all()) do
    if message[2] > newest then newest = message[2] end
  end
  if newest == 0 then return '' end
  return inbox[newest]:fetch_field('Subject') or ''
end

inbox:check_status()
note('ready')
while true do
  if not inbox:enter_idle() then
    note('no IDLE')
    break
  end
  note(newest_subject())
end
"""


class ImapfilterWatcher:
    """imapfilter looping on enter_idle() on INBOX; `seen[subject]` is when (time.monotonic())
    the line it wrote on waking up for that message appeared in its output file."""

    def __init__(self, tmp: Path, *, port: int, username: str, password: str) -> None:
        self.tmp = tmp
        self.out = tmp / "imapfilter.out"
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()
        config = tmp / "imapfilter.lua"
        config.write_text(_IMAPFILTER_CONFIG.format(port=port, username=username, password=password, out=self.out))
        config.chmod(0o600)
        self.out.touch()
        self._log = (tmp / "imapfilter.log").open("wb")
        # Its own HOME: imapfilter keeps certificates and state under ~/.imapfilter.
        env = {**os.environ, "HOME": str(tmp)}
        binary = shutil.which("imapfilter")
        assert binary is not None
        self._proc = subprocess.Popen([binary, "-c", str(config)], env=env, stdin=subprocess.DEVNULL,
                                      stdout=self._log, stderr=subprocess.STDOUT)  # fmt: skip
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    @staticmethod
    def available() -> bool:
        return shutil.which("imapfilter") is not None

    def _follow(self) -> None:
        # Polled often: the poll interval is part of what is measured for imapfilter.
        offset, partial = 0, b""
        while not self._stop.is_set():
            with self.out.open("rb") as f:
                f.seek(offset)
                chunk = f.read()
            now = time.monotonic()
            if chunk:
                offset += len(chunk)
                *lines, partial = (partial + chunk).split(b"\n")
                for line in lines:
                    text = line.decode("utf-8", "replace").strip()
                    text = text.split(":", 1)[1].strip() if text.lower().startswith("subject:") else text
                    self.seen.setdefault(text, now)
            time.sleep(0.002)

    def wait_ready(self, timeout: float = 20) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._proc.poll() is None:
            if "ready" in self.seen:
                return True
            time.sleep(0.05)
        return False

    def log_tail(self) -> str:
        self._log.flush()
        return (self.tmp / "imapfilter.log").read_text(errors="replace")[-500:].strip()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._proc.terminate()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._log.close()


# --------------------------------------------------------------------------- 401 proxy

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
               "content-length", "host"}  # fmt: skip


class ChallengingProxy:
    """Forwards HTTP to a server on loopback; a request without an Authorization header is
    answered 401 with `WWW-Authenticate: Basic` instead (with `challenge`), as servers with
    logins do. Every request it receives is counted in `requests` as (method, status)."""

    def __init__(self, upstream_port: int, *, challenge: bool = True) -> None:
        self.requests: list[tuple[str, int]] = []
        lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        chunk = self.rfile.read(size + 2)[:size]
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return data
                        data += chunk
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _handle(self) -> None:
                body = self._body()
                if challenge and "Authorization" not in self.headers:
                    with lock:
                        proxy.requests.append((self.command, 401))
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="bench"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                upstream = getattr(self, "_upstream", None)
                if upstream is None:
                    upstream = self._upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                headers["Host"] = f"127.0.0.1:{upstream_port}"
                headers["Content-Length"] = str(len(body))
                upstream.request(self.command, self.path, body, headers)
                response = upstream.getresponse()
                data = response.read()
                with lock:
                    proxy.requests.append((self.command, response.status))
                self.send_response(response.status, response.reason)
                for key, value in response.getheaders():
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

        for method in ("GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PROPFIND", "PROPPATCH", "REPORT",
                       "MKCALENDAR", "MKCOL", "MOVE", "COPY"):  # fmt: skip
            setattr(Handler, f"do_{method}", Handler._handle)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
