"""The quick LIST and STATUS readers give what imapclient gives, or decline.

Property tests against imapclient's own parser on generated answers, and a real Dovecot
with the folder names residents make (spaces, accents, ampersands, a year, a quote).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from imapclient import IMAPClient
from imapclient.imapclient import as_pairs
from imapclient.response_parser import parse_response

from assistant.adapters.imap import ImapMailbox
from assistant.adapters.imap_answers import quoted_folder, read_list, read_status
from assistant.config import load_config
from tests.conftest import write_config


def imapclient_list(lines):
    return IMAPClient._proc_folder_list(SimpleNamespace(folder_encode=True), lines)


_FLAG = st.sampled_from([b"\\HasNoChildren", b"\\HasChildren", b"\\Sent", b"\\Drafts", b"\\Noselect", b"\\Trash",
                         b"\\Junk", b"\\Archive", b"$Custom", b"\\All", b"\\Flagged", b"\\Marked"])  # fmt: skip
_NAME_PIECES = st.sampled_from(["INBOX", "Sent", " ", "Items", "/", ".", "&", "-", "é", "Ä", "日本", '"', "\\", "2024",
                                "[Gmail]", "%", "*", "(", ")", "{", "}", "NIL", "a"])  # fmt: skip


def _encoded(name: str) -> bytes:
    return quoted_folder(name)[1:-1]  # modified UTF-7 with \ and " escaped


@st.composite
def list_lines(draw):
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        flags = b" ".join(draw(st.lists(_FLAG, max_size=3)))
        delimiter = draw(st.sampled_from([b'"/"', b'"."', b"NIL", b'"\\\\"']))
        name = draw(st.lists(_NAME_PIECES, min_size=1, max_size=5).map("".join))
        raw = _encoded(name)
        form = draw(st.sampled_from(["quoted", "atom", "raw-utf8"]))
        if form == "quoted":
            shown = b'"' + raw + b'"'
        elif form == "atom":
            shown = raw.replace(b"\\", b"")  # whatever the server sends bare
        else:
            shown = b'"' + name.encode() + b'"'  # 8-bit: a server that ignores modified UTF-7
        if not shown.strip(b'"'):
            continue
        lines.append(b"(" + flags + b") " + delimiter + b" " + shown)
    return lines


@given(list_lines())
@settings(max_examples=1500, deadline=None)
def test_the_quick_list_reader_gives_what_imapclient_gives_or_declines(lines):
    skipped: list[bytes] = []
    quick = read_list(lines, skipped)
    if quick is None:
        return
    expected, broken = [], 0
    for line in lines:  # line by line: imapclient fails on a whole answer with one broken name
        try:
            expected += imapclient_list([line])
        except UnicodeDecodeError:
            broken += 1  # not valid modified UTF-7: left out, and named
    assert quick == expected
    assert len(skipped) == broken


def test_the_quick_list_reader_reads_the_usual_answers():
    lines = [b'(\\HasNoChildren \\Drafts) "/" Drafts', b'(\\HasNoChildren) "/" "Sent Items"',
             b'() "." "&AMQ-rzte &- Kollegen"', b'(\\Noselect \\HasChildren) NIL "[Gmail]"', b""]  # fmt: skip
    assert read_list(lines) == imapclient_list(lines)
    assert [n for _f, _d, n in read_list(lines)] == ["Drafts", "Sent Items", "Ärzte & Kollegen", "[Gmail]"]
    assert read_list([(b'() "/" {4}', b"Sent")]) is None  # a literal: imapclient reads it


def test_a_name_that_is_not_modified_utf7_is_left_out_and_named():
    skipped: list[bytes] = []
    listing = read_list([b'(\\HasNoChildren) "/" "R&D"', b'(\\HasNoChildren) "/" INBOX'], skipped)
    assert listing == [((b"\\HasNoChildren",), b"/", "INBOX")]
    assert skipped == [b"R&D"]


_STATUS_WORD = st.sampled_from([b"MESSAGES", b"UIDNEXT", b"UIDVALIDITY", b"HIGHESTMODSEQ", b"UNSEEN", b"RECENT"])


_STATUS_NAME = st.sampled_from([b'"Sent"', b"INBOX", b'"Sent Items"', b'"&AMQ-rzte"'])


@given(st.lists(st.tuples(_STATUS_WORD, st.integers(0, 2**63 - 1)), max_size=6), _STATUS_NAME,
       st.sampled_from([b"", b" "]))  # fmt: skip
@settings(max_examples=500, deadline=None)
def test_the_quick_status_reader_gives_what_imapclient_gives(items, name, trail):
    line = name + b" (" + b" ".join(w + b" " + str(v).encode() for w, v in items) + b")" + trail
    quick = read_status([line])
    assert quick is not None
    assert quick == dict(as_pairs(parse_response([line])[-1]))


def test_the_quick_status_reader_declines_what_it_does_not_know():
    assert read_status([]) is None
    assert read_status([b'"Sent" (MESSAGES NIL)']) is None
    assert read_status([(b"{4}", b"Sent (MESSAGES 1)")]) is None


@pytest.mark.integration
def test_a_folder_a_careless_client_named_raw_does_not_stop_the_cycle(mail_user, tmp_path, monkeypatch, caplog):
    """Dovecot refuses such a name, so the server's answer is doctored: "R&D" was never
    encoded. The folder is left out with a warning; the cycle runs and acts."""
    from assistant.cycle import run_cycle
    from tests.test_end_to_end import NOW, seed

    seed(mail_user)
    config = load_config(write_config(tmp_path / "config.toml", user=mail_user, calendar=None))
    real = ImapMailbox.connect.__func__

    def connect(cls, settings, password):
        box = real(cls, settings, password)
        listing = box.client._imap.list

        def doctored(*args):
            typ, lines = listing(*args)
            return typ, [*lines, b'() "/" "R&D"']

        box.client._imap.list = doctored
        return box

    monkeypatch.setattr(ImapMailbox, "connect", classmethod(connect))
    with caplog.at_level("WARNING"):
        result = run_cycle(config, now=NOW)
    assert result.report is not None and result.report.writes > 0
    assert "'R&D'" in caplog.text and "not valid IMAP" in caplog.text


@pytest.mark.integration
def test_folder_names_residents_make_list_and_status_as_imapclient_reads_them(mail_user, tmp_path):
    names = ["Sent Items", "Ärzte & Kollegen", "2024", "Mentors/Dr. O'Brien", "Entwürfe", "日本語", 'Say "hi"']
    made = []
    with mail_user.client() as c:
        for name in names:
            try:
                c.create_folder(name)
            except Exception:  # a name this server refuses is not one a resident has there
                continue
            made.append(name)
        expected = c.list_folders()
        typ, raw = c._imap.list('""', '"*"')
        statuses = {n: c.folder_status(n, ["UIDVALIDITY", "UIDNEXT", "MESSAGES", "HIGHESTMODSEQ"]) for n in made}
    assert {"Sent Items", "Ärzte & Kollegen", "2024", "Entwürfe", "日本語"} <= set(made), made
    assert typ == "OK" and read_list(raw) is not None, raw  # Dovecot's answer is read quickly
    config = load_config(write_config(tmp_path / "config.toml", user=mail_user, calendar=None))
    mailbox = ImapMailbox.connect(config.mail, mail_user.server.password)
    try:
        assert sorted(mailbox._list(), key=str) == sorted(expected, key=str)
        for name in made:
            info = mailbox.examine(name)
            assert (info.uidvalidity, info.uidnext, info.exists) == (
                statuses[name][b"UIDVALIDITY"],
                statuses[name][b"UIDNEXT"],
                statuses[name][b"MESSAGES"],
            )
    finally:
        mailbox.close()
