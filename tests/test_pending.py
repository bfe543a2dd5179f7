"""Which drafts belong to which request: the indexed lookup agrees with asking each request."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.core.draft import draft_header_value, draft_message_id
from assistant.core.model import MailMessage
from assistant.core.pending import MAX_ROUNDS, our_round, pending_drafts
from assistant.core.state import RequestRecord

WHEN = datetime(2026, 11, 1, tzinfo=UTC)
IDS = [f"req{i:02d}-abcdef" for i in range(6)]


def record(rid: str) -> RequestRecord:
    return RequestRecord(id=rid, message_id=f"<{rid}@x>", mentor="m@h.org", subject="Hello", sent_at=WHEN,
                         last_sent_at=WHEN)  # fmt: skip


_REQUEST = st.sampled_from([*IDS, "unknown-id"])
_ROUND = st.integers(0, MAX_ROUNDS + 1)
message_specs = st.tuples(
    st.one_of(st.none(), st.tuples(_REQUEST, _ROUND)),
    st.one_of(st.none(), st.tuples(_REQUEST, _ROUND, st.sampled_from(["example.edu", "other.org"]))),
)


def build(uid: int, spec) -> MailMessage:
    header, mid = spec
    headers = (("x-mentor-assistant", draft_header_value(*header)),) if header else ()
    message_id = draft_message_id(*mid) if mid else f"<plain{uid}@client>"
    return MailMessage(folder="Drafts", uid=uid, message_id=message_id, date=WHEN, subject="Other", headers=headers)


@given(st.lists(message_specs, max_size=8), st.sets(st.sampled_from(IDS), min_size=1))
@settings(max_examples=300, deadline=None)
def test_the_lookup_finds_exactly_the_requests_our_round_names(specs, rids):
    records = [record(r) for r in sorted(rids)]
    messages = [build(uid, spec) for uid, spec in enumerate(specs, start=1)]
    found = pending_drafts(messages, [(r, frozenset()) for r in records], domain="example.edu")
    for r in records:
        expected = [m for m in messages if our_round(m, r, "example.edu")]
        assert found[r.id] == expected
