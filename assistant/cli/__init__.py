"""The command line (`mentor-assistant`). The only place that configures logging, and where
errors become their message, advice and exit code."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from assistant.adapters import secrets
from assistant.cli.context import AppContext
from assistant.cli.logs import setup_logging
from assistant.config import find_config
from assistant.errors import EX_USAGE, AssistantError


def _fail(exc: AssistantError) -> None:
    console = Console(stderr=True)
    console.print(f"[bold red]error:[/] {escape(secrets.redact(str(exc)))}", highlight=False, soft_wrap=True)
    console.print(exc.advice(), highlight=False, markup=False, soft_wrap=True)
    sys.exit(exc.exit_code)


class _Main(click.Group):
    """Every error becomes its message, advice and exit code (64 for a command-line mistake)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AssistantError as exc:
            _fail(exc)
        except KeyboardInterrupt:
            sys.exit(130)

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except click.UsageError as exc:
            exc.show()
            sys.exit(EX_USAGE)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


EPILOG = """\b
The config file is --config PATH, else $MENTOR_ASSISTANT_CONFIG, else
~/.config/mentor-assistant/config.toml. MENTOR_ASSISTANT_NOW (ISO 8601 with an
offset) replaces the clock.
\b
Exit codes: 0 ok; 64 a command-line mistake; 69 a server is unreachable,
refuses the login, or a folder or calendar does not exist; 75 a temporary
failure; 78 a configuration error.
"""


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="The config file.")
@click.option("-v", "--verbose", count=True, help="More detail in the log (-vv: libraries too).")
@click.version_option(package_name="mentor-assistant")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """mentor-assistant: tracks your requests to mentors, drafts polite follow-ups, and keeps
    your goals and check-ins in your calendar. It never sends mail to a mentor."""
    setup_logging(verbose)
    ctx.obj = AppContext(find_config(config_path), verbose)


def _register() -> None:
    from assistant.cli import contract, cycle, demo, goals, mentors, setup, status, tracking

    for command in (
        cycle.once, cycle.run, cycle.check_config, status.status, tracking.track, tracking.untrack,
        goals.goal, contract.contract, mentors.mentor, mentors.outreach, demo.demo, setup.init,
    ):  # fmt: skip
        main.add_command(command)


_register()
