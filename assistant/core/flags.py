"""Our marks on a request message: our flag, and the keywords that remember decisions.

Our flag is \\Flagged plus the keyword `$MentorFollowUp` where the folder's PERMANENTFLAGS
allow keywords. It goes on when a follow-up draft is written (or the request bounced) and
comes off when the request leaves `drafted`. A flag the resident removed is never put
back, and once they removed it, a \\Flagged they set again is theirs and never touched.

Keywords on the request message mirror what leaves no other trace in the mail, so that a
lost state resurrects nothing: `$MentorRound<N>` (a draft for round N was written),
`$MentorDismissed` (the resident deleted it unsent), `$MentorAnswered` (an answer was
seen, even if it was deleted since), `$MentorNoFlag` (the resident removed our flag).
"""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.core.model import FLAG_KEYWORD, MailMessage
from assistant.core.plan import Action, AddFlags, RemoveFlags
from assistant.core.state import RequestRecord

FLAGGED = "\\Flagged"
NO_FLAG_KEYWORD = "$MentorNoFlag"
ANSWERED_KEYWORD = "$MentorAnswered"
UNTRACKED_KEYWORD = "$MentorUntracked"  # `untrack`, remembered on the message: a lost state cannot undo it
_ROUND = re.compile(r"^\$MentorRound(\d+)$")


def round_keyword(round_no: int) -> str:
    return f"$MentorRound{round_no}"


def marked_round(root: MailMessage | None) -> int:
    """The highest round whose draft the request message says was written."""
    if root is None:
        return 0
    return max((int(m.group(1)) for f in root.flags if (m := _ROUND.match(f))), default=0)


def mark(record: RequestRecord, root: MailMessage | None, keyword: str, *, keywords: bool) -> list[Action]:
    """Put one of our keywords on the request message, where keywords are allowed."""
    if root is None or not keywords or keyword in root.flags:
        return []
    return [AddFlags(root.folder, root.uid, root.message_id, (keyword,), record.id)]


def declined(record: RequestRecord, root: MailMessage | None, *, keywords: bool) -> tuple[list[Action], RequestRecord]:
    """Notice that the resident removed our flag, and remember it on the message."""
    if root is None:
        return [], record
    if NO_FLAG_KEYWORD in root.flags and not record.flag_declined:
        return [], replace(record, flag_declined=True, flagged_by_us=False)
    if record.flag_declined or FLAGGED in root.flags:
        return [], record
    if not (record.flagged_by_us or FLAG_KEYWORD in root.flags):
        return [], record
    actions: list[Action] = []
    if FLAG_KEYWORD in root.flags:
        actions.append(RemoveFlags(root.folder, root.uid, root.message_id, (FLAG_KEYWORD,), record.id))
    actions += mark(record, root, NO_FLAG_KEYWORD, keywords=keywords)
    return actions, replace(record, flag_declined=True, flagged_by_us=False)


def flag_on(record: RequestRecord, root: MailMessage | None, *, keywords: bool) -> tuple[list[Action], RequestRecord]:
    """Put our flag on the request message, unless it is there already or the resident declined it."""
    actions, record = declined(record, root, keywords=keywords)
    if root is None or record.flag_declined or FLAGGED in root.flags:
        return actions, record
    flags = (FLAGGED, FLAG_KEYWORD) if keywords else (FLAGGED,)
    actions.append(AddFlags(root.folder, root.uid, root.message_id, flags, record.id))
    return actions, replace(record, flagged_by_us=True)


def flag_off(record: RequestRecord, root: MailMessage | None, *, keywords: bool) -> tuple[list[Action], RequestRecord]:
    """Take our flag off (never one the resident set themselves)."""
    actions, record = declined(record, root, keywords=keywords)
    if root is None or record.flag_declined:
        return actions, replace(record, flagged_by_us=False)
    ours = record.flagged_by_us or FLAG_KEYWORD in root.flags
    present = tuple(f for f in (FLAGGED, FLAG_KEYWORD) if f in root.flags)
    if ours and FLAGGED in root.flags:
        actions.append(RemoveFlags(root.folder, root.uid, root.message_id, present, record.id))
    return actions, replace(record, flagged_by_us=False)
