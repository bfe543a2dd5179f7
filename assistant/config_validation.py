"""Validating the config: every problem at once, each with its key (`validate_config`).

Pure: a parsed TOML document in, a frozen `Config` out, or a `ConfigError` that names
every key that is wrong, with what would be right.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

from assistant.config import (
    WEEKDAYS,
    CalendarSettings,
    Config,
    Contract,
    FollowupSettings,
    Goal,
    MailSettings,
    Me,
    Mentor,
    Secret,
    SmtpSettings,
    TrackingSettings,
    default_state_path,
    system_timezone,
    zone_ok,
)
from assistant.core.deadlines import Padding
from assistant.core.durations import parse_duration
from assistant.errors import ConfigError

_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
_DIGEST = re.compile(r"^(off|daily (\d{1,2}):(\d{2})|weekly (mon|tue|wed|thu|fri|sat|sun)\w* (\d{1,2}):(\d{2}))$")

T = TypeVar("T")
_MISSING = object()

_KEYS: dict[str, set[str]] = {
    "me": {"name", "email", "role", "aliases", "timezone"},
    "mail": {
        "host", "port", "security", "username", "password", "password_command", "password_env", "keyring", "auth",
        "token_command", "ca_file", "sent_folder", "drafts_folder", "trash_folder", "watch", "idle",
        "poll_interval",
    },
    "smtp": {
        "host", "port", "security", "username", "password", "password_command", "password_env", "keyring", "auth",
        "token_command", "ca_file", "digest",
    },
    "calendar": {"url", "calendar", "username", "password", "password_command", "password_env", "keyring", "ca_file"},
    "state": {"path"},
    "followup": {"wait", "rounds", "closing_note", "business_days"},
    "tracking": {"bcc", "keyword", "since"},
    "padding": {"factor", "round_to", "workdays_only"},
    "mentors": {"name", "email", "area", "project", "title", "source", "recommended_by", "publications"},
    "contract": {
        "mentor", "start", "every", "weekday", "time", "duration", "location", "review", "my_goals",
        "my_expectations", "mentor_expectations",
    },
    "goals": {"id", "title", "measure", "relevant", "owner", "start", "estimate", "promised", "done"},
    "templates": {"path"},
}  # fmt: skip


class _Checker:
    """Collects every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.problems.append(f"{key}: {message}")

    def unknown_keys(self, table: dict[str, Any], section: str, prefix: str) -> None:
        allowed = _KEYS[section]
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.add(f"{prefix}.{key}", f"unknown key{hint}")

    def get(
        self,
        table: dict[str, Any],
        key: str,
        prefix: str,
        kind: type[T] | tuple[type, ...],
        default: Any = _MISSING,
        what: str = "",
    ) -> Any:
        if key not in table:
            if default is _MISSING:
                self.add(f"{prefix}.{key}", "is required")
                return None
            return default
        value = table[key]
        # bool is an int in Python; a port of `true` is still wrong.
        wrong_bool = isinstance(value, bool) and kind in (int, float, (int, float))
        if wrong_bool or not isinstance(value, kind):
            self.add(f"{prefix}.{key}", f"must be {what or _kind_name(kind)}, not {value!r}")
            return None if default is _MISSING else default
        return value

    def convert(self, key: str, value: Any, fn: Callable[[Any], T]) -> T | None:
        if value is None:
            return None
        try:
            return fn(value)
        except (ValueError, TypeError) as exc:
            self.add(key, str(exc))
            return None


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "a whole number", bool: "true or false", list: "a list", float: "a number"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    if kind is date:
        return "a date like 2027-01-05"
    return names.get(kind, kind.__name__)


def _table(c: _Checker, data: dict[str, Any], name: str, *, required: bool) -> dict[str, Any] | None:
    value = data.get(name)
    if value is None:
        if required:
            c.add(f"[{name}]", "this table is required")
        return None
    if not isinstance(value, dict):
        c.add(name, "must be a table ([" + name + "])")
        return None
    c.unknown_keys(value, name, name)
    return value


def _email(c: _Checker, key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _EMAIL.match(value):
        c.add(key, f"{value!r} is not an e-mail address")
        return None
    return value.strip()


def _str_list(c: _Checker, table: dict[str, Any], key: str, prefix: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        c.add(f"{prefix}.{key}", "must be a list of strings")
        return ()
    return tuple(value)


def _argv(c: _Checker, table: dict[str, Any], key: str, prefix: str) -> tuple[str, ...]:
    value = table.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        c.add(f"{prefix}.{key}", 'must be a command as a list of strings, like ["pass", "show", "mail"]')
        return ()
    return tuple(value)


def _secret(c: _Checker, table: dict[str, Any], prefix: str) -> Secret:
    auth = c.get(table, "auth", prefix, str, "password")
    if auth not in ("password", "xoauth2"):
        c.add(f"{prefix}.auth", f"must be 'password' or 'xoauth2', not {auth!r}")
    password = c.get(table, "password", prefix, str, None)
    command = _argv(c, table, "password_command", prefix)
    use_keyring = c.get(table, "keyring", prefix, bool, False)
    env = c.get(table, "password_env", prefix, str, None)
    token = _argv(c, table, "token_command", prefix)
    if auth == "xoauth2":
        if not token:
            c.add(f"{prefix}.token_command", "is required when auth = 'xoauth2'")
    else:
        sources = (
            ("password", password),
            ("password_command", command),
            ("password_env", env),
            ("keyring", use_keyring),
        )
        given = [n for n, v in sources if v]
        if not given:
            c.add(f"{prefix}.password", "give one of password, password_command, password_env or keyring = true")
        elif len(given) > 1:
            c.add(f"{prefix}.password", f"give only one of {', '.join(given)}")
    return Secret(
        password=password,
        password_command=command,
        password_env=env,
        keyring=bool(use_keyring),
        auth=auth or "password",
        token_command=token,
        key=prefix,
    )


def is_loopback(host: str) -> bool:
    """True for localhost and the loopback ranges."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _security(c: _Checker, table: dict[str, Any], prefix: str, host: str | None, default: str) -> str:
    security = c.get(table, "security", prefix, str, default)
    if security not in ("tls", "starttls", "plain"):
        c.add(f"{prefix}.security", f"must be tls, starttls or plain, not {security!r}")
        return default
    if security == "plain" and host and not is_loopback(host):
        c.add(f"{prefix}.security", "plain (unencrypted) is only allowed to a loopback host; use tls or starttls")
    return str(security)


def _ca_file(c: _Checker, table: dict[str, Any], prefix: str, base: Path) -> str | None:
    ca = c.get(table, "ca_file", prefix, str, None)
    if ca is None:
        return None
    path = (base / Path(ca).expanduser()).resolve()
    if not path.is_file():
        c.add(f"{prefix}.ca_file", f"{path} does not exist")
    return str(path)


def _port(c: _Checker, table: dict[str, Any], prefix: str, default: int) -> int:
    port = c.get(table, "port", prefix, int, default)
    if not isinstance(port, int) or not 0 < port < 65536:
        c.add(f"{prefix}.port", f"must be between 1 and 65535, not {port!r}")
        return default
    return port


def _duration(c: _Checker, table: dict[str, Any], key: str, prefix: str, default: str) -> timedelta:
    text = c.get(table, key, prefix, str, default)
    value = c.convert(f"{prefix}.{key}", text, parse_duration)
    return value if value is not None else parse_duration(default)


def _date(c: _Checker, table: dict[str, Any], key: str, prefix: str, required: bool = False) -> date | None:
    value = table.get(key)
    if value is None:
        if required:
            c.add(f"{prefix}.{key}", "is required (a date like 2027-01-05)")
        return None
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    c.add(f"{prefix}.{key}", f"must be a date like 2027-01-05, not {value!r}")
    return None


def _parse_me(c: _Checker, data: dict[str, Any]) -> Me:
    t = _table(c, data, "me", required=True) or {}
    name = c.get(t, "name", "me", str) or ""
    email = _email(c, "me.email", c.get(t, "email", "me", str)) or "me@invalid.example"
    aliases = tuple(a for a in (_email(c, "me.aliases", a) for a in _str_list(c, t, "aliases", "me")) if a)
    tz = c.get(t, "timezone", "me", str, None) or system_timezone()
    if not zone_ok(tz):
        c.add("me.timezone", f"{tz!r} is not a time zone name like America/Denver")
        tz = "UTC"
    return Me(name=name, email=email, role=c.get(t, "role", "me", str, ""), aliases=aliases, timezone=tz)


def _parse_mail(c: _Checker, data: dict[str, Any], base: Path) -> MailSettings:
    t = _table(c, data, "mail", required=True) or {}
    host = c.get(t, "host", "mail", str) or "invalid"
    security = _security(c, t, "mail", host, "tls")
    port = _port(c, t, "mail", 993 if security == "tls" else 143)
    watch = _str_list(c, t, "watch", "mail") if "watch" in t else ("INBOX",)
    if not watch:
        c.add("mail.watch", 'must name at least one folder, like ["INBOX"]')
    return MailSettings(
        host=host,
        port=port,
        security=security,
        username=c.get(t, "username", "mail", str) or "",
        secret=_secret(c, t, "mail"),
        ca_file=_ca_file(c, t, "mail", base),
        sent_folder=c.get(t, "sent_folder", "mail", str, None),
        drafts_folder=c.get(t, "drafts_folder", "mail", str, None),
        trash_folder=c.get(t, "trash_folder", "mail", str, None),
        watch=watch or ("INBOX",),
        idle=c.get(t, "idle", "mail", bool, True),
        poll_interval=_duration(c, t, "poll_interval", "mail", "5m"),
    )


def _parse_smtp(c: _Checker, data: dict[str, Any], base: Path) -> SmtpSettings | None:
    t = _table(c, data, "smtp", required=False)
    if t is None:
        return None
    host = c.get(t, "host", "smtp", str) or "invalid"
    security = _security(c, t, "smtp", host, "starttls")
    digest = c.get(t, "digest", "smtp", str, "off")
    if digest is not None and not _DIGEST.match(digest.strip().lower()):
        c.add("smtp.digest", f'must be "daily HH:MM", "weekly DAY HH:MM" or "off", not {digest!r}')
    return SmtpSettings(
        host=host,
        port=_port(c, t, "smtp", 465 if security == "tls" else 587),
        security=security,
        username=c.get(t, "username", "smtp", str) or "",
        secret=_secret(c, t, "smtp"),
        ca_file=_ca_file(c, t, "smtp", base),
        digest=(digest or "off").strip().lower(),
    )


def _parse_calendar(c: _Checker, data: dict[str, Any], base: Path) -> CalendarSettings | None:
    t = _table(c, data, "calendar", required=False)
    if t is None:
        return None
    url = c.get(t, "url", "calendar", str) or ""
    if url and not re.match(r"^https?://", url):
        c.add("calendar.url", f"must start with https:// (or http:// to a loopback host), not {url!r}")
    elif url.startswith("http://"):
        host = re.sub(r"^http://([^/:]+|\[[^\]]+\]).*$", r"\1", url)
        if not is_loopback(host):
            c.add("calendar.url", "plain http:// is only allowed to a loopback host; use https://")
    return CalendarSettings(
        url=url,
        calendar=c.get(t, "calendar", "calendar", str, "Mentorship"),
        username=c.get(t, "username", "calendar", str) or "",
        secret=_secret(c, t, "calendar"),
        ca_file=_ca_file(c, t, "calendar", base),
    )


def _parse_followup(c: _Checker, data: dict[str, Any]) -> FollowupSettings:
    t = _table(c, data, "followup", required=False) or {}
    rounds = c.get(t, "rounds", "followup", int, 2)
    if isinstance(rounds, int) and not 0 <= rounds <= 5:
        c.add("followup.rounds", f"must be between 0 and 5, not {rounds}")
    wait = _duration(c, t, "wait", "followup", "14d")
    if wait < timedelta(days=1):
        c.add("followup.wait", "must be at least 1d; a mentor needs time to answer")
    return FollowupSettings(
        wait=wait,
        rounds=rounds if isinstance(rounds, int) else 2,
        closing_note=c.get(t, "closing_note", "followup", bool, True),
        business_days=c.get(t, "business_days", "followup", bool, False),
    )


def _parse_tracking(c: _Checker, data: dict[str, Any]) -> TrackingSettings:
    t = _table(c, data, "tracking", required=False) or {}
    keyword = c.get(t, "keyword", "tracking", str, "$MentorRequest")
    if keyword is not None and not re.match(r"^[^\s()\{%*\"\\\]]+$", keyword):
        c.add("tracking.keyword", f"{keyword!r} is not a valid IMAP keyword (no spaces or special characters)")
    return TrackingSettings(
        bcc=_email(c, "tracking.bcc", c.get(t, "bcc", "tracking", str, None)),
        keyword=keyword,
        since=_date(c, t, "since", "tracking"),
    )


def _parse_padding(c: _Checker, data: dict[str, Any]) -> Padding:
    t = _table(c, data, "padding", required=False) or {}
    factor = c.get(t, "factor", "padding", (int, float), 1.5)
    if not isinstance(factor, int | float) or not 1 <= factor <= 4:
        c.add("padding.factor", f"must be a number between 1 and 4, not {factor!r}")
        factor = 1.5
    round_to = c.get(t, "round_to", "padding", str, "week")
    if round_to not in ("day", "week"):
        c.add("padding.round_to", f"must be 'day' or 'week', not {round_to!r}")
        round_to = "week"
    return Padding(
        factor=float(factor),
        round_to=round_to,
        workdays_only=c.get(t, "workdays_only", "padding", bool, True),
    )


def _array_tables(c: _Checker, data: dict[str, Any], name: str) -> list[tuple[int, str, dict[str, Any]]]:
    """The [[name]] tables as (index, key prefix, table), each checked for unknown keys."""
    items = data.get(name, [])
    if not isinstance(items, list):
        c.add(name, f"must be written as [[{name}]] tables")
        return []
    out = []
    for i, table in enumerate(items):
        prefix = f"{name}[{i}]"
        if not isinstance(table, dict):
            c.add(prefix, "must be a table")
            continue
        c.unknown_keys(table, name, prefix)
        out.append((i, prefix, table))
    return out


def _parse_mentors(c: _Checker, data: dict[str, Any]) -> tuple[Mentor, ...]:
    mentors = []
    seen: dict[str, str] = {}
    for _i, prefix, t in _array_tables(c, data, "mentors"):
        emails = tuple(e for e in (_email(c, f"{prefix}.email", e) for e in _str_list(c, t, "email", prefix)) if e)
        if "email" not in t:
            c.add(f"{prefix}.email", "is required")
        for e in emails:
            if e.lower() in seen:
                c.add(f"{prefix}.email", f"{e} is already listed under {seen[e.lower()]}")
            seen[e.lower()] = prefix
        mentors.append(
            Mentor(
                name=c.get(t, "name", prefix, str) or "",
                emails=emails or ("unknown@invalid.example",),
                area=c.get(t, "area", prefix, str, ""),
                project=c.get(t, "project", prefix, str, ""),
                title=c.get(t, "title", prefix, str, ""),
                source=c.get(t, "source", prefix, str, ""),
                recommended_by=c.get(t, "recommended_by", prefix, str, ""),
                publications=_str_list(c, t, "publications", prefix),
            )
        )
    return tuple(mentors)


def _parse_contract(c: _Checker, data: dict[str, Any], mentors: tuple[Mentor, ...]) -> Contract | None:
    t = _table(c, data, "contract", required=False)
    if t is None:
        return None
    mentor = c.get(t, "mentor", "contract", str) or ""
    if mentor and not any(mentor.lower() in (e.lower() for e in m.emails) for m in mentors):
        c.add("contract.mentor", f"{mentor} is not the address of a configured [[mentors]] entry")
    start = _date(c, t, "start", "contract", required=True)
    review = _date(c, t, "review", "contract", required=True)
    if start and review and review <= start:
        c.add("contract.review", f"{review} must be after contract.start ({start})")
    every = _duration(c, t, "every", "contract", "4w")
    if not timedelta(days=7) <= every <= timedelta(weeks=26) or every.days % 7:
        c.add("contract.every", "must be whole weeks between 1w and 26w, like 4w")
    weekday = (c.get(t, "weekday", "contract", str, "tuesday") or "tuesday").lower()
    if weekday not in WEEKDAYS:
        c.add("contract.weekday", f"must be a day name like tuesday, not {weekday!r}")
        weekday = "tuesday"
    at = c.convert("contract.time", c.get(t, "time", "contract", str, "16:00"), _parse_time)
    duration = _duration(c, t, "duration", "contract", "30m")
    return Contract(
        mentor=mentor,
        start=start or date(2000, 1, 1),
        every=every,
        weekday=weekday,
        time=at or time(16, 0),
        duration=duration,
        review=review or date(2000, 1, 2),
        location=c.get(t, "location", "contract", str, ""),
        my_goals=_str_list(c, t, "my_goals", "contract"),
        my_expectations=_str_list(c, t, "my_expectations", "contract"),
        mentor_expectations=_str_list(c, t, "mentor_expectations", "contract"),
    )


def _parse_time(text: str) -> time:
    match = re.match(r"^(\d{1,2}):(\d{2})$", text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"{text!r} is not a time like 16:00")
    return time(int(match.group(1)), int(match.group(2)))


def _parse_goals(c: _Checker, data: dict[str, Any]) -> tuple[Goal, ...]:
    goals = []
    ids: set[str] = set()
    for i, prefix, t in _array_tables(c, data, "goals"):
        gid = c.get(t, "id", prefix, str) or f"goal-{i}"
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", gid):
            c.add(f"{prefix}.id", f"{gid!r} must be letters, digits, '-', '_' or '.'")
        if gid in ids:
            c.add(f"{prefix}.id", f"{gid!r} is used by another goal")
        ids.add(gid)
        estimate_text = c.get(t, "estimate", prefix, str, None)
        estimate = c.convert(f"{prefix}.estimate", estimate_text, parse_duration)
        goals.append(
            Goal(
                id=gid,
                title=c.get(t, "title", prefix, str) or gid,
                start=_date(c, t, "start", prefix, required=True) or date(2000, 1, 1),
                estimate=estimate,
                measure=c.get(t, "measure", prefix, str, ""),
                relevant=c.get(t, "relevant", prefix, str, ""),
                owner=c.get(t, "owner", prefix, str, "me"),
                promised=_date(c, t, "promised", prefix),
                done=_date(c, t, "done", prefix),
            )
        )
    return tuple(goals)


def validate_config(data: dict[str, Any], *, source: Path | None = None) -> Config:
    """Validate a parsed TOML document; raise ConfigError naming every problem's key."""
    c = _Checker()
    base = source.parent if source else Path.cwd()
    for key in data:
        if key not in _KEYS:
            close = difflib.get_close_matches(key, sorted(_KEYS), n=1)
            c.add(key, "unknown table" + (f" (did you mean [{close[0]}]?)" if close else ""))
    me = _parse_me(c, data)
    mail = _parse_mail(c, data, base)
    smtp = _parse_smtp(c, data, base)
    calendar = _parse_calendar(c, data, base)
    state = _table(c, data, "state", required=False) or {}
    state_text = c.get(state, "path", "state", str, None)
    state_path = (base / Path(state_text).expanduser()) if state_text else default_state_path()
    templates = _table(c, data, "templates", required=False) or {}
    templates_text = c.get(templates, "path", "templates", str, None)
    templates_dir = (base / Path(templates_text).expanduser()) if templates_text else None
    if templates_dir and not templates_dir.is_dir():
        c.add("templates.path", f"{templates_dir} is not a directory")
    mentors = _parse_mentors(c, data)
    config = Config(
        me=me,
        mail=mail,
        state_path=state_path,
        smtp=smtp,
        calendar=calendar,
        followup=_parse_followup(c, data),
        tracking=_parse_tracking(c, data),
        padding=_parse_padding(c, data),
        mentors=mentors,
        contract=_parse_contract(c, data, mentors),
        goals=_parse_goals(c, data),
        templates_dir=templates_dir,
        source=source,
    )
    if c.problems:
        raise ConfigError(c.problems, source=str(source) if source else "")
    return config
