"""`demo`: the whole loop on throwaway loopback servers over a simulated five weeks.

A first-year resident writes to three hematology/oncology faculty: one answers with
interest, one is away, one stays silent; a goal "First draft of the QI proposal" is
estimated at two weeks. The real code path (`run_cycle`) runs at each step of the story
with the simulated time, against real servers; nothing leaves this machine.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import shlex
import shutil
import signal
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import imapclient

from assistant import clock
from assistant.adapters.store import Store
from assistant.config import load_config
from assistant.config.edit import update_goal
from assistant.core.review import render_review
from assistant.core.settings import WEEKDAYS
from assistant.cycle import run_cycle
from assistant.demo.servers.smtp_sink import SmtpSink
from assistant.errors import EX_OK, EX_UNAVAILABLE
from assistant.template_files import load_templates

log = logging.getLogger(__name__)

TZ = "America/Denver"
USER = "alex.rivera@example.edu"
PASSWORD = "demo-password"
FACULTY = {
    "smith": ("Dr. Jane Smith", "jsmith@hospital.example", "inpatient anticoagulation"),
    "patel": ("Dr. Raj Patel", "rpatel@hospital.example", "transfusion thresholds"),
    "chen": ("Dr. Maria Chen", "mchen@hospital.example", "anemia in hospitalized patients"),
}


@dataclass
class Servers:
    imap_kind: str
    imap_host: str
    imap_port: int
    caldav_url: str
    smtp: SmtpSink
    stops: list[Callable[[], None]]

    def stop(self) -> None:
        for stop in reversed(self.stops):
            with contextlib.suppress(Exception):
                stop()


def start_servers(imap: str = "auto") -> Servers:
    """Dovecot when installed (or asked for), else pymap; Radicale for CalDAV."""
    from assistant.demo.servers.caldav_servers import start_radicale
    from assistant.demo.servers.dovecot import dovecot_available, start_dovecot
    from assistant.demo.servers.pymap_server import pymap_available, start_pymap
    from assistant.demo.servers.smtp_sink import start_smtp_sink

    stops: list[Callable[[], None]] = []
    try:
        if imap == "dovecot" or (imap == "auto" and dovecot_available()):
            dovecot = start_dovecot(username=USER, password=PASSWORD)
            stops.append(dovecot.stop)
            kind, host, port = "Dovecot", dovecot.host, dovecot.port
        elif pymap_available():
            if imap == "auto" and shutil.which("dovecot"):
                click.echo("Dovecot is installed without its IMAP server (dovecot-imapd); using pymap instead.")
            pymap = start_pymap(username=USER, password=PASSWORD)
            stops.append(pymap.stop)
            kind, host, port = "pymap (in memory)", pymap.host, pymap.port
        else:
            raise RuntimeError(
                "no IMAP server: install Dovecot (dovecot-imapd) or `pip install 'mentor-assistant[demo]'`"
            )
        radicale = start_radicale(username="alex", password=PASSWORD)
        stops.append(radicale.stop)
        smtp = start_smtp_sink()
        stops.append(smtp.stop)
    except BaseException:
        for stop in stops:
            stop()
        raise
    return Servers(kind, host, port, radicale.url, smtp, stops)


def _agreement_text(start: datetime) -> str:
    """What the resident adds after the first meeting with Dr. Smith: the contract and a goal."""
    return textwrap.dedent(f"""
        [contract]
        mentor = "{FACULTY["smith"][1]}"
        start = {start.date().isoformat()}
        every = "2w"
        weekday = "{WEEKDAYS[(start + timedelta(days=1)).weekday()]}"
        time = "16:00"
        duration = "30m"
        location = "Heme/Onc conference room"
        review = {(start + timedelta(days=13 * 7)).date().isoformat()}
        my_goals = ["a first-author QI abstract on inpatient anticoagulation"]
        my_expectations = ["feedback on drafts within a week"]
        mentor_expectations = ["I bring an agenda to every check-in"]
        mentor_goals = ["present the project at the regional meeting"]
        outcome = ["a first-author abstract"]

        [[goals]]
        id = "qi-proposal"
        title = "First draft of the QI proposal"
        measure = "a 3-5 page draft sent to Dr. Smith"
        relevant = "inpatient anticoagulation QI project"
        owner = "me"
        start = {start.date().isoformat()}
        estimate = "2w"
        """)


def _config_text(servers: Servers, state: Path, start: datetime) -> str:
    mentors = "".join(
        textwrap.dedent(f"""
        [[mentors]]
        name = "{name}"
        email = ["{email}"]
        area = "hematology/oncology"
        project = "{project}"
        """)
        for name, email, project in FACULTY.values()
    )
    return (
        textwrap.dedent(f"""\
        # Written by `mentor-assistant demo`: throwaway servers on this machine only.
        [me]
        name = "Alex Rivera"
        email = "{USER}"
        role = "first-year internal medicine resident"
        timezone = "{TZ}"

        [mail]
        host = "{servers.imap_host}"
        port = {servers.imap_port}
        security = "plain"
        username = "{USER}"
        password = "{PASSWORD}"

        [smtp]
        host = "{servers.smtp.host}"
        port = {servers.smtp.port}
        security = "plain"
        username = "{USER}"
        password = "{PASSWORD}"
        digest = "weekly mon 07:30"

        [calendar]
        url = "{servers.caldav_url}"
        calendar = "Mentorship"
        username = "alex"
        password = "{PASSWORD}"

        [state]
        path = "{state}"

        [tracking]
        since = {start.date().isoformat()}

        """)
        + mentors
    )


class Story:
    """The resident's side of the story: what they send, what arrives, what they do."""

    def __init__(self, servers: Servers) -> None:
        self.servers = servers

    @contextlib.contextmanager
    def client(self) -> Iterator[imapclient.IMAPClient]:
        client = imapclient.IMAPClient(self.servers.imap_host, port=self.servers.imap_port, ssl=False, timeout=30)
        client.login(USER, PASSWORD)
        try:
            yield client
        finally:
            client.logout()

    def ensure_folders(self) -> None:
        with self.client() as c:
            existing = {name for _f, _s, name in c.list_folders()}
            for folder in ("Sent", "Drafts", "Trash"):
                if folder not in existing:
                    c.create_folder(folder)

    def deliver(self, folder: str, when: datetime, **headers: str) -> None:
        body = headers.pop("body")
        msg = EmailMessage()
        for key, value in headers.items():
            msg[key.replace("_", "-")] = value
        msg["Date"] = format_datetime(when)
        msg.set_content(body)
        with self.client() as c:
            c.append(folder, msg.as_bytes(), flags=[b"\\Seen"] if folder == "Sent" else [], msg_time=when)

    def send_draft_to(self, address: str, when: datetime) -> str:
        """What a mail client does when the resident sends our draft: Sent gets it, Drafts loses it."""
        with self.client() as c:
            c.select_folder("Drafts")
            for uid, data in c.fetch(c.search(["ALL"]), ["BODY.PEEK[]"]).items():
                raw = data[b"BODY[]"]
                msg = message_from_bytes(raw, policy=policy.default)
                if address in str(msg["To"]):
                    del msg["Date"]
                    msg["Date"] = format_datetime(when)
                    c.append("Sent", msg.as_bytes(), flags=[b"\\Seen"], msg_time=when)
                    c.select_folder("Drafts")
                    c.add_flags([uid], [b"\\Deleted"])
                    c.expunge()
                    return str(msg["Subject"])
        return ""

    def draft_text(self, address: str) -> str:
        with self.client() as c:
            c.select_folder("Drafts", readonly=True)
            for data in c.fetch(c.search(["ALL"]), ["BODY.PEEK[]"]).values():
                msg = message_from_bytes(data[b"BODY[]"], policy=policy.default)
                if address in str(msg["To"]):
                    head = "\n".join(f"{k}: {msg[k]}" for k in ("From", "To", "Subject", "In-Reply-To"))
                    body = msg.get_body(preferencelist=("plain",))
                    return head + "\n\n" + (body.get_content() if body is not None else "")
        return ""


def _fmt(moment: datetime) -> str:
    return f"{moment:%a %b} {moment.day}, {moment:%H:%M}"


def _fmt_day(day: date) -> str:
    return f"{day:%a %b} {day.day}"


def _indent(text: str, prefix: str = "    │ ") -> str:
    return "\n".join(prefix + line for line in text.rstrip().splitlines())


def run_demo(*, keep: bool = False, imap: str = "auto", echo: Callable[[str], Any] = click.echo) -> int:
    """Play the story; returns an exit code."""
    started = time.monotonic()
    missing = [name for name in ("radicale", "aiosmtpd") if importlib.util.find_spec(name) is None]
    if missing:
        echo(
            f"The demo needs its local servers ({', '.join(missing)} missing): install them with "
            "`pipx install '.[demo]'` (or `pipx inject mentor-assistant radicale aiosmtpd pymap`)."
        )
        return EX_UNAVAILABLE
    try:
        servers = start_servers(imap)
    except (RuntimeError, OSError) as exc:
        echo(f"The demo could not start its servers: {exc}")
        return EX_UNAVAILABLE
    workdir = Path(tempfile.mkdtemp(prefix="mentor-assistant-demo-"))
    try:
        return _play(servers, workdir, keep=keep, echo=echo, started=started)
    finally:
        servers.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _play(servers: Servers, workdir: Path, *, keep: bool, echo: Callable[[str], Any], started: float) -> int:
    tz = ZoneInfo(TZ)
    # The story ends today, so a mail client or calendar app connected with --keep shows it
    # where it belongs: five weeks ago until now.
    today = clock.now().astimezone(tz).replace(hour=9, minute=0, second=0, microsecond=0)
    monday = today - timedelta(days=35)
    config_path = workdir / "config.toml"
    config_path.write_text(_config_text(servers, workdir / "state.json", monday))
    config_path.chmod(0o600)  # it holds the demo's password
    config = load_config(config_path)
    configs = [config]  # the config as the resident edits it along the way
    story = Story(servers)
    story.ensure_folders()
    echo(f"mentor-assistant demo: IMAP by {servers.imap_kind}, CalDAV by Radicale, SMTP by aiosmtpd, all on 127.0.0.1.")
    echo(f"Simulated time starts {_fmt(monday - timedelta(minutes=30))} ({TZ}); five weeks follow, ending today.\n")

    def day(n: int, hour: int = 9, minute: int = 0) -> datetime:
        return monday + timedelta(days=n, hours=hour - 9, minutes=minute)

    def cycle(at: datetime) -> None:
        result = run_cycle(configs[-1], now=at)
        report = result.report
        assert report is not None
        for line in report.done:
            echo(f"    assistant: {line}")
        for line in report.notes:
            echo(f"    assistant (note): {line}")
        if not report.done and not report.notes:
            echo("    assistant: nothing to do")
        records = Store(config.state_path).read().requests.values()
        for record in sorted(records, key=lambda r: r.mentor):
            echo(f"      {record.mentor:<26} {record.state:<11} {record.why}")

    smith, patel, chen = FACULTY["smith"], FACULTY["patel"], FACULTY["chen"]
    echo(f"── {_fmt(day(0, 8, 30))}  You write to three faculty members.")
    for name, email, project in (smith, patel, chen):
        story.deliver(
            "Sent", day(0, 8, 30), From=f"Alex Rivera <{USER}>", To=f"{name} <{email}>",
            Subject=f"Mentorship on {project}?", Message_ID=f"<{email.split('@')[0]}-1@example.edu>",
            body=f"Dear {name},\n\nI am a first-year internal medicine resident hoping to work on {project}. "
            "Would you have 20 minutes to talk about it?\n\nBest regards,\nAlex Rivera\n",
        )  # fmt: skip
    cycle(day(0))

    back = day(15)
    if servers.smtp.messages:
        echo("\n    This week's digest, sent to you (and only you):")
        echo(_indent(_digest_text(servers.smtp.messages[-1].data)))

    echo(f"\n── {_fmt(day(0, 11))}  {patel[0]}'s out-of-office reply arrives.")
    story.deliver(
        "INBOX", day(0, 11), From=f"{patel[0]} <{patel[1]}>", To=USER, Subject="Automatic reply: Mentorship",
        Message_ID="<ooo-1@hospital.example>", In_Reply_To="<rpatel-1@example.edu>", Auto_Submitted="auto-replied",
        body=f"I am away until {back:%B} {back.day} with limited access to e-mail.\n",
    )  # fmt: skip
    cycle(day(0, 11, 5))

    echo(f"\n── {_fmt(day(3, 14))}  {smith[0]} answers with interest.")
    story.deliver(
        "INBOX", day(3, 14), From=f"{smith[0]} <{smith[1]}>", To=USER, Subject="Re: Mentorship on anticoagulation?",
        Message_ID="<smith-reply@hospital.example>", In_Reply_To="<jsmith-1@example.edu>",
        References="<jsmith-1@example.edu>", body="Alex, happy to help. Come by Thursday at 4.\n\nJane\n",
    )  # fmt: skip
    cycle(day(3, 14, 5))

    echo(f"\n── {_fmt(day(7, 17))}  You meet {smith[0]}: you agree a mentorship contract and a first goal.")
    echo("    you: add [contract] and a [[goals]] entry to the config (`mentor-assistant goal add` does goals)")
    with config_path.open("a", encoding="utf-8") as f:
        f.write(_agreement_text(day(7)))
    configs.append(load_config(config_path))
    cycle(day(7, 17, 5))

    echo(f"\n── {_fmt(day(11, 17))}  You finish the QI proposal draft, before your own aim.")
    echo("    you: mentor-assistant goal done qi-proposal")
    configs.append(update_goal(config_path, "qi-proposal", {"done": day(11).date()}))
    cycle(day(11, 17, 5))

    echo(f"\n── {_fmt(day(14))}  Two weeks of silence; {patel[0]} is still away.")
    cycle(day(14))
    echo("\n    The follow-up draft waiting in Drafts for Dr. Chen:")
    echo(_indent(story.draft_text(chen[1])))

    echo(f"\n── {_fmt(day(15, 10))}  You review the draft to {chen[0]} and send it from your mail client.")
    story.send_draft_to(chen[1], day(15, 10))
    cycle(day(15, 10, 5))

    echo(f"\n── {_fmt(day(16))}  {patel[0]} has been back a workday: now the follow-up is drafted.")
    cycle(day(16))

    echo(f"\n── {_fmt(day(17, 8))}  {patel[0]} replies before you send it.")
    story.deliver(
        "INBOX", day(17, 8), From=f"{patel[0]} <{patel[1]}>", To=USER, Subject="RE: Mentorship on transfusion",
        Message_ID="<patel-reply@hospital.example>", In_Reply_To="<rpatel-1@example.edu>",
        body="Sorry for the delay, I was away. Let's find a time next week.\n",
    )  # fmt: skip
    cycle(day(17, 8, 5))

    echo(f"\n── {_fmt(day(29, 11))}  Still nothing from {chen[0]}, two weeks after your follow-up.")
    cycle(day(29, 11))
    echo("\n    The second follow-up draft:")
    echo(_indent(story.draft_text(chen[1])))

    echo(f"\n── {_fmt(day(35))}  Five weeks in: the weekly digest.")
    cycle(day(35))
    echo(f"\n── {_fmt(day(35, 10))}  An hour later: a cycle with nothing new changes nothing.")
    cycle(day(35, 10))
    _show_calendar(config.calendar.url if config.calendar else "", echo)
    final = configs[-1]
    (relationship,) = final.settings.contracts
    echo(
        f"\n    The review with {smith[0]} is on {_fmt_day(relationship.review)}; from a week before, the digest "
        "carries its packet. What `mentor-assistant contract review` prints today:"
    )
    templates = load_templates(final.templates_dir)
    echo(_indent(render_review(templates, "md", final.settings, relationship, now=day(35, 10)).rstrip()))
    to_others = [r for m in servers.smtp.messages for r in m.recipients if r.lower() != USER]
    echo(
        f"\n    Mail the assistant sent through SMTP: {len(servers.smtp.messages)} message(s), "
        f"{len(to_others)} to anyone but you. Every follow-up stayed a draft for you to send."
    )
    echo(f"\nThe demo took {time.monotonic() - started:.1f} s of real time.")
    if keep:
        _keep_running(servers, workdir, echo)
    return EX_OK


def _digest_text(raw: bytes) -> str:
    msg = message_from_bytes(raw, policy=policy.default)
    body = msg.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return f"Subject: {msg['Subject']}\n\n{text}"


def _show_calendar(url: str, echo: Callable[[str], Any]) -> None:
    from caldav.davclient import DAVClient
    from icalendar import Calendar

    client = DAVClient(url=url, username="alex", password=PASSWORD, timeout=30)
    principal: Any = client.principal()  # type: ignore[no-untyped-call]
    calendar = next(c for c in principal.calendars() if c.get_display_name() == "Mentorship")
    echo("\n    The Mentorship calendar now holds:")
    entries: list[tuple[date, str, str]] = []
    for obj in calendar.objects(load_objects=True):
        for event in Calendar.from_ical(obj.data).walk("VEVENT"):
            if event.get("recurrence-id") is not None:
                continue  # the next check-in's agenda: shown with its series
            start = event.decoded("dtstart")
            when = "(all day)" if not isinstance(start, datetime) else f"{start:%H:%M}" + (
                ", repeating" if event.get("rrule") else "")  # fmt: skip
            day = start.date() if isinstance(start, datetime) else start
            entries.append((day, when, str(event.get("summary"))))
    for day, when, summary in sorted(entries):
        echo(f"      {day:%a %b} {day.day}, {day.year}  {when}  {summary}")


def _keep_running(servers: Servers, workdir: Path, echo: Callable[[str], Any]) -> None:
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda _signum, _frame: stopping.set())  # stopped like Ctrl-C: servers, files
    echo(
        textwrap.dedent(f"""
        The servers stay up until you press Ctrl-C.
          Mail client (IMAP):  host 127.0.0.1, port {servers.imap_port}, no encryption,
                               user {USER}, password {PASSWORD}
          Calendar app:        CalDAV {_calendar_url(workdir) or servers.caldav_url}  (user alex, any password)
          SMTP (kept, never delivered): 127.0.0.1 port {servers.smtp.port}
          Config and state:    {workdir}
          Try:                 {_command()} --config {workdir / "config.toml"} status
        """)
    )
    try:
        while not stopping.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    echo("Stopping the servers.")


def _calendar_url(workdir: Path) -> str:
    """The Mentorship calendar's own URL, as the cycles found it."""
    return Store(workdir / "state.json").read().meta.calendar.url or ""


def _command() -> str:
    """How to run this very mentor-assistant, as typed in a shell (it may not be on PATH)."""
    beside = Path(sys.argv[0]).resolve().parent / "mentor-assistant"
    found = shutil.which("mentor-assistant")
    if found and Path(found).resolve() == beside.resolve():
        return "mentor-assistant"
    if beside.exists():
        return shlex.quote(str(beside))
    return f"{shlex.quote(sys.executable)} -m assistant"
