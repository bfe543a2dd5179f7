"""The one place the wall clock is read. MENTOR_ASSISTANT_NOW replaces it (tests, demos)."""

from __future__ import annotations

import os
from datetime import datetime

from assistant.errors import UsageError

ENV_NOW = "MENTOR_ASSISTANT_NOW"


def now() -> datetime:
    """The current time, aware; or $MENTOR_ASSISTANT_NOW (ISO 8601 with offset)."""
    override = os.environ.get(ENV_NOW)
    if override:
        fix = f"Set {ENV_NOW} to a time with an offset, like 2026-11-24T09:00:00-07:00, or unset it."
        try:
            moment = datetime.fromisoformat(override)
        except ValueError:
            raise UsageError(f"{ENV_NOW}={override!r} is not a date and time", fix=fix) from None
        if moment.tzinfo is None:
            raise UsageError(f"{ENV_NOW}={override!r} has no offset from UTC", fix=fix)
        return moment
    return datetime.now().astimezone()
