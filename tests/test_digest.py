"""The digest: its schedule, its content, and its delivery to the resident only (aiosmtpd)."""

from __future__ import annotations

import email
import ssl
import textwrap
from datetime import datetime, timedelta
from email import policy

import pytest
import trustme

from assistant.core.digest import digest_due
from assistant.demo.servers.smtp_sink import start_smtp_sink
from tests.conftest import write_config
from tests.test_end_to_end import GOAL, NOW, cli, seed

TZ = "America/Denver"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_weekly_schedule_once_per_week():
    spec = "weekly mon 07:30"
    # Monday Nov 23, 2026, 07:29 local: not yet.
    assert digest_due(spec, last_period=None, now=at("2026-11-23T07:29:00-07:00"), tz_name=TZ) is None
    due = digest_due(spec, last_period=None, now=at("2026-11-23T07:30:00-07:00"), tz_name=TZ)
    assert due is not None and due.period == "2026-W48"
    assert digest_due(spec, last_period="2026-W48", now=at("2026-11-27T12:00:00-07:00"), tz_name=TZ) is None
    nxt = digest_due(spec, last_period="2026-W48", now=at("2026-11-30T08:00:00-07:00"), tz_name=TZ)
    assert nxt is not None and nxt.period == "2026-W49"


def test_daily_schedule_in_the_residents_time_zone():
    spec = "daily 18:00"
    # 00:30 UTC on Nov 25 is 17:30 on Nov 24 in Denver: not yet.
    assert digest_due(spec, last_period=None, now=at("2026-11-25T00:30:00+00:00"), tz_name=TZ) is None
    due = digest_due(spec, last_period=None, now=at("2026-11-25T01:00:00+00:00"), tz_name=TZ)
    assert due is not None and due.period == "2026-11-24"
    assert digest_due("off", last_period=None, now=NOW, tz_name=TZ) is None


def smtp_table(port: int, security: str, user, extra: str = "") -> str:
    return textwrap.dedent(f"""
        [smtp]
        host = "127.0.0.1"
        port = {port}
        security = "{security}"
        username = "{user.username}"
        password = "x"
        digest = "weekly tue 07:30"
        {extra}
    """)


@pytest.mark.integration
def test_the_digest_is_sent_once_per_period_to_the_resident_only(mail_user, radicale, tmp_path):
    sink = start_smtp_sink()
    try:
        seed(mail_user)
        config = write_config(tmp_path / "config.toml", user=mail_user, calendar=radicale, goals=GOAL,
                              extra=smtp_table(sink.port, "plain", mail_user))  # fmt: skip
        code, out = cli(config, "once")  # Tuesday Nov 24, 09:00
        assert code == 0, out
        assert "send the digest for 2026-W48 to you" in out
        assert cli(config, "once", now=NOW + timedelta(hours=1))[0] == 0  # a restart: no second one
        assert cli(config, "once", now=NOW + timedelta(days=3))[0] == 0
        assert len(sink.messages) == 1
        (received,) = sink.messages
        assert received.recipients == [mail_user.username]
        msg = email.message_from_bytes(received.data, policy=policy.default)
        assert msg["To"].addresses[0].addr_spec == mail_user.username
        assert msg["Auto-Submitted"] == "auto-generated"
        text = msg.get_body(preferencelist=("plain",)).get_content()
        html = msg.get_body(preferencelist=("html",)).get_content()
        assert "Needs you now" in text and "Dr. Raj Patel" in text and "waiting in Drafts" in text
        assert "Waiting on" in text and "Dr. Maria Chen" in text and "3 days since your last message" in text
        assert "Answered" in text and "Dr. Jane Smith answered" in text
        assert "Goals this week and next" not in text  # the goal is due after next week
        assert "<h3>Needs you now</h3>" in html
        assert cli(config, "once", now=NOW + timedelta(days=7))[0] == 0  # the next Tuesday
        assert len(sink.messages) == 2
    finally:
        sink.stop()


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


def server_context(ca, host="127.0.0.1"):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(host).configure_cert(ctx)
    return ctx


@pytest.mark.integration
@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_tls_with_certificate_checks(mail_user, tmp_path, ca, mode):
    ctx = server_context(ca)
    sink = start_smtp_sink(starttls=ctx) if mode == "starttls" else start_smtp_sink(tls=ctx)
    try:
        seed(mail_user)
        ca_file = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        # Without the CA the certificate is refused: exit 69, nothing sent.
        config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None,
                              extra=smtp_table(sink.port, mode, mail_user))  # fmt: skip
        code, out = cli(config, "once")
        assert code == 69, out
        assert sink.messages == []
        # With the CA as ca_file it goes through.
        config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None,
                              extra=smtp_table(sink.port, mode, mail_user, f'ca_file = "{ca_file}"'))  # fmt: skip
        code, out = cli(config, "once", now=NOW + timedelta(minutes=1))
        assert code == 0, out
        assert len(sink.messages) == 1
    finally:
        sink.stop()


@pytest.mark.integration
def test_starttls_required_but_not_offered(mail_user, tmp_path):
    sink = start_smtp_sink()  # no STARTTLS
    try:
        config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None,
                              extra=smtp_table(sink.port, "starttls", mail_user))  # fmt: skip
        code, out = cli(config, "once")
        assert code == 69, out
        assert "does not offer STARTTLS" in out
        assert sink.messages == []
    finally:
        sink.stop()
