"""The follow-up draft: threading, safety of header values, the template sandbox."""

from __future__ import annotations

import email
from datetime import datetime
from email import policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2.exceptions import SecurityError

from assistant.core import draft as d
from assistant.core.model import Address, MailMessage
from assistant.core.settings import Me, Mentor
from assistant.template_files import load_templates

NOW = datetime.fromisoformat("2026-11-24T09:00:00-07:00")
SENT = datetime.fromisoformat("2026-11-09T08:15:00-07:00")
ME = Me(name="Alex Rivera", email="alex@example.edu", role="first-year internal medicine resident")
MENTOR = Mentor(name="Dr. Raj Patel", emails=("rpatel@hospital.org",), area="hematology/oncology",
                project="transfusion thresholds")  # fmt: skip


def compose(subject="Mentorship for a QI project", name="Dr. Raj Patel", mentor=MENTOR, round_no=1, references=()):
    last = MailMessage(
        folder="Sent", uid=3, message_id="<last@example.edu>", date=SENT, subject=subject,
        sender=Address("Alex Rivera", "alex@example.edu"), to=(Address(name, "rpatel@hospital.org"),),
        references=references, body="Dear Dr. Patel,\n\nMay I ask for your guidance?\n",
    )  # fmt: skip
    ctx = d.DraftContext(ME, mentor, last.to[0], subject, SENT, round_no, 2, round_no > 2)
    raw = d.compose_followup(
        templates=load_templates(None), ctx=ctx, request_id="req1", last_sent=last, to=last.to, cc=(),
        message_id=d.draft_message_id("req1", round_no, "example.edu"), now=NOW,
    )  # fmt: skip
    return raw, email.message_from_bytes(raw, policy=policy.default)


def test_threading_headers_and_quote():
    raw, msg = compose(references=("<root@example.edu>",))
    assert msg["Subject"] == "Re: Mentorship for a QI project"
    assert msg["In-Reply-To"] == "<last@example.edu>"
    assert msg["References"] == "<root@example.edu> <last@example.edu>"
    assert msg["X-Mentor-Assistant"].startswith("request=req1; round=1; sum=")
    assert d.intact(raw) and not d.intact(raw.replace(b"Thank you", b"Thanks"))
    assert msg["Message-ID"] == d.draft_message_id("req1", 1, "example.edu")
    assert msg["Message-ID"].endswith("@example.edu>")
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    body = msg.get_content().replace("\r\n", "\n")
    assert "Dear Dr. Patel," in body
    assert "transfusion thresholds" in body
    assert "On Mon, Nov 9, 2026 at 8:15 AM, Alex Rivera <alex@example.edu> wrote:\n> Dear Dr. Patel," in body


def test_re_prefix_is_never_doubled():
    _raw, msg = compose(subject="RE: AW: Mentorship")
    assert msg["Subject"] == "Re: Mentorship"


@pytest.mark.parametrize("round_no", [1, 2, 3])
def test_each_round_is_short_and_names_the_project(round_no):
    _raw, msg = compose(round_no=round_no)
    body = msg.get_content().replace("\r\n", "\n").split("\nOn ")[0]
    assert len(body.split()) < 120
    assert "transfusion thresholds" in body
    if round_no == 3:
        assert "suggest a colleague" in body


def test_the_draft_id_is_the_same_for_the_same_request_and_round():
    assert d.draft_message_id("r", 1, "x.org") == d.draft_message_id("r", 1, "x.org")
    assert d.draft_message_id("r", 1, "x.org") != d.draft_message_id("r", 2, "x.org")


def test_crlf_in_names_and_subjects_cannot_inject_headers():
    evil_name = "Dr. Evil\r\nBcc: victim@example.org"
    evil_subject = "Hi\r\nBcc: victim@example.org\r\n\r\nInjected body"
    mentor = Mentor(name=evil_name, emails=("rpatel@hospital.org",))
    raw, msg = compose(subject=evil_subject, name=evil_name, mentor=mentor)
    assert msg["Bcc"] is None
    assert b"\r\nBcc:" not in raw
    assert "\n" not in msg["Subject"]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=80), st.text(max_size=120))
def test_no_name_or_subject_ever_adds_a_header(name, subject):
    mentor = Mentor(name=name, emails=("rpatel@hospital.org",))
    _raw, msg = compose(subject=subject, name=name, mentor=mentor)
    assert sorted(set(msg.keys())) == sorted(
        {"From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "X-Mentor-Assistant",
         "Content-Type", "Content-Transfer-Encoding", "MIME-Version"}
    )  # fmt: skip


def test_templates_cannot_reach_python_internals():
    templates = {"followup-1.txt.j2": "{{ me.__class__.__mro__[1].__subclasses__() }}"}
    ctx = d.DraftContext(ME, MENTOR, Address("", "rpatel@hospital.org"), "s", SENT, 1, 2, False)
    with pytest.raises(SecurityError):
        d.render_body(templates, "followup-1.txt.j2", ctx)


def test_user_templates_override_defaults(tmp_path):
    (tmp_path / "followup-1.txt.j2").write_text("Hi {{ mentor.salutation }}, just checking in. {{ me.name }}")
    templates = load_templates(tmp_path)
    assert templates["followup-1.txt.j2"].startswith("Hi ")
    assert "closing.txt.j2" in templates


def test_the_fingerprint_is_every_byte():
    """Our draft is ours to remove only while it is exactly what we wrote."""
    raw, _ = compose()
    assert d.draft_fingerprint(raw) == d.draft_fingerprint(bytes(raw))
    for changed in (raw.replace(b"\r\n", b"\n"), raw.replace(b"Thank you", b"Many thanks"), raw + b" ",
                    raw.replace(b"To: ", b"To: other@x.org, ", 1)):  # fmt: skip
        assert d.draft_fingerprint(raw) != d.draft_fingerprint(changed)
