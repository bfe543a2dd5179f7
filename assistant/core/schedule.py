"""When the daemon must wake next, whatever the mail does: a follow-up falling due, the
end of a draft's grace period, the digest, a check-in passing (its agenda moves on), the
review date."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from assistant.core.checkins import next_checkins
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
    for contract, checkin in next_checkins(settings, now=now):
        moments.append(checkin + contract.duration)
    for contract in settings.contracts:
        # The review, and a week before it (the packet is in the digest from then on).
        for day in (contract.review - timedelta(days=7), contract.review):
            moments.append(datetime.combine(day, time(0, 0), tzinfo=settings.tz))
    future = [m for m in moments if m > now]
    return min(future) if future else None
