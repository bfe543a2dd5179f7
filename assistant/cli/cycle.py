"""`once`, `run` and `check-config`: the cycle, the daemon, and checking the setup."""

from __future__ import annotations

import sys

import click

from assistant.adapters import secrets
from assistant.cli.context import DRY_RUN, AppContext, pass_app, show_plan, show_report
from assistant.core.goals import lint_goal
from assistant.errors import AssistantError


@click.command()
@DRY_RUN
@pass_app
def once(app: AppContext, dry_run: bool) -> None:
    """Run one full cycle (mail scan, flags, drafts, calendar, digest if due) and exit."""
    from assistant.cycle import run_cycle

    result = run_cycle(app.config, now=app.now, dry_run=dry_run)
    if dry_run:
        show_plan(result.plan)
    else:
        assert result.report is not None
        show_report(result.report)
    if result.calendar_error is not None:
        exc = result.calendar_error
        click.echo(f"calendar: {secrets.redact(str(exc))}", err=True)
        click.echo(exc.advice(), err=True)
        sys.exit(exc.exit_code)


@click.command()
@pass_app
def run(app: AppContext) -> None:
    """The daemon, in the foreground (what systemd starts)."""
    from assistant.daemon import run_daemon

    sys.exit(run_daemon(app.config_path, app.config))


@click.command("check-config")
@click.option("--offline", is_flag=True, help="Only validate the file; do not log in anywhere.")
@pass_app
def check_config(app: AppContext, offline: bool) -> None:
    """Validate the config file and, unless --offline, log in to each server (IMAP, SMTP, CalDAV)."""
    config = app.config
    click.echo(f"{app.config_path}: valid")
    for g in config.settings.goals:
        for problem in lint_goal(g, config.settings):
            click.echo(f"  goal {g.id} is not yet SMART: {problem}")
    if offline:
        return
    from assistant.adapters.caldav import CalendarStore
    from assistant.mailbox import open_mailbox

    mail = config.mail
    with open_mailbox(config) as mailbox:
        folders = mailbox.detect_folders()
    click.echo(f"IMAP {mail.host}: logged in as {mail.username}")
    click.echo(f"  Sent: {folders.sent}\n  Drafts: {folders.drafts}\n  Trash: {folders.trash or '(none)'}")
    click.echo(f"  watching: {', '.join(folders.watch)}")
    if config.smtp:
        from assistant.adapters.smtp import check_login

        smtp = config.smtp
        check_login(smtp, secrets.resolve(smtp.secret, username=smtp.username, host=smtp.host), me=config.settings.me)
        click.echo(f"SMTP {smtp.host}: logged in as {smtp.username} (the digest goes to you only)")
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
            if "google" in cal.url.lower():  # Google's CalDAV cannot create calendars (no MKCALENDAR)
                click.echo(f"CalDAV {cal.url}: logged in; there is no calendar {cal.calendar!r}: create it in "
                           "Google Calendar (apps cannot), then run check-config again")  # fmt: skip
            else:
                click.echo(f"CalDAV {cal.url}: logged in; the calendar {cal.calendar!r} will be created on the "
                           "first run")  # fmt: skip
