"""The config file: finding, reading, validating and editing it.

`load_config` reads and validates; the result is a `Config` whose `settings` are all the
core ever sees (`assistant.core.settings`). `keys.py` lists every key once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.config.files import (
    APP,
    ENV_CONFIG,
    default_config_path,
    default_state_path,
    find_config,
    read_toml,
    system_timezone,
    zone_ok,
)
from assistant.config.model import CalendarSettings, Config, MailSettings, Secret, SmtpSettings
from assistant.config.validate import is_loopback, validate_config

__all__ = [
    "APP",
    "ENV_CONFIG",
    "CalendarSettings",
    "Config",
    "MailSettings",
    "Secret",
    "SmtpSettings",
    "default_config_path",
    "default_state_path",
    "find_config",
    "is_loopback",
    "load_config",
    "parse_config",
    "system_timezone",
    "zone_ok",
]


def load_config(path: Path) -> Config:
    """Read and validate the config file at `path`."""
    return validate_config(read_toml(path), source=path)


def parse_config(data: dict[str, Any], *, source: Path | None = None) -> Config:
    """Validate a parsed TOML document; raise ConfigError naming every problem's key."""
    return validate_config(data, source=source)
