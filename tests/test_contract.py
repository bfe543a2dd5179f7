"""The mentorship contract: check-ins with agendas, the review, the document, the proposal draft."""

from __future__ import annotations

import email
import json
import textwrap
from dataclasses import replace
from datetime import date, datetime, timedelta
from email import policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from icalendar import Calendar

from assistant.cli import main
from assistant.config import load_config
from assistant.core.checkins import agenda, occurrences
from assistant.core.contract_calendar import checkin_series, review_event
from assistant.core.contract_doc import render_contract
from assistant.template_files import load_templates
from tests.calendar_clients import khal_list, sync_to_vdir
from tests.conftest import write_config

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config.example.toml"
GOLDEN = Path(__file__).parent / "golden"
FEB1 = datetime.fromisoformat("2027-02-01T09:00:00-07:00")


def example():
    return load_config(EXAMPLE).settings


def only(settings):
    (contract,) = settings.contracts
    return contract


def test_the_document_matches_the_golden_files():
    templates = load_templates(None)
    settings = example()
    assert render_contract(templates, "md", settings, only(settings)) == (GOLDEN / "contract.md").read_text()
    assert render_contract(templates, "html", settings, only(settings)) == (GOLDEN / "contract.html").read_text()


def test_the_html_document_escapes_what_the_config_says():
    config = example()
    evil = replace(only(config), my_goals=("<script>alert(1)</script>",), outcome=("<b>x</b>",))
    html = render_contract(load_templates(None), "html", replace(config, contracts=(evil,)), evil)
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>x" not in html


def test_checkins_recur_in_local_time_across_daylight_saving():
    config = example()
    times = occurrences(only(config), config.me.timezone)
    assert [t.date() for t in times][:4] == [date(2027, 1, 5), date(2027, 2, 2), date(2027, 3, 2), date(2027, 3, 30)]
    assert all((t.hour, t.minute) == (16, 0) for t in times)
    assert times[2].utcoffset() != times[3].utcoffset()  # DST began on March 14
    obj = checkin_series(config, only(config), now=FEB1)
    assert obj is not None
    cal = Calendar.from_ical(obj.ics)
    series, override = cal.walk("VEVENT")
    assert str(series["RRULE"].to_ical().decode()) == "FREQ=WEEKLY;UNTIL=20270622T220000Z;INTERVAL=4;BYDAY=TU"
    assert series["DTSTART"].params["TZID"] == "America/Denver"
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["America/Denver"]
    assert [str(a["TRIGGER"].to_ical().decode()) for a in series.walk("VALARM")] == ["-P1D", "-PT15M"]
    assert "ORGANIZER" not in obj.ics and "ATTENDEE" not in obj.ics
    assert override["RECURRENCE-ID"].dt == datetime.fromisoformat("2027-02-02T16:00:00-07:00")
    assert "Agenda" in str(override["DESCRIPTION"])


def test_the_agenda_before_and_after_a_goal_is_done():
    config = example()
    start = datetime.fromisoformat("2027-02-02T16:00:00-07:00")
    before = agenda(config, only(config), start=start)
    assert before == ["Overdue: First draft of the QI proposal (you, promised Tue Jan 26): what is in the way?"]
    done = replace(config, goals=(replace(config.goals[0], done=date(2027, 1, 25)),))
    assert agenda(done, only(done), start=start) == [
        "Done since the last check-in: First draft of the QI proposal (you, Mon Jan 25)"
    ]
    early = datetime.fromisoformat("2027-01-05T16:00:00-07:00")
    assert agenda(config, only(config), start=early) == [
        "Due before the next check-in: First draft of the QI proposal (you, by Tue Jan 26)"
    ]


def test_the_review_event_has_a_reminder_a_week_before():
    obj = review_event(example(), only(example()), now=FEB1)
    assert obj is not None
    assert "DTSTART;VALUE=DATE:20270706" in obj.ics and "TRIGGER:-P7D" in obj.ics
    assert "end the relationship or redefine it" in obj.ics.replace("\r\n ", "")


def run(config: Path, *args: str, now: datetime):
    result = CliRunner().invoke(main, ["--config", str(config), *args], env={"MENTOR_ASSISTANT_NOW": now.isoformat()})
    return result.exit_code, result.output


CONTRACT = textwrap.dedent("""
    [contract]
    mentor = "jsmith@hospital.org"
    start = 2027-01-05
    every = "4w"
    weekday = "tuesday"
    time = "16:00"
    duration = "30m"
    location = "Heme/Onc conference room"
    review = 2027-07-06
    my_goals = ["a first-author QI abstract"]
    my_expectations = ["feedback on drafts within a week"]
    mentor_expectations = ["I bring an agenda to every check-in"]

    [[goals]]
    id = "qi-proposal"
    title = "First draft of the QI proposal"
    measure = "a 3-5 page draft sent to Dr. Smith"
    owner = "me"
    start = 2027-01-05
    estimate = "2w"
""")
MENTOR = '\n[[mentors]]\nname = "Dr. Jane Smith"\nemail = ["jsmith@hospital.org"]\n'


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["radicale", "xandikos"])
def test_checkins_agenda_and_review_on_the_server(kind, request, mail_user, tmp_path):
    server = request.getfixturevalue(kind)
    user = mail_user.username.split("@")[0] if kind == "radicale" else "user"
    name = f"Contract {tmp_path.name}"
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=server, cal_user=user, goals=CONTRACT,
                          mentors=MENTOR, calendar_name=name)  # fmt: skip
    code, out = run(config, "once", now=FEB1)
    assert code == 0, out
    assert "create calendar entry 'check-ins with Dr. Jane Smith'" in out
    from caldav.davclient import DAVClient

    client = DAVClient(url=server.url, username=user, password="x")
    cal = next(c for c in client.principal().calendars() if c.get_display_name() == name)

    def checkin_objects():
        return [o for o in cal.objects(load_objects=True) if o.data and "contract:checkins" in o.data]

    (series,) = checkin_objects()
    assert "Overdue: First draft of the QI proposal" in series.data.replace("\r\n ", "").replace("\n ", "")
    assert any(o.data and "contract:review" in o.data for o in cal.objects(load_objects=True))
    status = json.loads(run(config, "status", "--json", now=FEB1)[1])
    assert status["checkins"][0]["start"] == "2027-02-02T16:00:00-07:00"
    assert status["checkins"][0]["agenda"][0].startswith("Overdue: First draft")
    assert status["contracts"][0]["up_for_review"] is False

    # The goal is done: the agenda is regenerated, in place.
    config.write_text(config.read_text().replace('estimate = "2w"', 'estimate = "2w"\ndone = 2027-01-25'))
    code, out = run(config, "once", now=FEB1 + timedelta(hours=1))
    assert "update calendar entry 'check-ins with Dr. Jane Smith'" in out
    (series,) = checkin_objects()
    unfolded = series.data.replace("\r\n ", "").replace("\n ", "")
    assert "Done since the last check-in: First draft of the QI proposal" in unfolded
    assert "Nothing to do." in run(config, "once", now=FEB1 + timedelta(hours=2))[1]

    # A calendar app sees the check-ins at 16:00 local time on both sides of the DST change.
    local = sync_to_vdir(tmp_path, str(cal.url), user)
    text = khal_list(tmp_path, local, "2027-02-01", "90d")
    for day in ("2027-02-02", "2027-03-02", "2027-03-30", "2027-04-27"):
        block = text.split(day, 1)[1].split("\n", 2)[1]
        assert block.strip().startswith("16:00-16:30 Check-in: Dr. Smith"), (day, text)
    print("\n" + text)

    # After the review date the contract is up for review.
    later = datetime.fromisoformat("2027-07-07T09:00:00-06:00")
    status = json.loads(run(config, "status", "--json", now=later)[1])
    assert status["contracts"][0]["up_for_review"] is True
    assert {m["email"]: m["stage"] for m in status["mentors"]}["jsmith@hospital.org"] == "review"
    assert "up for review" not in run(config, "status", now=FEB1)[1]
    assert "re-evaluate the goals" in " ".join(run(config, "status", now=later)[1].split())


@pytest.mark.integration
def test_the_contract_proposal_is_a_draft_written_once(mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None, goals=CONTRACT, mentors=MENTOR)
    code, out = run(config, "contract", "draft", now=FEB1)
    assert code == 64 and "has not answered any of your e-mails yet" in out and "--anyway" in out
    assert mail_user.messages("Drafts") == {}
    code, out = run(config, "contract", "draft", "--anyway", now=FEB1)
    assert code == 0, out
    assert "is in Drafts: review it and send it" in out
    code, out = run(config, "contract", "draft", "--anyway", now=FEB1 + timedelta(minutes=5))
    assert "already in Drafts" in out
    (item,) = mail_user.messages("Drafts").values()
    assert b"\\Draft" in item[b"FLAGS"] and b"\\Seen" in item[b"FLAGS"]
    msg = email.message_from_bytes(item[b"BODY[]"], policy=policy.default)
    assert msg["To"].addresses[0].addr_spec == "jsmith@hospital.org"
    assert msg["From"].addresses[0].addr_spec == mail_user.username
    assert msg["Subject"] == "Our mentorship agreement: a proposal"
    assert msg["X-Mentor-Assistant"].startswith("contract=")
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert text.startswith("Dear Dr. Smith,")
    assert "# Mentorship agreement" in text and "Tuesday, February 2, 2027" in text
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "<h1>Mentorship agreement</h1>" in html and "Dear Dr. Smith," in html
    # Once the resident has sent it, it is not written again either.
    with mail_user.client() as c:
        c.select_folder("Drafts")
        uids = c.search(["ALL"])
        c.append("Sent", item[b"BODY[]"], flags=[b"\\Seen"])
        c.add_flags(uids, [b"\\Deleted"])
        c.uid_expunge(uids)
    assert "was already sent" in run(config, "contract", "draft", "--anyway", now=FEB1 + timedelta(days=1))[1]
    assert mail_user.messages("Drafts") == {}
