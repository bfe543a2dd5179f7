"""The first e-mail to a prospective mentor: straightforward, pleasant, specific, a draft.

Who the resident is, why this person (a publication, who recommended them, their area),
a specific ask (a short conversation about the project), a courteous close. Rendered in
the same sandbox as the follow-ups, with the same header safety; never sent by us.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime

from jinja2 import DictLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from assistant.config import Config, Mentor
from assistant.core.draft import NAMESPACE, POLICY, salutation, sanitize
from assistant.core.model import DRAFT_HEADER


def find_mentor(config: Config, text: str) -> Mentor:
    """The mentor named by an address or a unique part of the name; ValueError otherwise."""
    needle = text.strip().lower()
    by_address = config.mentor_for(needle)
    if by_address is not None:
        return by_address
    hits = [m for m in config.mentors if needle and needle in m.name.lower()]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise ValueError(f"no mentor matches {text!r}; `mentor list` shows them")
    raise ValueError(f"{text!r} matches {', '.join(m.name for m in hits)}: be more specific")


def outreach_message_id(config: Config, mentor: Mentor, attempt: int) -> str:
    token = uuid.uuid5(NAMESPACE, f"outreach:{config.me.email}:{mentor.email.lower()}:{attempt}").hex[:20]
    return f"<mentor-assistant.outreach.{token}@{sanitize(config.me.domain)}>"


def outreach_subject(mentor: Mentor) -> str:
    if mentor.project and mentor.area:
        return f"Seeking your guidance on {mentor.project} ({mentor.area})"
    if mentor.project or mentor.area:
        return f"Seeking your guidance on {mentor.project or mentor.area}"
    return "Seeking your guidance as a mentor"


def compose_outreach(
    templates: dict[str, str], config: Config, mentor: Mentor, *, message_id: str, now: datetime
) -> bytes:
    """The outreach draft as RFC 5322 bytes."""
    env = ImmutableSandboxedEnvironment(loader=DictLoader(templates), undefined=StrictUndefined)
    name = sanitize(mentor.name)
    body = env.get_template("outreach.txt.j2").render(
        me={"name": config.me.name, "email": config.me.email, "role": config.me.role},
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
    me_local, _, me_domain = config.me.email.partition("@")
    to_local, _, to_domain = mentor.email.partition("@")
    msg["From"] = HeaderAddress(display_name=sanitize(config.me.name), username=me_local, domain=me_domain)
    msg["To"] = HeaderAddress(display_name=name, username=to_local, domain=to_domain)
    msg["Subject"] = sanitize(outreach_subject(mentor), 300)
    msg["Date"] = format_datetime(now)
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
