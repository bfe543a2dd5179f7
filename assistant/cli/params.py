"""Command-line argument types that explain a mistake in plain words."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from assistant.core.durations import parse_duration


class DateParam(click.ParamType):  # type: ignore[type-arg]
    """A calendar date written YYYY-MM-DD that exists."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not a date that exists; write it as YYYY-MM-DD, like 2027-01-05.", param, ctx)


class DurationParam(click.ParamType):  # type: ignore[type-arg]
    """A duration with a unit: 30m, 4h, 14d, 2w."""

    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        return str(value)


DATE = DateParam()
DURATION = DurationParam()
