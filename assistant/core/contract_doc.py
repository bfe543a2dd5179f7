"""The mentor/mentee contract as a document, and the draft that proposes it to the mentor.

Rendered from the `[contract]` table and the goals in Jinja2's sandbox (HTML escaped),
readable by a mentor who has never seen the tool. The proposal is a draft, never sent.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape
from typing import Any

from assistant.core.calendar import goal_dates
from assistant.core.checkins import occurrences
from assistant.core.contract_calendar import contract_basis
from assistant.core.draft import NAMESPACE, POLICY, draft_fingerprint, header_address, salutation
from assistant.core.model import DRAFT_HEADER
from assistant.core.plan import AppendDraft, Plan
from assistant.core.settings import Settings
from assistant.core.state import RequestState, State
from assistant.core.templating import sandbox


def _day(value: Any) -> str:
    return f"{value:%A, %B} {value.day}, {value.year}"


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"


def contract_context(settings: Settings) -> dict[str, Any]:
    """Everything the contract templates show, as plain values."""
    contract = settings.contract
    if contract is None:
        raise ValueError("no [contract] in the settings")
    mentor = settings.mentor_for(contract.mentor)
    name = mentor.name if mentor and mentor.name else contract.mentor
    goals = []
    for goal in settings.goals:
        dates = goal_dates(settings, goal)
        owner = settings.me.name if goal.owner in ("me", "", settings.me.email) else goal.owner
        if mentor and goal.owner.lower() in (e.lower() for e in mentor.emails):
            owner = name
        promised = _day(dates.promised) if dates else "to be agreed"
        goals.append({"title": goal.title, "measure": goal.measure, "owner": owner, "promised": promised})
    return {
        "me": {"name": settings.me.name, "email": settings.me.email, "role": settings.me.role},
        "mentor": {
            "name": name,
            "email": contract.mentor,
            "title": mentor.title if mentor else "",
            "salutation": salutation(name),
        },
        "start": _day(contract.start),
        "review": _day(contract.review),
        "my_goals": list(contract.my_goals),
        "my_expectations": list(contract.my_expectations),
        "mentor_expectations": list(contract.mentor_expectations),
        "goals": goals,
        "every_weeks": contract.every.days // 7,
        "weekday": contract.weekday.capitalize() + "s",
        "time": f"{contract.time:%H:%M}",
        "duration": _duration(contract.duration),
        "location": contract.location,
        "dates": [_day(t) for t in occurrences(contract, settings.me.timezone)],
    }


def render_contract(templates: dict[str, str], fmt: str, settings: Settings) -> str:
    """The contract as Markdown (`md`) or HTML (`html`)."""
    env = sandbox(templates, html=fmt == "html")
    return env.get_template(f"contract.{fmt}.j2").render(**contract_context(settings))


def mentor_has_answered(settings: Settings, state: State) -> bool:
    """Whether the contract's mentor answered one of the resident's requests (a proposal comes after a yes)."""
    assert settings.contract is not None
    mentor = settings.mentor_for(settings.contract.mentor)
    addresses = {e.lower() for e in mentor.emails} if mentor else {settings.contract.mentor.lower()}
    return any(r.state == RequestState.REPLIED and r.mentor.lower() in addresses for r in state.requests.values())


def proposal_message_id(settings: Settings) -> str:
    """The proposal draft's Message-ID: one per version of the contract."""
    assert settings.contract is not None
    basis = (
        contract_basis(settings.contract)
        + hashlib.sha256(
            repr(
                (settings.contract.my_goals, settings.contract.my_expectations, settings.contract.mentor_expectations)
            ).encode()
        ).hexdigest()[:8]
    )
    token = uuid.uuid5(NAMESPACE, f"contract:{settings.me.email}:{basis}").hex[:20]
    return f"<mentor-assistant.contract.{token}@{settings.me.domain}>"


def compose_proposal(templates: dict[str, str], settings: Settings, *, now: datetime) -> tuple[bytes, str]:
    """A draft to the mentor proposing the contract, the document included (text and HTML)."""
    assert settings.contract is not None
    context = contract_context(settings)
    env = sandbox(templates)
    letter = env.get_template("contract-proposal.txt.j2").render(**context).strip() + "\n"
    markdown = render_contract(templates, "md", settings)
    html = render_contract(templates, "html", settings)
    message_id = proposal_message_id(settings)
    msg = EmailMessage(policy=POLICY)
    msg["From"] = header_address(settings.me.name, settings.me.email)
    msg["To"] = header_address(context["mentor"]["name"], settings.contract.mentor)
    msg["Subject"] = "Our mentorship agreement: a proposal"
    msg["Date"] = format_datetime(now.astimezone(settings.tz))
    msg["Message-ID"] = message_id
    msg[DRAFT_HEADER] = f"contract={message_id.split('.')[2].split('@')[0]}"
    msg.set_content(f"{letter}\n{'-' * 60}\n\n{markdown}", charset="utf-8")
    letter_html = "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in letter.strip().split("\n\n"))
    msg.add_alternative(html.replace("<body>", f"<body>{letter_html}<hr>", 1), subtype="html", charset="utf-8")
    return msg.as_bytes(), message_id


def plan_proposal(
    settings: Settings, templates: dict[str, str], *, written_in: str | None, drafts_folder: str, now: datetime
) -> Plan:
    """The plan for `contract draft`: the proposal of this version of the contract, once."""
    assert settings.contract is not None
    if written_in is not None:
        where = "is already in Drafts" if written_in == drafts_folder else "was already sent"
        return Plan(notes=(f"The proposal of this version of the contract {where} ({written_in}); nothing written.",))
    raw, message_id = compose_proposal(templates, settings, now=now)
    summary = f"the contract proposal to {settings.contract.mentor}"
    return Plan(actions=(AppendDraft("", 0, drafts_folder, message_id, raw, draft_fingerprint(raw), summary),))
