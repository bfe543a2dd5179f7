"""`status` as a person reads it: what needs them first, laid out for 80 columns."""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timedelta

import pytest

from tests.conftest import write_config
from tests.test_end_to_end import NOW, cli, seed

# A goal whose aim falls inside the coming week, and one already past its promise.
GOALS = textwrap.dedent("""
    [[goals]]
    id = "abstract"
    title = "Submit the abstract on perioperative anticoagulation bridging to the regional meeting"
    measure = "abstract submitted"
    owner = "me"
    start = 2026-11-16
    estimate = "10d"

    [[goals]]
    id = "poster"
    title = "Poster for grand rounds"
    measure = "poster printed"
    owner = "me"
    start = 2026-10-01
    estimate = "2w"
""")


@pytest.mark.integration
def test_status_puts_what_needs_you_first_and_fits_80_columns(mail_user, tmp_path):
    seed(mail_user)
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None, goals=GOALS)
    assert cli(config, "once")[0] == 0
    code, out = cli(config, "status")
    assert code == 0, out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(line for line in lines if len(line) > 80)
    # The order a resident needs: the things to do, then the lists.
    titles = [line.strip() for line in lines if line.strip() in ("Needs you now", "Requests", "Goals", "Mentors")]
    assert titles == ["Needs you now", "Requests", "Goals", "Mentors"]
    needs = out[: out.index("\nRequests")]
    assert "A follow-up to Dr. Raj Patel" in needs and "waiting in Drafts" in needs
    assert "Overdue: Poster for grand rounds" in needs
    assert "Submit the abstract" in needs and "your aim is" in needs
    assert "Dr. Jane Smith" not in needs  # she answered: nothing to do
    # Every date and time the JSON holds is printed whole, on one line, in the resident's zone.
    doc = json.loads(cli(config, "status", "--json")[1])
    for r in doc["requests"]:
        if r["next_action_at"]:
            local = datetime.fromisoformat(r["next_action_at"]).astimezone(NOW.tzinfo)
            assert f"{local:%a %b} {local.day} {local:%H:%M}" in out
    assert [n["kind"] for n in doc["needs_you_now"]] == ["draft", "goal", "goal"]
    for goal in doc["goals"]:
        assert goal["target"] in out and goal["deadline"] in out
    # The reasons, on request, fit as well.
    out = cli(config, "status", "--why")[1]
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "nothing in any folder" in " ".join(out.split())


@pytest.mark.integration
def test_nothing_to_do_says_so_and_an_old_bounce_stops_asking(mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None)
    assert cli(config, "once")[0] == 0
    out = cli(config, "status")[1]
    assert out.startswith("Nothing needs you now.") and "No requests tracked yet." in out
    # Three weeks on, nothing appeared: still nothing to do, and the view still fits.
    out = cli(config, "status", now=NOW + timedelta(days=21))[1]
    assert out.startswith("Nothing needs you now.")
