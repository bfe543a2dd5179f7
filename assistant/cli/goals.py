"""`goal add/list/done/edit`: manage SMART goals in config.toml, keeping its comments."""

from __future__ import annotations

from datetime import date

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assistant.cli.context import AppContext, pass_app
from assistant.cli.params import DATE, DURATION
from assistant.config.edit import add_goal, update_goal
from assistant.core.goals import lint_goal
from assistant.core.readback import effective_goals
from assistant.core.settings import Settings
from assistant.core.status import build_status
from assistant.errors import UsageError


@click.group()
def goal() -> None:
    """Manage SMART goals (edits the config file in place)."""


@goal.command("add")
@click.argument("goal_id")
@click.option("--title", required=True, help="Specific: what you will produce.")
@click.option("--measure", default="", help="Measurable: how you both know it is done.")
@click.option("--relevant", default="", help="Relevant: what it serves.")
@click.option("--owner", default="me", show_default=True, help="Who is doing it: me, or your mentor's address.")
@click.option("--mentor", "mentor", metavar="MENTOR", default=None, help="Whose goal: a mentor's address or a "
              "unique part of the name (needed with several contracts; else the only contract's).")  # fmt: skip
@click.option("--start", type=DATE, help="When you start (default: today).")
@click.option("--estimate", type=DURATION, required=True, help="Achievable: your honest estimate, like 2w.")
@click.option("--promised", type=DATE, help="Time-bound: a date already agreed (else computed).")
@pass_app
def add(app: AppContext, goal_id: str, title: str, measure: str, relevant: str, owner: str, mentor: str | None,
        start: date | None, estimate: str, promised: date | None) -> None:  # fmt: skip
    """Add a goal; prints its target and promised dates."""
    if any(g.id == goal_id for g in app.settings.goals):
        raise UsageError(f"a goal with id {goal_id!r} already exists", fix=f"Use `goal edit {goal_id}` to change it.")
    if mentor is None and len(app.settings.contracts) > 1:
        names = ", ".join(app.settings.mentor_label(c.mentor) for c in app.settings.contracts)
        raise UsageError(f"--mentor is needed: you have several contracts ({names})",
                         fix="Add --mentor with an address or a unique part of the name.")  # fmt: skip
    today = app.now.astimezone(app.settings.tz).date()
    fields = {
        "id": goal_id, "title": title, "measure": measure or None, "relevant": relevant or None, "owner": owner,
        "mentor": mentor, "start": start or today, "estimate": estimate, "promised": promised,
    }  # fmt: skip
    config = add_goal(app.config_path, fields)
    _show(app, config.settings, goal_id)


@goal.command("edit")
@click.argument("goal_id")
@click.option("--title", help="Specific: what you will produce.")
@click.option("--measure", help="Measurable: how you both know it is done.")
@click.option("--relevant", help="Relevant: what it serves.")
@click.option("--owner", help="Who is doing it: me, or your mentor's address.")
@click.option("--mentor", "mentor", metavar="MENTOR",
              help="Whose goal: a mentor's address or a unique part of the name.")  # fmt: skip
@click.option("--start", type=DATE, help="When you start.")
@click.option("--estimate", type=DURATION, help="Your honest estimate, like 2w.")
@click.option("--promised", type=DATE, help="A date agreed with your mentor.")
@click.option("--no-promised", is_flag=True, help="Forget an agreed date; compute it again.")
@click.option("--not-done", is_flag=True, help="Reopen a goal marked done.")
@pass_app
def edit(app: AppContext, goal_id: str, title: str | None, measure: str | None, relevant: str | None,
         owner: str | None, mentor: str | None, start: date | None, estimate: str | None, promised: date | None,
         no_promised: bool, not_done: bool) -> None:  # fmt: skip
    """Change a goal's fields."""
    _known(app.settings, goal_id)
    fields = {
        "title": title, "measure": measure, "relevant": relevant, "owner": owner, "mentor": mentor, "start": start,
        "estimate": estimate, "promised": promised,
    }  # fmt: skip
    remove = tuple(k for k, flag in (("promised", no_promised), ("done", not_done)) if flag)
    config = update_goal(app.config_path, goal_id, fields, remove=remove)
    _show(app, config.settings, goal_id)


@goal.command("done")
@click.argument("goal_id")
@click.option("--on", "on", type=DATE, help="When it was done (default: today).")
@pass_app
def done(app: AppContext, goal_id: str, on: date | None) -> None:
    """Mark a goal done (its calendar task is completed on the next cycle)."""
    _known(app.settings, goal_id)
    when = on or app.now.astimezone(app.settings.tz).date()
    config = update_goal(app.config_path, goal_id, {"done": when})
    click.echo(f"{goal_id}: done on {when}.")
    _show(app, config.settings, goal_id)


@goal.command("list")
@pass_app
def list_goals(app: AppContext) -> None:
    """Goals with their dates, and what keeps each from being SMART."""
    settings = app.settings
    state = app.store.read()
    goals, _ = effective_goals(settings.goals, state.overrides)
    status = build_status(settings, state.requests, now=app.now, overrides=state.overrides)
    by_id = {g["id"]: g for g in status["goals"]}
    table = Table(title="Goals", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("goal", overflow="fold", ratio=1)
    for column in ("your aim", "promised", "status"):
        table.add_column(column, no_wrap=True)
    for g in goals:
        row = by_id.get(g.id, {})
        state_text = row.get("status", "-") + (" (overdue)" if row.get("overdue") else "")
        who = "you" if g.owner in ("me", "") else g.owner
        lines = [escape(g.title), f"[dim]{escape(who)}, from {g.start}[/]"]
        lines += [f"[dim]not yet SMART: {escape(problem)}[/]" for problem in lint_goal(g, settings)]
        if row.get("note"):
            lines.append(f"[dim]{escape(row['note'])}[/]")
        table.add_row(g.id, "\n".join(lines), row.get("target", "-"), row.get("deadline", "-"), state_text)
    Console().print(table if goals else "No goals yet: `mentor-assistant goal add ID --title ... --estimate 2w`.")


def _known(settings: Settings, goal_id: str) -> None:
    if not any(g.id == goal_id for g in settings.goals):
        known = ", ".join(g.id for g in settings.goals) or "none yet"
        raise UsageError(
            f"there is no goal with id {goal_id!r} (known: {known})",
            fix="`mentor-assistant goal list` shows the ids; `goal add ID` creates one.",
        )


def _show(app: AppContext, settings: Settings, goal_id: str) -> None:
    status = build_status(settings, {}, now=app.now)
    for g in status["goals"]:
        if g["id"] == goal_id:
            click.echo(f"{goal_id}: aim for {g['target']} (your target), promise {g['deadline']}.")
    for g in settings.goals:
        if g.id == goal_id:
            for problem in lint_goal(g, settings):
                click.echo(f"  not yet SMART: {problem}")
