"""Validating the config: every problem at once, each with its key (`validate_config`).

Pure: a parsed TOML document in, a frozen `Config` out, or a `ConfigError` that names
every key that is wrong, with what would be right. Values are read only through the key
table (`keys.py`), which gives each key its kind and default.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from assistant.config.files import default_state_path, system_timezone, zone_ok
from assistant.config.keys import ARRAYS, REQUIRED, TABLES, Key
from assistant.config.model import CalendarSettings, Config, MailSettings, Secret, SmtpSettings
from assistant.core.durations import parse_duration
from assistant.core.settings import (
    WEEKDAYS,
    Contract,
    FollowupSettings,
    Goal,
    Me,
    Mentor,
    Padding,
    Settings,
    TrackingSettings,
)
from assistant.errors import ConfigError

_EMAIL = re.compile(r"^[^@\s<>\"(),;:\[\]\\]+@[^@\s<>\"(),;:\[\]\\]+\.[^@\s<>\"(),;:\[\]\\]+$")
_DIGEST = re.compile(r"^(off|daily (\d{1,2}):(\d{2})|weekly (mon|tue|wed|thu|fri|sat|sun)\w* (\d{1,2}):(\d{2}))$")
_KIND_NAMES = {
    "str": "a string",
    "int": "a whole number",
    "bool": "true or false",
    "number": "a number",
    "date": "a date like 2027-01-05",
    "time": "a time like 16:00",
    "duration": "a duration like 30m, 4h, 14d or 2w",
    "email": "an e-mail address",
    "emails": "a list of e-mail addresses",
    "strings": "a list of strings",
    "argv": 'a command as a list of strings, like ["pass", "show", "mail"]',
    "port": "a port number between 1 and 65535",
}


def is_email(text: str) -> bool:
    """A bare address like jsmith@hospital.org (no display name, no spaces)."""
    return bool(_EMAIL.match(text.strip()))


def parse_time(text: str) -> time:
    """ "16:00" as a time; ValueError naming the accepted form otherwise."""
    match = re.match(r"^(\d{1,2}):(\d{2})$", text.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"{text!r} is not a time like 16:00")
    return time(int(match.group(1)), int(match.group(2)))


def _convert(kind: str, value: Any) -> Any:
    """The value of one key as its kind, or ValueError saying what is wrong."""
    if kind == "str" and isinstance(value, str):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "port" and isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536:
        return value
    if kind == "date":
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
    if kind == "time" and isinstance(value, str):
        return parse_time(value)
    if kind == "duration" and isinstance(value, str):
        return parse_duration(value)
    if kind == "email" and isinstance(value, str):
        if not is_email(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value.strip()
    if kind in ("emails", "strings"):
        items = [value] if isinstance(value, str) else value
        if isinstance(items, list) and all(isinstance(v, str) for v in items):
            if kind == "emails":
                bad = [v for v in items if not is_email(v)]
                if bad:
                    raise ValueError(f"{bad[0]!r} is not an e-mail address")
                return tuple(v.strip() for v in items)
            return tuple(items)
    if kind == "argv" and isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise ValueError(f"must be {_KIND_NAMES[kind]}, not {value!r}")


class _Checker:
    """Collects every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.problems.append(f"{key}: {message}")

    def _unknown(self, table: dict[str, Any], section: str, prefix: str) -> None:
        allowed = TABLES[section]
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                self.add(f"{prefix}.{key}", "unknown key" + (f" (did you mean {close[0]!r}?)" if close else ""))

    def table(self, data: dict[str, Any], name: str, *, required: bool) -> dict[str, Any] | None:
        value = data.get(name)
        if value is None:
            if required:
                self.add(f"[{name}]", "this table is required")
            return None
        if not isinstance(value, dict):
            self.add(name, f"must be a table ([{name}])")
            return None
        self._unknown(value, name, name)
        return value

    def array(self, data: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
        """The [[name]] tables as (key prefix, table), each checked for unknown keys."""
        items = data.get(name, [])
        if not isinstance(items, list):
            self.add(name, f"must be written as [[{name}]] tables")
            return []
        out = []
        for i, table in enumerate(items):
            prefix = f"{name}[{i}]"
            if not isinstance(table, dict):
                self.add(prefix, "must be a table")
                continue
            self._unknown(table, name, prefix)
            out.append((prefix, table))
        return out

    def get(self, table: dict[str, Any], section: str, key: str, prefix: str | None = None) -> Any:
        """The key's value as its kind; its default when absent; None (and a problem) when wrong."""
        spec: Key = TABLES[section][key]
        where = f"{prefix or section}.{key}"
        if key not in table:
            if spec.default is REQUIRED:
                self.add(where, "is required")
                return None
            return self._default(spec)
        try:
            value = _convert(spec.kind, table[key])
        except ValueError as exc:
            self.add(where, str(exc))
            return None if spec.default is REQUIRED else self._default(spec)
        if spec.choices and value not in spec.choices:
            self.add(where, f"must be {' or '.join(spec.choices)}, not {value!r}")
            return self._default(spec)
        return value

    @staticmethod
    def _default(spec: Key) -> Any:
        if spec.default is None or spec.default is REQUIRED:
            return None
        return _convert(spec.kind, list(spec.default) if isinstance(spec.default, tuple) else spec.default)


def is_loopback(host: str) -> bool:
    """True for localhost and the loopback ranges."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _secret(c: _Checker, t: dict[str, Any], section: str) -> Secret:
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


def _security(c: _Checker, t: dict[str, Any], section: str, host: str | None) -> str:
    security = str(c.get(t, section, "security"))
    if security == "plain" and host and not is_loopback(host):
        c.add(f"{section}.security", "plain (unencrypted) is only allowed to a loopback host; use tls or starttls")
    return security


def _ca_file(c: _Checker, t: dict[str, Any], section: str, base: Path) -> str | None:
    ca = c.get(t, section, "ca_file")
    if ca is None:
        return None
    path = (base / Path(ca).expanduser()).resolve()
    if not path.is_file():
        c.add(f"{section}.ca_file", f"{path} does not exist")
    return str(path)


def _parse_me(c: _Checker, data: dict[str, Any]) -> Me:
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


def _parse_mail(c: _Checker, data: dict[str, Any], base: Path) -> MailSettings:
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


def _parse_smtp(c: _Checker, data: dict[str, Any], base: Path) -> tuple[SmtpSettings | None, str]:
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


def _parse_calendar(c: _Checker, data: dict[str, Any], base: Path) -> CalendarSettings | None:
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


def _parse_followup(c: _Checker, data: dict[str, Any]) -> FollowupSettings:
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


def _parse_tracking(c: _Checker, data: dict[str, Any]) -> TrackingSettings:
    t = c.table(data, "tracking", required=False) or {}
    keyword = c.get(t, "tracking", "keyword")
    if keyword is not None and not re.match(r"^[^\s()\{%*\"\\\]]+$", keyword):
        c.add("tracking.keyword", f"{keyword!r} is not a valid IMAP keyword (no spaces or special characters)")
    return TrackingSettings(bcc=c.get(t, "tracking", "bcc"), keyword=keyword, since=c.get(t, "tracking", "since"))


def _parse_padding(c: _Checker, data: dict[str, Any]) -> Padding:
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


def _parse_mentors(c: _Checker, data: dict[str, Any]) -> tuple[Mentor, ...]:
    mentors = []
    seen: dict[str, str] = {}
    for prefix, t in c.array(data, "mentors"):
        emails = c.get(t, "mentors", "email", prefix) or ()
        for e in emails:
            if e.lower() in seen:
                c.add(f"{prefix}.email", f"{e} is already listed under {seen[e.lower()]}")
            seen[e.lower()] = prefix
        mentors.append(
            Mentor(
                name=c.get(t, "mentors", "name", prefix) or "",
                emails=emails or ("unknown@invalid.example",),
                area=c.get(t, "mentors", "area", prefix),
                project=c.get(t, "mentors", "project", prefix),
                title=c.get(t, "mentors", "title", prefix),
                source=c.get(t, "mentors", "source", prefix),
                recommended_by=c.get(t, "mentors", "recommended_by", prefix),
                publications=c.get(t, "mentors", "publications", prefix),
            )
        )
    return tuple(mentors)


def _parse_contract(c: _Checker, data: dict[str, Any], mentors: tuple[Mentor, ...]) -> Contract | None:
    t = c.table(data, "contract", required=False)
    if t is None:
        return None
    mentor = c.get(t, "contract", "mentor") or ""
    if mentor and not any(mentor.lower() in (e.lower() for e in m.emails) for m in mentors):
        c.add("contract.mentor", f"{mentor} is not the address of a configured [[mentors]] entry")
    start = c.get(t, "contract", "start")
    review = c.get(t, "contract", "review")
    if start and review and review <= start:
        c.add("contract.review", f"{review} must be after contract.start ({start})")
    every: timedelta = c.get(t, "contract", "every")
    if not timedelta(days=7) <= every <= timedelta(weeks=26) or every.days % 7 or every % timedelta(days=1):
        c.add("contract.every", "must be whole weeks between 1w and 26w, like 4w")
        every = timedelta(weeks=4)
    weekday = str(c.get(t, "contract", "weekday")).lower()
    if weekday not in WEEKDAYS:
        c.add("contract.weekday", f"must be a day name like tuesday, not {weekday!r}")
        weekday = "tuesday"
    return Contract(
        mentor=mentor,
        start=start or date(2000, 1, 1),
        every=every,
        weekday=weekday,
        time=c.get(t, "contract", "time") or time(16, 0),
        duration=c.get(t, "contract", "duration"),
        review=review or date(2000, 1, 2),
        location=c.get(t, "contract", "location"),
        my_goals=c.get(t, "contract", "my_goals"),
        my_expectations=c.get(t, "contract", "my_expectations"),
        mentor_expectations=c.get(t, "contract", "mentor_expectations"),
    )


def _parse_goals(c: _Checker, data: dict[str, Any]) -> tuple[Goal, ...]:
    goals = []
    ids: set[str] = set()
    for i, (prefix, t) in enumerate(c.array(data, "goals")):
        gid = c.get(t, "goals", "id", prefix) or f"goal-{i}"
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", gid):
            c.add(f"{prefix}.id", f"{gid!r} must be letters, digits, '-', '_' or '.'")
        if gid in ids:
            c.add(f"{prefix}.id", f"{gid!r} is used by another goal")
        ids.add(gid)
        goals.append(
            Goal(
                id=gid,
                title=c.get(t, "goals", "title", prefix) or gid,
                start=c.get(t, "goals", "start", prefix) or date(2000, 1, 1),
                estimate=c.get(t, "goals", "estimate", prefix),
                measure=c.get(t, "goals", "measure", prefix),
                relevant=c.get(t, "goals", "relevant", prefix),
                owner=c.get(t, "goals", "owner", prefix),
                promised=c.get(t, "goals", "promised", prefix),
                done=c.get(t, "goals", "done", prefix),
            )
        )
    return tuple(goals)


def _path(c: _Checker, data: dict[str, Any], section: str, base: Path) -> Path | None:
    table = c.table(data, section, required=False) or {}
    text = c.get(table, section, "path")
    return (base / Path(text).expanduser()) if text else None


def validate_config(data: dict[str, Any], *, source: Path | None = None) -> Config:
    """Validate a parsed TOML document; raise ConfigError naming every problem's key."""
    c = _Checker()
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
    mentors = _parse_mentors(c, data)
    settings = Settings(
        me=me,
        mentors=mentors,
        goals=_parse_goals(c, data),
        contract=_parse_contract(c, data, mentors),
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
