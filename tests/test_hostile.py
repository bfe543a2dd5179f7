"""Hostile input: fuzzed headers and drafts, monstrous messages, broken configs."""

from __future__ import annotations

import email
import json
import resource
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.cli import main
from assistant.core import draft as d
from assistant.core.classify import classify
from assistant.core.headers import parse_message
from assistant.core.model import Address, MailMessage
from assistant.core.settings import Me, Mentor
from assistant.template_files import load_templates
from tests.conftest import budget, make_message, write_config
from tests.test_end_to_end import NOW, cli

FALLBACK = datetime(2026, 11, 1, tzinfo=UTC)
TEMPLATES = load_templates(None)
EXPECTED_HEADERS = {
    "From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "X-Mentor-Assistant",
    "Content-Type", "Content-Transfer-Encoding", "MIME-Version",
}  # fmt: skip
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120)


@pytest.mark.soak
@settings(max_examples=budget(1_000, 10_000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600), text, text)
def test_ten_thousand_hostile_inputs(raw, name, subject):
    """Header parsing, classification and draft composition: no exception, no injected header."""
    message = parse_message(raw, folder="INBOX", uid=1, internaldate=FALLBACK)
    classify(message, my_addresses=frozenset({"me@example.edu"}))
    last = MailMessage("Sent", 2, message.message_id or "<x@y>", FALLBACK, subject=subject,
                       sender=Address(name, "me@example.edu"), to=(Address(name, "m@h.org"),),
                       references=message.references[:5], body=subject)  # fmt: skip
    mentor = Mentor(name=name, emails=("m@h.org",), project=subject)
    ctx = d.DraftContext(
        Me(name=name or "A", email="me@example.edu"), mentor, last.to[0], subject, FALLBACK, 1, 2, False
    )
    out = d.compose_followup(templates=TEMPLATES, ctx=ctx, request_id="r", last_sent=last, to=last.to, cc=(),
                             message_id=d.draft_message_id("r", 1, "example.edu"), now=FALLBACK)  # fmt: skip
    parsed = email.message_from_bytes(out, policy=policy.default)
    assert set(parsed.keys()) == EXPECTED_HEADERS
    assert parsed["To"].addresses[0].addr_spec == "m@h.org"


@pytest.mark.integration
def test_monstrous_and_broken_messages_are_handled_and_the_cycle_goes_on(mail_user, tmp_path):
    me = mail_user.username
    when = NOW - timedelta(days=15)
    mail_user.append("Sent", make_message(sender=me, to=["jsmith@hospital.org"], subject="Mentorship", when=when,
                     message_id="<req@x>"), when=when)  # fmt: skip
    # 50 MB, an answer by its thread headers.
    big = make_message(sender="jsmith@hospital.org", to=[me], subject="Re: Mentorship", when=when + timedelta(days=1),
                       message_id="<big@h>", in_reply_to="<req@x>", body="x" * 200 + "\n")  # fmt: skip
    big = big + b"A" * (50 * 1024 * 1024)
    mail_user.append("INBOX", big, when=when + timedelta(days=1))
    # No Message-ID; a duplicate Message-ID; broken encodings and charsets; 2,000 recipients.
    mail_user.append("INBOX", b"From: x@y.org\r\nTo: " + me.encode() + b"\r\nSubject: no id\r\n\r\nhi\r\n", when=when)
    mail_user.append("INBOX", make_message(sender="a@b.org", to=[me], subject="dup", when=when, message_id="<req@x>"),
                     when=when)  # fmt: skip
    broken = (
        b"From: =?bogus-charset?q?=FF=FE?= <c@d.org>\r\nSubject: =?utf-8?b?////\r\n"
        b"Content-Type: text/plain; charset=no-such-charset\r\nMessage-ID: <enc@x>\r\n\r\n\xff\xfe\x00\r\n"
    )
    mail_user.append("INBOX", broken, when=when)
    many = [f"person{i}@list.example.org" for i in range(2000)]
    mail_user.append("INBOX", make_message(sender="jsmith@hospital.org", to=[me, *many], subject="Announcement",
                     when=when, message_id="<many@h>"), when=when)  # fmt: skip
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    code, out = cli(config, "once")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert code == 0, out
    doc = json.loads(cli(config, "status", "--json")[1])
    (request,) = doc["requests"]
    assert request["state"] == "replied" and "<big@h>" in request["why"]
    assert mail_user.messages("Drafts") == {}
    assert grown_mb < 100, f"memory grew by {grown_mb:.0f} MB for a 50 MB message"


BROKEN = {
    "not TOML": ("[me\n", "not valid TOML"),
    "missing tables": ("", "[me]"),
    "bad email": ('[me]\nname = "A"\nemail = "nope"\n', "me.email"),
    "bad port": ('[mail]\nhost = "h"\nport = 70000\n', "mail.port"),
    "bad security": ('[mail]\nhost = "h"\nsecurity = "ssl3"\n', "mail.security"),
    "two passwords": ('[mail]\nhost = "h"\npassword = "a"\npassword_command = ["pass"]\n', "only one"),
    "bad duration": ('[followup]\nwait = "two weeks"\n', "followup.wait"),
    "bad rounds": ("[followup]\nrounds = 40\n", "followup.rounds"),
    "bad date": ('[tracking]\nsince = "last year"\n', "tracking.since"),
    "bad factor": ("[padding]\nfactor = 0.5\n", "padding.factor"),
    "unknown key": ("[padding]\nfacter = 2\n", "did you mean 'factor'"),
    "unknown table": ("[mial]\nhost = 1\n", "did you mean [mail]"),
    "bad digest": ('[smtp]\nhost = "h"\npassword = "p"\ndigest = "hourly"\n', "smtp.digest"),
    "bad goal": ('[[goals]]\nid = "x y"\ntitle = "t"\nestimate = "3 days"\n', "goals[0]"),
    "contract review before start": (
        '[[mentors]]\nname = "M"\nemail = "m@h.org"\n[contract]\nmentor = "m@h.org"\nstart = 2027-02-01\n'
        "review = 2027-01-01\n", "contract.review"),
    "bad templates path": ('[templates]\npath = "/no/such/dir"\n', "templates.path"),
    "plain http calendar": ('[calendar]\nurl = "http://dav.example.org/"\nusername = "u"\npassword = "p"\n',
                            "calendar.url"),
}  # fmt: skip
BASE = (
    '[me]\nname = "A"\nemail = "a@example.edu"\n'
    '[mail]\nhost = "127.0.0.1"\nsecurity = "plain"\nusername = "u"\npassword = "p"\n'
)


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_every_kind_of_config_mistake_is_reported_with_its_key_and_nothing_is_done(case, tmp_path):
    snippet, expected = BROKEN[case]
    config = tmp_path / "config.toml"
    body = snippet if case in ("not TOML", "missing tables") else _merge(BASE, snippet)
    config.write_text(body)
    config.chmod(0o600)
    for command in (["check-config", "--offline"], ["once"], ["status"]):
        result = CliRunner().invoke(main, ["--config", str(config), *command])
        assert result.exit_code == 78, (case, command, result.output)
        assert expected in result.output, (case, result.output)
    assert list(tmp_path.iterdir()) == [config]  # nothing written


def _merge(base: str, snippet: str) -> str:
    """Replace a base table by the snippet's when the snippet redefines it."""
    tables = ("[me]", "[mail]")
    for table in tables:
        if snippet.startswith(table):
            start = base.index(table)
            rest = base[start + len(table) :]
            end = min((rest.index(t) for t in tables if t in rest), default=len(rest))
            base = base[:start] + rest[end:]
            snippet = snippet + (
                'username = "u"\npassword = "p"\n' if table == "[mail]" and "password" not in snippet else ""
            )
    return base + snippet
