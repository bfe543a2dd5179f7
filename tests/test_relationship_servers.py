"""The whole relationship against real servers: two contracts, renew, end, the review.

Dovecot holds the drafts; Radicale and Xandikos hold the calendar, which khal reads as a
person would (after vdirsyncer), on both sides of a daylight-saving change.
"""

from __future__ import annotations

import email
import json
import re
import textwrap
from datetime import datetime, timedelta
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from caldav.davclient import DAVClient
from click.testing import CliRunner
from icalendar import Calendar, Event

from assistant.cli import main
from assistant.demo.servers.smtp_sink import start_smtp_sink
from tests.calendar_clients import khal_list, resync, sync_to_vdir
from tests.conftest import make_message, write_config
from tests.test_relationship import TWO

MENTORS = textwrap.dedent("""
    [[mentors]]
    name = "Dr. Jane Smith"
    email = ["jsmith@hospital.org"]

    [[mentors]]
    name = "Dr. Raj Patel"
    email = ["rpatel@hospital.org"]
""")
# Dr. Smith's relationship also has a goal still open, to be listed when it ends.
GOALS = TWO + textwrap.dedent("""
    [[goals]]
    id = "poster"
    title = "Poster for research day"
    mentor = "jsmith@hospital.org"
    start = 2027-02-01
    estimate = "4w"
""")
FEB1 = datetime.fromisoformat("2027-02-01T09:00:00-07:00")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def run(config: Path, *args: str, now: datetime) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args], env={"MENTOR_ASSISTANT_NOW": now.isoformat()})
    return result.exit_code, result.output


def setup(kind: str, request, mail_user, tmp_path: Path, extra: str = "") -> tuple[Path, str, object]:
    server = request.getfixturevalue(kind)
    user = mail_user.username.split("@")[0] if kind == "radicale" else "user"
    name = f"Rel {tmp_path.name}"
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=server, cal_user=user, goals=GOALS,
                          mentors=MENTORS, calendar_name=name, extra=extra)  # fmt: skip
    client = DAVClient(url=server.url, username=user, password="x")
    cal = next((c for c in client.principal().calendars() if c.get_display_name() == name), None)
    return config, user, (server, client, name, cal)


def objects(client: DAVClient, name: str) -> dict[str, str]:
    """Our objects on the server by their marker (X-MENTOR-ASSISTANT), unfolded."""
    cal = next(c for c in client.principal().calendars() if c.get_display_name() == name)
    out = {}
    for obj in cal.objects(load_objects=True):
        text = obj.data.replace("\r\n ", "").replace("\n ", "")
        marker = re.search(r"X-MENTOR-ASSISTANT:(\S+)", text)
        if marker:
            out[marker.group(1)] = text
    return out


def series_of(ics: str) -> dict[str, object]:
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    return {"uid": str(event["UID"]), "sequence": int(event.get("SEQUENCE", 0)),
            "rrule": event["RRULE"].to_ical().decode()}  # fmt: skip


def checkins_on(text: str, day: str) -> list[str]:
    """khal's lines for one day (its block runs until the next date heading)."""
    if day not in text:
        return []
    block = text.split(day, 1)[1].split("\n")[1:]
    lines = []
    for line in block:
        if re.match(r"^\S", line) and re.match(r"^\d{4}-\d\d-\d\d|^[A-Z][a-z]+,", line):
            break
        lines.append(line.strip())
    # "16:00-16:30 Check-in: Dr. Smith ⟳ ⏰ :: description": the time and the title.
    return [re.split(r" ⟳| ⏰| ::", line)[0] for line in lines if "Check-in" in line]


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["radicale", "xandikos"])
def test_two_contracts_two_series_at_their_own_times_across_dst(kind, request, mail_user, tmp_path):
    config, user, (_server, client, name, _cal) = setup(kind, request, mail_user, tmp_path)
    code, out = run(config, "once", now=FEB1)
    assert code == 0, out
    assert "check-ins with Dr. Jane Smith" in out and "check-ins with Dr. Raj Patel" in out
    found = objects(client, name)
    assert {"contract:checkins", "contract:rpatel@hospital.org:checkins",
            "contract:review", "contract:rpatel@hospital.org:review"} <= set(found)  # fmt: skip
    # Each agenda has its own relationship's goals only.
    smith = found["contract:checkins"]
    patel = found["contract:rpatel@hospital.org:checkins"]
    assert "QI abstract" in smith and "Fellowship shortlist" not in smith
    assert "Fellowship shortlist (Dr. Raj Patel" in patel and "QI abstract" not in patel
    cal = next(c for c in client.principal().calendars() if c.get_display_name() == name)
    text = khal_list(tmp_path, sync_to_vdir(tmp_path, str(cal.url), user), "2027-02-01", "60d")
    # DST begins on March 14, 2027: both keep their local times on both sides.
    assert checkins_on(text, "2027-03-02") == ["16:00-16:30 Check-in: Dr. Smith"], text
    assert checkins_on(text, "2027-03-30") == ["16:00-16:30 Check-in: Dr. Smith"], text
    assert checkins_on(text, "2027-03-04") == ["08:00-08:45 Check-in: Dr. Patel"], text
    assert checkins_on(text, "2027-03-18") == ["08:00-08:45 Check-in: Dr. Patel"], text
    status = json.loads(run(config, "status", "--json", now=FEB1)[1])
    assert [c["mentor"] for c in status["contracts"]] == ["jsmith@hospital.org", "rpatel@hospital.org"]
    assert [c["version"] for c in status["contracts"]] == [1, 1]
    assert [c["mentor"] for c in status["checkins"]] == ["jsmith@hospital.org", "rpatel@hospital.org"]  # Feb 2, Feb 4
    out = run(config, "status", now=FEB1)[1]
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "Next check-in with Dr. Jane Smith: Tue Feb 2 16:00" in out
    assert "Next check-in with Dr. Raj Patel: Thu Feb 4 08:00" in out
    # Which contract MENTOR names: none with two contracts is a usage error, so is an ambiguous part.
    assert run(config, "contract", "review", now=FEB1)[0] == 64
    code, out = run(config, "contract", "review", "dr.", now=FEB1)
    assert code == 64 and "more than one" in out
    code, out = run(config, "contract", "review", "patel", now=FEB1)
    assert code == 0 and "Fellowship shortlist" in out and "QI abstract" not in out


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["radicale", "xandikos"])
def test_ending_keeps_the_past_stops_the_future_and_drafts_a_thank_you(kind, request, mail_user, tmp_path):
    config, user, (_server, client, name, _cal) = setup(kind, request, mail_user, tmp_path)
    config.write_text(config.read_text().replace('estimate = "2w"', 'estimate = "2w"\ndone = 2027-01-15', 1))
    assert run(config, "once", now=FEB1)[0] == 0
    before = series_of(objects(client, name)["contract:checkins"])
    ended_on = at("2027-03-10T12:00:00-07:00")

    # A dry run changes nothing: not the config, not Drafts.
    text = config.read_text()
    code, out = run(config, "contract", "end", "smith", "--dry-run", now=ended_on)
    assert code == 0 and "Would write ended = 2027-03-10" in out and "thank-you" in out
    assert config.read_text() == text and mail_user.messages("Drafts") == {}

    code, out = run(config, "contract", "end", "smith", now=ended_on)
    assert code == 0, out
    assert "ended = 2027-03-10" in config.read_text()
    assert "A thank-you to Dr. Jane Smith is in Drafts" in out
    assert "Still open: poster (Poster for research day)" in out and "abstract" not in out.split("Still open")[1]
    (item,) = mail_user.messages("Drafts").values()
    assert b"\\Draft" in item[b"FLAGS"]
    msg = email.message_from_bytes(item[b"BODY[]"], policy=policy.default)
    assert msg["To"].addresses[0].addr_spec == "jsmith@hospital.org"
    assert msg["From"].addresses[0].addr_spec == mail_user.username
    assert msg["Subject"] == "Thank you" and msg["X-Mentor-Assistant"].startswith("thanks=")
    assert msg["Date"].endswith("-0700")
    body = msg.get_content()
    assert body.startswith("Dear Dr. Smith,") and "since January 2027" in body
    assert "QI abstract" in body and "Poster" not in body  # what was achieved, not what was not
    assert "stay in touch" in body
    # Running it again writes nothing twice.
    assert "already in Drafts" in run(config, "contract", "end", "smith", now=ended_on)[1]
    assert len(mail_user.messages("Drafts")) == 1

    code, out = run(config, "once", now=ended_on)
    assert code == 0, out
    found = objects(client, name)
    after = series_of(found["contract:checkins"])
    assert after["uid"] == before["uid"] and after["sequence"] > before["sequence"]  # edited, not recreated
    assert "UNTIL=20270302T230000Z" in str(after["rrule"])  # the last check-in before the end: Mar 2, 16:00 MST
    assert "SUMMARY:Ended: mentorship with Dr. Smith" in found["contract:review"]
    cal = next(c for c in client.principal().calendars() if c.get_display_name() == name)
    text = khal_list(tmp_path, sync_to_vdir(tmp_path, str(cal.url), user), "2027-01-01", "200d")
    for day in ("2027-01-05", "2027-02-02", "2027-03-02"):
        assert checkins_on(text, day) == ["16:00-16:30 Check-in: Dr. Smith"], (day, text)
    assert "Check-in: Dr. Smith" not in text.split("2027-03-10", 1)[1]
    assert "08:00-08:45 Check-in: Dr. Patel" in text.split("2027-03-10", 1)[1]  # the other one goes on
    status = json.loads(run(config, "status", "--json", now=ended_on)[1])
    assert {m["email"]: m["stage"] for m in status["mentors"]} == {
        "jsmith@hospital.org": "alumni", "rpatel@hospital.org": "contract"}  # fmt: skip
    assert status["contracts"][0]["ended"] == "2027-03-10"
    assert [c["mentor"] for c in status["checkins"]] == ["rpatel@hospital.org"]
    assert "Nothing to do." in run(config, "once", now=ended_on)[1]


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["radicale", "xandikos"])
def test_renewing_extends_the_same_series(kind, request, mail_user, tmp_path):
    config, user, (_server, client, name, _cal) = setup(kind, request, mail_user, tmp_path)
    april = at("2027-04-20T09:00:00-06:00")
    assert run(config, "once", now=april)[0] == 0
    before = series_of(objects(client, name)["contract:rpatel@hospital.org:checkins"])
    cal = next(c for c in client.principal().calendars() if c.get_display_name() == name)
    local = sync_to_vdir(tmp_path, str(cal.url), user)
    text = khal_list(tmp_path, local, "2027-04-01", "120d")
    assert checkins_on(text, "2027-04-29") == ["08:00-08:45 Check-in: Dr. Patel"]
    assert checkins_on(text, "2027-05-13") == []  # past the review of May 6

    text = config.read_text()
    code, out = run(config, "contract", "renew", "patel", "--review", "2027-09-02", "--every", "4w", "--dry-run",
                    now=april)  # fmt: skip
    assert code == 0 and "Would write version 2" in out and config.read_text() == text
    assert run(config, "contract", "renew", "patel", "--review", "2027-05-01", now=april)[0] == 64
    code, out = run(config, "contract", "renew", "patel", "--review", "2027-09-02", "--every", "4w", now=april)
    assert code == 0, out
    written = config.read_text()
    assert "version = 2" in written and "review = 2027-09-02" in written
    assert re.search(r"previous = \[\s*\{version = 1, review = 2027-05-06, every = \"2w\", renewed = 2027-04-20\}",
                     written), written  # fmt: skip

    assert run(config, "once", now=april)[0] == 0
    after = series_of(objects(client, name)["contract:rpatel@hospital.org:checkins"])
    assert after["uid"] == before["uid"] and after["sequence"] > before["sequence"]
    resync(tmp_path)
    text = khal_list(tmp_path, local, "2027-04-01", "150d")
    # The past at every two weeks, then every four from the old review on, until the new one.
    assert checkins_on(text, "2027-04-15") == ["08:00-08:45 Check-in: Dr. Patel"]
    assert checkins_on(text, "2027-04-29") == ["08:00-08:45 Check-in: Dr. Patel"]
    for day in ("2027-05-06", "2027-06-03", "2027-07-01", "2027-07-29", "2027-08-26"):
        assert checkins_on(text, day) == ["08:00-08:45 Check-in: Dr. Patel"], (day, text)
    assert checkins_on(text, "2027-05-20") == []
    status = json.loads(run(config, "status", "--json", now=april)[1])
    patel = status["contracts"][1]
    assert (patel["version"], patel["review"]) == (2, "2027-09-02")
    # The new version has its own proposal (a new Message-ID).
    assert run(config, "contract", "draft", "patel", "--anyway", now=april)[0] == 0
    (item,) = mail_user.messages("Drafts").values()
    assert b"This is version 2" in item[b"BODY[]"].replace(b"=\r\n", b"")


@pytest.mark.integration
def test_the_review_packet_a_week_before_in_the_digest_and_as_a_draft(request, mail_user, tmp_path):
    sink = start_smtp_sink()
    try:
        smtp = textwrap.dedent(f"""
            [smtp]
            host = "127.0.0.1"
            port = {sink.port}
            security = "plain"
            username = "{mail_user.username}"
            password = "x"
            digest = "daily 07:00"
        """)
        config, _user, _ = setup("radicale", request, mail_user, tmp_path, extra=smtp)
        config.write_text(config.read_text().replace('estimate = "2w"', 'estimate = "2w"\ndone = 2027-01-15', 1))
        week_before = at("2027-06-29T08:00:00-06:00")
        code, out = run(config, "once", now=week_before)
        assert code == 0, out
        (digest,) = sink.messages
        msg = email.message_from_bytes(digest.data, policy=policy.default)
        text = msg.get_body(preferencelist=("plain",)).get_content()
        assert "Your review is coming" in text
        assert "Review with Dr. Smith on Tue Jul 6, 2027: 1 of 1 goal delivered by the promised date" in text
        assert "Still open: Poster for research day" in text
        assert "Your track record" in text
        needs = json.loads(run(config, "status", "--json", now=week_before)[1])["needs_you_now"]
        assert any(n["kind"] == "contract" and "contract review" in n["text"] for n in needs)

        code, out = run(config, "contract", "review", "smith", "--draft", now=week_before)
        assert code == 0 and "review meeting proposal to jsmith@hospital.org is in Drafts" in out
        (item,) = mail_user.messages("Drafts").values()
        draft = email.message_from_bytes(item[b"BODY[]"], policy=policy.default)
        assert draft["Subject"] == "Reviewing our mentorship agreement"
        assert draft["To"].addresses[0].addr_spec == "jsmith@hospital.org"
        plain = draft.get_body(preferencelist=("plain",)).get_content()
        assert plain.startswith("Dear Dr. Smith,") and "# Review of our mentorship" in plain
        assert "11 days early, by my own target" in plain and "| QI abstract | me |" in plain
        html = draft.get_body(preferencelist=("html",)).get_content()
        assert "<h1>Review of our mentorship</h1>" in html
        assert "already in Drafts" in run(config, "contract", "review", "smith", "--draft", now=week_before)[1]
        assert [m.recipients for m in sink.messages] == [[mail_user.username]]  # the digest, to the resident only
    finally:
        sink.stop()


@pytest.mark.integration
def test_the_letters_of_a_relationship_are_never_nudged(mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None, goals=GOALS, mentors=MENTORS)
    me = mail_user.username
    ended_on = at("2027-03-10T12:00:00-07:00")
    assert run(config, "contract", "end", "smith", now=ended_on)[0] == 0
    (item,) = mail_user.messages("Drafts").values()
    # The resident sends the thank-you; the client gives it a Message-ID of its own and drops our header.
    sent = email.message_from_bytes(item[b"BODY[]"], policy=policy.default)
    del sent["X-Mentor-Assistant"]
    sent.replace_header("Message-ID", "<thanks-as-sent@example.edu>")
    mail_user.append("Sent", sent.as_bytes(), when=ended_on, flags=(b"\\Seen",))
    # The review-meeting letter to Dr. Patel, sent with our header kept; and, to prove the
    # rule can fail, an ordinary request to Dr. Patel the same day.
    letter = make_message(sender=me, to=["rpatel@hospital.org"], subject="Reviewing our mentorship agreement",
                          when=ended_on, message_id="<mentor-assistant.review.0123456789abcdef0123@example.edu>",
                          extra={"X-Mentor-Assistant": "review=0123456789abcdef0123"})  # fmt: skip
    mail_user.append("Sent", letter, when=ended_on, flags=(b"\\Seen",))
    ask = make_message(sender=me, to=["rpatel@hospital.org"], subject="Could you look at my abstract?",
                       when=ended_on, message_id="<ask@example.edu>")  # fmt: skip
    mail_user.append("Sent", ask, when=ended_on, flags=(b"\\Seen",))
    for drafts in list(mail_user.messages("Drafts")):
        with mail_user.client() as c:
            c.select_folder("Drafts")
            c.add_flags([drafts], [b"\\Deleted"])
            c.uid_expunge([drafts])
    later = at("2027-03-30T09:00:00-06:00")
    code, out = run(config, "once", now=later)
    assert code == 0, out
    requests = json.loads(run(config, "status", "--json", now=later)[1])["requests"]
    assert [r["message_id"] for r in requests] == ["<ask@example.edu>"]
    (draft,) = mail_user.messages("Drafts").values()  # the follow-up of the real request, and nothing else
    assert b"Could you look at my abstract?" in draft[b"BODY[]"]


@pytest.mark.integration
def test_an_end_decided_for_later_stops_the_nudges_at_once(mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None, goals=GOALS, mentors=MENTORS)
    me = mail_user.username
    # A question to Dr. Smith two weeks unanswered: a follow-up draft waits in Drafts.
    asked = at("2027-02-20T10:00:00-07:00")
    ask = make_message(sender=me, to=["jsmith@hospital.org"], subject="Poster layout?", when=asked,
                       message_id="<poster@example.edu>")  # fmt: skip
    mail_user.append("Sent", ask, when=asked, flags=(b"\\Seen",))
    decided = at("2027-03-10T12:00:00-07:00")
    assert run(config, "once", now=decided)[0] == 0
    assert len(mail_user.messages("Drafts")) == 1
    # She ends it as of the end of the month; the thank-you is drafted now, and sent the next day
    # by a client that gives it its own Message-ID and drops our header.
    code, out = run(config, "contract", "end", "smith", "--on", "2027-03-31", now=decided)
    assert code == 0, out
    thanks = next(v for v in mail_user.messages("Drafts").values() if b"Subject: Thank you" in v[b"BODY[]"])
    sent = email.message_from_bytes(thanks[b"BODY[]"], policy=policy.default)
    del sent["X-Mentor-Assistant"]
    sent.replace_header("Message-ID", "<thanks-early@example.edu>")
    mail_user.append("Sent", sent.as_bytes(), when=at("2027-03-11T08:00:00-07:00"), flags=(b"\\Seen",))
    with mail_user.client() as c:
        c.select_folder("Drafts")
        uids = [u for u, v in c.fetch(c.search(["ALL"]), ["BODY.PEEK[HEADER]"]).items()
                if b"Subject: Thank you" in v[b"BODY[HEADER]"]]  # fmt: skip
        c.add_flags(uids, [b"\\Deleted"])
        c.uid_expunge(uids)
    later = at("2027-03-29T09:00:00-06:00")
    code, out = run(config, "once", now=later)
    assert code == 0, out
    # No nudge about the thank-you, and the waiting follow-up of ours is gone: she decided to end it.
    assert mail_user.messages("Drafts") == {}
    requests = json.loads(run(config, "status", "--json", now=later)[1])["requests"]
    assert [(r["message_id"], r["state"]) for r in requests] == [("<poster@example.edu>", "closed")]
    assert "ends on 2027-03-31; no follow-ups" in requests[0]["why"]
    assert json.loads(run(config, "status", "--json", now=later)[1])["contracts"][0]["why"].startswith("Ends on")


@pytest.mark.integration
def test_ending_while_the_mail_server_is_down_records_the_end(dovecot, mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None, goals=GOALS, mentors=MENTORS)
    config.write_text(config.read_text().replace(f"port = {dovecot.port}", "port = 9", 1))
    ended_on = at("2027-03-10T12:00:00-07:00")
    code, out = run(config, "contract", "end", "smith", now=ended_on)
    assert code == 69, out
    assert "ended = 2027-03-10" in config.read_text()
    assert "run this command again when your mail server can be reached" in out
    config.write_text(config.read_text().replace("port = 9", f"port = {dovecot.port}", 1))
    code, out = run(config, "contract", "end", "smith", now=ended_on)
    assert code == 0 and "A thank-you to Dr. Jane Smith is in Drafts" in out


@pytest.mark.integration
def test_the_review_meeting_is_proposed_once_per_version(mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None, goals=GOALS, mentors=MENTORS)
    week_before = at("2027-06-29T08:00:00-06:00")
    assert run(config, "contract", "review", "smith", "--draft", now=week_before)[0] == 0
    # The resident adds a location: still the same review, no second letter.
    config.write_text(config.read_text().replace('time = "16:00"', 'time = "16:00"\nlocation = "Room 4"', 1))
    assert "already in Drafts" in run(config, "contract", "review", "smith", "--draft", now=week_before)[1]
    assert len(mail_user.messages("Drafts")) == 1
    assert run(config, "contract", "end", "smith", now=week_before)[0] == 0
    code, out = run(config, "contract", "review", "smith", "--draft", now=week_before)
    assert code == 64 and "ended on" in out


def _as_a_client_saves_it(raw: bytes, message_id: str, *, subject: str | None = None) -> bytes:
    """The letter as Thunderbird saves an edited draft: a new Message-ID, our header gone, text added."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    del msg["X-Mentor-Assistant"]
    msg.replace_header("Message-ID", message_id)
    if subject is not None:
        msg.replace_header("Subject", subject)
    body = msg.get_body(("plain",))
    assert body is not None
    body.set_content(body.get_content() + "\nP.S. I added this myself.\n")
    return msg.as_bytes()


@pytest.mark.integration
def test_letters_edited_or_sent_from_a_mail_client_are_not_written_again(mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None, goals=GOALS, mentors=MENTORS)
    week_before = at("2027-06-29T08:00:00-06:00")
    for command in (("contract", "draft", "smith", "--anyway"), ("contract", "review", "smith", "--draft")):
        assert run(config, *command, now=week_before)[0] == 0
    # She edits both in Thunderbird (a new message each), then sends the review letter.
    for uid, item in mail_user.messages("Drafts").items():
        raw = item[b"BODY[]"]
        edited = _as_a_client_saves_it(raw, f"<edited-{uid}@example.edu>")
        with mail_user.client() as c:
            c.select_folder("Drafts")
            c.add_flags([uid], [b"\\Deleted"])
            c.uid_expunge([uid])
        folder = "Sent" if b"Reviewing our mentorship" in raw else "Drafts"
        mail_user.append(folder, edited, when=week_before, flags=(b"\\Seen",))
    assert len(mail_user.messages("Drafts")) == 1
    out = run(config, "contract", "draft", "smith", "--anyway", now=week_before)[1]
    assert "already in Drafts" in out, out
    out = run(config, "contract", "review", "smith", "--draft", now=week_before)[1]
    assert "was already sent" in out, out
    assert run(config, "contract", "end", "smith", now=week_before)[0] == 0
    thanks = {u: v for u, v in mail_user.messages("Drafts").items() if b"Subject: Thank you" in v[b"BODY[]"]}
    ((uid, item),) = thanks.items()
    edited = _as_a_client_saves_it(item[b"BODY[]"], "<edited-thanks@example.edu>")
    with mail_user.client() as c:
        c.select_folder("Drafts")
        c.add_flags([uid], [b"\\Deleted"])
        c.uid_expunge([uid])
    mail_user.append("Drafts", edited, when=week_before, flags=(b"\\Seen",))
    # Re-running `contract end` (to see the open goals again) writes no second thank-you.
    code, out = run(config, "contract", "end", "smith", now=week_before)
    assert code == 0 and "already in Drafts" in out, out
    drafts = [v[b"BODY[]"] for v in mail_user.messages("Drafts").values()]
    assert len(drafts) == 2 and all(b"I added this myself" in d for d in drafts)


@pytest.mark.integration
def test_a_renewal_is_proposed_although_the_first_version_was_sent(mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None, goals=GOALS, mentors=MENTORS)
    start = at("2027-01-04T09:00:00-07:00")
    assert run(config, "contract", "draft", "smith", "--anyway", now=start)[0] == 0
    ((uid, item),) = mail_user.messages("Drafts").items()
    mail_user.append("Sent", _as_a_client_saves_it(item[b"BODY[]"], "<v1-sent@example.edu>"), when=start,
                     flags=(b"\\Seen",))  # fmt: skip
    with mail_user.client() as c:
        c.select_folder("Drafts")
        c.add_flags([uid], [b"\\Deleted"])
        c.uid_expunge([uid])
    # A message of her own with that subject to someone else is no letter of this relationship.
    renewal_day = at("2027-06-30T09:00:00-06:00")
    other = make_message(sender=mail_user.username, to=["rpatel@hospital.org"],
                         subject="Our mentorship agreement: a proposal", when=renewal_day,
                         message_id="<to-patel@example.edu>")  # fmt: skip
    mail_user.append("Sent", other, when=renewal_day, flags=(b"\\Seen",))
    assert run(config, "contract", "renew", "smith", "--review", "2028-01-04", now=renewal_day)[0] == 0
    code, out = run(config, "contract", "draft", "smith", "--anyway", now=renewal_day)
    assert code == 0 and "The proposal to jsmith@hospital.org is in Drafts" in out, out
    (draft,) = mail_user.messages("Drafts").values()
    assert b"version 2" in draft[b"BODY[]"].lower() or b"Version 2" in draft[b"BODY[]"]


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["radicale", "xandikos"])
def test_checkins_the_resident_cancelled_or_moved_stay_so(kind, request, mail_user, tmp_path):
    config, user, (_server, client, name, _cal) = setup(kind, request, mail_user, tmp_path)
    assert run(config, "once", now=FEB1)[0] == 0
    cal = next(c for c in client.principal().calendars() if c.get_display_name() == name)
    (series,) = [o for o in cal.objects(load_objects=True) if "X-MENTOR-ASSISTANT:contract:checkins" in o.data]
    # In the calendar app: Apr 27 cancelled, Mar 30 moved to Wednesday morning.
    denver = ZoneInfo("America/Denver")
    parsed = Calendar.from_ical(series.data)
    master = next(e for e in parsed.walk("VEVENT") if e.get("recurrence-id") is None)
    master.add("exdate", datetime(2027, 4, 27, 16, 0, tzinfo=denver))
    moved = Event()
    for key in ("uid", "summary", "dtstamp", "sequence"):
        moved.add(key, master[key].dt if key == "dtstamp" else master[key])
    moved.add("recurrence-id", datetime(2027, 3, 30, 16, 0, tzinfo=denver))
    moved.add("dtstart", datetime(2027, 3, 31, 10, 0, tzinfo=denver))
    moved.add("dtend", datetime(2027, 3, 31, 10, 30, tzinfo=denver))
    parsed.add_component(moved)
    series.data = parsed.to_ical().decode()
    series.save()

    code, out = run(config, "once", now=FEB1 + timedelta(hours=1))
    assert code == 0 and "they stay as you left them" in out
    # Time passes (the agenda moves on), then the contract is renewed.
    june = at("2027-06-01T09:00:00-06:00")
    steps = [(at("2027-03-03T09:00:00-07:00"), ("once",)),
             (june, ("contract", "renew", "smith", "--review", "2027-12-07")), (june, ("once",))]  # fmt: skip
    for when, args in steps:
        code, out = run(config, *args, now=when)
        assert code == 0 and "WARNING" not in out and "failed" not in out, out
    local = sync_to_vdir(tmp_path, str(cal.url), user)
    text = khal_list(tmp_path, local, "2027-03-01", "120d")
    assert checkins_on(text, "2027-04-27") == []
    assert checkins_on(text, "2027-03-30") == []
    assert checkins_on(text, "2027-03-31") == ["10:00-10:30 Check-in: Dr. Smith"], text
    assert checkins_on(text, "2027-05-25") == ["16:00-16:30 Check-in: Dr. Smith"]
    assert checkins_on(text, "2027-06-22") == ["16:00-16:30 Check-in: Dr. Smith"]
    assert "Nothing to do." in run(config, "once", now=at("2027-06-01T10:00:00-06:00"))[1]
