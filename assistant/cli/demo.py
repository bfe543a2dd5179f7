"""`demo`: the whole loop on throwaway local servers."""

from __future__ import annotations

import logging
import sys

import click

from assistant.cli.context import AppContext, pass_app


@click.command()
@click.option("--keep", is_flag=True, help="Leave the servers running and print how to connect.")
@click.option(
    "--imap",
    type=click.Choice(["auto", "dovecot", "pymap"]),
    default="auto",
    help="Which IMAP server to start (auto: Dovecot when installed, else pymap).",
)
@pass_app
def demo(app: AppContext, keep: bool, imap: str) -> None:
    """The whole loop on throwaway local servers over a simulated five weeks."""
    from assistant.demo import run_demo

    if not app.verbose:
        logging.getLogger("assistant").setLevel(logging.WARNING)  # the story prints what happens
    sys.exit(run_demo(keep=keep, imap=imap))
