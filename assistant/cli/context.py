"""The typed context every command receives, and running a command's plan.

Each command that changes a mailbox or the state builds a `Plan` in the core and runs it
here through `apply`, so each has `--dry-run` and the same exactly-once rules as a cycle.
"""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import click

from assistant import clock
from assistant.adapters import secrets
from assistant.adapters.store import Store
from assistant.apply import ApplyReport, apply_plan
from assistant.config import Config, load_config
from assistant.config.files import default_config_path
from assistant.core.plan import Plan
from assistant.core.readback import effective_goals
from assistant.core.settings import Settings
from assistant.core.state import State
from assistant.mailbox import Mailbox, open_mailbox


@dataclass
class AppContext:
    """What the global options gave: the config file, verbosity, and the moment of the command."""

    config_path: Path
    verbose: int = 0
    _config: Config | None = field(default=None, repr=False)
    _now: datetime | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        """The config, read and validated once."""
        if self._config is None:
            self._config = load_config(self.config_path)
            plain = [s for s in (self._config.mail, self._config.smtp, self._config.calendar) if s is not None]
            secrets.warn_if_readable(self.config_path, any(s.secret.password for s in plain))
        return self._config

    @property
    def settings(self) -> Settings:
        return self.config.settings

    def command(self, *words: str) -> str:
        """A command line that works as typed: with --config when the config is not where it is looked for."""
        found = os.environ.get("MENTOR_ASSISTANT_CONFIG") or str(default_config_path())
        where = [] if Path(found).expanduser() == self.config_path else ["--config", shlex.quote(str(self.config_path))]
        return " ".join(["mentor-assistant", *where, *words])

    @property
    def effective_settings(self) -> Settings:
        """The settings with what the calendar app changed (goals completed, deadlines moved)."""
        goals, _kept = effective_goals(self.settings.goals, self.store.read().overrides)
        return replace(self.settings, goals=goals)

    @property
    def now(self) -> datetime:
        """The clock, read once per command (MENTOR_ASSISTANT_NOW replaces it)."""
        if self._now is None:
            self._now = clock.now()
        return self._now

    @property
    def store(self) -> Store:
        return Store(self.config.state_path)


pass_app = click.make_pass_decorator(AppContext)

DRY_RUN = click.option("--dry-run", is_flag=True, help="Print what would be done; change nothing.")


@contextlib.contextmanager
def _no_mailbox() -> Iterator[None]:
    yield None


def run_plan(
    app: AppContext,
    build: Callable[[State, Mailbox | None], Plan],
    *,
    dry_run: bool,
    mail: bool,
) -> ApplyReport | None:
    """Build a command's plan from the state (under the writer's lock) and apply it, or print it."""
    opener = open_mailbox(app.config) if mail else _no_mailbox()
    with opener as mailbox:
        if dry_run:
            plan = build(app.store.read(), mailbox)
            show_plan(plan)
            return None
        with app.store.locked() as session:
            plan = build(session.state, mailbox)
            report = apply_plan(plan, session, mailbox=mailbox, calendar=None, now=app.now)
    show_report(report)
    return report


def show_plan(plan: Plan) -> None:
    """A dry run's output: what would be done."""
    click.echo("Would do:" if plan.actions else "Nothing to do.")
    for line in plan.describe():
        click.echo(f"  {line}")


def show_report(report: ApplyReport) -> None:
    """What was done, what failed (and is retried), and the notes."""
    if not report.done and not report.failed and not report.notes:
        click.echo("Nothing to do.")
    for line in report.done:
        click.echo(f"done: {line}")
    for line in report.failed:
        click.echo(f"failed (will retry): {line}")
    for line in report.notes:
        click.echo(f"note: {line}")
