"""Writing a first config: the packaged, commented example, filled in for one provider.

The result is validated like any config before it is written (mode 0600, atomically), and
an existing file is never replaced unless asked to.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import Table

from assistant.atomic import atomic_write
from assistant.config.model import Config
from assistant.config.providers import PRESETS, Preset
from assistant.config.validate import validate_config
from assistant.errors import UsageError


@dataclass(frozen=True)
class InitAnswers:
    """What the resident told `init` (flags or prompts)."""

    provider: str
    name: str
    email: str
    role: str = ""
    timezone: str = ""
    password_command: tuple[str, ...] = ()  # or, for OAuth2 providers, the token command
    keyring: bool = False
    calendar_url: str | None = None
    calendar_name: str = "Mentorship"
    imap: tuple[str, int, str] | None = None  # host, port, security (for `other`, or to override)
    smtp: tuple[str, int, str] | None = None


def example_text() -> str:
    """The commented example config shipped in the package."""
    return resources.files("assistant").joinpath("config", "example.toml").read_text(encoding="utf-8")


def _secret(table: Table, preset: Preset, answers: InitAnswers, key: str) -> None:
    for name in ("password", "password_command", "password_env", "keyring", "auth", "token_command"):
        if name in table:
            del table[name]
    if preset.auth == "xoauth2":
        table["auth"] = "xoauth2"
        command = list(answers.password_command) or [*preset.token_example, answers.email]
        table["token_command"] = command
        table["token_command"].comment("prints a fresh OAuth2 access token")
    elif answers.keyring or not answers.password_command:
        host = table.get("host", "") if key != "calendar" else table.get("url", "")
        flag = tomlkit.item(True)
        flag.comment(f"store it with: keyring set mentor-assistant {table.get('username', '')}@{host}")
        table["keyring"] = flag
    else:
        table["password_command"] = list(answers.password_command)
        table["password_command"].comment("must print exactly one line: the password")


def _server(table: Table, server: tuple[str, int, str], username: str) -> None:
    host, port, security = server
    table["host"] = host
    table["port"] = port
    table["security"] = security
    table["username"] = username


def build_config_text(answers: InitAnswers) -> str:
    """The config file's text for these answers; UsageError when they cannot make one."""
    preset = PRESETS.get(answers.provider)
    if preset is None:
        raise UsageError(f"no provider {answers.provider!r}", fix=f"Use --provider {' | '.join(PRESETS)}.")
    imap = answers.imap or preset.imap
    smtp = answers.smtp or (preset.smtp if preset.smtp[0] else None)
    if not imap[0]:
        raise UsageError("the IMAP server is not known for --provider other", fix="Give --imap-host HOST[:PORT].")
    doc = tomlkit.parse(example_text())
    me: Any = doc["me"]
    me["name"] = answers.name
    me["email"] = answers.email
    me["role"] = answers.role
    if "aliases" in me:
        del me["aliases"]
    if answers.timezone:
        me["timezone"] = answers.timezone
    elif "timezone" in me:
        del me["timezone"]  # this machine's time zone
    mail: Any = doc["mail"]
    login = answers.email.split("@")[0] if preset.local_part_login else answers.email
    _server(mail, imap, login)
    _secret(mail, preset, answers, "mail")
    if preset.folders:
        mail.add(tomlkit.comment(f"{preset.label}'s folders: {preset.folders} (found by their roles; the *_folder "
                                 "keys only override that)"))  # fmt: skip
    smtp_table: Any = doc["smtp"]
    if smtp is None:
        del doc["smtp"]
    else:
        _server(smtp_table, smtp, answers.email)
        _secret(smtp_table, preset, answers, "smtp")
    calendar_url = answers.calendar_url or preset.caldav
    cal: Any = doc["calendar"]
    if calendar_url:
        cal["url"] = calendar_url
        cal["calendar"] = answers.calendar_name
        cal["username"] = answers.email
        _secret(cal, preset, answers, "calendar")
        if preset.calendar_note:
            cal["url"].comment(preset.calendar_note)
    else:
        del doc["calendar"]
        note = preset.calendar_note or (
            "No CalDAV calendar given: add a [calendar] table (url, calendar, username and a password key; "
            "docs/calendar.md) to get one."
        )
        doc.add(tomlkit.comment(note))
    tracking: Any = doc["tracking"]
    for key in ("bcc", "since"):
        if key in tracking:
            del tracking[key]
    for key in ("mentors", "contract", "goals"):
        if key in doc:
            del doc[key]
    doc.add(tomlkit.nl())
    doc.add(tomlkit.comment("Prospects: `mentor-assistant mentor add NAME --email ADDRESS` (adds [[mentors]] here)."))
    doc.add(tomlkit.comment("Goals: `mentor-assistant goal add ID --title ... --estimate 2w` (adds [[goals]])."))
    doc.add(tomlkit.comment("A contract: write a [contract] table once a mentor said yes (docs/guide.md, "
                            "\"The contract\", shows one)."))  # fmt: skip
    return tomlkit.dumps(doc)


def write_initial_config(path: Path, answers: InitAnswers, *, force: bool) -> Config:
    """Write the first config at `path` (mode 0600); never over an existing file unless `force`."""
    if path.exists() and not force:
        raise UsageError(f"{path} exists already", fix="Keep it, or add --force to replace it.")
    text = build_config_text(answers)
    config = validate_config(tomllib.loads(text), source=path)  # raises before anything is written
    atomic_write(path, text.encode("utf-8"), mode=0o600)
    return config
