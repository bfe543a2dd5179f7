"""Editing our draft in a mail client keeps the nudge pending, in every client's style.

Mail clients re-save an edited draft as a new message: a new Message-ID, their own
headers, our private header gone, the old copy expunged (Thunderbird on every save and
every 5-minute autosave; Apple Mail about every minute; K-9, Outlook and Gmail too). What
survives is the threading (References, In-Reply-To) and, failing that, the recipient and
subject. The headers written here follow each client's source or its published samples.
"""

from __future__ import annotations

import email
import uuid
from datetime import timedelta
from email import policy

import pytest

from tests.conftest import MailUser
from tests.test_evidence import MENTOR, ROOT, T0, config, drafts, flags_of_root, once, receive, remove, request, send

pytestmark = pytest.mark.integration
__all__ = ["config"]  # the fixture


def resave(msg: email.message.EmailMessage, client: str, user: MailUser, *, text: str) -> email.message.EmailMessage:
    """A copy of the draft as `client` writes it after the resident edited the text."""
    out = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    domain = user.username.split("@")[1]
    for name in ("X-Mentor-Assistant", "Message-ID", "Date"):
        del out[name]
    out["Date"] = email.utils.format_datetime(T0 + timedelta(days=15, minutes=20))
    refs = msg["References"]
    if client == "thunderbird":
        out["Message-ID"] = f"<{uuid.uuid4()}@{domain}>"
        out["User-Agent"] = "Mozilla Thunderbird"
        out["X-Mozilla-Draft-Info"] = "internal/draft; vcard=0; receipt=0; DSN=0; uuencode=0; attachmentreminder=0"
        del out["In-Reply-To"]
        out["In-Reply-To"] = refs.split()[-1]  # rebuilt from the last References entry
    elif client == "apple":
        out["Message-ID"] = f"<{str(uuid.uuid4()).upper()}@{domain}>"
        out["X-Uniform-Type-Identifier"] = "com.apple.mail-draft"
        out["X-Apple-Auto-Saved"] = "1"
        out["X-Apple-Mail-Remote-Attachments"] = "YES"
    elif client == "k9":
        out["Message-ID"] = f"<{uuid.uuid4()}@{domain}>"
        out["User-Agent"] = "Thunderbird for Android"
        out["X-K9mail-Identity"] = "!l=1&o=0&qs=0&f=0&p=0"
    elif client == "outlook":
        out["Message-ID"] = f"<000001dc{uuid.uuid4().hex[:8]}$0{uuid.uuid4().hex[:7]}$@{domain}>"
        out["Thread-Topic"] = "Mentorship"
        out["Thread-Index"] = "AdtJ3kQ0vW2uFZl4S0aYfGZ9m8c1Ug=="
        out["X-MS-Has-Attach"] = ""
        del out["Subject"]
        out["Subject"] = "RE: Mentorship"
    elif client == "gmail":
        out["Message-ID"] = f"<CA+{uuid.uuid4().hex[:20]}@mail.gmail.com>"
    elif client == "no threading headers":
        # The worst case: a client that keeps only the recipient and the subject.
        out["Message-ID"] = f"<{uuid.uuid4()}@{domain}>"
        del out["In-Reply-To"]
        del out["References"]
    body = out.get_body(preferencelist=("plain",))
    assert body is not None
    body.set_content(text + "\n\n" + body.get_content())
    return out


def client_saves(user: MailUser, old_id: str, new: email.message.EmailMessage, *, seen: bool) -> None:
    """APPEND the new version, then \\Deleted and UID EXPUNGE the old one (as Thunderbird does)."""
    flags = (b"\\Draft", b"\\Seen") if seen else (b"\\Draft",)
    user.append("Drafts", new.as_bytes(), when=T0 + timedelta(days=15, minutes=20), flags=flags)
    remove(user, "Drafts", old_id)


def client_sends(user: MailUser, draft: email.message.EmailMessage) -> None:
    """Send: a new Message-ID in the Sent copy, threading kept, the draft removed."""
    sent = email.message_from_bytes(draft.as_bytes(), policy=policy.default)
    for name in ("Message-ID", "X-Mozilla-Draft-Info", "X-Uniform-Type-Identifier", "X-Apple-Auto-Saved"):
        del sent[name]
    sent["Message-ID"] = f"<sent-{uuid.uuid4()}@{user.username.split('@')[1]}>"
    user.append("Sent", sent.as_bytes(), when=T0 + timedelta(days=15, hours=2), flags=(b"\\Seen",))
    remove(user, "Drafts", draft["Message-ID"])


CLIENTS = ["thunderbird", "apple", "k9", "outlook", "gmail", "no threading headers"]


@pytest.mark.parametrize("client", CLIENTS)
def test_an_edited_draft_keeps_the_request_drafted_until_it_is_sent(mail_user, config, client):
    send(mail_user)
    once(config, T0 + timedelta(days=15))
    (ours,) = drafts(mail_user)
    current = ours
    said = ""
    # Edited and saved three times (autosave), each a new message replacing the last.
    for i, minutes in enumerate((5, 10, 15)):
        edited = resave(current, client, mail_user, text=f"Edit {i}: I will be at grand rounds on Friday.")
        client_saves(mail_user, current["Message-ID"], edited, seen=client != "thunderbird")
        current = edited
        said += once(config, T0 + timedelta(days=15, minutes=minutes + 1))
        r = request(config, T0 + timedelta(days=15, minutes=minutes + 1))
        assert r["state"] == "drafted", (client, r["why"])
        assert "left Drafts" not in r["why"] and "deleted" not in r["why"]
    assert said.count("as you edited it") == 1  # said once, not at every autosave
    # Hours pass: still pending, never a second draft, never dismissed.
    for hours in (1, 5, 48):
        once(config, T0 + timedelta(days=15, hours=hours))
        assert len(drafts(mail_user)) == 1
        assert request(config, T0 + timedelta(days=15, hours=hours))["state"] == "drafted"
    (pending,) = drafts(mail_user)
    client_sends(mail_user, pending)
    once(config, T0 + timedelta(days=17, hours=3))
    r = request(config, T0 + timedelta(days=17, hours=3))
    assert r["state"] == "followed_up", (client, r["why"])
    assert drafts(mail_user) == []
    assert b"\\Flagged" not in flags_of_root(mail_user)


@pytest.mark.parametrize("client", ["thunderbird", "outlook"])
def test_an_answer_leaves_an_edited_draft_alone_and_says_so_once(mail_user, config, client):
    send(mail_user)
    once(config, T0 + timedelta(days=15))
    (ours,) = drafts(mail_user)
    edited = resave(ours, client, mail_user, text="A line of my own.")
    client_saves(mail_user, ours["Message-ID"], edited, seen=True)
    once(config, T0 + timedelta(days=15, minutes=30))
    receive(mail_user, "<answer@h>", when=T0 + timedelta(days=15, hours=1))
    out = once(config, T0 + timedelta(days=15, hours=2))
    assert "left there because it is yours" in out
    assert [d["Message-ID"] for d in drafts(mail_user)] == [edited["Message-ID"]]  # untouched
    assert request(config, T0 + timedelta(days=15, hours=2))["state"] == "replied"
    again = once(config, T0 + timedelta(days=15, hours=3))
    assert "left there" not in again  # reported once


def test_the_residents_own_draft_in_the_thread_holds_our_nudge(mail_user, config):
    send(mail_user)
    own = email.message.EmailMessage()
    own["From"] = mail_user.username
    own["To"] = MENTOR
    own["Subject"] = "Re: Mentorship"
    own["Message-ID"] = "<my-own@example.edu>"
    own["In-Reply-To"] = ROOT
    own["References"] = ROOT
    own.set_content("Dear Dr. Smith, just checking in (half written).")
    mail_user.append("Drafts", own.as_bytes(), when=T0 + timedelta(days=13), flags=(b"\\Draft",))
    once(config, T0 + timedelta(days=15))
    assert [d["Message-ID"] for d in drafts(mail_user)] == ["<my-own@example.edu>"]
    assert request(config, T0 + timedelta(days=15))["state"] == "drafted"
