"""`run`: the daemon loop. A cycle every `poll_interval`, until SIGTERM or SIGINT.

SIGHUP reloads the config; an invalid new config keeps the old one and says why. One
daemon per state file: a second one exits with a clear message.
"""

from __future__ import annotations

import fcntl
import logging
import signal
import threading
from pathlib import Path
from types import FrameType

from assistant import clock
from assistant.config import Config, load_config
from assistant.cycle import run_cycle
from assistant.errors import EX_OK, EX_TEMPFAIL, AssistantError, ConfigError, TempFailError, UnavailableError

log = logging.getLogger(__name__)

MAX_BACKOFF = 600.0


def run_daemon(config_path: Path, config: Config) -> int:
    """Run cycles until asked to stop; returns the exit code."""
    stop = threading.Event()
    reload = threading.Event()

    def on_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("Received %s; stopping after the current step", signal.Signals(signum).name)
        stop.set()

    def on_hup(_signum: int, _frame: FrameType | None) -> None:
        reload.set()
        stop_wait.set()

    stop_wait = threading.Event()
    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, on_hup)
    config.state_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = config.state_path.with_name(config.state_path.name + ".daemon")
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.error("Another mentor-assistant daemon is already running for %s", config.state_path)
            return EX_TEMPFAIL
        backoff = 5.0
        log.info("mentor-assistant started; a cycle every %s", config.mail.poll_interval)
        while not stop.is_set():
            if reload.is_set():
                reload.clear()
                try:
                    config = load_config(config_path)
                    log.info("Configuration reloaded from %s", config_path)
                except ConfigError as exc:
                    log.error("The new configuration is invalid; keeping the old one. %s", exc)
            wait = config.mail.poll_interval.total_seconds()
            try:
                result = run_cycle(config, now=clock.now())
                if result.report:
                    for line in result.report.done:
                        log.info("%s", line)
                    for line in result.report.notes:
                        log.warning("%s", line)
                backoff = 5.0
            except (TempFailError, UnavailableError) as exc:
                log.warning("Cycle failed (%s); retrying in %.0f s", exc, backoff)
                wait, backoff = backoff, min(backoff * 2, MAX_BACKOFF)
            except ConfigError:
                raise
            except AssistantError as exc:
                log.error("Cycle failed: %s", exc)
            stop_wait.clear()
            while not stop.is_set() and not stop_wait.is_set() and wait > 0:
                step = min(wait, 1.0)
                stop.wait(step)
                wait -= step
    log.info("mentor-assistant stopped")
    return EX_OK
