"""What `init` knows about the common mail providers: servers, folders, sign-in, calendar.

Each fact comes from the provider's own published settings pages (Google's "Read Gmail
messages on other email clients using IMAP", Microsoft's "POP, IMAP, and SMTP settings for
Outlook.com", Apple's "iCloud Mail server settings for other email client apps" and
"Sign in to apps with your Apple Account using app-specific passwords", Fastmail's
"Server names and ports" and "App passwords", Yahoo's "Generate and manage third-party app
passwords", Google's "CalDAV API Developer's Guide"), cross-checked against the presets
mail clients ship (Thunderbird's ISPDB). Folder names are only a fallback: folders are
found by their SPECIAL-USE role first.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    """One provider's settings, as `init` writes them."""

    key: str
    label: str
    imap: tuple[str, int, str]  # host, port, security
    smtp: tuple[str, int, str]
    auth: str  # "xoauth2" | "password" (an app-specific password)
    sign_in: str  # how to get the password or token, step by step
    token_example: tuple[str, ...] = ()  # a token helper's command, for OAuth2 providers
    local_part_login: bool = False  # the IMAP login is the part before the @
    caldav: str | None = None  # the CalDAV URL to start discovery from; None: the provider has none
    tasks: bool = True  # whether its calendars take tasks (VTODO)
    folders: str = ""  # the folder names it uses, for the comment in the config
    calendar_note: str = ""


PRESETS: dict[str, Preset] = {
    "gmail": Preset(
        key="gmail",
        label="Gmail or Google Workspace",
        imap=("imap.gmail.com", 993, "tls"),
        smtp=("smtp.gmail.com", 465, "tls"),
        auth="xoauth2",
        sign_in=(
            "Google accepts only OAuth2 for IMAP, SMTP and CalDAV (or an app password, with 2-Step "
            "Verification on: Google Account > Security > 2-Step Verification > App passwords). With OAuth2, "
            "install a token helper such as oama (`oama authorize google YOU@gmail.com`, then "
            "`oama access YOU@gmail.com` prints a token) and give that command as token_command. For the "
            "calendar, the token must also carry the scope https://www.googleapis.com/auth/calendar, and "
            "the CalDAV API must be enabled for your OAuth client."
        ),
        token_example=("oama", "access"),
        caldav="https://apidata.googleusercontent.com/caldav/v2/",
        tasks=False,
        folders="[Gmail]/Sent Mail, [Gmail]/Drafts, [Gmail]/Trash, [Gmail]/All Mail (names differ by language)",
        calendar_note="Google Calendar takes no tasks and no new calendars over CalDAV: name an existing calendar.",
    ),
    "microsoft365": Preset(
        key="microsoft365",
        label="Microsoft 365 or Outlook.com",
        imap=("outlook.office365.com", 993, "tls"),
        smtp=("smtp.office365.com", 587, "starttls"),
        auth="xoauth2",
        sign_in=(
            "Microsoft accepts only OAuth2 (Modern Auth) for IMAP and SMTP. Register an app in Entra ID "
            "(or use a helper that has one), then a token helper such as oama "
            "(`oama authorize microsoft YOU@hospital.org --device`, then `oama access YOU@hospital.org`) "
            "prints a token: give that command as token_command. On Outlook.com, first turn IMAP on "
            "(Settings > Mail > Forwarding and IMAP). Outlook.com's SMTP host is smtp-mail.outlook.com."
        ),
        token_example=("oama", "access"),
        caldav=None,
        folders="Sent Items, Drafts, Deleted Items, Junk Email (names follow the mailbox's language)",
        calendar_note=(
            "Microsoft 365 and Outlook.com have no CalDAV. Keep the mentorship calendar on a CalDAV "
            "service that works beside them (Fastmail, Nextcloud, iCloud, or Radicale on a machine of "
            "yours) and subscribe to it from Outlook; or leave [calendar] out."
        ),
    ),
    "icloud": Preset(
        key="icloud",
        label="iCloud Mail",
        imap=("imap.mail.me.com", 993, "tls"),
        smtp=("smtp.mail.me.com", 587, "starttls"),
        auth="password",
        sign_in=(
            "iCloud needs an app-specific password (two-factor authentication must be on): sign in at "
            "account.apple.com > Sign-In and Security > App-Specific Passwords > Generate, name it "
            "mentor-assistant, and keep it in your password store (for example `pass insert mail/icloud`)."
        ),
        local_part_login=True,
        caldav="https://caldav.icloud.com/",
        tasks=False,
        folders="Sent Messages, Drafts, Deleted Messages, Junk",
        calendar_note="iCloud's upgraded Reminders are not CalDAV: deadlines go in as events only.",
    ),
    "fastmail": Preset(
        key="fastmail",
        label="Fastmail",
        imap=("imap.fastmail.com", 993, "tls"),
        smtp=("smtp.fastmail.com", 465, "tls"),
        auth="password",
        sign_in=(
            "Fastmail needs an app password (not on the Basic plan): Settings > Privacy & Security > "
            "Connected apps & API tokens > Manage app passwords (older menus: Integrations > New App "
            'Password), access "Mail, Contacts & Calendars", then Generate.'
        ),
        caldav="https://caldav.fastmail.com/",
        tasks=True,
        folders="Sent, Drafts, Trash, Spam, Archive",
    ),
    "yahoo": Preset(
        key="yahoo",
        label="Yahoo Mail",
        imap=("imap.mail.yahoo.com", 993, "tls"),
        smtp=("smtp.mail.yahoo.com", 465, "tls"),
        auth="password",
        sign_in=(
            "Yahoo needs an app password: Yahoo Account Security > External connections > Create app "
            "password, name it mentor-assistant, then Generate."
        ),
        caldav="https://caldav.calendar.yahoo.com/",
        tasks=True,
        folders="Sent, Draft, Trash, Bulk Mail, Archive",
    ),
    "other": Preset(
        key="other",
        label="another provider (your institution's server)",
        imap=("", 993, "tls"),
        smtp=("", 587, "starttls"),
        auth="password",
        sign_in=(
            "Use your mail password through a password store (`pass`, `secret-tool`, 1Password's `op "
            "read`…) as password_command, or the system keyring."
        ),
        caldav=None,
    ),
}

# What people call the providers, besides their keys.
_ALIASES = {
    "google": "gmail", "googlemail": "gmail", "workspace": "gmail", "google workspace": "gmail", "gsuite": "gmail",
    "microsoft": "microsoft365", "microsoft 365": "microsoft365", "office365": "microsoft365",
    "office 365": "microsoft365", "o365": "microsoft365", "outlook": "microsoft365", "outlook.com": "microsoft365",
    "hotmail": "microsoft365", "live": "microsoft365", "exchange online": "microsoft365",
    "apple": "icloud", "me.com": "icloud", "mac.com": "icloud", "ymail": "yahoo", "yahoo mail": "yahoo",
}  # fmt: skip
# Shell syntax in a password command: it needs a shell (`~`, `$VAR`, pipes, `&&`, redirections).
_SHELL = re.compile(r"[~$|&;<>`*?(){}]")


def provider_named(text: str) -> str | None:
    """The preset key a provider's name means (any case, common aliases), or None."""
    name = " ".join(text.split()).casefold()
    return name if name in PRESETS else _ALIASES.get(name)


def command_argv(text: str) -> tuple[str, ...]:
    """A password or token command as typed at a shell, as the argv the config stores.

    Plain words are split as a shell would; a command with shell syntax (`cat ~/.pw`,
    `gpg -dq ~/.pw.gpg | head -1`) runs through `sh -c`, so it works as typed."""
    text = text.strip()
    if _SHELL.search(text):
        return ("sh", "-c", text)
    return tuple(shlex.split(text))
