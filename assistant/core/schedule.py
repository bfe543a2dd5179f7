"""When the daemon must wake next, whatever the mail does: a follow-up falling due, the
end of a draft's grace period, the digest, a check-in passing (its agenda moves on), the
review date."""

from __future__ import annotations

from datetime import datetime, time

from assistant.core.checkins import next_checkin
from assistant.core.digest import next_digest_at
from assistant.core.followups import DISMISS_GRACE
from assistant.core.settings import Settings
from assistant.core.state import FINAL_STATES, RequestRecord


def next_wake(
    settings: Settings, records: list[RequestRecord], *, last_digest: str | None, now: datetime
) -> datetime | None:
    """The earliest moment after `now` at which a cycle has something new to decide."""
    moments: list[datetime] = []
    for record in records:
        if record.state in FINAL_STATES:
            continue
        if record.next_action_at:
            moments.append(record.next_action_at)
        if record.draft is not None and record.draft.missing_since:
            moments.append((record.draft.last_seen_at or record.draft.created_at) + DISMISS_GRACE)
    if settings.digest != "off":
        digest = next_digest_at(settings.digest, last_period=last_digest, now=now, tz_name=settings.me.timezone)
        if digest is not None:
            moments.append(digest)
    checkin = next_checkin(settings, now=now)
    if checkin is not None and settings.contract is not None:
        moments.append(checkin + settings.contract.duration)
    if settings.contract is not None:
        review = datetime.combine(settings.contract.review, time(0, 0), tzinfo=settings.tz)
        if review > now:
            moments.append(review)
    future = [m for m in moments if m > now]
    return min(future) if future else None
