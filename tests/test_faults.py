"""Faults: SIGKILL at random points, IMAP connections killed over and over, a CalDAV
server behind a faulty proxy. CI runs the short mode; MENTOR_ASSISTANT_LONG=1 the long one."""

from __future__ import annotations

import email
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from datetime import datetime, timedelta
from email import policy

import pytest

from assistant.adapters.store import Store
from tests.conftest import MailUser, budget, make_message, write_config
from tests.faultproxy import FaultProxy
from tests.test_end_to_end import NOW, cli

pytestmark = [pytest.mark.integration, pytest.mark.soak]
MENTORS = textwrap.dedent("".join(
    f'\n[[mentors]]\nname = "Dr. M{i}"\nemail = ["m{i}@hospital.org"]\n' for i in range(10)
))  # fmt: skip


def retrying(action, tries: int = 20):
    """Test-side IMAP calls may meet a killed connection too: try again."""
    for attempt in range(tries):
        try:
            return action()
        except Exception:
            if attempt == tries - 1:
                raise
            time.sleep(0.3)
    return None


def seed_requests(user: MailUser, count: int, when: datetime) -> None:
    for i in range(count):
        user.append("Sent", make_message(sender=user.username, to=[f"m{i}@hospital.org"], subject=f"Mentorship {i}",
                    when=when, message_id=f"<req{i}@example.edu>"), when=when)  # fmt: skip


def reply(user: MailUser, i: int, when: datetime) -> None:
    raw = make_message(sender=f"m{i}@hospital.org", to=[user.username], subject=f"Re: Mentorship {i}", when=when,
                       message_id=f"<reply{i}@h>", in_reply_to=f"<req{i}@example.edu>")  # fmt: skip
    retrying(lambda: user.append("INBOX", raw, when=when))


def our_drafts(user: MailUser) -> list[email.message.EmailMessage]:
    found = retrying(lambda: user.messages("Drafts"))
    return [email.message_from_bytes(m[b"BODY[]"], policy=policy.default) for m in found.values()]


def test_sigkill_at_random_points(mail_user, tmp_path):
    cycles = budget(10, 200)
    rng = random.Random(20261124)
    seed_requests(mail_user, 10, NOW - timedelta(days=15))
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None, mentors=MENTORS)
    replied: set[int] = set()
    killed = 0
    for cycle in range(cycles):
        now = NOW + timedelta(hours=cycle)
        if rng.random() < 0.3 and len(replied) < 10:
            i = rng.choice(sorted(set(range(10)) - replied))
            reply(mail_user, i, now - timedelta(minutes=1))
            replied.add(i)
        env = {**os.environ, "MENTOR_ASSISTANT_NOW": now.isoformat()}
        proc = subprocess.Popen([sys.executable, "-m", "assistant", "--config", str(config), "once"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            proc.wait(timeout=rng.uniform(0.05, 1.5))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed += 1
        Store(tmp_path / "state.json").read()  # loads every time (a torn file would raise or be empty)
        json.loads((tmp_path / "state.json").read_text()) if (tmp_path / "state.json").exists() else None
    end = NOW + timedelta(hours=cycles)
    code, out = cli(config, "once", now=end)
    assert code == 0, out
    drafts = our_drafts(mail_user)
    per_round = Counter(m["X-Mentor-Assistant"] for m in drafts)
    assert all(n == 1 for n in per_round.values()), per_round  # 0 duplicate drafts
    doc = json.loads(cli(config, "status", "--json", now=end)[1])
    states = {r["message_id"]: r["state"] for r in doc["requests"]}
    assert len(states) == 10  # 0 lost requests
    for i in replied:
        assert states[f"<req{i}@example.edu>"] == "replied"
    answered = {f"m{i}@hospital.org" for i in replied}
    left = [m for m in drafts if m["To"].addresses[0].addr_spec in answered]
    assert left == []  # 0 drafts left for answered requests
    print(f"\n{cycles} cycles, {killed} killed mid-way, {len(replied)} replies, {len(drafts)} drafts, 0 duplicates")


def test_imap_connections_killed_again_and_again_while_replies_arrive(mail_user, tmp_path):
    duration = budget(10, 600)
    sent = datetime.now().astimezone() - timedelta(days=15)
    seed_requests(mail_user, 10, sent)
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None, mentors=MENTORS)
    text = (
        config.read_text()
        .replace("idle = false", "idle = true")
        .replace('poll_interval = "1m"', 'poll_interval = "1h"')
    )
    config.write_text(text.replace("since = 2026-10-01", f"since = {(sent - timedelta(days=1)).date()}"))
    env = {k: v for k, v in os.environ.items() if k != "MENTOR_ASSISTANT_NOW"}
    daemon = subprocess.Popen([sys.executable, "-m", "assistant", "--config", str(config), "run"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(our_drafts(mail_user)) < 10:
            assert time.monotonic() < deadline, "the daemon never drafted the due follow-ups"
            time.sleep(0.5)
        started, kills, sent_replies = time.monotonic(), 0, 0
        next_reply = started
        while time.monotonic() - started < duration:
            kills += mail_user.server.kill_imap_processes()
            if time.monotonic() >= next_reply and sent_replies < 10:
                reply(mail_user, sent_replies, datetime.now().astimezone())
                sent_replies += 1
                next_reply = time.monotonic() + duration / 12
            time.sleep(random.uniform(1.0, 3.0))
        while sent_replies < 10:
            reply(mail_user, sent_replies, datetime.now().astimezone())
            sent_replies += 1
        faults_stopped = time.monotonic()
        while our_drafts(mail_user):
            assert time.monotonic() - faults_stopped < 30, "not caught up within 30 s of the server returning"
            time.sleep(0.5)
        caught_up = time.monotonic() - faults_stopped
        daemon.send_signal(signal.SIGTERM)
        err = daemon.communicate(timeout=20)[1]
        assert daemon.returncode == 0, err[-2000:]
        print(f"\n{duration} s of faults, {kills} imap processes killed, 10 replies, all acted on "
              f"{caught_up:.1f} s after the faults stopped")  # fmt: skip
    finally:
        if daemon.poll() is None:
            daemon.kill()


GOALS = "".join(
    f'\n[[goals]]\nid = "g{i}"\ntitle = "Goal number {i}"\nmeasure = "m"\nstart = 2026-11-24\nestimate = "{i + 1}w"\n'
    for i in range(5)
)


def test_a_faulty_caldav_server_converges_without_duplicates(mail_user, radicale, tmp_path):
    cycles = budget(6, 60)
    user = mail_user.username.split("@")[0]
    with FaultProxy(radicale.url, rate=0.15) as proxy:
        proxied = type(radicale)(radicale.kind, radicale.base, radicale.port, proxy.url, "", user, "x", radicale._proc)
        config = write_config(tmp_path / "config.toml", user=mail_user, calendar=proxied, cal_user=user, goals=GOALS)
        failures = 0
        for cycle in range(cycles):
            if cycle % 4 == 3:  # the goals change now and then
                text = config.read_text()
                config.write_text(text.replace('estimate = "1w"', 'estimate = "8d"') if '"1w"' in text
                                  else text.replace('estimate = "8d"', 'estimate = "1w"'))  # fmt: skip
            code, _out = cli(config, "once", now=NOW + timedelta(minutes=cycle))
            failures += code != 0
        proxy.rate = 0.0
        for extra in range(3):
            code, out = cli(config, "once", now=NOW + timedelta(minutes=cycles + extra))
            assert code == 0, out
        assert "Nothing to do." in out, out
        from caldav.davclient import DAVClient

        client = DAVClient(url=radicale.url, username=user, password="x")
        calendar = next(c for c in client.principal().calendars() if c.get_display_name() == "Mentorship")
        uids = Counter()
        for obj in calendar.objects(load_objects=True):
            if obj.data:
                uids[obj.data.replace("\r\n ", "").split("UID:")[1].split("\r\n")[0].split("\n")[0]] += 1
        assert len(uids) == 15 and set(uids.values()) == {1}, uids  # 5 goals x 3 objects, no duplicates
        print(f"\n{cycles} cycles through the fault proxy ({dict(proxy.injected)}), {failures} failed cycles; "
              "converged, 0 duplicates")  # fmt: skip
