"""`demo` plays the whole story on its own servers and ends by itself."""

from __future__ import annotations

import re

import pytest

from assistant.demo import run_demo

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("imap", ["dovecot", "pymap"])
def test_the_demo_tells_the_story(imap):
    lines: list[str] = []
    assert run_demo(imap=imap, echo=lines.append) == 0
    text = "\n".join(lines)
    assert "create calendar entry 'Aim: First draft of the QI proposal" in text
    assert "does not count as an answer" in text  # the out-of-office
    assert "jsmith@hospital.example    replied" in text
    assert text.count("write draft") == 3  # Chen round 1 and 2, Patel round 1
    assert "Dear Dr. Chen," in text and "wrote:\n    │ > Dear Dr. Maria Chen," in text
    assert "delete our draft" in text  # Patel answered while the draft waited
    assert "followed_up" in text
    tail = text.split("An hour later")[1]
    assert "nothing to do" in tail
    assert "paused" in text and "is away (automatic reply)" in text
    assert "This week's digest, sent to you" in text
    assert "(all day)  ✓ Due: First draft of the QI proposal" in tail  # done in the story
    assert "Check-in: Dr. Smith" in tail and "Review: mentorship with Dr. Smith" in tail
    assert "0 to anyone but you" in tail
    # The story ends with the review packet, built from what happened in it.
    packet = tail.split("What `mentor-assistant contract review` prints today:")[1]
    assert "│ # Review of our mentorship" in packet
    assert "| First draft of the QI proposal | me |" in packet
    assert re.search(r"\| 1\d days early, by my own target \|", packet)  # the margin depends on the weekday
    assert "1 of 1 goal delivered by the promised date" in packet
    assert "2 check-ins held of the 7 planned" in packet and "present the project at the regional meeting" in packet
