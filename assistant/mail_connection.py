"""The daemon's IMAP connection, kept logged in from one cycle to the next.

A reply wakes the daemon, and logging in again (a TCP connection, the greeting, LOGIN,
CAPABILITY, ENABLE) was a quarter of the cycle that acts on it. So `run` lends each cycle
the connection the previous one used, handed over as a fresh login leaves it: no folder
open (UNSELECT, never CLOSE, which would expunge) and the folder list asked again.

It is lent again only when it is trusted: used less than `KEEP_FOR` ago (by the monotonic
clock and the wall clock, so a laptop's sleep counts), for the same mail settings, and
answering a NOOP within `NOOP_WAIT`. Anything else, and any error during a cycle, closes
it; the next cycle logs in afresh. `once` and the other commands log in per command.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from assistant.adapters import secrets
from assistant.adapters.imap import ImapMailbox
from assistant.adapters.imap_login import LOGOUT_WAIT
from assistant.config import Config, MailSettings
from assistant.mailbox import Mailbox

log = logging.getLogger(__name__)

KEEP_FOR = 300.0  # seconds; servers log out idle sessions after 30 minutes at the earliest
NOOP_WAIT = 10.0  # seconds; a connection a NAT dropped silently would otherwise hang a cycle


class KeptConnection:
    """One logged-in connection, lent to one cycle at a time (`borrow`)."""

    def __init__(self) -> None:
        self._box: ImapMailbox | None = None
        self._settings: MailSettings | None = None
        self._last_used = (0.0, 0.0)  # (monotonic, wall clock)
        self.logins = 0  # how many times it logged in (the daemon's status and the tests read it)

    @contextmanager
    def borrow(self, config: Config) -> Iterator[Mailbox]:
        """The kept connection when it can be trusted, else a new login; kept after a cycle
        that ended well, closed after one that did not."""
        box = self._take(config.mail)
        ok = False
        try:
            yield box
            ok = True
        finally:
            if ok and box.end_cycle():
                self._box, self._settings = box, config.mail
                self._last_used = (time.monotonic(), time.time())
            else:
                box.close(wait=LOGOUT_WAIT)

    def close(self) -> None:
        """Log out (the daemon stops, its settings changed, or the computer slept)."""
        if self._box is not None:
            self._box.close(wait=LOGOUT_WAIT)
            self._box = None

    def _take(self, settings: MailSettings) -> ImapMailbox:
        box, self._box = self._box, None
        if box is not None:
            mono, wall = self._last_used
            fresh = time.monotonic() - mono < KEEP_FOR and 0 <= time.time() - wall < KEEP_FOR
            same = settings == self._settings
            if fresh and same and box.answers_within(NOOP_WAIT):
                return box
            why = "too old" if not fresh else "for other settings" if not same else "gone"
            log.debug("Logging in again (the kept connection is %s)", why)
            box.close(wait=LOGOUT_WAIT)
        self.logins += 1
        return ImapMailbox.connect(settings, secrets.resolve(settings.secret, username=settings.username,
                                                             host=settings.host))  # fmt: skip
