"""`contract render/draft/review/renew/end`: one relationship, from the agreement to its end.

MENTOR (an address or a unique part of a name) picks the contract; it may be left out
when there is only one.
"""

from __future__ import annotations

from datetime import date, timedelta

import click

from assistant.cli.context import DRY_RUN, AppContext, pass_app, run_plan
from assistant.cli.params import DATE, DURATION
from assistant.config.edit import end_contract, renew_contract
from assistant.config.relationship import find_mentors
from assistant.core.contract_doc import mentor_has_answered, proposal_letter, render_contract
from assistant.core.durations import parse_duration
from assistant.core.ending import check_end, open_goals, renewal, renewed, thanks_letter
from assistant.core.letters import Letter, is_letter, plan_letter
from assistant.core.plan import Plan
from assistant.core.review import render_review, review_meeting_letter
from assistant.core.settings import Contract
from assistant.core.state import State
from assistant.errors import AssistantError, ConfigError, UsageError
from assistant.mailbox import Mailbox
from assistant.template_files import load_templates

MENTOR = click.argument("mentor", required=False)
FORMAT = click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True,
                      help="Markdown or HTML.")  # fmt: skip


def pick(app: AppContext, mentor: str | None) -> Contract:
    """The contract MENTOR names, or the only one."""
    settings = app.settings
    contracts = settings.contracts
    if not contracts:
        raise ConfigError(
            [
                "[contract]: there is no contract in the config yet: add a [contract] table "
                "(the guide's \"The contract\" section, docs/guide.md, shows one; so does `init`'s config file)"
            ]
        )
    if mentor is None:
        if len(contracts) == 1:
            return contracts[0]
        names = ", ".join(settings.mentor_label(c.mentor) for c in contracts)
        raise UsageError(f"there are {len(contracts)} contracts ({names})", fix="Name the mentor: an address or a "
                         "unique part of the name, like `contract review smith`.")  # fmt: skip
    found = [c for m in find_mentors(mentor, settings.mentors) if (c := settings.contract_of(m.email))]
    if len(found) == 1:
        return found[0]
    names = ", ".join(settings.mentor_label(c.mentor) for c in contracts)
    raise UsageError(
        f"{mentor!r} names {'more than one' if found else 'no'} contract's mentor (contracts: {names})",
        fix="Use the mentor's address, or a part of the name only one of them has.",
    )


def _letter(app: AppContext, letter: Letter, dry_run: bool) -> bool:
    """Write one letter to Drafts unless it is there (edited or not) or was sent; whether it was written."""
    key = letter.key

    def found(mailbox: Mailbox, folder: str) -> bool:
        if mailbox.find_by_message_id(folder, key.message_id):
            return True
        uids = mailbox.search_letter(folder, key.to, key.subject, since=key.since)
        messages, _unreadable = mailbox.fetch_headers(folder, uids) if uids else ([], [])
        return any(is_letter(key, m) for m in messages)

    def build(_state: State, mailbox: Mailbox | None) -> Plan:
        assert mailbox is not None
        folders = mailbox.detect_folders()
        written = next((f for f in (folders.drafts, folders.sent) if found(mailbox, f)), None)
        return plan_letter(letter, written_in=written, drafts_folder=folders.drafts)

    report = run_plan(app, build, dry_run=dry_run, mail=True)
    return report is not None and bool(report.done)


@click.group()
def contract() -> None:
    """Your mentorship contracts: the document, its proposal, the review, renewing or ending it.

    MENTOR is the mentor's address or a unique part of the name (`smith`); leave it out when
    there is only one contract.
    """


@contract.command("render")
@MENTOR
@FORMAT
@pass_app
def render(app: AppContext, mentor: str | None, fmt: str) -> None:
    """Print the contract with MENTOR as Markdown or HTML."""
    chosen = pick(app, mentor)
    click.echo(render_contract(load_templates(app.config.templates_dir), fmt, app.settings, chosen), nl=False)


@contract.command("draft")
@MENTOR
@click.option("--anyway", is_flag=True, help="Propose it although the mentor has not answered by e-mail yet.")
@DRY_RUN
@pass_app
def draft(app: AppContext, mentor: str | None, anyway: bool, dry_run: bool) -> None:
    """Write a draft to MENTOR proposing the contract (never sent: you send it)."""
    chosen = pick(app, mentor)
    settings = app.settings
    templates = load_templates(app.config.templates_dir)
    if not anyway and not mentor_has_answered(settings, chosen, app.store.read()):
        raise UsageError(
            f"{chosen.mentor} has not answered any of your e-mails yet",
            fix="A contract proposal comes after the mentor said yes. If they did (in person, on the phone), "
            "add --anyway.",
        )

    if _letter(app, proposal_letter(templates, settings, chosen, now=app.now), dry_run):
        click.echo(f"The proposal to {chosen.mentor} is in Drafts: review it and send it.")


@contract.command("review")
@MENTOR
@FORMAT
@click.option("--draft", "as_draft", is_flag=True, help="Also write a draft to the mentor proposing the review "
              "meeting, with the packet as its agenda (never sent: you send it).")  # fmt: skip
@DRY_RUN
@pass_app
def review(app: AppContext, mentor: str | None, fmt: str, as_draft: bool, dry_run: bool) -> None:
    """The review packet: goals with their dates and margins, check-ins held, what each side expected."""
    chosen = pick(app, mentor)
    settings = app.effective_settings
    templates = load_templates(app.config.templates_dir)
    if not as_draft:
        click.echo(render_review(templates, fmt, settings, chosen, now=app.now), nl=False)
        return
    if chosen.ended is not None:
        raise UsageError(
            f"the contract with {chosen.mentor} ended on {chosen.ended}",
            fix="There is no review meeting to propose; `contract review` still prints the packet.",
        )

    if _letter(app, review_meeting_letter(settings, chosen, templates, now=app.now), dry_run):
        click.echo(f"The review meeting proposal to {chosen.mentor} is in Drafts: review it and send it.")


@contract.command("renew")
@MENTOR
@click.option("--review", "review_on", type=DATE, required=True, help="The new review date (YYYY-MM-DD).")
@click.option("--every", type=DURATION, help="A new cadence for the check-ins, like 6w (default: as now).")
@DRY_RUN
@pass_app
def renew(app: AppContext, mentor: str | None, review_on: date, every: str | None, dry_run: bool) -> None:
    """Redefine: a new version of the contract with MENTOR and a new review date. The check-ins go on."""
    chosen = pick(app, mentor)
    cadence = parse_duration(every) if every else None
    if cadence is not None and (cadence.days % 7 or not timedelta(weeks=1) <= cadence <= timedelta(weeks=26)):
        raise UsageError(f"--every {every} is not whole weeks", fix="Use whole weeks between 1w and 26w, like 6w.")
    today = app.now.astimezone(app.settings.tz).date()
    try:
        change = renewal(chosen, review=review_on, every=cadence, today=today)
    except ValueError as exc:
        raise UsageError(str(exc), fix="Pick a review date after the current one.") from None
    after = renewed(chosen, change)
    who = app.settings.mentor_label(chosen.mentor)
    weeks = after.every.days // 7
    summary = (f"version {change.version} of the contract with {who}: review on {review_on}, check-ins every "
               f"{weeks} week{'s' if weeks != 1 else ''} until then")  # fmt: skip
    if dry_run:
        click.echo(f"Would write {summary}.")
        return
    addresses = _addresses(app, chosen)
    renew_contract(app.config_path, addresses, version=change.version, review=review_on, every=after.every,
                   previous=change.previous[-1])  # fmt: skip
    click.echo(f"Wrote {summary}.")
    click.echo("The check-in series goes on in your calendar from the next cycle (past check-ins stay as they are).")
    draft_command = app.command("contract", "draft", *([mentor] if mentor else []))
    click.echo(f"`{draft_command}` writes the proposal of the new version.")


@contract.command("end")
@MENTOR
@click.option("--on", "on", type=DATE, help="The last day of the relationship (default: today).")
@DRY_RUN
@pass_app
def end(app: AppContext, mentor: str | None, on: date | None, dry_run: bool) -> None:
    """End the relationship with MENTOR amicably: no check-ins after the day, a thank-you draft, stage alumni."""
    chosen = pick(app, mentor)
    settings = app.effective_settings
    day = on or app.now.astimezone(settings.tz).date()
    try:
        check_end(chosen, day)
    except ValueError as exc:
        raise UsageError(str(exc), fix="Give --on a day within the relationship.") from None
    templates = load_templates(app.config.templates_dir)

    thanks = thanks_letter(settings, chosen, templates, now=app.now)
    who = settings.mentor_label(chosen.mentor)
    if dry_run:
        _letter(app, thanks, dry_run=True)
        click.echo(f"Would write ended = {day} into the contract with {who}.")
        return
    # The decision is recorded first: the thank-you can be drafted again later, the end stands.
    if chosen.ended != day:
        end_contract(app.config_path, _addresses(app, chosen), day)
    click.echo(f"The mentorship with {who} ends on {day}: no check-ins after it; the earlier ones stay in your "
               "calendar (from the next cycle).")  # fmt: skip
    try:
        written = _letter(app, thanks, dry_run=False)
    except AssistantError:
        click.echo(f"The thank-you to {who} could not be drafted now: run this command again when your mail "
                   "server can be reached (the end is recorded).", err=True)  # fmt: skip
        raise
    if written:
        click.echo(f"A thank-you to {who} is in Drafts: review it and send it.")
    for goal in open_goals(settings, chosen):
        click.echo(f"Still open: {goal.id} ({goal.title}): close it with `goal done {goal.id}`, or hand it over "
                   f"with `goal edit {goal.id} --owner ...`.")  # fmt: skip


def _addresses(app: AppContext, chosen: Contract) -> frozenset[str]:
    mentor = app.settings.mentor_for(chosen.mentor)
    return frozenset(e.lower() for e in (mentor.emails if mentor else (chosen.mentor,)))
