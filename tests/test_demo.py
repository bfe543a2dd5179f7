"""`demo` plays the whole story on its own servers and ends by itself."""

from __future__ import annotations

import time

import pytest

from assistant.demo import run_demo

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("imap", ["dovecot", "pymap"])
def test_the_demo_tells_the_story(imap):
    lines: list[str] = []
    started = time.monotonic()
    assert run_demo(imap=imap, echo=lines.append) == 0
    assert time.monotonic() - started < 60
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
    assert "(all day)  Due: First draft of the QI proposal" in tail
    assert "Check-in: Dr. Smith" in tail and "Review: mentorship with Dr. Smith" in tail
    assert "0 to anyone but you" in tail
