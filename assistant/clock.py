"""The one place the wall clock is read. MENTOR_ASSISTANT_NOW replaces it (tests, demos)."""

from __future__ import annotations

import os
from datetime import datetime

from assistant.errors import ConfigError

ENV_NOW = "MENTOR_ASSISTANT_NOW"


def now() -> datetime:
    """The current time, aware; or $MENTOR_ASSISTANT_NOW (ISO 8601 with offset)."""
    override = os.environ.get(ENV_NOW)
    if override:
        try:
            moment = datetime.fromisoformat(override)
        except ValueError:
            raise ConfigError([f"{ENV_NOW}: {override!r} is not an ISO 8601 time"]) from None
        if moment.tzinfo is None:
            raise ConfigError([f"{ENV_NOW}: {override!r} needs an offset, like 2026-11-24T09:00:00-07:00"])
        return moment
    return datetime.now().astimezone()
