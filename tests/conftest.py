"""Real servers on loopback: one Dovecot and one Radicale per test session, a fresh
mailbox user and calendar user per test (Dovecot's static passdb and Radicale's
`--auth-type none` accept any user name)."""

from __future__ import annotations

import itertools
import os
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import imapclient
import pytest

from assistant.demo.servers.caldav_servers import CalDAVServer, start_radicale, start_xandikos
from assistant.demo.servers.dovecot import DovecotServer, dovecot_available, start_dovecot

# Soak suites run a short budget by default (CI) and a long one by hand: MENTOR_ASSISTANT_LONG=1.
LONG = bool(os.environ.get("MENTOR_ASSISTANT_LONG"))


def budget(short: int, long: int) -> int:
    """The size of a soak run: `short` in CI, `long` when run by hand with MENTOR_ASSISTANT_LONG=1."""
    return long if LONG else short


_counter = itertools.count()
PASSWORD = "Pw-dovecot-7f3a9c"  # distinctive, so a leak into a log line is found


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    if not dovecot_available():
        pytest.fail("Dovecot is not installed: run scripts/test, or apt-get install dovecot-imapd")
    server = start_dovecot(password=PASSWORD)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def radicale() -> Iterator[CalDAVServer]:
    server = start_radicale()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def xandikos() -> Iterator[CalDAVServer]:
    server = start_xandikos()
    yield server
    server.stop()


@dataclass
class MailUser:
    """A fresh mailbox on the shared Dovecot."""

    server: DovecotServer
    username: str

    def client(self) -> imapclient.IMAPClient:
        c = imapclient.IMAPClient(self.server.host, port=self.server.port, ssl=False, timeout=30)
        c.login(self.username, self.server.password)
        c.normalise_times = False
        return c

    def append(self, folder: str, raw: bytes, *, when: datetime, flags: tuple[bytes, ...] = ()) -> int:
        with self.client() as c:
            response = c.append(folder, raw, flags=flags, msg_time=when)
        return int(response.split(b"APPENDUID ")[1].split(b" ")[1].rstrip(b"]"))

    def messages(self, folder: str) -> dict[int, dict[bytes, object]]:
        with self.client() as c:
            c.select_folder(folder, readonly=True)
            uids = c.search(["ALL"])
            return c.fetch(uids, ["FLAGS", "BODY.PEEK[]"]) if uids else {}


@pytest.fixture
def mail_user(dovecot: DovecotServer) -> MailUser:
    return MailUser(dovecot, f"resident{next(_counter)}-{os.getpid()}@example.edu")


def make_message(
    *,
    sender: str,
    to: list[str],
    subject: str,
    when: datetime,
    message_id: str,
    body: str = "Hello,\n\nThis is a test.\n",
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    extra: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = " ".join(references)
    for key, value in (extra or {}).items():
        msg[key] = value
    msg.set_content(body)
    return msg.as_bytes()


def write_config(
    path: Path,
    *,
    user: MailUser,
    calendar: CalDAVServer | None,
    cal_user: str = "",
    goals: str = "",
    extra: str = "",
    mentors: str | None = None,
    calendar_name: str = "Mentorship",
) -> Path:
    cal = ""
    if calendar is not None:
        cal = textwrap.dedent(f"""
            [calendar]
            url = "{calendar.url}"
            calendar = "{calendar_name}"
            username = "{cal_user or user.username.split("@")[0]}"
            password = "x"
        """)
    if mentors is None:
        mentors = textwrap.dedent("""
            [[mentors]]
            name = "Dr. Jane Smith"
            email = ["jsmith@hospital.org", "jane.smith@university.edu"]
            area = "hematology/oncology"
            project = "inpatient anticoagulation"

            [[mentors]]
            name = "Dr. Raj Patel"
            email = ["rpatel@hospital.org"]
            area = "hematology/oncology"
            project = "a QI project on transfusion thresholds"

            [[mentors]]
            name = "Dr. Maria Chen"
            email = ["mchen@hospital.org"]
            area = "hematology/oncology"
        """)
    text = (
        textwrap.dedent(f"""
        [me]
        name = "Alex Rivera"
        email = "{user.username}"
        role = "first-year internal medicine resident"
        timezone = "America/Denver"

        [mail]
        host = "{user.server.host}"
        port = {user.server.port}
        security = "plain"
        username = "{user.username}"
        password = "{user.server.password}"
        idle = false
        poll_interval = "1m"

        [state]
        path = "{path.parent / "state.json"}"

        [tracking]
        since = 2026-10-01
    """)
        + cal
        + mentors
        + goals
        + extra
    )
    path.write_text(text)
    path.chmod(0o600)  # it holds a password: as the README asks
    return path


def pytest_terminal_summary(terminalreporter) -> None:
    """Show the corpus confusion table in every run's output."""
    from tests import test_corpus

    if test_corpus.SUMMARY:
        terminalreporter.write_line("")
        for line in test_corpus.SUMMARY:
            terminalreporter.write_line(line)
