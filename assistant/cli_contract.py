"""`contract render` and `contract draft`: the agreement as a document, and its proposal."""

from __future__ import annotations

from typing import Any

import click

from assistant import clock
from assistant.adapters import secrets
from assistant.adapters.imap import Mailbox
from assistant.config import Config
from assistant.core.contract_doc import compose_proposal, proposal_message_id, render_contract
from assistant.errors import ConfigError
from assistant.template_files import load_templates


def _config(obj: Any) -> Config:
    config: Config = obj.config
    if config.contract is None:
        raise ConfigError(["[contract]: there is no contract in the config yet (see config.example.toml)"])
    return config


@click.group()
def contract() -> None:
    """The mentor/mentee contract."""


@contract.command("render")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.pass_obj
def render(obj: Any, fmt: str) -> None:
    """Print the contract as Markdown or HTML."""
    config = _config(obj)
    click.echo(render_contract(load_templates(config.templates_dir), fmt, config), nl=False)


@contract.command("draft")
@click.pass_obj
def draft(obj: Any) -> None:
    """Write a draft to the mentor proposing the contract (never sent: you send it)."""
    config = _config(obj)
    message_id = proposal_message_id(config)
    mail = config.mail
    mailbox = Mailbox.connect(mail, secrets.resolve(mail.secret, username=mail.username, host=mail.host))
    try:
        folders = mailbox.detect_folders()
        for folder, where in ((folders.drafts, "is already in Drafts"), (folders.sent, "was already sent")):
            if mailbox.find_by_message_id(folder, message_id):
                click.echo(f"The proposal of this version of the contract {where} ({folder}); nothing written.")
                return
        raw, _ = compose_proposal(load_templates(config.templates_dir), config, now=clock.now())
        mailbox.append(folders.drafts, raw, ("\\Draft", "\\Seen"), clock.now())
    finally:
        mailbox.close()
    mentor = config.contract.mentor if config.contract else ""
    click.echo(f"The proposal to {mentor} is in {folders.drafts}: review it and send it.")
