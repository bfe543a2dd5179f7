"""IMAP IDLE watchers: one thread and one connection per watched folder.

imapclient is blocking and not thread-safe, so each watcher owns its connection in its
own thread and only ever calls back with "something happened". The watcher re-IDLEs at
least every 9 minutes (servers drop IDLE after 30) and waits in `idle_check` until then:
it wakes for the server's news, its keep-alives and the re-IDLE, nothing else (stopping
shuts its socket, so it stops at once). An `idle_check` that comes back empty long before
its timeout is a dead connection (imapclient issue #565). Any failure drops the
connection; it reconnects with jittered, capped exponential backoff and then wakes the
daemon, whose incremental scan catches up on whatever arrived meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from assistant.adapters import secrets
from assistant.adapters.imap import ImapMailbox
from assistant.adapters.imap_login import LOGOUT_WAIT
from assistant.config import MailSettings

log = logging.getLogger(__name__)

REIDLE_AFTER = 9 * 60.0
QUICK_EMPTY = 3.0  # an idle_check that returns nothing sooner than this, three times: the connection is gone
BACKOFF_FIRST = 1.0
BACKOFF_CAP = 300.0


def backoff_delays(
    first: float = BACKOFF_FIRST, cap: float = BACKOFF_CAP, rng: random.Random | None = None
) -> Iterator[float]:
    """Jittered exponential backoff: each delay in [d/2, d], d doubling up to `cap`."""
    rng = rng or random.Random()
    delay = first
    while True:
        yield delay / 2 + rng.random() * delay / 2
        delay = min(delay * 2, cap)


class IdleWatcher:
    """Watches one folder with IDLE and calls `on_change` when the server reports news."""

    def __init__(self, settings: MailSettings, folder: str, on_change: Callable[[str], None]) -> None:
        self.settings = settings
        self.folder = folder
        self.on_change = on_change
        self.stopped = threading.Event()
        self.supported = True
        self.connected = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"idle:{folder}", daemon=True)
        self._client: Any = None  # the connection while it is IDLE, for stop() to interrupt

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopped.set()
        client = self._client
        if client is not None:
            with contextlib.suppress(OSError, AttributeError):
                client.socket().shutdown(socket.SHUT_RDWR)  # idle_check returns now, not in 30 s
        self._thread.join(timeout)

    def _run(self) -> None:
        delays = backoff_delays()
        first = True
        while not self.stopped.is_set():
            mailbox: ImapMailbox | None = None
            try:
                # A fresh password or OAuth2 token on every (re)connect.
                secret = secrets.resolve(self.settings.secret, username=self.settings.username, host=self.settings.host)
                mailbox = ImapMailbox.connect(self.settings, secret)
                client = mailbox.client
                if b"IDLE" not in client.capabilities():
                    log.info("The server does not offer IDLE; polling every %s", self.settings.poll_interval)
                    self.supported = False
                    return
                # SELECT, not EXAMINE: Dovecot tells a read-only session about new mail about
                # 0.3 s later. IDLE reads nothing, so nothing is marked read, and the session
                # ends with LOGOUT, never CLOSE, so nothing is expunged.
                client.select_folder(self.folder, readonly=False)
                self._client = client
                if self.stopped.is_set():
                    break
                self.connected.set()
                if not first:
                    log.info("Reconnected to %s; catching up", self.folder)
                    self.on_change(self.folder)  # whatever arrived while we were away
                first = False
                delays = backoff_delays()
                self._idle(mailbox)
            except Exception as exc:  # any failure at all: drop the connection and reconnect
                self.connected.clear()
                if self.stopped.is_set():
                    break
                delay = next(delays)
                log.warning(
                    "IDLE on %s failed (%s); reconnecting in %.0f s", self.folder, secrets.redact(str(exc)), delay
                )
                self.stopped.wait(delay)
            finally:
                self._client = None
                if mailbox is not None:
                    mailbox.close(wait=LOGOUT_WAIT)  # it may be dead: not waited on for the read timeout

    def _idle(self, mailbox: ImapMailbox) -> None:
        client = mailbox.client
        while not self.stopped.is_set():
            client.idle()
            log.debug("Listening for new mail in %s (IDLE)", self.folder)
            started = time.monotonic()
            quick_empties = 0
            while not self.stopped.is_set() and (left := REIDLE_AFTER - (time.monotonic() - started)) > 0:
                before = time.monotonic()
                # One wait until the re-IDLE: every wake-up of an idle daemon costs CPU.
                responses = client.idle_check(timeout=left)
                if responses:
                    if any(r[1] in (b"EXISTS", b"RECENT", b"FETCH", b"EXPUNGE") for r in responses if len(r) > 1):
                        self.on_change(self.folder)
                    continue
                if time.monotonic() - before < min(QUICK_EMPTY, left / 2):
                    quick_empties += 1
                    if quick_empties >= 3:
                        raise ConnectionError("the server closed the IDLE connection")
                else:
                    quick_empties = 0
            # DONE only on a live connection: after a failure it could wait the full read timeout.
            if not self.stopped.is_set():
                client.idle_done()
