"""`mentor add/list` and `outreach`: the search for a mentor, from prospect to contract."""

from __future__ import annotations

from email.utils import parseaddr

import click
from rich.console import Console

from assistant.cli.context import DRY_RUN, AppContext, pass_app, run_plan
from assistant.cli.status import mentors_table
from assistant.config.checker import address_problem
from assistant.config.edit import add_mentor
from assistant.core.outreach import find_mentor, outreach_attempt, outreach_message_id, plan_outreach
from assistant.core.plan import Plan
from assistant.core.state import State
from assistant.core.status import build_status
from assistant.errors import UsageError
from assistant.mailbox import Mailbox
from assistant.template_files import load_templates


@click.group()
def mentor() -> None:
    """Prospects and mentors (edits the config file in place, keeping its comments)."""


@mentor.command("add")
@click.argument("name", required=False)
@click.option("--email", "emails", multiple=True, help="An address (repeat for several).")
@click.option("--area", default="", help="Their field, e.g. hematology/oncology.")
@click.option("--project", default="", help="What you want guidance on.")
@click.option("--title", default="", help="e.g. Associate Professor of Medicine.")
@click.option("--source", default="", help="Where you found them (a faculty page).")
@click.option("--recommended-by", default="", help="Who suggested them.")
@click.option("--publication", "publications", multiple=True, help="A paper of theirs (repeatable).")
@click.option("--from-suggestion", "suggestion", help="An address a mentor's reply suggested.")
@pass_app
def add(app: AppContext, name: str | None, emails: tuple[str, ...], area: str, project: str, title: str, source: str,
        recommended_by: str, publications: tuple[str, ...], suggestion: str | None) -> None:  # fmt: skip
    """Add a prospective mentor."""
    if suggestion:
        found = _suggestion(app, suggestion)
        if found is None:
            raise UsageError(
                f"no mentor's reply suggested {suggestion}", fix="`mentor-assistant mentor list` shows them."
            )
        suggested_name, by = found
        name = name or suggested_name or suggestion
        emails = emails or (suggestion,)
        recommended_by = recommended_by or by
    if not name or not emails:
        raise click.UsageError("give a NAME and at least one --email (or --from-suggestion ADDRESS)")
    problems = [p for p in map(address_problem, emails) if p]
    if problems:
        raise UsageError(problems[0], fix="Write --email like jsmith@hospital.org.")
    for address in emails:
        known = app.settings.mentor_for(address)
        if known is not None:
            raise UsageError(f"{address} is already listed (as {known.name!r})", fix="`mentor list` shows everyone.")
    fields = {
        "name": name, "email": list(emails), "area": area, "project": project, "title": title, "source": source,
        "recommended_by": recommended_by, "publications": list(publications),
    }  # fmt: skip
    add_mentor(app.config_path, fields)
    click.echo(f"Added {name} <{emails[0]}> as a prospect. Next: `{app.command('outreach', emails[0])}`.")


def _suggestion(app: AppContext, address: str) -> tuple[str, str] | None:
    for record in app.store.read().requests.values():
        for text in record.suggested:
            name, found = parseaddr(text)
            if found.lower() == address.lower():
                suggester = app.settings.mentor_for(record.mentor)
                return name, suggester.name if suggester else record.mentor
    return None


@mentor.command("list")
@pass_app
def list_mentors(app: AppContext) -> None:
    """The whole search at a glance: each mentor's stage, and whom replies suggested."""
    state = app.store.read()
    doc = build_status(app.settings, state.requests, now=app.now, overrides=state.overrides)
    table = mentors_table(doc["mentors"], area=True)
    Console().print(table if doc["mentors"] else "No mentors yet: `mentor-assistant mentor add NAME --email ...`.")


@click.command()
@click.argument("mentor_name", metavar="MENTOR")
@click.option("--again", is_flag=True, help="Write a new draft even though one was written before.")
@DRY_RUN
@pass_app
def outreach(app: AppContext, mentor_name: str, again: bool, dry_run: bool) -> None:
    """Write the first e-mail to a prospect as a draft (you review and send it).

    MENTOR is an address or a unique part of the name."""
    settings = app.settings
    try:
        person = find_mentor(settings, mentor_name)
    except ValueError as exc:
        raise UsageError(str(exc), fix="`mentor-assistant mentor list` shows the names.") from None
    templates = load_templates(app.config.templates_dir)

    def build(state: State, mailbox: Mailbox | None) -> Plan:
        assert mailbox is not None
        folders = mailbox.detect_folders()
        message_id = outreach_message_id(settings, person, outreach_attempt(state, person))
        written = next((f for f in (folders.drafts, folders.sent) if mailbox.find_by_message_id(f, message_id)), None)
        return plan_outreach(settings, templates, person, state, written_in=written, again=again,
                             drafts_folder=folders.drafts, now=app.now)  # fmt: skip

    report = run_plan(app, build, dry_run=dry_run, mail=True)
    if report is not None and report.done:
        click.echo(f"Review it in your Drafts folder and send it to {person.name} <{person.email}>.")
