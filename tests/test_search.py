"""Finding the mentor: prospects, the first outreach draft, referrals, the pipeline."""

from __future__ import annotations

import email
import json
import textwrap
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.config import load_config
from assistant.core.referrals import suggestions
from tests.conftest import make_message, write_config
from tests.test_end_to_end import NOW

TALON = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "talon" / "tests" / "fixtures" / "standard_replies"
PROSPECTS = textwrap.dedent("""
    # Faculty I found on the division page.
    [[mentors]]
    name = "Dr. Jane Smith"
    email = ["jsmith@hospital.org"]
    area = "hematology/oncology"
    project = "inpatient anticoagulation"
    publications = ["Inpatient DOAC dosing errors, 2025"]

    [[mentors]]
    name = "Dr. Raj Patel"   # a co-resident's tip
    email = ["rpatel@hospital.org"]
    area = "hematology/oncology"
    recommended_by = "Dr. Lee (PGY-3)"

    [[mentors]]
    name = "Dr. Maria Chen"
    email = ["mchen@hospital.org"]
    area = "transfusion medicine"
""")


def run(config: Path, *args: str, now=NOW):
    env = {"MENTOR_ASSISTANT_NOW": now.isoformat(), "COLUMNS": "200"}  # wide tables in the output
    result = CliRunner().invoke(main, ["--config", str(config), *args], env=env)
    return result.exit_code, result.output


def drafts(user):
    return [email.message_from_bytes(m[b"BODY[]"], policy=policy.default) for m in user.messages("Drafts").values()]


def body_of(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


@pytest.mark.integration
def test_outreach_drafts_name_why_this_person_and_are_written_once(mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None, mentors=PROSPECTS)
    for who in ("Smith", "rpatel@hospital.org", "Chen"):
        code, out = run(config, "outreach", who)
        assert code == 0, out
    by_to = {m["To"].addresses[0].addr_spec: m for m in drafts(mail_user)}
    smith, patel, chen = by_to["jsmith@hospital.org"], by_to["rpatel@hospital.org"], by_to["mchen@hospital.org"]
    assert smith["Subject"] == "Seeking your guidance on inpatient anticoagulation (hematology/oncology)"
    assert smith["From"].addresses[0].addr_spec == mail_user.username
    assert smith["X-Mentor-Assistant"] == "outreach=jsmith@hospital.org"
    text = body_of(smith)
    assert text.startswith("Dear Dr. Smith,")
    assert "first-year internal medicine resident" in text
    assert "Inpatient DOAC dosing errors, 2025" in text  # why this person
    assert "inpatient anticoagulation" in text and "20 minutes" in text  # the specific ask
    assert "Dr. Lee (PGY-3) suggested I reach out to you." in body_of(patel)
    assert "I am writing because of your work in transfusion medicine." in body_of(chen)
    assert chen["Subject"] == "Seeking your guidance on transfusion medicine"
    for msg in (smith, patel, chen):
        assert len(body_of(msg).split()) < 150
    # Never twice, unless asked.
    code, out = run(config, "outreach", "Smith")
    assert "is waiting in Drafts" in out and len(drafts(mail_user)) == 3
    code, out = run(config, "outreach", "Smith", "--again")
    assert code == 0 and len(drafts(mail_user)) == 4
    code, out = run(config, "outreach", "Dr.")
    assert code != 0 and "be more specific" in out


@pytest.mark.integration
def test_the_sent_outreach_becomes_a_request(mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None, mentors=PROSPECTS)
    assert run(config, "outreach", "Smith")[0] == 0
    (msg,) = drafts(mail_user)
    with mail_user.client() as c:  # the resident sends it
        c.select_folder("Drafts")
        uids = c.search(["ALL"])
        c.append("Sent", msg.as_bytes(), flags=[b"\\Seen"])
        c.add_flags(uids, [b"\\Deleted"])
        c.uid_expunge(uids)
    assert run(config, "once")[0] == 0
    doc = json.loads(run(config, "status", "--json")[1])
    assert [r["mentor"] for r in doc["requests"]] == ["jsmith@hospital.org"]
    stages = {m["email"]: m["stage"] for m in doc["mentors"]}
    assert stages == {
        "jsmith@hospital.org": "contacted",
        "rpatel@hospital.org": "prospect",
        "mchen@hospital.org": "prospect",
    }
    # Dr. Smith has been written to: a "first e-mail" to her now would be a blunder.
    code, out = run(config, "outreach", "Smith")
    assert code == 0 and "You already wrote to Dr. Jane Smith" in out and "--again" in out
    assert drafts(mail_user) == []


SUGGESTION = (
    "I can't take on a new mentee this year, but Dr. Priya Lee (plee@hospital.org) runs the stewardship\n"
    "program and loves working with residents. You could also write to okhan@hospital.org."
)


TALON_CLIENTS = sorted(p.name for p in TALON.glob("*.eml")) or [
    pytest.param("", marks=pytest.mark.skip(reason=f"the extended corpus is not at {TALON} (a fresh clone has none)"))
]


@pytest.mark.parametrize("client", TALON_CLIENTS)
def test_referrals_are_read_from_the_replys_own_text_in_every_clients_shape(client):
    """Each talon client reply, with our suggestion as its text; its quote and a signature hold other addresses."""
    msg = email.message_from_bytes((TALON / client).read_bytes(), policy=policy.default)
    part = msg.get_body(preferencelist=("plain",))
    original = part.get_content() if part is not None else "Hello\n\n> Hi"
    reply = original.replace("Hello", f"{SUGGESTION}\n\nBest,\nJane\n\n--\nJane Smith, MD | jsmith@hospital.org", 1)
    quoted = reply + "\n\n> From the original: please also cc bob@quoted.example and the resident alex@example.edu\n"
    found = suggestions(quoted, exclude=frozenset({"jsmith@hospital.org", "alex@example.edu"}))
    assert ("plee@hospital.org", "Dr. Priya Lee") in found, (client, found)
    addresses = [a for a, _n in found]
    assert "okhan@hospital.org" in addresses
    assert "bob@quoted.example" not in addresses and "jsmith@hospital.org" not in addresses


@pytest.mark.integration
def test_a_suggestion_flows_from_the_reply_to_a_new_prospect(mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None, mentors=PROSPECTS)
    sent = NOW - timedelta(days=5)
    mail_user.append("Sent", make_message(sender=mail_user.username, to=["jsmith@hospital.org"], subject="Mentorship",
                     when=sent, message_id="<req@example.edu>"), when=sent)  # fmt: skip
    body = (f"Hi Alex,\n\n{SUGGESTION}\n\nBest,\nJane\n\n--\nJane Smith, MD\nHematology | jsmith@hospital.org\n\n"
            f"On Mon, Nov 16, 2026 at 9:00 AM, Alex <{mail_user.username}> wrote:\n> Dear Dr. Smith, my co-resident "
            "bob@quoted.example said you might have time.\n")  # fmt: skip
    mail_user.append("INBOX", make_message(sender="Jane Smith <jsmith@hospital.org>", to=[mail_user.username],
                     subject="Re: Mentorship", when=sent + timedelta(days=1), message_id="<r@h>",
                     in_reply_to="<req@example.edu>", body=body), when=sent + timedelta(days=1))  # fmt: skip
    assert run(config, "once")[0] == 0
    doc = json.loads(run(config, "status", "--json")[1])
    smith = next(m for m in doc["mentors"] if m["email"] == "jsmith@hospital.org")
    assert smith["stage"] == "replied"
    assert smith["suggested"] == ["plee@hospital.org", "okhan@hospital.org"]
    assert smith["suggested_names"][0] == "Dr. Priya Lee"
    code, out = run(config, "mentor", "add", "--from-suggestion", "plee@hospital.org", "--area", "stewardship")
    assert code == 0, out
    text = config.read_text()
    assert "# Faculty I found on the division page." in text and "# a co-resident's tip" in text
    lee = next(m for m in load_config(config).settings.mentors if m.email == "plee@hospital.org")
    assert lee.name == "Dr. Priya Lee" and lee.recommended_by == "Dr. Jane Smith" and lee.area == "stewardship"
    code, out = run(config, "mentor", "list")
    assert code == 0 and "Dr. Priya Lee" in out and "prospect" in out
    code, out = run(config, "mentor", "add", "--from-suggestion", "nobody@x.org")
    assert code == 64 and "no mentor's reply suggested" in out
    code, out = run(config, "mentor", "add", "Dup", "--email", "plee@hospital.org")
    assert code == 64 and "already listed" in out
