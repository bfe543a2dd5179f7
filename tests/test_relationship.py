"""The whole relationship, decided on plain data: several contracts, renew, end, the
review packet and the track record (the servers' side is in test_relationship_servers.py)."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from assistant.config import parse_config
from assistant.core.checkins import agenda, occurrences, runs
from assistant.core.contract_calendar import checkin_series, review_event
from assistant.core.ending import check_end, renewal, renewed
from assistant.core.review import packet_due, packet_lines, render_review
from assistant.core.settings import Contract, Goal, Padding, Settings
from assistant.core.track_record import track_record
from assistant.errors import ConfigError
from assistant.template_files import load_templates

BASE = """
[me]
name = "Alex Rivera"
email = "alex@example.edu"
timezone = "America/Denver"

[mail]
host = "imap.example.edu"
username = "alex"
password = "x"

[[mentors]]
name = "Dr. Jane Smith"
email = ["jsmith@hospital.org", "jane.smith@university.edu"]

[[mentors]]
name = "Dr. Raj Patel"
email = ["rpatel@hospital.org"]
"""
TWO = """
[[contracts]]
mentor = "jsmith@hospital.org"
start = 2027-01-05
every = "4w"
weekday = "tuesday"
time = "16:00"
review = 2027-07-06

[[contracts]]
mentor = "rpatel@hospital.org"
start = 2027-01-07
every = "2w"
weekday = "thursday"
time = "08:00"
duration = "45m"
review = 2027-05-06

[[goals]]
id = "abstract"
title = "QI abstract"
mentor = "smith"
start = 2027-01-05
estimate = "2w"

[[goals]]
id = "career"
title = "Fellowship shortlist"
mentor = "rpatel@hospital.org"
owner = "rpatel@hospital.org"
start = 2027-01-07
estimate = "3w"
"""
TZ = "America/Denver"
NOW = datetime.fromisoformat("2027-02-01T09:00:00-07:00")


def settings(extra: str = TWO) -> Settings:
    return parse_config(tomllib.loads(BASE + extra)).settings


def problems(extra: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        settings(extra)
    return list(caught.value.problems)


def contract(**changes: object) -> Contract:
    base = Contract(
        mentor="jsmith@hospital.org", start=date(2027, 1, 5), every=timedelta(weeks=4), weekday="tuesday",
        time=time(16, 0), duration=timedelta(minutes=30), review=date(2027, 7, 6),
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


# -- several contracts -------------------------------------------------------------------


def test_two_contracts_each_with_its_own_goals_series_and_names():
    s = settings()
    smith, patel = s.contracts
    assert (smith.key, patel.key) == ("", "rpatel@hospital.org")  # the earliest keeps the one-contract names
    assert [g.id for g in s.goals_of(smith)] == ["abstract"] and [g.id for g in s.goals_of(patel)] == ["career"]
    assert s.goals[0].mentor == "jsmith@hospital.org"  # "smith" resolved to the address
    one = checkin_series(s, smith, now=NOW)
    two = checkin_series(s, patel, now=NOW)
    assert one is not None and two is not None and one.uid != two.uid
    assert "Check-in: Dr. Smith" in one.ics and "Check-in: Dr. Patel" in two.ics
    assert "BYDAY=TH" in two.ics and "DTSTART;TZID=America/Denver:20270107T080000" in two.ics
    assert review_event(s, smith, now=NOW).uid != review_event(s, patel, now=NOW).uid  # type: ignore[union-attr]
    # Each agenda lists its own relationship's goals, with who does them.
    (item,) = agenda(s, patel, start=datetime.fromisoformat("2027-01-21T08:00:00-07:00"))
    assert "Fellowship shortlist (Dr. Raj Patel" in item
    assert all("QI abstract" not in line for line in agenda(s, patel, start=NOW))


SMITH = """
mentor = "jsmith@hospital.org"
start = 2027-01-05
review = 2027-07-06
"""
PATEL = """
mentor = "rpatel@hospital.org"
start = 2027-03-04
weekday = "thursday"
review = 2027-09-02
"""


def test_adding_a_second_contract_or_reordering_renames_nothing_in_the_calendar():
    one = settings("[contract]" + SMITH)
    two = settings("[[contracts]]" + SMITH + "[[contracts]]" + PATEL)
    reordered = settings("[[contracts]]" + PATEL + "[[contracts]]" + SMITH)
    other_address = settings("[contract]" + SMITH.replace("jsmith@hospital.org", "jane.smith@university.edu"))

    def uids(s: Settings) -> dict[str, str]:
        return {s.mentor_label(k.mentor): checkin_series(s, k, now=NOW).uid for k in s.contracts}  # type: ignore[union-attr]

    smith = uids(one)["Dr. Jane Smith"]
    assert uids(two)["Dr. Jane Smith"] == uids(reordered)["Dr. Jane Smith"] == smith
    assert uids(other_address)["Dr. Jane Smith"] == smith
    assert uids(two)["Dr. Raj Patel"] == uids(reordered)["Dr. Raj Patel"] != smith


def test_with_several_contracts_every_goal_names_its_mentor():
    found = problems(TWO.replace('mentor = "smith"\n', ""))
    assert any(p.startswith("goals[0].mentor: with several contracts, name whose goal 'abstract' is") for p in found)
    assert (
        settings("[contract]" + SMITH + '[[goals]]\nid = "x"\ntitle = "X"\nstart = 2027-01-05\n').goals[0].mentor == ""
    )


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        (TWO + '\n[contract]\nmentor = "jsmith@hospital.org"\nstart = 2027-01-05\nreview = 2027-07-06\n', "contract"),
        (TWO.replace("rpatel@hospital.org", "jane.smith@university.edu", 1), "contracts[1].mentor"),
        (TWO.replace('mentor = "smith"', 'mentor = "dr."'), "goals[0].mentor"),
        (TWO.replace('mentor = "smith"', 'mentor = "dr. who"'), "goals[0].mentor"),
        (TWO.replace("review = 2027-05-06", "review = 2027-05-06\nended = 2026-12-01"), "contracts[1].ended"),
        (
            TWO.replace(
                "review = 2027-05-06",
                "review = 2027-05-06\nprevious = [{ version = 1, review = 2027-06-01 }]\nversion = 2",
            ),
            "contracts[1].previous[0].review",
        ),
        (
            TWO.replace(
                "review = 2027-05-06", "review = 2027-05-06\nprevious = [{ version = 1, review = 2027-03-01 }]"
            ),
            "contracts[1].version",
        ),
        (
            TWO.replace("review = 2027-05-06", "review = 2027-05-06\nprevious = [{ review = 2027-03-01 }]"),
            "contracts[1].previous[0].version",
        ),
        (TWO.replace('every = "2w"', 'every = "10d"'), "contracts[1].every"),
    ],
)
def test_a_contract_mistake_names_its_key(extra, key):
    assert any(p.startswith(f"{key}:") for p in problems(extra)), problems(extra)


# -- renew and end, in time ---------------------------------------------------------------


def test_a_renewal_at_the_same_cadence_continues_the_series():
    first = contract()
    before = [t.date() for t in occurrences(first, TZ)]
    change = renewal(first, review=date(2027, 12, 7), every=None, today=date(2027, 7, 1))
    after = renewed(first, change)
    dates = [t.date() for t in occurrences(after, TZ)]
    assert dates[: len(before)] == before  # the past is untouched
    assert dates[len(before)] == before[-1] + timedelta(weeks=4) == date(2027, 7, 20)
    assert dates[-1] < date(2027, 12, 7) and len(runs(after)) == 1
    assert after.version == 2 and after.previous[0].review == date(2027, 7, 6)


def test_a_renewal_with_a_new_cadence_starts_it_at_the_old_review():
    first = contract()
    after = renewed(first, renewal(first, review=date(2027, 12, 7), every=timedelta(weeks=6), today=date(2027, 7, 1)))
    old, new = runs(after)
    assert old.days == tuple(t.date() for t in occurrences(first, TZ))
    assert new.first == date(2027, 7, 6) and new.every == timedelta(weeks=6)
    assert all(b - a == timedelta(weeks=6) for a, b in zip(new.days, new.days[1:], strict=False))
    cal = Calendar.from_ical(checkin_series(one_contract(after), after, now=NOW).ics)  # type: ignore[union-attr]
    series = cal.walk("VEVENT")[0]
    assert "UNTIL=20270622T220000Z" in series["RRULE"].to_ical().decode()
    rdates = [d.dt.date() for d in series["RDATE"].dts]
    assert rdates == list(new.days)


def test_a_late_renewal_leaves_no_checkins_in_the_gap():
    first = contract()
    held_before = [t.date() for t in occurrences(first, TZ)]
    late = renewed(first, renewal(first, review=date(2027, 12, 7), every=None, today=date(2027, 8, 20)))
    dates = [t.date() for t in occurrences(late, TZ)]
    assert dates[: len(held_before)] == held_before
    assert dates[len(held_before)] == date(2027, 9, 14)  # the phase goes on, after the renewal day
    assert not [d for d in dates if date(2027, 7, 6) <= d < date(2027, 8, 20)]
    first_run, second_run = runs(late)  # a gap a recurrence rule cannot say: the rest are dates
    assert first_run.days[-1] == date(2027, 6, 22) and second_run.first == date(2027, 9, 14)
    changed = renewed(
        first, renewal(first, review=date(2027, 12, 7), every=timedelta(weeks=6), today=date(2027, 8, 20))
    )
    assert [t.date() for t in occurrences(changed, TZ)][len(held_before)] == date(2027, 8, 24)


def test_renewal_refuses_what_cannot_be():
    first = contract()
    with pytest.raises(ValueError, match="after the current one"):
        renewal(first, review=date(2027, 7, 6), every=None, today=date(2027, 7, 1))
    with pytest.raises(ValueError, match="ended"):
        renewal(replace(first, ended=date(2027, 3, 1)), review=date(2027, 12, 7), every=None, today=date(2027, 7, 1))
    with pytest.raises(ValueError, match="before the contract started"):
        check_end(first, date(2026, 12, 31))


@given(st.dates(min_value=date(2027, 1, 5), max_value=date(2027, 8, 1)))
def test_an_ended_contract_has_no_checkin_after_its_end_and_keeps_the_earlier_ones(end):
    first = contract()
    before = [t.date() for t in occurrences(first, TZ)]
    ended = replace(first, ended=end)
    dates = [t.date() for t in occurrences(ended, TZ)]
    assert dates == [d for d in before if d <= end]


@pytest.mark.parametrize("end", [date(2027, 3, 10), date(2027, 7, 6), date(2027, 7, 16)])
def test_the_review_event_says_it_ended(end):
    s = settings()
    smith = replace(s.contracts[0], ended=end)
    obj = review_event(s, smith, now=NOW)
    assert obj is not None and obj.day == end
    assert "Ended: mentorship with Dr. Smith" in obj.ics and "VALARM" not in obj.ics
    # An end decided stops the nagging: no packet due, not "up for review".
    from assistant.core.checkins import up_for_review

    after_review = datetime.fromisoformat("2027-07-07T09:00:00-06:00")
    assert not up_for_review(s, smith, now=after_review) and up_for_review(s, s.contracts[0], now=after_review)


def one_contract(c: Contract) -> Settings:
    s = settings()
    return replace(s, contracts=(replace(c, key=""),))


# -- the track record ---------------------------------------------------------------------

PAD = Padding(factor=1.5, round_to="week", workdays_only=True)


def goal(i: int, start: date, estimate_days: int, done: date | None) -> Goal:
    return Goal(id=f"g{i}", title=f"Goal {i}", start=start, estimate=timedelta(days=estimate_days), done=done)


def test_the_track_record_from_a_known_history():
    start = date(2027, 1, 4)  # a Monday; 2w estimate: target Mon Jan 18, promised Mon Jan 25
    history = [
        goal(1, start, 14, date(2027, 1, 15)),  # by target, 10 days early
        goal(2, start, 14, date(2027, 1, 20)),  # after target, 5 days early
        goal(3, start, 14, date(2027, 1, 25)),  # on the promised day
        goal(4, start, 14, date(2027, 1, 28)),  # 3 days late
        goal(5, start, 14, None),  # open: not counted
    ]
    record = track_record(history, PAD)
    assert (record.done, record.by_target, record.by_promised, record.late) == (4, 1, 3, 1)
    assert record.average_days_before_promised == 3.0  # (10 + 5 + 0 - 3) / 4
    assert (
        record.sentence()
        == "3 of 4 goals delivered by the promised date, on average 3 days early; 1 by your own target."
    )
    # Missing one's own target 3 times in 4: a larger factor is suggested, one that covers most of it.
    assert record.suggested_factor is not None and record.suggested_factor > PAD.factor
    assert "set [padding] factor" in record.suggestion


def test_goals_the_mentor_owns_are_not_the_residents_record():
    start = date(2027, 1, 4)
    mine = [goal(1, start, 14, date(2027, 1, 15))]
    theirs = [replace(goal(i, start, 14, date(2027, 3, 1)), owner="rpatel@hospital.org") for i in range(2, 5)]
    record = track_record(mine + theirs, PAD, me=frozenset({"alex@example.edu"}))
    assert (record.done, record.late, record.suggested_factor) == (1, 0, None)
    assert track_record([replace(g, owner="alex@example.edu") for g in theirs], PAD,
                        me=frozenset({"alex@example.edu"})).done == 3  # fmt: skip


def test_no_suggestion_when_no_factor_would_cover_the_history():
    start = date(2027, 1, 4)
    hopeless = [goal(i, start, 7, date(2027, 6, 1)) for i in range(4)]  # 1 week estimated, 5 months taken
    record = track_record(hopeless, PAD)
    assert record.by_target == 0 and record.suggested_factor is None


def test_no_suggestion_for_a_resident_who_meets_their_targets():
    start = date(2027, 1, 4)
    record = track_record([goal(i, start, 14, date(2027, 1, 14)) for i in range(5)], PAD)
    assert record.by_target == 5 and record.suggested_factor is None and record.suggestion == ""
    assert track_record([], PAD).as_json()["average_days_before_promised"] is None


@given(
    st.lists(
        st.tuples(
            st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 1, 1)),
            st.integers(min_value=1, max_value=120),
            st.one_of(st.none(), st.integers(min_value=-30, max_value=400)),
        ),
        max_size=25,
    ),
    st.floats(min_value=1, max_value=4),
)
def test_the_track_record_always_adds_up(items, factor):
    goals = [goal(i, s, est, s + timedelta(days=d) if d is not None else None) for i, (s, est, d) in enumerate(items)]
    padding = Padding(factor=factor, round_to="day", workdays_only=False)
    record = track_record(goals, padding)
    done = [g for g in goals if g.done is not None]
    assert record.done == len(done)
    assert record.by_promised + record.late == record.done
    assert 0 <= record.by_target <= record.done
    if record.done:
        assert record.average_days_before_promised is not None
    if record.suggested_factor is not None:
        assert padding.factor < record.suggested_factor <= 4


# -- the review packet ---------------------------------------------------------------------


def test_the_review_packet_has_the_figures_of_what_happened():
    s = settings()
    smith = s.contracts[0]
    goals = (replace(s.goals[0], done=date(2027, 1, 15)), s.goals[1])  # abstract: target Jan 19, promised Jan 26
    s = replace(s, goals=goals)
    week_before = datetime.fromisoformat("2027-06-29T08:00:00-06:00")
    assert packet_due(s, smith, now=week_before) and not packet_due(s, smith, now=NOW)
    text = render_review(load_templates(None), "md", s, smith, now=week_before)
    assert (
        "| QI abstract | me | Tue Jan 19, 2027 | Tue Jan 26, 2027 | Fri Jan 15, 2027 "
        "| 11 days early, by my own target |" in text
    )
    assert "Fellowship shortlist" not in text  # Dr. Patel's goal, not this relationship's
    assert "1 of 1 goal delivered by the promised date, on average 11 days early; 1 by my own target." in text
    assert "7 check-ins held of the 7 planned until the review: Tue Jan 5, 2027; Tue Feb 2, 2027;" in text
    early = render_review(load_templates(None), "md", s, smith, now=datetime.fromisoformat("2027-03-01T08:00:00-07:00"))
    assert "2 check-ins held of the 7 planned until the review" in early
    assert "What does my mentor want for me next?" in text and "(to talk about)" in text
    html = render_review(load_templates(None), "html", s, smith, now=week_before)
    assert "<td>11 days early, by my own target</td>" in html
    lines = packet_lines(s, smith, now=week_before)
    assert lines[0].startswith("Review with Dr. Smith on Tue Jul 6, 2027: 1 of 1 goal")
    assert lines[-1] == "The whole packet: mentor-assistant contract review jsmith@hospital.org"
    assert not packet_due(s, replace(smith, ended=date(2027, 6, 1)), now=week_before)


def test_a_goal_names_its_mentor_from_the_command_line(tmp_path):
    from click.testing import CliRunner

    from assistant.cli import main

    path = tmp_path / "config.toml"
    path.write_text(BASE + TWO)
    path.chmod(0o600)

    def run(*args: str) -> tuple[int, str]:
        env = {"MENTOR_ASSISTANT_NOW": NOW.isoformat()}
        result = CliRunner().invoke(main, ["--config", str(path), *args], env=env)
        return result.exit_code, result.output

    code, out = run("goal", "add", "talk", "--title", "Grand rounds talk", "--estimate", "1w", "--mentor", "patel")
    assert code == 0, out
    s = parse_config(tomllib.loads(path.read_text())).settings
    (talk,) = [g for g in s.goals if g.id == "talk"]
    assert talk.mentor == "rpatel@hospital.org" and talk in s.goals_of(s.contracts[1])
    before = path.read_text()
    code, out = run("goal", "edit", "talk", "--mentor", "dr.")
    assert code == 78 and "goals[2].mentor" in out and "Dr. Jane Smith, Dr. Raj Patel" in out
    assert path.read_text() == before  # an edit that would break the config changes nothing
