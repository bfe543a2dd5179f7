"""Validating the config: every problem at once, each with its key (`validate_config`).

Pure: a parsed TOML document in, a frozen `Config` out, or a `ConfigError` that names
every key that is wrong, with what would be right. Values are read only through the key
table (`keys.py`), which gives each key its kind and default.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from assistant.config.checker import Checker
from assistant.config.files import default_state_path, system_timezone, zone_ok
from assistant.config.keys import ARRAYS, TABLES
from assistant.config.model import CalendarSettings, Config, MailSettings, Secret, SmtpSettings
from assistant.config.relationship import check_goals_belong, parse_contracts, parse_goals, parse_mentors
from assistant.core.settings import (
    FollowupSettings,
    Me,
    Padding,
    Settings,
    TrackingSettings,
)
from assistant.errors import ConfigError

_DIGEST = re.compile(r"^(off|daily (\d{1,2}):(\d{2})|weekly (mon|tue|wed|thu|fri|sat|sun)\w* (\d{1,2}):(\d{2}))$")


def is_loopback(host: str) -> bool:
    """True for localhost and the loopback ranges."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _secret(c: Checker, t: dict[str, Any], section: str) -> Secret:
    auth = c.get(t, section, "auth")
    password = c.get(t, section, "password")
    command = c.get(t, section, "password_command") or ()
    use_keyring = bool(c.get(t, section, "keyring"))
    env = c.get(t, section, "password_env")
    token = c.get(t, section, "token_command") or ()
    if auth == "xoauth2":
        if not token:
            c.add(f"{section}.token_command", "is required when auth = 'xoauth2'")
    else:
        given = [n for n, v in (("password", password), ("password_command", command), ("password_env", env),
                                ("keyring", use_keyring)) if v]  # fmt: skip
        if not given:
            c.add(f"{section}.password", "give one of password, password_command, password_env or keyring = true")
        elif len(given) > 1:
            c.add(f"{section}.password", f"give only one of {', '.join(given)}")
    return Secret(password, command, env, use_keyring, auth or "password", token, section)


def _security(c: Checker, t: dict[str, Any], section: str, host: str | None) -> str:
    security = str(c.get(t, section, "security"))
    if security == "plain" and host and not is_loopback(host):
        c.add(f"{section}.security", "plain (unencrypted) is only allowed to a loopback host; use tls or starttls")
    return security


def _ca_file(c: Checker, t: dict[str, Any], section: str, base: Path) -> str | None:
    ca = c.get(t, section, "ca_file")
    if ca is None:
        return None
    path = (base / Path(ca).expanduser()).resolve()
    if not path.is_file():
        c.add(f"{section}.ca_file", f"{path} does not exist")
    return str(path)


def _parse_me(c: Checker, data: dict[str, Any]) -> Me:
    t = c.table(data, "me", required=True) or {}
    tz = c.get(t, "me", "timezone") or system_timezone()
    if not zone_ok(tz):
        c.add("me.timezone", f"{tz!r} is not a time zone name like America/Denver")
        tz = "UTC"
    return Me(
        name=c.get(t, "me", "name") or "",
        email=c.get(t, "me", "email") or "me@invalid.example",
        role=c.get(t, "me", "role"),
        aliases=c.get(t, "me", "aliases") or (),
        timezone=tz,
    )


def _parse_mail(c: Checker, data: dict[str, Any], base: Path) -> MailSettings:
    t = c.table(data, "mail", required=True) or {}
    host = c.get(t, "mail", "host") or "invalid"
    security = _security(c, t, "mail", host)
    watch = c.get(t, "mail", "watch") or ()
    if not watch and "watch" in t:
        c.add("mail.watch", 'must name at least one folder, like ["INBOX"]')
    return MailSettings(
        host=host,
        port=c.get(t, "mail", "port") or (993 if security == "tls" else 143),
        security=security,
        username=c.get(t, "mail", "username") or "",
        secret=_secret(c, t, "mail"),
        ca_file=_ca_file(c, t, "mail", base),
        sent_folder=c.get(t, "mail", "sent_folder"),
        drafts_folder=c.get(t, "mail", "drafts_folder"),
        trash_folder=c.get(t, "mail", "trash_folder"),
        watch=watch or ("INBOX",),
        idle=c.get(t, "mail", "idle"),
        poll_interval=c.get(t, "mail", "poll_interval"),
    )


def _parse_smtp(c: Checker, data: dict[str, Any], base: Path) -> tuple[SmtpSettings | None, str]:
    t = c.table(data, "smtp", required=False)
    if t is None:
        return None, "off"
    host = c.get(t, "smtp", "host") or "invalid"
    security = _security(c, t, "smtp", host)
    digest = str(c.get(t, "smtp", "digest")).strip().lower()
    if not _DIGEST.match(digest):
        c.add("smtp.digest", f'must be "daily HH:MM", "weekly DAY HH:MM" or "off", not {digest!r}')
        digest = "off"
    smtp = SmtpSettings(
        host=host,
        port=c.get(t, "smtp", "port") or (465 if security == "tls" else 587),
        security=security,
        username=c.get(t, "smtp", "username") or "",
        secret=_secret(c, t, "smtp"),
        ca_file=_ca_file(c, t, "smtp", base),
    )
    return smtp, digest


def check_calendar_url(url: str) -> str | None:
    """What is wrong with a CalDAV URL, or None. Parsed strictly: userinfo is refused."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return f"{url!r} is not a URL ({exc})"
    if parts.scheme not in ("http", "https") or not host:
        return f"must start with https:// (or http:// to a loopback host), not {url!r}"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "must not contain a user name or password (use calendar.username and a password key)"
    if parts.scheme == "http" and not is_loopback(host):
        return "plain http:// is only allowed to a loopback host; use https://"
    return None


def _parse_calendar(c: Checker, data: dict[str, Any], base: Path) -> CalendarSettings | None:
    t = c.table(data, "calendar", required=False)
    if t is None:
        return None
    url = c.get(t, "calendar", "url") or ""
    problem = check_calendar_url(url) if url else None
    if problem:
        c.add("calendar.url", problem)
    return CalendarSettings(
        url=url,
        calendar=c.get(t, "calendar", "calendar"),
        username=c.get(t, "calendar", "username") or "",
        secret=_secret(c, t, "calendar"),
        ca_file=_ca_file(c, t, "calendar", base),
    )


def _parse_followup(c: Checker, data: dict[str, Any]) -> FollowupSettings:
    t = c.table(data, "followup", required=False) or {}
    rounds = c.get(t, "followup", "rounds")
    if not 0 <= rounds <= 5:
        c.add("followup.rounds", f"must be between 0 and 5, not {rounds}")
    wait: timedelta = c.get(t, "followup", "wait")
    if wait < timedelta(days=1):
        c.add("followup.wait", "must be at least 1d; a mentor needs time to answer")
    return FollowupSettings(
        wait=wait,
        rounds=rounds,
        closing_note=c.get(t, "followup", "closing_note"),
        business_days=c.get(t, "followup", "business_days"),
    )


def _parse_tracking(c: Checker, data: dict[str, Any]) -> TrackingSettings:
    t = c.table(data, "tracking", required=False) or {}
    keyword = c.get(t, "tracking", "keyword")
    if keyword is not None and not re.match(r"^[^\s()\{%*\"\\\]]+$", keyword):
        c.add("tracking.keyword", f"{keyword!r} is not a valid IMAP keyword (no spaces or special characters)")
    return TrackingSettings(bcc=c.get(t, "tracking", "bcc"), keyword=keyword, since=c.get(t, "tracking", "since"))


def _parse_padding(c: Checker, data: dict[str, Any]) -> Padding:
    t = c.table(data, "padding", required=False) or {}
    factor = c.get(t, "padding", "factor")
    if not 1 <= factor <= 4:
        c.add("padding.factor", f"must be a number between 1 and 4, not {factor!r}")
        factor = 1.5
    return Padding(
        factor=factor,
        round_to=c.get(t, "padding", "round_to"),
        workdays_only=c.get(t, "padding", "workdays_only"),
    )


def _path(c: Checker, data: dict[str, Any], section: str, base: Path) -> Path | None:
    table = c.table(data, section, required=False) or {}
    text = c.get(table, section, "path")
    return (base / Path(text).expanduser()) if text else None


def validate_config(data: dict[str, Any], *, source: Path | None = None) -> Config:
    """Validate a parsed TOML document; raise ConfigError naming every problem's key."""
    c = Checker()
    base = source.parent if source else Path.cwd()
    for key, value in data.items():
        if key not in TABLES:
            close = difflib.get_close_matches(key, sorted(TABLES), n=1)
            c.add(key, "unknown table" + (f" (did you mean [{close[0]}]?)" if close else ""))
        elif key not in ARRAYS and isinstance(value, list):
            c.add(key, f"must be a single [{key}] table, not [[{key}]]")
    me = _parse_me(c, data)
    mail = _parse_mail(c, data, base)
    smtp, digest = _parse_smtp(c, data, base)
    calendar = _parse_calendar(c, data, base)
    state_path = _path(c, data, "state", base) or default_state_path()
    templates_dir = _path(c, data, "templates", base)
    if templates_dir and not templates_dir.is_dir():
        c.add("templates.path", f"{templates_dir} is not a directory")
    mentors = parse_mentors(c, data)
    goals = parse_goals(c, data, mentors)
    contracts = parse_contracts(c, data, mentors)
    check_goals_belong(c, goals, contracts)
    settings = Settings(
        me=me,
        mentors=mentors,
        goals=goals,
        contracts=contracts,
        padding=_parse_padding(c, data),
        followup=_parse_followup(c, data),
        tracking=_parse_tracking(c, data),
        digest=digest,
        calendar=calendar is not None,
    )
    if c.problems:
        raise ConfigError(c.problems, source=str(source) if source else "")
    return Config(
        settings=settings,
        mail=mail,
        state_path=state_path,
        smtp=smtp,
        calendar=calendar,
        templates_dir=templates_dir,
        source=source,
    )
