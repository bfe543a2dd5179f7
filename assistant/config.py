"""The config file: where it is, what it holds, and every problem in it at once.

`load_config` reads the file; `parse_config` validates it (see `config_validation.py`:
every problem at once, each with its key). The dataclasses here are the plain data the
core decides on.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from assistant.core.deadlines import Padding
from assistant.errors import ConfigError

APP = "mentor-assistant"
ENV_CONFIG = "MENTOR_ASSISTANT_CONFIG"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Secret:
    """How to obtain a password or token; the value itself is never stored here."""

    password: str | None = field(default=None, repr=False)
    password_command: tuple[str, ...] = ()
    password_env: str | None = None  # the name of an environment variable holding it
    keyring: bool = False
    auth: str = "password"  # "password" | "xoauth2"
    token_command: tuple[str, ...] = ()
    key: str = ""  # the config table, for messages: "mail", "smtp", "calendar"


@dataclass(frozen=True)
class Me:
    name: str
    email: str
    role: str = ""
    aliases: tuple[str, ...] = ()
    timezone: str = "UTC"

    @property
    def addresses(self) -> frozenset[str]:
        """Every address that is the resident, lower-cased."""
        return frozenset(a.lower() for a in (self.email, *self.aliases))

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[-1]


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    security: str
    username: str
    secret: Secret
    ca_file: str | None = None
    sent_folder: str | None = None
    drafts_folder: str | None = None
    trash_folder: str | None = None
    watch: tuple[str, ...] = ("INBOX",)
    idle: bool = True
    poll_interval: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    username: str
    secret: Secret
    ca_file: str | None = None
    digest: str = "off"


@dataclass(frozen=True)
class CalendarSettings:
    url: str
    calendar: str
    username: str
    secret: Secret
    ca_file: str | None = None


@dataclass(frozen=True)
class FollowupSettings:
    wait: timedelta = timedelta(days=14)
    rounds: int = 2
    closing_note: bool = True
    business_days: bool = False


@dataclass(frozen=True)
class TrackingSettings:
    bcc: str | None = None
    keyword: str | None = "$MentorRequest"
    since: date | None = None


@dataclass(frozen=True)
class Mentor:
    name: str
    emails: tuple[str, ...]
    area: str = ""
    project: str = ""
    title: str = ""
    source: str = ""
    recommended_by: str = ""
    publications: tuple[str, ...] = ()

    @property
    def email(self) -> str:
        return self.emails[0]


@dataclass(frozen=True)
class Contract:
    mentor: str
    start: date
    every: timedelta
    weekday: str
    time: time
    duration: timedelta
    review: date
    location: str = ""
    my_goals: tuple[str, ...] = ()
    my_expectations: tuple[str, ...] = ()
    mentor_expectations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Goal:
    id: str
    title: str
    start: date
    estimate: timedelta | None
    measure: str = ""
    relevant: str = ""
    owner: str = "me"
    promised: date | None = None
    done: date | None = None


@dataclass(frozen=True)
class Config:
    me: Me
    mail: MailSettings
    state_path: Path
    smtp: SmtpSettings | None = None
    calendar: CalendarSettings | None = None
    followup: FollowupSettings = field(default_factory=FollowupSettings)
    tracking: TrackingSettings = field(default_factory=TrackingSettings)
    padding: Padding = field(default_factory=Padding)
    mentors: tuple[Mentor, ...] = ()
    contract: Contract | None = None
    goals: tuple[Goal, ...] = ()
    templates_dir: Path | None = None
    source: Path | None = None

    def mentor_for(self, address: str) -> Mentor | None:
        """The configured mentor one of whose addresses is `address`."""
        address = address.lower()
        for mentor in self.mentors:
            if address in (e.lower() for e in mentor.emails):
                return mentor
        return None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.me.timezone)


# --------------------------------------------------------------------------- location


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


def load_config(path: Path) -> Config:
    """Read and validate the config file at `path`."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            [f"{path}: no such file (copy config.example.toml there, or pass --config)"], source=str(path)
        ) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror})"], source=str(path)) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: is not UTF-8 text"], source=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"], source=str(path)) from None
    return parse_config(data, source=path)


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
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_config(data: dict[str, Any], *, source: Path | None = None) -> Config:
    """Validate a parsed TOML document; raise ConfigError naming every problem's key."""
    from assistant.config_validation import validate_config  # it builds on this module

    return validate_config(data, source=source)
