"""`init`: a first config for a real provider, asked for interactively or given as flags."""

from __future__ import annotations

from collections.abc import Callable

import click

from assistant.adapters import secrets
from assistant.cli.context import AppContext, pass_app
from assistant.config.checker import address_problem
from assistant.config.edit import set_calendar_name
from assistant.config.files import system_timezone, zone_ok
from assistant.config.init import InitAnswers, write_initial_config
from assistant.config.providers import PRESETS, command_argv, provider_named
from assistant.config.validate import is_loopback
from assistant.errors import AssistantError, UsageError


def _server(text: str | None, default_port: int, security: str) -> tuple[str, int, str] | None:
    if not text:
        return None
    host, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    if not port:
        host, port = text, str(default_port)
    if not port.isdigit() or not 0 < int(port) < 65536 or not host:
        raise UsageError(f"{text!r} is not HOST or HOST:PORT", fix="Give the server like imap.hospital.org or "
                         "imap.hospital.org:993.")  # fmt: skip
    return host, int(port), security


def _blank_is_none(value: str | None) -> str | None:
    return (value.strip() or None) if value else None


@click.command()
@click.option("--provider", help=f"Your mail provider: {', '.join(sorted(PRESETS))} (other: any IMAP server).")
@click.option("--name", help="Your name, as mentors see it.")
@click.option("--email", help="Your e-mail address.")
@click.option("--role", help='What you are, for first e-mails: "first-year internal medicine resident".')
@click.option("--timezone", help="Your time zone, like America/Denver (default: this machine's).")
@click.option("--password-command", help="A command that prints the password (or, for Gmail and Microsoft 365, "
              "an OAuth2 access token), like 'pass show mail/work'.")  # fmt: skip
@click.option("--keyring", is_flag=True, help="Take the password from the system keyring instead.")
@click.option("--calendar-url", help="Your CalDAV calendar's address (default: the provider's, where it has one).")
@click.option("--imap-host", metavar="HOST[:PORT]", help="The IMAP server (for --provider other).")
@click.option("--smtp-host", metavar="HOST[:PORT]", help="The SMTP server for the digest (optional).")
@click.option("--security", type=click.Choice(["tls", "starttls", "plain"]), default="tls", show_default=True,
              help="How to reach --imap-host (plain only to this machine).")  # fmt: skip
@click.option("--non-interactive", is_flag=True, help="Ask nothing: take the flags, and fail on what is missing.")
@click.option("--offline", is_flag=True, help="Do not log in to check the servers afterwards.")
@click.option("--force", is_flag=True, help="Replace an existing config file.")
@pass_app
def init(app: AppContext, provider: str | None, name: str | None, email: str | None, role: str | None,
         timezone: str | None, password_command: str | None, keyring: bool, calendar_url: str | None,
         imap_host: str | None, smtp_host: str | None, security: str, non_interactive: bool, offline: bool,
         force: bool) -> None:  # fmt: skip
    """Write a first config (mode 0600) for your provider, then check it by logging in.

    Asks for what it needs unless --non-interactive; never overwrites a config without --force."""
    path = app.config_path
    if path.exists() and not force:
        raise UsageError(f"{path} exists already", fix="Keep it, or add --force to replace it.")

    calendar_url, smtp_host, imap_host = (_blank_is_none(v) for v in (calendar_url, smtp_host, imap_host))
    password_command = (password_command or "").strip() or None

    def ask(value: str | None, prompt: str, default: str | None = None, option: str = "",
            check: Callable[[str], str | None] = lambda _v: None, fix: str = "") -> str:  # fmt: skip
        """The flag's value, else the answer to `prompt`: asked again after a wrong answer."""
        if value is not None and value.strip():
            value = value.strip()
            problem = check(value)
            if problem:
                raise UsageError(problem, fix=fix)
            return value
        if non_interactive:
            if default is not None:
                return default
            raise UsageError(f"{option} is missing", fix=f"Give {option}, or leave out --non-interactive.")
        while True:
            answer = str(click.prompt(prompt, default=default)).strip()
            problem = check(answer) if answer else f"{option.removeprefix('--')} is needed"
            if not problem:
                return answer
            click.echo(f"{problem}. {fix}", err=True)

    def provider_problem(text: str) -> str | None:
        return None if provider_named(text) else f"no provider {text!r}"

    named = provider_named(ask(provider, f"Mail provider ({', '.join(sorted(PRESETS))})", "other", "--provider",
                               provider_problem, f"Use one of: {', '.join(sorted(PRESETS))}."))  # fmt: skip
    assert named is not None  # checked by ask()
    provider, preset = named, PRESETS[named]
    name = ask(name, "Your name", None, "--name")
    email = ask(email, "Your e-mail address", None, "--email", address_problem,
                "Give it like alex.rivera@hospital.org.")  # fmt: skip
    role = ask(role, "What you are (for first e-mails)", "resident", "--role")
    timezone = ask(timezone, "Your time zone", system_timezone(), "--timezone",
                   lambda z: None if zone_ok(z) else f"{z!r} is not a time zone",
                   "Give a name like America/Denver or Europe/Berlin.")  # fmt: skip
    if provider == "other":
        imap_host = ask(imap_host, "IMAP server (HOST or HOST:PORT)", None, "--imap-host")
    if not non_interactive:
        click.echo(f"\n{preset.sign_in}\n")
    if password_command and keyring:
        raise UsageError("--password-command and --keyring name two ways to the password",
                         fix="Give one of them.")  # fmt: skip
    if keyring and preset.auth == "xoauth2":
        raise UsageError(f"{provider} signs in with an OAuth2 token, not a stored password",
                         fix="Give --password-command with a command that prints a fresh token (see `init` "
                         "without --non-interactive for the steps), or leave both out.")  # fmt: skip
    if not password_command and not keyring and not non_interactive:
        if preset.auth == "xoauth2":
            example = " ".join([*preset.token_example, email])
            password_command = click.prompt(f"A command that prints an OAuth2 access token (empty: {example})",
                                            default="", show_default=False).strip() or None  # fmt: skip
        else:
            password_command = click.prompt("A command that prints the password (empty: use the system keyring)",
                                            default="", show_default=False).strip() or None  # fmt: skip
            keyring = password_command is None
    if preset.caldav is None and not calendar_url and not non_interactive:
        click.echo(preset.calendar_note or "Your provider has no CalDAV calendar known to mentor-assistant.")
        answer = click.prompt("A CalDAV calendar URL (empty: none)", default="", show_default=False)
        calendar_url = _blank_is_none(answer)
    port = 993 if security == "tls" else 143
    if security == "plain":
        hosts = [h for h in (imap_host, smtp_host, preset.imap[0] if preset.imap else None) if h]
        remote = [h for h in hosts if not is_loopback(h.rsplit(":", 1)[0] if h.count(":") == 1 else h)]
        if remote:
            raise UsageError(
                f"--security plain would send your password unencrypted to {remote[0]}",
                fix="Use --security tls or starttls; plain is only for a server on this machine.",
            )
    try:
        argv = command_argv(password_command) if password_command else ()
    except ValueError as exc:  # an unclosed quote
        raise UsageError(f"--password-command {password_command!r}: {exc}", fix="Close the quotes.") from None
    answers = InitAnswers(
        provider=provider, name=name, email=email, role=role, timezone=timezone,
        password_command=argv, keyring=keyring,
        calendar_url=calendar_url, imap=_server(imap_host, port, security),
        smtp=_server(smtp_host, 465 if security == "tls" else 587, "tls" if security == "tls" else security),
    )  # fmt: skip
    config = write_initial_config(path, answers, force=force)
    click.echo(f"Wrote {path} (readable by you only).")
    if preset.calendar_note and (non_interactive or preset.caldav is not None):
        click.echo(preset.calendar_note)  # (asked about above otherwise)
    if offline:
        click.echo(f"Next: `{app.command('check-config')}` logs in and shows what it found.")
        return
    from assistant.adapters.caldav import list_calendars
    from assistant.mailbox import open_mailbox

    with open_mailbox(config) as mailbox:
        folders = mailbox.detect_folders()
    click.echo(f"IMAP: logged in; Sent is {folders.sent!r}, Drafts {folders.drafts!r}, Trash {folders.trash!r}.")
    if config.calendar is None:
        return
    cal = config.calendar
    try:
        found = list_calendars(cal, secrets.resolve(cal.secret, username=cal.username, host=cal.url))
    except AssistantError as exc:
        click.echo(f"CalDAV: {exc}. {exc.advice()}")
        return
    names = [n for n, _url in found if n]
    click.echo("CalDAV: logged in; calendars: " + (", ".join(repr(n) for n in names) or "none yet"))
    if names and not non_interactive:
        choice = click.prompt("Which calendar should hold your goals and check-ins? (a new name creates it)",
                              default=cal.calendar if cal.calendar in names else names[0])  # fmt: skip
        if choice != cal.calendar:
            set_calendar_name(path, choice)
            click.echo(f"The calendar is {choice!r}.")
