"""The parsed config: the core's `Settings` plus what only the shell needs (servers,
secrets, paths). Frozen; built by `validate.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from assistant.core.settings import Settings


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

    @property
    def source(self) -> str:
        """The key that supplies it, as the resident wrote it (for advice on a refused login)."""
        if self.auth == "xoauth2":
            return f"{self.key}.token_command"
        for name, value in (
            ("password", self.password),
            ("password_command", self.password_command),
            ("password_env", self.password_env),
            ("keyring", self.keyring),
        ):
            if value:
                return f"{self.key}.{name}"
        return f"{self.key}.password"


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


@dataclass(frozen=True)
class CalendarSettings:
    url: str
    calendar: str
    username: str
    secret: Secret
    ca_file: str | None = None


@dataclass(frozen=True)
class Config:
    """The whole config: `settings` for the core, the rest for the shell."""

    settings: Settings
    mail: MailSettings
    state_path: Path
    smtp: SmtpSettings | None = None
    calendar: CalendarSettings | None = None
    templates_dir: Path | None = None
    source: Path | None = None
