"""The first e-mail to a prospective mentor: straightforward, pleasant, specific, a draft.

Who the resident is, why this person (a publication, who recommended them, their area),
a specific ask (a short conversation about the project), a courteous close. Rendered in
the same sandbox as the follow-ups, with the same header safety; never sent by us.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from assistant.core.draft import NAMESPACE, POLICY, draft_fingerprint, header_address, salutation, sanitize
from assistant.core.model import DRAFT_HEADER
from assistant.core.plan import AppendDraft, Plan
from assistant.core.settings import Mentor, Settings
from assistant.core.state import State
from assistant.core.templating import sandbox


def find_mentor(settings: Settings, text: str) -> Mentor:
    """The mentor named by an address or a unique part of the name; ValueError otherwise."""
    needle = text.strip().lower()
    by_address = settings.mentor_for(needle)
    if by_address is not None:
        return by_address
    hits = [m for m in settings.mentors if needle and needle in m.name.lower()]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise ValueError(f"no mentor matches {text!r}; `mentor list` shows them")
    raise ValueError(f"{text!r} matches {', '.join(m.name for m in hits)}: be more specific")


def outreach_message_id(settings: Settings, mentor: Mentor, attempt: int) -> str:
    token = uuid.uuid5(NAMESPACE, f"outreach:{settings.me.email}:{mentor.email.lower()}:{attempt}").hex[:20]
    return f"<mentor-assistant.outreach.{token}@{sanitize(settings.me.domain)}>"


def outreach_subject(mentor: Mentor) -> str:
    if mentor.project and mentor.area:
        return f"Seeking your guidance on {mentor.project} ({mentor.area})"
    if mentor.project or mentor.area:
        return f"Seeking your guidance on {mentor.project or mentor.area}"
    return "Seeking your guidance as a mentor"


def compose_outreach(
    templates: dict[str, str], settings: Settings, mentor: Mentor, *, message_id: str, now: datetime
) -> bytes:
    """The outreach draft as RFC 5322 bytes."""
    env = sandbox(templates)
    name = sanitize(mentor.name)
    body = env.get_template("outreach.txt.j2").render(
        me={"name": settings.me.name, "email": settings.me.email, "role": settings.me.role},
        mentor={
            "name": name,
            "title": mentor.title,
            "salutation": salutation(name),
            "area": mentor.area,
            "project": mentor.project,
        },
        publication=mentor.publications[0] if mentor.publications else "",
        recommended_by=sanitize(mentor.recommended_by),
    )
    msg = EmailMessage(policy=POLICY)
    msg["From"] = header_address(settings.me.name, settings.me.email)
    msg["To"] = header_address(name, mentor.email)
    msg["Subject"] = sanitize(outreach_subject(mentor), 300)
    msg["Date"] = format_datetime(now.astimezone(settings.tz))
    msg["Message-ID"] = message_id
    msg[DRAFT_HEADER] = f"outreach={mentor.email.lower()}"
    msg.set_content(_tidy(body), charset="utf-8")
    return msg.as_bytes()


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line == "" and out and out[-1] == "":
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def outreach_attempt(state: State, mentor: Mentor) -> int:
    """Which outreach to this person is current (1 unless `--again` was used before)."""
    return state.meta.outreach.get(mentor.email.lower(), 1)


def plan_outreach(
    settings: Settings,
    templates: dict[str, str],
    mentor: Mentor,
    state: State,
    *,
    written_in: str | None,
    again: bool,
    drafts_folder: str,
    now: datetime,
) -> Plan:
    """The plan for `outreach`: one draft per attempt, ever. `written_in` says where the
    current attempt's message already is ("Drafts", "Sent") or None."""
    attempt = outreach_attempt(state, mentor)
    written = [r for r in state.requests.values() if r.mentor.lower() in (e.lower() for e in mentor.emails)]
    if written and not again:
        first = min(written, key=lambda r: r.sent_at)
        return Plan(notes=(
            f"You already wrote to {mentor.name} ({first.subject!r}, {first.sent_at:%b} {first.sent_at.day}): "
            "this is not a first e-mail; the follow-ups are drafted for you. Use --again for a new one anyway.",
        ))  # fmt: skip
    if written_in is not None and not again:
        where = "is waiting in Drafts" if written_in == drafts_folder else "was already sent"
        return Plan(notes=(f"The outreach to {mentor.name} {where}; use --again for a new one.",))
    if written_in is not None:
        attempt += 1
    message_id = outreach_message_id(settings, mentor, attempt)
    raw = compose_outreach(templates, settings, mentor, message_id=message_id, now=now)
    outreach = {**state.meta.outreach, mentor.email.lower(): attempt}
    append = AppendDraft("", 0, drafts_folder, message_id, raw, draft_fingerprint(raw),
                         f"the first e-mail to {mentor.name} <{mentor.email}>")  # fmt: skip
    return Plan(actions=(append,), meta=replace(state.meta, outreach=outreach))
