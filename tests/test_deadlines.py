"""Padded deadlines: the DESIGN's examples and the invariants, as properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core.deadlines import Padding, compute_deadlines
from assistant.core.durations import add_wait, add_workdays, is_workday, parse_duration

TUESDAY = date(2027, 1, 5)


def test_two_weeks_with_factor_one_and_a_half_promises_three_weeks():
    d = compute_deadlines(TUESDAY, parse_duration("2w"), Padding(1.5, "week", True))
    assert d.target == TUESDAY + timedelta(weeks=2)
    assert d.promised == TUESDAY + timedelta(weeks=3)


def test_ten_days_rounds_up_to_whole_weeks():
    # 10d x 1.5 = 15d -> 3 weeks
    d = compute_deadlines(TUESDAY, parse_duration("10d"), Padding(1.5, "week", False))
    assert d.promised == TUESDAY + timedelta(weeks=3)
    assert d.target == TUESDAY + timedelta(days=10)


def test_round_to_day_keeps_days():
    d = compute_deadlines(TUESDAY, parse_duration("10d"), Padding(1.5, "day", False))
    assert d.promised == TUESDAY + timedelta(days=15)


def test_target_on_a_weekend_moves_back_and_promised_forward():
    friday = date(2027, 1, 8)
    d = compute_deadlines(friday, parse_duration("1d"), Padding(1.5, "day", True))
    assert d.target == friday  # Saturday -> Friday
    assert d.promised == date(2027, 1, 11)  # Sunday -> Monday


def test_explicit_promised_overrides():
    d = compute_deadlines(TUESDAY, parse_duration("2w"), Padding(), promised=date(2027, 1, 29))
    assert d.promised == date(2027, 1, 29)
    assert d.computed_promised == TUESDAY + timedelta(weeks=3)


@pytest.mark.parametrize("text", ["", "2", "w", "2 weeks", "-1d", "1.5w", "3y"])
def test_bad_durations_are_refused_with_the_forms(text):
    with pytest.raises(ValueError, match="30m, 4h, 14d or 2w"):
        parse_duration(text)


starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
estimates = st.integers(min_value=0, max_value=400).map(lambda d: timedelta(days=d))
paddings = st.builds(
    Padding,
    factor=st.floats(min_value=1.0, max_value=4.0, allow_nan=False),
    round_to=st.sampled_from(["day", "week"]),
    workdays_only=st.booleans(),
)


@given(starts, estimates, paddings)
def test_promised_is_never_before_target_plus_one_workday(start, estimate, padding):
    d = compute_deadlines(start, estimate, padding)
    floor = add_workdays(d.target, 1) if padding.workdays_only else d.target + timedelta(days=1)
    assert d.promised >= floor
    assert d.promised > d.target


@given(starts, estimates, paddings.filter(lambda p: p.workdays_only))
def test_both_dates_land_on_workdays_when_asked(start, estimate, padding):
    d = compute_deadlines(start, estimate, padding)
    assert is_workday(d.target)
    assert is_workday(d.promised)


@given(starts, estimates, paddings)
def test_promised_is_at_least_the_padded_estimate(start, estimate, padding):
    d = compute_deadlines(start, estimate, padding)
    assert d.promised >= start + estimate * padding.factor - timedelta(days=1)


def test_business_day_wait_skips_weekends():
    from datetime import datetime

    friday = datetime.fromisoformat("2026-11-20T10:00:00-07:00")
    assert add_wait(friday, timedelta(days=1), business_days=True).date() == date(2026, 11, 23)
    assert add_wait(friday, timedelta(days=14), business_days=True).date() == date(2026, 12, 10)
    assert add_wait(friday, timedelta(days=14), business_days=False).date() == date(2026, 12, 4)
