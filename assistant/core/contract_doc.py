"""The mentor/mentee contract as a document, and the draft that proposes it to the mentor.

Rendered from one contract (`[contract]` or one of `[[contracts]]`) and its goals in
Jinja2's sandbox (HTML escaped), readable by a mentor who has never seen the tool. The
proposal is a draft, never sent; so are the other letters of the relationship, which
`compose_letter` builds the same way (the review meeting, the thank-you).
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
from assistant.core.draft import NAMESPACE, POLICY, header_address, salutation
from assistant.core.letters import PROPOSAL_SUBJECT, Letter, letter_key
from assistant.core.model import DRAFT_HEADER
from assistant.core.settings import Contract, Settings
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


def contract_context(settings: Settings, contract: Contract) -> dict[str, Any]:
    """Everything the contract templates show, as plain values."""
    mentor = settings.mentor_for(contract.mentor)
    name = settings.mentor_label(contract.mentor)
    goals = []
    for goal in settings.goals_of(contract):
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
        "version": contract.version,
        "start": _day(contract.start),
        "review": _day(contract.review),
        "ended": _day(contract.ended) if contract.ended else "",
        "my_goals": list(contract.my_goals),
        "mentor_goals": list(contract.mentor_goals),
        "outcome": list(contract.outcome),
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


def render_contract(templates: dict[str, str], fmt: str, settings: Settings, contract: Contract) -> str:
    """The contract as Markdown (`md`) or HTML (`html`)."""
    env = sandbox(templates, html=fmt == "html")
    return env.get_template(f"contract.{fmt}.j2").render(**contract_context(settings, contract))


def mentor_has_answered(settings: Settings, contract: Contract, state: State) -> bool:
    """Whether the contract's mentor answered one of the resident's requests (a proposal comes after a yes)."""
    return any(
        r.state == RequestState.REPLIED and settings.same_mentor(r.mentor, contract.mentor)
        for r in state.requests.values()
    )


def letter_id(settings: Settings, kind: str, basis: str) -> str:
    """A letter's Message-ID: the same for the same letter, so it is written once."""
    token = uuid.uuid5(NAMESPACE, f"{kind}:{settings.me.email}:{basis}").hex[:20]
    return f"<mentor-assistant.{kind}.{token}@{settings.me.domain}>"


def proposal_message_id(settings: Settings, contract: Contract) -> str:
    """The proposal draft's Message-ID: one per version of the contract."""
    words = (contract.my_goals, contract.mentor_goals, contract.outcome, contract.my_expectations,
             contract.mentor_expectations)  # fmt: skip
    return letter_id(
        settings, "contract", contract_basis(contract) + hashlib.sha256(repr(words).encode()).hexdigest()[:8]
    )


def compose_letter(
    settings: Settings,
    contract: Contract,
    *,
    subject: str,
    letter: str,
    message_id: str,
    what: str,
    now: datetime,
    attachment_text: str = "",
    attachment_html: str = "",
) -> Letter:
    """A draft to the contract's mentor: the letter, and a document below it (text and HTML)."""
    kind, token = message_id.strip("<>").split("@")[0].split(".")[1:3]
    msg = EmailMessage(policy=POLICY)
    msg["From"] = header_address(settings.me.name, settings.me.email)
    msg["To"] = header_address(settings.mentor_label(contract.mentor), contract.mentor)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now.astimezone(settings.tz))
    msg["Message-ID"] = message_id
    msg[DRAFT_HEADER] = f"{kind}={token}"
    letter = letter.strip() + "\n"
    if not attachment_text:
        msg.set_content(letter, charset="utf-8")
        return Letter(msg.as_bytes(), letter_key(message_id, contract, subject), what)
    msg.set_content(f"{letter}\n{'-' * 60}\n\n{attachment_text}", charset="utf-8")
    if attachment_html:
        paragraphs = letter.strip().split("\n\n")
        letter_html = "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
        html = attachment_html.replace("<body>", f"<body>{letter_html}<hr>", 1)
        msg.add_alternative(html, subtype="html", charset="utf-8")
    return Letter(msg.as_bytes(), letter_key(message_id, contract, subject), what)


def proposal_letter(templates: dict[str, str], settings: Settings, contract: Contract, *, now: datetime) -> Letter:
    """A draft to the mentor proposing this version of the contract, the document included (text and HTML)."""
    context = contract_context(settings, contract)
    letter = sandbox(templates).get_template("contract-proposal.txt.j2").render(**context)
    return compose_letter(
        settings, contract, subject=PROPOSAL_SUBJECT, letter=letter, message_id=proposal_message_id(settings, contract),
        what=f"the proposal of version {contract.version} of the contract to {contract.mentor}", now=now,
        attachment_text=render_contract(templates, "md", settings, contract),
        attachment_html=render_contract(templates, "html", settings, contract),
    )  # fmt: skip
