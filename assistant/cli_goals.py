"""`goal add/list/done/edit`: manage SMART goals in config.toml, keeping its comments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from assistant import clock
from assistant.adapters.store import Store
from assistant.config import Config
from assistant.config_edit import add_goal, update_goal
from assistant.core.durations import parse_duration
from assistant.core.goals import lint_goal
from assistant.core.readback import effective_goals
from assistant.core.status import build_status

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _estimate(value: str | None) -> str | None:
    if value is not None:
        try:
            parse_duration(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--estimate") from None
    return value


@click.group()
def goal() -> None:
    """Manage SMART goals (edits the config file in place)."""


@goal.command("add")
@click.argument("goal_id")
@click.option("--title", required=True, help="Specific: what you will produce.")
@click.option("--measure", default="", help="Measurable: how you both know it is done.")
@click.option("--relevant", default="", help="Relevant: what it serves.")
@click.option("--owner", default="me", show_default=True, help="Who is doing it.")
@click.option("--start", type=DATE, help="When you start (default: today).")
@click.option("--estimate", required=True, help="Achievable: your honest estimate, like 2w.")
@click.option("--promised", type=DATE, help="Time-bound: a date already agreed (else computed).")
@click.pass_obj
def add(obj: Any, goal_id: str, title: str, measure: str, relevant: str, owner: str, start: datetime | None,
        estimate: str, promised: datetime | None) -> None:  # fmt: skip
    """Add a goal; prints its target and promised dates."""
    today = clock.now().astimezone(obj.config.tz).date()
    fields = {
        "id": goal_id, "title": title, "measure": measure or None, "relevant": relevant or None, "owner": owner,
        "start": _day(start) or today, "estimate": _estimate(estimate), "promised": _day(promised),
    }  # fmt: skip
    config = add_goal(obj.config_path, fields)
    _show(config, goal_id)


@goal.command("edit")
@click.argument("goal_id")
@click.option("--title")
@click.option("--measure")
@click.option("--relevant")
@click.option("--owner")
@click.option("--start", type=DATE)
@click.option("--estimate")
@click.option("--promised", type=DATE)
@click.option("--no-promised", is_flag=True, help="Forget an agreed date; compute it again.")
@click.option("--not-done", is_flag=True, help="Reopen a goal marked done.")
@click.pass_obj
def edit(obj: Any, goal_id: str, title: str | None, measure: str | None, relevant: str | None, owner: str | None,
         start: datetime | None, estimate: str | None, promised: datetime | None, no_promised: bool,
         not_done: bool) -> None:  # fmt: skip
    """Change a goal's fields."""
    fields = {
        "title": title, "measure": measure, "relevant": relevant, "owner": owner, "start": _day(start),
        "estimate": _estimate(estimate), "promised": _day(promised),
    }  # fmt: skip
    remove = tuple(k for k, flag in (("promised", no_promised), ("done", not_done)) if flag)
    config = update_goal(obj.config_path, goal_id, fields, remove=remove)
    _show(config, goal_id)


@goal.command("done")
@click.argument("goal_id")
@click.option("--on", "on", type=DATE, help="When it was done (default: today).")
@click.pass_obj
def done(obj: Any, goal_id: str, on: datetime | None) -> None:
    """Mark a goal done (its calendar task is completed on the next cycle)."""
    when = _day(on) or clock.now().astimezone(obj.config.tz).date()
    config = update_goal(obj.config_path, goal_id, {"done": when})
    click.echo(f"{goal_id}: done on {when}.")
    _show(config, goal_id)


@goal.command("list")
@click.pass_obj
def list_goals(obj: Any) -> None:
    """Goals with their dates, and what keeps each from being SMART."""
    config: Config = obj.config
    session = Store(config.state_path).read()
    goals, _ = effective_goals(config.goals, session.overrides)
    status = build_status(config, session.requests, now=clock.now(), overrides=session.overrides)
    by_id = {g["id"]: g for g in status["goals"]}
    table = Table(title="Goals", title_justify="left")
    table.add_column("id", no_wrap=True)
    for column in ("title", "owner", "start", "target (yours)", "promised", "status", "not yet SMART"):
        table.add_column(column, overflow="fold")
    for g in goals:
        row = by_id.get(g.id, {})
        state = row.get("status", "-") + (" (overdue)" if row.get("overdue") else "")
        lint = "\n".join(lint_goal(g, config)) or "-"
        table.add_row(
            g.id, g.title, g.owner, str(g.start), row.get("target", "-"), row.get("deadline", "-"), state, lint
        )
        if row.get("note"):
            table.add_row("", f"[dim]{row['note']}[/]", "", "", "", "", "", "")
    Console().print(table if goals else "No goals yet: `mentor-assistant goal add ID --title ... --estimate 2w`.")


def _show(config: Config, goal_id: str) -> None:
    status = build_status(config, {}, now=clock.now())
    for g in status["goals"]:
        if g["id"] == goal_id:
            click.echo(f"{goal_id}: aim for {g['target']} (your target), promise {g['deadline']}.")
    for g in config.goals:
        if g.id == goal_id:
            for problem in lint_goal(g, config):
                click.echo(f"  not yet SMART: {problem}")
