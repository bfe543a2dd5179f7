"""Return dates read from out-of-office replies: the fixtures, each language, and the bounds as a property."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.core.headers import parse_message
from assistant.core.mime import plain_text
from assistant.core.return_dates import return_date

FIXTURES = Path(__file__).parent / "fixtures" / "mail"
LABELS = tomllib.loads((FIXTURES / "LABELS.toml").read_text(encoding="utf-8"))
MONDAY = date(2026, 11, 2)  # the day the fixtures' request was sent


def fixture_text(name: str) -> tuple[str, date]:
    """The text `classify()` hands to return_date (subject, then plain text) and the day the reply was sent."""
    raw = (FIXTURES / name).read_bytes()
    cut = min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0), default=len(raw))
    head = parse_message(raw[:cut] + b"\r\n\r\n", folder="INBOX", uid=1, internaldate=datetime(2026, 11, 3, tzinfo=UTC))
    return f"{head.subject}\n{plain_text(raw)}", head.date.date()


@pytest.mark.parametrize("name", sorted(n for n, lab in LABELS.items() if lab.get("return_date")))
def test_every_labelled_fixture_gives_its_first_day_back(name):
    text, sent_on = fixture_text(name)
    found = return_date(text, sent_on=sent_on)
    assert found is not None, name
    # The first day back, or the last day away when that is all the text says: never later.
    assert 0 <= (LABELS[name]["return_date"] - found).days <= 3, (name, found)


CASES = [
    # English (as before)
    ("I am out of the office until November 13.", date(2026, 11, 13)),
    ("I will return on Monday, November 16, 2026.", date(2026, 11, 16)),
    ("Out until Dec 4, back Monday Dec 7.", date(2026, 12, 7)),
    ("I'm away from 3 to 13 November.", date(2026, 11, 13)),
    ("Out of office from November 3 to November 13.", date(2026, 11, 13)),
    ("Traveling July 10-31.", date(2027, 7, 31)),
    ("Back tomorrow.", date(2026, 11, 3)),
    ("Out of office (returning 11/16/2026)", date(2026, 11, 16)),
    # German
    ("Ich bin bis einschließlich Freitag, 6. November nicht im Büro.", date(2026, 11, 6)),
    ("Bis 13.11., ab 16.11. wieder da.", date(2026, 11, 16)),
    ("Ab dem 2.11. bis 13.11. nicht im Büro.", date(2026, 11, 13)),
    ("Ab Montag, dem 9. November 2026, bin ich wieder erreichbar.", date(2026, 11, 9)),
    ("Ich bin am 16.11. wieder im Büro.", date(2026, 11, 16)),
    ("Gerne, bis Dienstag.", date(2026, 11, 3)),
    # French
    ("Absente jusqu'au vendredi 20 novembre inclus. De retour le lundi 23 novembre.", date(2026, 11, 23)),
    ("Je serai de retour à partir du lundi 16 novembre.", date(2026, 11, 16)),
    # Spanish
    ("Estoy fuera hasta el 13 de noviembre.", date(2026, 11, 13)),
    ("Regreso el lunes 16 de noviembre de 2026.", date(2026, 11, 16)),
    # Dutch
    ("Ik ben afwezig tot en met vrijdag 13 november.", date(2026, 11, 13)),
    ("Afwezig t/m 13 nov. Vanaf maandag 16 november weer bereikbaar.", date(2026, 11, 16)),
    ("Ik ben terug op maandag 16 november.", date(2026, 11, 16)),
    ("Ik ben weer aanwezig op 16-11-2026.", date(2026, 11, 16)),
    # Swedish
    ("Jag är tillbaka måndag den 16 november 2026.", date(2026, 11, 16)),
    ("Ledig till och med fredag 13 november, åter måndag 16 november.", date(2026, 11, 16)),
    ("Jag är borta t.o.m. 13/11.", date(2026, 11, 13)),
    # Norwegian, Danish
    ("Jeg er på ferie til og med 13. november.", date(2026, 11, 13)),
    ("Jeg er tilbake mandag 16. november.", date(2026, 11, 16)),
    ("Jeg er tilbage på kontoret den 16. november 2026.", date(2026, 11, 16)),
    # Polish
    ("Jestem na urlopie do 13 listopada. Wracam 16 listopada.", date(2026, 11, 16)),
    ("Wracam do pracy w poniedziałek 16 listopada 2026 r.", date(2026, 11, 16)),
    ("Jestem nieobecna od 2 do 13 listopada.", date(2026, 11, 13)),
    ("Powrót do biura: 16.11.2026", date(2026, 11, 16)),
    # Italian
    ("Fuori ufficio fino al 13 novembre. Rientro in ufficio lunedì 16 novembre.", date(2026, 11, 16)),
    ("Sarò in ferie dal 2 al 13 novembre.", date(2026, 11, 13)),
    ("Sarò in ferie fino all'11 novembre.", date(2026, 11, 11)),
    # Portuguese
    ("Estou de férias até 13 de novembro de 2026.", date(2026, 11, 13)),
    ("Retorno no dia 16 de novembro.", date(2026, 11, 16)),
    ("Estarei de volta na segunda-feira, 16 de novembro.", date(2026, 11, 16)),
    # Finnish
    ("Olen lomalla 13.11. asti. Palaan toimistolle maanantaina 16.11.", date(2026, 11, 16)),
    ("Olen poissa 13. marraskuuta saakka.", date(2026, 11, 13)),
    ("Olen tavoitettavissa 16.11. alkaen.", date(2026, 11, 16)),
    # Czech
    ("Jsem mimo kancelář do 13. listopadu. Zpět budu v pondělí 16. listopadu.", date(2026, 11, 16)),
    ("Vracím se 16. listopadu 2026.", date(2026, 11, 16)),
    # Chinese
    ("我将于2026年11月16日返回办公室。", date(2026, 11, 16)),
    ("我休假至11月13日。", date(2026, 11, 13)),
    ("11月16日之前不在办公室", date(2026, 11, 16)),
    ("我11月16日（星期一）回来", date(2026, 11, 16)),
    ("我下周一回来", date(2026, 11, 9)),
    # Japanese
    ("11月16日に戻ります。", date(2026, 11, 16)),
    ("11月13日まで休暇をいただいております。", date(2026, 11, 13)),
    ("11月16日(月)より出社いたします。", date(2026, 11, 16)),
    ("11月2日から11月10日まで不在にしております。11月11日より順次対応いたします。", date(2026, 11, 11)),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_each_language(text, expected):
    assert return_date(text, sent_on=MONDAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I have limited access to e-mail.",
        "I will get back to you on Friday.",  # not a return
        "11月2日から不在にしております。",  # the absence's start (the day of the reply) says nothing of the return
        "Out of office until November 1, 2026.",  # before the reply
        "Back on 3 November 2028.",  # more than a year out
        "Lab 5 May meeting.",  # "ab" inside a word is no trigger
    ],
)
def test_no_return_date(text):
    assert return_date(text, sent_on=MONDAY) is None


WORDS = [
    "until", "back on", "bis", "ab", "jusqu'au", "de retour le", "hasta el", "tot en met", "vanaf", "tillbaka",
    "till och med", "do", "od", "wracam", "fino al", "até", "asti", "zpět", "Monday", "maandag", "poniedziałek",
    "November", "listopada", "marraskuuta", "de", "16", "13.", "11/16/2026", "2026-11-16", "13.11.", "16-11-2026",
    "11月16日", "2026年", "返回", "まで", "より", "至", "星期一", "(月)", "tomorrow", "-", "to", ",", " ",
]  # fmt: skip
texty = st.one_of(st.text(max_size=300), st.lists(st.sampled_from(WORDS), max_size=40).map(" ".join))


@settings(max_examples=400, deadline=None)
@given(texty, st.dates())
def test_never_raises_and_stays_within_a_year(text, sent_on):
    found = return_date(text, sent_on=sent_on)
    assert found is None or 0 <= (found - sent_on).days <= 366
