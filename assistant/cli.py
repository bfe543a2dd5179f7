"""The command line. The only place that configures logging and turns errors into exit codes."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assistant import clock
from assistant.adapters import secrets
from assistant.adapters.store import Store
from assistant.cli_contract import contract
from assistant.cli_goals import goal
from assistant.cli_mentors import mentor, outreach
from assistant.config import Config, find_config, load_config
from assistant.core.goals import lint_goal
from assistant.core.status import build_status
from assistant.errors import AssistantError

log = logging.getLogger("assistant")
F = TypeVar("F", bound=Callable[..., Any])
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class RedactingFilter(logging.Filter):
    """Replaces every known password and token in a record's final text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = secrets.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = secrets.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JournalFormatter(logging.Formatter):
    """`<N>message` lines: journald reads the priority and adds its own timestamps."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        prefix = f"<{_PRIORITY.get(record.levelno, 6)}>"
        return "\n".join(prefix + line for line in text.splitlines())


def setup_logging(verbose: int) -> None:
    """Log to stderr; journald-friendly when systemd connected stderr to the journal."""
    level = logging.DEBUG if verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("assistant").setLevel(level)
    if verbose > 1:
        root.setLevel(logging.DEBUG)


def _fail(exc: AssistantError) -> None:
    console = Console(stderr=True)
    console.print(f"[bold red]error:[/] {escape(secrets.redact(str(exc)))}", highlight=False, soft_wrap=True)
    console.print(exc.advice(), highlight=False, markup=False, soft_wrap=True)
    sys.exit(exc.exit_code)


class _Main(click.Group):
    """Every command's AssistantError becomes its message, advice and exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AssistantError as exc:
            _fail(exc)
        except KeyboardInterrupt:
            sys.exit(130)


class Context:
    def __init__(self, config_path: Path, verbose: int) -> None:
        self.config_path = config_path
        self.verbose = verbose
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
            plain = [s for s in (self._config.mail, self._config.smtp, self._config.calendar) if s is not None]
            secrets.warn_if_readable(self.config_path, any(s.secret.password for s in plain))
        return self._config


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="The config file.")
@click.option("-v", "--verbose", count=True, help="More detail in the log (-vv: libraries too).")
@click.version_option(package_name="mentor-assistant")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """mentor-assistant: tracks your requests to mentors, drafts polite follow-ups, and keeps
    your goals and check-ins in your calendar. It never sends mail to a mentor."""
    setup_logging(verbose)
    ctx.obj = Context(find_config(config_path), verbose)


@main.command()
@click.option("--dry-run", is_flag=True, help="Print what would be done; change nothing.")
@click.pass_obj
def once(obj: Context, dry_run: bool) -> None:
    """Run one full cycle (mail scan, flags, drafts, calendar) and exit."""
    from assistant.cycle import run_cycle

    config = obj.config
    result = run_cycle(config, now=clock.now(), dry_run=dry_run)
    lines = result.plan.describe()
    if dry_run:
        click.echo("Would do:" if result.plan.actions else "Nothing to do.")
        for line in lines:
            click.echo(f"  {line}")
        return
    report = result.report
    assert report is not None
    if not report.done and not report.failed:
        click.echo("Nothing to do.")
    for line in report.done:
        click.echo(f"done: {line}")
    for line in report.failed:
        click.echo(f"failed (will retry): {line}")
    for line in report.notes:
        click.echo(f"note: {line}")


@main.command()
@click.pass_obj
def run(obj: Context) -> None:
    """The daemon, in the foreground (what systemd starts)."""
    from assistant.daemon import run_daemon

    sys.exit(run_daemon(obj.config_path, obj.config))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable document.")
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    """Requests, goals and the next check-in."""
    config = obj.config
    session = Store(config.state_path).read()
    doc = build_status(config, session.requests, now=clock.now(), overrides=session.overrides)
    if as_json:
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    _print_status(doc)


def _print_status(doc: dict[str, Any]) -> None:
    console = Console()
    table = Table(title="Requests", title_justify="left", expand=False)
    for column in ("mentor", "subject", "sent", "state", "round", "next", "why"):
        table.add_column(column, overflow="fold")
    for r in doc["requests"]:
        sent, due = _short(r["sent_at"]), _short(r["next_action_at"])
        table.add_row(r["mentor"], r["subject"], sent, r["state"], str(r["round"]), due, r["why"])
    if not doc["requests"]:
        console.print("No requests tracked yet.")
    else:
        console.print(table)
    if doc["goals"]:
        goals = Table(title="Goals", title_justify="left")
        for column in ("id", "title", "target (yours)", "promised", "status"):
            goals.add_column(column)
        for g in doc["goals"]:
            state = g["status"] + (" (overdue)" if g.get("overdue") else "")
            goals.add_row(
                g["id"], g["title"], g["target"], g["deadline"], state + (f"\n{g['note']}" if g.get("note") else "")
            )
        console.print(goals)
    if doc.get("contract") and doc["contract"]["up_for_review"]:
        console.print(f"[bold yellow]Contract:[/] {escape(doc['contract']['why'])}")
    for c in doc["checkins"]:
        console.print(f"[bold]Next check-in[/] {_short(c['start'])}")
        for item in c["agenda"]:
            console.print(f"  - {item}")
    if doc["mentors"]:
        mentors = Table(title="Mentors", title_justify="left")
        for column in ("name", "email", "stage", "contacted", "suggested"):
            mentors.add_column(column, overflow="fold")
        for m in doc["mentors"]:
            contacted = (m.get("contacted_at") or "-")[:10]
            mentors.add_row(m["name"], m["email"], m["stage"], contacted, ", ".join(m["suggested"]))
        console.print(mentors)


def _short(iso: str | None) -> str:
    if not iso:
        return "-"
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{moment:%a %b} {moment.day} {moment:%H:%M}"


@main.command("check-config")
@click.option("--offline", is_flag=True, help="Only validate the file; do not log in anywhere.")
@click.pass_obj
def check_config(obj: Context, offline: bool) -> None:
    """Validate the config file and, unless --offline, log in to each server."""
    config = obj.config
    click.echo(f"{obj.config_path}: valid")
    for g in config.goals:
        for problem in lint_goal(g, config):
            click.echo(f"  goal {g.id} is not yet SMART: {problem}")
    if offline:
        return
    from assistant.adapters.caldav import CalendarStore
    from assistant.adapters.imap import Mailbox

    mail = config.mail
    mailbox = Mailbox.connect(mail, secrets.resolve(mail.secret, username=mail.username, host=mail.host))
    try:
        folders = mailbox.detect_folders()
    finally:
        mailbox.close()
    click.echo(f"IMAP {mail.host}: logged in as {mail.username}")
    click.echo(f"  Sent: {folders.sent}\n  Drafts: {folders.drafts}\n  Trash: {folders.trash or '(none)'}")
    click.echo(f"  watching: {', '.join(folders.watch)}")
    if config.calendar:
        cal = config.calendar
        password = secrets.resolve(cal.secret, username=cal.username, host=cal.url)
        try:
            store = CalendarStore.connect(cal, password, create=False)
            click.echo(f"CalDAV {cal.url}: calendar {cal.calendar!r} at {store.url}")
            store.close()
        except AssistantError as exc:
            if exc.exit_code != 69 or "no calendar named" not in str(exc):
                raise
            click.echo(f"CalDAV {cal.url}: logged in; the calendar {cal.calendar!r} will be created on the first run")


main.add_command(goal)
main.add_command(contract)
main.add_command(mentor)
main.add_command(outreach)


@main.command()
@click.argument("message_id")
@click.pass_obj
def track(obj: Context, message_id: str) -> None:
    """Start tracking a sent message by its Message-ID."""
    from assistant.core.headers import normalize_message_id

    normalized = normalize_message_id(message_id)
    if not normalized:
        raise click.BadParameter(f"{message_id!r} is not a Message-ID like <abc@example.org>")
    with Store(obj.config.state_path).locked() as session:
        manual = list(session.meta.get("manual", []))
        if normalized not in manual:
            manual.append(normalized)
        session.meta["manual"] = manual
        session.save()
    click.echo(f"Tracking {normalized}; the next cycle picks it up from the Sent folder.")


@main.command()
@click.argument("request_id")
@click.pass_obj
def untrack(obj: Context, request_id: str) -> None:
    """Stop tracking a request (by the id `status` shows, or its Message-ID)."""
    from dataclasses import replace

    from assistant.core.model import CLOSED

    with Store(obj.config.state_path).locked() as session:
        matches = [r for r in session.requests.values() if request_id in (r.id, r.message_id)]
        if not matches:
            raise click.ClickException(f"no tracked request {request_id!r}; see `mentor-assistant status`")
        for record in matches:
            session.requests[record.id] = replace(record, untracked=True, state=CLOSED, why="Untracked by hand.")
        session.meta["manual"] = [m for m in session.meta.get("manual", []) if m != matches[0].message_id]
        session.save()
    click.echo(f"Stopped tracking {request_id}.")


@main.command()
@click.option("--keep", is_flag=True, help="Leave the servers running and print how to connect.")
@click.option(
    "--imap",
    type=click.Choice(["auto", "dovecot", "pymap"]),
    default="auto",
    help="Which IMAP server to start (auto: Dovecot when installed, else pymap).",
)
@click.pass_obj
def demo(obj: Context, keep: bool, imap: str) -> None:
    """The whole loop on throwaway local servers over a simulated five weeks."""
    from assistant.demo import run_demo

    if not obj.verbose:
        logging.getLogger("assistant").setLevel(logging.WARNING)  # the story prints what happens

    sys.exit(run_demo(keep=keep, imap=imap))
