"""`run`: the daemon. An asyncio loop that runs a cycle when something happens.

It wakes on: new mail (an IDLE watcher per watched folder, each in its own thread), the
next time-based event (`core.schedule.next_wake`), a CalDAV read-back every 15 minutes,
`poll_interval` where IDLE is missing or disabled, and SIGHUP (reload the config; an
invalid one keeps the old). Waits are sliced into monotonic sleeps of a minute at most, checked against
the wall clock, so a laptop waking from sleep catches up within a minute. SIGTERM or SIGINT
finish the current step, close the connections and exit 0. One daemon per state file.
Under systemd: READY=1 after the first good cycle, readable STATUS= lines, and WATCHDOG=1
only while cycles keep completing.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import signal
import time
from datetime import datetime, timedelta
from pathlib import Path

from assistant import clock
from assistant.adapters.store import Store
from assistant.config import Config, load_config
from assistant.core.schedule import next_wake
from assistant.core.state import WAITING_STATES, RequestState, State
from assistant.cycle import run_cycle
from assistant.errors import EX_OK, EX_TEMPFAIL, AssistantError, ConfigError, TempFailError, UnavailableError
from assistant.idle import IdleWatcher, backoff_delays
from assistant.mail_connection import KeptConnection
from assistant.sd_notify import Notifier

log = logging.getLogger(__name__)

CALENDAR_PULL = timedelta(minutes=15)
# Longest single sleep: the wall clock is checked at least this often, so a laptop waking
# from sleep (the monotonic clock stops meanwhile) catches up within a minute. Each wake-up
# of an idle daemon costs CPU; a reply wakes it at once anyway.
SLICE = 60.0
SLEEP_GAP = 30.0  # seconds the wall clock ran ahead of the monotonic one: the computer slept
CYCLE_HUNG_AFTER = 600.0  # no watchdog pings while one cycle runs longer than this


class Daemon:
    def __init__(self, config_path: Path, config: Config, notifier: Notifier | None = None) -> None:
        self.config_path = config_path
        self.config = config
        self.notifier = notifier or Notifier()
        self.stop = asyncio.Event()
        self.wake = asyncio.Event()
        self.reload = False
        self.ready = False
        self.cycle_started: float | None = None
        self.watchers: list[IdleWatcher] = []
        self.connection = KeptConnection()  # the cycles' IMAP login, kept from one to the next
        self.loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------------ events

    def _on_mail(self, folder: str) -> None:
        """Called from a watcher thread."""
        log.debug("New activity in %s", folder)
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.wake.set)

    def _on_stop(self, signum: int) -> None:
        log.info("Received %s; stopping after the current step", signal.Signals(signum).name)
        self.notifier.stopping()
        self.stop.set()
        self.wake.set()

    def _on_hup(self) -> None:
        self.reload = True
        self.wake.set()

    def _start_watchers(self) -> None:
        self._stop_watchers()
        if not self.config.mail.idle:
            return
        for folder in dict.fromkeys(self.config.mail.watch):
            watcher = IdleWatcher(self.config.mail, folder, self._on_mail)
            watcher.start()
            self.watchers.append(watcher)

    def _stop_watchers(self) -> None:
        for watcher in self.watchers:
            watcher.stopped.set()
        for watcher in self.watchers:
            watcher.stop(timeout=5)
        self.watchers = []

    def _idle_working(self) -> bool:
        return bool(self.watchers) and all(w.supported and w.connected.is_set() for w in self.watchers)

    # ------------------------------------------------------------------ loop

    async def run(self) -> int:
        self.loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(signum, self._on_stop, signum)
        self.loop.add_signal_handler(signal.SIGHUP, self._on_hup)
        watchdog = asyncio.create_task(self._watchdog())
        self._start_watchers()
        delays = backoff_delays(first=5.0, cap=600.0)
        log.info(
            "mentor-assistant started (%s)",
            "IDLE" if self.config.mail.idle else f"polling every {self.config.mail.poll_interval}",
        )
        try:
            while not self.stop.is_set():
                if self.reload:
                    self._reload()
                self.wake.clear()
                now = clock.now()
                try:
                    self.cycle_started = asyncio.get_running_loop().time()
                    result = await asyncio.to_thread(run_cycle, self.config, now=now, connection=self.connection)
                    delays = backoff_delays(first=5.0, cap=600.0)
                    state = result.state if result.state is not None else Store(self.config.state_path).read()
                    self._report(result.report, state, now)
                    wait_until = self._next_wake(state, now)
                except (TempFailError, UnavailableError) as exc:
                    delay = next(delays)
                    log.warning("Cycle failed (%s); retrying in %.0f s", exc, delay)
                    self.notifier.status(f"Retrying in {delay:.0f} s: {exc}")
                    wait_until = clock.now() + timedelta(seconds=delay)
                except ConfigError:
                    raise
                except AssistantError as exc:
                    log.error("Cycle failed: %s", exc)
                    wait_until = clock.now() + self.config.mail.poll_interval
                except Exception:
                    # Something nothing foresaw (a server's odd answer, a bug): logged with its
                    # traceback and retried like a temporary failure, never a crash loop. A
                    # cycle is safe to run again: its intent was saved before any write.
                    delay = next(delays)
                    log.exception("Cycle failed unexpectedly; retrying in %.0f s", delay)
                    self.notifier.status(f"Retrying in {delay:.0f} s after an unexpected error")
                    wait_until = clock.now() + timedelta(seconds=delay)
                finally:
                    self.cycle_started = None
                await self._sleep_until(wait_until)
        finally:
            watchdog.cancel()
            await asyncio.to_thread(self._stop_watchers)
            await asyncio.to_thread(self.connection.close)
            log.info("mentor-assistant stopped")
        return EX_OK

    def _reload(self) -> None:
        self.reload = False
        try:
            self.config = load_config(self.config_path)
        except ConfigError as exc:
            log.error("The new configuration is invalid; keeping the old one. %s", exc)
            return
        log.info("Configuration reloaded from %s", self.config_path)
        self.connection.close()  # the next cycle logs in with the new settings
        self._start_watchers()

    def _report(self, report: object, state: State, now: datetime) -> None:
        done = getattr(report, "done", [])
        for line in done:
            log.info("%s", line)
        for line in getattr(report, "notes", []):
            log.warning("%s", line)
        waiting = sum(1 for r in state.requests.values() if r.state in WAITING_STATES)
        drafted = sum(1 for r in state.requests.values() if r.state == RequestState.DRAFTED)
        status = f"{waiting} request(s) waiting, {drafted} draft(s) for you to review; last cycle {now:%H:%M}"
        if not self.ready:
            self.notifier.ready(status)
            self.ready = True
        else:
            self.notifier.status(status)

    def _next_wake(self, state: State, now: datetime) -> datetime:
        candidates = [now + CALENDAR_PULL if self.config.calendar else now + timedelta(hours=1)]
        if not self._idle_working():
            candidates.append(now + self.config.mail.poll_interval)
        scheduled = next_wake(
            self.config.settings, list(state.requests.values()), last_digest=state.meta.digest_period, now=now
        )
        if scheduled is not None:
            candidates.append(scheduled + timedelta(seconds=1))
        return min(candidates)

    async def _sleep_until(self, moment: datetime) -> None:
        """Until `moment` (wall clock), a wake-up, or stop, whichever first. After the
        computer slept, the connections are made afresh and a cycle runs at once."""
        while not self.stop.is_set() and not self.wake.is_set():
            started, timer = clock.now(), time.monotonic()
            remaining = (moment - started).total_seconds()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=min(remaining, SLICE))
            # The monotonic clock stands still while the computer sleeps; the wall clock does not.
            slept = (clock.now() - started).total_seconds() - (time.monotonic() - timer)
            if slept > SLEEP_GAP:
                await self._after_sleep(slept)
                return

    async def _after_sleep(self, slept: float) -> None:
        """The computer slept: the server has most likely dropped our connections without a
        word reaching us, so an IDLE connection would hear nothing until its re-IDLE."""
        log.info("The computer slept for about %.0f s; connecting again", slept)
        await asyncio.to_thread(self._start_watchers)  # the old ones' sockets are shut, not waited on
        await asyncio.to_thread(self.connection.close)

    async def _watchdog(self) -> None:
        interval = self.notifier.watchdog_seconds
        if not interval:
            return
        while True:
            await asyncio.sleep(interval / 2)
            started = self.cycle_started
            if started is not None and asyncio.get_running_loop().time() - started > CYCLE_HUNG_AFTER:
                log.error("A cycle has been running for over %.0f s; no watchdog ping", CYCLE_HUNG_AFTER)
                continue
            self.notifier.watchdog()


def run_daemon(config_path: Path, config: Config) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code. One daemon per state file."""
    config.state_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = config.state_path.with_name(config.state_path.name + ".daemon")
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.error("Another mentor-assistant daemon is already running for %s", config.state_path)
            return EX_TEMPFAIL
        return asyncio.run(Daemon(config_path, config).run())
