"""`status`: requests, goals, the next check-in and mentors, for a person or as JSON."""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assistant.cli.context import AppContext, pass_app
from assistant.core.status import build_status


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable document (see the README).")
@click.option("--why", "why", is_flag=True, help="Under each request, say why it is where it is.")
@pass_app
def status(app: AppContext, as_json: bool, why: bool) -> None:
    """What needs you now, then requests, goals, the next check-in and mentors (never changes anything)."""
    state = app.store.read()
    doc = build_status(app.settings, state.requests, now=app.now, overrides=state.overrides, manual=state.meta.manual)
    if as_json:
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    print_status(doc, app.settings.tz, why=why)


def print_status(doc: dict[str, Any], tz: tzinfo, *, why: bool = False, console: Console | None = None) -> None:
    """The human view: what needs you now first, then requests, goals, the check-in and mentors.

    Laid out for an 80-column terminal: dates never wrap, long subjects and reasons do.
    """
    console = console or Console()
    needs = doc.get("needs_you_now", [])
    if needs:
        console.print("[bold]Needs you now[/]")
        items = Table.grid(padding=(0, 1))
        items.add_column(no_wrap=True)
        items.add_column(overflow="fold")
        for item in needs:
            items.add_row(" •", escape(item["text"]))
        console.print(items)
    else:
        console.print("[bold]Nothing needs you now.[/]")
    console.print()
    if doc["requests"]:
        table = Table(title="Requests", title_justify="left", expand=False)
        table.add_column("mentor", max_width=20, overflow="ellipsis")
        table.add_column("subject and why" if why else "subject", overflow="fold", ratio=1)
        table.add_column("state", no_wrap=True)
        table.add_column("next", no_wrap=True)
        for r in doc["requests"]:
            state = r["state"].replace("_", " ") + (f" ({r['round']})" if r["round"] else "")
            about = escape(r["subject"]) + (f"\n[dim]{escape(r['why'])}[/]" if why and r["why"] else "")
            table.add_row(escape(r.get("mentor_name") or r["mentor"]), about, state, _short(r["next_action_at"], tz))
        console.print(table)
    else:
        console.print("No requests tracked yet.")
    if doc["goals"]:
        goals = Table(title="Goals", title_justify="left")
        goals.add_column("id", overflow="fold")
        goals.add_column("title", overflow="fold", ratio=1)
        for column in ("your aim", "promised", "status"):
            goals.add_column(column, no_wrap=True)
        for g in doc["goals"]:
            state = g["status"] + (" (overdue)" if g.get("overdue") else "")
            note = f"\n[dim]{escape(g['note'])}[/]" if g.get("note") else ""
            goals.add_row(g["id"], escape(g["title"]) + note, g["target"], g["deadline"], state)
        console.print(goals)
    record = doc.get("track_record") or {}
    if record.get("done"):
        console.print(f"[bold]Track record:[/] {escape(record['sentence'])}")
        if record.get("suggestion"):
            console.print(f"  {escape(record['suggestion'])}")
    for k in doc.get("contracts", []):
        if not (k["up_for_review"] or k["packet_due"]):
            console.print(f"[bold]Contract:[/] {escape(k['why'])} (version {k['version']})")
    for c in doc["checkins"]:
        who = c.get("mentor_name") or c["mentor"]
        console.print(f"[bold]Next check-in with {escape(who)}:[/] {_short(c['start'], tz)}")
        agenda = Table.grid(padding=(0, 1))
        agenda.add_column(no_wrap=True)
        agenda.add_column(overflow="fold")
        for item in c["agenda"]:
            agenda.add_row(" -", escape(item))
        console.print(agenda)
    if doc["mentors"]:
        console.print(mentors_table(doc["mentors"]))


def mentors_table(mentors: list[dict[str, Any]], *, area: bool = False) -> Table:
    """Mentors for an 80-column terminal: name and address together, their stage, when contacted;
    area and suggested colleagues under the name (addresses and dates never split)."""
    table = Table(title="Mentors", title_justify="left")
    table.add_column("mentor", overflow="fold", ratio=1)
    table.add_column("stage", no_wrap=True)
    table.add_column("contacted", no_wrap=True)
    for m in mentors:
        lines = [escape(m["name"]), f"[dim]{escape(m['email'])}[/]"]
        if area and m.get("area"):
            lines.append(f"[dim]{escape(m['area'])}[/]")
        names = m.get("suggested_names") or [""] * len(m["suggested"])
        for address, name in zip(m["suggested"], names, strict=False):
            lines.append(f"[dim]suggested: {escape(f'{name} <{address}>' if name else address)}[/]")
        table.add_row("\n".join(lines), m["stage"], (m.get("contacted_at") or "-")[:10])
    return table


def _short(iso: str | None, tz: tzinfo) -> str:
    if not iso:
        return "-"
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    moment = moment.astimezone(tz)
    return f"{moment:%a %b} {moment.day} {moment:%H:%M}"
