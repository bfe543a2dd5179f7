"""`status`: requests, goals, the next check-in and mentors, for a person or as JSON."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assistant.cli.context import AppContext, pass_app
from assistant.core.status import build_status


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable document (see the README).")
@pass_app
def status(app: AppContext, as_json: bool) -> None:
    """Requests, goals, the next check-in and mentors (never changes anything)."""
    state = app.store.read()
    doc = build_status(app.settings, state.requests, now=app.now, overrides=state.overrides, manual=state.meta.manual)
    if as_json:
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    print_status(doc)


def print_status(doc: dict[str, Any]) -> None:
    console = Console()
    table = Table(title="Requests", title_justify="left", expand=False)
    for column in ("mentor", "subject", "sent", "state", "round", "next", "why"):
        table.add_column(column, overflow="fold")
    for r in doc["requests"]:
        sent, due = _short(r["sent_at"]), _short(r["next_action_at"])
        table.add_row(r["mentor"], escape(r["subject"]), sent, r["state"], str(r["round"]), due, escape(r["why"]))
    if not doc["requests"]:
        console.print("No requests tracked yet.")
    else:
        console.print(table)
    for item in doc.get("tracked_by_hand", []):
        if not item["found"]:
            console.print(f"Tracked by hand, not found in Sent yet: {escape(item['message_id'])}")
    if doc["goals"]:
        goals = Table(title="Goals", title_justify="left")
        for column in ("id", "title", "target (yours)", "promised", "status"):
            goals.add_column(column)
        for g in doc["goals"]:
            state = g["status"] + (" (overdue)" if g.get("overdue") else "")
            note = f"\n{escape(g['note'])}" if g.get("note") else ""
            goals.add_row(g["id"], escape(g["title"]), g["target"], g["deadline"], state + note)
        console.print(goals)
    if doc.get("contract") and doc["contract"]["up_for_review"]:
        console.print(f"[bold yellow]Contract:[/] {escape(doc['contract']['why'])}")
    for c in doc["checkins"]:
        console.print(f"[bold]Next check-in[/] {_short(c['start'])}")
        for item in c["agenda"]:
            console.print(f"  - {escape(item)}")
    if doc["mentors"]:
        mentors = Table(title="Mentors", title_justify="left")
        for column in ("name", "email", "stage", "contacted", "suggested"):
            mentors.add_column(column, overflow="fold")
        for m in doc["mentors"]:
            contacted = (m.get("contacted_at") or "-")[:10]
            mentors.add_row(escape(m["name"]), m["email"], m["stage"], contacted, escape(", ".join(m["suggested"])))
        console.print(mentors)


def _short(iso: str | None) -> str:
    if not iso:
        return "-"
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{moment:%a %b} {moment.day} {moment:%H:%M}"
