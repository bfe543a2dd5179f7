"""Our flag on a request message, and the resident's say over it.

Our flag is \\Flagged plus the keyword `$MentorFollowUp` where the folder's PERMANENTFLAGS
allow keywords. It goes on when a follow-up draft is written (or the request bounced) and
comes off when the request leaves `drafted`. A flag the resident removed is never put
back: we see it as our keyword without \\Flagged (which also survives a lost state), or
as a flag we remember setting that is gone.
"""

from __future__ import annotations

from dataclasses import replace

from assistant.core.model import FLAG_KEYWORD, MailMessage
from assistant.core.plan import Action, AddFlags, RemoveFlags
from assistant.core.state import RequestRecord

FLAGGED = "\\Flagged"


def declined(record: RequestRecord, root: MailMessage | None) -> RequestRecord:
    """The record, noting that the resident removed our flag when they did."""
    if root is None or record.flag_declined or FLAGGED in root.flags:
        return record
    if record.flagged_by_us or FLAG_KEYWORD in root.flags:
        return replace(record, flag_declined=True, flagged_by_us=False)
    return record


def flag_on(record: RequestRecord, root: MailMessage | None, *, keywords: bool) -> tuple[list[Action], RequestRecord]:
    """Put our flag on the request message, unless it is there already or the resident declined it."""
    record = declined(record, root)
    if root is None or record.flag_declined or FLAGGED in root.flags:
        return [], record
    flags = (FLAGGED, FLAG_KEYWORD) if keywords else (FLAGGED,)
    return [AddFlags(root.folder, root.uid, root.message_id, flags, record.id)], replace(record, flagged_by_us=True)


def flag_off(record: RequestRecord, root: MailMessage | None) -> tuple[list[Action], RequestRecord]:
    """Take our flag off (never one the resident set themselves)."""
    record = declined(record, root)
    if root is None:
        return [], record
    ours = record.flagged_by_us or FLAG_KEYWORD in root.flags
    present = tuple(f for f in (FLAGGED, FLAG_KEYWORD) if f in root.flags)
    if not ours or FLAGGED not in root.flags:
        return [], replace(record, flagged_by_us=False)
    return [RemoveFlags(root.folder, root.uid, root.message_id, present, record.id)], replace(
        record, flagged_by_us=False
    )
