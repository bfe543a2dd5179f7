"""Provider quirks that cannot run here, on recorded data: Gmail's X-GM-THRID, Outlook's Thread-Index."""

from __future__ import annotations

from datetime import UTC, datetime

from imapclient.response_parser import parse_fetch_response

from assistant.adapters.imap_answers import to_message
from assistant.core.headers import parse_message
from assistant.core.replies import RequestKeys, assign, conversation_keys, thread_index_key

ME = frozenset({"alex@gmail.com"})
T = datetime(2026, 11, 2, 16, 0, tzinfo=UTC)

# A Gmail UID FETCH response as the server sends it (format of Gmail's IMAP extensions
# documentation): the thread id comes before the header literal.
GMAIL_SENT = [
    (
        b'7 (X-GM-THRID 1278455344230334865 UID 101 FLAGS (\\Seen) INTERNALDATE "02-Nov-2026 09:00:00 -0700" '
        b"BODY[HEADER.FIELDS (MESSAGE-ID FROM TO SUBJECT DATE)] {154}",
        b"Message-ID: <CAabc123@mail.gmail.com>\r\nFrom: Alex <alex@gmail.com>\r\nTo: jsmith@hospital.org\r\n"
        b"Subject: Mentorship\r\nDate: Mon, 2 Nov 2026 09:00:00 -0700\r\n\r\n",
    ),
    b")",
]
# The mentor's reply, written in a client that dropped In-Reply-To; Gmail still threads it.
GMAIL_REPLY = [
    (
        b'9 (X-GM-THRID 1278455344230334865 UID 230 FLAGS () INTERNALDATE "04-Nov-2026 10:00:00 -0700" '
        b"BODY[HEADER.FIELDS (MESSAGE-ID FROM TO SUBJECT DATE)] {156}",
        b"Message-ID: <r1@hospital.org>\r\nFrom: jsmith@hospital.org\r\nTo: assistant-list@hospital.org\r\n"
        b"Subject: Mentoring talk\r\nDate: Wed, 4 Nov 2026 10:00:00 -0700\r\n\r\n",
    ),
    b")",
]

# Thread-Index values recorded in real Office 365 messages (the sisimai corpus's
# lhost-office365-*.eml), copied here so this test needs nothing outside the repository:
# the conversation's first message, and a reply in it.
OUTLOOK_ROOT = "AQHT8m5RiOrCDdowhU2Xf10vOxHZpw=="
OUTLOOK_CHILD = "AQHT8m5RiOrCDdowhU2Xf10vOxHZp6RAHdDy"
OTHER_CONVERSATION = "AQHULG7wPdM5C2MDV0uPffPI3EAuh6SwhQYp"


def keys_for(message, rid="r1"):
    return RequestKeys(
        id=rid,
        ids=frozenset({message.message_id}),
        conversation=conversation_keys(message),
        people=frozenset({"jsmith@hospital.org"}),
        sent_at=message.date,
        subject=message.subject,
        open=True,
    )


def test_gmail_thread_id_is_read_from_the_fetch_response_and_matches():
    ((uid, item),) = parse_fetch_response(GMAIL_SENT, normalise_times=False, uid_is_key=True).items()
    sent = to_message("[Gmail]/Sent Mail", uid, item)
    assert sent.gm_thrid == "1278455344230334865"
    ((ruid, ritem),) = parse_fetch_response(GMAIL_REPLY, normalise_times=False, uid_is_key=True).items()
    reply = to_message("INBOX", ruid, ritem)
    # Not addressed to the resident directly and no In-Reply-To: only the thread id ties it.
    found = assign([reply], [keys_for(sent)], my_addresses=ME)["r1"]
    assert [(m.message.message_id, m.rung) for m in found] == [("<r1@hospital.org>", "Gmail thread id")]


def test_outlook_thread_index_names_the_conversation():
    assert thread_index_key(OUTLOOK_ROOT) == thread_index_key(OUTLOOK_CHILD)
    assert thread_index_key(OUTLOOK_ROOT) != thread_index_key(OTHER_CONVERSATION)
    assert thread_index_key("not base64!") == ""
    assert thread_index_key("AQID") == ""  # too short
    sent = parse_message(
        f"Message-ID: <s@x>\r\nFrom: alex@gmail.com\r\nTo: jsmith@hospital.org\r\nSubject: Mentorship\r\n"
        f"Thread-Index: {OUTLOOK_ROOT}\r\nDate: Mon, 2 Nov 2026 09:00:00 -0700\r\n\r\n".encode(),
        folder="Sent Items", uid=1, internaldate=T,
    )  # fmt: skip
    reply = parse_message(
        f"Message-ID: <r@x>\r\nFrom: someone@hospital.org\r\nTo: team@hospital.org\r\nSubject: RE: Mentorship\r\n"
        f"Thread-Index: {OUTLOOK_CHILD}\r\nDate: Tue, 3 Nov 2026 09:00:00 -0700\r\n\r\n".encode(),
        folder="INBOX", uid=2, internaldate=T,
    )  # fmt: skip
    unrelated = parse_message(
        f"Message-ID: <u@x>\r\nFrom: someone@hospital.org\r\nTo: team@hospital.org\r\nSubject: RE: Other\r\n"
        f"Thread-Index: {OTHER_CONVERSATION}\r\nDate: Tue, 3 Nov 2026 09:00:00 -0700\r\n\r\n".encode(),
        folder="INBOX", uid=3, internaldate=T,
    )  # fmt: skip
    found = assign([reply, unrelated], [keys_for(sent)], my_addresses=ME)["r1"]
    assert [(m.message.message_id, m.rung) for m in found] == [("<r@x>", "Outlook Thread-Index")]
