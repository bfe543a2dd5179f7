"""The project's own fixtures (tests/fixtures/mail, one per class and client style): each is
classified as LABELS.toml says, as the daemon sees it (the body read where it asks for it).
They stand in for the extended corpus on a fresh clone."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant.core.classify import LIST, RECEIPT, SELF, classify, classify_headers
from assistant.core.headers import parse_message
from assistant.core.model import MailMessage

FIXTURES = Path(__file__).parent / "fixtures" / "mail"
LABELS = tomllib.loads((FIXTURES / "LABELS.toml").read_text(encoding="utf-8"))
ME = frozenset({"alex.rivera@example.edu"})


def load(name: str) -> MailMessage:
    """The message as the scan keeps it: headers, then the body when the core asks for it."""
    raw = (FIXTURES / name).read_bytes()
    cut = min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0), default=len(raw))
    head = parse_message(raw[:cut] + b"\r\n\r\n", folder="INBOX", uid=1, internaldate=datetime(2026, 11, 3, tzinfo=UTC))
    if classify_headers(head, ME).kind in (SELF, RECEIPT, LIST):
        return head
    return MailMessage(**{**head.__dict__, "raw": raw})


def test_every_fixture_has_a_label_and_every_label_a_fixture():
    assert set(LABELS) == {p.name for p in FIXTURES.glob("*.eml")}
    assert {lab["class"] for lab in LABELS.values()} >= {"human", "automatic", "bounce", "delayed", "receipt",
                                                          "list", "calendar"}  # fmt: skip


@pytest.mark.parametrize("name", sorted(LABELS))
def test_each_fixture_is_classified_as_labelled(name):
    label = LABELS[name]
    verdict = classify(load(name), my_addresses=ME)
    assert verdict.kind == label["class"], f"{name}: {verdict.rule}"
    if label["class"] == "bounce":
        assert verdict.report is not None
        assert label["failed_recipient"] in verdict.report.recipients
        assert verdict.report.original_message_id in ("", label["original_message_id"])


@pytest.mark.parametrize("name", sorted(n for n, lab in LABELS.items() if lab.get("return_date")))
def test_stated_return_dates_are_read(name):
    verdict = classify(load(name), my_addresses=ME)
    assert verdict.returns is not None, f"{name}: no return date found"
    # The first day back, or the last day away when that is what the text states: never later.
    assert 0 <= (LABELS[name]["return_date"] - verdict.returns).days <= 3, name
