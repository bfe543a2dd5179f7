"""Where the config file is, reading it, and the machine's time zone."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from assistant.errors import ConfigError

APP = "mentor-assistant"
ENV_CONFIG = "MENTOR_ASSISTANT_CONFIG"


def default_config_path() -> Path:
    """The XDG config location: ~/.config/mentor-assistant/config.toml."""
    return Path(platformdirs.user_config_dir(APP)) / "config.toml"


def default_state_path() -> Path:
    """The XDG state location: ~/.local/state/mentor-assistant/state.json."""
    return Path(platformdirs.user_state_dir(APP)) / "state.json"


def find_config(explicit: str | os.PathLike[str] | None) -> Path:
    """`--config`, else $MENTOR_ASSISTANT_CONFIG, else the XDG config dir."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env).expanduser()
    return default_config_path()


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed file; a ConfigError naming the file when it cannot be read or parsed."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            [f"{path}: no such file (run `mentor-assistant init`, or pass --config)"], source=str(path)
        ) from None
    except IsADirectoryError:
        raise ConfigError([f"{path}: is a directory, not a config file"], source=str(path)) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror})"], source=str(path)) from None
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))  # a byte-order mark from a Windows editor is fine
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: is not UTF-8 text"], source=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"], source=str(path)) from None


def system_timezone() -> str:
    """The machine's IANA time zone name, or UTC when it cannot be told."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and zone_ok(tz):
        return tz
    try:
        link = os.readlink("/etc/localtime")
        name = link.split("zoneinfo/", 1)[1]
        if zone_ok(name):
            return name
    except (OSError, IndexError):
        pass
    try:
        name = Path("/etc/timezone").read_text().strip()
        if zone_ok(name):
            return name
    except OSError:
        pass
    return "UTC"


def zone_ok(name: str) -> bool:
    """Whether `name` is a time zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
