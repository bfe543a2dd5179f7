"""`mentor add/list` and `outreach`: the search for a mentor, from prospect to contract."""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assistant import clock
from assistant.adapters import secrets
from assistant.adapters.imap import Mailbox
from assistant.adapters.store import Store
from assistant.config import Config
from assistant.config_edit import add_mentor
from assistant.core.outreach import compose_outreach, find_mentor, outreach_message_id
from assistant.core.status import build_status
from assistant.errors import ConfigError
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
@click.pass_obj
def add(obj: Any, name: str | None, emails: tuple[str, ...], area: str, project: str, title: str, source: str,
        recommended_by: str, publications: tuple[str, ...], suggestion: str | None) -> None:  # fmt: skip
    """Add a prospective mentor."""
    if suggestion:
        found = _suggestion(obj.config, suggestion)
        if found is None:
            raise ConfigError([f"--from-suggestion: no mentor's reply suggested {suggestion}; see `mentor list`"])
        suggested_name, by = found
        name = name or suggested_name or suggestion
        emails = emails or (suggestion,)
        recommended_by = recommended_by or by
    if not name or not emails:
        raise click.UsageError("give a NAME and at least one --email (or --from-suggestion ADDRESS)")
    fields = {
        "name": name, "email": list(emails), "area": area, "project": project, "title": title, "source": source,
        "recommended_by": recommended_by, "publications": list(publications),
    }  # fmt: skip
    add_mentor(obj.config_path, fields)
    click.echo(f"Added {name} <{emails[0]}> as a prospect. Next: `mentor-assistant outreach {emails[0]}`.")


def _suggestion(config: Config, address: str) -> tuple[str, str] | None:
    session = Store(config.state_path).read()
    for record in session.requests.values():
        for text in record.suggested:
            name, found = parseaddr(text)
            if found.lower() == address.lower():
                suggester = config.mentor_for(record.mentor)
                return name, suggester.name if suggester else record.mentor
    return None


@mentor.command("list")
@click.pass_obj
def list_mentors(obj: Any) -> None:
    """The whole search at a glance: each mentor's stage, and whom replies suggested."""
    config: Config = obj.config
    session = Store(config.state_path).read()
    doc = build_status(config, session.requests, now=clock.now(), overrides=session.overrides)
    table = Table(title="Mentors", title_justify="left")
    for column in ("name", "email", "area", "stage", "contacted", "suggested"):
        table.add_column(column, overflow="fold")
    for m in doc["mentors"]:
        suggested = ", ".join(
            f"{n} <{a}>" if n else a for a, n in zip(m["suggested"], m["suggested_names"], strict=True)
        )
        contacted = (m["contacted_at"] or "-")[:10]
        table.add_row(
            escape(m["name"]), m["email"], escape(m.get("area", "")), m["stage"], contacted, escape(suggested)
        )
    Console().print(table if doc["mentors"] else "No mentors yet: `mentor-assistant mentor add NAME --email ...`.")


@click.command()
@click.argument("who")
@click.option("--again", is_flag=True, help="Write a new draft even though one was written before.")
@click.pass_obj
def outreach(obj: Any, who: str, again: bool) -> None:
    """Write the first e-mail to a prospect as a draft (you review and send it)."""
    config: Config = obj.config
    try:
        person = find_mentor(config, who)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="MENTOR") from None
    store = Store(config.state_path)
    with store.locked() as session:
        attempts: dict[str, int] = dict(session.meta.get("outreach", {}))
        attempt = attempts.get(person.email.lower(), 1)
        mail = config.mail
        mailbox = Mailbox.connect(mail, secrets.resolve(mail.secret, username=mail.username, host=mail.host))
        try:
            folders = mailbox.detect_folders()
            message_id = outreach_message_id(config, person, attempt)
            written = [f for f in (folders.drafts, folders.sent) if mailbox.find_by_message_id(f, message_id)]
            if written and not again:
                where = "is waiting in Drafts" if written[0] == folders.drafts else "was already sent"
                click.echo(f"The outreach to {person.name} {where}; use --again for a new one.")
                return
            if written:
                attempt += 1
                message_id = outreach_message_id(config, person, attempt)
            attempts[person.email.lower()] = attempt
            session.meta["outreach"] = attempts
            session.save()  # the intent first, as for every draft
            raw = compose_outreach(load_templates(config.templates_dir), config, person, message_id=message_id,
                                   now=clock.now())  # fmt: skip
            if not mailbox.find_by_message_id(folders.drafts, message_id):
                mailbox.append(folders.drafts, raw, ("\\Draft", "\\Seen"), clock.now())
        finally:
            mailbox.close()
    click.echo(f"The outreach to {person.name} <{person.email}> is in {folders.drafts}: review it and send it.")
