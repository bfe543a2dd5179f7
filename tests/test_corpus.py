"""The real-world corpus in ../shared/corpus: bounces, auto-replies, human replies.

An extended check: a fresh clone has no ../shared, and then these tests skip, saying
why (the fixtures in tests/ cover each class of message without it). Prints the
confusion table (run pytest with -s to see it; it is also in the README).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant.core.classify import (
    AUTOMATIC,
    BOUNCE,
    DELAYED,
    HUMAN,
    LIST,
    RECEIPT,
    SELF,
    classify,
    classify_headers,
    may_be_report,
)
from assistant.core.headers import parse_message

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
BSD = CORPUS / "sisimai" / "maildir" / "bsd"
NOT = CORPUS / "sisimai" / "maildir" / "not"
TALON = CORPUS / "talon" / "tests" / "fixtures" / "standard_replies"
ME = frozenset({"resident@example.edu"})
SUMMARY: list[str] = []  # printed at the end of the run by conftest.pytest_terminal_summary


def load(path: Path):
    raw = path.read_bytes()
    cut = min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0), default=len(raw))
    head = parse_message(raw[:cut] + b"\r\n\r\n", folder="INBOX", uid=1, internaldate=datetime(2026, 1, 1, tzinfo=UTC))
    matched = path.parent == TALON or path.name.startswith(("rfc3834-", "arf-"))  # replies thread; reports need not
    # What the scan asks for: a message tied to a request gets its body unless it is one of
    # ours, a receipt or list mail; any other only when it may be a delivery report.
    if matched:
        body_fetched = classify_headers(head, ME).kind not in (SELF, RECEIPT, LIST)
    else:
        body_fetched = may_be_report(head, my_addresses=ME)
    full = head.__class__(**{**head.__dict__, "raw": raw[: 256 * 1024]})
    return head, full, body_fetched


def label(path: Path) -> str:
    if path.parent == TALON:
        return "human reply"
    if path.parent == NOT:
        return "not a bounce"
    if path.name.startswith("rfc3834-"):
        return "auto-reply"
    if path.name.startswith("arf-"):
        return "feedback report"
    return "delivery report"


def corpus_files() -> list[Path]:
    files = [p for d in (BSD, NOT) for p in sorted(d.iterdir()) if p.suffix == ".eml"]
    return files + [p for p in sorted(TALON.iterdir()) if p.is_file() and p.suffix == ".eml"]


@pytest.fixture(scope="module")
def verdicts():
    if not BSD.is_dir() or not TALON.is_dir():
        pytest.skip(f"the extended corpus is not at {CORPUS} (a fresh clone has none)")
    out = {}
    for path in corpus_files():
        head, full, fetched = load(path)
        # What the daemon sees: the body only when it asks for it.
        out[path] = (classify(full if fetched else head, my_addresses=ME), fetched)
    return out


def test_confusion_table(verdicts):
    table = Counter((label(p), v.kind) for p, (v, _f) in verdicts.items())
    kinds = [HUMAN, AUTOMATIC, BOUNCE, DELAYED, "receipt", "list"]
    labels = ["delivery report", "feedback report", "auto-reply", "not a bounce", "human reply"]
    lines = ["", f"{'corpus label':<18}" + "".join(f"{k:>11}" for k in kinds) + f"{'total':>8}"]
    for lab in labels:
        row = [table[(lab, k)] for k in kinds]
        lines.append(f"{lab:<18}" + "".join(f"{n:>11}" for n in row) + f"{sum(row):>8}")
    print("\n".join(lines))
    SUMMARY[:] = ["Corpus confusion table (../shared/corpus, as the daemon reads it):", *lines[1:]]
    # Each label's row, asserted: no machine message is a human answer; every human reply is.
    for lab in ("delivery report", "feedback report", "auto-reply"):
        assert table[(lab, HUMAN)] == 0, lab
    assert table[("human reply", HUMAN)] == sum(table[("human reply", k)] for k in kinds)


def test_no_ordinary_message_is_taken_for_a_bounce(verdicts):
    wrong = [p.name for p, (v, _f) in verdicts.items() if label(p) == "not a bounce" and v.kind in (BOUNCE, DELAYED)]
    assert wrong == []


def test_nothing_machine_made_counts_as_a_human_reply(verdicts):
    wrong = [
        p.name
        for p, (v, _f) in verdicts.items()
        if label(p) in ("delivery report", "feedback report", "auto-reply") and v.kind == HUMAN
    ]
    assert wrong == []


def test_every_rfc3834_message_is_automatic(verdicts):
    assert {p.name: v.kind for p, (v, _f) in verdicts.items() if label(p) == "auto-reply"} == {
        p.name: AUTOMATIC for p in verdicts if label(p) == "auto-reply"
    }


def test_at_least_95_percent_of_delivery_reports_are_bounces_or_delays(verdicts):
    reports = [(p, v) for p, (v, _f) in verdicts.items() if label(p) == "delivery report"]
    recognised = [p for p, v in reports if v.kind in (BOUNCE, DELAYED)]
    share = len(recognised) / len(reports)
    print(f"\ndelivery reports recognised as bounce or delay: {len(recognised)}/{len(reports)} = {share:.1%}")
    assert share >= 0.95


def test_every_talon_client_reply_is_human(verdicts):
    assert {p.name: v.kind for p, (v, _f) in verdicts.items() if label(p) == "human reply"} == {
        p.name: HUMAN for p in verdicts if label(p) == "human reply"
    }


def test_the_daemon_asks_for_the_body_of_every_machine_message(verdicts):
    missed = [
        p.name
        for p, (_v, fetched) in verdicts.items()
        if label(p) != "human reply" and label(p) != "not a bounce" and not fetched
    ]
    assert missed == []


def test_delay_notices_are_not_permanent(verdicts):
    for path, (verdict, _f) in verdicts.items():
        if (
            verdict.report is not None
            and b"Action: delayed" in path.read_bytes()
            and b"Action: failed" not in path.read_bytes()
        ):
            assert verdict.kind == DELAYED, path.name
