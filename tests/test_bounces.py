"""Delivery reports read alone: failed versus delayed, the original Message-ID, odd structures."""

from __future__ import annotations

import sysconfig
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant.core.bounces import parse_delivery_report
from assistant.core.classify import BOUNCE, DELAYED, classify
from assistant.core.headers import parse_message

REPORT = (
    "From: MAILER-DAEMON@mx.example.org\r\nTo: a@example.edu\r\nSubject: Delivery Status Notification\r\n"
    "Message-ID: <report@mx>\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/report;{param} boundary="b"\r\n\r\n'
    "--b\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n"
    "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
    "Final-Recipient: rfc822; Dr.Smith@Hospital.org\r\nAction: {action}\r\nStatus: {status}\r\n\r\n"
    "--b\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <orig@example.edu>\r\nSubject: Mentorship\r\n\r\nHi\r\n"
    "--b--\r\n"
)


def report(action="failed", status="5.1.1", param=" report-type=delivery-status;"):
    return REPORT.format(action=action, status=status, param=param).encode()


def test_failed_is_permanent_and_names_the_original():
    r = parse_delivery_report(report())
    assert r is not None and r.permanent
    assert r.original_message_id == "<orig@example.edu>"
    assert r.recipients == ("dr.smith@hospital.org",)
    assert r.status == "5.1.1"


def test_delayed_is_not_permanent():
    r = parse_delivery_report(report("delayed", "4.4.7"))
    assert r is not None and not r.permanent


def test_delivered_is_no_failure():
    assert parse_delivery_report(report("delivered", "2.0.0")) is None


def test_a_report_without_the_report_type_parameter():
    raw = report(param="")
    head = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    message = parse_message(head, folder="INBOX", uid=1, internaldate=datetime.now(UTC))
    assert classify(message, my_addresses=frozenset()).kind == BOUNCE
    verdict = classify(replace(message, raw=raw), my_addresses=frozenset())
    assert verdict.kind == BOUNCE and verdict.report is not None
    delayed = report("delayed", "4.2.2", param="")
    assert classify(replace(message, raw=delayed), my_addresses=frozenset()).kind == DELAYED


def test_a_person_writing_about_a_failure_is_not_a_bounce():
    text = (
        b"From: Jane Smith <jsmith@hospital.org>\r\nTo: a@example.edu\r\nSubject: Re: Mentorship\r\n\r\n"
        b"The link you sent does not exist and the message could not be delivered to my old address.\r\n"
    )
    head = text.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    message = parse_message(head, folder="INBOX", uid=1, internaldate=datetime.now(UTC))
    assert classify(replace(message, raw=text), my_addresses=frozenset()).kind == "human"


PYTHON_DATA = Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data"


@pytest.mark.skipif(not PYTHON_DATA.is_dir(), reason="this Python ships no test package")
@pytest.mark.parametrize("name", ["msg_05.txt", "msg_25.txt", "msg_43.txt"])
def test_the_interpreters_odd_delivery_reports(name):
    raw = (PYTHON_DATA / name).read_bytes()
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0] + b"\n\n"
    message = parse_message(head, folder="INBOX", uid=1, internaldate=datetime.now(UTC))
    assert classify(replace(message, raw=raw), my_addresses=frozenset()).kind == BOUNCE
