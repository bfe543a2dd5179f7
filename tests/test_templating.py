"""The template sandbox: strict names, no Python internals, and English articles."""

from __future__ import annotations

import jinja2
import pytest
from jinja2.sandbox import SecurityError

from assistant.core.templating import sandbox, with_article


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("first-year internal medicine resident", "a first-year internal medicine resident"),
        ("internal medicine resident", "an internal medicine resident"),
        ("PGY-2 resident in pediatrics", "a PGY-2 resident in pediatrics"),
        ("MD candidate", "an MD candidate"),
        ("R2 in family medicine", "an R2 in family medicine"),
        ("university hospital fellow", "a university hospital fellow"),
        ("one-year research fellow", "a one-year research fellow"),
        ("SHO in surgery", "an SHO in surgery"),
        ("senior resident", "a senior resident"),
        ("US-trained internist", "a US-trained internist"),
        ("honors student", "an honors student"),
        ("hour-long volunteer", "an hour-long volunteer"),
        ("hospitalist", "a hospitalist"),
        ("unusual applicant", "an unusual applicant"),
        ("  ", ""),
    ],
)
def test_the_article_is_the_one_a_person_would_say(role, expected):
    assert with_article(role) == expected


def test_an_unknown_name_is_an_error_naming_it_not_a_blank_in_a_draft():
    env = sandbox({"t.j2": "Dear {{ mentor.salutaton }},"})
    with pytest.raises(jinja2.UndefinedError, match="salutaton"):
        env.get_template("t.j2").render(mentor={"salutation": "Dr. Smith"})


def test_templates_cannot_reach_python_internals():
    env = sandbox({"t.j2": "{{ ''.__class__.__mro__ }}"})
    with pytest.raises(SecurityError):
        env.get_template("t.j2").render()
    # Nor change what they are given.
    env = sandbox({"t.j2": "{{ items.append(1) }}"})
    with pytest.raises(SecurityError):
        env.get_template("t.j2").render(items=[])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Dr. Jane Smith", "Dr. Smith"),
        ("Dr. Jane Smith, MD", "Dr. Smith"),
        ("Dr. Jane Smith MD PhD", "Dr. Smith"),
        ("Jane Smith, MD", "Dr. Smith"),
        ("Raj Patel, M.D., F.A.C.P.", "Dr. Patel"),
        ("Dr. Juan de la Cruz", "Dr. de la Cruz"),
        ("Prof. Anna van der Berg", "Prof. van der Berg"),
        ("Dr. J. R. Smith Jr.", "Dr. Smith"),
        ("Maria Chen", "Maria Chen"),
        ("Maria Chen, RN", "Maria Chen, RN"),
        ("", ""),
    ],
)
def test_the_salutation_a_person_would_write(name, expected):
    from assistant.core.draft import salutation

    assert salutation(name) == expected
