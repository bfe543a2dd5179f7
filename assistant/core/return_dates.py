"""When an out-of-office reply says its author is back.

"back on December 3", "returning 12/03", "out until 5 May", "until Monday", "traveling July
10-31", "bis zum 3. Dezember", "tot en met vrijdag 13 november", "wracam 16 listopada",
"将于2026年11月9日返回", "11月10日まで". Languages: English, German, French, Spanish, Dutch,
Swedish, Norwegian, Danish, Polish, Italian, Portuguese, Finnish, Czech, Chinese, Japanese.

A date counts when a trigger stands before it ("until 5 May") or, mostly in Chinese, Japanese
and Finnish, after it ("11月11日より", "13.11. asti", "am 16.11. wieder da"). Three kinds:

- back: the first day back ("back on", "de retour le", "tillbaka", "wracam", "返回", "戻り");
- until: the last day away ("until", "bis", "tot en met", "do", "まで");
- from: the day something starts ("ab", "vanaf", "od", "より"): the first day back when it is
  after the last day away ("bis 13.11., ab 16.11. wieder da"), else the absence's start.

The answer is the first "back" date after the first "until" date, else the first "from" date
after it, else that "until" date (the caller waits a workday more); with no "until" date, the
first "back" date, else the first "from" date after the reply. With no trigger at all, a bare
range ("on July 10-31", "from November 3 to November 13") gives its end. Dates without a year
are the next occurrence on or after the reply; a date before the reply or more than a year
after it is not believed.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

# January to December, one language a line; "/" separates forms of one month.
_MONTH_NAMES = (
    "jan/january feb/february mar/march apr/april may jun/june jul/july aug/august sep/sept/september"
    " oct/october nov/november dec/december",  # English
    "januar februar märz/maerz/mrz april mai juni juli august september oktober/okt november dezember/dez",  # German
    "janvier février/fevrier mars avril mai juin juillet août/aout septembre octobre novembre décembre/decembre",
    "enero febrero marzo abril mayo junio julio agosto septiembre/setiembre octubre noviembre diciembre",  # Spanish
    "januari februari maart/mrt april mei juni juli augustus september oktober november december",  # Dutch
    "januari februari mars april maj juni juli augusti september oktober november december",  # Swedish
    "januar februar mars/marts april mai juni juli august september oktober november desember/december",  # no, da
    "styczeń/stycznia luty/lutego marzec/marca kwiecień/kwietnia maj/maja czerwiec/czerwca lipiec/lipca"
    " sierpień/sierpnia wrzesień/września październik/października listopad/listopada grudzień/grudnia",  # Polish
    "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",  # Italian
    "janeiro fevereiro março/marco abril maio junho julho agosto setembro outubro novembro dezembro",  # Portuguese
    "tammikuu/tammikuuta helmikuu/helmikuuta maaliskuu/maaliskuuta huhtikuu/huhtikuuta toukokuu/toukokuuta"
    " kesäkuu/kesäkuuta heinäkuu/heinäkuuta elokuu/elokuuta syyskuu/syyskuuta lokakuu/lokakuuta"
    " marraskuu/marraskuuta joulukuu/joulukuuta",  # Finnish
    "leden/ledna únor/února březen/března duben/dubna květen/května červen/června červenec/července"
    " srpen/srpna září říjen/října listopad/listopadu prosinec/prosince",  # Czech
)
# Monday to Sunday, likewise.
_WEEKDAY_NAMES = (
    "monday/mon tuesday/tue/tues wednesday/wed thursday/thu/thurs friday/fri saturday sunday",  # English
    "montag dienstag mittwoch donnerstag freitag samstag/sonnabend sonntag",  # German
    "lundi mardi mercredi jeudi vendredi samedi dimanche",  # French
    "lunes martes miércoles/miercoles jueves viernes sábado/sabado domingo",  # Spanish
    "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag",  # Dutch
    "måndag tisdag onsdag torsdag fredag lördag söndag",  # Swedish
    "mandag tirsdag onsdag torsdag fredag lørdag søndag",  # Norwegian, Danish
    "poniedziałek wtorek środa/środę czwartek piątek sobota/sobotę niedziela/niedzielę",  # Polish
    "lunedì/lunedi martedì/martedi mercoledì/mercoledi giovedì/giovedi venerdì/venerdi sabato domenica",  # Italian
    "segunda-feira/segunda terça-feira/terça/terca quarta-feira/quarta quinta-feira/quinta sexta-feira/sexta"
    " sábado/sabado domingo",  # Portuguese
    "maanantai/maanantaina/maanantaihin tiistai/tiistaina/tiistaihin keskiviikko/keskiviikkona/keskiviikkoon"
    " torstai/torstaina/torstaihin perjantai/perjantaina/perjantaihin lauantai/lauantaina/lauantaihin"
    " sunnuntai/sunnuntaina/sunnuntaihin",  # Finnish: Monday, on Monday, until Monday
    "pondělí úterý středa/středu čtvrtek pátek sobota/sobotu neděle/neděli",  # Czech
)
_MONTHS = {name: n for line in _MONTH_NAMES for n, names in enumerate(line.split(), 1) for name in names.split("/")}
_WEEKDAYS = {name: n for line in _WEEKDAY_NAMES for n, names in enumerate(line.split()) for name in names.split("/")}

# Trigger words by kind (see the docstring), by language; the last entry, Chinese, has no word boundaries.
_TRIGGERS = {
    "back": (
        r"returning(?: to the office)?(?: on)?|return(?:ing)? on|back(?: on| in the office on)?",  # English
        r"zurück(?: am| ab)?",  # German
        r"de retour(?: au bureau)?|retour le|reviendrai",  # French
        r"regreso|regresaré|de vuelta|vuelvo|volveré",  # Spanish
        r"terug|weer aanwezig|weer op kantoor|weer bereikbaar",  # Dutch
        r"tillbaka(?: på kontoret| i tjänst)?|åter(?: på kontoret| i tjänst)?",  # Swedish
        r"tilbake(?: på kontoret| på jobb)?|tilbage(?: på kontoret| på arbejde)?",  # Norwegian, Danish
        r"wracam(?: do (?:pracy|biura))?|powrót(?: do (?:pracy|biura))?|z powrotem(?: w pracy| w biurze)?",  # Polish
        r"rientro(?: in ufficio)?(?: previsto)?(?: per)?|rientrerò(?: in ufficio)?|di ritorno|di nuovo in ufficio"
        r"|tornerò|torno",  # Italian
        r"retorno|regresso|de volta|volto|retornarei|regressarei",  # Portuguese
        r"palaan(?: toimistolle| töihin)?|takaisin(?: toimistolla| töissä)?|paluu",  # Finnish
        r"zpět(?: budu)?(?: v kanceláři| v práci)?|vracím se|vrátím se|návrat",  # Czech
        "",
    ),
    "until": (  # longer phrases first: "till och med" before "till"
        r"bis(?: zum| einschließlich| einschliesslich| inklusive)?",  # German
        r"jusqu'au|jusqu’au|jusqu'à|jusqu’à",  # French
        r"hasta",  # Spanish
        r"tot en met|t/m|tot",  # Dutch
        r"till och med|t\.o\.m\.?",  # Swedish
        r"til og med|frem til|indtil",  # Norwegian, Danish
        r"aż do|do",  # Polish, Czech
        r"fino all|fino al|fino a|sino al",  # Italian
        r"até(?: ao| à)?",  # Portuguese
        r"until|till|til|through|thru",  # English
        "至|直到|到",
    ),
    "from": (
        r"ab",  # German
        r"à partir du|à partir de|dès",  # French
        r"a partir del|a partir de|a partir do|desde",  # Spanish, Portuguese
        r"vanaf",  # Dutch
        r"från och med|fr\.o\.m\.?|från|fra og med|f\.o\.m\.?|fra",  # Swedish, Norwegian, Danish
        r"od dnia|od",  # Polish, Czech
        r"a partire dal|a partire da|dall|dal",  # Italian
        "从|從|自",
    ),
}
# Words that may stand between a trigger and its date: "until the", "ab dem", "até o dia", "w".
_FILLER = r"(?:(?:the|le|la|el|der|den|dem|il|lo|o|a|dia|día|w|we|v|ve|op|på|em|no|na|dne|dnia)\s+){0,2}"
_NEAR = {
    kind: re.compile(
        rf"(?:\b(?:{'|'.join(words[:-1])})\W{{1,3}}" + (rf"|(?:{words[-1]})\s*" if words[-1] else "") + ")" + _FILLER,
        re.IGNORECASE,
    )
    for kind, words in _TRIGGERS.items()
}
# Triggers after the date: "11月9日返回", "11月16日(月)より", "11月10日まで", "13.11. asti".
_AFTER = re.compile(
    r"\s*(?:[（(][^）)]{1,6}[）)])?\s*(?:に|再|将|会)?\s*(?:"
    r"(?P<back>返回|回来|回來|回到|回归|回歸|返岗|返崗|上班|戻り|戻る|出社|出勤|復帰|帰社|(?:zurück|wieder|terug|weer)\b)"
    r"|(?P<from>より|から|起|开始|開始|以后|以後|之后|之後|以降|alkaen\b)"
    r"|(?P<until>まで|迄|之前|以前|为止|為止|(?:asti|saakka)\b))",
    re.IGNORECASE,
)
_RANGE = r"(?:[-–—~〜～]|至|到|\b(?:to|through|bis|au|al|a|tot(?: en met)?|t/m|till|til|do|až)\b)"
_SEP = re.compile(rf"\s*{_RANGE}\s*", re.IGNORECASE)  # between the two ends of a range

_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b\.?"
_WEEKDAY = "(" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + ")"
_TOMORROW = "tomorrow|morgen|demain|mañana|imorgon|i morgen|jutro|domani|amanhã|huomenna|zítra"
_DAY = r"(\d{1,2})(?:st|nd|rd|th|\.)?"
_YEAR = r"(?:,?\s*(?:del?\s+)?(\d{4}))?"
_TO = rf"(?:\s*[-–]\s*|\s+{_RANGE}\s+)"
_PATTERNS = [
    # "December 3", "Dec. 3rd, 2026", "July 10-31"
    ("md", re.compile(rf"\b{_MONTH}\s+{_DAY}(?:\s*[-–]\s*{_DAY})?{_YEAR}", re.IGNORECASE)),
    # "5 May", "3rd of December", "3. Dezember 2026", "10-31 July", "3 to 13 November", "16 de noviembre de 2026"
    ("dm", re.compile(rf"\b{_DAY}(?:{_TO}{_DAY})?\s+(?:of\s+|de\s+)?{_MONTH}{_YEAR}", re.IGNORECASE)),
    # ISO 2026-12-03, also 2026/12/3
    ("iso", re.compile(r"\b(\d{4})[-/](\d{1,2})[-/](\d{1,2})\b")),
    # 2026年11月16日, 11月16日, 11月16号
    ("cjk", re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]")),
    # "12/03" or "12/03/2026" (month first, as written in the US; "13/11" can only be day first)
    ("us", re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b")),
    # "3.12." or "03.12.2026" (day first), "16-11-2026"
    ("eu", re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{2,4})?")),
    ("eu", re.compile(r"\b(\d{1,2})-(\d{1,2})-(\d{4})\b")),
    ("weekday", re.compile(rf"\b{_WEEKDAY}\b", re.IGNORECASE)),
    # 星期一, 周一, 月曜日
    ("cjkweekday", re.compile(r"(?:星期|礼拜|禮拜|周|週)([一二三四五六日天])|([月火水木金土日])曜日?")),
    ("tomorrow", re.compile(rf"\b(?:{_TOMORROW})\b|明天|明日", re.IGNORECASE)),
]
_DATES = 7  # the first seven patterns are dates, the rest days relative to the reply
_SKIP = re.compile(r"[\s,]*" + _FILLER, re.IGNORECASE)


def return_date(text: str, *, sent_on: date) -> date | None:
    """The first day back (or the last day away) the text states, or None."""
    text = " ".join(text[:4000].split())
    found: list[tuple[int, str, date]] = []  # where, which kind of trigger, the date
    for kind, near in _NEAR.items():
        for trigger in near.finditer(text):
            day, end, ranged = _read(text, trigger.end(), sent_on)
            if day is None:
                continue
            if kind == "from":  # "ab 2.11. bis 13.11.", "dal 2 al 13 novembre": an absence, read as its end
                later = _later(text, end, day, sent_on)
                if ranged or later is not None:
                    found.append((trigger.start(), "until", later or day))
                    continue
            found.append((trigger.start(), kind, day))
    for kind, pattern in _PATTERNS:  # a trigger after the date
        for match in pattern.finditer(text):
            after = _AFTER.match(text, match.end())
            if after and after.lastgroup and (day := _plausible(_build(kind, match, sent_on), sent_on)):
                found.append((match.start(), after.lastgroup, day))
    found.sort(key=lambda f: f[0])
    until = next((day for _, kind, day in found if kind == "until"), None)
    for wanted in ("back", "from"):
        for _, kind, day in found:
            if kind == wanted and (until is None or day > until) and (kind == "back" or day > sent_on):
                return day
    if until is not None:
        return until
    # A bare range ("on July 10-31") says when the absence ends even without a trigger.
    for kind, pattern in _PATTERNS[:_DATES]:
        for match in pattern.finditer(text):
            first = _plausible(_build(kind, match, sent_on), sent_on)
            last = first if _range_end(kind, match) is not None else _later(text, match.end(), first, sent_on)
            if last is not None:
                return last
    return None


def _read(text: str, at: int, sent_on: date) -> tuple[date | None, int, bool]:
    """The date written at `at` (None if none or not believed), where it ends, whether it ends a range."""
    window = text[at : at + 50]
    for kind, pattern in _PATTERNS:
        match = pattern.match(window)
        if match:
            if kind == "weekday":  # "Monday, December 7" and "Montag, dem 7." say more than "Monday"
                rest = _SKIP.match(window, match.end())
                if rest and window[rest.end() : rest.end() + 1].isalnum():
                    day, end, ranged = _read(window, rest.end(), sent_on)  # within the window: bounded
                    if day is not None:
                        return day, at + end, ranged
            found = _plausible(_build(kind, match, sent_on), sent_on)
            return found, at + match.end(), _range_end(kind, match) is not None
    return None, at, False


def _later(text: str, end: int, first: date | None, sent_on: date) -> date | None:
    """The other end of a range whose first date ends at `end`: "3 November to 13 November"."""
    sep = _SEP.match(text, end) if first is not None else None
    later = _read(text, sep.end(), sent_on)[0] if sep else None
    return later if later is not None and first is not None and later > first else None


def _range_end(kind: str, match: re.Match[str]) -> str | None:
    return match.group(3) if kind == "md" else match.group(2) if kind == "dm" else None


def _build(kind: str, match: re.Match[str], sent_on: date) -> date | None:
    try:
        if kind == "md":
            month = _MONTHS[match.group(1).lower().rstrip(".")]
            day = int(match.group(3) or match.group(2))
            return _with_year(month, day, match.group(4), sent_on)
        if kind == "dm":
            month = _MONTHS[match.group(3).lower().rstrip(".")]
            day = int(match.group(2) or match.group(1))
            return _with_year(month, day, match.group(4), sent_on)
        if kind == "iso":
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if kind == "cjk":
            return _with_year(int(match.group(2)), int(match.group(3)), match.group(1), sent_on)
        if kind == "us":
            first, second = int(match.group(1)), int(match.group(2))
            month, day = (second, first) if first > 12 else (first, second)
            return _with_year(month, day, match.group(3), sent_on)
        if kind == "eu":
            return _with_year(int(match.group(2)), int(match.group(1)), match.group(3), sent_on)
        if kind == "weekday":
            return _next(_WEEKDAYS[match.group(1).lower()], sent_on)
        if kind == "cjkweekday":
            if match.group(1):
                return _next(min("一二三四五六日天".index(match.group(1)), 6), sent_on)
            return _next("月火水木金土日".index(match.group(2)), sent_on)
        if kind == "tomorrow":
            return sent_on + timedelta(days=1)
    except (ValueError, KeyError, OverflowError):
        return None
    return None


def _next(weekday: int, sent_on: date) -> date:
    """The next such weekday after the reply (a week on when the reply was sent on one)."""
    return sent_on + timedelta(days=(weekday - sent_on.weekday()) % 7 or 7)


def _with_year(month: int, day: int, year: str | None, sent_on: date) -> date:
    if year:
        full = int(year) + (2000 if len(year) == 2 else 0)
        return date(full, month, day)
    candidate = date(sent_on.year, month, day)
    if candidate < sent_on:
        candidate = date(sent_on.year + 1, month, day)
    return candidate


def _plausible(found: date | None, sent_on: date) -> date | None:
    if found is None or not 0 <= (found - sent_on).days <= 366:
        return None
    return found
