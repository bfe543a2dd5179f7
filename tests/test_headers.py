"""Header parsing alone: the fields we rely on, and no exception for any bytes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.core.classify import classify
from assistant.core.headers import message_ids, parse_message, strip_reply_prefixes

FALLBACK = datetime(2026, 11, 1, tzinfo=UTC)


def test_fields_are_parsed_and_lower_cased():
    raw = (
        b"From: =?utf-8?q?Dr=2E_J=C3=BCrgen_M=C3=BCller?= <JMueller@Hospital.org>\r\n"
        b"To: Alex <alex@example.edu>, b@example.org\r\n"
        b"Cc: c@example.org\r\n"
        b"Subject: =?utf-8?q?R=C3=BCckfrage?=\r\n"
        b"Message-ID: <abc@x>\r\n"
        b"In-Reply-To: <p1@x>\r\n"
        b"References: <p0@x>\r\n <p1@x>\r\n"
        b"Date: Tue, 24 Nov 2026 09:00:00 -0700\r\n\r\n"
    )
    m = parse_message(raw, folder="INBOX", uid=7, internaldate=FALLBACK)
    assert m.sender is not None and m.sender.email == "jmueller@hospital.org"
    assert m.sender.name == "Dr. Jürgen Müller"
    assert [a.email for a in m.to] == ["alex@example.edu", "b@example.org"]
    assert m.subject == "Rückfrage"
    assert m.message_id == "<abc@x>"
    assert m.thread_ids == ("<p1@x>", "<p0@x>", "<p1@x>")
    assert m.date == datetime.fromisoformat("2026-11-24T09:00:00-07:00")


def test_missing_or_broken_date_falls_back_to_internaldate():
    m = parse_message(b"Date: yesterday-ish\r\n\r\n", folder="INBOX", uid=1, internaldate=FALLBACK)
    assert m.date == FALLBACK
    assert m.message_id == ""


def test_reply_prefixes_in_many_languages():
    for subject in ("Re: Mentoring", "RE[2]: Mentoring", "AW: Mentoring", "SV: Re: Mentoring", "Antw: Mentoring",
                    "RIF: Mentoring", "Odp: Mentoring", "RES: Mentoring", "回复：Mentoring", "答复: Mentoring",
                    "VS: Mentoring", "R: Mentoring"):  # fmt: skip
        assert strip_reply_prefixes(subject) == "Mentoring", subject
    assert strip_reply_prefixes("Research plan") == "Research plan"


def test_message_ids_ignore_garbage():
    assert message_ids("junk <a@b> more <c@d> <a@b>") == ("<a@b>", "<c@d>")
    assert message_ids(None) == ()


@settings(max_examples=400)
@given(st.binary(max_size=2000))
def test_parsing_and_classifying_never_raise_on_any_bytes(raw):
    m = parse_message(raw, folder="INBOX", uid=1, internaldate=FALLBACK)
    classify(m, my_addresses=frozenset({"me@example.edu"}))


header_names = st.sampled_from(["From", "To", "Cc", "Subject", "Message-ID", "References", "In-Reply-To", "Date",
                                "Auto-Submitted", "Return-Path", "Content-Type", "Precedence", "X-Other"])  # fmt: skip


@settings(max_examples=400)
@given(st.lists(st.tuples(header_names, st.text(max_size=200)), max_size=12))
def test_header_shaped_input_never_raises(pairs):
    raw = "".join(f"{k}: {v}\r\n" for k, v in pairs).encode("utf-8", "surrogateescape") + b"\r\n"
    m = parse_message(raw, folder="INBOX", uid=1, internaldate=FALLBACK)
    assert "\n" not in m.subject and "\r" not in m.subject
    classify(m, my_addresses=frozenset())


machine_heads = st.sampled_from([
    b"From: MAILER-DAEMON@x.org\r\nContent-Type: multipart/report; boundary=b\r\n\r\n",
    b"From: no-reply@x.org\r\nSubject: Undeliverable\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n",
    b"From: a@x.org\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\n",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n",
])  # fmt: skip
bodies = st.one_of(
    st.binary(max_size=3000),
    st.lists(
        st.sampled_from([b"--b\r\n", b"Content-Type: message/delivery-status\r\n\r\n", b"Action: failed\r\n",
                         b"Status: 5.1.1\r\n", b"Final-Recipient: rfc822; a@b.org\r\n", b"Message-ID: <x@y>\r\n",
                         b"Content-Type: text/rfc822-headers\r\n\r\n", b"--b--\r\n", b"until December 3\r\n",
                         b"Content-Transfer-Encoding: base64\r\n", b"\xff\xfe\x00", b"\r\n"]),
        max_size=40,
    ).map(b"".join),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(machine_heads, bodies)
def test_reading_bodies_of_machine_mail_never_raises(head, body):
    from dataclasses import replace

    raw = head + body
    m = parse_message(head, folder="INBOX", uid=1, internaldate=FALLBACK)
    classify(replace(m, raw=raw), my_addresses=frozenset({"me@example.edu"}))


@pytest.mark.parametrize(
    ("subject", "charset"),
    [("Аспирантура в гематологии", "koi8-r"), ("血液内科のメンター", "shift_jis"), ("血液科导师", "gb2312"),
     ("Mentorat en hématologie", "cp1252"), ("血液内科", "iso-2022-jp")],
)  # fmt: skip
def test_raw_8bit_subjects_read_in_the_charset_the_message_declares(subject, charset):
    from assistant.core.headers import decode_raw_headers

    declared = f"Content-Type: text/plain; charset={charset}\r\n" if charset not in ("cp1252", "iso-2022-jp") else ""
    raw = f"Subject: {subject}\r\n{declared}\r\n".encode(charset)
    assert f"Subject: {subject}\r\n" in decode_raw_headers(raw)


# ------------------------------------------------------------------ the fast paths agree


_PIECES = st.sampled_from([
    "From", "To", "Subject", "X-Mentor-Assistant", "Message-ID", ":", " ", "\t", "\r\n", "\n", "\r", "a", "é",
    "jane@hospital.org", "<j@h.org>", "\"Smith, Jane\"", "(home)", "=?utf-8?q?J=C3=A9?=", ",", ";", "@", "\\",
    "From ", "Group:", "x@y", "<", ">", "\"",
])  # fmt: skip


@given(st.lists(_PIECES, max_size=30).map("".join))
@settings(max_examples=1500, deadline=None)
def test_the_fast_header_split_is_the_email_packages_or_declines(text):
    from email.parser import HeaderParser
    from email.policy import compat32

    from assistant.core.headers import header_fields

    fast = header_fields(text)
    if fast is not None:
        assert fast == [(k, str(v)) for k, v in HeaderParser(policy=compat32).parsestr(text).items()]


@given(st.lists(_PIECES, max_size=20).map("".join))
@settings(max_examples=1500, deadline=None)
def test_the_fast_address_forms_read_as_the_full_parser_reads_them(value):
    from assistant.core.headers import split_mailboxes, split_mailboxes_in_full

    assert split_mailboxes(value) == split_mailboxes_in_full(value)


@pytest.mark.parametrize("value", ["jane@hospital.org", "  Jane Smith <jsmith@hospital.org> ", "<j@h.org>",
                                   "Dr. Jane Smith <j@h.org>"])  # fmt: skip
def test_the_usual_address_forms_take_the_fast_path(value):
    from assistant.core.headers import _BARE, _NAMED, split_mailboxes, split_mailboxes_in_full

    assert _BARE.fullmatch(value) or _NAMED.fullmatch(value)
    assert split_mailboxes(value) == split_mailboxes_in_full(value)


def test_usual_header_blocks_take_the_fast_path():
    from assistant.core.headers import header_fields

    block = "From: a@b.org\r\nSubject: Re: hello\r\n there\r\nTo: c@d.org\r\n\r\n"
    assert header_fields(block) == [("From", "a@b.org"), ("Subject", "Re: hello\r\n there"), ("To", "c@d.org")]


_DAYS = st.sampled_from(["", "Tue, ", "Mon,", "Sun,  ", "tue, "])
_MONTH = st.sampled_from(["Jan", "Feb", "Sep", "Dec", "sep", "Foo"])


@given(_DAYS, st.integers(0, 32), _MONTH, st.integers(1899, 2201), st.integers(0, 25), st.integers(0, 61),
       st.integers(0, 61), st.sampled_from(["+", "-"]), st.integers(0, 99), st.integers(0, 99))  # fmt: skip
@settings(max_examples=1500, deadline=None)
def test_the_quick_date_reads_what_the_email_package_reads(dow, day, month, year, hh, mm, ss, sign, oh, om):
    import email.utils

    from assistant.core.headers import _quick_date

    value = f"{dow}{day} {month} {year} {hh:02d}:{mm:02d}:{ss:02d} {sign}{oh:02d}{om:02d}"
    quick = _quick_date(value)
    if quick is None:
        return
    slow = email.utils.parsedate_to_datetime(value)
    assert quick == slow and quick.utcoffset() == slow.utcoffset()


def test_the_usual_date_takes_the_quick_path():
    from assistant.core.headers import _quick_date

    assert _quick_date("Tue, 01 Sep 2026 09:00:00 +0200") is not None
    assert _quick_date("1 Sep 2026 09:00:00 -0000") is None  # zone unknown: the email package decides
