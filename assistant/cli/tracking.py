"""`track` and `untrack`: tracking a sent message by hand."""

from __future__ import annotations

import click

from assistant.cli.context import DRY_RUN, AppContext, pass_app, run_plan
from assistant.core.headers import normalize_message_id
from assistant.core.manual import find_requests, plan_track, plan_untrack
from assistant.core.plan import Plan
from assistant.core.state import State
from assistant.errors import AssistantError, TempFailError, UnavailableError, UsageError
from assistant.mailbox import Mailbox, open_mailbox


@click.command()
@click.argument("message_id")
@DRY_RUN
@pass_app
def track(app: AppContext, message_id: str, dry_run: bool) -> None:
    """Start tracking a sent message by its Message-ID (as your mail client shows it)."""
    normalized = normalize_message_id(message_id)
    if not normalized:
        raise UsageError(
            f"{message_id!r} is not a Message-ID",
            fix="Give the Message-ID header of the sent message, like <abc123@example.org>.",
        )
    run_plan(app, lambda state, _mailbox: plan_track(state, normalized), dry_run=dry_run, mail=False)
    try:
        with open_mailbox(app.config) as mailbox:
            sent = mailbox.detect_folders().sent
            found = bool(mailbox.find_by_message_id(sent, normalized))
    except AssistantError as exc:
        click.echo(f"Could not look for it in Sent now ({exc}); the next cycle will.")
        return
    if not found:
        click.echo(
            f"{normalized} is not in {sent} (yet). Check the Message-ID (your mail client shows it in the "
            "message's source); `status` lists it as not found until it appears."
        )


@click.command()
@click.argument("request_id")
@DRY_RUN
@pass_app
def untrack(app: AppContext, request_id: str, dry_run: bool) -> None:
    """Stop tracking a request (by the id `status` shows, or its Message-ID)."""

    def build(state: State, mailbox: Mailbox | None) -> Plan:
        records = find_requests(state, request_id)
        if not records:
            raise UsageError(f"no tracked request {request_id!r}", fix="`mentor-assistant status` lists the ids.")
        found: dict[str, tuple[str, int]] = {}
        if mailbox is not None:
            sent = mailbox.detect_folders().sent
            if mailbox.keywords_allowed(sent):
                for r in records:
                    uids = mailbox.find_by_message_id(sent, r.message_id)
                    if uids:
                        found[r.id] = (sent, uids[0])
        return plan_untrack(state, records, found=found)

    try:
        run_plan(app, build, dry_run=dry_run, mail=True)
    except (UnavailableError, TempFailError) as exc:
        # The mail server can wait: the untrack stands, and the next cycle marks the message.
        click.echo(f"The mail server cannot be reached now ({exc}); untracking here, the next cycle marks it.")
        run_plan(app, build, dry_run=dry_run, mail=False)
