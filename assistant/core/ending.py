"""Renewing or ending a relationship: what changes in the contract, and the thank-you.

`renew` makes a new version with a new review date (and maybe a new cadence); the
earlier version is kept in `previous` so the check-ins already held keep their dates.
`end` closes it on a day: no check-ins after it, the earlier ones stay as history, a
warm thank-you draft to the mentor, and the goals still open listed for the resident.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from assistant.core.contract_doc import compose_letter, contract_context, letter_id
from assistant.core.letters import THANKS_SUBJECT, Letter
from assistant.core.settings import Contract, Goal, Period, Settings
from assistant.core.templating import sandbox


@dataclass(frozen=True)
class Renewal:
    """What `contract renew` writes into the contract's table."""

    version: int
    review: date
    every: timedelta
    previous: tuple[Period, ...]


def renewal(contract: Contract, *, review: date, every: timedelta | None, today: date) -> Renewal:
    """The next version: ValueError when it cannot be (ended, or a review not after the current one)."""
    if contract.ended is not None:
        raise ValueError(f"the contract ended on {contract.ended}; write a new one to start again")
    if review <= contract.review:
        raise ValueError(f"the new review date {review} must be after the current one ({contract.review})")
    if review <= today:
        raise ValueError(f"the new review date {review} must be in the future")
    past = Period(version=contract.version, review=contract.review, every=contract.every, renewed=today)
    return Renewal(contract.version + 1, review, every or contract.every, (*contract.previous, past))


def renewed(contract: Contract, change: Renewal) -> Contract:
    """The contract as it reads after the renewal."""
    return replace(contract, version=change.version, review=change.review, every=change.every,
                   previous=change.previous)  # fmt: skip


def check_end(contract: Contract, on: date) -> None:
    """ValueError when the relationship cannot end on `on`."""
    if on < contract.start:
        raise ValueError(f"{on} is before the contract started ({contract.start})")
    if contract.ended is not None and contract.ended != on:
        raise ValueError(f"the contract already ended on {contract.ended}")


def open_goals(settings: Settings, contract: Contract) -> tuple[Goal, ...]:
    """The relationship's goals not done: to close or hand over."""
    return tuple(g for g in settings.goals_of(contract) if g.done is None)


def thanks_message_id(settings: Settings, contract: Contract) -> str:
    """The thank-you draft's Message-ID: one per relationship."""
    return letter_id(settings, "thanks", f"{contract.mentor.lower()}:{contract.start}")


def thanks_letter(settings: Settings, contract: Contract, templates: dict[str, str], *, now: datetime) -> Letter:
    """A short, warm thank-you draft to the mentor."""
    context = contract_context(settings, contract)
    achieved = [g.title for g in settings.goals_of(contract) if g.done is not None]
    letter = (
        sandbox(templates)
        .get_template("thanks.txt.j2")
        .render(**context, achieved=achieved, start_month=f"{contract.start:%B %Y}")
    )
    return compose_letter(settings, contract, subject=THANKS_SUBJECT, letter=letter,
                          message_id=thanks_message_id(settings, contract),
                          what=f"the thank-you to {contract.mentor}", now=now)  # fmt: skip
