"""Tracking by hand: `track MESSAGE-ID` and `untrack ID`, as plans."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from assistant.core.flags import UNTRACKED_KEYWORD
from assistant.core.plan import AddFlags, Plan
from assistant.core.state import RequestRecord, RequestState, State


def plan_track(state: State, message_id: str) -> Plan:
    """Track a sent message by its Message-ID from the next cycle on."""
    manual = state.meta.manual if message_id in state.meta.manual else (*state.meta.manual, message_id)
    return Plan(
        meta=replace(state.meta, manual=manual),
        notes=(f"Tracking {message_id}; the next cycle looks for it in the Sent folder.",),
    )


def find_requests(state: State, key: str) -> list[RequestRecord]:
    """The requests named by an id (as `status` shows it) or a Message-ID."""
    return [r for r in state.requests.values() if key in (r.id, r.message_id)]


def plan_untrack(
    state: State, records: list[RequestRecord], *, found: Mapping[str, tuple[str, int]] | None = None
) -> Plan:
    """Stop tracking these requests: closed for good; the next cycle removes our flag and draft.
    `found`: where each request message is (folder, UID), to remember the untrack on it, so a
    lost or restored state cannot bring the request back."""
    marks = tuple(
        AddFlags(folder, uid, r.message_id, (UNTRACKED_KEYWORD,), r.id)
        for r in records
        if (where := (found or {}).get(r.id)) is not None
        for folder, uid in [where]
    )
    closed = {
        r.id: replace(r, untracked=True, state=RequestState.CLOSED, next_action_at=None, why="Untracked by hand.")
        for r in records
    }
    ids = {r.message_id for r in records}
    return Plan(
        actions=marks,
        requests=tuple({**state.requests, **closed}.values()),
        meta=replace(state.meta, manual=tuple(m for m in state.meta.manual if m not in ids)),
        notes=tuple(f"Stopped tracking {r.id} ({r.subject!r} to {r.mentor})." for r in records),
    )
