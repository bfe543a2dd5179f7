"""`contract render` and `contract draft`: the agreement as a document, and its proposal."""

from __future__ import annotations

import click

from assistant.cli.context import DRY_RUN, AppContext, pass_app, run_plan
from assistant.core.contract_doc import mentor_has_answered, plan_proposal, proposal_message_id, render_contract
from assistant.core.plan import Plan
from assistant.core.settings import Settings
from assistant.core.state import State
from assistant.errors import ConfigError, UsageError
from assistant.mailbox import Mailbox
from assistant.template_files import load_templates


def _settings(app: AppContext) -> Settings:
    settings = app.settings
    if settings.contract is None:
        raise ConfigError(["[contract]: there is no contract in the config yet (see config.example.toml)"])
    return settings


@click.group()
def contract() -> None:
    """The mentor/mentee contract."""


@contract.command("render")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True,
              help="Markdown or HTML.")  # fmt: skip
@pass_app
def render(app: AppContext, fmt: str) -> None:
    """Print the contract as Markdown or HTML."""
    settings = _settings(app)
    click.echo(render_contract(load_templates(app.config.templates_dir), fmt, settings), nl=False)


@contract.command("draft")
@click.option("--anyway", is_flag=True, help="Propose it although the mentor has not answered by e-mail yet.")
@DRY_RUN
@pass_app
def draft(app: AppContext, anyway: bool, dry_run: bool) -> None:
    """Write a draft to the mentor proposing the contract (never sent: you send it)."""
    settings = _settings(app)
    templates = load_templates(app.config.templates_dir)
    assert settings.contract is not None
    if not anyway and not mentor_has_answered(settings, app.store.read()):
        raise UsageError(
            f"{settings.contract.mentor} has not answered any of your e-mails yet",
            fix="A contract proposal comes after the mentor said yes. If they did (in person, on the phone), "
            "add --anyway.",
        )

    def build(_state: State, mailbox: Mailbox | None) -> Plan:
        assert mailbox is not None
        folders = mailbox.detect_folders()
        message_id = proposal_message_id(settings)
        written = next((f for f in (folders.drafts, folders.sent) if mailbox.find_by_message_id(f, message_id)), None)
        return plan_proposal(settings, templates, written_in=written, drafts_folder=folders.drafts, now=app.now)

    report = run_plan(app, build, dry_run=dry_run, mail=True)
    if report is not None and report.done:
        assert settings.contract is not None
        click.echo(f"The proposal to {settings.contract.mentor} is in Drafts: review it and send it.")
